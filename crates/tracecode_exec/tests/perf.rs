//! Rough speed comparison with a pure-Python `sys.settrace` harness that
//! records the same data (line numbers, depths, bounded reprs of written
//! locals). Ignored by default (timing-sensitive):
//! `cargo test -p tracecode_exec --release --test perf -- --ignored --nocapture`
mod common;
use common::*;
use tracecode_exec::{Limits, RunRequest, RunStatus};

const FUNC: &str = "def bubble(xs):\n    xs = list(xs)\n    n = len(xs)\n    for i in range(n):\n        swapped = False\n        for j in range(n - i - 1):\n            if xs[j] > xs[j + 1]:\n                xs[j], xs[j + 1] = xs[j + 1], xs[j]\n                swapped = True\n        if not swapped:\n            break\n    return xs\n";
const CALL: &str = "bubble(list(range(120, 0, -1)))";

const HARNESS: &str = r#"
import sys, time
src, call, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
def bounded(v):
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + '...'
def run():
    ns = {'__name__': '__tracecode__'}
    code = compile(src, '<tracecode>', 'exec')
    exec(code, ns)
    fname = code.co_filename
    lines, depths, values = [], [], []
    snaps = {}
    stack = []
    def tracer(frame, event, arg):
        if frame.f_code.co_filename != fname:
            return None
        if event == 'call':
            stack.append(frame)
            snaps[id(frame)] = [{}, None]
            return local
        return local
    def diff(frame, step):
        snap = snaps[id(frame)]
        old = snap[0]
        for k, v in frame.f_locals.items():
            r = bounded(v)
            if old.get(k) != r:
                old[k] = r
                values.append((step, k, r, type(v).__name__))
    def local(frame, event, arg):
        snap = snaps[id(frame)]
        if event == 'line':
            step = len(lines)
            diff(frame, snap[1] if snap[1] is not None else step)
            snap[1] = step
            lines.append(frame.f_lineno)
            depths.append(len(stack) - 1)
        elif event == 'return':
            if snap[1] is not None:
                diff(frame, snap[1])
            stack.pop()
        return local
    sys.settrace(tracer)
    try:
        ret = eval(call, ns)
    finally:
        sys.settrace(None)
    return len(lines), len(values)
best = None
for _ in range(reps):
    t = time.perf_counter()
    n = run()
    dt = time.perf_counter() - t
    best = dt if best is None else min(best, dt)
print(int(best * 1e6), n[0], n[1])
"#;

#[test]
#[ignore]
fn faster_than_python_settrace() {
    let limits = Limits {
        max_events: 10_000_000,
        wall_ms: 60_000,
        max_values: 10_000_000,
        ..Limits::default()
    };
    let req = RunRequest::new(FUNC, CALL);
    let mut best = u64::MAX;
    let mut last = None;
    for _ in 0..5 {
        let r = sup().run(&req, &limits);
        assert_eq!(r.status, RunStatus::Returned, "{}", brief(&r));
        best = best.min(r.duration_us);
        last = Some(r);
    }
    let r = last.unwrap();
    let python = format!("{}/bin/python3", tracecode_exec::PYTHON_HOME);
    let out = std::process::Command::new(python)
        .args(["-c", HARNESS, FUNC, CALL, "5"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let parts: Vec<u64> = text
        .split_whitespace()
        .map(|s| s.parse().unwrap())
        .collect();
    let (py_us, py_lines, py_values) = (parts[0], parts[1], parts[2]);
    eprintln!(
        "rust tracer: {best} us ({} lines, {} values); python settrace: {py_us} us ({py_lines} lines, {py_values} values); speed-up {:.2}x",
        r.lines.len(),
        r.values.len(),
        py_us as f64 / best as f64
    );
    assert_eq!(r.lines.len() as u64, py_lines);
    assert_eq!(r.values.len() as u64, py_values);
}
