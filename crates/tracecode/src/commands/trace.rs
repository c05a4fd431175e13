//! `tracecode trace`: run standalone functions on generated inputs in the
//! sandboxed worker pool and record their traces, with the static CFG beside.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tracecode_data::trace::own_lines;
use tracecode_data::{
    read_rows, serde_name, FunctionRecord, PartedOutput, StatusCount, TraceRecord, TracedRun,
};
use tracecode_exec::RunStatus;
use tracecode_py::cfg::cfg_of_function;
use tracecode_py::inputs::{
    adapt_calls, canonical_calls, generate_calls, mutate_calls, FailedCall, FunctionSpec,
    GeneratedCall, InputStrategy,
};

use crate::runner::{id_seed, Code, PackageNeeds, Packages, Runner, SandboxArgs, Shard};

/// Trace standalone functions: run each on K generated inputs in the sandbox.
///
/// For every standalone function of a corpus, candidate calls are drawn
/// (doctest/test examples first, then their mutations, defaults, type-hint,
/// usage-inferred and random inputs; 4×K candidates, deterministic from
/// `--seed`), each is run in a fresh namespace in a sandboxed worker, and up
/// to K valid runs are kept, chosen greedily to cover the most CFG blocks and
/// distinct block paths. A call that fails at entry (TypeError/AttributeError
/// before the body's second line) is invalid and discarded.
///
/// Failures at entry also adapt the search: while fewer than K runs are valid,
/// up to `--adapt-rounds` rounds of 2×K new calls change the argument types
/// the exception messages point at (`object of type 'int' has no len()`: that
/// argument becomes a str or list; no usable message: each argument tries the
/// next type of int, str, list, dict, float, bool, bytes, list[str], None).
/// These runs have strategy `adapted`, and the valid ones seed the coverage
/// search like any other.
///
/// Besides its own inputs, every function runs on `--canonical` canonical
/// inputs: values drawn from its parameter types alone, seeded by the
/// normalised type signature (e.g. `(list[int], int)`; annotations, Sphinx
/// `:type:` fields, else types inferred from the body) and `--seed`, never by
/// the function. Any two functions with the same signature run on the same
/// canonical inputs, whatever their names, so their behaviour compares input
/// by input (`tracecode mine`). Their valid runs come after the function's
/// own, in draw order, with strategy `canonical`.
///
/// Each output row holds the function's CFG and its runs: the line and block
/// sequences, the value log, the return value or exception. Every
/// `--checkpoint` functions the new rows are written (atomically) as a part
/// in OUTPUT.parts/, so memory holds one checkpoint's rows; at the end the
/// parts are merged into OUTPUT. The run resumes: functions already in the
/// output or its parts are skipped.
///
/// Example:
///
///   tracecode trace corpus.parquet -o traces.parquet --inputs 8
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct TraceArgs {
    /// Function records from `tracecode corpus`.
    pub corpus: PathBuf,

    /// Output file (Parquet, or JSONL when it ends in `.jsonl`).
    #[arg(short, long, default_value = "traces.parquet")]
    pub output: PathBuf,

    /// Valid runs to keep per function.
    #[arg(long = "inputs", default_value_t = 8, value_name = "K")]
    pub inputs: usize,

    #[command(flatten)]
    pub sandbox: SandboxArgs,

    /// Rounds of coverage-guided search after the first 4×K candidates: while
    /// CFG blocks stay unreached, run 4×K mutations of the best-covering valid
    /// calls (0 turns the search off).
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub search_rounds: usize,

    /// Rounds of type adaptation after the first 4×K candidates: while fewer
    /// than K runs are valid and some failed at entry, run 2×K calls with the
    /// argument types their TypeError/AttributeError messages point at
    /// (strategy `adapted`; 0 turns adaptation off).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub adapt_rounds: usize,

    /// Canonical inputs per function (strategy `canonical`; shared by every
    /// function with the same type signature; 0 turns them off).
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub canonical: usize,

    /// Seed for input generation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Trace only shard I of N (by function id), e.g. `0/4`; join the
    /// shards' outputs with `tracecode merge traces`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,

    /// Trace at most N functions (in corpus order).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Trace a sample of N functions drawn with --sample-seed: the same set
    /// on every rerun, so an interrupted run resumes it. With --limit, the
    /// sample is drawn in addition to the first N.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,

    /// Seed of --sample.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub sample_seed: u64,

    /// Trace every function, not only those classified standalone (the rest may
    /// fail, or be stopped by the sandbox; each outcome is recorded).
    #[arg(long)]
    pub all: bool,

    /// Re-run exactly the calls kept in this earlier trace output (same inputs, no
    /// generation or selection): for re-tracing and for benchmarks.
    #[arg(long, value_name = "TRACES")]
    pub replay: Option<PathBuf>,
}

