//! Attack suite: each attack must be contained (specific status), the parent
//! must stay alive, and the next benign call on the same Supervisor must work.
mod common;
use std::io::ErrorKind;
use std::net::TcpListener;

use common::*;
use tracecode_exec::{Limits, RunRequest, RunResult, RunStatus};

fn attack(src: &str, call: &str, limits: &Limits) -> RunResult {
    let r = sup().run(&RunRequest::new(src, call), limits);
    // The same supervisor still serves benign calls (twice, so both pool slots
    // get a chance to be the restarted one).
    for _ in 0..2 {
        let ok = sup().run(
            &RunRequest::new("def f(x):\n    return x * 2\n", "f(21)"),
            &Limits::default(),
        );
        assert_eq!(
            ok.status,
            RunStatus::Returned,
            "benign call after attack: {}",
            brief(&ok)
        );
        assert_eq!(ok.return_json.as_deref(), Some("42"));
    }
    r
}

/// 1 s wall budget; the event cap is lifted so endless loops hit the clock.
fn short() -> Limits {
    Limits {
        wall_ms: 1000,
        max_events: u64::MAX,
        ..Limits::default()
    }
}

fn expect(r: &RunResult, status: RunStatus) {
    assert_eq!(r.status, status, "{}", brief(r));
}

fn py_str(p: &std::path::Path) -> String {
    format!("{:?}", p.to_str().unwrap())
}

#[test]
fn file_write() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("pwned.txt");
    let src = format!(
        "def f():\n    with open({}, 'w') as fh:\n        fh.write('x')\n",
        py_str(&target)
    );
    let r = attack(&src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    assert!(r.detail.unwrap().contains("open for writing"));
    assert!(!target.exists());
    // Even if user code swallows the error, the run is flagged.
    let src = format!("def f():\n    try:\n        open({}, 'a')\n    except Exception:\n        return 'swallowed'\n", py_str(&target));
    let r = attack(&src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    assert!(!target.exists());
}

#[test]
fn unlink_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("keep.txt");
    std::fs::write(&victim, "precious").unwrap();
    let src = format!("import os\ndef f():\n    os.unlink({})\n", py_str(&victim));
    let r = attack(&src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let src = format!(
        "import os, shutil\ndef f():\n    shutil.rmtree({})\n",
        py_str(dir.path())
    );
    let r = attack(&src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    assert!(victim.exists());
}

#[test]
fn socket_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let src = format!(
        "import socket\ndef f():\n    s = socket.create_connection(('127.0.0.1', {port}))\n    s.sendall(b'hi')\n"
    );
    let r = attack(&src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    assert!(r.detail.unwrap().contains("socket"));
    assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[test]
fn subprocess_and_os_system() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let src = format!(
        "import subprocess\ndef f():\n    subprocess.run(['touch', {}])\n",
        py_str(&marker)
    );
    expect(&attack(&src, "f()", &short()), RunStatus::SandboxDenied);
    let src = format!(
        "import os\ndef f():\n    return os.system('touch ' + {})\n",
        py_str(&marker)
    );
    expect(&attack(&src, "f()", &short()), RunStatus::SandboxDenied);
    let src = format!(
        "import os\ndef f():\n    os.execv('/usr/bin/touch', ['touch', {}])\n",
        py_str(&marker)
    );
    expect(&attack(&src, "f()", &short()), RunStatus::SandboxDenied);
    assert!(!marker.exists());
}

#[test]
fn fork_bomb() {
    let src = "import os\ndef f():\n    while True:\n        try:\n            os.fork()\n        except Exception:\n            pass\n";
    let r = attack(src, "f()", &short());
    // Denied at once; the loop then runs into the time limit, which wins.
    assert!(
        matches!(r.status, RunStatus::Timeout | RunStatus::SandboxDenied),
        "{}",
        brief(&r)
    );
    let src = "import os\ndef f():\n    os.fork()\n    os.fork()\n";
    expect(&attack(src, "f()", &short()), RunStatus::SandboxDenied);
}

#[test]
fn infinite_loop() {
    let r = attack("def f():\n    while True:\n        pass\n", "f()", &short());
    expect(&r, RunStatus::Timeout);
    // Swallowing the limit exception does not help.
    let src = "def f():\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n";
    expect(&attack(src, "f()", &short()), RunStatus::Timeout);
}

#[test]
fn c_level_loop() {
    // No line events: only the supervisor's kill (or RLIMIT_CPU) stops it.
    let src = "import itertools\ndef f():\n    return sum(itertools.repeat(1))\n";
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::Timeout);
}

#[test]
fn huge_allocation() {
    let r = attack(
        "def f():\n    x = bytearray(50 * 1024 ** 3)\n    return len(x)\n",
        "f()",
        &short(),
    );
    expect(&r, RunStatus::MemoryLimit);
    let r = attack(
        "def f():\n    x = [0] * (50 * 1024 ** 3 // 8)\n",
        "f()",
        &short(),
    );
    expect(&r, RunStatus::MemoryLimit);
    // Growing allocation hits the address-space limit too.
    let limits = Limits {
        memory_bytes: 512 << 20,
        wall_ms: 5000,
        ..Limits::default()
    };
    let src = "def f():\n    xs = []\n    while True:\n        xs.append(' ' * (1 << 20))\n";
    let r = attack(src, "f()", &limits);
    expect(&r, RunStatus::MemoryLimit);
}

#[test]
fn deep_recursion() {
    let r = attack("def f(n=0):\n    return f(n + 1)\n", "f()", &short());
    expect(&r, RunStatus::Raised);
    assert_eq!(r.exception_type.as_deref(), Some("RecursionError"));
}

#[test]
fn os_exit() {
    let r = attack("import os\ndef f():\n    os._exit(3)\n", "f()", &short());
    expect(&r, RunStatus::Crashed);
    assert!(r.detail.unwrap().contains("code 3"));
}

#[test]
fn ctypes_segfault() {
    let r = attack(
        "import ctypes\ndef f():\n    return ctypes.string_at(0)\n",
        "f()",
        &short(),
    );
    expect(&r, RunStatus::SandboxDenied);
    assert!(r.detail.unwrap().contains("ctypes"));
    // A segfault that does happen (here: the interpreter aborting on purpose)
    // is a contained crash.
    let r = attack("import os\ndef f():\n    os.abort()\n", "f()", &short());
    expect(&r, RunStatus::Crashed);
}

#[test]
fn remove_tracer() {
    let r = attack(
        "import sys\ndef f():\n    sys.settrace(None)\n    x = 1\n    return x\n",
        "f()",
        &short(),
    );
    expect(&r, RunStatus::SandboxDenied);
    let src = "import sys\ndef f():\n    sys._getframe().f_trace_lines = False\n    x = 1\n    y = 2\n    return x + y\n";
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    assert!(r.detail.unwrap().contains("tampering"));
    let src = "import threading\ndef f():\n    threading.settrace(None)\n    return 1\n";
    let r = attack(src, "f()", &short());
    // threading.settrace only affects new threads; harmless but allowed.
    assert!(
        matches!(r.status, RunStatus::Returned | RunStatus::SandboxDenied),
        "{}",
        brief(&r)
    );
}

#[test]
fn read_secret_outside_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "TOP-SECRET-42").unwrap();
    let src = format!("def f():\n    return open({}).read()\n", py_str(&secret));
    let r = attack(&src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    assert!(r.return_repr.is_none());
    let src = "import os\ndef f():\n    return os.listdir('/root')\n";
    let r = attack(src, "f()", &short());
    // Directory listing is not audited; Landlock refuses it.
    expect(&r, RunStatus::Raised);
    assert_eq!(r.exception_type.as_deref(), Some("PermissionError"));
    let r = attack(
        "def f():\n    return open('/proc/self/environ', 'rb').read()\n",
        "f()",
        &short(),
    );
    expect(&r, RunStatus::SandboxDenied);
}

