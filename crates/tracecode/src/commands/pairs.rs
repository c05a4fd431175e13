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

/// Where positives come from: a function's own variants, other functions
/// that behave the same (mined by `tracecode mine`), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PositiveSource {
    /// The function's rewrites (and equivalent mutants), as `--positives` says.
    #[default]
    Rewrites,
    /// Only other functions of its mined group; near misses join the negatives.
    Behaviour,
    /// Both: mined group members first, then rewrites.
    Both,
}

/// The positive source a run uses unless told otherwise: mined clones beside
/// rewrites when `mined` exists, except for the static baseline (rewrites
/// only, unchecked: it never sees execution).
pub fn default_source(positives: Positives, mined: &Path) -> PositiveSource {
    if positives != Positives::Static && mined.exists() {
        PositiveSource::Both
    } else {
        PositiveSource::Rewrites
    }
}

/// Behavioural clones mined from the same run's traces: each function's
/// group mates and near misses.
#[derive(Debug, Default)]
pub struct Mined {
    partners: HashMap<String, Vec<String>>,
    near_misses: HashMap<String, Vec<String>>,
}

impl Mined {
    /// Reads GROUPS.jsonl of `tracecode mine` and GROUPS.near-misses.jsonl beside it.
    pub fn read(groups: &Path) -> Result<Self> {
        let mut mined = Mined::default();
        let rows: Vec<super::mine::CloneGroup> = tracecode_data::read_rows(groups)
            .with_context(|| format!("reading mined groups {}", groups.display()))?;
        for g in rows {
            for a in &g.solutions {
                let mates = g
                    .solutions
                    .iter()
                    .filter(|b| b.id != a.id)
                    .map(|b| b.id.clone());
                mined
                    .partners
                    .entry(a.id.clone())
                    .or_default()
                    .extend(mates);
            }
        }
        let near = super::mine::near_miss_path(groups);
        if near.exists() {
            let rows: Vec<super::mine::NearMiss> = tracecode_data::read_rows(&near)
                .with_context(|| format!("reading near misses {}", near.display()))?;
            for n in rows {
                mined
                    .near_misses
                    .entry(n.id_a.clone())
                    .or_default()
                    .push(n.id_b.clone());
                mined.near_misses.entry(n.id_b).or_default().push(n.id_a);
            }
        }
        Ok(mined)
    }
}

/// Build contrastive training examples: anchor, positives, hard negatives.
///
/// One example per function of the variants file: the original is the anchor,
/// `--positives` picks the programs that should embed close to it, and the
/// matching hard negatives are near-identical programs that should not:
///
///   trace   positives: trace-equivalent variants;  negatives: trace-different variants
///   static  positives: all sound rewrites (unchecked); negatives: all mutants (unchecked)
///   both    positives: trace-equivalent rewrites;  negatives: trace-different mutants
///
/// Speculative rewrites (applied without proof) count as rewrites when
/// trace-equivalent and as hard negatives when not; the static baseline, which
/// never runs code, cannot tell which, and leaves them out.
///
/// `--positive-source` adds behavioural clones: functions of the same mined
/// group (`tracecode mine` on the same run's traces, `--mined`) are each
/// other's positives, written independently, so they share behaviour and
/// little text; near misses (agree on most canonical inputs, not all) join
/// the hard negatives. A partner counts only within the anchor's split.
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

    /// Positives from rewrites, from mined behavioural clones, or both.
    #[arg(long, value_enum, default_value_t = PositiveSource::Rewrites)]
    pub positive_source: PositiveSource,

    /// Mined groups (`tracecode mine` output) for `--positive-source behaviour|both`.
    #[arg(long, value_name = "GROUPS")]
    pub mined: Option<PathBuf>,

    /// Leave speculative rewrites out: positives from sound rewrites only
    /// (the ablation's `positives-sound` setting).
    #[arg(long)]
    pub no_speculative: bool,

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
        (Positives::Both, VariantRole::Rewrite | VariantRole::Speculative) if equivalent => {
            Some(true)
        }
        (Positives::Both, VariantRole::Mutant | VariantRole::Speculative) if different => {
            Some(false)
        }
        _ => None,
    }
}

