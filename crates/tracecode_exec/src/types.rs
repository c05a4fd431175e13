//! Public, serde-serialisable request/result types shared by the supervisor
//! (parent) and the worker (child) and stored by later pipeline stages.

use serde::{Deserialize, Serialize};
pub use tracecode_data::trace::{RunResult, RunStatus, ValueWrite};

/// Per-call resource limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Wall-clock budget of the whole run (module exec + call), in ms.
    /// Enforced cooperatively by the tracer and by the supervisor (kill).
    pub wall_ms: u64,
    /// Cap on traced `line` events; beyond it the run stops with `event_limit`.
    pub max_events: u64,
    /// Address-space limit (RLIMIT_AS) of the worker during the call.
    pub memory_bytes: u64,
    /// Maximum length (in chars) of every recorded repr.
    pub repr_chars: usize,
    /// Cap on the number of value-log entries (later writes are dropped).
    pub max_values: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_ms: 2000,
            max_events: 100_000,
            memory_bytes: 1 << 30,
            repr_chars: 60,
            max_values: 20_000,
        }
    }
}

/// One run: execute `module_source` as a fresh module, then evaluate `call`
/// (an expression such as `f(1, [2, 3])`) in its namespace, traced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    pub module_source: String,
    pub call: String,
}

impl RunRequest {
    pub fn new(module_source: impl Into<String>, call: impl Into<String>) -> Self {
        RunRequest {
            module_source: module_source.into(),
            call: call.into(),
        }
    }
}

/// Which sandbox layers a worker applies. All on by default; switching
/// layers off exists only to test each layer in isolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxConfig {
    pub audit: bool,
    pub rlimits: bool,
    pub landlock: bool,
    pub seccomp: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            audit: true,
            rlimits: true,
            landlock: true,
            seccomp: true,
        }
    }
}

/// What a worker reports about its sandbox at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SandboxReport {
    pub audit: bool,
    pub rlimits: bool,
    /// `full`, `partial`, `not_enforced`, `disabled`, or an error message.
    pub landlock: String,
    pub seccomp: bool,
    pub capabilities_dropped: bool,
    pub python_version: String,
    /// `WorkerOptions::preload` modules that failed to import, with the error.
    #[serde(default)]
    pub preload_errors: Vec<String>,
}
