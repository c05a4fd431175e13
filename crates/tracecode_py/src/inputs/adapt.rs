//! Type adaptation: new calls for a function whose calls failed at entry.
//!
//! A call that raises `TypeError`/`AttributeError` in its first lines says
//! the guessed argument types were wrong, and CPython's message usually says
//! how: `object of type 'int' has no len()` names the offending type and what
//! the function wanted instead. [`diagnose`] reads the message into a
//! [`Diagnosis`], and [`adapt_calls`] rewrites the failed calls accordingly:
//! the argument whose literal has the offending type gets a value of a wanted
//! type, drawn with [`random_value`] (the same generators as every other
//! source, so one seed gives the same calls). When the message names nothing
//! usable, each argument in turn tries the next type of a fixed ladder. Some
//! wants have no literal (a class, a callable, a file, a `re` match): those
//! get one fixed builtin or standard-library expression (`len`, `int`,
//! `__import__('io').StringIO(...)`), chosen by the missing attribute.
//!
//! One round only fixes what one message reveals; the caller runs rounds, and
//! a call fixed in one place may fail in the next round with a new message
//! that fixes the next argument.

use std::collections::HashSet;
use std::sync::LazyLock;

use rand_chacha::ChaCha8Rng;
use regex::Regex;
use ruff_python_ast::Expr;
use ruff_text_size::Ranged;
use tracecode_data::schema::ParamKind;

use super::strategy::{param_types, ParamType, STRATEGY_ORDER};
use super::types::literal_type;
use super::usage::{DICT_METHODS, LIST_METHODS, STR_METHODS};
use super::{random_value, FunctionSpec, GeneratedCall, InputStrategy, ValueType};

/// A candidate call that failed at entry, with what it raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedCall {
    pub call: String,
    pub strategy: InputStrategy,
    pub exception_type: String,
    pub message: String,
}

/// What an exception message says about the arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnosis {
    /// Values of some types should have had other types (several entries when
    /// the message names two types and either side may be the wrong one).
    Retype(Vec<Retype>),
    /// `f() takes N positional arguments but M were given`.
    TooManyPositional { func: String, takes: usize },
    /// `f() missing 1 required positional argument: 'x'` (or keyword-only).
    Missing { func: String, names: Vec<String> },
    /// `f() got an unexpected keyword argument 'x'`.
    UnexpectedKeyword { func: String, name: String },
    /// The argument of type `offending` (any when `None`) should be an object
    /// no literal writes (a class, a callable): these builtin expressions.
    Objects {
        offending: Option<String>,
        exprs: Vec<&'static str>,
    },
    /// Nothing usable: every argument walks the type ladder.
    Unknown,
}

/// Arguments whose value has Python type `offending` (e.g. `"int"`; any
/// argument when `None`) should get one of `wants` instead, in order of
/// preference; an empty `wants` means "anything else" (the ladder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retype {
    pub offending: Option<String>,
    pub wants: Vec<ValueType>,
}

/// The types tried, in order, when a message gives no better idea: the
/// commonest argument types of untyped Python first.
pub fn type_ladder() -> [ValueType; 9] {
    [
        ValueType::Int,
        ValueType::Str,
        ValueType::List(Box::new(ValueType::Int)),
        ValueType::Dict(Box::new(ValueType::Str), Box::new(ValueType::Int)),
        ValueType::Float,
        ValueType::Bool,
        ValueType::Bytes,
        ValueType::List(Box::new(ValueType::Str)),
        ValueType::None,
    ]
}

fn list_int() -> ValueType {
    ValueType::List(Box::new(ValueType::Int))
}

fn dict_str_int() -> ValueType {
    ValueType::Dict(Box::new(ValueType::Str), Box::new(ValueType::Int))
}

/// Methods only `bytes` has among the builtins we generate (`'str' object
/// has no attribute 'decode'` means bytes was wanted).
const BYTES_METHODS: &[&str] = &["decode", "hex", "fromhex"];
const SET_METHODS: &[&str] = &[
    "add",
    "discard",
    "union",
    "intersection",
    "difference",
    "symmetric_difference",
    "issubset",
    "issuperset",
    "isdisjoint",
    "intersection_update",
    "difference_update",
];
const INT_METHODS: &[&str] = &[
    "bit_length",
    "bit_count",
    "to_bytes",
    "numerator",
    "denominator",
];

/// Builtin classes, for `issubclass() arg 1 must be a class` and `__mro__`.
const CLASSES: &[&str] = &["int", "str", "object"];
/// Callables (which also have `__name__`, `__dict__` and weak references).
const CALLABLES: &[&str] = &["len", "str", "(lambda *a, **k: None)"];
/// Parameterised generics, for `__args__` / `__origin__`.
const GENERICS: &[&str] = &["list[int]", "dict[str, int]"];

/// Standard-library objects that one expression builds, by the attributes
/// that give them away (`'int' object has no attribute 'readline'` wants a
/// file). `__import__` keeps the call self-contained: the traced module need
/// not have imported anything.
const STDLIB_OBJECTS: &[(&[&str], &str)] = &[
    (
        &["readline", "readlines", "read", "seek", "tell", "getvalue"],
        r"__import__('io').StringIO('a\nb\n')",
    ),
    (
        &[
            "year",
            "month",
            "day",
            "weekday",
            "isoweekday",
            "isoformat",
            "toordinal",
            "strftime",
        ],
        "__import__('datetime').date(2024, 2, 29)",
    ),
    (
        &["group", "groups", "groupdict", "span"],
        "__import__('re').match('(a+)(b*)', 'aab')",
    ),
    (&["start", "stop", "step", "indices"], "slice(1, 7, 2)"),
    (
        &[
            "co_name",
            "co_filename",
            "co_firstlineno",
            "co_varnames",
            "co_argcount",
            "co_flags",
        ],
        "(lambda x: x).__code__",
    ),
    (
        &["f_code", "f_back", "f_lineno", "f_locals", "f_globals"],
        "__import__('sys')._getframe()",
    ),
    (
        &["qsize", "put_nowait", "get_nowait", "empty", "full"],
        "__import__('queue').Queue()",
    ),
    (
        &[
            "get_payload",
            "get_content_type",
            "get_content_maintype",
            "is_multipart",
            "get_filename",
        ],
        "__import__('email.message').message.Message()",
    ),
    (
        &["addTest", "addTests", "countTestCases"],
        "__import__('unittest').TestSuite()",
    ),
    (
        &["makeelement", "iter", "findall", "tag", "attrib"],
        "__import__('xml.etree.ElementTree').etree.ElementTree.Element('a')",
    ),
];

