//! Property-based random values for a [`ValueType`], written as Python source.
//!
//! Small sizes (0..=8) keep traces short; a fixed share of draws are edge
//! cases (zero, ±1, empty containers, 2**31, non-ASCII text, duplicates,
//! sorted lists) because those are where branches in real code diverge.
//! NaN and infinities are never produced: they have no literal and make
//! traced comparisons meaningless.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::ValueType;

/// Knobs for random generation; `Default` is what [`random_value`] uses.
#[derive(Debug, Clone, Copy)]
pub struct RandomConfig {
    /// Longest collection or string drawn.
    pub max_len: usize,
    /// Probability that a draw is an edge case instead of an ordinary value.
    pub edge_prob: f64,
    /// Nesting depth below which collections are always empty (bounds output size).
    pub max_depth: usize,
    /// Ordinary ints in 0..=20 and non-empty top-level collections only (no
    /// wide or negative ints): values inside most functions' domains.
    pub plain: bool,
}

impl Default for RandomConfig {
    fn default() -> Self {
        RandomConfig {
            max_len: 8,
            edge_prob: 0.2,
            max_depth: 3,
            plain: false,
        }
    }
}

impl RandomConfig {
    /// For canonical inputs, which compare programs with each other: an
    /// input that most programs reject or answer trivially (a negative
    /// size, an empty list) tells them apart by nothing, so draws are plain
    /// and edge cases rare.
    pub fn canonical() -> Self {
        RandomConfig {
            edge_prob: 0.05,
            plain: true,
            ..RandomConfig::default()
        }
    }
}

/// A random value of type `ty` as a Python literal (always a valid expression).
pub fn random_value(ty: &ValueType, rng: &mut ChaCha8Rng) -> String {
    Gen {
        cfg: RandomConfig::default(),
        rng,
    }
    .value(ty, 0)
}

/// Like [`random_value`] with explicit settings.
pub fn random_value_with(ty: &ValueType, rng: &mut ChaCha8Rng, cfg: RandomConfig) -> String {
    Gen { cfg, rng }.value(ty, 0)
}

/// The simplest value of a type (`0`, `''`, `[]`), for the `Defaults` baseline.
pub fn zero_value(ty: &ValueType) -> String {
    match ty {
        ValueType::Int | ValueType::Any => "0".into(),
        ValueType::Float => "0.0".into(),
        ValueType::Bool => "False".into(),
        ValueType::Str => "''".into(),
        ValueType::Bytes => "b''".into(),
        ValueType::None | ValueType::Optional(_) => "None".into(),
        ValueType::List(_) => "[]".into(),
        ValueType::Tuple(ts) => tuple_src(ts.iter().map(zero_value).collect()),
        ValueType::TupleOf(_) => "()".into(),
        ValueType::Dict(..) => "{}".into(),
        ValueType::Set(_) => "set()".into(),
        ValueType::FrozenSet(_) => "frozenset()".into(),
        ValueType::Union(ts) => ts.first().map_or("None".into(), zero_value),
    }
}

const INT_EDGES: &[i64] = &[0, 1, -1, 2, 10, 100, 2147483648, -2147483648, 2147483647];
const FLOAT_EDGES: &[f64] = &[0.0, 1.0, -1.0, 0.5, -2.5, 1e-9, 1e10, 2.75];
const STR_EDGES: &[&str] = &[
    "",
    "a",
    " ",
    "aa",
    "é✓",
    "Hello World",
    "123",
    "a\nb",
    "it's",
];
const ALPHABET: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'x', 'y', 'z', 'A', 'B', '0', '1', '9', ' ',
];

struct Gen<'r> {
    cfg: RandomConfig,
    rng: &'r mut ChaCha8Rng,
}

