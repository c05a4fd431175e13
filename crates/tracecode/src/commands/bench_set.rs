//! `tracecode bench-set`: evaluation sets built from held-out variants.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tracecode_data::{write_rows, ClonePair, EquivalenceLabel, Split, VariantRecord, VariantRole};

use super::pairs::{parse_split, read_variants_without_runs, split_of};

#[derive(Subcommand, Debug)]
pub enum BenchSet {
    Clone(CloneArgs),
}

impl BenchSet {
    pub fn run(&self) -> Result<()> {
        match self {
            BenchSet::Clone(args) => run_clone(args).map(|_| ()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitArg {
    Train,
    Validation,
    Test,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Split {
        match s {
            SplitArg::Train => Split::Train,
            SplitArg::Validation => Split::Validation,
            SplitArg::Test => Split::Test,
        }
    }
}

/// Adversarial clone detection: is program B a clone of program A?
///
/// From the functions of one split (by default `test`, the same per-function
/// split as `tracecode pairs` with the same `--split` and `--seed`, so no
/// benchmark function was trained on), each function A contributes:
///
///   label 1  A vs a trace-equivalent variant of A whose names were obfuscated
///            (preferring compositions ending in `obfuscate_names`)
///   label 0  A vs a trace-different mutant of A (one small change)
///   label 0  A vs the obfuscated variant of another function of the split
///
/// Positives share no identifiers with A, and mutant negatives share almost
/// every token: lexical similarity is a poor guide on this set by design.
/// Rows are JSONL `{id_a, id_b, code_a, code_b, label, kind}` (or Parquet).
///
/// Example:
///
///   tracecode bench-set clone variants.parquet -o clone.jsonl
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct CloneArgs {
    /// Labelled variants from `tracecode variants`.
    pub variants: PathBuf,

    /// Output file (JSONL, or Parquet when it ends in `.parquet`).
    #[arg(short, long, default_value = "clone.jsonl")]
    pub output: PathBuf,

    /// Which functions to draw from.
    #[arg(long, value_enum, default_value_t = SplitArg::Test)]
    pub split: SplitArg,

    /// Train and validation fractions, as given to `tracecode pairs`.
    #[arg(
        long = "fractions",
        default_value = "0.8,0.1",
        value_name = "TRAIN,VALID"
    )]
    pub fractions: String,

    /// Seed of the split (as given to `tracecode pairs`) and of negative sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Picks A's obfuscated positive: a trace-equivalent rewrite, preferring one
/// whose last step renamed everything, then any renaming one.
fn obfuscated_positive<'a>(group: &[&'a VariantRecord]) -> Option<&'a VariantRecord> {
    let equivalent = || {
        group.iter().copied().filter(|r| {
            r.role == VariantRole::Rewrite && r.label == EquivalenceLabel::TraceEquivalent
        })
    };
    let last_is = |r: &VariantRecord, k: &str| r.kinds.last().map(String::as_str) == Some(k);
    equivalent()
        .find(|r| r.kinds.len() > 1 && last_is(r, "obfuscate_names"))
        .or_else(|| equivalent().find(|r| last_is(r, "obfuscate_names")))
        .or_else(|| equivalent().find(|r| !r.renames.is_empty()))
}

