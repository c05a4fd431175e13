//! Semantics-preserving rewrites of a Python function, the positive pairs of
//! contrastive pre-training: same behaviour, different text.
//!
//! Layout follows the HF-tokenizers style: one [`Rewrite`] trait, one file per
//! kind, and [`RewriteKind`] naming them all. Every rewrite changes the source
//! only through [`TextEdit`](crate::edit::TextEdit)s, so comments and layout
//! outside the changed nodes survive byte for byte, and every result is
//! re-parsed. A rewrite that cannot prove its change safe for the site it
//! looked at refuses with [`EditError::NotApplicable`]: a later stage runs
//! original and rewrite on the same inputs and counts any difference as a bug.
//!
//! All randomness comes from the `rng` handed in (a seeded ChaCha8), so a
//! seed always gives the same variant.

pub mod anonymize;
mod augmented_assignment;
mod comprehension_to_loop;
mod de_morgan;
mod effects;
mod flip_comparison;
mod for_to_while;
mod insert_dead_code;
mod loop_to_comprehension;
mod names;
mod normalize_else_return;
mod obfuscate_names;
mod rename_locals;
mod reorder_statements;
mod scope;
pub mod speculative;
mod support;
mod swap_if_else;

use std::str::FromStr;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use augmented_assignment::AugmentedAssignment;
pub use comprehension_to_loop::ComprehensionToLoop;
pub use de_morgan::DeMorgan;
pub use flip_comparison::FlipComparison;
pub use for_to_while::ForToWhile;
pub use insert_dead_code::InsertDeadCode;
pub use loop_to_comprehension::LoopToComprehension;
pub use normalize_else_return::NormalizeElseReturn;
pub use obfuscate_names::ObfuscateNames;
pub use rename_locals::RenameLocals;
pub use reorder_statements::ReorderStatements;
pub use swap_if_else::SwapIfElse;

use speculative::{
    AccumulatorToBuiltin, CommuteOperands, DictGet, EarlyReturnToFlag, ElementToIndexLoop,
    IndexToElementLoop, RangeToWhile, ReorderUnchecked, SortInPlace, TailRecursionToLoop,
};

use crate::edit::{EditError, ParsedFunction, Variant};

/// One kind of semantics-preserving rewrite.
pub trait Rewrite {
    fn kind(&self) -> RewriteKind;
    /// Rewrites one site of `f` chosen with `rng` (or all of them, for the
    /// renamers); `NotApplicable` when no site can be rewritten safely.
    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError>;
}

/// The outcome of one rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The whole function after the rewrite.
    pub code: String,
    /// Parameters and locals renamed, old name → new name.
    pub renames: Vec<(String, String)>,
    /// What changed, for humans, e.g. `line 3: a < b → b > a`.
    pub note: String,
}

