//! Resource limits. Static limits are set once at start-up; the address-space
//! and CPU limits are re-armed for every call (soft limits below a fixed hard
//! ceiling, so user code cannot raise them even as root once capabilities are
//! dropped).

use libc::{rlimit, RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC};

fn set(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let lim = rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn get(resource: libc::__rlimit_resource_t) -> rlimit {
    let mut lim = rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe { libc::getrlimit(resource, &mut lim) };
    lim
}

/// Start-up limits: no file growth (SIGXFSZ ignored so writes fail with EFBIG
/// instead of killing us), few fds, no core dumps, no new processes (root is
/// exempt from RLIMIT_NPROC; seccomp covers that case), and the hard
/// address-space ceiling.
pub fn apply_static(memory_ceiling: u64) -> std::io::Result<()> {
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    set(RLIMIT_FSIZE, 0, 0)?;
    set(RLIMIT_CORE, 0, 0)?;
    set(RLIMIT_NOFILE, 64, 64)?;
    set(RLIMIT_NPROC, 0, 0)?;
    let cur = get(RLIMIT_AS);
    let hard = memory_ceiling.min(cur.rlim_max);
    set(RLIMIT_AS, hard, hard)?;
    Ok(())
}

/// CPU seconds this process has used so far.
fn cpu_seconds_used() -> u64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) as u64 + 1
}

/// Per-call limits: RLIMIT_AS soft limit (MemoryError beyond it) and an
/// RLIMIT_CPU soft limit a little above the wall budget, which stops C-level
/// loops (SIGXCPU kills the worker) even if the supervisor were slow.
pub fn apply_call(memory_bytes: u64, wall_ms: u64) {
    let as_lim = get(RLIMIT_AS);
    let soft = memory_bytes.min(as_lim.rlim_max);
    let _ = set(RLIMIT_AS, soft, as_lim.rlim_max);
    let cpu = get(RLIMIT_CPU);
    let want = cpu_seconds_used() + wall_ms.div_ceil(1000) + 2;
    let _ = set(RLIMIT_CPU, want.min(cpu.rlim_max), cpu.rlim_max);
}
