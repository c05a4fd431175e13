//! `tracecode pairs`: contrastive training examples from labelled variants.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use tracecode_data::schema::serde_name;
use tracecode_data::{
    for_each_row, write_rows, EquivalenceLabel, FunctionRecord, PairExample, Split, VariantRecord,
    VariantRole,
};

/// Which variants count as positives (and, correspondingly, negatives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Positives {
    /// Every trace-equivalent variant (rewrites and equivalent mutants);
    /// negatives: every trace-different variant.
    Trace,
    /// Every rewrite, unchecked (the ContraCode-style static baseline);
    /// negatives: every mutant, unchecked.
    Static,
    /// Rewrites that are also trace-equivalent; negatives: trace-different mutants.
    Both,
}

/// Build contrastive training examples: anchor, positives, hard negatives.
///
/// One example per function of the variants file: the original is the anchor,
/// `--positives` picks the programs that should embed close to it, and the
/// matching hard negatives are near-identical programs that should not:
///
///   trace   positives: trace-equivalent variants;  negatives: trace-different variants
///   static  positives: all rewrites (unchecked);    negatives: all mutants (unchecked)
///   both    positives: trace-equivalent rewrites;  negatives: trace-different mutants
///
/// Functions are split into train/validation/test by a hash of their id and
/// `--seed`, so a function and all its variants land in one split. Functions
/// with no positive are left out (and counted). Ids refer to rows of the
/// variants file, whose `trace` column holds each program's runs.
///
/// Example:
///
///   tracecode pairs variants.parquet -o pairs.parquet --positives trace --corpus corpus.parquet
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct PairsArgs {
    /// Labelled variants from `tracecode variants`.
    pub variants: PathBuf,

    /// Output file (Parquet, or JSONL when it ends in `.jsonl`).
    #[arg(short, long, default_value = "pairs.parquet")]
    pub output: PathBuf,

    /// What counts as a positive.
    #[arg(long, value_enum, default_value_t = Positives::Trace)]
    pub positives: Positives,

    /// Corpus records, to attach docstring summaries (for text–code training).
    #[arg(long)]
    pub corpus: Option<PathBuf>,

    /// Fractions of functions in train and validation; test gets the rest.
    #[arg(long, default_value = "0.8,0.1", value_name = "TRAIN,VALID")]
    pub split: String,

    /// Seed of the split.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// At most this many positives and negatives per example (first in file order).
    #[arg(long, default_value_t = 8)]
    pub max_per_example: usize,
}

/// The split of a function (see [`Split::of`]).
pub fn split_of(function_id: &str, seed: u64, train: f64, valid: f64) -> Split {
    Split::of(function_id, seed, train, valid)
}

pub fn parse_split(s: &str) -> Result<(f64, f64)> {
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .with_context(|| format!("--split takes TRAIN,VALID fractions, got {s:?}"))?;
    let [train, valid] = parts[..] else {
        bail!("--split takes two fractions TRAIN,VALID, got {s:?}");
    };
    if train < 0.0 || valid < 0.0 || train + valid > 1.0 {
        bail!("--split {s}: fractions must be >= 0 and sum to at most 1");
    }
    Ok((train, valid))
}

/// Whether a variant is a positive / a negative under `mode`.
fn role_under(mode: Positives, v: &VariantRecord) -> Option<bool> {
    let equivalent = v.label == EquivalenceLabel::TraceEquivalent;
    let different = v.label == EquivalenceLabel::TraceDifferent;
    match (mode, v.role) {
        (_, VariantRole::Original) => None,
        (Positives::Trace, _) if equivalent => Some(true),
        (Positives::Trace, _) if different => Some(false),
        (Positives::Static, VariantRole::Rewrite) => Some(true),
        (Positives::Static, VariantRole::Mutant) => Some(false),
        (Positives::Both, VariantRole::Rewrite) if equivalent => Some(true),
        (Positives::Both, VariantRole::Mutant) if different => Some(false),
        _ => None,
    }
}

