//! Each kernel-level layer on its own: with the audit hook switched off,
//! Landlock, seccomp and rlimits must still contain the attacks (user code
//! then sees plain OSErrors, so the status is `raised` or `crashed`).
mod common;
use std::net::TcpListener;

use common::*;
use tracecode_exec::{Limits, RunRequest, RunResult, RunStatus, SandboxConfig, Supervisor};

fn run_on(s: &Supervisor, src: &str, call: &str) -> RunResult {
    s.run(
        &RunRequest::new(src, call),
        &Limits {
            wall_ms: 2000,
            ..Limits::default()
        },
    )
}

fn assert_perm(r: &RunResult) {
    assert_eq!(r.status, RunStatus::Raised, "{}", brief(r));
    assert_eq!(
        r.exception_type.as_deref(),
        Some("PermissionError"),
        "{}",
        brief(r)
    );
}

fn py_str(p: &std::path::Path) -> String {
    format!("{:?}", p.to_str().unwrap())
}

#[test]
fn without_audit_hook() {
    let s = sup_with(SandboxConfig {
        audit: false,
        ..SandboxConfig::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // seccomp: socket() fails.
    assert_perm(&run_on(
        &s,
        &format!("import socket\ndef f():\n    socket.create_connection(('127.0.0.1', {port}))\n"),
        "f()",
    ));
    assert!(listener.accept().is_err());
    // seccomp: no processes.
    assert_perm(&run_on(&s, "import os\ndef f():\n    os.fork()\n", "f()"));
    assert_perm(&run_on(
        &s,
        "import subprocess\ndef f():\n    subprocess.run(['true'])\n",
        "f()",
    ));
    // Landlock: no writes, no reads outside the interpreter.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("w.txt");
    assert_perm(&run_on(
        &s,
        &format!("def f():\n    open({}, 'w').write('x')\n", py_str(&target)),
        "f()",
    ));
    assert!(!target.exists());
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "s3cret").unwrap();
    assert_perm(&run_on(
        &s,
        &format!("def f():\n    return open({}).read()\n", py_str(&secret)),
        "f()",
    ));
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep").unwrap();
    assert_perm(&run_on(
        &s,
        &format!("import os\ndef f():\n    os.unlink({})\n", py_str(&victim)),
        "f()",
    ));
    assert!(victim.exists());
    // seccomp: signals to other processes.
    assert_perm(&run_on(
        &s,
        "import os\ndef f():\n    os.kill(os.getppid(), 9)\n",
        "f()",
    ));
    // A real segfault is a contained crash.
    let r = run_on(
        &s,
        "import ctypes\ndef f():\n    return ctypes.string_at(0)\n",
        "f()",
    );
    assert_eq!(r.status, RunStatus::Crashed, "{}", brief(&r));
    let ok = run_on(&s, "def f():\n    return 7\n", "f()");
    assert_eq!(ok.return_json.as_deref(), Some("7"));
}

#[test]
fn landlock_alone() {
    let s = sup_with(SandboxConfig {
        audit: false,
        seccomp: false,
        ..SandboxConfig::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // Landlock ABI v4+: TCP connect refused.
    assert_perm(&run_on(
        &s,
        &format!("import socket\ndef f():\n    socket.create_connection(('127.0.0.1', {port}))\n"),
        "f()",
    ));
    assert!(listener.accept().is_err());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("w.txt");
    assert_perm(&run_on(
        &s,
        &format!("def f():\n    open({}, 'w')\n", py_str(&target)),
        "f()",
    ));
    assert!(!target.exists());
}
