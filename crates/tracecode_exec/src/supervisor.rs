//! The parent side: a pool of sandboxed worker processes.
//!
//! Each worker talks over a private socketpair end inherited as fd 3 (stdin,
//! stdout and stderr go to /dev/null). Requests carry a fresh random nonce;
//! a reply with the wrong nonce, a malformed frame, or trailing bytes is a
//! protocol violation. Every read has a deadline (`wall_ms + kill_grace`);
//! on timeout, death, or violation the worker is killed and a fresh one is
//! started lazily for the next request. Workers are also recycled after any
//! abnormal run (timeout, memory, sandbox denial, crash) and every
//! `max_runs_per_worker` runs, to bound leftover interpreter state.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::protocol::{self, Hello, Reply, WorkerOptions, ENV_FD, ENV_OPTIONS, WORKER_FD};
use crate::types::{Limits, RunRequest, RunResult, RunStatus, SandboxConfig, SandboxReport};

/// How to run the worker pool.
#[derive(Debug, Clone)]
pub struct SupervisorConfig {
    /// Number of worker processes (default: available cores).
    pub workers: usize,
    /// Program and arguments that start a worker (it must call `worker_main`).
    pub worker_cmd: Vec<OsString>,
    /// Sandbox layers (all on by default; turning layers off is for tests).
    pub sandbox: SandboxConfig,
    /// Hard address-space ceiling of a worker; per-call `memory_bytes` is
    /// clamped to it (default 4 GiB).
    pub memory_ceiling: u64,
    /// Recycle a worker after this many runs (default 500).
    pub max_runs_per_worker: u32,
    /// Deadline for a worker to start and report ready (default 30 s).
    pub startup_timeout: Duration,
    /// Extra time beyond `wall_ms` before the supervisor kills a worker (default 1 s).
    pub kill_grace: Duration,
    /// Let workers write to the parent's stderr (debugging; default false).
    pub inherit_stderr: bool,
    /// Directories appended to the workers' `sys.path` (see [`WorkerOptions`]).
    pub python_path: Vec<std::path::PathBuf>,
    /// Modules every worker imports before its sandbox is armed.
    pub preload: Vec<String>,
}

impl SupervisorConfig {
    /// Defaults with the given worker command.
    pub fn new<I, S>(worker_cmd: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        SupervisorConfig {
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            worker_cmd: worker_cmd.into_iter().map(Into::into).collect(),
            sandbox: SandboxConfig::default(),
            memory_ceiling: 4 << 30,
            max_runs_per_worker: 500,
            startup_timeout: Duration::from_secs(30),
            kill_grace: Duration::from_millis(1000),
            inherit_stderr: false,
            python_path: Vec::new(),
            preload: Vec::new(),
        }
    }
}

struct WorkerProc {
    child: Child,
    sock: UnixStream,
    runs: u32,
}

impl Drop for WorkerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Pool {
    idle: Vec<WorkerProc>,
    live: usize,
}

/// A pool of sandboxed worker processes. `run` is thread-safe.
pub struct Supervisor {
    cfg: SupervisorConfig,
    pool: Mutex<Pool>,
    cv: Condvar,
    report: SandboxReport,
}

#[derive(Serialize)]
struct RequestRef<'a> {
    nonce: u64,
    module_source: &'a str,
    call: &'a str,
    limits: &'a Limits,
}

enum ReadErr {
    Timeout,
    Eof,
    Io(std::io::Error),
    Protocol(String),
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 8, 0) };
    if n != 8 {
        // Fallback: time and address entropy (getrandom cannot really fail here).
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        return t.as_nanos() as u64 ^ (&b as *const _ as u64).rotate_left(32);
    }
    u64::from_ne_bytes(b)
}

fn read_exact_deadline(
    sock: &mut UnixStream,
    buf: &mut [u8],
    deadline: Instant,
) -> Result<(), ReadErr> {
    let mut got = 0;
    while got < buf.len() {
        let now = Instant::now();
        if now >= deadline {
            return Err(ReadErr::Timeout);
        }
        let _ = sock.set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))));
        match sock.read(&mut buf[got..]) {
            Ok(0) => return Err(ReadErr::Eof),
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadErr::Io(e)),
        }
    }
    Ok(())
}

fn read_frame(sock: &mut UnixStream, deadline: Instant) -> Result<Vec<u8>, ReadErr> {
    let mut hdr = [0u8; 4];
    read_exact_deadline(sock, &mut hdr, deadline)?;
    let n = protocol::frame_len(hdr).map_err(ReadErr::Protocol)?;
    let mut body = vec![0u8; n];
    read_exact_deadline(sock, &mut body, deadline)?;
    Ok(body)
}

