//! Golden renderings of hand-built traces. Each `RunResult` is written the
//! way the tracer records it: module line numbers, one line event per line
//! start (a `for` head once per item plus once when exhausted), arguments
//! logged on the first line event together with that line's writes, and a
//! write attributed to the line event that made it.

use tracecode_data::trace::{RunResult, RunStatus, TraceRecord, TracedRun, ValueWrite};
use tracecode_render::{render, CodeExecutorRenderer, RenderFormat, TraceRenderer};

fn record(code: &str, context: &str, code_line_offset: u32) -> TraceRecord {
    TraceRecord {
        id: "test".into(),
        qualname: "test".into(),
        status: "traced".into(),
        detail: None,
        code: code.into(),
        context: context.into(),
        code_line_offset,
        packages: vec![],
        cfg: None,
        runs: Vec::new(),
        candidates: 1,
        candidate_statuses: Vec::new(),
        blocks_hit: 0,
        blocks_total: 0,
        distinct_paths: 1,
    }
}

fn run(call: &str, result: RunResult) -> TracedRun {
    TracedRun {
        call: call.into(),
        strategy: "examples".into(),
        blocks: Vec::new(),
        result,
    }
}

/// `(step, name, repr, type_name)` in the order the tracer logged them.
fn writes(log: &[(u32, &str, &str, &str)]) -> Vec<ValueWrite> {
    log.iter()
        .map(|&(step, name, repr, type_name)| ValueWrite {
            step,
            name: name.into(),
            repr: repr.into(),
            type_name: type_name.into(),
        })
        .collect()
}

fn returned(lines: Vec<u32>, depths: Vec<u16>, values: Vec<ValueWrite>, repr: &str) -> RunResult {
    RunResult {
        status: RunStatus::Returned,
        events: lines.len() as u64,
        lines,
        depths,
        values,
        return_repr: Some(repr.into()),
        ..Default::default()
    }
}

const SUM_POSITIVE: &str = "\
def sum_positive(xs):
    total = 0
    for x in xs:
        if x > 0:
            total += x
    return total
";

/// `sum_positive([3, -1, 4])`: the loop head runs 4 times, so it is abridged.
fn sum_positive() -> (TraceRecord, TracedRun) {
    let result = returned(
        vec![2, 3, 4, 5, 3, 4, 3, 4, 5, 3, 6],
        vec![0; 11],
        writes(&[
            (0, "xs", "[3, -1, 4]", "list"),
            (0, "total", "0", "int"),
            (1, "x", "3", "int"),
            (3, "total", "3", "int"),
            (4, "x", "-1", "int"),
            (6, "x", "4", "int"),
            (8, "total", "7", "int"),
        ]),
        "7",
    );
    (
        record(SUM_POSITIVE, "", 0),
        run("sum_positive([3, -1, 4])", result),
    )
}

#[test]
fn golden_next() {
    let (trace, run) = sum_positive();
    assert_eq!(
        render(RenderFormat::Next, &trace, &run),
        "\
# Input: sum_positive([3, -1, 4])
def sum_positive(xs):
    total = 0  # (0) total=0
    for x in xs:  # (1) x=3; (4) x=-1; ...; (9) NO_CHANGE
        if x > 0:  # (2) NO_CHANGE; (5) NO_CHANGE; (7) NO_CHANGE
            total += x  # (3) total=3; (8) total=7
    return total  # (10) NO_CHANGE
# Output: 7
"
    );
}

#[test]
fn golden_semcoder() {
    let (trace, run) = sum_positive();
    assert_eq!(
        render(RenderFormat::Semcoder, &trace, &run),
        r#"[INPUT]
sum_positive([3, -1, 4])
[/INPUT]
def sum_positive(xs):
    total = 0  # [STATE-0]{"xs": [3, -1, 4], "total": 0}[/STATE-0]
    for x in xs:  # [STATE-1]{"xs": [3, -1, 4], "total": 0, "x": 3}[/STATE-1] [STATE-4]{"xs": [3, -1, 4], "total": 3, "x": -1}[/STATE-4] ... [STATE-9]{"xs": [3, -1, 4], "total": 7, "x": 4}[/STATE-9]
        if x > 0:  # [STATE-2]{"xs": [3, -1, 4], "total": 0, "x": 3}[/STATE-2] [STATE-5]{"xs": [3, -1, 4], "total": 3, "x": -1}[/STATE-5] [STATE-7]{"xs": [3, -1, 4], "total": 3, "x": 4}[/STATE-7]
            total += x  # [STATE-3]{"xs": [3, -1, 4], "total": 3, "x": 3}[/STATE-3] [STATE-8]{"xs": [3, -1, 4], "total": 7, "x": 4}[/STATE-8]
    return total  # [STATE-10]{"xs": [3, -1, 4], "total": 7, "x": 4}[/STATE-10]
[OUTPUT]
7
[/OUTPUT]
"#
    );
}

