//! Protocol violations by a (fake) worker: wrong nonce, malformed frames,
//! trailing data, oversized frames, silence. Each is reported as `crashed`
//! (or `timeout`) and the worker is replaced for the next request.
use tracecode_exec::{Limits, RunRequest, RunStatus, Supervisor, SupervisorConfig};

const FAKE: &str = r#"
import os, sys, json, time
fd = 3
def frame(obj=None, raw=None):
    b = raw if raw is not None else json.dumps(obj).encode()
    return len(b).to_bytes(4, 'big') + b
def send(obj=None, raw=None):
    os.write(fd, frame(obj, raw))
def recv():
    def exact(n):
        b = b''
        while len(b) < n:
            c = os.read(fd, n - len(b))
            if not c:
                sys.exit(0)
            b += c
        return b
    return json.loads(exact(int.from_bytes(exact(4), 'big')))
send({"protocol": 1, "pid": os.getpid(), "sandbox": {"audit": False, "rlimits": False, "landlock": "fake",
      "seccomp": False, "capabilities_dropped": False, "python_version": "fake"}})
mode = sys.argv[1]
while True:
    req = recv()
    ok = {"nonce": req["nonce"], "result": {"status": "returned", "return_repr": "1"}}
    if mode == "ok":
        send(ok)
    elif mode == "wrong_nonce":
        send({"nonce": req["nonce"] ^ 1, "result": {"status": "returned"}})
    elif mode == "garbage":
        send(raw=b"this is not json")
    elif mode == "extra":
        os.write(fd, frame(ok) + frame(ok))
    elif mode == "late_extra":
        send(ok)
        time.sleep(0.05)
        send(ok)
    elif mode == "huge":
        os.write(fd, (2 ** 31).to_bytes(4, 'big'))
    elif mode == "silent":
        time.sleep(60)
    elif mode == "exit":
        sys.exit(5)
"#;

fn fake(mode: &str) -> Supervisor {
    let python = format!("{}/bin/python3", tracecode_exec::PYTHON_HOME);
    let mut cfg = SupervisorConfig::new([python.as_str(), "-c", FAKE, mode]);
    cfg.workers = 1;
    cfg.kill_grace = std::time::Duration::from_millis(300);
    Supervisor::new(cfg).expect("fake worker starts")
}

fn check(mode: &str, status: RunStatus, needle: &str) {
    let s = fake(mode);
    let limits = Limits {
        wall_ms: 200,
        ..Limits::default()
    };
    for _ in 0..2 {
        let r = s.run(&RunRequest::new("x = 1", "x"), &limits);
        assert_eq!(r.status, status, "{mode}: {:?}", r.detail);
        assert!(
            r.detail.as_deref().unwrap_or("").contains(needle),
            "{mode}: {:?}",
            r.detail
        );
    }
}

#[test]
fn well_behaved_fake_worker() {
    let s = fake("ok");
    let r = s.run(&RunRequest::new("x = 1", "x"), &Limits::default());
    assert_eq!(r.status, RunStatus::Returned);
}

#[test]
fn nonce_mismatch() {
    check(
        "wrong_nonce",
        RunStatus::Crashed,
        "protocol violation: nonce mismatch",
    );
}

#[test]
fn malformed_frame() {
    check(
        "garbage",
        RunStatus::Crashed,
        "protocol violation: malformed",
    );
}

#[test]
fn trailing_data() {
    check(
        "extra",
        RunStatus::Crashed,
        "protocol violation: unexpected extra data",
    );
}

#[test]
fn late_trailing_data_recycles_worker() {
    // The stray frame arrives after a valid reply: that reply stands, but the
    // worker is replaced before it gets the next request.
    let s = fake("late_extra");
    let limits = Limits {
        wall_ms: 200,
        ..Limits::default()
    };
    for _ in 0..3 {
        let r = s.run(&RunRequest::new("x = 1", "x"), &limits);
        assert_eq!(r.status, RunStatus::Returned, "{:?}", r.detail);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn oversized_frame() {
    check("huge", RunStatus::Crashed, "protocol violation");
}

#[test]
fn silent_worker_times_out() {
    check("silent", RunStatus::Timeout, "worker killed");
}

#[test]
fn worker_exit() {
    check("exit", RunStatus::Crashed, "code 5");
}

#[test]
fn broken_worker_command_is_an_error() {
    let cfg = SupervisorConfig::new(["/nonexistent/tracecode-worker"]);
    assert!(Supervisor::new(cfg).is_err());
}