/// The functions to trace, in corpus order: all candidates, or the first
/// `limit` and/or a `sample` drawn with `seed`. The choice depends on the
/// corpus alone (not on what is already traced), so a rerun resumes it.
fn select(
    candidates: Vec<String>,
    limit: Option<usize>,
    sample: Option<usize>,
    seed: u64,
) -> Vec<String> {
    if limit.is_none() && sample.is_none() {
        return candidates;
    }
    let mut chosen = vec![false; candidates.len()];
    chosen
        .iter_mut()
        .take(limit.unwrap_or(0))
        .for_each(|c| *c = true);
    if let Some(sample) = sample {
        let mut drawn: Vec<(u64, usize)> = candidates
            .iter()
            .enumerate()
            .map(|(i, id)| (sample_key(id, seed), i))
            .collect();
        drawn.sort_unstable();
        for (_, i) in drawn.into_iter().take(sample) {
            chosen[i] = true;
        }
    }
    candidates
        .into_iter()
        .zip(chosen)
        .filter_map(|(id, chosen)| chosen.then_some(id))
        .collect()
}

/// A function's place in the seeded sample order: the id's hash mixed with
/// the seed (splitmix64), so the order is unrelated to `--shard`'s modulus.
fn sample_key(id: &str, seed: u64) -> u64 {
    let mut z = id_seed(id) ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn run(args: &TraceArgs) -> Result<TraceSummary> {
    if args.inputs == 0 {
        bail!("--inputs must be at least 1");
    }
    let shard = Shard::parse_opt(args.shard.as_deref())?;
    let output = PartedOutput::new(&args.output);
    let done_ids = output.done_keys(|r: TraceRecord| r.id)?;
    // A first pass keeps only the ids to trace; the records themselves are
    // streamed to the workers, so the corpus is never held in memory.
    let mut standalone = 0;
    let mut candidates: Vec<String> = Vec::new();
    let mut needs_packages = PackageNeeds::new();
    tracecode_data::for_each_row(&args.corpus, |r: FunctionRecord| {
        standalone += usize::from(r.is_ok() && r.standalone);
        if r.is_ok() && (args.all || r.standalone) && shard.is_none_or(|s| s.contains(&r.id)) {
            if !r.packages.is_empty() {
                needs_packages.insert(r.id.clone(), (r.packages, r.context));
            }
            candidates.push(r.id);
        }
        Ok(())
    })
    .with_context(|| format!("reading the corpus {}", args.corpus.display()))?;
    let mut todo: Vec<String> = select(candidates, args.limit, args.sample, args.sample_seed)
        .into_iter()
        .filter(|id| !done_ids.contains(id))
        .collect();
    eprintln!(
        "[trace] {} standalone functions, {} already traced, {} to trace",
        standalone,
        done_ids.len(),
        todo.len()
    );

    let packages = Packages::needed_by(&todo, &needs_packages);
    let runner = Runner::start(&args.sandbox, &packages)?;
    let replay: Option<HashMap<String, Vec<GeneratedCall>>> = match &args.replay {
        Some(path) => {
            let rows: Vec<TraceRecord> = read_rows(path)
                .with_context(|| format!("reading calls to replay from {}", path.display()))?;
            let calls: HashMap<String, Vec<GeneratedCall>> = rows
                .into_iter()
                .map(|t| {
                    (
                        t.id,
                        t.runs
                            .into_iter()
                            .map(|r| GeneratedCall {
                                call: r.call,
                                strategy: strategy_from(&r.strategy),
                            })
                            .collect(),
                    )
                })
                .collect();
            todo.retain(|id| calls.contains_key(id));
            Some(calls)
        }
        None => None,
    };

    let total = todo.len();
    let records = tracecode_data::stream_listed(
        &args.corpus,
        args.sandbox.checkpoint,
        todo,
        |r: &FunctionRecord| r.id.as_str(),
    );
    runner.for_each_checkpointed(
        records,
        total,
        "trace",
        &output,
        |rec| {
            // Replayed canonical calls run as canonical ones again: after the
            // others, in their order.
            let (calls, canonical): (Vec<GeneratedCall>, Vec<GeneratedCall>) = match &replay {
                Some(calls) => calls
                    .get(&rec.id)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .partition(|c| c.strategy != InputStrategy::Canonical),
                None => {
                    let spec = FunctionSpec::from(rec);
                    (
                        generate_calls(&spec, 4 * args.inputs, args.seed ^ id_seed(&rec.id)),
                        canonical_calls(&spec, args.canonical, args.seed),
                    )
                }
            };
            let keep = if replay.is_some() {
                calls.len()
            } else {
                args.inputs
            };
            let search = (replay.is_none() && args.search_rounds > 0).then(|| {
                (
                    args.seed ^ id_seed(&rec.id) ^ SEARCH_SEED,
                    args.search_rounds,
                )
            });
            let adapt = (replay.is_none() && args.adapt_rounds > 0)
                .then(|| (args.seed ^ id_seed(&rec.id) ^ ADAPT_SEED, args.adapt_rounds));
            vec![trace_function(
                rec, &runner, &calls, keep, adapt, search, &canonical,
            )]
        },
        |row| row.status.clone(),
    )?;
    summarize(&args.output)
}

/// Folds a traces file into its summary (streamed), writes
/// `<file>.summary.json` and prints it.
pub fn summarize(path: &std::path::Path) -> Result<TraceSummary> {
    let mut summary = TraceSummary::default();
    tracecode_data::for_each_row(path, |r: TraceRecord| {
        summary.add(&r);
        Ok(())
    })?;
    summary.finish();
    let summary_path = std::path::PathBuf::from(format!("{}.summary.json", path.display()));
    tracecode_data::io::atomic_write(&summary_path, |f| {
        Ok(serde_json::to_writer_pretty(f, &summary)?)
    })?;
    print_summary(&summary, path);
    Ok(summary)
}

use tracecode_data::behaviour::CANONICAL;

/// Separates the search's random stream from input generation's.
const SEARCH_SEED: u64 = 0x5EA2_C4ED;
/// Separates type adaptation's random stream from the other two.
const ADAPT_SEED: u64 = 0xADA9_7ED5;

fn strategy_from(name: &str) -> InputStrategy {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .unwrap_or(InputStrategy::Examples)
}

/// Runs `calls` for one function and keeps the best `k` valid runs.
/// `adapt` and `search` are (seed, rounds) of type adaptation and of
/// coverage-guided search, which run in that order after `calls`; the valid
/// runs of `canonical` follow, in their order.
fn trace_function(
    rec: &FunctionRecord,
    runner: &Runner,
    calls: &[GeneratedCall],
    k: usize,
    adapt: Option<(u64, usize)>,
    search: Option<(u64, usize)>,
    canonical: &[GeneratedCall],
) -> TraceRecord {
    let mut row = TraceRecord {
        id: rec.id.clone(),
        qualname: rec.qualname.clone(),
        status: "traced".into(),
        detail: None,
        code: rec.code.clone(),
        context: rec.context.clone(),
        code_line_offset: rec.context.lines().count() as u32,
        packages: rec.packages.clone(),
        cfg: None,
        runs: vec![],
        candidates: 0,
        candidate_statuses: vec![],
        blocks_hit: 0,
        blocks_total: 0,
        distinct_paths: 0,
    };
    let cfg = match cfg_of_function(&rec.code) {
        Ok(c) => c,
        Err(e) => {
            row.status = "cfg_error".into();
            row.detail = Some(e.to_string());
            return row;
        }
    };
    let code = Code::new(&rec.context, &rec.code, &cfg);
    let mut statuses: BTreeMap<String, u32> = BTreeMap::new();
    let mut valid: Vec<TracedRun> = Vec::new();
    // Runs `calls`, keeping the valid runs and noting the failures at entry
    // (with their message, for adaptation).
    let mut run_candidates = |calls: &[GeneratedCall], valid: &mut Vec<TracedRun>| {
        let mut failed = Vec::new();
        for call in calls {
            let run = runner.trace_call(
                &code,
                &call.call,
                &serde_name(&call.strategy),
                &runner.limits,
            );
            let result = &run.result;
            let own_steps = own_lines(result, code.line_offset).len();
            let is_valid = match result.status {
                RunStatus::Returned => true,
                RunStatus::Raised => {
                    !(matches!(
                        result.exception_type.as_deref(),
                        Some("TypeError" | "AttributeError")
                    ) && own_steps <= 2)
                }
                _ => false,
            };
            let label = if result.status == RunStatus::Raised && !is_valid {
                "failed_at_entry".to_string()
            } else {
                serde_name(&result.status)
            };
            *statuses.entry(label).or_default() += 1;
            if is_valid {
                valid.push(run);
            } else if result.status == RunStatus::Raised {
                // Failed at entry: its message is what adaptation reads.
                failed.push(FailedCall {
                    call: call.call.clone(),
                    strategy: call.strategy,
                    exception_type: result.exception_type.clone().unwrap_or_default(),
                    message: result.exception_message.clone().unwrap_or_default(),
                });
            }
        }
        failed
    };
    let mut failed = run_candidates(calls, &mut valid);
    let mut candidates = calls.len();
    let mut seen: HashSet<String> = calls.iter().map(|c| c.call.clone()).collect();
    // Type adaptation: while valid runs are short, retype the arguments the
    // failures' messages point at. Each round answers the latest failures,
    // so a call fixed in one argument can be fixed in the next; a round with
    // no new failure repeats the last one's fixes with fresh values.
    if let Some((seed, rounds)) = adapt {
        let spec = FunctionSpec::from(rec);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..rounds {
            if valid.len() >= k || failed.is_empty() {
                break;
            }
            let round: Vec<GeneratedCall> = adapt_calls(&spec, &failed, &mut rng, 2 * k)
                .into_iter()
                .filter(|c| seen.insert(c.call.clone()))
                .collect();
            if round.is_empty() {
                break;
            }
            candidates += round.len();
            let new_failed = run_candidates(&round, &mut valid);
            if !new_failed.is_empty() {
                failed = new_failed;
            }
        }
    }
    // Coverage-guided search: while blocks stay unreached, run rounds of
    // mutations of the calls that already run validly.
    let blocks_with_lines = cfg.blocks.iter().filter(|b| !b.lines.is_empty()).count();
    let reached = |valid: &[TracedRun]| -> HashSet<u32> {
        valid
            .iter()
            .flat_map(|r| r.blocks.iter().copied())
            .collect()
    };
    if let Some((seed, rounds)) = search {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut covered = reached(&valid).len();
        for _ in 0..rounds {
            if covered >= blocks_with_lines || valid.is_empty() {
                break;
            }
            // Mutate the runs that coverage selection keeps first: the ones
            // reaching the most distinct blocks.
            let seeds: Vec<&str> = coverage_order(&valid, k)
                .into_iter()
                .map(|i| valid[i].call.as_str())
                .collect();
            let round: Vec<GeneratedCall> = mutate_calls(&seeds, &mut rng, 4 * k)
                .into_iter()
                .filter(|c| seen.insert(c.clone()))
                .map(|call| GeneratedCall {
                    call,
                    strategy: InputStrategy::Mutation,
                })
                .collect();
            if round.is_empty() {
                break;
            }
            candidates += round.len();
            run_candidates(&round, &mut valid);
            covered = reached(&valid).len();
        }
    }
    let mut canonical_runs = Vec::new();
    run_candidates(canonical, &mut canonical_runs);
    candidates += canonical.len();
    row.candidates = candidates as u32;
    row.candidate_statuses = statuses
        .into_iter()
        .map(|(status, count)| StatusCount { status, count })
        .collect();
    let order = coverage_order(&valid, k);
    let mut slots: Vec<Option<TracedRun>> = valid.into_iter().map(Some).collect();
    row.runs = order.into_iter().filter_map(|i| slots[i].take()).collect();
    row.runs.extend(canonical_runs);
    let hit: HashSet<u32> = row
        .runs
        .iter()
        .flat_map(|r| r.blocks.iter().copied())
        .collect();
    let paths: HashSet<&[u32]> = row.runs.iter().map(|r| r.blocks.as_slice()).collect();
    // Entry and exit blocks carry no lines, so they are not counted either way.
    row.blocks_total = cfg.blocks.iter().filter(|b| !b.lines.is_empty()).count() as u32;
    row.blocks_hit = hit.len() as u32;
    row.distinct_paths = paths.len() as u32;
    if row.runs.is_empty() {
        row.status = "no_valid_input".into();
    }
    row.cfg = Some(cfg);
    row
}

/// Greedy coverage selection: repeatedly take the run adding the most unseen
/// blocks, then a run with an unseen block path, then the rest in order.
/// Returns up to `k` indices into `runs`, in the order picked.
fn coverage_order(runs: &[TracedRun], k: usize) -> Vec<usize> {
    let mut left: Vec<usize> = (0..runs.len()).collect();
    let mut chosen = Vec::new();
    let mut covered: HashSet<u32> = HashSet::new();
    let mut paths: HashSet<&[u32]> = HashSet::new();
    while chosen.len() < k && !left.is_empty() {
        let score = |i: usize| {
            let blocks = &runs[i].blocks;
            let new_blocks = blocks
                .iter()
                .filter(|b| !covered.contains(b))
                .collect::<HashSet<_>>()
                .len();
            (new_blocks, !paths.contains(blocks.as_slice()))
        };
        // First maximum wins, so earlier (example-derived) candidates break ties.
        let best = (0..left.len())
            .rev()
            .max_by_key(|&j| score(left[j]))
            .unwrap_or(0);
        let i = left.remove(best);
        covered.extend(runs[i].blocks.iter().copied());
        paths.insert(&runs[i].blocks);
        chosen.push(i);
    }
    chosen
}

/// What a trace run holds, for the summary line and the pipeline report.
#[derive(Debug, Default, Serialize)]
pub struct TraceSummary {
    pub functions: usize,
    pub functions_by_status: BTreeMap<String, usize>,
    pub runs_by_status: BTreeMap<String, u64>,
    /// Functions with at least five valid runs on their own inputs.
    pub with_five_valid_inputs: usize,
    /// Functions with at least three valid runs on canonical inputs.
    pub with_three_canonical: usize,
    /// Mean over traced functions of blocks hit / blocks with lines.
    pub mean_block_coverage: f64,
    pub mean_distinct_paths: f64,
    /// Functions with status `traced` (the means' denominator).
    pub traced: usize,
}

impl TraceSummary {
    /// Counts one function's row (rows are streamed, not held).
    pub fn add(&mut self, r: &TraceRecord) {
        self.functions += 1;
        *self
            .functions_by_status
            .entry(r.status.clone())
            .or_default() += 1;
        for c in &r.candidate_statuses {
            *self.runs_by_status.entry(c.status.clone()).or_default() += c.count as u64;
        }
        let canonical = r
            .runs
            .iter()
            .filter(|run| run.strategy == CANONICAL)
            .count();
        if r.runs.len() - canonical >= 5 {
            self.with_five_valid_inputs += 1;
        }
        if canonical >= 3 {
            self.with_three_canonical += 1;
        }
        if r.status == "traced" {
            self.traced += 1;
            if r.blocks_total > 0 {
                self.mean_block_coverage += r.blocks_hit as f64 / r.blocks_total as f64;
            }
            self.mean_distinct_paths += r.distinct_paths as f64;
        }
    }

    /// Turns the sums of [`Self::add`] into means over traced functions.
    pub fn finish(&mut self) {
        let n = self.traced.max(1) as f64;
        self.mean_block_coverage /= n;
        self.mean_distinct_paths /= n;
    }
}

fn print_summary(s: &TraceSummary, output: &std::path::Path) {
    let mut out = format!("trace: {} functions → {}\n", s.functions, output.display());
    out.push_str(&format!(
        "  functions by status: {:?}\n",
        s.functions_by_status
    ));
    out.push_str(&format!("  runs by status:      {:?}\n", s.runs_by_status));
    out.push_str(&format!(
        "  with >=5 valid inputs: {} ({:.1}%); traced functions: mean block coverage {:.1}%, mean distinct paths {:.2}\n",
        s.with_five_valid_inputs,
        100.0 * s.with_five_valid_inputs as f64 / s.functions.max(1) as f64,
        100.0 * s.mean_block_coverage,
        s.mean_distinct_paths
    ));
    out.push_str(&format!(
        "  with >=3 valid canonical inputs: {} ({:.1}%)\n",
        s.with_three_canonical,
        100.0 * s.with_three_canonical as f64 / s.functions.max(1) as f64
    ));
    eprint!("{out}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("{:016x}", (i as u64).wrapping_mul(0x2545_F491_4F6C_DD1D)))
            .collect()
    }

    #[test]
    fn a_sample_is_the_same_on_every_call_and_changes_with_the_seed() {
        let all = ids(1000);
        let a = select(all.clone(), None, Some(100), 7);
        assert_eq!(a.len(), 100);
        assert_eq!(a, select(all.clone(), None, Some(100), 7));
        // In corpus order, spread over the whole corpus (not its head).
        let positions: Vec<usize> = a
            .iter()
            .map(|id| all.iter().position(|x| x == id).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        assert!(
            positions.iter().filter(|&&p| p >= 500).count() > 30,
            "{positions:?}"
        );
        let b = select(all.clone(), None, Some(100), 8);
        let shared = a.iter().filter(|id| b.contains(id)).count();
        assert!(shared < 40, "seeds 7 and 8 share {shared} of 100");
        // A larger sample contains the smaller one: growing it resumes a run.
        let bigger = select(all.clone(), None, Some(300), 7);
        assert!(a.iter().all(|id| bigger.contains(id)));
    }

    #[test]
    fn limit_and_sample_together_take_the_head_and_a_sample_of_the_rest() {
        let all = ids(1000);
        let chosen = select(all.clone(), Some(50), Some(100), 0);
        assert!(all[..50].iter().all(|id| chosen.contains(id)));
        assert!(
            chosen.len() >= 100 && chosen.len() <= 150,
            "{}",
            chosen.len()
        );
        assert_eq!(select(all.clone(), Some(50), None, 0), all[..50].to_vec());
        assert_eq!(select(all.clone(), None, None, 0), all);
        assert_eq!(select(all.clone(), None, Some(5000), 0), all);
    }

    #[test]
    fn the_stored_canonical_strategy_is_the_enum_s_name() {
        assert_eq!(serde_name(&InputStrategy::Canonical), CANONICAL);
        assert_eq!(strategy_from(CANONICAL), InputStrategy::Canonical);
    }
}