/// The rewrites, named as in [`Variant::kinds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewriteKind {
    /// Parameters and locals get other natural names.
    RenameLocals,
    /// Parameters and locals become `v0, v1, ...`, nested functions `f0, ...`.
    ObfuscateNames,
    /// Two adjacent independent assignments swap places.
    ReorderStatements,
    /// A `for` loop becomes `while True` over an explicit iterator.
    ForToWhile,
    /// `if c: A else: B` becomes `if not c: B else: A`.
    SwapIfElse,
    /// An unreachable or no-effect statement is inserted.
    InsertDeadCode,
    /// `a < b` becomes `b > a` (and the like).
    FlipComparison,
    /// `not (a and b)` ↔ `not a or not b`, and friends.
    DeMorgan,
    /// `x += e` ↔ `x = x + e`.
    AugmentedAssignment,
    /// `xs = [e for x in it]` becomes a loop appending to `xs`.
    ComprehensionToLoop,
    /// The reverse of [`RewriteKind::ComprehensionToLoop`].
    LoopToComprehension,
    /// `if c: return a` + `else: return b` ↔ without the `else`.
    NormalizeElseReturn,
    /// Speculative: Two adjacent simple statements swap places, unchecked.
    ReorderUnchecked,
    /// Speculative: `for x in xs` becomes a loop over `range(len(xs))` reading `xs[i]`.
    ElementToIndexLoop,
    /// Speculative: `for i in range(len(xs))` becomes `for i, x in enumerate(xs)`, `xs[i]` reads becoming `x`.
    IndexToElementLoop,
    /// Speculative: `y = sorted(x)` ↔ `x.sort()` on the same name.
    SortInPlace,
    /// Speculative: An accumulating loop becomes `sum`/`''.join`/`any`/`all`/`min`/`max`.
    AccumulatorToBuiltin,
    /// Speculative: A `return` inside a loop becomes a result variable and `break`.
    EarlyReturnToFlag,
    /// Speculative: Self tail calls become a `while True` loop rebinding the parameters.
    TailRecursionToLoop,
    /// Speculative: `d.get(k, v)` ↔ `d[k] if k in d else v`.
    DictGet,
    /// Speculative: `for i in range(a, b)` becomes a counter `while` loop.
    RangeToWhile,
    /// Speculative: `a + b` becomes `b + a` (and `*`, `&`, `|`, `==`, `and`, `or`).
    CommuteOperands,
}