/// Builtin objects that have a missing attribute no literal has.
fn objects_with_attribute(attr: &str) -> Option<&'static [&'static str]> {
    match attr {
        "__mro__" | "__bases__" | "__subclasses__" | "mro" => Some(CLASSES),
        "__name__" | "__qualname__" | "__module__" | "__dict__" | "__code__" | "__defaults__"
        | "__wrapped__" | "__call__" => Some(CALLABLES),
        "__args__" | "__origin__" | "__parameters__" => Some(GENERICS),
        _ => STDLIB_OBJECTS
            .iter()
            .find(|(attrs, _)| attrs.contains(&attr))
            .map(|(_, expr)| std::slice::from_ref(expr)),
    }
}

/// The type a missing attribute implies, e.g. `append` → `list[int]`.
fn type_with_attribute(attr: &str) -> Option<ValueType> {
    if LIST_METHODS.contains(&attr) {
        Some(list_int())
    } else if DICT_METHODS.contains(&attr) {
        Some(dict_str_int())
    } else if BYTES_METHODS.contains(&attr) {
        Some(ValueType::Bytes)
    } else if STR_METHODS.contains(&attr) {
        Some(ValueType::Str)
    } else if SET_METHODS.contains(&attr) {
        Some(ValueType::Set(Box::new(ValueType::Int)))
    } else if INT_METHODS.contains(&attr) {
        Some(ValueType::Int)
    } else if attr == "is_integer" {
        Some(ValueType::Float)
    } else {
        None
    }
}

/// The Python type name of values of `t` (`type(v).__name__`), as CPython's
/// messages spell it; `None` for `Any`/unions, which have no single name.
pub fn py_type_name(t: &ValueType) -> Option<&'static str> {
    Some(match t {
        ValueType::Int => "int",
        ValueType::Float => "float",
        ValueType::Bool => "bool",
        ValueType::Str => "str",
        ValueType::Bytes => "bytes",
        ValueType::None => "NoneType",
        ValueType::List(_) => "list",
        ValueType::Tuple(_) | ValueType::TupleOf(_) => "tuple",
        ValueType::Dict(..) => "dict",
        ValueType::Set(_) => "set",
        ValueType::FrozenSet(_) => "frozenset",
        ValueType::Optional(_) | ValueType::Union(_) | ValueType::Any => return None,
    })
}

/// The type to generate for a Python type name from a message (`'list'` →
/// `list[int]`); `None` for types we cannot write a literal of.
fn type_named(name: &str) -> Option<ValueType> {
    Some(match name {
        "int" => ValueType::Int,
        "float" => ValueType::Float,
        "bool" => ValueType::Bool,
        "str" => ValueType::Str,
        "bytes" | "bytearray" => ValueType::Bytes,
        "NoneType" => ValueType::None,
        "list" => list_int(),
        "tuple" => ValueType::TupleOf(Box::new(ValueType::Int)),
        "dict" => dict_str_int(),
        "set" => ValueType::Set(Box::new(ValueType::Int)),
        "frozenset" => ValueType::FrozenSet(Box::new(ValueType::Int)),
        _ => return None,
    })
}

/// Types named in prose like "a string, a bytes-like object or a real number".
fn types_in_prose(text: &str) -> Vec<ValueType> {
    static WORDS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\b(str|string|bytes|bytes-like|int|integers?|real number|float|tuple|list|dict|mapping|iterable)\b").unwrap()
    });
    let mut out: Vec<ValueType> = Vec::new();
    for m in WORDS.find_iter(text) {
        let t = match m.as_str() {
            "str" | "string" => ValueType::Str,
            "bytes" | "bytes-like" => ValueType::Bytes,
            "int" | "integer" | "integers" | "real number" => ValueType::Int,
            "float" => ValueType::Float,
            "tuple" => ValueType::TupleOf(Box::new(ValueType::Str)),
            "list" | "iterable" => list_int(),
            _ => dict_str_int(),
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

fn retype(offending: Option<&str>, wants: Vec<ValueType>) -> Retype {
    Retype {
        offending: offending.map(str::to_string),
        wants,
    }
}

/// Both directions for a message naming two clashing types (`'int' and
/// 'str'`): either argument may be the wrong one, so each becomes the other.
fn clash(a: &str, b: &str) -> Diagnosis {
    if a == b {
        // `list - list`: neither side fits the operator; numbers and sets do.
        let wants = vec![
            ValueType::Int,
            ValueType::Float,
            ValueType::Set(Box::new(ValueType::Int)),
        ];
        return Diagnosis::Retype(vec![retype(Some(a), wants)]);
    }
    let mut fixes = Vec::new();
    if let Some(t) = type_named(b) {
        fixes.push(retype(Some(a), vec![t]));
    }
    if let Some(t) = type_named(a) {
        fixes.push(retype(Some(b), vec![t]));
    }
    Diagnosis::Retype(fixes)
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).unwrap());
    };
}

