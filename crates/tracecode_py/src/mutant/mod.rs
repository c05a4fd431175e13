//! Mutants: single small changes to a function that (almost always) change
//! its behaviour, the hard negatives of contrastive training: a mutant looks
//! like the original but its trace differs.
//!
//! Layout follows HF tokenizers' `normalizers/`: one [`MutationOperator`]
//! trait, one file per operator, and [`MutantKind`] naming them all. The
//! operators are the classic mutation-testing ones (as in CodeExecutor's
//! mutation data). Every mutant is made of [`TextEdit`]s on the original
//! source, so everything outside the mutated node stays byte-for-byte, and is
//! re-parsed by [`apply_edits`] before it is returned. Only the function body
//! is mutated, never decorators, parameter defaults or annotations.

mod arithmetic_operator;
mod body;
mod boolean_operator;
mod comparison_operator;
mod constant;
mod delete_statement;
mod negate_condition;
mod return_value;
mod swap_arguments;

pub use arithmetic_operator::ArithmeticOperator;
pub use boolean_operator::BooleanOperator;
pub use comparison_operator::ComparisonOperator;
pub use constant::Constant;
pub use delete_statement::DeleteStatement;
pub use negate_condition::NegateCondition;
pub use return_value::ReturnValue;
pub use swap_arguments::SwapArguments;

use std::collections::HashSet;
use std::fmt::Display;
use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ruff_text_size::TextRange;
use serde::{Deserialize, Serialize};

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit, Variant};

/// Where a mutation applies: the range of source text it rewrites (an
/// operator token, a literal, a statement). Unique among one operator's sites,
/// so it identifies the mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Site {
    pub range: TextRange,
}

/// One mutation an operator can make: its site, the edits, and a note saying
/// what changed (`line 4: < → <=`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    pub site: Site,
    pub edits: Vec<TextEdit>,
    pub note: String,
}

impl Mutation {
    /// Replaces `range` with `replacement`; `what` becomes the note after the
    /// line number of `range`.
    fn replace(
        f: &ParsedFunction,
        range: TextRange,
        replacement: impl Into<String>,
        what: impl Display,
    ) -> Self {
        Mutation {
            site: Site { range },
            edits: vec![TextEdit::replace(range, replacement)],
            note: body::note(f, range.start(), what),
        }
    }
}

/// A kind of mutation. Implementors list every mutation up front (they are
/// cheap), so [`sites`](Self::sites) and [`mutate`](Self::mutate) agree.
pub trait MutationOperator {
    fn kind(&self) -> MutantKind;

    /// Every mutation this operator can make in `f`, in source order.
    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation>;

    /// Every site where this operator applies, in source order.
    fn sites(&self, f: &ParsedFunction) -> Vec<Site> {
        self.mutations(f).into_iter().map(|m| m.site).collect()
    }

    /// The edits and note of the mutation at `site`.
    fn mutate(
        &self,
        f: &ParsedFunction,
        site: &Site,
    ) -> Result<(Vec<TextEdit>, String), EditError> {
        self.mutations(f)
            .into_iter()
            .find(|m| m.site == *site)
            .map(|m| (m.edits, m.note))
            .ok_or_else(|| {
                EditError::NotApplicable(format!(
                    "no {} site at {:?}",
                    self.kind().name(),
                    site.range
                ))
            })
    }
}

/// Sorts by position: operators collect from statements and expressions
/// separately, and nested operands put inner operators before outer ones.
fn in_source_order(mut mutations: Vec<Mutation>) -> Vec<Mutation> {
    mutations.sort_by_key(|m| (m.site.range.start(), m.site.range.end()));
    mutations
}

