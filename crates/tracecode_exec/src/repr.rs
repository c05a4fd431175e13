//! Bounded reprs computed in Rust.
//!
//! Built-in scalars and containers are rendered directly with a character
//! budget, so a 10M-element list costs ~budget work instead of a full
//! `repr()`. Other objects fall back to `PyObject_Repr` (C or user code) and
//! are truncated. The output matches `repr()` whenever it fits the budget;
//! otherwise it is cut to `limit - 3` chars followed by `...`.

use std::ffi::CStr;

use pyo3::ffi;

/// Output buffer with a character budget.
pub struct ReprBuf {
    pub s: String,
    chars: usize,
    limit: usize,
    /// Set once something did not fit.
    pub full: bool,
    /// Containers currently being rendered (cycle detection).
    stack: Vec<*mut ffi::PyObject>,
}

const MAX_DEPTH: usize = 24;
/// Ints above this many bits are summarised instead of converted to decimal.
const MAX_INT_BITS: u64 = 4000;

impl ReprBuf {
    pub fn new() -> Self {
        ReprBuf {
            s: String::with_capacity(128),
            chars: 0,
            limit: 60,
            full: false,
            stack: Vec::new(),
        }
    }

    pub fn reset(&mut self, limit: usize) {
        self.s.clear();
        self.chars = 0;
        self.limit = limit.max(4);
        self.full = false;
        self.stack.clear();
    }

    pub fn push(&mut self, t: &str) {
        if self.full {
            return;
        }
        // Fast path: ASCII that fits.
        if t.is_ascii() && self.chars + t.len() <= self.limit {
            self.s.push_str(t);
            self.chars += t.len();
            return;
        }
        for ch in t.chars() {
            if self.chars >= self.limit {
                self.full = true;
                return;
            }
            self.s.push(ch);
            self.chars += 1;
        }
    }

    /// Apply the `...` marker if the budget was exceeded.
    pub fn finish(&mut self) {
        if self.full {
            let keep = self.limit.saturating_sub(3);
            let cut = self
                .s
                .char_indices()
                .nth(keep)
                .map(|(i, _)| i)
                .unwrap_or(self.s.len());
            self.s.truncate(cut);
            self.s.push_str("...");
        }
    }
}

impl Default for ReprBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// `tp_name` of the object's type (e.g. `int`, `numpy.ndarray`).
///
/// # Safety
/// The caller holds the GIL and every object pointer is a valid (borrowed) Python object.
pub unsafe fn type_name(obj: *mut ffi::PyObject) -> String {
    let tp = ffi::Py_TYPE(obj);
    let name = (*tp).tp_name;
    if name.is_null() {
        return "?".into();
    }
    CStr::from_ptr(name).to_string_lossy().into_owned()
}

/// The text of a `str` object (lossy), or None.
///
/// # Safety
/// The caller holds the GIL and every object pointer is a valid (borrowed) Python object.
pub unsafe fn str_text(obj: *mut ffi::PyObject) -> Option<String> {
    let mut n: ffi::Py_ssize_t = 0;
    let p = ffi::PyUnicode_AsUTF8AndSize(obj, &mut n);
    if p.is_null() {
        ffi::PyErr_Clear();
        return None;
    }
    Some(
        String::from_utf8_lossy(std::slice::from_raw_parts(p as *const u8, n as usize))
            .into_owned(),
    )
}

/// Push the text of a `str` object, reading at most the remaining budget.
unsafe fn push_pystr(buf: &mut ReprBuf, s: *mut ffi::PyObject) {
    let mut n: ffi::Py_ssize_t = 0;
    let p = ffi::PyUnicode_AsUTF8AndSize(s, &mut n);
    if p.is_null() {
        ffi::PyErr_Clear();
        buf.push("<?>");
        return;
    }
    let bytes = std::slice::from_raw_parts(p as *const u8, n as usize);
    // A prefix of the UTF-8 bytes is enough to fill the budget.
    let want = ((buf.limit - buf.chars.min(buf.limit)) + 1) * 4;
    let slice = if bytes.len() > want {
        &bytes[..want]
    } else {
        bytes
    };
    buf.push(&String::from_utf8_lossy(slice));
    if bytes.len() > want {
        buf.full = true;
    }
}

/// Push `repr(obj)` computed by CPython (may run user code), truncated.
unsafe fn push_generic(buf: &mut ReprBuf, obj: *mut ffi::PyObject) {
    let r = ffi::PyObject_Repr(obj);
    if r.is_null() {
        ffi::PyErr_Clear();
        buf.push("<");
        buf.push(&type_name(obj));
        buf.push(" object (repr failed)>");
        return;
    }
    if ffi::PyUnicode_Check(r) != 0 {
        push_pystr(buf, r);
    }
    ffi::Py_DECREF(r);
}

