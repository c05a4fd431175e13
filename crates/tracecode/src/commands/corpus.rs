//! `tracecode corpus`: extract Python functions into a dataset of records.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use tracecode_data::{write_rows, FunctionRecord, RecordStatus};
use tracecode_py::extract::{dedent_snippet, dedup, extract_module, DedupStats, Origin};

use crate::env;
use crate::progress;
use crate::sources::{self, Unit};

/// Extract standalone Python functions into a dataset (Parquet or JSONL).
///
/// Inputs can be mixed freely: `.py` files, directories (walked recursively),
/// and JSONL or JSONL.gz datasets whose rows are CodeSearchNet
/// (`repo, path, func_name, original_string|code, docstring, language, partition`),
/// MBPP (`text, code, test_list, task_id`) or HumanEval
/// (`prompt, canonical_solution, test, entry_point, task_id`), detected per row.
///
/// Every function becomes one row with a stable id (content hash), its code with
/// and without docstring, summary, signature, parameters, example calls (doctests,
/// dataset tests), the names it uses, its execution context (the imports, constants
/// and helpers it needs) and a standalone classification with reasons.
/// Exact and near duplicates (same identifier-normalised tokens) are removed.
///
/// Bad input never aborts the run: a file that is binary, not UTF-8, too large,
/// Python 2 or a syntax error becomes a row with `status = error` and a reason.
///
/// Examples:
///
///   tracecode corpus --stdlib -o stdlib.parquet
///
///   tracecode corpus data/search/mbpp.jsonl -o mbpp.parquet
///
///   tracecode corpus --pypi more-itertools==10.5.0 --standalone-only --jsonl -o mi.jsonl
///
///   tracecode corpus --config configs/corpus.toml --decontaminate DEV.jsonl -o big.parquet
///
/// `--config` names a TOML file of sources (`stdlib = true`, `pypi = [pins]`,
/// `inputs = [paths relative to the file]`), added to those on the command
/// line. `--decontaminate` removes every function whose identifier-normalised
/// tokens equal those of a function in an evaluation set, so no model trains
/// on what it is scored on; the summary counts what it removed.
#[derive(Args, Debug, Clone, Default)]
#[command(verbatim_doc_comment)]
pub struct CorpusArgs {
    /// `.py` files, directories, or JSONL/JSONL.gz datasets.
    pub inputs: Vec<PathBuf>,

    /// Add the standard library of the Python interpreter (site-packages excluded).
    #[arg(long)]
    pub stdlib: bool,

    /// Add an installed package, by import name (repeatable).
    #[arg(long = "package", value_name = "IMPORT_NAME")]
    pub packages: Vec<String>,

    /// Add a PyPI distribution, pinned as NAME==VERSION, downloaded with pip into the cache (repeatable).
    #[arg(long = "pypi", value_name = "NAME==VERSION")]
    pub pypi: Vec<String>,

    /// A TOML file of sources (`stdlib`, `pypi`, `inputs`), e.g. configs/corpus.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// An evaluation set to keep out (repeatable): JSONL datasets, clone-groups
    /// files (`solutions[].code`), `.py` files or directories.
    #[arg(long = "decontaminate", value_name = "EVAL_SET")]
    pub decontaminate: Vec<PathBuf>,

    /// Output file: Parquet, or JSONL when it ends in `.jsonl`.
    #[arg(short, long, default_value = "corpus.parquet")]
    pub output: PathBuf,

    /// Write JSONL instead of Parquet (changes a `.parquet` extension to `.jsonl`).
    #[arg(long)]
    pub jsonl: bool,

    /// Keep at most N functions, sampled with `--seed` (error rows are always kept).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Seed for `--limit` sampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Keep only functions classified standalone.
    #[arg(long)]
    pub standalone_only: bool,

    /// Drop functions shorter than N lines.
    #[arg(long, value_name = "N")]
    pub min_lines: Option<u32>,

    /// Drop functions longer than N lines.
    #[arg(long, value_name = "N")]
    pub max_lines: Option<u32>,

