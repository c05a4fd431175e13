//! The input sources, their order and budget, and how argument values become
//! a call expression.
//!
//! Order matters because callers usually keep the first `k`: known-good
//! example calls first, then their mutations (near known-good), a baseline
//! with defaults, and only then type-directed random draws.

use std::collections::HashSet;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ruff_python_ast::Expr;
use ruff_text_size::{Ranged, TextRange};
use tracecode_data::schema::ParamKind;

use super::{
    infer_param_types, mutate_arg, random_value, random_value_with, zero_value, FunctionSpec,
    RandomConfig, ValueType,
};

/// Where a generated call came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputStrategy {
    /// An example call from a doctest or test, verbatim.
    Examples,
    /// Every defaulted parameter omitted, required ones at their type's zero value.
    Defaults,
    /// Random values of the annotated types.
    TypeHints,
    /// Random values of types inferred from how the body uses the parameters.
    Usage,
    /// Random values of whatever is known, anything where nothing is.
    Random,
    /// Example calls with one or two literal arguments nudged.
    Mutation,
    /// Calls that failed at entry with argument types changed the way their
    /// exception message says (see [`super::adapt_calls`]); not a source
    /// [`generate_calls`] draws from, since it needs the failures first.
    Adapted,
    /// Values drawn from the parameter types alone, seeded by the normalised
    /// type signature and not by the function (see [`canonical_calls`]): any
    /// two functions with one signature run on the same canonical inputs, so
    /// their behaviour can be compared input by input.
    Canonical,
}

/// One call expression to trace, e.g. `f(1, [2, 3])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCall {
    pub call: String,
    pub strategy: InputStrategy,
}

/// A kind of input source. Proposals may repeat; [`generate_calls`] dedups.
pub trait InputSource {
    fn strategy(&self) -> InputStrategy;
    /// Up to `n` call expressions for `spec`, drawing randomness only from `rng`.
    fn propose(&self, spec: &FunctionSpec, rng: &mut ChaCha8Rng, n: usize) -> Vec<String>;
}

impl InputSource for InputStrategy {
    fn strategy(&self) -> InputStrategy {
        *self
    }

    fn propose(&self, spec: &FunctionSpec, rng: &mut ChaCha8Rng, n: usize) -> Vec<String> {
        match self {
            InputStrategy::Examples => spec
                .examples
                .iter()
                .take(n)
                .map(|e| e.call.clone())
                .collect(),
            InputStrategy::Mutation => mutations(spec, rng, n),
            // Adaptation answers failures (`adapt_calls`); from a spec alone it has nothing.
            InputStrategy::Adapted => Vec::new(),
            // Canonical draws never come from the caller's stream: they are
            // seeded by the signature (and a base seed, here 0) alone.
            InputStrategy::Canonical => canonical_calls(spec, n, 0)
                .into_iter()
                .map(|c| c.call)
                .collect(),
            InputStrategy::Defaults => {
                let types = param_types(spec);
                let values = spec
                    .params
                    .iter()
                    .zip(&types)
                    .map(|(p, t)| match p.kind {
                        ParamKind::VarPositional | ParamKind::VarKeyword => None,
                        _ if p.default.is_some() => None,
                        _ => Some(zero_value(&t.ty)),
                    })
                    .collect();
                vec![build_call(spec, values)]
            }
            InputStrategy::TypeHints | InputStrategy::Usage | InputStrategy::Random => {
                let types = param_types(spec);
                let wanted = |s: Source| match self {
                    InputStrategy::TypeHints => s == Source::Hint,
                    _ => s == Source::Usage,
                };
                if *self != InputStrategy::Random && !types.iter().any(|t| wanted(t.source)) {
                    return Vec::new();
                }
                (0..n).map(|_| random_call(spec, &types, rng)).collect()
            }
        }
    }
}

/// Up to `k` distinct calls for `spec`, deterministic for `seed`: examples,
/// then mutations (up to half of what is left), one defaults baseline, then
/// type-hint, usage and random draws sharing the rest.
/// The order in which [`generate_calls`] draws from the sources: known-good
/// calls first, so they win coverage ties.
pub const STRATEGY_ORDER: [InputStrategy; 6] = [
    InputStrategy::Examples,
    InputStrategy::Mutation,
    InputStrategy::Defaults,
    InputStrategy::TypeHints,
    InputStrategy::Usage,
    InputStrategy::Random,
];

