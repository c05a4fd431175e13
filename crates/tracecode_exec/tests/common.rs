#![allow(dead_code)]
use std::sync::OnceLock;

use tracecode_exec::{Limits, RunRequest, RunResult, SandboxConfig, Supervisor, SupervisorConfig};

pub fn config() -> SupervisorConfig {
    let mut cfg = SupervisorConfig::new([env!("CARGO_BIN_EXE_tracecode-worker")]);
    cfg.workers = 2;
    cfg.inherit_stderr = std::env::var_os("TRACECODE_DEBUG").is_some();
    cfg
}

/// One shared supervisor per test binary.
pub fn sup() -> &'static Supervisor {
    static S: OnceLock<Supervisor> = OnceLock::new();
    S.get_or_init(|| Supervisor::new(config()).expect("supervisor starts"))
}

pub fn sup_with(sandbox: SandboxConfig) -> Supervisor {
    let mut cfg = config();
    cfg.sandbox = sandbox;
    cfg.workers = 1;
    Supervisor::new(cfg).expect("supervisor starts")
}

pub fn run(src: &str, call: &str) -> RunResult {
    sup().run(&RunRequest::new(src, call), &Limits::default())
}

pub fn run_with(src: &str, call: &str, limits: &Limits) -> RunResult {
    sup().run(&RunRequest::new(src, call), limits)
}

/// Short description of a result for assertion messages.
pub fn brief(r: &RunResult) -> String {
    format!(
        "status={:?} detail={:?} exc={:?}: {:?} lines={} ret={:?} stdout={:?}",
        r.status,
        r.detail,
        r.exception_type,
        r.exception_message,
        r.lines.len(),
        r.return_repr,
        r.stdout.chars().take(200).collect::<String>()
    )
}