#[test]
fn golden_codeexecutor() {
    let (trace, run) = sum_positive();
    assert_eq!(
        render(RenderFormat::Codeexecutor, &trace, &run),
        "<line> 2 <state> xs : [3, -1, 4] ; total : 0 </state> \
         <line> 3 <state> xs : [3, -1, 4] ; total : 0 ; x : 3 </state> \
         <line> 4 <state> xs : [3, -1, 4] ; total : 0 ; x : 3 </state> \
         <line> 5 <state> xs : [3, -1, 4] ; total : 3 ; x : 3 </state> \
         <line> 3 <state> xs : [3, -1, 4] ; total : 3 ; x : -1 </state> \
         <line> 4 <state> xs : [3, -1, 4] ; total : 3 ; x : -1 </state> \
         <line> 3 <state> xs : [3, -1, 4] ; total : 3 ; x : 4 </state> \
         <line> 4 <state> xs : [3, -1, 4] ; total : 3 ; x : 4 </state> \
         <line> 5 <state> xs : [3, -1, 4] ; total : 7 ; x : 4 </state> \
         <line> 3 <state> xs : [3, -1, 4] ; total : 7 ; x : 4 </state> \
         <line> 6 <state> xs : [3, -1, 4] ; total : 7 ; x : 4 </state> \
         <output> 7\n"
    );
}

#[test]
fn codeexecutor_truncates_after_max_steps() {
    let (trace, run) = sum_positive();
    let renderer = CodeExecutorRenderer { max_steps: 2 };
    assert_eq!(renderer.format(), RenderFormat::Codeexecutor);
    assert_eq!(
        renderer.render(&trace, &run),
        "<line> 2 <state> xs : [3, -1, 4] ; total : 0 </state> \
         <line> 3 <state> xs : [3, -1, 4] ; total : 0 ; x : 3 </state> \
         <line> ... </line> <output> 7\n"
    );
}

#[test]
fn golden_concise() {
    let (trace, run) = sum_positive();
    assert_eq!(
        render(RenderFormat::Concise, &trace, &run),
        "\
call sum_positive([3, -1, 4])
L2: total = 0
L3: x = 3
L4
L5: total = 3
L3: x = -1
L4
...
L4
L5: total = 7
L3
L6
return 7
"
    );
}