pub fn generate_calls(spec: &FunctionSpec, k: usize, seed: u64) -> Vec<GeneratedCall> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<GeneratedCall> = Vec::new();
    let mut seen = HashSet::new();
    let order = STRATEGY_ORDER;
    for (i, source) in order.iter().enumerate() {
        let left = k - out.len();
        let budget = match source {
            InputStrategy::Examples | InputStrategy::Random => left,
            InputStrategy::Mutation => left / 2,
            InputStrategy::Defaults => left.min(1),
            // TypeHints and Usage split what is left with Random.
            _ => left.div_ceil(order.len() - i),
        };
        if budget == 0 {
            continue;
        }
        // Over-propose so that duplicates do not starve the budget.
        let mut taken = 0;
        for call in source.propose(spec, &mut rng, budget * 3) {
            if taken == budget {
                break;
            }
            if seen.insert(call.clone()) {
                out.push(GeneratedCall {
                    call,
                    strategy: source.strategy(),
                });
                taken += 1;
            }
        }
    }
    out
}

/// The parameters canonical inputs fill, by index: the required ones,
/// without a method's `self`/`cls` and the variadic ones (defaulted
/// parameters are left to their defaults).
fn canonical_slots(spec: &FunctionSpec) -> Vec<usize> {
    spec.params
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            !(spec.receiver.is_some() && *i == 0)
                && p.default.is_none()
                && !matches!(p.kind, ParamKind::VarPositional | ParamKind::VarKeyword)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The normalised type signature of `spec`: the canonical name of the
/// best-known type of each parameter canonical inputs fill, e.g.
/// `(list[int], int)`. Parameter names, `self` and defaulted parameters
/// never enter it.
pub fn canonical_signature(spec: &FunctionSpec) -> String {
    signature_of(&param_types(spec), &canonical_slots(spec))
}

fn signature_of(types: &[ParamType], slots: &[usize]) -> String {
    let names: Vec<String> = slots
        .iter()
        .map(|&i| types[i].ty.canonical_name())
        .collect();
    format!("({})", names.join(", "))
}

/// Up to `n` distinct canonical calls: values of the signature's types,
/// drawn from a stream seeded by `seed` and the signature alone, so two
/// functions with the same signature get the same values in the same order
/// (the calls differ only in the function's name and a method's `None` for
/// `self`).
pub fn canonical_calls(spec: &FunctionSpec, n: usize, seed: u64) -> Vec<GeneratedCall> {
    let types = param_types(spec);
    let slots = canonical_slots(spec);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ stable_hash(&signature_of(&types, &slots)));
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for _ in 0..3 * n {
        if out.len() == n {
            break;
        }
        let values: Vec<Option<String>> = (0..spec.params.len())
            .map(|i| {
                slots
                    .contains(&i)
                    .then(|| random_value_with(&types[i].ty, &mut rng, RandomConfig::canonical()))
            })
            .collect();
        let call = build_call(spec, values);
        if seen.insert(call.clone()) {
            out.push(GeneratedCall {
                call,
                strategy: InputStrategy::Canonical,
            });
        }
    }
    out
}

/// FNV-1a: a hash that never changes across Rust versions or platforms, so
/// canonical inputs stay the same from one release to the next.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Hint,
    Usage,
    Default,
    Unknown,
}

pub(super) struct ParamType {
    pub(super) ty: ValueType,
    source: Source,
}

/// Sphinx-style type fields of a docstring (`:type nums: List[int]`), by
/// parameter name: hints as good as annotations, common in older code.
fn docstring_types(code: &str) -> Vec<(String, ValueType)> {
    static FIELD: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?m)^\s*:type\s+(\w+)\s*:\s*(\S.*?)\s*$").expect("valid regex")
    });
    FIELD
        .captures_iter(code)
        .map(|c| (c[1].to_string(), ValueType::from_annotation(&c[2])))
        .collect()
}