impl RewriteKind {
    pub const ALL: &'static [RewriteKind] = &[
        RewriteKind::RenameLocals,
        RewriteKind::ObfuscateNames,
        RewriteKind::ReorderStatements,
        RewriteKind::ForToWhile,
        RewriteKind::SwapIfElse,
        RewriteKind::InsertDeadCode,
        RewriteKind::FlipComparison,
        RewriteKind::DeMorgan,
        RewriteKind::AugmentedAssignment,
        RewriteKind::ComprehensionToLoop,
        RewriteKind::LoopToComprehension,
        RewriteKind::NormalizeElseReturn,
        RewriteKind::ReorderUnchecked,
        RewriteKind::ElementToIndexLoop,
        RewriteKind::IndexToElementLoop,
        RewriteKind::SortInPlace,
        RewriteKind::AccumulatorToBuiltin,
        RewriteKind::EarlyReturnToFlag,
        RewriteKind::TailRecursionToLoop,
        RewriteKind::DictGet,
        RewriteKind::RangeToWhile,
        RewriteKind::CommuteOperands,
    ];

    /// Applied without proof; a variant of this kind is a positive only when
    /// its traces say so (see [`speculative`]).
    pub fn is_speculative(&self) -> bool {
        matches!(
            self,
            RewriteKind::ReorderUnchecked
                | RewriteKind::ElementToIndexLoop
                | RewriteKind::IndexToElementLoop
                | RewriteKind::SortInPlace
                | RewriteKind::AccumulatorToBuiltin
                | RewriteKind::EarlyReturnToFlag
                | RewriteKind::TailRecursionToLoop
                | RewriteKind::DictGet
                | RewriteKind::RangeToWhile
                | RewriteKind::CommuteOperands
        )
    }

    /// Changes control flow or expression structure, not only names or
    /// added dead code: the kinds compositions draw first.
    pub fn is_structural(&self) -> bool {
        !matches!(
            self,
            RewriteKind::RenameLocals | RewriteKind::ObfuscateNames | RewriteKind::InsertDeadCode
        )
    }

    /// The sound kinds (each refuses what it cannot prove safe).
    pub fn sound() -> impl Iterator<Item = RewriteKind> {
        RewriteKind::ALL
            .iter()
            .copied()
            .filter(|k| !k.is_speculative())
    }

    /// The speculative kinds.
    pub fn speculative() -> impl Iterator<Item = RewriteKind> {
        RewriteKind::ALL
            .iter()
            .copied()
            .filter(RewriteKind::is_speculative)
    }

    /// The snake_case name, as serialized.
    pub fn name(&self) -> &'static str {
        match self {
            RewriteKind::RenameLocals => "rename_locals",
            RewriteKind::ObfuscateNames => "obfuscate_names",
            RewriteKind::ReorderStatements => "reorder_statements",
            RewriteKind::ForToWhile => "for_to_while",
            RewriteKind::SwapIfElse => "swap_if_else",
            RewriteKind::InsertDeadCode => "insert_dead_code",
            RewriteKind::FlipComparison => "flip_comparison",
            RewriteKind::DeMorgan => "de_morgan",
            RewriteKind::AugmentedAssignment => "augmented_assignment",
            RewriteKind::ComprehensionToLoop => "comprehension_to_loop",
            RewriteKind::LoopToComprehension => "loop_to_comprehension",
            RewriteKind::NormalizeElseReturn => "normalize_else_return",
            RewriteKind::ReorderUnchecked => "reorder_unchecked",
            RewriteKind::ElementToIndexLoop => "element_to_index_loop",
            RewriteKind::IndexToElementLoop => "index_to_element_loop",
            RewriteKind::SortInPlace => "sort_in_place",
            RewriteKind::AccumulatorToBuiltin => "accumulator_to_builtin",
            RewriteKind::EarlyReturnToFlag => "early_return_to_flag",
            RewriteKind::TailRecursionToLoop => "tail_recursion_to_loop",
            RewriteKind::DictGet => "dict_get",
            RewriteKind::RangeToWhile => "range_to_while",
            RewriteKind::CommuteOperands => "commute_operands",
        }
    }

    fn rewrite(&self) -> &'static dyn Rewrite {
        match self {
            RewriteKind::RenameLocals => &RenameLocals,
            RewriteKind::ObfuscateNames => &ObfuscateNames,
            RewriteKind::ReorderStatements => &ReorderStatements,
            RewriteKind::ForToWhile => &ForToWhile,
            RewriteKind::SwapIfElse => &SwapIfElse,
            RewriteKind::InsertDeadCode => &InsertDeadCode,
            RewriteKind::FlipComparison => &FlipComparison,
            RewriteKind::DeMorgan => &DeMorgan,
            RewriteKind::AugmentedAssignment => &AugmentedAssignment,
            RewriteKind::ComprehensionToLoop => &ComprehensionToLoop,
            RewriteKind::LoopToComprehension => &LoopToComprehension,
            RewriteKind::NormalizeElseReturn => &NormalizeElseReturn,
            RewriteKind::ReorderUnchecked => &ReorderUnchecked,
            RewriteKind::ElementToIndexLoop => &ElementToIndexLoop,
            RewriteKind::IndexToElementLoop => &IndexToElementLoop,
            RewriteKind::SortInPlace => &SortInPlace,
            RewriteKind::AccumulatorToBuiltin => &AccumulatorToBuiltin,
            RewriteKind::EarlyReturnToFlag => &EarlyReturnToFlag,
            RewriteKind::TailRecursionToLoop => &TailRecursionToLoop,
            RewriteKind::DictGet => &DictGet,
            RewriteKind::RangeToWhile => &RangeToWhile,
            RewriteKind::CommuteOperands => &CommuteOperands,
        }
    }
}

impl Rewrite for RewriteKind {
    fn kind(&self) -> RewriteKind {
        *self
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        self.rewrite().apply(f, rng)
    }
}

/// A name that is not a [`RewriteKind`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown rewrite kind `{0}`")]
pub struct UnknownRewriteKind(pub String);

impl FromStr for RewriteKind {
    type Err = UnknownRewriteKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RewriteKind::ALL
            .iter()
            .find(|k| k.name() == s)
            .copied()
            .ok_or_else(|| UnknownRewriteKind(s.to_string()))
    }
}

/// Applies `kind` to `v.code` with randomness from `seed`, composing the
/// result (and its renames) onto `v`.
pub fn apply_rewrite(kind: RewriteKind, v: &Variant, seed: u64) -> Result<Variant, EditError> {
    let f = ParsedFunction::parse(&v.code)?;
    let out = kind.apply(&f, &mut ChaCha8Rng::seed_from_u64(seed))?;
    Ok(v.then(out.code, kind.name(), &out.renames, out.note))
}

