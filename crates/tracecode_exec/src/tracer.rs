//! The C-level trace function (`PyEval_SetTrace`) and the per-run trace state.
//!
//! Hot-path design:
//! * user frames are recognised by their code object (one-entry cache, then a
//!   small map holding strong refs), the map filled by comparing `co_filename`
//!   with the user module's filename object;
//! * library frames get `f_trace_lines = False` on their call event, so they
//!   produce no further line events at all;
//! * the value log diffs bounded reprs of a frame's locals against the
//!   previous snapshot of that frame; unchanged immutable scalars (same object,
//!   kept alive by the snapshot so the address cannot be reused) skip the repr.
//! * limits: the event cap is checked on every line, the wall clock every 64
//!   events; once tripped every later call/line event raises again
//!   (`TracecodeLimit`, a `BaseException`), so `except:` cannot swallow it.
//!
//! CPython does not call the trace function for code run *inside* it (e.g. a
//! user `__repr__` invoked while we compute reprs), so that code is neither
//! traced nor able to recurse into the tracer.

use std::collections::HashMap;
use std::ffi::c_int;
use std::time::Instant;

use pyo3::ffi;

use crate::repr::{self, ReprBuf};
use crate::types::{RunStatus, ValueWrite};

struct Var {
    name: *mut ffi::PyObject,
    obj: *mut ffi::PyObject,
    repr: String,
}

struct FrameSnap {
    frame: *mut ffi::PyObject,
    last_step: Option<u32>,
    vars: Vec<Var>,
}

impl FrameSnap {
    unsafe fn release(&mut self) {
        for v in self.vars.drain(..) {
            ffi::Py_DECREF(v.name);
            ffi::Py_DECREF(v.obj);
        }
    }
}

/// Trace state of the current run.
pub struct Tracer {
    /// Record lines/values (false while the module body executes).
    pub recording: bool,
    user_filename: *mut ffi::PyObject,
    last_code: *mut ffi::PyObject,
    last_user: bool,
    code_cache: HashMap<usize, bool>,
    stack: Vec<FrameSnap>,
    pub lines: Vec<u32>,
    pub depths: Vec<u16>,
    pub values: Vec<ValueWrite>,
    pub values_dropped: u64,
    pub events: u64,
    ticks: u64,
    max_events: u64,
    deadline: Instant,
    repr_chars: usize,
    max_values: usize,
    pub tripped: Option<RunStatus>,
    pub tampered: Option<String>,
    limit_exc: *mut ffi::PyObject,
    s_f_locals: *mut ffi::PyObject,
    s_f_trace_lines: *mut ffi::PyObject,
    s_co_filename: *mut ffi::PyObject,
    buf: ReprBuf,
}

static mut CURRENT: *mut Tracer = std::ptr::null_mut();

unsafe fn intern(s: &std::ffi::CStr) -> *mut ffi::PyObject {
    ffi::PyUnicode_InternFromString(s.as_ptr())
}

impl Tracer {
    /// `limit_exc` is the `TracecodeLimit` class (borrowed; kept alive by the worker).
    ///
    /// # Safety
    /// The caller holds the GIL; object pointers are valid Python objects.
    pub unsafe fn new(
        user_filename: *mut ffi::PyObject,
        limit_exc: *mut ffi::PyObject,
        max_events: u64,
        deadline: Instant,
        repr_chars: usize,
        max_values: usize,
    ) -> Box<Tracer> {
        ffi::Py_INCREF(user_filename);
        Box::new(Tracer {
            recording: false,
            user_filename,
            last_code: std::ptr::null_mut(),
            last_user: false,
            code_cache: HashMap::new(),
            stack: Vec::new(),
            lines: Vec::new(),
            depths: Vec::new(),
            values: Vec::new(),
            values_dropped: 0,
            events: 0,
            ticks: 0,
            max_events,
            deadline,
            repr_chars,
            max_values,
            tripped: None,
            tampered: None,
            limit_exc,
            s_f_locals: intern(c"f_locals"),
            s_f_trace_lines: intern(c"f_trace_lines"),
            s_co_filename: intern(c"co_filename"),
            buf: ReprBuf::new(),
        })
    }

    /// Make `self` the active tracer and install the C trace function.
    /// `traceobj` is the sentinel reported by `sys.gettrace()`.
    ///
    /// # Safety
    /// The caller holds the GIL; object pointers are valid Python objects.
    pub unsafe fn install(self: &mut Box<Self>, traceobj: *mut ffi::PyObject) {
        CURRENT = &mut **self as *mut Tracer;
        crate::sandbox::audit::internal(|| ffi::PyEval_SetTrace(Some(trace_fn), traceobj));
    }

