//! PEP 578 audit hook, installed from Rust with `PySys_AddAuditHook` before
//! the interpreter starts (so it cannot be removed, and it sees everything).
//!
//! While enforcing, dangerous events raise `PermissionError("tracecode
//! sandbox: denied <what>")` and the first denial of a run is recorded, so a
//! run is classified `sandbox_denied` even when user code swallows the error.
//! Unaudited APIs (`signal.signal`, thread start on 3.10/3.11, ...) are
//! replaced by stubs that raise the `tracecode.deny` audit event (see
//! `worker::BOOTSTRAP`).

use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::{Component, Path, PathBuf};

use pyo3::ffi;

extern "C" {
    fn PySys_AddAuditHook(
        hook: unsafe extern "C" fn(*const c_char, *mut ffi::PyObject, *mut c_void) -> c_int,
        user_data: *mut c_void,
    ) -> c_int;
}

/// Module names (top-level package) whose first import is refused.
pub const DENIED_IMPORTS: &[&str] = &[
    "ctypes",
    "_ctypes",
    "socket",
    "_socket",
    "subprocess",
    "_posixsubprocess",
    "multiprocessing",
    "_multiprocessing",
    "cffi",
    "_cffi_backend",
    "pty",
    "_testcapi",
    "_testinternalcapi",
    "_xxsubinterpreters",
    "_interpreters",
    "_xxinterpchannels",
    "_interpchannels",
];

/// Events refused outright.
const DENIED_EVENTS: &[&str] = &[
    "os.system",
    "os.exec",
    "os.fork",
    "os.forkpty",
    "os.posix_spawn",
    "os.spawn",
    "os.startfile",
    "os.kill",
    "os.killpg",
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.chdir",
    "os.chmod",
    "os.chown",
    "os.chflags",
    "os.lchflags",
    "os.link",
    "os.symlink",
    "os.truncate",
    "os.utime",
    "os.putenv",
    "os.unsetenv",
    "os.setxattr",
    "os.removexattr",
    "sys.settrace",
    "sys.setprofile",
    "sys._settraceallthreads",
    "sys._setprofileallthreads",
    "sys.addaudithook",
    "sys.remote_exec",
    "resource.setrlimit",
    "resource.prlimit",
    "setopencodehook",
    "signal.pthread_kill",
    "subprocess.Popen",
    "webbrowser.open",
];

/// Event-name prefixes refused outright.
const DENIED_PREFIXES: &[&str] = &[
    "socket.",
    "ctypes.",
    "_thread.",
    "shutil.",
    "tempfile.",
    "fcntl.",
    "sqlite3.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "poplib.",
    "imaplib.",
    "nntplib.",
    "telnetlib.",
    "pty.",
    "sys.monitoring.",
    "tracecode.deny",
    "winreg.",
    "msvcrt.",
    "_winapi.",
];

/// Process-wide hook state (the worker runs Python on one thread only).
pub struct AuditState {
    /// Off during start-up; on once the sandbox is in place.
    pub enforcing: bool,
    /// Positive while the worker itself performs audited operations (e.g.
    /// installing the C trace function raises `sys.settrace`).
    pub internal: u32,
    /// First denial since the last `take_denied`.
    pub denied: Option<String>,
    /// Lexically normalised absolute prefixes that may be opened for reading.
    pub read_prefixes: Vec<PathBuf>,
}

static mut STATE: AuditState = AuditState {
    enforcing: false,
    internal: 0,
    denied: None,
    read_prefixes: Vec::new(),
};

/// Access the hook state. Only called on the Python thread (GIL held or
/// before initialisation), so there is no concurrent access.
#[allow(static_mut_refs)]
pub fn state() -> &'static mut AuditState {
    unsafe { &mut STATE }
}

/// Take the recorded denial (at the end of a run).
pub fn take_denied() -> Option<String> {
    state().denied.take()
}

/// Run `f` with the hook temporarily permissive (worker-internal operations).
pub fn internal<R>(f: impl FnOnce() -> R) -> R {
    state().internal += 1;
    let r = f();
    state().internal -= 1;
    r
}

/// Install the hook. Call before `Py_InitializeFromConfig`.
pub fn install() -> bool {
    unsafe { PySys_AddAuditHook(hook, std::ptr::null_mut()) == 0 }
}