re!(
    TAKES,
    r"^([\w.<>]+)\(\) takes (?:from \d+ to )?(\d+) positional arguments? but \d+ (?:were|was) given"
);
re!(
    MISSING,
    r"^([\w.<>]+)\(\) missing \d+ required (?:positional|keyword-only) arguments?: (.*)$"
);
re!(QUOTED, r"'(\w+)'");
re!(
    UNEXPECTED_KW,
    r"^([\w.<>]+)\(\) got an unexpected keyword argument '(\w+)'"
);
re!(NO_LEN, r"^object of type '(\w+)' has no len\(\)");
re!(
    NOT_ITERABLE,
    r"^(?:'(\w+)' object|argument of type '(\w+)') is not iterable"
);
re!(UNPACK, r"^cannot unpack non-iterable (\w+) object");
re!(NOT_SUBSCRIPTABLE, r"^'(\w+)' object is not subscriptable");
re!(
    ITEM_ASSIGN,
    r"^'(\w+)' object does not support item assignment"
);
re!(NO_ATTR, r"^'(\w+)' object has no attribute '(\w+)'");
re!(
    OPERANDS,
    r"^unsupported operand type\(s\) for [^:]+: '(\w+)' and '(\w+)'"
);
re!(
    COMPARE,
    r"^'[^']+' not supported between instances of '(\w+)' and '(\w+)'"
);
re!(
    CONCAT,
    r#"^can only concatenate (\w+) \(not "(\w+)"\) to \w+"#
);
re!(CANT_CONCAT, r"^can't concat (\w+) to (\w+)");
re!(
    SEQ_ITEM,
    r"^sequence item \d+: expected (\w+) instance, (\w+) found"
);
re!(
    PATHLIKE,
    r"^expected str, bytes or os\.PathLike object, not (\w+)"
);
re!(
    STR_OR_BYTES,
    r"^expected string or bytes-like object, got '(\w+)'"
);
re!(
    AS_INTEGER,
    r"^'(\w+)' object cannot be interpreted as an integer"
);
re!(
    INTEGER_REQUIRED,
    r"an integer is required(?: \(got type (\w+)\))?"
);
re!(BAD_OPERAND, r"^bad operand type for [^:]+: '(\w+)'");
re!(UNHASHABLE, r"^unhashable type: '(\w+)'");
re!(
    MULTIPLY,
    r"^can't multiply sequence by non-int of type '(\w+)'"
);
re!(
    INDICES,
    r"^(\w+) indices must be integers(?: or slices)?, not '?(\w+)'?"
);
re!(NO_ROUND, r"^type (\w+) doesn't define __round__ method");
re!(
    MUST_BE,
    r"^(.*?)(?:must be|is required|requires)(.*?),? not '?(\w+)'?$"
);
re!(NOT_CALLABLE, r"^'(\w+)' object is not callable");
re!(NOT_A_CLASS, r"^\w+\(\) arg \d+ must be a (?:class|type)");
re!(
    NOT_TYPE_OBJECT,
    r"^\w+\.__new__\(X\): X is not a type object \((\w+)\)"
);
re!(
    NO_WEAKREF,
    r"^cannot create weak reference to '(\w+)' object"
);
re!(ANY_OBJECT, r"^'(\w+)' object ");

/// Reads a `TypeError`/`AttributeError` message (as `str(exc)` gives it,
/// CPython 3.10–3.13 wording) into what should change. Other exception
/// types say nothing about argument types and are [`Diagnosis::Unknown`].
pub fn diagnose(exception_type: &str, message: &str) -> Diagnosis {
    if !matches!(exception_type, "TypeError" | "AttributeError") {
        return Diagnosis::Unknown;
    }
    let m = message.trim();
    let one = |t: &str, wants: Vec<ValueType>| Diagnosis::Retype(vec![retype(Some(t), wants)]);
    if let Some(c) = TAKES.captures(m) {
        return Diagnosis::TooManyPositional {
            func: c[1].to_string(),
            takes: c[2].parse().unwrap_or(0),
        };
    }
    if let Some(c) = MISSING.captures(m) {
        let names = QUOTED
            .captures_iter(&c[2])
            .map(|q| q[1].to_string())
            .collect();
        return Diagnosis::Missing {
            func: c[1].to_string(),
            names,
        };
    }
    if let Some(c) = UNEXPECTED_KW.captures(m) {
        return Diagnosis::UnexpectedKeyword {
            func: c[1].to_string(),
            name: c[2].to_string(),
        };
    }
    if let Some(c) = NO_LEN.captures(m) {
        return one(&c[1], vec![ValueType::Str, list_int()]);
    }
    if let Some(c) = NOT_ITERABLE.captures(m) {
        let t = c.get(1).or(c.get(2)).map_or("", |t| t.as_str());
        return one(t, vec![list_int(), ValueType::Str]);
    }
    if let Some(c) = UNPACK.captures(m) {
        let pair = ValueType::Tuple(vec![ValueType::Int, ValueType::Int]);
        return one(&c[1], vec![pair, list_int()]);
    }
    if let Some(c) = NOT_SUBSCRIPTABLE.captures(m) {
        return one(&c[1], vec![list_int(), ValueType::Str, dict_str_int()]);
    }
    if let Some(c) = ITEM_ASSIGN.captures(m) {
        return one(&c[1], vec![list_int(), dict_str_int()]);
    }
    let objects = |t: Option<&str>, exprs: &[&'static str]| Diagnosis::Objects {
        offending: t.map(str::to_string),
        exprs: exprs.to_vec(),
    };
    if let Some(c) = NO_ATTR.captures(m) {
        if let Some(exprs) = objects_with_attribute(&c[2]) {
            return objects(Some(&c[1]), exprs);
        }
        let wants = type_with_attribute(&c[2]).into_iter().collect();
        return one(&c[1], wants);
    }
    if let Some(c) = OPERANDS.captures(m).or_else(|| COMPARE.captures(m)) {
        return clash(&c[1], &c[2]);
    }
    if let Some(c) = CONCAT.captures(m).or_else(|| CANT_CONCAT.captures(m)) {
        return clash(&c[1], &c[2]);
    }
    if let Some(c) = SEQ_ITEM.captures(m) {
        // `''.join([1, 2])`: the elements have the wrong type.
        let want = type_named(&c[1]).unwrap_or(ValueType::Str);
        return Diagnosis::Retype(vec![
            retype(Some(&c[2]), vec![want.clone()]),
            retype(Some("list"), vec![ValueType::List(Box::new(want))]),
        ]);
    }
    if let Some(c) = PATHLIKE.captures(m).or_else(|| STR_OR_BYTES.captures(m)) {
        return one(&c[1], vec![ValueType::Str, ValueType::Bytes]);
    }
    if let Some(c) = AS_INTEGER.captures(m) {
        return one(&c[1], vec![ValueType::Int]);
    }
    if let Some(c) = BAD_OPERAND.captures(m) {
        return one(&c[1], vec![ValueType::Int, ValueType::Float]);
    }
    if let Some(c) = UNHASHABLE.captures(m) {
        let tuple = ValueType::TupleOf(Box::new(ValueType::Int));
        return one(&c[1], vec![tuple, ValueType::Str, ValueType::Int]);
    }
    if let Some(c) = MULTIPLY.captures(m) {
        return one(&c[1], vec![ValueType::Int]);
    }
    if let Some(c) = INDICES.captures(m) {
        // `s['k']` on a str: the index should be an int, or the container a dict.
        let container = match &c[1] {
            "string" => "str",
            other => other,
        };
        return Diagnosis::Retype(vec![
            retype(Some(&c[2]), vec![ValueType::Int]),
            retype(Some(container), vec![dict_str_int()]),
        ]);
    }
    if let Some(c) = NO_ROUND.captures(m) {
        return one(&c[1], vec![ValueType::Float, ValueType::Int]);
    }
    if let Some(c) = MUST_BE.captures(m) {
        // The wanted types follow "must be" (`argument 2 must be str`) or,
        // in `%d format: a real number is required`, precede it.
        let mut wants = types_in_prose(&c[2]);
        if wants.is_empty() {
            wants = types_in_prose(&c[1]);
        }
        return one(&c[3], wants);
    }
    if let Some(c) = INTEGER_REQUIRED.captures(m) {
        let t = c.get(1).map(|t| t.as_str());
        return Diagnosis::Retype(vec![retype(t, vec![ValueType::Int])]);
    }
    if let Some(c) = NOT_CALLABLE.captures(m) {
        return objects(Some(&c[1]), CALLABLES);
    }
    if NOT_A_CLASS.is_match(m) {
        return objects(None, CLASSES);
    }
    if let Some(c) = NOT_TYPE_OBJECT.captures(m) {
        return objects(Some(&c[1]), CLASSES);
    }
    if let Some(c) = NO_WEAKREF.captures(m) {
        return objects(Some(&c[1]), CALLABLES);
    }
    if let Some(c) = ANY_OBJECT.captures(m) {
        // `'int' object does not support the context manager protocol` and
        // the like: the argument is known, the wanted type is not.
        return one(&c[1], Vec::new());
    }
    Diagnosis::Unknown
}