    /// Files larger than this many bytes become `too_large` error rows.
    #[arg(long, default_value_t = 2 * 1024 * 1024, value_name = "N")]
    pub max_file_bytes: u64,

    /// Keep exact and near duplicates.
    #[arg(long)]
    pub keep_duplicates: bool,

    /// Python interpreter used to locate the stdlib, packages and pip (default: the one TraceCode was built with).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

/// What a corpus run produced; printed, and written beside the output as `<output>.summary.json`.
#[derive(Debug, Default, Serialize)]
pub struct CorpusSummary {
    pub output: PathBuf,
    pub inputs: usize,
    /// PyPI sources that could not be fetched, with the reason; the corpus
    /// holds the other sources.
    pub unavailable: BTreeMap<String, String>,
    pub extracted: usize,
    /// Functions made standalone by the corpus' own PyPI packages: their only
    /// obstacle was importing them, and the workers put them on `sys.path`
    /// (counted before deduplication).
    pub with_packages: usize,
    pub errors: BTreeMap<String, usize>,
    pub duplicates: DedupCounts,
    /// Functions removed because an evaluation set holds the same normalised code.
    pub decontaminated: usize,
    /// Distinct normalised functions in the evaluation sets.
    pub evaluation_functions: usize,
    pub skipped: BTreeMap<String, usize>,
    pub functions: usize,
    pub standalone: usize,
    pub with_summary: usize,
    pub with_examples: usize,
    pub non_standalone_reasons: BTreeMap<String, usize>,
    pub seconds: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct DedupCounts {
    pub exact: usize,
    pub near: usize,
}

pub fn run(args: &CorpusArgs) -> Result<CorpusSummary> {
    let started = std::time::Instant::now();
    let python = env::python(args.python.as_deref());
    let config = match &args.config {
        Some(path) => SourcesConfig::read(path)?,
        None => SourcesConfig::default(),
    };
    let mut units: Vec<Unit> = Vec::new();
    for path in args.inputs.iter().chain(&config.inputs) {
        units.extend(sources::path_units(path)?);
    }
    if args.stdlib || config.stdlib {
        let (stdlib, name) = sources::stdlib_units(&python)?;
        eprintln!("[corpus] {name}: {} files", stdlib.len());
        units.extend(stdlib);
    }
    for package in &args.packages {
        units.extend(sources::package_units(&python, package)?);
    }
    // A package pip cannot fetch (offline, a withdrawn release) is named in
    // the summary and the rest of the corpus is still extracted.
    let mut unavailable = BTreeMap::new();
    let mut provided = Provided::default();
    for spec in args.pypi.iter().chain(&config.pypi) {
        sources::check_pin(spec)?;
        match sources::pypi_root(&python, spec) {
            Ok(root) => {
                let found = sources::pypi_units(&root, spec);
                eprintln!("[corpus] {spec}: {} files", found.len());
                units.extend(found);
                provided.add(spec, &root);
            }
            Err(e) => {
                eprintln!("[corpus] WARNING: {spec} skipped: {e:#}");
                unavailable.insert(spec.clone(), format!("{e:#}"));
            }
        }
    }
    if units.is_empty() {
        if !unavailable.is_empty() {
            bail!(
                "nothing to extract: no PyPI source could be fetched ({})",
                unavailable.keys().cloned().collect::<Vec<_>>().join(", ")
            );
        }
        bail!("nothing to extract: give files, directories or JSONL datasets, or --stdlib / --package / --pypi");
    }

    let bar = progress::bar(units.len() as u64, "extract");
    let per_unit: Vec<Vec<FunctionRecord>> = units
        .par_iter()
        .map(|unit| {
            let rows = extract_guarded(unit, args.max_file_bytes);
            bar.inc(1);
            rows
        })
        .collect();
    bar.finish_and_clear();
    let mut rows: Vec<FunctionRecord> = per_unit.into_iter().flatten().collect();
    let with_packages = provided.allow_imports(&mut rows);

    let mut summary = CorpusSummary {
        inputs: units.len(),
        unavailable,
        with_packages,
        extracted: rows.iter().filter(|r| r.is_ok()).count(),
        ..Default::default()
    };
    let DedupStats { exact, near } = if args.keep_duplicates {
        DedupStats::default()
    } else {
        dedup(&mut rows)
    };
    summary.duplicates = DedupCounts { exact, near };
    if !args.decontaminate.is_empty() {
        let mut held_out = HashSet::new();
        for path in &args.decontaminate {
            held_out.extend(evaluation_hashes(path, args.max_file_bytes)?);
        }
        summary.evaluation_functions = held_out.len();
        let before = rows.len();
        rows.retain(|r| !r.is_ok() || !held_out.contains(&r.norm_hash));
        summary.decontaminated = before - rows.len();
    }
    filter(&mut rows, args, &mut summary.skipped);

    for r in &rows {
        let reason = r.error.clone().unwrap_or_default();
        if r.status == RecordStatus::Error {
            *summary.errors.entry(reason).or_default() += 1;
        } else if r.status == RecordStatus::Skipped {
            *summary.skipped.entry(reason).or_default() += 1;
        } else {
            summary.functions += 1;
            summary.standalone += r.standalone as usize;
            summary.with_summary += r.summary.is_some() as usize;
            summary.with_examples += (!r.examples.is_empty()) as usize;
            for reason in &r.standalone_reasons {
                *summary
                    .non_standalone_reasons
                    .entry(reason.clone())
                    .or_default() += 1;
            }
        }
    }

    let output = if args.jsonl && !args.output.to_string_lossy().ends_with(".jsonl") {
        args.output.with_extension("jsonl")
    } else {
        args.output.clone()
    };
    write_rows(&output, &rows)?;
    summary.output = output.clone();
    summary.seconds = started.elapsed().as_secs_f64();
    let summary_path = PathBuf::from(format!("{}.summary.json", output.display()));
    tracecode_data::io::atomic_write(&summary_path, |f| {
        Ok(serde_json::to_writer_pretty(f, &summary)?)
    })?;
    print_summary(&summary);
    Ok(summary)
}

/// Sources named in a TOML file (see `configs/corpus.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesConfig {
    #[serde(default)]
    stdlib: bool,
    /// Pinned `NAME==VERSION` distributions.
    #[serde(default)]
    pypi: Vec<String>,
    /// Files, directories or JSONL datasets, relative to the config file.
    #[serde(default)]
    inputs: Vec<PathBuf>,
}

impl SourcesConfig {
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading corpus config {}", path.display()))?;
        let mut config: SourcesConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for input in &mut config.inputs {
            *input = base.join(&*input);
        }
        Ok(config)
    }
}