/// Builds one example per function with at least one positive.
pub fn build_examples(
    rows: &[VariantRecord],
    mode: Positives,
    summaries: &HashMap<String, String>,
    split: (f64, f64, u64),
    max_per_example: usize,
) -> Vec<PairExample> {
    let mut by_function: BTreeMap<&str, Vec<&VariantRecord>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for r in rows {
        let group = by_function.entry(&r.function_id).or_default();
        if group.is_empty() {
            order.push(&r.function_id);
        }
        group.push(r);
    }
    let mut out = Vec::new();
    for fid in order {
        let group = &by_function[fid];
        let Some(anchor) = group.iter().find(|r| r.role == VariantRole::Original) else {
            continue;
        };
        let mut ex = PairExample {
            function_id: fid.to_string(),
            split: split_of(fid, split.2, split.0, split.1),
            anchor_id: anchor.id.clone(),
            anchor_code: anchor.trace.code.clone(),
            positive_ids: vec![],
            positive_codes: vec![],
            negative_ids: vec![],
            negative_codes: vec![],
            summary: summaries.get(fid).cloned(),
        };
        for v in group {
            match role_under(mode, v) {
                Some(true) if ex.positive_ids.len() < max_per_example => {
                    ex.positive_ids.push(v.id.clone());
                    ex.positive_codes.push(v.trace.code.clone());
                }
                Some(false) if ex.negative_ids.len() < max_per_example => {
                    ex.negative_ids.push(v.id.clone());
                    ex.negative_codes.push(v.trace.code.clone());
                }
                _ => {}
            }
        }
        if !ex.positive_ids.is_empty() {
            out.push(ex);
        }
    }
    out
}

#[derive(Debug, Default, Serialize)]
pub struct PairsSummary {
    pub positives: String,
    pub functions: usize,
    pub examples: usize,
    pub without_positive: usize,
    pub examples_by_split: BTreeMap<String, usize>,
    pub mean_positives: f64,
    pub mean_negatives: f64,
    pub with_summary: usize,
}

/// The rows of a variants file without their runs and CFGs (the bulk of the
/// file), streamed: what needs only each variant's code, label and kinds.
pub fn read_variants_without_runs(path: &Path) -> Result<Vec<VariantRecord>> {
    let mut rows = Vec::new();
    for_each_row(path, |mut r: VariantRecord| {
        r.trace.runs = Vec::new();
        r.trace.cfg = None;
        rows.push(r);
        Ok(())
    })
    .with_context(|| format!("reading variants from {}", path.display()))?;
    Ok(rows)
}