/// A failed call split into its parts, so single arguments can be replaced.
#[derive(Debug, Clone)]
struct ParsedCall {
    func: String,
    /// Positional arguments: source text (starred ones keep their `*`) and literal type.
    pos: Vec<(String, ValueType, bool)>,
    /// Keyword arguments: name (`None` for `**expr`), source text, literal type.
    kw: Vec<(Option<String>, String, ValueType)>,
}

fn parse_call(text: &str) -> Option<ParsedCall> {
    let parsed = ruff_python_parser::parse_expression(text).ok()?;
    let Expr::Call(call) = parsed.expr() else {
        return None;
    };
    let src = |e: &Expr| text[e.range()].to_string();
    Some(ParsedCall {
        func: src(&call.func),
        pos: call
            .arguments
            .args
            .iter()
            .map(|a| (src(a), literal_type(a), a.is_starred_expr()))
            .collect(),
        kw: call
            .arguments
            .keywords
            .iter()
            .map(|k| {
                let name = k.arg.as_ref().map(|a| a.to_string());
                (name, src(&k.value), literal_type(&k.value))
            })
            .collect(),
    })
}

/// One argument of a call: the i-th positional or the i-th keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Pos(usize),
    Kw(usize),
}

/// One change to a failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    /// A new value of this type for the argument.
    Retype(Slot, ValueType),
    /// This expression for the argument.
    Expr(Slot, &'static str),
    /// Keep only the first N positional arguments.
    Truncate(usize),
    /// Pass these parameters by keyword.
    Add(Vec<String>),
    /// Drop this keyword argument.
    Drop(String),
}

impl ParsedCall {
    /// Arguments an edit may change: literal-or-not, but not `*args`/`**kw`
    /// splats and not a method's `self` (always `None` by design).
    fn slots(&self, is_method: bool) -> Vec<(Slot, &ValueType)> {
        let pos = self
            .pos
            .iter()
            .enumerate()
            .filter(|(i, (_, _, starred))| !(*starred || (is_method && *i == 0)))
            .map(|(i, (_, t, _))| (Slot::Pos(i), t));
        let kw = self
            .kw
            .iter()
            .enumerate()
            .filter(|(_, (name, _, _))| name.is_some())
            .map(|(i, (_, _, t))| (Slot::Kw(i), t));
        pos.chain(kw).collect()
    }

    fn render(&self) -> String {
        let args: Vec<String> = self
            .pos
            .iter()
            .map(|(s, _, _)| s.clone())
            .chain(self.kw.iter().map(|(n, s, _)| match n {
                Some(n) => format!("{n}={s}"),
                None => format!("**{s}"),
            }))
            .collect();
        format!("{}({})", self.func, args.join(", "))
    }
}

/// `Container[elem]` with every element of type `elem_name` replaced by
/// `want`, when `t` is such a container: `join` over `[1, 2]` wants `['a']`.
fn with_elements(t: &ValueType, elem_name: &str, want: &ValueType) -> Option<ValueType> {
    let is = |e: &ValueType| py_type_name(e) == Some(elem_name);
    let w = || Box::new(want.clone());
    match t {
        ValueType::List(e) if is(e) => Some(ValueType::List(w())),
        ValueType::TupleOf(e) if is(e) => Some(ValueType::TupleOf(w())),
        ValueType::Set(e) if is(e) && want.is_hashable() => Some(ValueType::Set(w())),
        ValueType::Tuple(ts) if ts.iter().any(is) => Some(ValueType::Tuple(
            ts.iter()
                .map(|e| if is(e) { want.clone() } else { e.clone() })
                .collect(),
        )),
        _ => None,
    }
}

/// Whether the function a message names (`f`, `A.f`) is the traced one, so
/// an arity message is about our call and not a helper's.
fn names_us(func: &str, spec: &FunctionSpec) -> bool {
    func == spec.name || func.ends_with(&format!(".{}", spec.name))
}

/// Every argument through the ladder, type-major so that each argument gets
/// its first alternative before any gets its second.
fn ladder_edits(slots: &[(Slot, &ValueType)]) -> Vec<Edit> {
    let mut out = Vec::new();
    for ty in type_ladder() {
        for (slot, current) in slots {
            if **current != ty {
                out.push(Edit::Retype(*slot, ty.clone()));
            }
        }
    }
    out
}