/// The normalised-token hashes (`norm_hash`) of every function in an
/// evaluation set. JSONL rows are read for their code fields, whatever the
/// dataset: `code` (MBPP), `original_string` (CodeSearchNet),
/// `prompt` + `canonical_solution` (HumanEval), `vulnerable`/`fixed` (SVEN),
/// `solutions[].code` (clone groups); other inputs as corpus inputs.
fn evaluation_hashes(path: &Path, max_file_bytes: u64) -> Result<HashSet<String>> {
    let name = path.display().to_string();
    let records: Vec<FunctionRecord> = if name.ends_with(".jsonl") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading evaluation set {name}"))?;
        let origin = Origin {
            source: "files".into(),
            source_name: name.clone(),
            path: name.clone(),
            ..Default::default()
        };
        let rows: Vec<serde_json::Value> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()
            .with_context(|| format!("a row of {name} is not JSON"))?;
        rows.par_iter()
            .flat_map_iter(|row| {
                let mut codes: Vec<String> = ["code", "original_string", "vulnerable", "fixed"]
                    .iter()
                    .filter_map(|k| row[*k].as_str().map(dedent_snippet))
                    .collect();
                if let (Some(p), Some(c)) =
                    (row["prompt"].as_str(), row["canonical_solution"].as_str())
                {
                    codes.push(format!("{p}{c}"));
                }
                let solutions = row["solutions"].as_array().into_iter().flatten();
                codes.extend(solutions.filter_map(|s| s["code"].as_str().map(dedent_snippet)));
                codes
                    .into_iter()
                    .flat_map(|code| extract_module(&code, &origin))
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        sources::path_units(path)?
            .par_iter()
            .flat_map_iter(|u| u.extract(max_file_bytes))
            .collect()
    };
    let hashes: HashSet<String> = records
        .into_iter()
        .filter(|r| r.is_ok())
        .map(|r| r.norm_hash)
        .collect();
    eprintln!(
        "[corpus] decontaminate against {name}: {} functions",
        hashes.len()
    );
    Ok(hashes)
}

/// Extraction with a last line of defence: a panic in the parser on some
/// pathological input becomes an error row instead of killing the run.
fn extract_guarded(unit: &Unit, max_file_bytes: u64) -> Vec<FunctionRecord> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        unit.extract(max_file_bytes)
    })) {
        Ok(rows) => rows,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let origin = match unit {
                Unit::File { origin, .. }
                | Unit::Row { origin, .. }
                | Unit::Broken { origin, .. } => origin,
            };
            vec![origin.error("internal_error", format!("extractor panicked: {msg}"))]
        }
    }
}