/// Best-known type per parameter: annotation (or a docstring `:type:`
/// field), then body usage, then the default's literal type.
pub(super) fn param_types(spec: &FunctionSpec) -> Vec<ParamType> {
    let usage = infer_param_types(&spec.code);
    let documented = docstring_types(&spec.code);
    spec.params
        .iter()
        .map(|p| {
            let hinted = p
                .annotation
                .as_deref()
                .map_or(ValueType::Any, ValueType::from_annotation);
            let hinted = if hinted == ValueType::Any {
                documented
                    .iter()
                    .find(|(n, _)| *n == p.name)
                    .map_or(ValueType::Any, |(_, t)| t.clone())
            } else {
                hinted
            };
            if hinted != ValueType::Any {
                return ParamType {
                    ty: hinted,
                    source: Source::Hint,
                };
            }
            let used = usage
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, t)| t.clone());
            if let Some(ty) = used.filter(|t| *t != ValueType::Any) {
                return ParamType {
                    ty,
                    source: Source::Usage,
                };
            }
            let lit = p
                .default
                .as_deref()
                .map_or(ValueType::Any, ValueType::of_literal);
            let source = if lit == ValueType::Any {
                Source::Unknown
            } else {
                Source::Default
            };
            ParamType { ty: lit, source }
        })
        .collect()
}

/// One random call: defaulted params are omitted 30% of the time, `*args`
/// gets one extra element half the time, `**kwargs` gets nothing.
fn random_call(spec: &FunctionSpec, types: &[ParamType], rng: &mut ChaCha8Rng) -> String {
    let values = spec
        .params
        .iter()
        .zip(types)
        .map(|(p, t)| match p.kind {
            ParamKind::VarKeyword => None,
            ParamKind::VarPositional => rng.gen_bool(0.5).then(|| random_value(&t.ty, rng)),
            _ if p.default.is_some() && rng.gen_bool(0.3) => None,
            _ => Some(random_value(&t.ty, rng)),
        })
        .collect();
    build_call(spec, values)
}

/// `name(args)` from one optional value per parameter (`None` = omit).
/// Once a positional parameter is omitted, later ones go by keyword; a
/// method's first parameter (`self`/`cls`) is always passed as `None`.
fn build_call(spec: &FunctionSpec, values: Vec<Option<String>>) -> String {
    let mut args = Vec::new();
    let mut kwargs = Vec::new();
    let mut by_keyword = false;
    for (i, (p, v)) in spec.params.iter().zip(values).enumerate() {
        let v = match &spec.receiver {
            Some(receiver) if i == 0 => Some(receiver.clone()),
            _ => v,
        };
        match (p.kind, v) {
            (ParamKind::VarKeyword, _) => {}
            (ParamKind::VarPositional, Some(v)) if !by_keyword => args.push(v),
            (ParamKind::PositionalOnly | ParamKind::PositionalOrKeyword, None) => by_keyword = true,
            (ParamKind::PositionalOnly, Some(v)) if !by_keyword => args.push(v),
            (ParamKind::PositionalOrKeyword, Some(v)) if !by_keyword => args.push(v),
            (ParamKind::PositionalOrKeyword | ParamKind::KeywordOnly, Some(v)) => {
                kwargs.push(format!("{}={v}", p.name))
            }
            _ => {}
        }
    }
    args.extend(kwargs);
    format!("{}({})", spec.name, args.join(", "))
}

/// Example calls with one argument (sometimes two) mutated, spliced into the
/// original text so non-literal arguments survive untouched.
fn mutations(spec: &FunctionSpec, rng: &mut ChaCha8Rng, n: usize) -> Vec<String> {
    let examples: Vec<&str> = spec.examples.iter().map(|e| e.call.as_str()).collect();
    mutate_calls(&examples, rng, n)
}

