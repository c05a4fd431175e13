//! The worker process: one embedded CPython interpreter, sandboxed once at
//! start-up, serving run requests one at a time over the control socket.
//!
//! Every run gets a fresh module namespace; interpreter-wide state that user
//! code commonly touches (builtins, `sys.path`, `sys.modules` entries,
//! stdout/stderr, the recursion limit) is restored after each run, and the
//! supervisor recycles the worker after abnormal runs and every N runs.

use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use pyo3::ffi;

use crate::protocol::{self, Hello, Reply, Request, WorkerOptions, WORKER_FD};
use crate::repr;
use crate::sandbox::{self, audit};
use crate::tracer::Tracer;
use crate::types::{RunResult, RunStatus, SandboxReport};

/// `sys.base_prefix` of the interpreter this crate was built against.
pub const PYTHON_HOME: &str = env!("TRACECODE_PYTHON_HOME");

/// Filename given to the user module (its code objects are the traced ones).
pub const USER_FILENAME: &CStr = c"<tracecode>";
const CALL_FILENAME: &CStr = c"<tracecode-call>";
const STDOUT_CAP: usize = 4096;

/// Python-side helpers, run once before the sandbox is armed: warm imports,
/// the limit exception, stubs for unaudited dangerous APIs, stdout capture.
const BOOTSTRAP: &CStr = c"
import sys, builtins
for _m in ('abc', 'array', 'base64', 'binascii', 'bisect', 'calendar', 'cmath', 'collections',
           'collections.abc', 'contextlib', 'copy', 'dataclasses', 'datetime', 'decimal', 'difflib',
           'enum', 'fractions', 'functools', 'hashlib', 'heapq', 'inspect', 'io', 'itertools', 'json',
           'keyword', 'math', 'numbers', 'operator', 'pprint', 'random', 're', 'statistics', 'string',
           'struct', 'textwrap', 'time', 'traceback', 'types', 'typing', 'unicodedata', 'warnings',
           'weakref', 'zlib', 'signal', 'threading', 'linecache', 'tokenize', 'copyreg', 'locale'):
    try:
        __import__(_m)
    except BaseException:
        pass

class TracecodeLimit(BaseException):
    'Raised by the tracecode tracer when a per-call limit is exceeded.'

def _stub(name):
    def denied(*args, **kwargs):
        sys.audit('tracecode.deny', name)
        raise PermissionError('tracecode sandbox: denied ' + name)
    denied.__name__ = name.rsplit('.', 1)[-1]
    denied.__qualname__ = denied.__name__
    return denied

def _patch():
    import _signal, signal, _thread, threading
    sig = ('signal', 'setitimer', 'alarm', 'set_wakeup_fd', 'siginterrupt', 'pthread_kill',
           'raise_signal', 'pidfd_send_signal', 'sigwait', 'sigwaitinfo', 'sigtimedwait', 'pause',
           'pthread_sigmask')
    thr = ('start_new_thread', 'start_new', 'start_joinable_thread')
    for mod, names in ((_signal, sig), (signal, sig), (_thread, thr),
                       (threading, ('_start_new_thread', '_start_joinable_thread'))):
        for n in names:
            if hasattr(mod, n):
                setattr(mod, n, _stub(mod.__name__ + '.' + n))
_patch()
del _patch, _m

class Capture:
    'Bounded text sink used as sys.stdout / sys.stderr during a run.'
    def __init__(self, cap=4096):
        self.parts = []
        self.n = 0
        self.cap = cap
    def write(self, s):
        if not isinstance(s, str):
            raise TypeError('write() argument must be str, not ' + type(s).__name__)
        if self.n < self.cap:
            s2 = s[:self.cap - self.n]
            self.parts.append(s2)
            self.n += len(s2)
        return len(s)
    def writelines(self, lines):
        for s in lines:
            self.write(s)
    def flush(self):
        pass
    def isatty(self):
        return False
    def getvalue(self):
        return ''.join(self.parts)

def preload(request):
    'Appends the paths of a JSON request to sys.path, imports its modules; returns the failures.'
    import json, importlib
    request = json.loads(request)
    for p in request['paths']:
        if p not in sys.path:
            sys.path.append(p)
    errors = []
    for m in request['modules']:
        try:
            importlib.import_module(m)
        except BaseException as e:
            errors.append(m + ': ' + type(e).__name__ + ': ' + str(e)[:200])
    return json.dumps(errors)
";

