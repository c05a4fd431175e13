//! `tracecode variants`: rewrite and mutate every traced function, re-trace
//! each variant on its original's inputs, and label it by trace equivalence.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use tracecode_data::equivalence::{judge, Rule, Verdict};
use tracecode_data::schema::{content_id, serde_name};
use tracecode_data::{
    EquivalenceLabel, PartedOutput, Rename, RunResult, TraceRecord, TracedRun, VariantRecord,
    VariantRole,
};
use tracecode_exec::Limits;
use tracecode_py::cfg::cfg_of_function;
use tracecode_py::edit::{rename_call_keywords, ParsedFunction, Variant};
use tracecode_py::extract::comprehension_variables;
use tracecode_py::mutant::random_mutants_on_lines;
use tracecode_py::rewrite::{applicable_kinds, apply_rewrite, random_rewrites, RewriteKind};

use crate::runner::{id_seed, Code, PackageNeeds, Packages, Runner, SandboxArgs, Shard};

/// Rewrite and mutate traced functions; re-trace and label trace equivalence.
///
/// For every traced function, `--rewrites` semantics-preserving variants are
/// generated (single rewrites, structural kinds first in a seed-shuffled
/// order, then compositions of several, half of them ending in DOBF-style
/// name obfuscation), `--speculative` speculative rewrites (applied without
/// proof: kept as positives only when trace-equivalent, hard negatives
/// otherwise), and `--mutants` single-mutation variants. Each is run in the sandbox on exactly
/// the calls kept for its original (keyword arguments follow renamed
/// parameters) and compared with a fresh run of the original:
///
///   trace_equivalent  same outcome, output, stdout and value sequences on every input
///   trace_different   some input differs (`failed_check`, `first_diff_input` say how)
///   undetermined      the original disagrees with itself, or nothing was comparable
///
/// The exact rule is in docs/variants.md. The original is run twice; when the
/// two runs disagree (time, randomness) its row is `nondeterministic` and its
/// variants `undetermined`. Output rows: one `original` row per function (its
/// fresh runs), then its variants, each with code, CFG and runs. The run
/// resumes from its output and rewrites it atomically at checkpoints.
///
/// The summary reports, per kind, on how many functions its pattern occurs
/// and how many it fired on, and how its variants were labelled. A sound
/// rewrite that is *not* trace-equivalent is a bug in the rewrite or in the
/// rule (listed with its reason); a speculative one is a rejection, the
/// point of running it.
///
/// Example:
///
///   tracecode variants traces.parquet -o variants.parquet --rewrites 6 --mutants 4
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct VariantsArgs {
    /// Traces from `tracecode trace`.
    pub traces: PathBuf,

    /// Output file (Parquet, or JSONL when it ends in `.jsonl`).
    #[arg(short, long, default_value = "variants.parquet")]
    pub output: PathBuf,

    /// Semantics-preserving variants per function.
    #[arg(long, default_value_t = 6, value_name = "K")]
    pub rewrites: usize,

    /// Speculative rewrites per function (each of a different kind).
    #[arg(long, default_value_t = 4, value_name = "S")]
    pub speculative: usize,

    /// Mutants per function.
    #[arg(long, default_value_t = 4, value_name = "M")]
    pub mutants: usize,

    /// Seed for choosing rewrites and mutation sites.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Process at most N traced functions (in trace order).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Vary only shard I of N (by function id), e.g. `0/4`; join the shards'
    /// outputs with `tracecode merge variants`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

pub fn run(args: &VariantsArgs) -> Result<VariantsSummary> {
    let shard = Shard::parse_opt(args.shard.as_deref())?;
    let output = PartedOutput::new(&args.output);
    let done_ids = output.done_keys(|r: VariantRecord| r.function_id)?;
    // A first pass keeps only the ids to vary; the traced functions themselves
    // are streamed to the workers, so the traces file is never held in memory.
    let (mut traced, mut without_code) = (0, 0);
    let mut todo: Vec<String> = Vec::new();
    let mut needs_packages = PackageNeeds::new();
    tracecode_data::for_each_row(&args.traces, |t: TraceRecord| {
        if t.status == "traced" {
            without_code += usize::from(t.code.is_empty());
            if !t.runs.is_empty() {
                traced += 1;
                if !done_ids.contains(&t.id) && shard.is_none_or(|s| s.contains(&t.id)) {
                    if !t.packages.is_empty() {
                        needs_packages.insert(t.id.clone(), (t.packages, t.context));
                    }
                    todo.push(t.id);
                }
            }
        }
        Ok(())
    })
    .with_context(|| format!("reading traces from {}", args.traces.display()))?;
    if without_code > 0 {
        bail!(
            "{} has no function code (written by an older tracecode); re-run `tracecode trace`",
            args.traces.display()
        );
    }
    if let Some(limit) = args.limit {
        todo.truncate(limit.saturating_sub(done_ids.len()));
    }
    eprintln!(
        "[variants] {} traced functions, {} already done, {} to vary ({} rewrites + {} speculative + {} mutants each)",
        traced,
        done_ids.len(),
        todo.len(),
        args.rewrites,
        args.speculative,
        args.mutants
    );
    let packages = Packages::needed_by(&todo, &needs_packages);
    let runner = Runner::start(&args.sandbox, &packages)?;
    let total = todo.len();
    let functions = tracecode_data::stream_listed(
        &args.traces,
        args.sandbox.checkpoint,
        todo,
        |t: &TraceRecord| t.id.as_str(),
    );
    runner.for_each_checkpointed(
        functions,
        total,
        "variants",
        &output,
        |t| vary_function(t, &runner, args),
        |row| match row.role {
            VariantRole::Original => serde_name(&row.label),
            role => format!("{}:{}", serde_name(&role), serde_name(&row.label)),
        },
    )?;
    summarize(&args.output)
}

/// Folds a variants file into its summary (streamed: memory holds one row
/// group, not the file), writes `<file>.summary.json` and prints it.
pub fn summarize(path: &std::path::Path) -> Result<VariantsSummary> {
    let mut tally = SummaryTally::default();
    tracecode_data::for_each_row(path, |r: VariantRecord| {
        tally.add(&r);
        Ok(())
    })?;
    let summary = tally.finish();
    let summary_path = PathBuf::from(format!("{}.summary.json", path.display()));
    tracecode_data::io::atomic_write(&summary_path, |f| {
        Ok(serde_json::to_writer_pretty(f, &summary)?)
    })?;
    print_summary(&summary, path);
    Ok(summary)
}

/// The variants of one function, ready to run: rewrites first, then mutants.
fn generate(
    code: &str,
    function_id: &str,
    executed: &HashSet<u32>,
    args: &VariantsArgs,
) -> Vec<(VariantRole, Variant)> {
    let seed = args.seed ^ id_seed(function_id);
    let original = Variant::original(code);
    let mut seen: HashSet<String> = HashSet::from([code.to_string()]);
    let mut out: Vec<(VariantRole, Variant)> = Vec::new();
    let mut push = |role, v: Variant, out: &mut Vec<(VariantRole, Variant)>| {
        if seen.insert(v.code.clone()) {
            out.push((role, v));
        }
    };
    // Single rewrites, so their equivalence rate can be read per kind; kinds in
    // a per-function order so every kind is exercised across a corpus, and
    // structural ones first: renaming and dead code apply almost everywhere
    // and would otherwise take most of the budget.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut structural, mut cosmetic): (Vec<RewriteKind>, Vec<RewriteKind>) =
        RewriteKind::sound().partition(RewriteKind::is_structural);
    structural.shuffle(&mut rng);
    cosmetic.shuffle(&mut rng);
    let singles = args.rewrites.saturating_sub(2);
    for kind in structural.into_iter().chain(cosmetic) {
        if out.len() >= singles {
            break;
        }
        if let Ok(v) = apply_rewrite(kind, &original, seed) {
            push(VariantRole::Rewrite, v, &mut out);
        }
    }
    // Compositions: several rewrites, and several ending in obfuscated names
    // (the positives of the adversarial clone benchmark).
    for attempt in 0..4 * args.rewrites as u64 {
        if out.len() >= args.rewrites {
            break;
        }
        let s = seed.wrapping_add(attempt.wrapping_mul(0x9E37_79B9));
        let composed = random_rewrites(code, 2 + (attempt % 2) as usize, s);
        let v = if attempt % 2 == 0 {
            composed.and_then(|v| apply_rewrite(RewriteKind::ObfuscateNames, &v, s))
        } else {
            composed
        };
        if let Ok(v) = v {
            push(VariantRole::Rewrite, v, &mut out);
        }
    }
    let mut speculative: Vec<RewriteKind> = RewriteKind::speculative().collect();
    speculative.shuffle(&mut rng);
    let mut made = 0;
    for kind in speculative {
        if made >= args.speculative {
            break;
        }
        if let Ok(v) = apply_rewrite(kind, &original, seed) {
            made += 1;
            push(VariantRole::Speculative, v, &mut out);
        }
    }
    for v in random_mutants_on_lines(code, args.mutants, seed, executed) {
        push(VariantRole::Mutant, v, &mut out);
    }
    out
}

/// The original's row and the rows of its variants.
fn vary_function(t: &TraceRecord, runner: &Runner, args: &VariantsArgs) -> Vec<VariantRecord> {
    let Some(cfg) = t.cfg.as_ref() else {
        return vec![];
    };
    let code = Code::new(&t.context, &t.code, cfg);
    // The name calls reach the function by (a method's last component).
    let function = t.qualname.rsplit('.').next().unwrap_or(&t.qualname);
    let keyword_parameters: Vec<String> = ParsedFunction::parse(&t.code)
        .map(|f| {
            f.keyword_parameters()
                .into_iter()
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let run_all =
        |code: &Code, renames: &[(String, String)], limits: &[Limits]| -> Vec<TracedRun> {
            // Keywords follow renamed parameters, never renamed locals.
            let renames: Vec<(&str, &str)> = renames
                .iter()
                .filter(|(from, _)| keyword_parameters.contains(from))
                .map(|(from, to)| (from.as_str(), to.as_str()))
                .collect();
            t.runs
                .iter()
                .zip(limits)
                .map(|(r, limits)| {
                    let call = rename_call_keywords(&r.call, function, &renames);
                    runner.trace_call(code, &call, &r.strategy, limits)
                })
                .collect()
        };
    let base: Vec<Limits> = vec![runner.limits.clone(); t.runs.len()];
    let first = run_all(&code, &[], &base);
    // Lines of `code` the reference runs executed: mutants go there only.
    let executed: HashSet<u32> = first
        .iter()
        .flat_map(|r| r.own_lines(code.line_offset))
        .collect();
    let second = run_all(&code, &[], &base);
    let original_scoped: HashSet<String> = comprehension_variables(&t.code).into_iter().collect();
    let value_cap = runner.limits.max_values;
    let deterministic = judge(
        results(&first),
        results(&second),
        &Rule::new(vec![], original_scoped.clone(), value_cap),
    );
    let (label, detail) = match &deterministic {
        Verdict::Different { input, difference } => (
            EquivalenceLabel::Nondeterministic,
            Some(format!("input {input}: {}", difference.detail)),
        ),
        _ => (EquivalenceLabel::Deterministic, None),
    };
    let stable = label == EquivalenceLabel::Deterministic;
    // A rewrite may legitimately take more line events (a `for` turned into a
    // `while` with explicit `next`): give variants room before calling it a limit.
    let variant_limits: Vec<Limits> = first
        .iter()
        .map(|r| Limits {
            max_events: runner.limits.max_events.max(4 * r.result.events + 1_000),
            ..runner.limits.clone()
        })
        .collect();
    let original = VariantRecord {
        id: t.id.clone(),
        function_id: t.id.clone(),
        role: VariantRole::Original,
        kinds: vec![],
        notes: vec![],
        renames: vec![],
        label,
        failed_check: None,
        first_diff_input: None,
        detail,
        trace: TraceRecord {
            runs: vec![],
            ..t.clone()
        },
    };
    let mut rows = Vec::new();
    for (role, v) in generate(&t.code, &t.id, &executed, args) {
        let id = content_id(&format!("{}\n{}", t.id, v.code));
        let mut trace = TraceRecord {
            id: id.clone(),
            code: v.code.clone(),
            cfg: None,
            runs: vec![],
            detail: None,
            ..t.clone()
        };
        let renames: Vec<Rename> = v
            .renames
            .iter()
            .map(|(from, to)| Rename {
                from: from.clone(),
                to: to.clone(),
            })
            .collect();
        let mut row = VariantRecord {
            id,
            function_id: t.id.clone(),
            role,
            kinds: v.kinds.clone(),
            notes: v.notes.clone(),
            renames,
            label: EquivalenceLabel::Undetermined,
            failed_check: None,
            first_diff_input: None,
            detail: None,
            trace: trace.clone(),
        };
        let vcfg = match cfg_of_function(&v.code) {
            Ok(c) => c,
            Err(e) => {
                row.detail = Some(format!("variant CFG: {e}"));
                trace.status = "cfg_error".into();
                row.trace = trace;
                rows.push(row);
                continue;
            }
        };
        let vcode = Code::new(&t.context, &v.code, &vcfg);
        trace.runs = run_all(&vcode, &v.renames, &variant_limits);
        if stable {
            let mut unscoped = original_scoped.clone();
            unscoped.extend(comprehension_variables(&v.code));
            let rule = Rule::new(row.renames.clone(), unscoped, value_cap);
            match judge(results(&first), results(&trace.runs), &rule) {
                Verdict::Equivalent { .. } => row.label = EquivalenceLabel::TraceEquivalent,
                Verdict::Different { input, difference } => {
                    row.label = EquivalenceLabel::TraceDifferent;
                    row.failed_check = Some(difference.check);
                    row.first_diff_input = Some(input as u32);
                    row.detail = Some(difference.detail);
                }
                Verdict::Undetermined => {
                    row.detail = Some("no input ran to a comparable end".into());
                }
            }
        } else {
            row.detail = Some("original is nondeterministic".into());
        }
        trace.cfg = Some(vcfg);
        row.trace = trace;
        rows.push(row);
    }
    // The original's row goes first; it takes its runs last, once every
    // variant has been compared with them.
    let mut original = original;
    original.trace.runs = first;
    rows.insert(0, original);
    rows
}

fn results(runs: &[TracedRun]) -> impl Iterator<Item = &RunResult> {
    runs.iter().map(|r| &r.result)
}

/// Counts of one group of variants.
#[derive(Debug, Default, Clone, Serialize)]
pub struct LabelCounts {
    pub total: usize,
    pub trace_equivalent: usize,
    pub trace_different: usize,
    pub undetermined: usize,
    /// For trace-different rows: which check failed first.
    pub failed_checks: BTreeMap<String, usize>,
}

impl LabelCounts {
    fn add(&mut self, row: &VariantRecord) {
        self.total += 1;
        match row.label {
            EquivalenceLabel::TraceEquivalent => self.trace_equivalent += 1,
            EquivalenceLabel::TraceDifferent => {
                self.trace_different += 1;
                if let Some(c) = row.failed_check {
                    *self.failed_checks.entry(serde_name(&c)).or_default() += 1;
                }
            }
            _ => self.undetermined += 1,
        }
    }

    /// Share of determined rows that are trace-different.
    pub fn different_rate(&self) -> f64 {
        let determined = self.trace_equivalent + self.trace_different;
        self.trace_different as f64 / determined.max(1) as f64
    }
}

/// Where a kind's pattern occurs and where it fired.
#[derive(Debug, Default, Clone, Serialize)]
pub struct KindCoverage {
    /// Functions whose code the kind would rewrite.
    pub applicable: usize,
    /// Of those, functions with a variant using the kind (alone or composed).
    pub fired: usize,
}

impl KindCoverage {
    pub fn fired_rate(&self) -> f64 {
        self.fired as f64 / self.applicable.max(1) as f64
    }
}

/// What a variants run produced; printed and written as `<output>.summary.json`.
#[derive(Debug, Default, Serialize)]
pub struct VariantsSummary {
    pub functions: usize,
    pub nondeterministic_functions: usize,
    /// Deterministic functions with at least 3 trace-equivalent rewrites.
    pub with_three_equivalent_rewrites: usize,
    pub rewrites: LabelCounts,
    /// Speculative rewrites: trace-equivalent ones are kept (positives),
    /// trace-different ones rejected (hard negatives).
    pub speculative: LabelCounts,
    pub mutants: LabelCounts,
    /// Single rewrites by kind, and compositions (`composed`, `composed+obfuscate_names`).
    pub rewrites_by_kind: BTreeMap<String, LabelCounts>,
    pub speculative_by_kind: BTreeMap<String, LabelCounts>,
    pub mutants_by_kind: BTreeMap<String, LabelCounts>,
    /// Every rewrite kind, sound and speculative: functions where its pattern
    /// occurs and functions it fired on.
    pub coverage_by_kind: BTreeMap<String, KindCoverage>,
    /// Compositions using at least two structural kinds.
    pub composed_structural: usize,
    /// Up to 3 non-equivalent sound rewrites per kind, with why: each is a bug to look at.
    pub rewrite_failures: BTreeMap<String, Vec<String>>,
    /// Up to 3 rejected speculative rewrites per kind, with why.
    pub speculative_rejections: BTreeMap<String, Vec<String>>,
}

/// Originals matched against every rewrite kind at once.
const PATTERN_BATCH: usize = 1024;

/// Accumulates a [`VariantsSummary`] one row at a time.
#[derive(Default)]
struct SummaryTally {
    summary: VariantsSummary,
    /// Deterministic originals, and trace-equivalent rewrites per function.
    stable: Vec<String>,
    equivalent_rewrites: HashMap<String, usize>,
    /// Originals whose patterns are still to be counted (see `count_patterns`).
    originals: Vec<(String, String)>,
    /// (function, kind) pairs where the kind's pattern occurs in the original.
    applicable: HashSet<(String, String)>,
    /// (function, kind) pairs where the kind fired.
    fired: HashSet<(String, String)>,
}

impl SummaryTally {
    fn add(&mut self, r: &VariantRecord) {
        let s = &mut self.summary;
        let group = match r.kinds.as_slice() {
            [one] => one.clone(),
            many if many.last().map(String::as_str) == Some("obfuscate_names") => {
                "composed+obfuscate_names".into()
            }
            _ => "composed".into(),
        };
        let example = || {
            format!(
                "{} {}: {}",
                r.function_id,
                r.trace.qualname,
                r.detail.as_deref().unwrap_or("")
            )
        };
        let keep_example = |map: &mut BTreeMap<String, Vec<String>>, group: String| {
            let list = map.entry(group).or_default();
            if list.len() < 3 {
                list.push(example());
            }
        };
        if r.role != VariantRole::Original {
            for k in &r.kinds {
                self.fired.insert((r.function_id.clone(), k.clone()));
            }
        }
        match r.role {
            VariantRole::Original => {
                s.functions += 1;
                if r.label == EquivalenceLabel::Nondeterministic {
                    s.nondeterministic_functions += 1;
                } else {
                    self.stable.push(r.function_id.clone());
                }
                self.originals
                    .push((r.function_id.clone(), r.trace.code.clone()));
                if self.originals.len() >= PATTERN_BATCH {
                    self.count_patterns();
                }
            }
            VariantRole::Rewrite => {
                s.rewrites.add(r);
                s.rewrites_by_kind.entry(group.clone()).or_default().add(r);
                let structural = r
                    .kinds
                    .iter()
                    .filter(|k| k.parse::<RewriteKind>().is_ok_and(|k| k.is_structural()))
                    .count();
                s.composed_structural += usize::from(structural >= 2);
                if r.label == EquivalenceLabel::TraceEquivalent {
                    *self
                        .equivalent_rewrites
                        .entry(r.function_id.clone())
                        .or_default() += 1;
                }
                if r.label == EquivalenceLabel::TraceDifferent {
                    keep_example(&mut s.rewrite_failures, group);
                }
            }
            VariantRole::Speculative => {
                s.speculative.add(r);
                s.speculative_by_kind
                    .entry(group.clone())
                    .or_default()
                    .add(r);
                if r.label == EquivalenceLabel::TraceDifferent {
                    keep_example(&mut s.speculative_rejections, group);
                }
            }
            VariantRole::Mutant => {
                s.mutants.add(r);
                s.mutants_by_kind.entry(group).or_default().add(r);
            }
        }
    }

    /// Which kinds' patterns occur in the buffered originals: every kind
    /// tried on each (parsing and matching are most of a summary's time),
    /// in parallel, a batch at a time so memory stays bounded.
    fn count_patterns(&mut self) {
        let found: Vec<(String, Vec<RewriteKind>)> = std::mem::take(&mut self.originals)
            .into_par_iter()
            .map(|(id, code)| {
                let kinds = applicable_kinds(&code);
                (id, kinds)
            })
            .collect();
        for (id, kinds) in found {
            for kind in kinds {
                self.summary
                    .coverage_by_kind
                    .entry(kind.name().to_string())
                    .or_default()
                    .applicable += 1;
                self.applicable
                    .insert((id.clone(), kind.name().to_string()));
            }
        }
    }

    fn finish(mut self) -> VariantsSummary {
        self.count_patterns();
        self.summary.with_three_equivalent_rewrites = self
            .stable
            .iter()
            .filter(|id| self.equivalent_rewrites.get(*id).copied().unwrap_or(0) >= 3)
            .count();
        // Fired where the original has the pattern: a kind may also fire on
        // code an earlier rewrite of a composition made (a loop out of a
        // comprehension), which is not the pattern occurring.
        for key in self.fired.intersection(&self.applicable) {
            if let Some(c) = self.summary.coverage_by_kind.get_mut(&key.1) {
                c.fired += 1;
            }
        }
        self.summary
    }
}

fn print_summary(s: &VariantsSummary, output: &std::path::Path) {
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    let mut out = format!(
        "variants: {} functions → {}\n  nondeterministic originals: {}\n  functions with >=3 trace-equivalent rewrites: {} ({:.1}%)\n  compositions of >=2 structural kinds: {}\n",
        s.functions,
        output.display(),
        s.nondeterministic_functions,
        s.with_three_equivalent_rewrites,
        pct(s.with_three_equivalent_rewrites, s.functions),
        s.composed_structural,
    );
    let line = |name: &str, c: &LabelCounts| {
        format!(
            "  {name:<28} {:>6} {:>8} {:>8} {:>6}  {:>6.1}%  {:?}\n",
            c.total,
            c.trace_equivalent,
            c.trace_different,
            c.undetermined,
            100.0 * c.different_rate(),
            c.failed_checks
        )
    };
    let header = |first: &str, equiv: &str, differ: &str| {
        format!(
            "  {:<28} {:>6} {:>8} {:>8} {:>6}  {:>7}  {}\n",
            first, "total", equiv, differ, "undet", "differ%", "failed checks"
        )
    };
    out.push_str(&header("kind", "equiv", "differ"));
    out.push_str(&line("REWRITES (should be equiv)", &s.rewrites));
    for (k, c) in &s.rewrites_by_kind {
        out.push_str(&line(k, c));
    }
    out.push_str(&header("speculative kind", "kept", "rejected"));
    out.push_str(&line("SPECULATIVE (traces decide)", &s.speculative));
    for (k, c) in &s.speculative_by_kind {
        out.push_str(&line(k, c));
    }
    out.push_str(&header("mutant kind", "equiv", "differ"));
    out.push_str(&line("MUTANTS (should differ)", &s.mutants));
    for (k, c) in &s.mutants_by_kind {
        out.push_str(&line(k, c));
    }
    out.push_str(&format!(
        "  {:<28} {:>10} {:>8} {:>7}\n",
        "kind: pattern occurs / fired", "functions", "fired", "fired%"
    ));
    for (k, c) in &s.coverage_by_kind {
        out.push_str(&format!(
            "  {k:<28} {:>10} {:>8} {:>6.1}%\n",
            c.applicable,
            c.fired,
            100.0 * c.fired_rate()
        ));
    }
    eprint!("{out}");
}