/// The kinds whose pattern occurs in `code`: each would rewrite it (the
/// denominator of how often a kind fires where it could).
pub fn applicable_kinds(code: &str) -> Vec<RewriteKind> {
    let Ok(f) = ParsedFunction::parse(code) else {
        return vec![];
    };
    RewriteKind::ALL
        .iter()
        .copied()
        .filter(|k| k.apply(&f, &mut ChaCha8Rng::seed_from_u64(0)).is_ok())
        .collect()
}

/// Local names with the byte ranges of their occurrences.
pub type NameSites = Vec<(String, Vec<std::ops::Range<usize>>)>;

/// Where each local name of `code` occurs: for every parameter, local
/// variable and nested function the function binds (in order of first
/// appearance), the byte ranges of all its occurrences. These are the names
/// DOBF-style identifier deobfuscation hides and asks a model to recover; the
/// function's own name, globals, builtins and attributes are not among them.
/// `NotApplicable` when names are observable or scoping is beyond the
/// analysis (as for the renaming rewrites).
pub fn local_name_sites(code: &str) -> Result<NameSites, EditError> {
    let f = ParsedFunction::parse(code)?;
    let r = scope::renamable(&f)?;
    let mut sites: NameSites = r
        .names
        .iter()
        .map(|(n, _)| (n.clone(), Vec::new()))
        .collect();
    for (range, name) in &r.sites {
        if let Some((_, ranges)) = sites.iter_mut().find(|(n, _)| n == name) {
            ranges.push(range.start().to_usize()..range.end().to_usize());
        }
    }
    sites.retain(|(_, ranges)| !ranges.is_empty());
    Ok(sites)
}

/// Up to `steps` sound rewrites of `code` in a row; at each step the kind is
/// drawn from `seed` among those that apply, structural kinds before renaming
/// and dead code (which apply almost everywhere and would otherwise crowd the
/// structural ones out of compositions). Stops early when none applies.
/// `NotApplicable` only when not even one rewrite applies.
pub fn random_rewrites(code: &str, steps: usize, seed: u64) -> Result<Variant, EditError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut variant = Variant::original(code);
    for _ in 0..steps {
        let (mut first, mut then): (Vec<RewriteKind>, Vec<RewriteKind>) =
            RewriteKind::sound().partition(RewriteKind::is_structural);
        first.shuffle(&mut rng);
        then.shuffle(&mut rng);
        let step_seed: u64 = rng.gen();
        let next = first.iter().chain(&then).find_map(|kind| {
            if variant.kinds.last().map(String::as_str) == Some(kind.name()) {
                return None; // the same kind twice in a row mostly undoes itself
            }
            match apply_rewrite(*kind, &variant, step_seed) {
                Err(EditError::NotApplicable(_)) => None,
                other => Some(other),
            }
        });
        match next {
            Some(result) => variant = result?,
            None => break,
        }
    }
    if variant.kinds.is_empty() {
        return Err(EditError::NotApplicable("no rewrite applies".into()));
    }
    Ok(variant)
}

/// Every distinct code `rewrite` makes of `src` over 40 seeds, sorted: what
/// a test that every site is a candidate compares.
#[cfg(test)]
pub(crate) fn distinct_outputs(rewrite: &dyn Rewrite, src: &str) -> Vec<String> {
    let pf = ParsedFunction::parse(src).unwrap();
    let mut outs: Vec<String> = (0..40)
        .filter_map(|seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rewrite.apply(&pf, &mut rng).ok().map(|r| r.code)
        })
        .collect();
    outs.sort();
    outs.dedup();
    outs
}

/// `renamed a → v0, b → v1`.
fn renaming_note(renames: &[(String, String)]) -> String {
    let pairs: Vec<String> = renames.iter().map(|(a, b)| format!("{a} → {b}")).collect();
    format!("renamed {}", pairs.join(", "))
}

#[cfg(test)]
mod tests;