/// The mutation operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutantKind {
    /// `+` ↔ `-`, `*` → `//`, `/` → `*`, `%` → `//`, ..., also in `+=` etc.
    ArithmeticOperator,
    /// `<` ↔ `<=`, `>` ↔ `>=`, `==` ↔ `!=`, `in` ↔ `not in`, `is` ↔ `is not`.
    ComparisonOperator,
    /// `and` ↔ `or`, and dropping a `not`.
    BooleanOperator,
    /// Integer and float literals + 1, `True` ↔ `False`, a character
    /// appended to a string or bytes literal.
    Constant,
    /// `if c:`, `elif c:`, `while c:`, `x if c else y`, `[... if c]` → `not (c)`.
    NegateCondition,
    /// One simple statement deleted (replaced by `pass` if alone in its block).
    DeleteStatement,
    /// Two adjacent positional arguments of a call swapped.
    SwapArguments,
    /// `return x` → `return None`, literal return values changed.
    ReturnValue,
}

impl MutantKind {
    pub const ALL: [MutantKind; 8] = [
        MutantKind::ArithmeticOperator,
        MutantKind::ComparisonOperator,
        MutantKind::BooleanOperator,
        MutantKind::Constant,
        MutantKind::NegateCondition,
        MutantKind::DeleteStatement,
        MutantKind::SwapArguments,
        MutantKind::ReturnValue,
    ];

    /// The serde name, e.g. `arithmetic_operator`.
    pub const fn name(self) -> &'static str {
        match self {
            MutantKind::ArithmeticOperator => "arithmetic_operator",
            MutantKind::ComparisonOperator => "comparison_operator",
            MutantKind::BooleanOperator => "boolean_operator",
            MutantKind::Constant => "constant",
            MutantKind::NegateCondition => "negate_condition",
            MutantKind::DeleteStatement => "delete_statement",
            MutantKind::SwapArguments => "swap_arguments",
            MutantKind::ReturnValue => "return_value",
        }
    }

    pub fn operator(self) -> &'static dyn MutationOperator {
        match self {
            MutantKind::ArithmeticOperator => &ArithmeticOperator,
            MutantKind::ComparisonOperator => &ComparisonOperator,
            MutantKind::BooleanOperator => &BooleanOperator,
            MutantKind::Constant => &Constant,
            MutantKind::NegateCondition => &NegateCondition,
            MutantKind::DeleteStatement => &DeleteStatement,
            MutantKind::SwapArguments => &SwapArguments,
            MutantKind::ReturnValue => &ReturnValue,
        }
    }
}

impl FromStr for MutantKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MutantKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown mutant kind {s:?}"))
    }
}

/// One `kind` mutation of `code` at a site chosen by `seed`. If that site's
/// edit does not re-parse (an odd layout), the next site is tried.
/// `NotApplicable` when the function has no site for `kind`.
pub fn mutate(code: &str, kind: MutantKind, seed: u64) -> Result<Variant, EditError> {
    let f = ParsedFunction::parse(code)?;
    let mutations = kind.operator().mutations(&f);
    if mutations.is_empty() {
        return Err(EditError::NotApplicable(format!("no {} site", kind.name())));
    }
    let start = ChaCha8Rng::seed_from_u64(seed).gen_range(0..mutations.len());
    let mut error = None;
    for m in mutations.iter().cycle().skip(start).take(mutations.len()) {
        match apply(code, m) {
            Ok(new) => return Ok(Variant::original(code).then(new, kind.name(), &[], &m.note)),
            Err(e) => error = Some(e),
        }
    }
    Err(error.expect("at least one mutation tried"))
}

/// Up to `n` distinct single-mutation variants of `code`, deterministic for
/// `seed`. Kinds take turns in a seed-shuffled order, each trying its sites in
/// a seed-shuffled order, so a few mutants already cover many kinds. Empty if
/// `code` does not parse.
pub fn random_mutants(code: &str, n: usize, seed: u64) -> Vec<Variant> {
    random_mutants_where(code, n, seed, |_| true)
}

