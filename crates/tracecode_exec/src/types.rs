//! Public, serde-serialisable request/result types shared by the supervisor
//! (parent) and the worker (child) and stored by later pipeline stages.

use serde::{Deserialize, Serialize};

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

/// How a run ended. Precedence when several apply: limits (timeout,
/// event_limit) > sandbox_denied > memory_limit > raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The call returned normally.
    Returned,
    /// The module or the call raised an exception (see `exception_*`).
    Raised,
    /// Wall-clock (or CPU) budget exhausted.
    Timeout,
    /// More than `max_events` line events.
    EventLimit,
    /// `MemoryError` under the address-space limit.
    MemoryLimit,
    /// The sandbox refused an operation (even if user code caught the error),
    /// or user code tampered with the tracer.
    SandboxDenied,
    /// The worker died or broke the protocol; `detail` says how.
    Crashed,
    /// The source or call expression does not compile (or holds NUL bytes).
    BadInput,
}

/// A variable written by the line at `lines[step]` (arguments are attributed
/// to the first line event of their frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueWrite {
    pub step: u32,
    pub name: String,
    /// Bounded repr (at most `Limits::repr_chars` chars, `...` when cut).
    pub repr: String,
    pub type_name: String,
}

/// Everything recorded about one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RunResult {
    pub status: RunStatus,
    pub detail: Option<String>,
    /// 1-based line numbers (in `module_source`) of every line event in user frames.
    pub lines: Vec<u32>,
    /// Call depth of each line event (0 = the called function).
    pub depths: Vec<u16>,
    pub values: Vec<ValueWrite>,
    pub return_repr: Option<String>,
    /// `json.dumps` of the return value when it is small plain JSON data.
    pub return_json: Option<String>,
    pub exception_type: Option<String>,
    pub exception_message: Option<String>,
    /// Number of line events in user frames (may exceed `lines.len()` by one at the cap).
    pub events: u64,
    pub duration_us: u64,
    /// Captured `sys.stdout`, bounded to 4 KiB.
    pub stdout: String,
}

impl Default for RunStatus {
    fn default() -> Self {
        RunStatus::Crashed
    }
}

impl RunResult {
    /// A result carrying only a status and a detail message.
    pub fn failed(status: RunStatus, detail: impl Into<String>) -> Self {
        RunResult {
            status,
            detail: Some(detail.into()),
            ..Default::default()
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
}
