//! Schemas of the variants stage: a rewritten or mutated function, re-traced
//! on its original's inputs and labelled by trace equivalence, and the
//! contrastive training examples and benchmark pairs built from them.

use serde::{Deserialize, Serialize};

use crate::trace::TraceRecord;

/// What a variant row is relative to its function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantRole {
    /// The function itself, re-run on its kept inputs: the reference every
    /// variant is compared with (and the determinism check).
    Original,
    /// A semantics-preserving rewrite (or a composition of several).
    Rewrite,
    /// A single mutation-testing change, expected to change behaviour.
    Mutant,
    /// A rewrite applied without proof (`tracecode_py::rewrite::speculative`):
    /// a positive when trace-equivalent, a hard negative when not.
    Speculative,
}

/// The verdict of comparing a variant's runs with its original's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquivalenceLabel {
    /// Every input: same outcome, output and stdout, and value sequences that
    /// agree modulo renaming (see `docs/variants.md` for the exact rule).
    TraceEquivalent,
    /// Some input behaves differently; `failed_check` says how.
    TraceDifferent,
    /// No verdict: the original is not deterministic, or no input ran to a
    /// comparable end on both sides.
    Undetermined,
    /// Original rows: the re-run agrees with itself.
    Deterministic,
    /// Original rows: two runs of the same input disagree (time, randomness,
    /// object ids): its variants are `undetermined`.
    Nondeterministic,
}

/// Which part of the equivalence rule failed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquivalenceCheck {
    /// The runs ended differently (returned vs raised, timeout, crash...).
    Status,
    /// Both returned, different values.
    ReturnValue,
    /// Both raised, different exception types.
    Exception,
    /// Different printed output.
    Stdout,
    /// Same result, but some variable took values the other side never did.
    Values,
}

/// A renamed parameter or local: `from` in the original is `to` in the variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

/// One row of `tracecode variants`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantRecord {
    /// For originals the function id; otherwise a content id of the function
    /// id and the variant's code.
    pub id: String,
    pub function_id: String,
    pub role: VariantRole,
    /// Rewrite or mutation kinds applied, in order (empty for originals).
    pub kinds: Vec<String>,
    /// What each change did, e.g. `line 4: < → <=`.
    pub notes: Vec<String>,
    pub renames: Vec<Rename>,
    pub label: EquivalenceLabel,
    pub failed_check: Option<EquivalenceCheck>,
    /// Index into `trace.runs` of the first input that behaved differently.
    pub first_diff_input: Option<u32>,
    /// What differed there, e.g. `return 6 vs 7`.
    pub detail: Option<String>,
    /// The variant's code, CFG and runs on the original's inputs (in the same
    /// order; keyword arguments renamed through `renames`).
    pub trace: TraceRecord,
}

/// A split of the pair dataset, assigned per function so that no function (or
/// any of its variants) appears in two splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    /// The split of a function: a pure function of its id, the seed and the
    /// train / validation fractions (the rest is test), so every stage that
    /// holds functions out (pairs, pre-training, evaluation) agrees.
    pub fn of(function_id: &str, seed: u64, train: f64, valid: f64) -> Split {
        let h = crate::schema::content_id(&format!("{seed}:{function_id}"));
        let x = u32::from_str_radix(&h[..8], 16).unwrap_or(0) as f64 / f64::from(u32::MAX);
        if x < train {
            Split::Train
        } else if x < train + valid {
            Split::Validation
        } else {
            Split::Test
        }
    }
}

/// One contrastive training example of `tracecode pairs`: an anchor function,
/// programs that should embed close to it, and programs that should not.
/// Ids refer to rows of the variants file (whose `trace` holds code and runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairExample {
    pub function_id: String,
    pub split: Split,
    pub anchor_id: String,
    pub anchor_code: String,
    pub positive_ids: Vec<String>,
    pub positive_codes: Vec<String>,
    pub negative_ids: Vec<String>,
    pub negative_codes: Vec<String>,
    /// The function's docstring summary, when the corpus has one (for the
    /// text–code objective).
    pub summary: Option<String>,
}

/// One labelled pair of a clone-detection benchmark (`tracecode bench-set clone`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClonePair {
    pub id_a: String,
    pub id_b: String,
    pub code_a: String,
    pub code_b: String,
    /// 1: same behaviour (trace-equivalent variant); 0: different (mutant or other function).
    pub label: u8,
    /// `obfuscated_variant`, `mutant` or `other_function`.
    pub kind: String,
}