/// [`random_mutants`] restricted to sites on `lines` (1-based lines of
/// `code`), typically the lines its traced runs executed. As in mutation
/// testing, a mutant of code that no input reaches behaves identically on
/// every input by construction: it would only add noise to the negatives.
pub fn random_mutants_on_lines(
    code: &str,
    n: usize,
    seed: u64,
    lines: &HashSet<u32>,
) -> Vec<Variant> {
    let line_of = |offset: usize| code[..offset].matches('\n').count() as u32 + 1;
    random_mutants_where(code, n, seed, |m| {
        lines.contains(&line_of(m.site.range.start().to_usize()))
    })
}

fn random_mutants_where(
    code: &str,
    n: usize,
    seed: u64,
    keep: impl Fn(&Mutation) -> bool,
) -> Vec<Variant> {
    let Ok(f) = ParsedFunction::parse(code) else {
        return Vec::new();
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut kinds = MutantKind::ALL;
    kinds.shuffle(&mut rng);
    let mut queues: Vec<_> = kinds
        .into_iter()
        .map(|kind| {
            let mut mutations = kind.operator().mutations(&f);
            mutations.retain(|m| keep(m));
            mutations.shuffle(&mut rng);
            (kind, mutations.into_iter())
        })
        .collect();
    let mut seen = HashSet::from([code.to_string()]);
    let mut out = Vec::new();
    while out.len() < n && !queues.is_empty() {
        queues.retain_mut(|(kind, queue)| {
            if out.len() == n {
                return true;
            }
            let Some(m) = queue.next() else {
                return false;
            };
            if let Ok(new) = apply(code, &m) {
                if seen.insert(new.clone()) {
                    out.push(Variant::original(code).then(new, kind.name(), &[], m.note));
                }
            }
            true
        });
    }
    out
}

fn apply(code: &str, m: &Mutation) -> Result<String, EditError> {
    let new = apply_edits(code, m.edits.clone())?;
    if new == code {
        return Err(EditError::NotApplicable(format!("no change: {}", m.note)));
    }
    Ok(new)
}

/// Every mutation of `op` on `code`, applied: `(code, note)` in source order.
#[cfg(test)]
fn apply_all(op: &dyn MutationOperator, code: &str) -> Vec<(String, String)> {
    let f = ParsedFunction::parse(code).unwrap();
    op.mutations(&f)
        .iter()
        .map(|m| (apply(code, m).unwrap(), m.note.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;

    const FIXTURES: &[&str] = &[
        // stdlib-style search with docstring, comments, while loop, augmented ops.
        r#"def bisect_left(a, x, lo=0, hi=None, *, key=None):
    """Return the index where to insert item x in list a, assuming a is sorted.

    The return value i is such that all e in a[:i] have e < x.
    """
    if lo < 0:
        raise ValueError('lo must be non-negative')
    if hi is None:
        hi = len(a)
    # Note, the comparison uses "<" to match list.sort().
    while lo < hi:
        mid = (lo + hi) // 2
        if (a[mid] if key is None else key(a[mid])) < x:
            lo = mid + 1
        else:
            hi = mid  # keep hi
    return lo
"#,
        // MBPP: string loops with break.
        r#"def remove_Occ(s,ch): 
    for i in range(len(s)): 
        if (s[i] == ch): 
            s = s[0 : i] + s[i + 1:] 
            break
    for i in range(len(s) - 1,-1,-1):  
        if (s[i] == ch): 
            s = s[0 : i] + s[i + 1:] 
            break
    return s 
"#,
        // Comprehensions, f-strings, lambdas, keyword arguments.
        r#"def summarize(items, top=3):
    # count words, ignoring case
    counts = {}
    for word in items:
        word = word.lower().strip()
        if not word or word in ('a', 'the'):
            continue
        counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    lines = [f"{w}: {c}" for w, c in ranked[:top] if c > 1]
    return "\n".join(lines) if lines else f"no repeats in {len(items)} words"
"#,
        // try/except/finally, raise, isinstance, annotations.
        r#"def safe_ratio(num: float, den: float = 1.0) -> float:
    """Divide, mapping errors to sentinel values."""
    result = 0.0
    try:
        result = num / den
    except ZeroDivisionError:
        return float('inf') if num >= 0 else float('-inf')
    except TypeError as exc:  # bad operand
        raise ValueError(f"not numbers: {num!r}, {den!r}") from exc
    finally:
        pass
    assert isinstance(result, float), "float expected"
    return round(result, 4)
"#,
        // Recursion, and/or, not, is.
        r#"def flatten(xs, depth=-1, acc=None):
    acc = [] if acc is None else acc
    for x in xs:
        if isinstance(x, (list, tuple)) and depth != 0:
            flatten(x, depth - 1, acc)
        elif x is not None or not acc:
            acc.append(x)
    return acc
"#,
        // Decorator, nested function, nonlocal, bit operations.
        r#"@functools.lru_cache(maxsize=128)
def make_counter(start: int = 0, step=2):
    total = start

    def bump(k=1):
        nonlocal total
        total += k * step
        return total & 0xFF

    bump(); bump(3)
    return total << 1
"#,
        // Async with await and a bare return.
        r##"async def fetch_all(client, urls, limit=10):
    results = []
    for url in urls[:limit]:
        if url.startswith("#"):  # commented-out entry
            continue
        resp = await client.get(url, timeout=5)
        if resp.status == 200:
            results.append((url, resp.text))
    if not results:
        return
    return results
"##,
        // Match statement, ternary, multi-line call with comments.
        r#"def classify(point):
    match point:
        case (0, 0):
            label = "origin"
        case (x, 0) | (0, x):
            label = "axis" if x > 0 else "neg-axis"
        case _:
            label = max(
                "plane",  # default
                str(point),
            )
    return label.upper(), len(label) % 4
"#,
    ];

    fn comments(code: &str) -> Vec<String> {
        ruff_python_parser::parse_module(code)
            .unwrap()
            .tokens()
            .iter()
            .filter(|t| t.kind() == TokenKind::Comment)
            .map(|t| code[t.range()].to_string())
            .collect()
    }

    /// Decorators, defaults and annotations: everything up to the header's end.
    fn header(code: &str) -> &str {
        let f = ParsedFunction::parse(code).unwrap();
        let def = f.def();
        let end = def
            .returns
            .as_ref()
            .map_or(def.parameters.end(), |r| r.end());
        &code[..end.to_usize()]
    }

    #[test]
    fn every_kind_on_fixtures() {
        for kind in MutantKind::ALL {
            let mut applied = 0;
            for code in FIXTURES {
                for seed in 0..30 {
                    let v = match mutate(code, kind, seed) {
                        Ok(v) => v,
                        Err(EditError::NotApplicable(_)) => continue,
                        Err(e) => panic!("{kind:?} seed {seed}: {e}\n{code}"),
                    };
                    applied += 1;
                    let ctx = format!("{kind:?} seed {seed}:\n{}", v.code);
                    assert_eq!(v, mutate(code, kind, seed).unwrap(), "{ctx}");
                    assert_ne!(v.code, *code, "{ctx}");
                    assert!(ruff_python_parser::parse_module(&v.code).is_ok(), "{ctx}");
                    assert_eq!(header(&v.code), header(code), "{ctx}");
                    for c in comments(code) {
                        assert!(v.code.contains(&c), "lost {c}: {ctx}");
                    }
                    assert_eq!(v.kinds, vec![kind.name()]);
                    let line: usize = v.notes[0]
                        .strip_prefix("line ")
                        .and_then(|n| n.split(':').next())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| panic!("bad note {:?}", v.notes));
                    assert!((1..=code.lines().count()).contains(&line), "{ctx}");
                }
            }
            assert!(applied >= 30, "{kind:?} applied only {applied} times");
        }
    }

    #[test]
    fn mutants_can_be_restricted_to_executed_lines() {
        let code = "def f(x):\n    if x > 0:\n        return x + 1\n    return x - 1\n";
        let lines = HashSet::from([2, 4]);
        let ms = random_mutants_on_lines(code, 20, 3, &lines);
        assert!(!ms.is_empty());
        for m in &ms {
            // Line 3 is never the changed line.
            let changed: Vec<usize> = code
                .lines()
                .zip(m.code.lines())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, _)| i + 1)
                .collect();
            assert!(changed.iter().all(|l| *l != 3), "{}", m.code);
        }
        assert!(random_mutants_on_lines(code, 20, 3, &HashSet::new()).is_empty());
    }

    #[test]
    fn random_mutants_are_distinct_and_spread() {
        for code in FIXTURES {
            for seed in 0..5 {
                let ms = random_mutants(code, 8, seed);
                assert_eq!(ms, random_mutants(code, 8, seed));
                assert_eq!(ms.len(), 8, "{code}");
                let codes: HashSet<_> = ms.iter().map(|v| v.code.as_str()).collect();
                assert_eq!(codes.len(), 8);
                assert!(!codes.contains(code));
                // Round-robin: the first 8 cover every applicable kind, or 5.
                let f = ParsedFunction::parse(code).unwrap();
                let applicable = MutantKind::ALL
                    .iter()
                    .filter(|k| !k.operator().sites(&f).is_empty())
                    .count();
                let kinds: HashSet<_> = ms.iter().map(|v| &v.kinds[0]).collect();
                assert!(kinds.len() >= applicable.min(5), "{kinds:?}");
            }
        }
        assert!(random_mutants("def f():\n    pass\n", 8, 0).is_empty());
        assert!(random_mutants("not python (", 8, 0).is_empty());
        // Asking for more than there are yields every distinct mutant once.
        let f = ParsedFunction::parse(FIXTURES[0]).unwrap();
        let total: usize = MutantKind::ALL
            .iter()
            .map(|k| k.operator().mutations(&f).len())
            .sum();
        let all = random_mutants(FIXTURES[0], 1000, 0);
        assert!(
            all.len() > 20 && all.len() <= total,
            "{} of {total}",
            all.len()
        );
    }

    #[test]
    fn names_round_trip() {
        for kind in MutantKind::ALL {
            assert_eq!(kind.operator().kind(), kind);
            assert_eq!(kind.name().parse::<MutantKind>(), Ok(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.name())
            );
        }
        assert!("nope".parse::<MutantKind>().is_err());
    }

    #[test]
    fn seeds_pick_sites_and_trait_agrees() {
        let code = "def f(a, b):\n    return a + b - 1\n";
        let f = ParsedFunction::parse(code).unwrap();
        let op = MutantKind::ArithmeticOperator.operator();
        let sites = op.sites(&f);
        assert_eq!(sites.len(), 2);
        let (edits, note) = op.mutate(&f, &sites[1]).unwrap();
        assert_eq!(
            apply_edits(code, edits).unwrap(),
            "def f(a, b):\n    return a + b + 1\n"
        );
        assert_eq!(note, "line 2: - → +");
        let bogus = Site {
            range: TextRange::default(),
        };
        assert!(matches!(
            op.mutate(&f, &bogus),
            Err(EditError::NotApplicable(_))
        ));
        let codes: HashSet<_> = (0..20)
            .map(|s| {
                mutate(code, MutantKind::ArithmeticOperator, s)
                    .unwrap()
                    .code
            })
            .collect();
        assert_eq!(codes.len(), 2);
        assert!(matches!(
            mutate("def f():\n    return 1\n", MutantKind::SwapArguments, 0),
            Err(EditError::NotApplicable(_))
        ));
        assert!(matches!(
            mutate("x = 1\n", MutantKind::Constant, 0),
            Err(EditError::BadInput(_))
        ));
    }
}