/// Builds one example per function with at least one positive.
pub fn build_examples(
    rows: &[VariantRecord],
    mode: Positives,
    source: PositiveSource,
    mined: &Mined,
    summaries: &HashMap<String, String>,
    split: (f64, f64, u64),
    max_per_example: usize,
) -> Vec<PairExample> {
    let originals: HashMap<&str, &VariantRecord> = rows
        .iter()
        .filter(|r| r.role == VariantRole::Original)
        .map(|r| (r.function_id.as_str(), r))
        .collect();
    let split_of_fn = |fid: &str| split_of(fid, split.2, split.0, split.1);
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
        let own_split = split_of_fn(fid);
        let mut ex = PairExample {
            function_id: fid.to_string(),
            split: own_split,
            anchor_id: anchor.id.clone(),
            anchor_code: anchor.trace.code.clone(),
            positive_ids: vec![],
            positive_codes: vec![],
            negative_ids: vec![],
            negative_codes: vec![],
            summary: summaries.get(fid).cloned(),
        };
        // Other functions, in the anchor's split only (no leak across splits).
        let others = |by: &HashMap<String, Vec<String>>| -> Vec<&VariantRecord> {
            by.get(fid)
                .into_iter()
                .flatten()
                .filter(|id| split_of_fn(id) == own_split)
                .filter_map(|id| originals.get(id.as_str()).copied())
                .collect()
        };
        if source != PositiveSource::Rewrites {
            for v in others(&mined.partners) {
                if ex.positive_ids.len() < max_per_example {
                    ex.positive_ids.push(v.id.clone());
                    ex.positive_codes.push(v.trace.code.clone());
                }
            }
            for v in others(&mined.near_misses) {
                if ex.negative_ids.len() < max_per_example {
                    ex.negative_ids.push(v.id.clone());
                    ex.negative_codes.push(v.trace.code.clone());
                }
            }
        }
        for v in group {
            match role_under(mode, v) {
                Some(true) if source == PositiveSource::Behaviour => {}
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
    pub positive_source: String,
    /// Examples with at least one mined behavioural clone among their positives.
    pub with_behavioural_positive: usize,
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
    let mut rows = read_variants_without_runs(&args.variants)?;
    if args.no_speculative {
        rows.retain(|r| r.role != VariantRole::Speculative);
    }
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
    let mined = match (&args.mined, args.positive_source) {
        (_, PositiveSource::Rewrites) => Mined::default(),
        (Some(path), _) => Mined::read(path)?,
        (None, source) => bail!(
            "--positive-source {} needs --mined GROUPS (from `tracecode mine`)",
            serde_name(&source)
        ),
    };
    let examples = build_examples(
        &rows,
        args.positives,
        args.positive_source,
        &mined,
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
        positive_source: serde_name(&args.positive_source),
        with_behavioural_positive: examples
            .iter()
            .filter(|e| {
                e.positive_ids.iter().any(|id| {
                    mined
                        .partners
                        .get(&e.function_id)
                        .is_some_and(|p| p.contains(id))
                })
            })
            .count(),
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
        "pairs ({}, from {}): {} examples from {} functions → {} ({} without a positive left out)\n  by split: {:?}\n  mean positives {:.2}, mean hard negatives {:.2}, with summary {}, with a behavioural clone {}",
        s.positives,
        s.positive_source,
        s.examples,
        s.functions,
        args.output.display(),
        s.without_positive,
        s.examples_by_split,
        s.mean_positives,
        s.mean_negatives,
        s.with_summary,
        s.with_behavioural_positive
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
        build_examples(
            &fixture(),
            mode,
            PositiveSource::Rewrites,
            &Mined::default(),
            &HashMap::new(),
            (0.8, 0.1, 0),
            8,
        )
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
    fn mined_partners_are_positives_and_near_misses_negatives_within_a_split() {
        use EquivalenceLabel::*;
        use VariantRole::*;
        let mut rows = fixture();
        rows.push(row("c", "c", Original, Deterministic));
        let mined = Mined {
            partners: HashMap::from([
                ("a".to_string(), vec!["b".to_string()]),
                ("b".to_string(), vec!["a".to_string()]),
            ]),
            near_misses: HashMap::from([
                ("a".to_string(), vec!["c".to_string()]),
                ("c".to_string(), vec!["a".to_string()]),
            ]),
        };
        let build = |source, split: (f64, f64, u64)| -> Vec<(String, Vec<String>, Vec<String>)> {
            build_examples(
                &rows,
                Positives::Trace,
                source,
                &mined,
                &HashMap::new(),
                split,
                8,
            )
            .into_iter()
            .map(|e| (e.function_id, e.positive_ids, e.negative_ids))
            .collect()
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let all_train = (1.0, 0.0, 0);
        assert_eq!(
            build(PositiveSource::Both, all_train),
            vec![
                ("a".into(), s(&["b", "r1", "m2"]), s(&["c", "r2", "m1"])),
                ("b".into(), s(&["a"]), s(&[])),
            ]
        );
        assert_eq!(
            build(PositiveSource::Behaviour, all_train),
            vec![
                ("a".into(), s(&["b"]), s(&["c", "r2", "m1"])),
                ("b".into(), s(&["a"]), s(&[])),
            ]
        );
        // Partners in another split are left out: no leak from test into training.
        let seed = (0..)
            .find(|&seed| split_of("a", seed, 0.5, 0.0) != split_of("b", seed, 0.5, 0.0))
            .unwrap();
        assert!(build(PositiveSource::Behaviour, (0.5, 0.0, seed)).is_empty());
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