/// The edits a diagnosis suggests for one call, most promising first.
fn edits_for(spec: &FunctionSpec, call: &ParsedCall, diagnosis: &Diagnosis) -> Vec<Edit> {
    let slots = call.slots(spec.receiver.is_some());
    match diagnosis {
        Diagnosis::Retype(fixes) => {
            let mut out = Vec::new();
            for fix in fixes {
                let mut targets: Vec<(Slot, ValueType, Option<ValueType>)> = Vec::new();
                if let Some(off) = fix.offending.as_deref() {
                    // The arguments whose value has the offending type...
                    for (slot, t) in &slots {
                        if py_type_name(t) == Some(off) {
                            targets.push((*slot, (*t).clone(), None));
                        }
                    }
                    // ...or, failing that, containers of it (`[1, 2]` for `join`).
                    if targets.is_empty() {
                        for (slot, t) in &slots {
                            if with_elements(t, off, &ValueType::Int).is_some() {
                                targets.push((*slot, (*t).clone(), Some((*t).clone())));
                            }
                        }
                    }
                }
                if targets.is_empty() {
                    // The offending value was computed, not passed: any argument may be at fault.
                    targets = slots
                        .iter()
                        .map(|(s, t)| (*s, (*t).clone(), None))
                        .collect();
                }
                let wants: Vec<ValueType> = if fix.wants.is_empty() {
                    type_ladder().to_vec()
                } else {
                    fix.wants.clone()
                };
                for want in &wants {
                    for (slot, current, container) in &targets {
                        let ty = match (container, fix.offending.as_deref()) {
                            (Some(c), Some(off)) => with_elements(c, off, want),
                            _ => Some(want.clone()),
                        };
                        match ty {
                            Some(ty) if ty != *current => out.push(Edit::Retype(*slot, ty)),
                            _ => {}
                        }
                    }
                }
            }
            if out.is_empty() {
                ladder_edits(&slots)
            } else {
                out
            }
        }
        Diagnosis::Objects { offending, exprs } => {
            let mut targets: Vec<Slot> = slots
                .iter()
                .filter(|(_, t)| offending.is_some() && py_type_name(t) == offending.as_deref())
                .map(|(s, _)| *s)
                .collect();
            if targets.is_empty() {
                targets = slots.iter().map(|(s, _)| *s).collect();
            }
            exprs
                .iter()
                .flat_map(|e| targets.iter().map(move |s| Edit::Expr(*s, e)))
                .collect()
        }
        Diagnosis::TooManyPositional { func, takes } if names_us(func, spec) => {
            if call.pos.len() > *takes {
                vec![Edit::Truncate(*takes)]
            } else {
                Vec::new()
            }
        }
        Diagnosis::Missing { func, names } if names_us(func, spec) => {
            vec![Edit::Add(names.clone())]
        }
        Diagnosis::UnexpectedKeyword { func, name } if names_us(func, spec) => {
            vec![Edit::Drop(name.clone())]
        }
        _ => ladder_edits(&slots),
    }
}

/// The call with `edit` applied; new values come from `rng`.
fn apply(
    spec: &FunctionSpec,
    call: &ParsedCall,
    edit: &Edit,
    types: &[ParamType],
    rng: &mut ChaCha8Rng,
) -> String {
    let mut call = call.clone();
    match edit {
        Edit::Retype(Slot::Pos(i), ty) => call.pos[*i] = (random_value(ty, rng), ty.clone(), false),
        Edit::Retype(Slot::Kw(i), ty) => {
            call.kw[*i].1 = random_value(ty, rng);
            call.kw[*i].2 = ty.clone();
        }
        Edit::Expr(Slot::Pos(i), e) => call.pos[*i] = (e.to_string(), ValueType::Any, false),
        Edit::Expr(Slot::Kw(i), e) => {
            call.kw[*i].1 = e.to_string();
            call.kw[*i].2 = ValueType::Any;
        }
        Edit::Truncate(n) => call.pos.truncate(*n),
        Edit::Add(names) => {
            for name in names {
                // The parameter's best-known type, as first generation chose it.
                let i = spec.params.iter().position(|p| p.name == *name);
                let param = i.map(|i| &spec.params[i]);
                let ty = i.map_or(ValueType::Any, |i| types[i].ty.clone());
                let value = random_value(&ty, rng);
                let keyword_ok = param.is_none_or(|p| p.kind != ParamKind::PositionalOnly);
                if keyword_ok {
                    call.kw
                        .retain(|(n, _, _)| n.as_deref() != Some(name.as_str()));
                    call.kw.push((Some(name.clone()), value, ty));
                } else {
                    call.pos.push((value, ty, false));
                }
            }
        }
        Edit::Drop(name) => call
            .kw
            .retain(|(n, _, _)| n.as_deref() != Some(name.as_str())),
    }
    call.render()
}

/// What an edit does, whatever call it is for: a keyword argument is named
/// by its keyword, since its index differs between calls.
fn edit_key(call: &ParsedCall, edit: &Edit) -> String {
    match edit {
        Edit::Retype(Slot::Kw(i), ty) => format!("Retype({:?}, {ty:?})", call.kw[*i].0),
        Edit::Expr(Slot::Kw(i), e) => format!("Expr({:?}, {e})", call.kw[*i].0),
        other => format!("{other:?}"),
    }
}

/// How many times the edits may be cycled (with fresh values) to fill `n`.
const PASSES: usize = 4;