/// Render `obj` into `buf` (call `buf.reset` first and `buf.finish` after).
///
/// # Safety
/// The caller holds the GIL and every object pointer is a valid (borrowed) Python object.
pub unsafe fn write_repr(buf: &mut ReprBuf, obj: *mut ffi::PyObject) {
    if buf.full {
        return;
    }
    if obj == ffi::Py_None() {
        return buf.push("None");
    }
    if obj == ffi::Py_True() {
        return buf.push("True");
    }
    if obj == ffi::Py_False() {
        return buf.push("False");
    }
    if ffi::PyLong_CheckExact(obj) != 0 {
        let mut overflow = 0;
        let v = ffi::PyLong_AsLongLongAndOverflow(obj, &mut overflow);
        if overflow == 0 && (v != -1 || ffi::PyErr_Occurred().is_null()) {
            return buf.push(&v.to_string());
        }
        ffi::PyErr_Clear();
        let bits = int_bits(obj);
        if bits > MAX_INT_BITS {
            return buf.push(&format!("<int with {bits} bits>"));
        }
        return push_generic(buf, obj);
    }
    if ffi::PyFloat_CheckExact(obj) != 0 || ffi::PyComplex_CheckExact(obj) != 0 {
        return push_generic(buf, obj);
    }
    if ffi::PyUnicode_CheckExact(obj) != 0 {
        let n = ffi::PyUnicode_GetLength(obj);
        let cap = (buf.limit + 2) as ffi::Py_ssize_t;
        if n > cap {
            let sub = ffi::PyUnicode_Substring(obj, 0, cap);
            if sub.is_null() {
                ffi::PyErr_Clear();
                return buf.push("<str>");
            }
            push_generic(buf, sub);
            ffi::Py_DECREF(sub);
            buf.full = true;
            return;
        }
        return push_generic(buf, obj);
    }
    if ffi::PyBytes_CheckExact(obj) != 0 {
        let n = ffi::PyBytes_Size(obj);
        let cap = (buf.limit + 2) as ffi::Py_ssize_t;
        if n > cap {
            let sub = ffi::PyBytes_FromStringAndSize(ffi::PyBytes_AsString(obj), cap);
            if sub.is_null() {
                ffi::PyErr_Clear();
                return buf.push("<bytes>");
            }
            push_generic(buf, sub);
            ffi::Py_DECREF(sub);
            buf.full = true;
            return;
        }
        return push_generic(buf, obj);
    }
    let is_list = ffi::PyList_CheckExact(obj) != 0;
    let is_tuple = ffi::PyTuple_CheckExact(obj) != 0;
    let is_dict = ffi::PyDict_CheckExact(obj) != 0;
    let is_set = ffi::PySet_CheckExact(obj) != 0;
    let is_fset = ffi::PyFrozenSet_CheckExact(obj) != 0;
    if !(is_list || is_tuple || is_dict || is_set || is_fset) {
        return push_generic(buf, obj);
    }
    if buf.stack.contains(&obj) {
        return buf.push(if is_list {
            "[...]"
        } else if is_dict {
            "{...}"
        } else {
            "(...)"
        });
    }
    if buf.stack.len() >= MAX_DEPTH {
        buf.push("...");
        buf.full = true;
        return;
    }
    buf.stack.push(obj);
    if is_list || is_tuple {
        let (open, close) = if is_list { ("[", "]") } else { ("(", ")") };
        buf.push(open);
        let mut i = 0;
        loop {
            if buf.full {
                break;
            }
            // Re-read the size every step: a user __repr__ may mutate the list.
            let n = if is_list {
                ffi::PyList_Size(obj)
            } else {
                ffi::PyTuple_Size(obj)
            };
            if i >= n {
                if is_tuple && n == 1 {
                    buf.push(",");
                }
                break;
            }
            let item = if is_list {
                ffi::PyList_GetItem(obj, i)
            } else {
                ffi::PyTuple_GetItem(obj, i)
            };
            if item.is_null() {
                ffi::PyErr_Clear();
                break;
            }
            if i > 0 {
                buf.push(", ");
            }
            ffi::Py_INCREF(item);
            write_repr(buf, item);
            ffi::Py_DECREF(item);
            i += 1;
        }
        buf.push(close);
    } else if is_dict {
        buf.push("{");
        let mut pos: ffi::Py_ssize_t = 0;
        let mut k: *mut ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut ffi::PyObject = std::ptr::null_mut();
        let mut first = true;
        while !buf.full && ffi::PyDict_Next(obj, &mut pos, &mut k, &mut v) != 0 {
            if !first {
                buf.push(", ");
            }
            first = false;
            ffi::Py_INCREF(k);
            ffi::Py_INCREF(v);
            write_repr(buf, k);
            buf.push(": ");
            write_repr(buf, v);
            ffi::Py_DECREF(k);
            ffi::Py_DECREF(v);
        }
        buf.push("}");
    } else {
        let n = ffi::PySet_Size(obj);
        if n == 0 {
            buf.push(if is_set { "set()" } else { "frozenset()" });
        } else {
            buf.push(if is_set { "{" } else { "frozenset({" });
            let it = ffi::PyObject_GetIter(obj);
            if !it.is_null() {
                let mut first = true;
                while !buf.full {
                    let item = ffi::PyIter_Next(it);
                    if item.is_null() {
                        break;
                    }
                    if !first {
                        buf.push(", ");
                    }
                    first = false;
                    write_repr(buf, item);
                    ffi::Py_DECREF(item);
                }
                ffi::Py_DECREF(it);
            }
            ffi::PyErr_Clear();
            buf.push(if is_set { "}" } else { "})" });
        }
    }
    buf.stack.pop();
}

