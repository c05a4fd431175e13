//! Framed wire protocol between supervisor and worker.
//!
//! A frame is a 4-byte big-endian length followed by that many bytes of JSON.
//! The channel is a private `AF_UNIX` socketpair end that the worker inherits
//! as fd [`WORKER_FD`] (never stdin/stdout, which user code can write to).
//! Every request carries a random nonce that the reply must echo; anything
//! else (bad length, bad JSON, wrong nonce, trailing bytes) is a protocol
//! violation and the worker is killed.

use serde::{Deserialize, Serialize};

use crate::types::{Limits, RunResult, SandboxConfig, SandboxReport};

/// The fd number of the control socket inside the worker.
pub const WORKER_FD: i32 = 3;
/// Environment variable naming the control fd.
pub const ENV_FD: &str = "TRACECODE_WORKER_FD";
/// Environment variable carrying the JSON `WorkerOptions`.
pub const ENV_OPTIONS: &str = "TRACECODE_WORKER_OPTIONS";
/// Largest accepted frame (requests carry sources, replies traces).
pub const MAX_FRAME: usize = 256 << 20;
pub const PROTOCOL_VERSION: u32 = 1;

/// Start-up options passed to the worker through the environment.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct WorkerOptions {
    pub sandbox: SandboxConfig,
    /// Hard RLIMIT_AS; per-call soft limits are clamped to it.
    pub memory_ceiling: u64,
    /// Directories appended to `sys.path` (and so readable) before the
    /// sandbox is armed: pure-Python packages user code may import.
    #[serde(default)]
    pub python_path: Vec<std::path::PathBuf>,
    /// Modules imported before the sandbox is armed, so runs find them in
    /// `sys.modules` instead of importing them under the tracer's limits.
    #[serde(default)]
    pub preload: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hello {
    pub protocol: u32,
    pub pid: u32,
    pub sandbox: SandboxReport,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub nonce: u64,
    pub module_source: String,
    pub call: String,
    pub limits: Limits,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    pub nonce: u64,
    pub result: RunResult,
}

/// Encode `msg` as one frame.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    let mut buf = vec![0u8; 4];
    serde_json::to_writer(&mut buf, msg).expect("serialising a protocol message cannot fail");
    let n = (buf.len() - 4) as u32;
    buf[..4].copy_from_slice(&n.to_be_bytes());
    buf
}

/// Parse a frame length header, rejecting oversized frames.
pub fn frame_len(header: [u8; 4]) -> Result<usize, String> {
    let n = u32::from_be_bytes(header) as usize;
    if n > MAX_FRAME {
        return Err(format!("frame of {n} bytes exceeds limit"));
    }
    Ok(n)
}