/// Applies line, standalone and limit filters to function rows, counting what each drops.
fn filter(
    rows: &mut Vec<FunctionRecord>,
    args: &CorpusArgs,
    skipped: &mut BTreeMap<String, usize>,
) {
    let mut count = |reason: &str| *skipped.entry(reason.to_string()).or_default() += 1;
    rows.retain(|r| {
        if !r.is_ok() {
            return true;
        }
        if args.min_lines.is_some_and(|n| r.lines < n) {
            count("min_lines");
            return false;
        }
        if args.max_lines.is_some_and(|n| r.lines > n) {
            count("max_lines");
            return false;
        }
        if args.standalone_only && !r.standalone {
            count("not_standalone");
            return false;
        }
        true
    });
    if let Some(limit) = args.limit {
        let ok: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].is_ok()).collect();
        if ok.len() > limit {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
            let mut chosen = ok.clone();
            chosen.shuffle(&mut rng);
            let keep: std::collections::HashSet<usize> = chosen.into_iter().take(limit).collect();
            skipped.insert("limit".into(), ok.len() - limit);
            let mut i = 0;
            rows.retain(|r| {
                let kept = !r.is_ok() || keep.contains(&i);
                i += 1;
                kept
            });
        }
    }
}

fn print_summary(s: &CorpusSummary) {
    let mut out = String::new();
    out.push_str(&format!(
        "corpus: {} inputs → {} functions in {} ({:.1}s)\n",
        s.inputs,
        s.functions,
        s.output.display(),
        s.seconds
    ));
    out.push_str(&format!(
        "  ok           {:>8}  (standalone {}, with summary {}, with examples {})\n",
        s.functions, s.standalone, s.with_summary, s.with_examples
    ));
    out.push_str(&format!(
        "  duplicates   {:>8}  (exact {}, near {})\n",
        s.duplicates.exact + s.duplicates.near,
        s.duplicates.exact,
        s.duplicates.near
    ));
    let skipped: usize = s.skipped.values().sum();
    if s.with_packages > 0 {
        out.push_str(&format!(
            "  with packages {:>7}  (standalone once the corpus' PyPI packages are importable)\n",
            s.with_packages
        ));
    }
    for (spec, reason) in &s.unavailable {
        out.push_str(&format!("  unavailable  {spec}: {reason}\n"));
    }
    if s.evaluation_functions > 0 {
        out.push_str(&format!(
            "  decontaminated {:>6}  (same normalised code as one of {} evaluation functions)\n",
            s.decontaminated, s.evaluation_functions
        ));
    }
    out.push_str(&format!(
        "  skipped      {:>8}  {}\n",
        skipped,
        fmt_counts(&s.skipped)
    ));
    let errors: usize = s.errors.values().sum();
    out.push_str(&format!(
        "  errors       {:>8}  {}\n",
        errors,
        fmt_counts(&s.errors)
    ));
    out.push_str(&format!(
        "  not standalone because: {}\n",
        fmt_counts(&s.non_standalone_reasons)
    ));
    eprint!("{out}");
}

