//! Defence in depth for the worker process, applied once at start-up before
//! any user code runs (see `docs/sandbox.md`):
//!
//! 1. [`audit`]: a PEP 578 audit hook (plus stubs for unaudited APIs such as
//!    `signal.signal`) that refuses dangerous operations with a recognisable
//!    exception and records the denial for the run's status.
//! 2. [`rlimits`]: address space, CPU, file size, fds, core dumps, processes.
//! 3. [`landlock`]: read-only access to the interpreter's files, no writes,
//!    no TCP, no signalling outside the worker.
//! 4. [`seccomp`]: syscall backstop (EPERM) for process creation, networking,
//!    signals to others, and tampering with the control socket.
//!
//! The per-call wall/event limits live in the tracer and the supervisor.

pub mod audit;
pub mod landlock;
pub mod rlimits;
pub mod seccomp;

/// Drop every capability (relevant when the worker runs as root: without
/// CAP_SYS_RESOURCE hard rlimits cannot be raised again, without
/// CAP_DAC_OVERRIDE/CAP_KILL/... root is much less powerful). Best effort.
pub fn drop_capabilities() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut hdr = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // Also empty the bounding set so nothing can be regained on exec (exec is
    // denied anyway).
    for cap in 0..64 {
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
    }
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut Header, data.as_ptr()) };
    rc == 0
}