unsafe fn int_bits(obj: *mut ffi::PyObject) -> u64 {
    let name = c"bit_length";
    let r = ffi::PyObject_CallMethod(obj, name.as_ptr(), std::ptr::null());
    if r.is_null() {
        ffi::PyErr_Clear();
        return u64::MAX;
    }
    let v = ffi::PyLong_AsUnsignedLongLong(r);
    ffi::Py_DECREF(r);
    if !ffi::PyErr_Occurred().is_null() {
        ffi::PyErr_Clear();
        return u64::MAX;
    }
    v
}

/// Convenience: bounded repr of `obj` as a new String.
///
/// # Safety
/// The caller holds the GIL and every object pointer is a valid (borrowed) Python object.
pub unsafe fn bounded_repr(obj: *mut ffi::PyObject, limit: usize) -> String {
    let mut b = ReprBuf::new();
    b.reset(limit);
    write_repr(&mut b, obj);
    b.finish();
    b.s
}

/// Whether `obj` is small, plain JSON data (None/bool/int/finite float/str,
/// lists/tuples, dicts with str keys) within `budget` units (one per node plus
/// one per string char), so `json.dumps` is cheap and cannot run user code.
///
/// # Safety
/// The caller holds the GIL and every object pointer is a valid (borrowed) Python object.
pub unsafe fn json_plain(obj: *mut ffi::PyObject, budget: &mut i64, depth: u32) -> bool {
    *budget -= 1;
    if *budget < 0 || depth > 64 {
        return false;
    }
    if obj == ffi::Py_None() || obj == ffi::Py_True() || obj == ffi::Py_False() {
        return true;
    }
    if ffi::PyLong_CheckExact(obj) != 0 {
        let mut overflow = 0;
        ffi::PyLong_AsLongLongAndOverflow(obj, &mut overflow);
        ffi::PyErr_Clear();
        return overflow == 0 || int_bits(obj) <= MAX_INT_BITS;
    }
    if ffi::PyFloat_CheckExact(obj) != 0 {
        return ffi::PyFloat_AsDouble(obj).is_finite();
    }
    if ffi::PyUnicode_CheckExact(obj) != 0 {
        *budget -= ffi::PyUnicode_GetLength(obj) as i64;
        return *budget >= 0;
    }
    if ffi::PyList_CheckExact(obj) != 0 || ffi::PyTuple_CheckExact(obj) != 0 {
        let seq = obj;
        let is_list = ffi::PyList_CheckExact(obj) != 0;
        let n = if is_list {
            ffi::PyList_Size(seq)
        } else {
            ffi::PyTuple_Size(seq)
        };
        if n as i64 > *budget {
            return false;
        }
        for i in 0..n {
            let item = if is_list {
                ffi::PyList_GetItem(seq, i)
            } else {
                ffi::PyTuple_GetItem(seq, i)
            };
            if item.is_null() || !json_plain(item, budget, depth + 1) {
                ffi::PyErr_Clear();
                return false;
            }
        }
        return true;
    }
    if ffi::PyDict_CheckExact(obj) != 0 {
        if ffi::PyDict_Size(obj) as i64 > *budget {
            return false;
        }
        let mut pos: ffi::Py_ssize_t = 0;
        let mut k: *mut ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut ffi::PyObject = std::ptr::null_mut();
        while ffi::PyDict_Next(obj, &mut pos, &mut k, &mut v) != 0 {
            if ffi::PyUnicode_CheckExact(k) == 0
                || !json_plain(k, budget, depth + 1)
                || !json_plain(v, budget, depth + 1)
            {
                return false;
            }
        }
        return true;
    }
    false
}

/// Name of a type object (`tp_name`), e.g. `ZeroDivisionError`.
///
/// # Safety
/// The caller holds the GIL and every object pointer is a valid (borrowed) Python object.
pub unsafe fn type_name_of_type(tp: *mut ffi::PyObject) -> String {
    if tp.is_null() || ffi::PyType_Check(tp) == 0 {
        return "?".into();
    }
    let name = (*(tp as *mut ffi::PyTypeObject)).tp_name;
    if name.is_null() {
        return "?".into();
    }
    CStr::from_ptr(name).to_string_lossy().into_owned()
}