impl Gen<'_> {
    fn edge(&mut self) -> bool {
        self.rng.gen_bool(self.cfg.edge_prob)
    }

    fn len(&mut self, depth: usize) -> usize {
        if depth >= self.cfg.max_depth {
            0
        } else if self.cfg.plain && depth == 0 {
            self.rng.gen_range(1..=self.cfg.max_len)
        } else if self.edge() {
            *[0, 1, self.cfg.max_len].choose(self.rng).unwrap()
        } else {
            self.rng.gen_range(0..=self.cfg.max_len)
        }
    }

    fn int(&mut self) -> i64 {
        if self.edge() {
            *INT_EDGES.choose(self.rng).unwrap()
        } else if self.cfg.plain {
            self.rng.gen_range(0..=20)
        } else if self.rng.gen_bool(0.8) {
            self.rng.gen_range(-10..=20)
        } else {
            self.rng.gen_range(-1000..=1000)
        }
    }

    fn value(&mut self, ty: &ValueType, depth: usize) -> String {
        match ty {
            ValueType::Int => self.int().to_string(),
            ValueType::Float => {
                let x = if self.edge() {
                    *FLOAT_EDGES.choose(self.rng).unwrap()
                } else {
                    (self.rng.gen_range(-100.0..100.0_f64) * 100.0).round() / 100.0
                };
                float_repr(x)
            }
            ValueType::Bool => if self.rng.gen_bool(0.5) {
                "True"
            } else {
                "False"
            }
            .into(),
            ValueType::None => "None".into(),
            ValueType::Str => {
                if self.edge() {
                    return py_str_repr(STR_EDGES.choose(self.rng).unwrap());
                }
                let n = self.len(0);
                let s: String = (0..n)
                    .map(|_| *ALPHABET.choose(self.rng).unwrap())
                    .collect();
                py_str_repr(&s)
            }
            ValueType::Bytes => {
                let n = self.len(0);
                let b: Vec<u8> = (0..n).map(|_| self.rng.gen_range(0..=255u8)).collect();
                py_bytes_repr(&b)
            }
            ValueType::List(t) => format!("[{}]", self.elements(t, depth).join(", ")),
            ValueType::TupleOf(t) => tuple_src(self.elements(t, depth)),
            ValueType::Tuple(ts) => {
                tuple_src(ts.iter().map(|t| self.value(t, depth + 1)).collect())
            }
            ValueType::Set(t) | ValueType::FrozenSet(t) => {
                let t = hashable(t);
                let mut items = self.elements(&t, depth);
                dedup(&mut items);
                let frozen = matches!(ty, ValueType::FrozenSet(_));
                match (items.is_empty(), frozen) {
                    (true, false) => "set()".into(),
                    (true, true) => "frozenset()".into(),
                    (false, false) => format!("{{{}}}", items.join(", ")),
                    (false, true) => format!("frozenset({{{}}})", items.join(", ")),
                }
            }
            ValueType::Dict(k, v) => {
                let k = hashable(k);
                let n = self.len(depth);
                let mut keys: Vec<String> = (0..n).map(|_| self.value(&k, depth + 1)).collect();
                dedup(&mut keys);
                let items: Vec<String> = keys
                    .into_iter()
                    .map(|key| format!("{key}: {}", self.value(v, depth + 1)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            ValueType::Optional(t) => {
                if self.rng.gen_bool(0.2) {
                    "None".into()
                } else {
                    self.value(t, depth)
                }
            }
            ValueType::Union(ts) if !ts.is_empty() => {
                let t = ts.choose(self.rng).unwrap().clone();
                self.value(&t, depth)
            }
            ValueType::Union(_) | ValueType::Any => {
                // Weighted towards what untyped benchmark functions usually take.
                let options = [
                    ValueType::Int,
                    ValueType::Int,
                    ValueType::Str,
                    ValueType::List(Box::new(ValueType::Int)),
                    ValueType::Float,
                    ValueType::Bool,
                ];
                let t = options.choose(self.rng).unwrap().clone();
                self.value(&t, depth)
            }
        }
    }

    /// Elements of a homogeneous collection, sometimes sorted or with a duplicate.
    fn elements(&mut self, t: &ValueType, depth: usize) -> Vec<String> {
        let n = self.len(depth);
        let mut items: Vec<String> = (0..n).map(|_| self.value(t, depth + 1)).collect();
        if items.len() >= 2 && self.edge() {
            let i = self.rng.gen_range(0..items.len());
            let j = self.rng.gen_range(0..items.len());
            items[j] = items[i].clone();
        }
        if *t == ValueType::Int && self.edge() {
            items.sort_by_key(|s| s.parse::<i64>().unwrap_or(0));
            if self.rng.gen_bool(0.5) {
                items.reverse();
            }
        }
        items
    }
}

/// Unhashable key/member types are replaced by `str` so the literal can be built.
fn hashable(t: &ValueType) -> ValueType {
    match t {
        ValueType::Any => ValueType::Int,
        t if t.is_hashable() => t.clone(),
        _ => ValueType::Str,
    }
}

fn dedup(items: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|s| seen.insert(s.clone()));
}

/// Tuple source with Python's one-element trailing comma.
pub(crate) fn tuple_src(items: Vec<String>) -> String {
    match items.len() {
        1 => format!("({},)", items[0]),
        _ => format!("({})", items.join(", ")),
    }
}

/// A finite float as Python would print it (Rust's `Debug` form is valid Python).
pub(crate) fn float_repr(x: f64) -> String {
    debug_assert!(x.is_finite());
    format!("{x:?}")
}

/// `repr(s)` for a Python `str`: single quotes unless the text holds `'` but not `"`.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => {
                let n = c as u32;
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr(b)` for Python `bytes` (printable ASCII kept, everything else `\xNN`).
pub fn py_bytes_repr(b: &[u8]) -> String {
    let mut out = String::from("b'");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(c as char),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn all_types() -> Vec<ValueType> {
        [
            "int",
            "float",
            "bool",
            "str",
            "bytes",
            "None",
            "List[int]",
            "List[List[str]]",
            "Tuple[int, str]",
            "Tuple[int]",
            "tuple[float, ...]",
            "Dict[str, List[int]]",
            "Dict[list, int]",
            "Set[int]",
            "FrozenSet[str]",
            "Optional[int]",
            "Union[int, str]",
            "Any",
            "Set[Any]",
        ]
        .iter()
        .map(|a| ValueType::from_annotation(a))
        .collect()
    }

    #[test]
    fn literals_parse_as_python() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for ty in all_types() {
            for _ in 0..200 {
                let src = random_value(&ty, &mut rng);
                assert!(
                    ruff_python_parser::parse_expression(&src).is_ok(),
                    "{ty:?} gave invalid Python: {src}"
                );
            }
            assert!(ruff_python_parser::parse_expression(&zero_value(&ty)).is_ok());
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let draw = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            all_types()
                .iter()
                .map(|t| random_value(t, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }

    #[test]
    fn edge_cases_show_up_and_sizes_are_bounded() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let ints: Vec<String> = (0..500)
            .map(|_| random_value(&ValueType::Int, &mut rng))
            .collect();
        assert!(ints.iter().any(|s| s == "2147483648"));
        assert!(ints.iter().any(|s| s == "0"));
        let list = ValueType::List(Box::new(ValueType::Int));
        let lists: Vec<String> = (0..300).map(|_| random_value(&list, &mut rng)).collect();
        assert!(lists.iter().any(|s| s == "[]"));
        assert!(lists.iter().all(|s| s.matches(',').count() <= 7));
        let strs: Vec<String> = (0..500)
            .map(|_| random_value(&ValueType::Str, &mut rng))
            .collect();
        assert!(strs.iter().any(|s| s == "'é✓'"));
    }

    #[test]
    fn repr_matches_python() {
        assert_eq!(py_str_repr("it's"), "\"it's\"");
        assert_eq!(py_str_repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(py_str_repr("x\u{e9}\n\u{1}"), "'xé\\n\\x01'");
        assert_eq!(py_bytes_repr(b"a'\x00"), "b'a\\'\\x00'");
        assert_eq!(float_repr(-2.5), "-2.5");
        assert_eq!(float_repr(1e-9), "1e-9");
        assert_eq!(tuple_src(vec!["1".into()]), "(1,)");
    }
}