pub fn build_clone_pairs(
    rows: &[VariantRecord],
    split: Split,
    fractions: (f64, f64),
    seed: u64,
) -> Vec<ClonePair> {
    let mut groups: BTreeMap<&str, Vec<&VariantRecord>> = BTreeMap::new();
    for r in rows {
        if split_of(&r.function_id, seed, fractions.0, fractions.1) == split {
            groups.entry(&r.function_id).or_default().push(r);
        }
    }
    // (original, obfuscated positive, a mutant) per function that has all three.
    let mut members: Vec<(&VariantRecord, &VariantRecord, Option<&VariantRecord>)> = Vec::new();
    for group in groups.values() {
        let Some(original) = group.iter().copied().find(|r| {
            r.role == VariantRole::Original && r.label == EquivalenceLabel::Deterministic
        }) else {
            continue;
        };
        let Some(positive) = obfuscated_positive(group) else {
            continue;
        };
        let mutant = group
            .iter()
            .copied()
            .find(|r| r.role == VariantRole::Mutant && r.label == EquivalenceLabel::TraceDifferent);
        members.push((original, positive, mutant));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut others: Vec<usize> = (0..members.len()).collect();
    others.shuffle(&mut rng);
    let pair = |a: &VariantRecord, b: &VariantRecord, label: u8, kind: &str| ClonePair {
        id_a: a.id.clone(),
        id_b: b.id.clone(),
        code_a: a.trace.code.clone(),
        code_b: b.trace.code.clone(),
        label,
        kind: kind.into(),
    };
    let mut out = Vec::new();
    for (i, (original, positive, mutant)) in members.iter().enumerate() {
        out.push(pair(original, positive, 1, "obfuscated_variant"));
        if let Some(m) = mutant {
            out.push(pair(original, m, 0, "mutant"));
        }
        // A derangement of the shuffled order: never the function itself.
        if members.len() > 1 {
            let mut j = others[i];
            if j == i {
                j = others[(i + 1) % members.len()];
            }
            out.push(pair(original, members[j].1, 0, "other_function"));
        }
    }
    out
}

pub fn run_clone(args: &CloneArgs) -> Result<Vec<ClonePair>> {
    let fractions = parse_split(&args.fractions)?;
    let rows = read_variants_without_runs(&args.variants)?;
    let pairs = build_clone_pairs(&rows, args.split.into(), fractions, args.seed);
    write_rows(&args.output, &pairs)?;
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &pairs {
        *by_kind.entry(p.kind.as_str()).or_default() += 1;
    }
    eprintln!(
        "bench-set clone: {} pairs ({} positive) → {}\n  by kind: {:?}",
        pairs.len(),
        pairs.iter().filter(|p| p.label == 1).count(),
        args.output.display(),
        by_kind
    );
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracecode_data::{Rename, TraceRecord};

    fn row(
        fid: &str,
        id: &str,
        role: VariantRole,
        label: EquivalenceLabel,
        kinds: &[&str],
    ) -> VariantRecord {
        VariantRecord {
            id: id.into(),
            function_id: fid.into(),
            role,
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            notes: vec![],
            renames: vec![Rename {
                from: "x".into(),
                to: "v0".into(),
            }],
            label,
            failed_check: None,
            first_diff_input: None,
            detail: None,
            trace: TraceRecord {
                id: id.into(),
                qualname: "f".into(),
                status: "traced".into(),
                detail: None,
                code: format!("code of {id}"),
                context: String::new(),
                code_line_offset: 0,
                packages: vec![],
                cfg: None,
                runs: vec![],
                candidates: 0,
                candidate_statuses: vec![],
                blocks_hit: 0,
                blocks_total: 0,
                distinct_paths: 0,
            },
        }
    }

    #[test]
    fn each_function_gives_a_positive_a_mutant_and_another_function() {
        use EquivalenceLabel::*;
        use VariantRole::*;
        let mut rows = Vec::new();
        for f in ["a", "b", "c"] {
            rows.push(row(f, f, Original, Deterministic, &[]));
            rows.push(row(
                f,
                &format!("{f}-r"),
                Rewrite,
                TraceEquivalent,
                &["rename_locals"],
            ));
            rows.push(row(
                f,
                &format!("{f}-o"),
                Rewrite,
                TraceEquivalent,
                &["swap_if_else", "obfuscate_names"],
            ));
            rows.push(row(
                f,
                &format!("{f}-bad"),
                Rewrite,
                TraceDifferent,
                &["for_to_while", "obfuscate_names"],
            ));
            rows.push(row(
                f,
                &format!("{f}-m"),
                Mutant,
                TraceDifferent,
                &["constant"],
            ));
        }
        // A nondeterministic function contributes nothing.
        rows.push(row("d", "d", Original, Nondeterministic, &[]));
        rows.push(row("d", "d-o", Rewrite, Undetermined, &["obfuscate_names"]));
        // Fractions 0,0: every function is in the test split.
        let pairs = build_clone_pairs(&rows, Split::Test, (0.0, 0.0), 1);
        assert_eq!(pairs.len(), 9);
        for p in &pairs {
            let fa = &p.id_a;
            match p.kind.as_str() {
                "obfuscated_variant" => {
                    assert_eq!((p.label, p.id_b.clone()), (1, format!("{fa}-o")))
                }
                "mutant" => assert_eq!((p.label, p.id_b.clone()), (0, format!("{fa}-m"))),
                "other_function" => {
                    assert_eq!(p.label, 0);
                    assert!(p.id_b.ends_with("-o") && !p.id_b.starts_with(fa.as_str()));
                }
                other => panic!("{other}"),
            }
        }
        assert!(build_clone_pairs(&rows, Split::Train, (0.0, 0.0), 1).is_empty());
    }
}