    /// Remove the trace function; flush and release all frame snapshots.
    ///
    /// # Safety
    /// The caller holds the GIL; object pointers are valid Python objects.
    pub unsafe fn uninstall(&mut self) {
        crate::sandbox::audit::internal(|| ffi::PyEval_SetTrace(None, std::ptr::null_mut()));
        CURRENT = std::ptr::null_mut();
        for mut s in self.stack.drain(..) {
            s.release();
        }
        for (&code, _) in self.code_cache.iter() {
            ffi::Py_DECREF(code as *mut ffi::PyObject);
        }
        self.code_cache.clear();
        self.last_code = std::ptr::null_mut();
    }

    unsafe fn is_user(&mut self, frame: *mut ffi::PyFrameObject) -> bool {
        let code = ffi::PyFrame_GetCode(frame) as *mut ffi::PyObject;
        if code.is_null() {
            ffi::PyErr_Clear();
            return false;
        }
        // The frame keeps the code alive; drop our new reference at once.
        ffi::Py_DECREF(code);
        if code == self.last_code {
            return self.last_user;
        }
        let user = match self.code_cache.get(&(code as usize)) {
            Some(&u) => u,
            None => {
                let fname = ffi::PyObject_GetAttr(code, self.s_co_filename);
                let u = if fname.is_null() {
                    ffi::PyErr_Clear();
                    false
                } else {
                    let u = fname == self.user_filename
                        || ffi::PyUnicode_Compare(fname, self.user_filename) == 0;
                    ffi::Py_DECREF(fname);
                    u
                };
                ffi::PyErr_Clear();
                ffi::Py_INCREF(code);
                self.code_cache.insert(code as usize, u);
                u
            }
        };
        self.last_code = code;
        self.last_user = user;
        user
    }

    unsafe fn raise_limit(&self) -> c_int {
        let msg = match self.tripped {
            Some(RunStatus::EventLimit) => c"tracecode: event limit exceeded",
            _ => c"tracecode: time limit exceeded",
        };
        ffi::PyErr_SetString(self.limit_exc, msg.as_ptr());
        -1
    }

    /// Diff the frame's locals against snapshot `idx`; writes go to `step`.
    unsafe fn diff(&mut self, frame: *mut ffi::PyObject, idx: usize, step: u32) {
        let locals = ffi::PyObject_GetAttr(frame, self.s_f_locals);
        if locals.is_null() {
            ffi::PyErr_Clear();
            return;
        }
        if ffi::PyDict_Check(locals) != 0 {
            let mut pos: ffi::Py_ssize_t = 0;
            let mut k: *mut ffi::PyObject = std::ptr::null_mut();
            let mut v: *mut ffi::PyObject = std::ptr::null_mut();
            while ffi::PyDict_Next(locals, &mut pos, &mut k, &mut v) != 0 {
                ffi::Py_INCREF(k);
                ffi::Py_INCREF(v);
                self.observe(idx, k, v, step);
                ffi::Py_DECREF(k);
                ffi::Py_DECREF(v);
            }
        } else {
            // 3.13+: a FrameLocalsProxy.
            let items = ffi::PyMapping_Items(locals);
            if items.is_null() {
                ffi::PyErr_Clear();
            } else {
                let n = ffi::PyList_Size(items);
                for i in 0..n {
                    let pair = ffi::PyList_GetItem(items, i);
                    if pair.is_null()
                        || ffi::PyTuple_Check(pair) == 0
                        || ffi::PyTuple_Size(pair) != 2
                    {
                        ffi::PyErr_Clear();
                        continue;
                    }
                    let k = ffi::PyTuple_GetItem(pair, 0);
                    let v = ffi::PyTuple_GetItem(pair, 1);
                    self.observe(idx, k, v, step);
                }
                ffi::Py_DECREF(items);
            }
        }
        ffi::Py_DECREF(locals);
    }

    unsafe fn observe(
        &mut self,
        idx: usize,
        k: *mut ffi::PyObject,
        v: *mut ffi::PyObject,
        step: u32,
    ) {
        let snap = &mut self.stack[idx];
        let pos = snap.vars.iter().position(|var| var.name == k).or_else(|| {
            snap.vars
                .iter()
                .position(|var| ffi::PyUnicode_Compare(var.name, k) == 0)
        });
        ffi::PyErr_Clear();
        if let Some(i) = pos {
            if snap.vars[i].obj == v && immutable(v) {
                return;
            }
        }
        self.buf.reset(self.repr_chars);
        repr::write_repr(&mut self.buf, v);
        self.buf.finish();
        let snap = &mut self.stack[idx];
        let changed = match pos {
            Some(i) => {
                let var = &mut snap.vars[i];
                ffi::Py_INCREF(v);
                ffi::Py_DECREF(var.obj);
                var.obj = v;
                if var.repr != self.buf.s {
                    var.repr.clear();
                    var.repr.push_str(&self.buf.s);
                    true
                } else {
                    false
                }
            }
            None => {
                ffi::Py_INCREF(k);
                ffi::Py_INCREF(v);
                snap.vars.push(Var {
                    name: k,
                    obj: v,
                    repr: self.buf.s.clone(),
                });
                true
            }
        };
        if changed {
            if self.values.len() < self.max_values {
                self.values.push(ValueWrite {
                    step,
                    name: repr::str_text(k).unwrap_or_default(),
                    repr: self.buf.s.clone(),
                    type_name: repr::type_name(v),
                });
            } else {
                self.values_dropped += 1;
            }
        }
    }

