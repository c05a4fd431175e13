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
    ];

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

/// Up to `steps` rewrites of `code` in a row, each of a kind drawn from
/// `seed` among those that apply at that point; stops early when none does.
/// `NotApplicable` only when not even one rewrite applies.
pub fn random_rewrites(code: &str, steps: usize, seed: u64) -> Result<Variant, EditError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut variant = Variant::original(code);
    for _ in 0..steps {
        let mut kinds = RewriteKind::ALL.to_vec();
        kinds.shuffle(&mut rng);
        let step_seed: u64 = rng.gen();
        let next = kinds
            .iter()
            .find_map(|kind| match apply_rewrite(*kind, &variant, step_seed) {
                Err(EditError::NotApplicable(_)) => None,
                other => Some(other),
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

/// `renamed a → v0, b → v1`.
fn renaming_note(renames: &[(String, String)]) -> String {
    let pairs: Vec<String> = renames.iter().map(|(a, b)| format!("{a} → {b}")).collect();
    format!("renamed {}", pairs.join(", "))
}

#[cfg(test)]
mod tests;
