//! Tracer behaviour: line sequence, value log, outcome capture, library
//! frames, fresh namespaces, bounded reprs, limits.
mod common;
use common::*;
use tracecode_exec::{Limits, RunStatus};

const LOOP: &str = "def f(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n";

#[test]
fn loop_lines_and_values() {
    let r = run(LOOP, "f(3)");
    assert_eq!(r.status, RunStatus::Returned, "{}", brief(&r));
    assert_eq!(r.lines, vec![2, 3, 4, 3, 4, 3, 4, 3, 5]);
    assert_eq!(r.depths, vec![0; 9]);
    assert_eq!(r.events, 9);
    let got: Vec<(u32, &str, &str)> = r
        .values
        .iter()
        .map(|v| (v.step, v.name.as_str(), v.repr.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "n", "3"),
            (0, "s", "0"),
            (1, "i", "0"),
            (3, "i", "1"),
            (4, "s", "1"),
            (5, "i", "2"),
            (6, "s", "3")
        ]
    );
    assert!(r.values.iter().all(|v| v.type_name == "int"));
    assert_eq!(r.return_repr.as_deref(), Some("3"));
    assert_eq!(r.return_json.as_deref(), Some("3"));
}

#[test]
fn mutation_of_containers_is_a_write() {
    let src = "def f():\n    xs = []\n    xs.append(1)\n    d = {'a': xs}\n    return d\n";
    let r = run(src, "f()");
    assert_eq!(r.status, RunStatus::Returned);
    let got: Vec<(u32, &str, &str)> = r
        .values
        .iter()
        .map(|v| (v.step, v.name.as_str(), v.repr.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(0, "xs", "[]"), (1, "xs", "[1]"), (2, "d", "{'a': [1]}")]
    );
    assert_eq!(r.return_json.as_deref(), Some("{\"a\": [1]}"));
}

#[test]
fn return_repr_and_json() {
    let r = run(
        "def f():\n    return {'a': [1, 2.5, None, True], 'b': 'x'}\n",
        "f()",
    );
    assert_eq!(
        r.return_repr.as_deref(),
        Some("{'a': [1, 2.5, None, True], 'b': 'x'}")
    );
    assert_eq!(
        r.return_json.as_deref(),
        Some("{\"a\": [1, 2.5, null, true], \"b\": \"x\"}")
    );
    let r = run("def f():\n    return {1, 2}\n", "f()");
    assert_eq!(r.return_repr.as_deref(), Some("{1, 2}"));
    assert_eq!(r.return_json, None);
    let r = run("def f():\n    return (1, 'a', b'z', 1.5e300, -3)\n", "f()");
    assert_eq!(
        r.return_repr.as_deref(),
        Some("(1, 'a', b'z', 1.5e+300, -3)")
    );
    let r = run(
        "class P:\n    def __repr__(self):\n        return 'P()'\ndef f():\n    return P()\n",
        "f()",
    );
    assert_eq!(r.return_repr.as_deref(), Some("P()"));
    assert_eq!(r.return_json, None);
}

#[test]
fn exception_capture() {
    let r = run("def f(a):\n    b = a + 1\n    return a / 0\n", "f(1)");
    assert_eq!(r.status, RunStatus::Raised);
    assert_eq!(r.exception_type.as_deref(), Some("ZeroDivisionError"));
    assert_eq!(r.exception_message.as_deref(), Some("division by zero"));
    assert_eq!(r.lines, vec![2, 3]);
    let r = run(
        "class MyErr(Exception):\n    pass\ndef f():\n    raise MyErr('boom')\n",
        "f()",
    );
    assert_eq!(r.status, RunStatus::Raised);
    assert_eq!(r.exception_type.as_deref(), Some("MyErr"));
    assert_eq!(r.exception_message.as_deref(), Some("boom"));
    // Errors in the module body are reported too.
    let r = run("x = undefined_name\ndef f():\n    return 1\n", "f()");
    assert_eq!(r.status, RunStatus::Raised);
    assert_eq!(r.exception_type.as_deref(), Some("NameError"));
    assert!(r.detail.unwrap().contains("module"));
}

#[test]
fn library_frames_excluded_nested_user_frames_included() {
    let src = "import json, collections\n\ndef helper(x):\n    y = x * 2\n    return y\n\ndef f(n):\n    d = json.loads(json.dumps({'n': n}))\n    c = collections.Counter('abca')\n    return helper(d['n']) + c['a']\n";
    let r = run(src, "f(5)");
    assert_eq!(r.status, RunStatus::Returned, "{}", brief(&r));
    // (Whether the caller's line 10 is re-reported after the callee returns
    // varies between CPython versions.)
    assert_eq!(r.lines[..5], [8, 9, 10, 4, 5]);
    assert_eq!(r.depths[..5], [0, 0, 0, 1, 1]);
    assert!(r.lines[5..].iter().all(|&l| l == 10));
    assert_eq!(r.return_json.as_deref(), Some("12"));
    let names: Vec<&str> = r.values.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, vec!["n", "d", "c", "x", "y"]);
    let c = r.values.iter().find(|v| v.name == "c").unwrap();
    assert_eq!(c.type_name, "Counter");
}

#[test]
fn recursion_depths() {
    let src = "def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n";
    let r = run(src, "fact(3)");
    assert_eq!(r.return_json.as_deref(), Some("6"));
    assert_eq!(r.lines, vec![2, 4, 2, 4, 2, 3]);
    assert_eq!(r.depths, vec![0, 0, 1, 1, 2, 2]);
}