    unsafe fn on_line(&mut self, frame: *mut ffi::PyFrameObject) -> c_int {
        if !self.recording || !self.is_user(frame) {
            return 0;
        }
        self.events += 1;
        if self.events > self.max_events {
            self.tripped = Some(RunStatus::EventLimit);
            return self.raise_limit();
        }
        let step = self.lines.len() as u32;
        let fobj = frame as *mut ffi::PyObject;
        let idx = match self.stack.iter().rposition(|s| s.frame == fobj) {
            Some(i) => i,
            None => {
                self.stack.push(FrameSnap {
                    frame: fobj,
                    last_step: None,
                    vars: Vec::new(),
                });
                self.stack.len() - 1
            }
        };
        let attribute_to = self.stack[idx].last_step.unwrap_or(step);
        self.diff(fobj, idx, attribute_to);
        self.stack[idx].last_step = Some(step);
        self.lines
            .push(ffi::PyFrame_GetLineNumber(frame).max(0) as u32);
        self.depths.push(idx.min(u16::MAX as usize) as u16);
        0
    }

    unsafe fn on_call(&mut self, frame: *mut ffi::PyFrameObject) -> c_int {
        if !self.is_user(frame) {
            // Library frame: no line events for it from now on.
            if ffi::PyObject_SetAttr(
                frame as *mut ffi::PyObject,
                self.s_f_trace_lines,
                ffi::Py_False(),
            ) != 0
            {
                ffi::PyErr_Clear();
            }
            return 0;
        }
        if self.recording {
            self.stack.push(FrameSnap {
                frame: frame as *mut ffi::PyObject,
                last_step: None,
                vars: Vec::new(),
            });
        }
        0
    }

    unsafe fn on_return(&mut self, frame: *mut ffi::PyFrameObject) -> c_int {
        if !self.recording || !self.is_user(frame) {
            return 0;
        }
        let fobj = frame as *mut ffi::PyObject;
        // Tracer tampering: user code switched line events off for its frame.
        let tl = ffi::PyObject_GetAttr(fobj, self.s_f_trace_lines);
        if tl.is_null() {
            ffi::PyErr_Clear();
        } else {
            if tl == ffi::Py_False() && self.tampered.is_none() {
                self.tampered = Some("tracer tampering: f_trace_lines switched off".into());
            }
            ffi::Py_DECREF(tl);
        }
        if let Some(idx) = self.stack.iter().rposition(|s| s.frame == fobj) {
            if let Some(step) = self.stack[idx].last_step {
                self.diff(fobj, idx, step);
            }
            // Frames above it (should not exist) are dropped with it.
            while self.stack.len() > idx {
                let mut s = self.stack.pop().unwrap();
                s.release();
            }
        }
        0
    }
}

/// Exact built-in scalar types whose value cannot change in place.
unsafe fn immutable(v: *mut ffi::PyObject) -> bool {
    v == ffi::Py_None()
        || ffi::PyLong_CheckExact(v) != 0
        || ffi::PyUnicode_CheckExact(v) != 0
        || ffi::PyFloat_CheckExact(v) != 0
        || ffi::PyBool_Check(v) != 0
        || ffi::PyBytes_CheckExact(v) != 0
        || ffi::PyComplex_CheckExact(v) != 0
}

unsafe extern "C" fn trace_fn(
    _obj: *mut ffi::PyObject,
    frame: *mut ffi::PyFrameObject,
    what: c_int,
    _arg: *mut ffi::PyObject,
) -> c_int {
    let t = CURRENT;
    if t.is_null() || frame.is_null() {
        return 0;
    }
    let t = &mut *t;
    t.ticks += 1;
    if t.ticks & 63 == 0 && t.tripped.is_none() && Instant::now() >= t.deadline {
        t.tripped = Some(RunStatus::Timeout);
    }
    if t.tripped.is_some() {
        return if what == ffi::PyTrace_LINE || what == ffi::PyTrace_CALL {
            t.raise_limit()
        } else {
            0
        };
    }
    match what {
        ffi::PyTrace_LINE => t.on_line(frame),
        ffi::PyTrace_CALL => t.on_call(frame),
        ffi::PyTrace_RETURN => t.on_return(frame),
        _ => 0,
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        unsafe {
            if std::ptr::eq(CURRENT, self as *mut Tracer) {
                self.uninstall();
            }
            for mut s in self.stack.drain(..) {
                s.release();
            }
            ffi::Py_DECREF(self.user_filename);
            ffi::Py_DECREF(self.s_f_locals);
            ffi::Py_DECREF(self.s_f_trace_lines);
            ffi::Py_DECREF(self.s_co_filename);
        }
    }
}