/// True if unread bytes follow the frame just read.
fn has_trailing_data(sock: &UnixStream) -> bool {
    let mut b = [0u8; 1];
    let n = unsafe {
        libc::recv(
            sock.as_raw_fd(),
            b.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n > 0
}

fn spawn_worker(cfg: &SupervisorConfig) -> Result<(WorkerProc, SandboxReport), String> {
    let Some(prog) = cfg.worker_cmd.first() else {
        return Err("empty worker command".into());
    };
    let (parent, child_end) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
    let child_fd = child_end.as_raw_fd();
    let opts = WorkerOptions {
        sandbox: cfg.sandbox,
        memory_ceiling: cfg.memory_ceiling,
        python_path: cfg.python_path.clone(),
        preload: cfg.preload.clone(),
    };
    let mut cmd = Command::new(prog);
    cmd.args(&cfg.worker_cmd[1..])
        .env(ENV_FD, WORKER_FD.to_string())
        .env(ENV_OPTIONS, serde_json::to_string(&opts).unwrap())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(if cfg.inherit_stderr {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    unsafe {
        cmd.pre_exec(move || {
            // Async-signal-safe only: move the child end to fd 3, without CLOEXEC.
            if child_fd == WORKER_FD {
                let fl = libc::fcntl(child_fd, libc::F_GETFD);
                if fl < 0 || libc::fcntl(child_fd, libc::F_SETFD, fl & !libc::FD_CLOEXEC) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(child_fd, WORKER_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot spawn worker {:?}: {e}", prog))?;
    drop(child_end);
    let mut w = WorkerProc {
        child,
        sock: parent,
        runs: 0,
    };
    let _ = w.sock.set_write_timeout(Some(Duration::from_secs(10)));
    let deadline = Instant::now() + cfg.startup_timeout;
    let body = match read_frame(&mut w.sock, deadline) {
        Ok(b) => b,
        Err(ReadErr::Timeout) => return Err("worker did not start in time".into()),
        Err(ReadErr::Protocol(p)) => return Err(format!("worker start: {p}")),
        Err(_) => {
            let status = w.child.wait().map(|s| format!("{s}")).unwrap_or_default();
            return Err(format!("worker exited during start-up ({status})"));
        }
    };
    let hello: Hello =
        serde_json::from_slice(&body).map_err(|e| format!("bad hello from worker: {e}"))?;
    if hello.protocol != protocol::PROTOCOL_VERSION {
        return Err(format!(
            "worker speaks protocol {}, expected {}",
            hello.protocol,
            protocol::PROTOCOL_VERSION
        ));
    }
    Ok((w, hello.sandbox))
}

/// Describe how a dead worker ended; SIGXCPU (RLIMIT_CPU) counts as a timeout.
fn classify_death(w: &mut WorkerProc) -> RunResult {
    let deadline = Instant::now() + Duration::from_secs(2);
    let status = loop {
        match w.child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = w.child.kill();
                break w.child.wait().ok();
            }
        }
    };
    match status {
        Some(s) if s.signal() == Some(libc::SIGXCPU) => {
            RunResult::failed(RunStatus::Timeout, "CPU time limit exceeded (SIGXCPU)")
        }
        Some(s) if s.signal().is_some() => RunResult::failed(
            RunStatus::Crashed,
            format!("worker killed by signal {}", s.signal().unwrap()),
        ),
        Some(s) => RunResult::failed(
            RunStatus::Crashed,
            format!("worker exited with code {}", s.code().unwrap_or(-1)),
        ),
        None => RunResult::failed(RunStatus::Crashed, "worker died"),
    }
}

impl Supervisor {
    /// Start the pool (one worker eagerly, to fail fast on a broken setup;
    /// the rest on demand).
    pub fn new(cfg: SupervisorConfig) -> Result<Self, String> {
        if cfg.workers == 0 {
            return Err("workers must be >= 1".into());
        }
        let (w, report) = spawn_worker(&cfg)?;
        Ok(Supervisor {
            cfg,
            pool: Mutex::new(Pool {
                idle: vec![w],
                live: 1,
            }),
            cv: Condvar::new(),
            report,
        })
    }

    /// The sandbox status reported by the first worker.
    pub fn sandbox_report(&self) -> &SandboxReport {
        &self.report
    }

    pub fn config(&self) -> &SupervisorConfig {
        &self.cfg
    }

    fn acquire(&self) -> Result<WorkerProc, String> {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(w) = pool.idle.pop() {
                return Ok(w);
            }
            if pool.live < self.cfg.workers {
                pool.live += 1;
                drop(pool);
                return spawn_worker(&self.cfg).map(|(w, _)| w).inspect_err(|_| {
                    let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
                    pool.live -= 1;
                    self.cv.notify_one();
                });
            }
            pool = self.cv.wait(pool).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn release(&self, w: WorkerProc, keep: bool) {
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if keep {
            pool.idle.push(w);
        } else {
            pool.live -= 1;
            drop(pool);
            drop(w); // kill + reap outside the lock
            pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        }
        drop(pool);
        self.cv.notify_one();
    }

    /// Run one request in a worker. Never panics on bad input; failures are
    /// reported through `RunResult::status`.
    pub fn run(&self, req: &RunRequest, limits: &Limits) -> RunResult {
        let start = Instant::now();
        let mut w = loop {
            match self.acquire() {
                // Bytes waiting on an idle worker's socket can only be a
                // protocol violation (e.g. a late forged frame): replace it.
                Ok(w) if has_trailing_data(&w.sock) => self.release(w, false),
                Ok(w) => break w,
                Err(e) => {
                    return RunResult::failed(
                        RunStatus::Crashed,
                        format!("cannot start worker: {e}"),
                    )
                }
            }
        };
        let nonce = random_u64();
        let frame = protocol::encode(&RequestRef {
            nonce,
            module_source: &req.module_source,
            call: &req.call,
            limits,
        });
        if frame.len() - 4 > protocol::MAX_FRAME {
            self.release(w, true);
            return RunResult::failed(RunStatus::BadInput, "request too large");
        }
        if let Err(e) = w.sock.write_all(&frame) {
            let mut r = classify_death(&mut w);
            r.detail = Some(format!(
                "cannot send request ({e}); {}",
                r.detail.unwrap_or_default()
            ));
            self.release(w, false);
            return r;
        }
        w.runs += 1;
        let deadline = Instant::now() + Duration::from_millis(limits.wall_ms) + self.cfg.kill_grace;
        let mut result = match read_frame(&mut w.sock, deadline) {
            Ok(body) => match serde_json::from_slice::<Reply>(&body) {
                Ok(reply) if reply.nonce != nonce => {
                    RunResult::failed(RunStatus::Crashed, "protocol violation: nonce mismatch")
                }
                Ok(_) if has_trailing_data(&w.sock) => RunResult::failed(
                    RunStatus::Crashed,
                    "protocol violation: unexpected extra data",
                ),
                Ok(reply) => reply.result,
                Err(e) => RunResult::failed(
                    RunStatus::Crashed,
                    format!("protocol violation: malformed reply ({e})"),
                ),
            },
            Err(ReadErr::Timeout) => {
                let _ = w.child.kill();
                RunResult::failed(
                    RunStatus::Timeout,
                    format!(
                        "wall-clock limit of {} ms exceeded; worker killed",
                        limits.wall_ms
                    ),
                )
            }
            Err(ReadErr::Protocol(p)) => {
                RunResult::failed(RunStatus::Crashed, format!("protocol violation: {p}"))
            }
            Err(ReadErr::Eof) => classify_death(&mut w),
            Err(ReadErr::Io(e)) => {
                let mut r = classify_death(&mut w);
                r.detail = Some(format!("{} ({e})", r.detail.unwrap_or_default()));
                r
            }
        };
        if result.duration_us == 0 {
            result.duration_us = start.elapsed().as_micros() as u64;
        }
        let keep = matches!(
            result.status,
            RunStatus::Returned | RunStatus::Raised | RunStatus::EventLimit | RunStatus::BadInput
        ) && w.runs < self.cfg.max_runs_per_worker
            && !result
                .detail
                .as_deref()
                .unwrap_or("")
                .starts_with("protocol violation");
        self.release(w, keep);
        result
    }

    /// Run many requests in parallel over the pool; results in input order.
    pub fn run_batch(&self, reqs: &[RunRequest], limits: &Limits) -> Vec<RunResult> {
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<RunResult>>> = reqs.iter().map(|_| Mutex::new(None)).collect();
        let threads = self.cfg.workers.min(reqs.len()).max(1);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= reqs.len() {
                        break;
                    }
                    let r = self.run(&reqs[i], limits);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                });
            }
        });
        slots
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .unwrap_or_else(|| RunResult::failed(RunStatus::Crashed, "not run"))
            })
            .collect()
    }
}