/// Up to `n` new calls (strategy [`InputStrategy::Adapted`]) that change the
/// argument types of `failed` calls the way their exception messages say.
///
/// Edits are interleaved across the failed calls (each call's first edit,
/// then each call's second, ...); on the first pass an edit already proposed
/// for another call (same argument, same new type) is skipped, so `n` buys
/// distinct ideas before it buys repeats. Later passes repeat the edits with
/// new random values. Calls from examples and their mutations go first:
/// their other arguments are the most meaningful to keep. Deterministic for
/// the state of `rng`; calls never repeat within one answer (the caller
/// still filters those it already ran).
pub fn adapt_calls(
    spec: &FunctionSpec,
    failed: &[FailedCall],
    rng: &mut ChaCha8Rng,
    n: usize,
) -> Vec<GeneratedCall> {
    let rank = |s: InputStrategy| {
        STRATEGY_ORDER
            .iter()
            .position(|x| *x == s)
            .unwrap_or(usize::MAX)
    };
    let mut ordered: Vec<&FailedCall> = failed.iter().collect();
    ordered.sort_by_key(|f| rank(f.strategy));
    let plans: Vec<(ParsedCall, Vec<Edit>)> = ordered
        .into_iter()
        .filter_map(|f| {
            let call = parse_call(&f.call)?;
            let edits = edits_for(spec, &call, &diagnose(&f.exception_type, &f.message));
            (!edits.is_empty()).then_some((call, edits))
        })
        .collect();
    let types = param_types(spec);
    let longest = plans.iter().map(|(_, e)| e.len()).max().unwrap_or(0);
    let mut out: Vec<GeneratedCall> = Vec::new();
    let mut seen_calls: HashSet<String> = failed.iter().map(|f| f.call.clone()).collect();
    let mut seen_edits: HashSet<String> = HashSet::new();
    for pass in 0..PASSES {
        for j in 0..longest {
            for (call, edits) in &plans {
                if out.len() >= n {
                    return out;
                }
                let Some(edit) = edits.get(j) else { continue };
                if pass == 0 && !seen_edits.insert(edit_key(call, edit)) {
                    continue;
                }
                let text = apply(spec, call, edit, &types, rng);
                if seen_calls.insert(text.clone()) {
                    out.push(GeneratedCall {
                        call: text,
                        strategy: InputStrategy::Adapted,
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use tracecode_data::schema::Param;
    use ValueType::{Any, Bytes, Float, Int, List, Set, Str, Tuple, TupleOf};

    fn wants(t: &str, w: Vec<ValueType>) -> Diagnosis {
        Diagnosis::Retype(vec![retype(Some(t), w)])
    }

    /// Each message was produced by CPython 3.13 running the expression beside it.
    #[test]
    fn messages_name_the_offending_and_wanted_types() {
        let li = list_int;
        let di = dict_str_int;
        let cases: Vec<(&str, &str, Diagnosis)> = vec![
            // len(3)
            (
                "TypeError",
                "object of type 'int' has no len()",
                wants("int", vec![Str, li()]),
            ),
            // [x for x in 3]
            (
                "TypeError",
                "'int' object is not iterable",
                wants("int", vec![li(), Str]),
            ),
            // 1 in 3
            (
                "TypeError",
                "argument of type 'int' is not iterable",
                wants("int", vec![li(), Str]),
            ),
            // 3[0]
            (
                "TypeError",
                "'int' object is not subscriptable",
                wants("int", vec![li(), Str, di()]),
            ),
            // 's'[0] = 1
            (
                "TypeError",
                "'str' object does not support item assignment",
                wants("str", vec![li(), di()]),
            ),
            // 's'.append(1), 's'.keys(), (3).split(), 's'.decode(), [1].add(2)
            (
                "AttributeError",
                "'str' object has no attribute 'append'",
                wants("str", vec![li()]),
            ),
            (
                "AttributeError",
                "'str' object has no attribute 'keys'",
                wants("str", vec![di()]),
            ),
            (
                "AttributeError",
                "'str' object has no attribute 'items'",
                wants("str", vec![di()]),
            ),
            (
                "AttributeError",
                "'int' object has no attribute 'split'",
                wants("int", vec![Str]),
            ),
            (
                "AttributeError",
                "'int' object has no attribute 'lower'",
                wants("int", vec![Str]),
            ),
            (
                "AttributeError",
                "'str' object has no attribute 'decode'",
                wants("str", vec![Bytes]),
            ),
            (
                "AttributeError",
                "'list' object has no attribute 'add'",
                wants("list", vec![Set(Box::new(Int))]),
            ),
            // None.x: the argument is known, the type is not
            (
                "AttributeError",
                "'NoneType' object has no attribute 'x'",
                wants("NoneType", vec![]),
            ),
            // chr('a'), range(1.5)
            (
                "TypeError",
                "'str' object cannot be interpreted as an integer",
                wants("str", vec![Int]),
            ),
            (
                "TypeError",
                "'float' object cannot be interpreted as an integer",
                wants("float", vec![Int]),
            ),
            // os.fspath(3), re.match('a', 3)
            (
                "TypeError",
                "expected str, bytes or os.PathLike object, not int",
                wants("int", vec![Str, Bytes]),
            ),
            (
                "TypeError",
                "expected string or bytes-like object, got 'int'",
                wants("int", vec![Str, Bytes]),
            ),
            // 'a'.replace('a', 1), int([1]), math.sqrt('s'), '%d' % 's', 'x'.startswith(1)
            (
                "TypeError",
                "replace() argument 2 must be str, not int",
                wants("int", vec![Str]),
            ),
            (
                "TypeError",
                "int() argument must be a string, a bytes-like object or a real number, not 'list'",
                wants("list", vec![Str, Bytes, Int]),
            ),
            (
                "TypeError",
                "must be real number, not str",
                wants("str", vec![Int]),
            ),
            (
                "TypeError",
                "%d format: a real number is required, not str",
                wants("str", vec![Int]),
            ),
            (
                "TypeError",
                "startswith first arg must be str or a tuple of str, not int",
                wants("int", vec![Str, TupleOf(Box::new(Str))]),
            ),
            // Python <= 3.9 wording of chr('a') and friends.
            (
                "TypeError",
                "an integer is required (got type str)",
                wants("str", vec![Int]),
            ),
            (
                "TypeError",
                "an integer is required",
                Diagnosis::Retype(vec![retype(None, vec![Int])]),
            ),
            // -'s', abs('s'), {[1]: 2}, 's' * 's'
            (
                "TypeError",
                "bad operand type for unary -: 'str'",
                wants("str", vec![Int, Float]),
            ),
            (
                "TypeError",
                "bad operand type for abs(): 'str'",
                wants("str", vec![Int, Float]),
            ),
            (
                "TypeError",
                "unhashable type: 'list'",
                wants("list", vec![TupleOf(Box::new(Int)), Str, Int]),
            ),
            (
                "TypeError",
                "can't multiply sequence by non-int of type 'str'",
                wants("str", vec![Int]),
            ),
            // with 3: ...
            (
                "TypeError",
                "'int' object does not support the context manager protocol",
                wants("int", vec![]),
            ),
            // a, b = 3
            (
                "TypeError",
                "cannot unpack non-iterable int object",
                wants("int", vec![Tuple(vec![Int, Int]), li()]),
            ),
        ];
        for (ty, msg, want) in cases {
            assert_eq!(diagnose(ty, msg), want, "{msg}");
        }
    }

    #[test]
    fn clashing_types_retype_either_side() {
        let both = |a: &str, ta: ValueType, b: &str, tb: ValueType| {
            Diagnosis::Retype(vec![retype(Some(a), vec![tb]), retype(Some(b), vec![ta])])
        };
        // 1 + 's'; 's' + 1; [1] + 1; 1 < 's'; b'a' + 'b'
        assert_eq!(
            diagnose(
                "TypeError",
                "unsupported operand type(s) for +: 'int' and 'str'"
            ),
            both("int", Int, "str", Str)
        );
        assert_eq!(
            diagnose("TypeError", "can only concatenate str (not \"int\") to str"),
            both("str", Str, "int", Int)
        );
        assert_eq!(
            diagnose(
                "TypeError",
                "can only concatenate list (not \"int\") to list"
            ),
            both("list", list_int(), "int", Int)
        );
        assert_eq!(
            diagnose(
                "TypeError",
                "'<' not supported between instances of 'int' and 'str'"
            ),
            both("int", Int, "str", Str)
        );
        assert_eq!(
            diagnose("TypeError", "can't concat str to bytes"),
            both("str", Str, "bytes", Bytes)
        );
        // ','.join([1, 2]): the elements, or the list as a whole.
        assert_eq!(
            diagnose(
                "TypeError",
                "sequence item 0: expected str instance, int found"
            ),
            Diagnosis::Retype(vec![
                retype(Some("int"), vec![Str]),
                retype(Some("list"), vec![List(Box::new(Str))]),
            ])
        );
        // 's'['k']; [1]['k']
        assert_eq!(
            diagnose("TypeError", "string indices must be integers, not 'str'"),
            Diagnosis::Retype(vec![
                retype(Some("str"), vec![Int]),
                retype(Some("str"), vec![dict_str_int()]),
            ])
        );
        assert_eq!(
            diagnose(
                "TypeError",
                "list indices must be integers or slices, not str"
            ),
            Diagnosis::Retype(vec![
                retype(Some("str"), vec![Int]),
                retype(Some("list"), vec![dict_str_int()]),
            ])
        );
    }

    #[test]
    fn classes_and_callables_are_builtin_objects() {
        let objects = |t: Option<&str>, exprs: &[&'static str]| Diagnosis::Objects {
            offending: t.map(Into::into),
            exprs: exprs.to_vec(),
        };
        let cases = [
            // sorted([1], key=3); (3).__name__; [1].__mro__; (3).__args__
            (
                "TypeError",
                "'int' object is not callable",
                objects(Some("int"), CALLABLES),
            ),
            (
                "AttributeError",
                "'int' object has no attribute '__name__'",
                objects(Some("int"), CALLABLES),
            ),
            (
                "AttributeError",
                "'list' object has no attribute '__mro__'",
                objects(Some("list"), CLASSES),
            ),
            (
                "AttributeError",
                "'int' object has no attribute '__args__'",
                objects(Some("int"), GENERICS),
            ),
            // issubclass(3, int); int.__new__(3); weakref.ref(3)
            (
                "TypeError",
                "issubclass() arg 1 must be a class",
                objects(None, CLASSES),
            ),
            (
                "TypeError",
                "int.__new__(X): X is not a type object (int)",
                objects(Some("int"), CLASSES),
            ),
            (
                "TypeError",
                "cannot create weak reference to 'int' object",
                objects(Some("int"), CALLABLES),
            ),
        ];
        for (ty, msg, want) in cases {
            assert_eq!(diagnose(ty, msg), want, "{msg}");
        }
        assert_eq!(
            diagnose("AttributeError", "'int' object has no attribute 'readline'"),
            objects(Some("int"), &[r"__import__('io').StringIO('a\nb\n')"])
        );
        // Every expression is valid Python.
        for (_, e) in STDLIB_OBJECTS {
            assert!(ruff_python_parser::parse_expression(e).is_ok(), "{e}");
        }
        let s = spec(
            &["key", "xs"],
            "def f(key, xs):\n    return sorted(xs, key=key)\n",
        );
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let f = failed("f(3, [1])", "TypeError", "'int' object is not callable");
        let out: Vec<String> = adapt_calls(&s, &[f], &mut rng, 3)
            .into_iter()
            .map(|c| c.call)
            .collect();
        assert_eq!(
            out,
            [
                "f(len, [1])",
                "f(str, [1])",
                "f((lambda *a, **k: None), [1])"
            ]
        );
    }

    #[test]
    fn arity_messages() {
        assert_eq!(
            diagnose(
                "TypeError",
                "f() takes 2 positional arguments but 3 were given"
            ),
            Diagnosis::TooManyPositional {
                func: "f".into(),
                takes: 2
            }
        );
        assert_eq!(
            diagnose(
                "TypeError",
                "A.m() takes from 1 to 2 positional arguments but 4 were given"
            ),
            Diagnosis::TooManyPositional {
                func: "A.m".into(),
                takes: 2
            }
        );
        assert_eq!(
            diagnose(
                "TypeError",
                "f() missing 2 required positional arguments: 'b' and 'c'"
            ),
            Diagnosis::Missing {
                func: "f".into(),
                names: vec!["b".into(), "c".into()]
            }
        );
        assert_eq!(
            diagnose(
                "TypeError",
                "f() missing 1 required keyword-only argument: 'k'"
            ),
            Diagnosis::Missing {
                func: "f".into(),
                names: vec!["k".into()]
            }
        );
        assert_eq!(
            diagnose("TypeError", "f() got an unexpected keyword argument 'z'"),
            Diagnosis::UnexpectedKeyword {
                func: "f".into(),
                name: "z".into()
            }
        );
    }

    #[test]
    fn unusable_messages_are_unknown() {
        for (ty, msg) in [
            ("TypeError", "not enough arguments for format string"),
            ("TypeError", "can only join an iterable"),
            ("ValueError", "object of type 'int' has no len()"),
            ("AttributeError", "module 'os' has no attribute 'nope'"),
        ] {
            assert_eq!(diagnose(ty, msg), Diagnosis::Unknown, "{msg}");
        }
    }

    fn param(name: &str, default: Option<&str>) -> Param {
        Param {
            name: name.into(),
            kind: ParamKind::PositionalOrKeyword,
            annotation: None,
            default: default.map(Into::into),
        }
    }

    fn spec(params: &[&str], code: &str) -> FunctionSpec {
        FunctionSpec {
            name: "f".into(),
            params: params.iter().map(|p| param(p, None)).collect(),
            code: code.into(),
            receiver: None,
            examples: vec![],
        }
    }

    fn failed(call: &str, ty: &str, msg: &str) -> FailedCall {
        FailedCall {
            call: call.into(),
            strategy: InputStrategy::Usage,
            exception_type: ty.into(),
            message: msg.into(),
        }
    }

    /// The literal type of argument `i` of every proposal.
    fn arg_types(calls: &[GeneratedCall], i: usize) -> Vec<ValueType> {
        calls
            .iter()
            .map(|c| {
                let p = parse_call(&c.call).unwrap_or_else(|| panic!("{}", c.call));
                p.pos[i].1.clone()
            })
            .collect()
    }

    #[test]
    fn the_argument_of_the_offending_type_changes_to_the_wanted_type() {
        let s = spec(&["n", "s"], "def f(n, s):\n    return len(s) + n\n");
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let f = failed(
            "f(3, 4.5)",
            "TypeError",
            "object of type 'float' has no len()",
        );
        let out = adapt_calls(&s, &[f], &mut rng, 6);
        assert_eq!(out.len(), 6);
        assert!(out.iter().all(|c| c.strategy == InputStrategy::Adapted));
        // `n` stays 3; `s` becomes a str or a list.
        assert!(out.iter().all(|c| c.call.starts_with("f(3, ")), "{out:?}");
        for t in arg_types(&out, 1) {
            assert!(matches!(t, Str | List(_)), "{t:?} in {out:?}");
        }
        assert!(arg_types(&out, 1).contains(&Str));
        // The same state of the rng gives the same calls.
        let mut again = ChaCha8Rng::seed_from_u64(1);
        let f = failed(
            "f(3, 4.5)",
            "TypeError",
            "object of type 'float' has no len()",
        );
        assert_eq!(adapt_calls(&s, &[f], &mut again, 6), out);
    }

    #[test]
    fn ambiguous_arguments_are_each_tried_and_str_methods_want_str() {
        let s = spec(
            &["a", "b"],
            "def f(a, b):\n    return a.upper() + b.upper()\n",
        );
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let f = failed(
            "f(1, 2)",
            "AttributeError",
            "'int' object has no attribute 'upper'",
        );
        let out = adapt_calls(&s, &[f], &mut rng, 4);
        let first: Vec<_> = out
            .iter()
            .take(2)
            .map(|c| parse_call(&c.call).unwrap())
            .collect();
        // One proposal retypes `a`, the next `b`, each to str.
        assert_eq!(first[0].pos[0].1, Str);
        assert_eq!(first[0].pos[1].0, "2");
        assert_eq!(first[1].pos[0].0, "1");
        assert_eq!(first[1].pos[1].1, Str);
    }

    #[test]
    fn a_keyword_edit_proposed_for_one_call_is_not_taken_for_another_keyword() {
        // Keyword 0 is `b` in the first call and `a` in the second: retyping
        // one is not the same idea as retyping the other.
        let s = spec(&["a", "b"], "def f(a, b):\n    return len(a) + len(b)\n");
        let msg = "object of type 'int' has no len()";
        let calls = [
            failed("f(b=1, a='x')", "TypeError", msg),
            failed("f(a=2, b='y')", "TypeError", msg),
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let out = adapt_calls(&s, &calls, &mut rng, 2);
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].call.starts_with("f(b="), "{out:?}");
        assert!(out[1].call.starts_with("f(a="), "{out:?}");
        assert!(!out[1].call.starts_with("f(a=2"), "a was retyped: {out:?}");
    }

    #[test]
    fn containers_of_the_offending_type_change_their_elements() {
        let s = spec(&["xs"], "def f(xs):\n    return ','.join(xs)\n");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let f = failed(
            "f([1, 2])",
            "TypeError",
            "sequence item 0: expected str instance, int found",
        );
        let out = adapt_calls(&s, &[f], &mut rng, 5);
        assert!(!out.is_empty());
        for c in &out {
            let t = &parse_call(&c.call).unwrap().pos[0].1;
            assert!(
                matches!(t, List(e) if **e == Str || **e == Any),
                "{}",
                c.call
            );
        }
    }

    #[test]
    fn arity_is_fixed_only_for_the_traced_function() {
        let s = spec(&["a", "b"], "def f(a, b):\n    return a\n");
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let too_many = failed(
            "f(1, 2, 3)",
            "TypeError",
            "f() takes 2 positional arguments but 3 were given",
        );
        let out = adapt_calls(&s, &[too_many], &mut rng, 3);
        assert_eq!(out[0].call, "f(1, 2)");
        let missing = failed(
            "f(1)",
            "TypeError",
            "f() missing 1 required positional argument: 'b'",
        );
        let out = adapt_calls(&s, &[missing], &mut rng, 1);
        assert!(out[0].call.starts_with("f(1, b="), "{out:?}");
        let unexpected = failed(
            "f(1, 2, z=3)",
            "TypeError",
            "f() got an unexpected keyword argument 'z'",
        );
        assert_eq!(
            adapt_calls(&s, &[unexpected], &mut rng, 1)[0].call,
            "f(1, 2)"
        );
        // A helper's arity error says nothing about our arguments: the ladder.
        let helper = failed(
            "f(1, 2)",
            "TypeError",
            "g() takes 1 positional argument but 2 were given",
        );
        let out = adapt_calls(&s, &[helper], &mut rng, 4);
        assert_eq!(out.len(), 4);
        assert_eq!(arg_types(&out[..1], 0), vec![Str]);
    }

    #[test]
    fn unknown_messages_walk_the_ladder_argument_by_argument() {
        let s = spec(&["a", "b"], "def f(a, b):\n    return a(b)\n");
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let f = failed(
            "f(1, 'x')",
            "TypeError",
            "not enough arguments for format string",
        );
        let out = adapt_calls(&s, &[f], &mut rng, 3);
        let parsed: Vec<_> = out.iter().map(|c| parse_call(&c.call).unwrap()).collect();
        // Ladder step 1 is int: `a` is one already, so `b` gets it; then str for `a`.
        assert_eq!(
            (parsed[0].pos[0].0.as_str(), &parsed[0].pos[1].1),
            ("1", &Int)
        );
        assert_eq!(
            (&parsed[1].pos[0].1, parsed[1].pos[1].0.as_str()),
            (&Str, "'x'")
        );
        assert!(matches!(parsed[2].pos[0].1, List(_)), "{out:?}");
    }

    #[test]
    fn methods_keep_self_and_edits_are_spread_across_failures() {
        let s = FunctionSpec {
            receiver: Some("None".into()),
            ..spec(&["self", "x"], "def m(self, x):\n    return len(x)\n")
        };
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let fs: Vec<FailedCall> = (0..5)
            .map(|i| {
                failed(
                    &format!("f(None, {i})"),
                    "TypeError",
                    "object of type 'int' has no len()",
                )
            })
            .collect();
        let out = adapt_calls(&s, &fs, &mut rng, 8);
        assert_eq!(out.len(), 8);
        assert!(out.iter().all(|c| c.call.starts_with("f(None, ")));
        // The first pass proposes each distinct edit once (str, then list), then repeats.
        let types = arg_types(&out, 1);
        assert_eq!(types[0], Str);
        assert!(matches!(types[1], List(_)), "{types:?}");
        let calls: HashSet<_> = out.iter().map(|c| &c.call).collect();
        assert_eq!(calls.len(), out.len());
        assert!(!calls.iter().any(|c| fs.iter().any(|f| f.call == **c)));
    }
}