#[test]
fn fresh_namespace_per_run() {
    let src = "counter = 0\ndef f():\n    global counter\n    counter += 1\n    return counter\n";
    for _ in 0..4 {
        let r = run(src, "f()");
        assert_eq!(r.return_json.as_deref(), Some("1"), "{}", brief(&r));
    }
    // Interpreter-wide changes do not leak into later runs either.
    let r = run("import builtins, sys\ndef f():\n    builtins.len = lambda x: 42\n    sys.path.insert(0, '/evil')\n    return len([])\n", "f()");
    assert_eq!(r.return_json.as_deref(), Some("42"));
    for _ in 0..4 {
        let r = run(
            "import sys\ndef f():\n    return [len([1, 2]), '/evil' in sys.path]\n",
            "f()",
        );
        assert_eq!(r.return_json.as_deref(), Some("[2, false]"));
    }
}

#[test]
fn bounded_repr_of_huge_values_is_fast() {
    let src = "def f():\n    xs = list(range(10_000_000))\n    s = 'a' * 50_000_000\n    d = dict.fromkeys(range(1_000_000))\n    return xs\n";
    let limits = Limits {
        wall_ms: 20_000,
        ..Limits::default()
    };
    let r = run_with(src, "f()", &limits);
    assert_eq!(r.status, RunStatus::Returned, "{}", brief(&r));
    for v in &r.values {
        assert!(v.repr.chars().count() <= 60, "{}", v.repr);
    }
    let xs = r.values.iter().find(|v| v.name == "xs").unwrap();
    assert!(
        xs.repr.starts_with("[0, 1, 2, 3") && xs.repr.ends_with("..."),
        "{}",
        xs.repr
    );
    let s = r.values.iter().find(|v| v.name == "s").unwrap();
    assert_eq!(s.repr, format!("'{}...", "a".repeat(56)));
    let ret = r.return_repr.unwrap();
    assert!(ret.chars().count() <= 60 && ret.ends_with("..."));
    assert_eq!(r.return_json, None);
    // The list comprehension and allocations dominate; reprs must not add seconds.
    assert!(r.duration_us < 5_000_000, "took {} us", r.duration_us);
    let limits = Limits {
        repr_chars: 10,
        ..Limits::default()
    };
    let r = run_with(
        "def f():\n    x = 'hello world, long'\n    return x\n",
        "f()",
        &limits,
    );
    assert_eq!(r.values[0].repr, "'hello ...");
}

#[test]
fn user_repr_is_untraced_and_cannot_break_limits() {
    let src = "class Weird:\n    def __repr__(self):\n        total = 0\n        for i in range(1000):\n            total += i\n        return 'W' * 200\n\ndef f():\n    w = Weird()\n    return 1\n";
    let limits = Limits {
        max_events: 10,
        ..Limits::default()
    };
    let r = run_with(src, "f()", &limits);
    assert_eq!(r.status, RunStatus::Returned, "{}", brief(&r));
    assert_eq!(r.lines, vec![9, 10]);
    assert_eq!(r.values[0].repr, format!("{}...", "W".repeat(57)));
    assert_eq!(r.values[0].type_name, "Weird");
}

#[test]
fn event_limit() {
    let limits = Limits {
        max_events: 100,
        ..Limits::default()
    };
    let r = run_with(LOOP, "f(1000)", &limits);
    assert_eq!(r.status, RunStatus::EventLimit, "{}", brief(&r));
    assert_eq!(r.lines.len(), 100);
    // An `except BaseException` cannot swallow the limit.
    let src = "def f():\n    n = 0\n    while True:\n        try:\n            n += 1\n        except BaseException:\n            pass\n";
    let r = run_with(src, "f()", &limits);
    assert_eq!(r.status, RunStatus::EventLimit, "{}", brief(&r));
}

#[test]
fn max_values_cap() {
    let limits = Limits {
        max_values: 5,
        ..Limits::default()
    };
    let r = run_with(LOOP, "f(100)", &limits);
    assert_eq!(r.status, RunStatus::Returned);
    assert_eq!(r.values.len(), 5);
    assert!(r.detail.unwrap().contains("dropped"));
}

#[test]
fn stdout_is_captured_and_bounded() {
    let r = run("def f():\n    print('hello', 42)\n    return None\n", "f()");
    assert_eq!(r.stdout, "hello 42\n");
    assert_eq!(r.return_json.as_deref(), Some("null"));
    let r = run(
        "def f():\n    for i in range(10000):\n        print('x' * 100)\n",
        "f()",
    );
    assert_eq!(r.status, RunStatus::Returned);
    assert_eq!(r.stdout.len(), 4096);
}

#[test]
fn bad_input() {
    let r = run("def f(:\n    pass\n", "f()");
    assert_eq!(r.status, RunStatus::BadInput);
    assert!(r.detail.unwrap().contains("SyntaxError"));
    let r = run("def f():\n    return 1\n", "f(");
    assert_eq!(r.status, RunStatus::BadInput);
    let r = run("def f():\n    return '\0'\n", "f()");
    assert_eq!(r.status, RunStatus::BadInput);
    // The worker is still fine.
    assert_eq!(run(LOOP, "f(4)").return_json.as_deref(), Some("6"));
}

#[test]
fn batch_runs_in_parallel_and_in_order() {
    let reqs: Vec<_> = (0..20)
        .map(|i| tracecode_exec::RunRequest::new(LOOP, format!("f({i})")))
        .collect();
    let rs = sup().run_batch(&reqs, &Limits::default());
    for (i, r) in rs.iter().enumerate() {
        let want = (0..i as u64).sum::<u64>().to_string();
        assert_eq!(r.return_json.as_deref(), Some(want.as_str()));
    }
}