#[test]
fn raised_exception_replaces_the_output() {
    let code = "\
def mean(xs):
    if not xs:
        raise ValueError(\"empty list\")
    return sum(xs) / len(xs)
";
    let result = RunResult {
        status: RunStatus::Raised,
        lines: vec![2, 3],
        depths: vec![0, 0],
        values: writes(&[(0, "xs", "[]", "list")]),
        exception_type: Some("ValueError".into()),
        exception_message: Some("empty list".into()),
        events: 2,
        ..Default::default()
    };
    let (trace, run) = (record(code, "", 0), run("mean([])", result));
    assert_eq!(
        render(RenderFormat::Next, &trace, &run),
        "\
# Input: mean([])
def mean(xs):
    if not xs:  # (0) NO_CHANGE
        raise ValueError(\"empty list\")  # (1) NO_CHANGE
    return sum(xs) / len(xs)
# Raises: ValueError: empty list
"
    );
    assert_eq!(
        render(RenderFormat::Semcoder, &trace, &run),
        r#"[INPUT]
mean([])
[/INPUT]
def mean(xs):
    if not xs:  # [STATE-0]{"xs": []}[/STATE-0]
        raise ValueError("empty list")  # [STATE-1]{"xs": []}[/STATE-1]
    return sum(xs) / len(xs)
[EXCEPTION]
ValueError: empty list
[/EXCEPTION]
"#
    );
    assert_eq!(
        render(RenderFormat::Codeexecutor, &trace, &run),
        "<line> 2 <state> xs : [] </state> <line> 3 <state> xs : [] </state> \
         <exception> ValueError: empty list\n"
    );
    assert_eq!(
        render(RenderFormat::Concise, &trace, &run),
        "call mean([])\nL2\nL3\nraise ValueError: empty list\n"
    );
}

#[test]
fn run_stopped_by_a_limit_shows_its_status() {
    let (trace, _) = sum_positive();
    let mut result = RunResult::failed(RunStatus::EventLimit, "more than 2 line events");
    result.lines = vec![2, 3];
    result.depths = vec![0, 0];
    result.values = writes(&[(0, "xs", "[3, -1, 4]", "list"), (0, "total", "0", "int")]);
    let run = run("sum_positive([3, -1, 4])", result);
    assert_eq!(
        render(RenderFormat::Concise, &trace, &run),
        "call sum_positive([3, -1, 4])\nL2: total = 0\nL3\nstopped: event_limit (more than 2 line events)\n"
    );
    assert!(render(RenderFormat::Next, &trace, &run)
        .ends_with("# Stopped: event_limit (more than 2 line events)\n"));
}

#[test]
fn ten_iteration_loop_is_abridged() {
    let code = "\
def count_up(n):
    i = 0
    while i < n:
        i += 1
    return i
";
    let mut lines = vec![2];
    let mut log = vec![
        (0, "n".to_owned(), "10".to_owned()),
        (0, "i".to_owned(), "0".to_owned()),
    ];
    for iteration in 1..=10u32 {
        lines.extend([3, 4]);
        log.push((2 * iteration, "i".to_owned(), iteration.to_string()));
    }
    lines.extend([3, 5]);
    let values = log
        .iter()
        .map(|(step, name, repr)| ValueWrite {
            step: *step,
            name: name.clone(),
            repr: repr.clone(),
            type_name: "int".into(),
        })
        .collect();
    let depths = vec![0; lines.len()];
    let (trace, run) = (
        record(code, "", 0),
        run("count_up(10)", returned(lines, depths, values, "10")),
    );

    assert_eq!(
        render(RenderFormat::Next, &trace, &run),
        "\
# Input: count_up(10)
def count_up(n):
    i = 0  # (0) i=0
    while i < n:  # (1) NO_CHANGE; (3) NO_CHANGE; ...; (21) NO_CHANGE
        i += 1  # (2) i=1; (4) i=2; ...; (20) i=10
    return i  # (22) NO_CHANGE
# Output: 10
"
    );
    assert_eq!(
        render(RenderFormat::Concise, &trace, &run),
        "\
call count_up(10)
L2: i = 0
L3
L4: i = 1
L3
L4: i = 2
...
L4: i = 10
L3
L5
return 10
"
    );
    let semcoder = render(RenderFormat::Semcoder, &trace, &run);
    assert!(semcoder.contains(
        r#"        i += 1  # [STATE-2]{"n": 10, "i": 1}[/STATE-2] [STATE-4]{"n": 10, "i": 2}[/STATE-4] ... [STATE-20]{"n": 10, "i": 10}[/STATE-20]"#
    ));
    assert!(!semcoder.contains("[STATE-6]"));
    // CodeExecutor does not abridge: all 23 steps fit the default cap.
    let codeexecutor = render(RenderFormat::Codeexecutor, &trace, &run);
    assert_eq!(codeexecutor.matches("<line>").count(), 23);
    assert!(!codeexecutor.contains("..."));
}

#[test]
fn nested_calls_are_skipped() {
    // `helper` runs at depth 1 and its writes (`v`) are logged between the
    // arguments of `g` and the write of `m`, both attributed to `g`'s step 0.
    let context = "def helper(v):\n    return v + 1\n";
    let code = "def g(n):\n    m = helper(n)\n    return m\n";
    let result = returned(
        vec![4, 2, 5],
        vec![0, 1, 0],
        writes(&[
            (0, "n", "1", "int"),
            (1, "v", "1", "int"),
            (0, "m", "2", "int"),
        ]),
        "2",
    );
    let (trace, run) = (record(code, context, 2), run("g(1)", result));
    assert_eq!(
        render(RenderFormat::Next, &trace, &run),
        "# Input: g(1)\ndef g(n):\n    m = helper(n)  # (0) m=2\n    return m  # (1) NO_CHANGE\n# Output: 2\n"
    );
    assert_eq!(
        render(RenderFormat::Codeexecutor, &trace, &run),
        "<line> 2 <state> n : 1 ; m : 2 </state> <line> 3 <state> n : 1 ; m : 2 </state> <output> 2\n"
    );
    assert_eq!(
        render(RenderFormat::Concise, &trace, &run),
        "call g(1)\nL2: m = 2\nL3\nreturn 2\n"
    );
    assert!(render(RenderFormat::Semcoder, &trace, &run)
        .contains(r#"    m = helper(n)  # [STATE-0]{"n": 1, "m": 2}[/STATE-0]"#));
}

#[test]
fn first_line_reassigning_a_parameter_is_a_change() {
    let code = "def f(n):\n    n = abs(n)\n    return n\n";
    let result = returned(
        vec![2, 3],
        vec![0, 0],
        writes(&[(0, "n", "-2", "int"), (0, "n", "2", "int")]),
        "2",
    );
    let (trace, run) = (record(code, "", 0), run("f(-2)", result));
    assert_eq!(
        render(RenderFormat::Concise, &trace, &run),
        "call f(-2)\nL2: n = 2\nL3\nreturn 2\n"
    );
    assert!(render(RenderFormat::Codeexecutor, &trace, &run)
        .starts_with("<line> 2 <state> n : 2 </state>"));
}

#[test]
fn line_breaks_in_values_are_escaped() {
    let code = "def f(s):\n    return s\n";
    let result = returned(
        vec![2],
        vec![0],
        writes(&[(0, "s", "Odd(\nrepr)", "Odd")]),
        "Odd(\nrepr)",
    );
    let (trace, run) = (record(code, "", 0), run("f(Odd())", result));
    assert_eq!(
        render(RenderFormat::Semcoder, &trace, &run),
        "[INPUT]\nf(Odd())\n[/INPUT]\ndef f(s):\n    return s  # [STATE-0]{\"s\": Odd(\\nrepr)}[/STATE-0]\n[OUTPUT]\nOdd(\\nrepr)\n[/OUTPUT]\n"
    );
}