/// Fatal start-up error: report on stderr and exit (the supervisor sees EOF).
fn die(msg: &str) -> ! {
    eprintln!("tracecode-worker: {msg}");
    unsafe { libc::_exit(70) }
}

unsafe fn getattr(obj: *mut ffi::PyObject, name: &CStr) -> *mut ffi::PyObject {
    let r = ffi::PyObject_GetAttrString(obj, name.as_ptr());
    if r.is_null() {
        ffi::PyErr_Clear();
    }
    r
}

unsafe fn pystr(s: &str) -> *mut ffi::PyObject {
    ffi::PyUnicode_FromStringAndSize(s.as_ptr() as *const c_char, s.len() as ffi::Py_ssize_t)
}

/// Fetch and normalise the pending exception as (type, value); owned refs.
/// (`PyErr_Fetch` is deprecated in 3.12 but works on every supported version.)
#[allow(deprecated)]
unsafe fn fetch_exception() -> Option<(*mut ffi::PyObject, *mut ffi::PyObject)> {
    if ffi::PyErr_Occurred().is_null() {
        return None;
    }
    let mut t = std::ptr::null_mut();
    let mut v = std::ptr::null_mut();
    let mut tb = std::ptr::null_mut();
    ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
    ffi::PyErr_NormalizeException(&mut t, &mut v, &mut tb);
    if !tb.is_null() {
        ffi::Py_DECREF(tb);
    }
    if v.is_null() {
        v = ffi::Py_None();
        ffi::Py_INCREF(v);
    }
    Some((t, v))
}

/// `str(obj)` bounded to `limit` chars (may run user code; runs untraced).
unsafe fn bounded_str(obj: *mut ffi::PyObject, limit: usize) -> String {
    let s = ffi::PyObject_Str(obj);
    if s.is_null() {
        ffi::PyErr_Clear();
        return "<str() failed>".into();
    }
    let text = repr::str_text(s).unwrap_or_default();
    ffi::Py_DECREF(s);
    if text.chars().count() > limit {
        let mut t: String = text.chars().take(limit.saturating_sub(3)).collect();
        t.push_str("...");
        t
    } else {
        text
    }
}

/// Long-lived interpreter state of the worker.
struct Worker {
    opts: WorkerOptions,
    builtins_mod: *mut ffi::PyObject,
    builtins_dict: *mut ffi::PyObject,
    builtins_snapshot: *mut ffi::PyObject,
    modules_snapshot: *mut ffi::PyObject,
    path_snapshot: *mut ffi::PyObject,
    orig_stdout: *mut ffi::PyObject,
    orig_stderr: *mut ffi::PyObject,
    recursion_limit: i32,
    limit_exc: *mut ffi::PyObject,
    capture_cls: *mut ffi::PyObject,
    json_dumps: *mut ffi::PyObject,
    gettrace: *mut ffi::PyObject,
    sentinel: *mut ffi::PyObject,
}