/// Lexical normalisation (no symlink resolution: Landlock checks real paths).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    let base = if p.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_else(|_| "/".into())
    };
    for c in base.components().chain(p.components()) {
        match c {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(s) => out.push(s),
        }
    }
    out
}

unsafe fn str_of(obj: *mut ffi::PyObject) -> Option<String> {
    if obj.is_null() {
        return None;
    }
    if ffi::PyUnicode_Check(obj) != 0 {
        let mut n: ffi::Py_ssize_t = 0;
        let p = ffi::PyUnicode_AsUTF8AndSize(obj, &mut n);
        if p.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let bytes = std::slice::from_raw_parts(p as *const u8, n as usize);
        return Some(String::from_utf8_lossy(bytes).into_owned());
    }
    if ffi::PyBytes_Check(obj) != 0 {
        let p = ffi::PyBytes_AsString(obj);
        let n = ffi::PyBytes_Size(obj);
        let bytes = std::slice::from_raw_parts(p as *const u8, n as usize);
        return Some(String::from_utf8_lossy(bytes).into_owned());
    }
    None
}

unsafe fn tuple_item(args: *mut ffi::PyObject, i: isize) -> *mut ffi::PyObject {
    if args.is_null() || ffi::PyTuple_Check(args) == 0 || ffi::PyTuple_Size(args) <= i {
        return std::ptr::null_mut();
    }
    ffi::PyTuple_GetItem(args, i)
}

/// Decide on one event; `Some(reason)` denies.
unsafe fn decide(event: &str, args: *mut ffi::PyObject) -> Option<String> {
    match event {
        // Hot, always-allowed events first.
        "exec" | "compile" | "object.__getattr__" | "object.__setattr__" | "object.__delattr__"
        | "marshal.loads" | "marshal.dumps" | "code.__new__" | "function.__new__"
        | "sys._getframe" | "builtins.id" => return None,
        "import" => {
            let name = str_of(tuple_item(args, 0)).unwrap_or_default();
            let top = name.split('.').next().unwrap_or("");
            if DENIED_IMPORTS.contains(&top) {
                return Some(format!("import {name}"));
            }
            return None;
        }
        "open" => return check_open(args),
        _ => {}
    }
    if DENIED_EVENTS.contains(&event) || DENIED_PREFIXES.iter().any(|p| event.starts_with(p)) {
        return Some(event.to_string());
    }
    None
}

unsafe fn check_open(args: *mut ffi::PyObject) -> Option<String> {
    let path = tuple_item(args, 0);
    let mode = tuple_item(args, 1);
    let flags = tuple_item(args, 2);
    if !path.is_null() && ffi::PyLong_Check(path) != 0 {
        return Some("open of a file descriptor".into());
    }
    if let Some(m) = str_of(mode) {
        if m.contains(['w', 'a', 'x', '+']) {
            return Some(format!("open for writing ({m})"));
        }
    }
    if !flags.is_null() && ffi::PyLong_Check(flags) != 0 {
        let f = ffi::PyLong_AsLong(flags);
        if f == -1 && !ffi::PyErr_Occurred().is_null() {
            ffi::PyErr_Clear();
        } else if f
            & (libc::O_WRONLY | libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND)
                as libc::c_long
            != 0
        {
            return Some("open for writing".into());
        }
    }
    let p = str_of(path)?;
    let norm = normalize(Path::new(&p));
    if state()
        .read_prefixes
        .iter()
        .any(|pre| norm.starts_with(pre))
    {
        None
    } else {
        Some(format!("open outside the sandbox: {p}"))
    }
}

unsafe extern "C" fn hook(
    event: *const c_char,
    args: *mut ffi::PyObject,
    _ud: *mut c_void,
) -> c_int {
    let st = state();
    if !st.enforcing || st.internal > 0 || event.is_null() {
        return 0;
    }
    let Ok(ev) = CStr::from_ptr(event).to_str() else {
        return 0;
    };
    match decide(ev, args) {
        None => 0,
        Some(reason) => {
            let msg = format!("tracecode sandbox: denied {reason}");
            if st.denied.is_none() {
                st.denied = Some(reason);
            }
            let c = std::ffi::CString::new(msg.replace('\0', "?")).unwrap_or_default();
            ffi::PyErr_SetString(ffi::PyExc_PermissionError, c.as_ptr());
            -1
        }
    }
}
