//! `tracecode_exec`: the sandboxed tracing engine's execution core.
//!
//! A [`Supervisor`] (parent process) keeps a pool of worker processes, each
//! embedding CPython (via `pyo3::ffi`) and sandboxed in depth (audit hook,
//! rlimits, Landlock, seccomp; see `docs/sandbox.md`). A [`RunRequest`]
//! (module source + call expression) is executed in a fresh namespace under a
//! Rust C-level trace function that records the line sequence, call depths,
//! a bounded value log of written variables, and the outcome ([`RunResult`]).
//!
//! ```no_run
//! use tracecode_exec::{Limits, RunRequest, Supervisor, SupervisorConfig};
//! let sup = Supervisor::new(SupervisorConfig::new(["/path/to/tracecode-worker"])).unwrap();
//! let r = sup.run(&RunRequest::new("def f(x):\n    return x + 1\n", "f(1)"), &Limits::default());
//! assert_eq!(r.return_json.as_deref(), Some("2"));
//! ```
//!
//! Worker processes are started from `SupervisorConfig::worker_cmd`: either
//! this crate's `tracecode-worker` binary or any binary that calls
//! [`worker_main`] (the CLI uses a hidden `__worker` subcommand).
//!
//! Building: the embedded interpreter is chosen with `PYO3_PYTHON`; binaries
//! need `build_support.rs` (rpath to libpython + `TRACECODE_PYTHON_HOME`),
//! see that file.

pub mod protocol;
pub mod repr;
pub mod sandbox;
pub mod supervisor;
pub mod tracer;
pub mod types;
pub mod worker;

pub use supervisor::{Supervisor, SupervisorConfig};
pub use types::{
    Limits, RunRequest, RunResult, RunStatus, SandboxConfig, SandboxReport, ValueWrite,
};
pub use worker::{worker_main, PYTHON_HOME};