#[test]
fn forge_reply_on_inherited_fds() {
    // A well-formed frame claiming success: if it reached the parent it would be
    // rejected by the nonce check (crashed); seccomp stops it earlier.
    let src = r#"import os, json
def f():
    body = json.dumps({"nonce": 0, "result": {"status": "returned", "return_repr": "'pwned'"}}).encode()
    frame = len(body).to_bytes(4, 'big') + body
    hits = []
    for fd in range(3, 21):
        try:
            os.write(fd, frame)
            hits.append(fd)
        except OSError:
            pass
    return 'done'
"#;
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::Returned);
    assert_eq!(r.return_repr.as_deref(), Some("'done'"));
    let src = "import os\ndef f():\n    os.close(3)\n";
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::Raised);
    assert_eq!(r.exception_type.as_deref(), Some("PermissionError"));
    let src = "import os\ndef f():\n    fd = os.dup(3)\n    os.write(fd, b'xxxx')\n";
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::Raised);
}

#[test]
fn thread_outliving_call() {
    let src = "import threading, time\ndef spin():\n    while True:\n        pass\ndef f():\n    threading.Thread(target=spin, daemon=True).start()\n    return 1\n";
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    let src = "import _thread\ndef f():\n    _thread.start_new_thread(print, ('x',))\n";
    expect(&attack(src, "f()", &short()), RunStatus::SandboxDenied);
}

#[test]
fn signal_handler() {
    let src = "import signal, os\ndef f():\n    signal.signal(signal.SIGUSR1, lambda *a: print('handled'))\n    os.kill(os.getpid(), signal.SIGUSR1)\n    return 1\n";
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
    let src = "import signal\ndef f():\n    signal.setitimer(signal.ITIMER_REAL, 0.01)\n";
    expect(&attack(src, "f()", &short()), RunStatus::SandboxDenied);
}

#[test]
fn kill_parent() {
    let src = "import os, signal\ndef f():\n    os.kill(os.getppid(), signal.SIGKILL)\n";
    let r = attack(src, "f()", &short());
    expect(&r, RunStatus::SandboxDenied);
}

#[test]
fn poison_builtins_for_next_run() {
    let r = attack(
        "import builtins\ndef f():\n    builtins.print = None\n    builtins.len = lambda x: -1\n",
        "f()",
        &short(),
    );
    expect(&r, RunStatus::Returned);
    let r = attack(
        "def f():\n    print('ok')\n    return len([1])\n",
        "f()",
        &short(),
    );
    assert_eq!(r.return_json.as_deref(), Some("1"));
    assert_eq!(r.stdout, "ok\n");
}

#[test]
fn sandbox_report_is_complete() {
    let rep = sup().sandbox_report();
    assert!(rep.audit && rep.rlimits && rep.seccomp, "{rep:?}");
    assert_eq!(rep.landlock, "full", "{rep:?}");
}