pub fn run(args: &PairsArgs) -> Result<PairsSummary> {
    let (train, valid) = parse_split(&args.split)?;
    let rows = read_variants_without_runs(&args.variants)?;
    // Of the corpus, only the summaries are kept.
    let mut summaries: HashMap<String, String> = HashMap::new();
    if let Some(path) = &args.corpus {
        for_each_row(path, |r: FunctionRecord| {
            if let Some(summary) = r.summary {
                summaries.insert(r.id, summary);
            }
            Ok(())
        })
        .with_context(|| format!("reading corpus {}", path.display()))?;
    }
    let examples = build_examples(
        &rows,
        args.positives,
        &summaries,
        (train, valid, args.seed),
        args.max_per_example,
    );
    write_rows(&args.output, &examples)?;
    let functions = rows
        .iter()
        .filter(|r| r.role == VariantRole::Original)
        .count();
    let n = examples.len().max(1) as f64;
    let mut s = PairsSummary {
        positives: serde_name(&args.positives),
        functions,
        examples: examples.len(),
        without_positive: functions - examples.len(),
        mean_positives: examples.iter().map(|e| e.positive_ids.len()).sum::<usize>() as f64 / n,
        mean_negatives: examples.iter().map(|e| e.negative_ids.len()).sum::<usize>() as f64 / n,
        with_summary: examples.iter().filter(|e| e.summary.is_some()).count(),
        ..Default::default()
    };
    for e in &examples {
        let key = serde_name(&e.split);
        *s.examples_by_split.entry(key).or_default() += 1;
    }
    eprintln!(
        "pairs ({}): {} examples from {} functions → {} ({} without a positive left out)\n  by split: {:?}\n  mean positives {:.2}, mean hard negatives {:.2}, with summary {}",
        s.positives,
        s.examples,
        s.functions,
        args.output.display(),
        s.without_positive,
        s.examples_by_split,
        s.mean_positives,
        s.mean_negatives,
        s.with_summary
    );
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracecode_data::TraceRecord;

    fn row(fid: &str, id: &str, role: VariantRole, label: EquivalenceLabel) -> VariantRecord {
        VariantRecord {
            id: id.into(),
            function_id: fid.into(),
            role,
            kinds: vec![],
            notes: vec![],
            renames: vec![],
            label,
            failed_check: None,
            first_diff_input: None,
            detail: None,
            trace: TraceRecord {
                id: id.into(),
                qualname: "f".into(),
                status: "traced".into(),
                detail: None,
                code: format!("def f(): return '{id}'\n"),
                context: String::new(),
                code_line_offset: 0,
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

    fn fixture() -> Vec<VariantRecord> {
        use EquivalenceLabel::*;
        use VariantRole::*;
        vec![
            row("a", "a", Original, Deterministic),
            row("a", "r1", Rewrite, TraceEquivalent),
            row("a", "r2", Rewrite, TraceDifferent),
            row("a", "m1", Mutant, TraceDifferent),
            row("a", "m2", Mutant, TraceEquivalent),
            row("b", "b", Original, Nondeterministic),
            row("b", "r3", Rewrite, Undetermined),
            row("b", "m3", Mutant, Undetermined),
        ]
    }

    fn ids(mode: Positives) -> Vec<(String, Vec<String>, Vec<String>)> {
        build_examples(&fixture(), mode, &HashMap::new(), (0.8, 0.1, 0), 8)
            .into_iter()
            .map(|e| (e.function_id, e.positive_ids, e.negative_ids))
            .collect()
    }

    #[test]
    fn positives_and_negatives_follow_the_mode() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ids(Positives::Trace),
            vec![("a".into(), s(&["r1", "m2"]), s(&["r2", "m1"]))]
        );
        assert_eq!(
            ids(Positives::Static),
            vec![
                ("a".into(), s(&["r1", "r2"]), s(&["m1", "m2"])),
                ("b".into(), s(&["r3"]), s(&["m3"]))
            ]
        );
        assert_eq!(
            ids(Positives::Both),
            vec![("a".into(), s(&["r1"]), s(&["m1"]))]
        );
    }

    #[test]
    fn split_is_per_function_deterministic_and_near_the_fractions() {
        let ids: Vec<String> = (0..2000).map(|i| format!("{i:016x}")).collect();
        let splits: Vec<Split> = ids.iter().map(|i| split_of(i, 7, 0.8, 0.1)).collect();
        let again: Vec<Split> = ids.iter().map(|i| split_of(i, 7, 0.8, 0.1)).collect();
        assert_eq!(splits, again);
        let train = splits.iter().filter(|s| **s == Split::Train).count();
        let test = splits.iter().filter(|s| **s == Split::Test).count();
        assert!((1500..1700).contains(&train), "{train}");
        assert!((120..280).contains(&test), "{test}");
        let other_seed: Vec<Split> = ids.iter().map(|i| split_of(i, 8, 0.8, 0.1)).collect();
        assert_ne!(splits, other_seed);
    }

    #[test]
    fn split_fractions_are_validated() {
        assert_eq!(parse_split("0.7, 0.2").unwrap(), (0.7, 0.2));
        assert!(parse_split("0.9,0.2").is_err());
        assert!(parse_split("0.9").is_err());
        assert!(parse_split("a,b").is_err());
    }
}