/// Initialise CPython with the baked-in home, isolated from the environment.
unsafe fn init_python() {
    let mut config: ffi::PyConfig = std::mem::zeroed();
    ffi::PyConfig_InitIsolatedConfig(&mut config);
    config.install_signal_handlers = 0;
    config.write_bytecode = 0;
    config.site_import = 1;
    config.parse_argv = 0;
    config.user_site_directory = 0;
    // A fixed hash seed: set and dict-of-str iteration orders (and so reprs and
    // traces) must not depend on which worker process ran the call.
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    let home = std::env::var("TRACECODE_PYTHON_HOME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or(PYTHON_HOME.into());
    if !home.is_empty() {
        let h = CString::new(home).unwrap_or_default();
        let st = ffi::PyConfig_SetBytesString(&mut config, &mut config.home, h.as_ptr());
        if ffi::PyStatus_Exception(st) != 0 {
            die("cannot set PyConfig.home");
        }
    }
    let st = ffi::Py_InitializeFromConfig(&config);
    ffi::PyConfig_Clear(&mut config);
    if ffi::PyStatus_Exception(st) != 0 {
        let msg = if st.err_msg.is_null() {
            "?".into()
        } else {
            CStr::from_ptr(st.err_msg).to_string_lossy()
        };
        die(&format!("Py_InitializeFromConfig failed: {msg}"));
    }
}

unsafe fn sys_str(name: &CStr) -> Option<String> {
    let o = ffi::PySys_GetObject(name.as_ptr());
    if o.is_null() || ffi::PyUnicode_Check(o) == 0 {
        return None;
    }
    repr::str_text(o)
}

/// Runs the bootstrap's `preload` with `opts`' paths and modules (before the
/// sandbox is armed, so the imports read what they need); the failures.
unsafe fn preload(function: *mut ffi::PyObject, opts: &WorkerOptions) -> Vec<String> {
    if opts.python_path.is_empty() && opts.preload.is_empty() {
        ffi::Py_DECREF(function);
        return Vec::new();
    }
    let request = serde_json::json!({
        "paths": opts.python_path.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>(),
        "modules": opts.preload,
    });
    let arg = pystr(&request.to_string());
    let out = ffi::PyObject_CallOneArg(function, arg);
    ffi::Py_DECREF(arg);
    ffi::Py_DECREF(function);
    if out.is_null() {
        ffi::PyErr_Clear();
        return vec!["preload failed".into()];
    }
    let text = repr::str_text(out).unwrap_or_default();
    ffi::Py_DECREF(out);
    serde_json::from_str(&text).unwrap_or_else(|_| vec![text])
}

/// Directories the sandboxed worker may read: the interpreter's prefixes and
/// `sys.path` entries, the system's shared libraries, a few device nodes.
unsafe fn readable_paths() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    for n in [
        c"prefix",
        c"base_prefix",
        c"exec_prefix",
        c"base_exec_prefix",
    ] {
        if let Some(s) = sys_str(n) {
            v.push(s.into());
        }
    }
    let path = ffi::PySys_GetObject(c"path".as_ptr());
    if !path.is_null() && ffi::PyList_Check(path) != 0 {
        for i in 0..ffi::PyList_Size(path) {
            let it = ffi::PyList_GetItem(path, i);
            if !it.is_null() && ffi::PyUnicode_Check(it) != 0 {
                if let Some(s) = repr::str_text(it) {
                    if !s.is_empty() {
                        v.push(s.into());
                    }
                }
            }
        }
    }
    for s in [
        "/usr/lib",
        "/usr/lib64",
        "/lib",
        "/lib64",
        "/etc/ld.so.cache",
        "/usr/share/zoneinfo",
        "/dev/null",
        "/dev/urandom",
    ] {
        v.push(s.into());
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for p in v {
        if p.exists() {
            let n = audit::normalize(&p);
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

impl Worker {
    unsafe fn start(opts: WorkerOptions) -> (Worker, SandboxReport) {
        let _ = std::env::set_current_dir("/");
        if opts.sandbox.audit && !audit::install() {
            die("PySys_AddAuditHook failed");
        }
        init_python();

        let main = ffi::PyImport_AddModule(c"__tracecode_bootstrap__".as_ptr());
        if main.is_null() {
            die("cannot create bootstrap module");
        }
        let ns = ffi::PyModule_GetDict(main);
        let builtins_mod = ffi::PyImport_ImportModule(c"builtins".as_ptr());
        ffi::PyDict_SetItemString(ns, c"__builtins__".as_ptr(), builtins_mod);
        let code = ffi::Py_CompileString(
            BOOTSTRAP.as_ptr(),
            c"<tracecode-bootstrap>".as_ptr(),
            ffi::Py_file_input,
        );
        if code.is_null() {
            ffi::PyErr_Print();
            die("bootstrap does not compile");
        }
        let r = ffi::PyEval_EvalCode(code, ns, ns);
        if r.is_null() {
            ffi::PyErr_Print();
            die("bootstrap failed");
        }
        ffi::Py_DECREF(r);
        let get = |k: &CStr| {
            let o = ffi::PyDict_GetItemString(ns, k.as_ptr());
            if o.is_null() {
                die(&format!("bootstrap lacks {k:?}"));
            }
            ffi::Py_INCREF(o);
            o
        };
        let preload_errors = preload(get(c"preload"), &opts);
        let limit_exc = get(c"TracecodeLimit");
        let capture_cls = get(c"Capture");
        let json = ffi::PyImport_ImportModule(c"json".as_ptr());
        if json.is_null() {
            die("cannot import json");
        }
        let json_dumps = getattr(json, c"dumps");
        let sys = ffi::PyImport_ImportModule(c"sys".as_ptr());
        let gettrace = getattr(sys, c"gettrace");
        let builtins_dict = ffi::PyModule_GetDict(builtins_mod);
        let modules = ffi::PySys_GetObject(c"modules".as_ptr());
        let path = ffi::PySys_GetObject(c"path".as_ptr());
        let orig_stdout = ffi::PySys_GetObject(c"stdout".as_ptr());
        let orig_stderr = ffi::PySys_GetObject(c"stderr".as_ptr());
        for o in [orig_stdout, orig_stderr] {
            if !o.is_null() {
                ffi::Py_INCREF(o);
            }
        }
        let sentinel = pystr("tracecode-tracer");
        let version = sys_str(c"version").unwrap_or_default();
        let read_paths = readable_paths();

        let worker = Worker {
            builtins_mod,
            builtins_dict,
            builtins_snapshot: ffi::PyDict_Copy(builtins_dict),
            modules_snapshot: ffi::PyDict_Copy(modules),
            path_snapshot: ffi::PySequence_List(path),
            orig_stdout,
            orig_stderr,
            recursion_limit: ffi::Py_GetRecursionLimit(),
            limit_exc,
            capture_cls,
            json_dumps,
            gettrace,
            sentinel,
            opts: opts.clone(),
        };

        // Only the control socket and stdio survive.
        let rc = libc::syscall(
            libc::SYS_close_range,
            (WORKER_FD + 1) as u32,
            u32::MAX,
            0u32,
        );
        if rc != 0 {
            for fd in (WORKER_FD + 1)..1024 {
                libc::close(fd);
            }
        }

        let mut report = SandboxReport {
            python_version: version.split_whitespace().next().unwrap_or("").to_string(),
            landlock: "disabled".into(),
            preload_errors,
            ..Default::default()
        };
        audit::state().read_prefixes = read_paths.clone();
        if opts.sandbox.rlimits {
            if let Err(e) = sandbox::rlimits::apply_static(opts.memory_ceiling) {
                die(&format!("setrlimit failed: {e}"));
            }
            report.rlimits = true;
        }
        report.capabilities_dropped = sandbox::drop_capabilities();
        // Required by Landlock and seccomp for unprivileged processes.
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if opts.sandbox.landlock {
            report.landlock = match sandbox::landlock::apply(&read_paths) {
                Ok(s) => s,
                Err(e) => e,
            };
        }
        if opts.sandbox.seccomp {
            if let Err(e) = sandbox::seccomp::apply(WORKER_FD) {
                die(&format!("seccomp failed: {e}"));
            }
            report.seccomp = true;
        }
        if opts.sandbox.audit {
            audit::state().enforcing = true;
            report.audit = true;
        }
        (worker, report)
    }

    /// Put back interpreter state that user code may have changed.
    unsafe fn restore(&self) {
        audit::internal(|| {
            ffi::PyDict_Clear(self.builtins_dict);
            ffi::PyDict_Update(self.builtins_dict, self.builtins_snapshot);
            let modules = ffi::PySys_GetObject(c"modules".as_ptr());
            if !modules.is_null() && ffi::PyDict_Check(modules) != 0 {
                let mut pos: ffi::Py_ssize_t = 0;
                let mut k = std::ptr::null_mut();
                let mut v = std::ptr::null_mut();
                while ffi::PyDict_Next(self.modules_snapshot, &mut pos, &mut k, &mut v) != 0 {
                    if ffi::PyDict_GetItem(modules, k) != v {
                        ffi::PyDict_SetItem(modules, k, v);
                    }
                }
            }
            let path = ffi::PySequence_List(self.path_snapshot);
            if !path.is_null() {
                ffi::PySys_SetObject(c"path".as_ptr(), path);
                ffi::Py_DECREF(path);
            }
            ffi::PySys_SetObject(c"stdout".as_ptr(), self.orig_stdout);
            ffi::PySys_SetObject(c"stderr".as_ptr(), self.orig_stderr);
            ffi::Py_SetRecursionLimit(self.recursion_limit);
            ffi::PyErr_Clear();
        });
    }

    unsafe fn run(&mut self, req: &Request) -> RunResult {
        let start = Instant::now();
        let limits = &req.limits;
        let mut res = self.run_inner(req, start);
        res.duration_us = start.elapsed().as_micros() as u64;
        if res.values.len() > limits.max_values {
            res.values.truncate(limits.max_values);
        }
        res
    }

    unsafe fn run_inner(&mut self, req: &Request, start: Instant) -> RunResult {
        let limits = &req.limits;
        if self.opts.sandbox.rlimits {
            sandbox::rlimits::apply_call(limits.memory_bytes, limits.wall_ms);
        }
        let (Ok(src), Ok(call)) = (
            CString::new(req.module_source.as_str()),
            CString::new(req.call.as_str()),
        ) else {
            return RunResult::failed(RunStatus::BadInput, "source or call contains a NUL byte");
        };
        let _ = audit::take_denied();

        let module_code =
            ffi::Py_CompileString(src.as_ptr(), USER_FILENAME.as_ptr(), ffi::Py_file_input);
        if module_code.is_null() {
            let msg = self.exception_text();
            self.restore();
            return RunResult::failed(
                RunStatus::BadInput,
                format!("module does not compile: {msg}"),
            );
        }
        let call_code =
            ffi::Py_CompileString(call.as_ptr(), CALL_FILENAME.as_ptr(), ffi::Py_eval_input);
        if call_code.is_null() {
            let msg = self.exception_text();
            ffi::Py_DECREF(module_code);
            self.restore();
            return RunResult::failed(RunStatus::BadInput, format!("call does not compile: {msg}"));
        }
        let user_filename = getattr(module_code, c"co_filename");

        let capture = ffi::PyObject_CallNoArgs(self.capture_cls);
        let sink = ffi::PyObject_CallNoArgs(self.capture_cls);
        audit::internal(|| {
            ffi::PySys_SetObject(c"stdout".as_ptr(), capture);
            ffi::PySys_SetObject(c"stderr".as_ptr(), sink);
        });
        let globals = ffi::PyDict_New();
        let name = pystr("__tracecode__");
        ffi::PyDict_SetItemString(globals, c"__name__".as_ptr(), name);
        ffi::Py_DECREF(name);
        ffi::PyDict_SetItemString(globals, c"__builtins__".as_ptr(), self.builtins_mod);

        let deadline = start + Duration::from_millis(limits.wall_ms);
        let mut tracer = Tracer::new(
            user_filename,
            self.limit_exc,
            limits.max_events,
            deadline,
            limits.repr_chars,
            limits.max_values,
        );
        ffi::Py_DECREF(user_filename);
        tracer.install(self.sentinel);

        let mut in_module = true;
        let mut result = ffi::PyEval_EvalCode(module_code, globals, globals);
        if !result.is_null() {
            ffi::Py_DECREF(result);
            in_module = false;
            tracer.recording = true;
            result = ffi::PyEval_EvalCode(call_code, globals, globals);
        }
        tracer.recording = false;
        let exc = if result.is_null() {
            fetch_exception()
        } else {
            None
        };
        // Is our trace function still the installed one?
        let cur = ffi::PyObject_CallNoArgs(self.gettrace);
        if cur != self.sentinel && tracer.tampered.is_none() {
            tracer.tampered = Some("tracer tampering: trace function replaced".into());
        }
        if !cur.is_null() {
            ffi::Py_DECREF(cur);
        }
        ffi::PyErr_Clear();
        tracer.uninstall();
        let denied = audit::take_denied();

        let mut res = RunResult {
            status: RunStatus::Returned,
            lines: std::mem::take(&mut tracer.lines),
            depths: std::mem::take(&mut tracer.depths),
            values: std::mem::take(&mut tracer.values),
            events: tracer.events,
            ..Default::default()
        };
        if let Some((t, v)) = exc {
            res.exception_type = Some(repr::type_name_of_type(t));
            res.exception_message = Some(bounded_str(v, 500));
            let is_mem = ffi::PyErr_GivenExceptionMatches(t, ffi::PyExc_MemoryError) != 0;
            let is_limit = ffi::PyErr_GivenExceptionMatches(t, self.limit_exc) != 0;
            res.status = if is_mem {
                RunStatus::MemoryLimit
            } else if is_limit {
                RunStatus::Timeout
            } else {
                RunStatus::Raised
            };
            if in_module {
                res.detail = Some("raised while executing the module body".into());
            }
            ffi::Py_DECREF(t);
            ffi::Py_DECREF(v);
        } else if !result.is_null() {
            res.return_repr = Some(repr::bounded_repr(result, limits.repr_chars));
            let mut budget: i64 = 100_000;
            if repr::json_plain(result, &mut budget, 0) {
                let j = ffi::PyObject_CallOneArg(self.json_dumps, result);
                if j.is_null() {
                    ffi::PyErr_Clear();
                } else {
                    res.return_json = repr::str_text(j);
                    ffi::Py_DECREF(j);
                }
            }
            ffi::Py_DECREF(result);
        }
        if let Some(t) = tracer.tripped {
            res.status = t;
            res.detail = Some(match t {
                RunStatus::EventLimit => format!("more than {} line events", limits.max_events),
                _ => format!("wall-clock limit of {} ms exceeded", limits.wall_ms),
            });
        } else if let Some(d) = denied {
            res.status = RunStatus::SandboxDenied;
            res.detail = Some(d);
        } else if let Some(t) = tracer.tampered.take() {
            res.status = RunStatus::SandboxDenied;
            res.detail = Some(t);
        }
        if tracer.values_dropped > 0 && res.detail.is_none() {
            res.detail = Some(format!(
                "{} value writes dropped (max_values)",
                tracer.values_dropped
            ));
        }
        drop(tracer);

        let out = getattr(capture, c"parts");
        if !out.is_null() {
            let empty = pystr("");
            let joined = ffi::PyUnicode_Join(empty, out);
            ffi::Py_DECREF(empty);
            if !joined.is_null() {
                let mut s = repr::str_text(joined).unwrap_or_default();
                if s.len() > STDOUT_CAP {
                    let mut cut = STDOUT_CAP;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                }
                res.stdout = s;
                ffi::Py_DECREF(joined);
            }
            ffi::Py_DECREF(out);
        }
        ffi::PyErr_Clear();
        ffi::PyDict_Clear(globals);
        ffi::Py_DECREF(globals);
        ffi::Py_DECREF(module_code);
        ffi::Py_DECREF(call_code);
        for o in [capture, sink] {
            if !o.is_null() {
                ffi::Py_DECREF(o);
            }
        }
        self.restore();
        let _ = audit::take_denied();
        res
    }

    /// Text of the pending exception (for compile errors), clearing it.
    unsafe fn exception_text(&self) -> String {
        match fetch_exception() {
            Some((t, v)) => {
                let s = format!("{}: {}", repr::type_name_of_type(t), bounded_str(v, 300));
                ffi::Py_DECREF(t);
                ffi::Py_DECREF(v);
                s
            }
            None => "unknown error".into(),
        }
    }
}

fn recv_exact(buf: &mut [u8]) -> bool {
    let mut got = 0;
    while got < buf.len() {
        let n = unsafe {
            libc::recv(
                WORKER_FD,
                buf[got..].as_mut_ptr().cast(),
                buf.len() - got,
                0,
            )
        };
        if n == 0 {
            return false;
        }
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return false;
        }
        got += n as usize;
    }
    true
}

fn send_all(buf: &[u8]) -> bool {
    let mut sent = 0;
    while sent < buf.len() {
        let n = unsafe {
            libc::send(
                WORKER_FD,
                buf[sent..].as_ptr().cast(),
                buf.len() - sent,
                libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return false;
        }
        sent += n as usize;
    }
    true
}

fn read_request() -> Option<Request> {
    let mut hdr = [0u8; 4];
    if !recv_exact(&mut hdr) {
        return None;
    }
    let n = protocol::frame_len(hdr).ok()?;
    let mut body = vec![0u8; n];
    if !recv_exact(&mut body) {
        return None;
    }
    serde_json::from_slice(&body).ok()
}

/// Entry point of a worker process (the `tracecode-worker` binary, or the
/// CLI's hidden `__worker` subcommand). Never returns.
///
/// Expects the control socket on fd 3 (`TRACECODE_WORKER_FD=3`) and options
/// in `TRACECODE_WORKER_OPTIONS`; exits 0 when the supervisor closes the socket.
pub fn worker_main() -> ! {
    if std::env::var(protocol::ENV_FD)
        .ok()
        .and_then(|s| s.parse::<i32>().ok())
        != Some(WORKER_FD)
    {
        die("not started by a tracecode supervisor (TRACECODE_WORKER_FD must be 3)");
    }
    let opts: WorkerOptions = match std::env::var(protocol::ENV_OPTIONS) {
        Ok(s) => serde_json::from_str(&s).unwrap_or_else(|e| die(&format!("bad options: {e}"))),
        Err(_) => WorkerOptions {
            memory_ceiling: 4 << 30,
            ..Default::default()
        },
    };
    let (mut worker, report) = unsafe { Worker::start(opts) };
    let hello = Hello {
        protocol: protocol::PROTOCOL_VERSION,
        pid: std::process::id(),
        sandbox: report,
    };
    if !send_all(&protocol::encode(&hello)) {
        unsafe { libc::_exit(0) };
    }
    while let Some(req) = read_request() {
        let result = unsafe { worker.run(&req) };
        let reply = Reply {
            nonce: req.nonce,
            result,
        };
        if !send_all(&protocol::encode(&reply)) {
            break;
        }
    }
    // Skip interpreter finalisation: nothing to flush, and user objects'
    // finalisers must not run outside a request.
    unsafe { libc::_exit(0) }
}