/// Up to `n` calls near `calls`: one or two literal arguments of a call
/// nudged (see [`mutate_arg`]), cycling through `calls` in order. The source
/// of mutation inputs, and of coverage-guided search, which mutates the calls
/// that already run well.
pub fn mutate_calls(calls: &[&str], rng: &mut ChaCha8Rng, n: usize) -> Vec<String> {
    let calls: Vec<(String, Vec<TextRange>)> = calls
        .iter()
        .filter_map(|&text| {
            let parsed = ruff_python_parser::parse_expression(text).ok()?;
            let Expr::Call(call) = parsed.expr() else {
                return None;
            };
            let ranges = call
                .arguments
                .args
                .iter()
                .filter(|a| !a.is_starred_expr())
                .map(|a| a.range())
                .chain(
                    call.arguments
                        .keywords
                        .iter()
                        .filter(|k| k.arg.is_some())
                        .map(|k| k.value.range()),
                )
                .collect::<Vec<_>>();
            (!ranges.is_empty()).then(|| (text.to_string(), ranges))
        })
        .collect();
    let mut out = Vec::new();
    if calls.is_empty() {
        return out;
    }
    for attempt in 0..n * 4 {
        if out.len() == n {
            break;
        }
        let (text, ranges) = &calls[attempt % calls.len()];
        let mut picks = vec![rng.gen_range(0..ranges.len())];
        if ranges.len() > 1 && rng.gen_bool(0.3) {
            picks.push(rng.gen_range(0..ranges.len()));
        }
        picks.sort_unstable();
        picks.dedup();
        let mut new = text.clone();
        let mut changed = false;
        // Right to left, so earlier ranges stay valid.
        for &i in picks.iter().rev() {
            let r = ranges[i];
            if let Some(m) = mutate_arg(&text[r], rng) {
                new.replace_range(usize::from(r.start())..usize::from(r.end()), &m);
                changed = true;
            }
        }
        if changed {
            out.push(new);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracecode_data::schema::{ExampleCall, Param};

    fn param(name: &str, kind: ParamKind, ann: Option<&str>, default: Option<&str>) -> Param {
        Param {
            name: name.into(),
            kind,
            annotation: ann.map(Into::into),
            default: default.map(Into::into),
        }
    }

    fn spec() -> FunctionSpec {
        FunctionSpec {
            name: "f".into(),
            params: vec![
                param(
                    "xs",
                    ParamKind::PositionalOrKeyword,
                    Some("List[int]"),
                    None,
                ),
                param("k", ParamKind::PositionalOrKeyword, None, None),
                param("flag", ParamKind::PositionalOrKeyword, None, Some("False")),
                param("args", ParamKind::VarPositional, None, None),
                param("kw", ParamKind::VarKeyword, None, None),
            ],
            code: "def f(xs: List[int], k, flag=False, *args, **kw):\n    return xs[k % 3]\n"
                .into(),
            receiver: None,
            examples: vec![ExampleCall {
                call: "f([1, 2, 3], 1)".into(),
                expected: Some("2".into()),
                origin: "doctest".into(),
            }],
        }
    }

    #[test]
    fn order_determinism_and_dedup() {
        let s = spec();
        let a = generate_calls(&s, 20, 42);
        assert_eq!(a, generate_calls(&s, 20, 42));
        assert_ne!(a, generate_calls(&s, 20, 43));
        assert_eq!(a.len(), 20);
        assert_eq!(
            a[0],
            GeneratedCall {
                call: "f([1, 2, 3], 1)".into(),
                strategy: InputStrategy::Examples
            }
        );
        assert_eq!(a[1].strategy, InputStrategy::Mutation);
        let rank = |s: InputStrategy| STRATEGY_ORDER.iter().position(|x| *x == s);
        assert!(a
            .windows(2)
            .all(|w| rank(w[0].strategy) <= rank(w[1].strategy)));
        assert!(a.iter().any(|c| c.strategy == InputStrategy::TypeHints));
        assert!(a
            .iter()
            .any(|c| c.strategy == InputStrategy::Defaults && c.call == "f([], 0)"));
        let unique: HashSet<_> = a.iter().map(|c| &c.call).collect();
        assert_eq!(unique.len(), a.len());
        for c in &a {
            let parsed = ruff_python_parser::parse_expression(&c.call)
                .unwrap_or_else(|_| panic!("{}", c.call));
            let Expr::Call(call) = parsed.expr() else {
                panic!("{}", c.call)
            };
            // xs and k always; flag may be omitted; at most one *args element.
            let n = call.arguments.args.len() + call.arguments.keywords.len();
            assert!((2..=4).contains(&n), "{}", c.call);
            assert!(call
                .arguments
                .keywords
                .iter()
                .all(|k| k.arg.as_ref().unwrap().as_str() == "flag"));
        }
        // Defaulted params are sometimes omitted.
        assert!(a.iter().any(|c| c.strategy != InputStrategy::Examples
            && c.call.matches(',').count() == 1
            && !c.call.starts_with("f([1")));
    }

    #[test]
    fn methods_get_none_for_self_and_omission_switches_to_keywords() {
        let s = FunctionSpec {
            name: "m".into(),
            params: vec![
                param("self", ParamKind::PositionalOrKeyword, None, None),
                param("a", ParamKind::PositionalOrKeyword, Some("int"), Some("1")),
                param(
                    "b",
                    ParamKind::PositionalOrKeyword,
                    Some("str"),
                    None.or(Some("'x'")),
                ),
            ],
            code: "def m(self, a: int = 1, b: str = 'x'):\n    return a\n".into(),
            receiver: Some("None".into()),
            examples: vec![],
        };
        let calls = generate_calls(&s, 30, 1);
        assert!(calls.iter().all(|c| c.call.starts_with("m(None")));
        assert!(calls.iter().any(|c| c.call == "m(None)"));
        assert!(calls.iter().any(|c| c.call.starts_with("m(None, b=")));
    }

    #[test]
    fn canonical_inputs_depend_on_the_type_signature_only() {
        let f = |name: &str, params: Vec<Param>, code: &str, is_method: bool| FunctionSpec {
            name: name.into(),
            params,
            code: code.into(),
            receiver: is_method.then(|| "None".to_string()),
            examples: vec![],
        };
        let p = |n: &str, ann: Option<&str>, default: Option<&str>| {
            param(n, ParamKind::PositionalOrKeyword, ann, default)
        };
        // Annotated, documented (Sphinx :type:) and a method with another
        // name, other parameter names and a defaulted extra: one signature.
        let a = f(
            "two_sum",
            vec![
                p("nums", Some("List[int]"), None),
                p("target", Some("int"), None),
            ],
            "def two_sum(nums: List[int], target: int):\n    return nums\n",
            false,
        );
        let b = f(
            "twoSum",
            vec![
                p("self", None, None),
                p("xs", None, None),
                p("t", None, None),
                p("verbose", None, Some("False")),
            ],
            "def twoSum(self, xs, t, verbose=False):\n    \"\"\"\n    :type xs: List[int]\n    :type t: int\n    \"\"\"\n    return xs\n",
            true,
        );
        assert_eq!(canonical_signature(&a), "(list[int], int)");
        assert_eq!(canonical_signature(&b), canonical_signature(&a));
        let (ca, cb) = (canonical_calls(&a, 6, 0), canonical_calls(&b, 6, 0));
        assert_eq!(ca.len(), 6);
        assert!(cb.iter().all(|c| c.strategy == InputStrategy::Canonical));
        for (x, y) in ca.iter().zip(&cb) {
            let args_a = x.call.strip_prefix("two_sum(").unwrap();
            let args_b = y.call.strip_prefix("twoSum(None, ").unwrap();
            assert_eq!(args_a, args_b);
        }
        // Another base seed, or another signature, draws other values.
        assert_ne!(canonical_calls(&a, 6, 1), ca);
        let c = f(
            "g",
            vec![p("s", Some("str"), None), p("k", Some("int"), None)],
            "def g(s: str, k: int):\n    return s\n",
            false,
        );
        let cc = canonical_calls(&c, 6, 0);
        assert!(
            cc[0].call.starts_with("g('") || cc[0].call.starts_with("g(\""),
            "{cc:?}"
        );
    }

    #[test]
    fn usage_and_random_without_hints() {
        let s = FunctionSpec {
            name: "g".into(),
            params: vec![param("s", ParamKind::PositionalOrKeyword, None, None)],
            code: "def g(s):\n    return s.upper()\n".into(),
            receiver: None,
            examples: vec![],
        };
        let calls = generate_calls(&s, 10, 9);
        assert!(calls.iter().any(|c| c.strategy == InputStrategy::Usage));
        assert!(
            calls
                .iter()
                .all(|c| c.call.starts_with("g('") || c.call.starts_with("g(\"")),
            "{calls:?}"
        );
        // Nothing to vary: a no-parameter function yields one call.
        let empty = FunctionSpec {
            params: vec![],
            code: "def h():\n    pass\n".into(),
            name: "h".into(),
            ..s
        };
        assert_eq!(
            generate_calls(&empty, 10, 0),
            vec![GeneratedCall {
                call: "h()".into(),
                strategy: InputStrategy::Defaults
            }]
        );
    }
}