fn fmt_counts(counts: &BTreeMap<String, usize>) -> String {
    let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// The modules the corpus' PyPI packages provide, and their pins.
#[derive(Default)]
struct Provided {
    pins: Vec<String>,
    modules: HashSet<String>,
}

impl Provided {
    fn add(&mut self, pin: &str, root: &Path) {
        self.pins.push(pin.to_string());
        self.modules.extend(sources::top_level_modules(root));
    }

    /// Functions whose only obstacle is importing modules these packages
    /// provide become standalone, needing the packages (every pin of the
    /// corpus: a package may import another, e.g. sympy imports mpmath).
    /// Returns how many.
    fn allow_imports(&self, rows: &mut [FunctionRecord]) -> usize {
        if self.pins.is_empty() {
            return 0;
        }
        let mut pins = self.pins.clone();
        pins.sort();
        let mut allowed = 0;
        for r in rows.iter_mut().filter(|r| {
            r.is_ok()
                && r.standalone_reasons
                    .iter()
                    .any(|reason| reason == tracecode_py::extract::reason::NON_STDLIB_IMPORT)
        }) {
            let Some(modules) = tracecode_py::extract::third_party_imports(&r.context) else {
                continue;
            };
            if modules.is_empty() || !modules.iter().all(|m| self.modules.contains(m)) {
                continue;
            }
            r.standalone_reasons
                .retain(|reason| reason != tracecode_py::extract::reason::NON_STDLIB_IMPORT);
            r.packages = pins.clone();
            if r.standalone_reasons.is_empty() {
                r.standalone = true;
                allowed += 1;
            }
        }
        allowed
    }
}

/// Path helper for callers that build arguments programmatically.
pub fn args_for(inputs: Vec<PathBuf>, stdlib: bool, output: &Path) -> CorpusArgs {
    CorpusArgs {
        inputs,
        stdlib,
        output: output.to_path_buf(),
        seed: 0,
        max_file_bytes: 2 * 1024 * 1024,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_sets_of_every_shape_match_renamed_corpus_copies() {
        let dir = tempfile::tempdir().unwrap();
        let eval = dir.path().join("eval.jsonl");
        let rows = [
            serde_json::json!({"code": "def add(a, b):\n    return a + b\n"}),
            serde_json::json!({
                "vulnerable": "    def read(self, name):\r\n        return open(name).read()\r\n",
                "fixed": "    def read(self, name):\r\n        return open(safe(name)).read()\r\n",
            }),
            serde_json::json!({"solutions": [{"code": "class Solution:\n    def twice(self, nums):\n        return [2 * n for n in nums]\n"}]}),
        ];
        let text: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        std::fs::write(&eval, text.join("\n")).unwrap();
        let hashes = evaluation_hashes(&eval, 1 << 20).unwrap();
        let hash_of = |code: &str| {
            let rows = extract_module(code, &Origin::default());
            rows.iter()
                .find(|r| r.is_ok())
                .map(|r| r.norm_hash.clone())
                .unwrap()
        };
        // Renamed copies normalise to the same tokens: they are removed.
        assert!(hashes.contains(&hash_of("def plus(x, y):\n    return x + y\n")));
        assert!(hashes.contains(&hash_of(
            "def read(self, path):\n    return open(safe(path)).read()\n"
        )));
        assert!(hashes.contains(&hash_of(
            "def double(self, xs):\n    return [2 * x for x in xs]\n"
        )));
        // A different function is not.
        assert!(!hashes.contains(&hash_of("def sub(a, b):\n    return a - b\n")));
    }
}
