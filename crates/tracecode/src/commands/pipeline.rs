//! `tracecode pipeline`: the main job — every available stage, end to end, on
//! a default corpus found on the machine, resumable, ending in a report.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;

use super::bench_set::SplitArg;
use super::corpus::{self, CorpusSummary};
use super::eval::{EvalArgs, Task};
use super::pairs::Positives;
use crate::runner::SandboxArgs;
use tracecode_data::{serde_name, ClonePair};

/// Run every stage on the default corpus, end to end, and write the report.
///
/// The default corpus is configs/corpus.toml of the TraceCode checkout: the
/// local CPython standard library plus pinned pure-Python PyPI packages
/// (downloaded with pip into the cache once; one that cannot be fetched is
/// named in the report and the rest is used), plus MBPP
/// (DATA/search/mbpp.jsonl; DATA is `data/` of the checkout, which ships MBPP
/// and the SVEN pairs), whose problems carry the nl-search and summarization
/// tasks. Functions of the other evaluation sets (SVEN, --clone-groups) are
/// removed. The trace stage takes every MBPP function (--trace-mbpp) and a
/// seeded sample of --trace-functions standalone functions of the whole
/// corpus. Required inputs (the Python whose stdlib is read, the training
/// configuration, an explicit --data) are checked before any stage runs; an
/// evaluation task whose data is missing is skipped with its reason in the
/// report. Each stage writes its output under `--out` and is skipped (or
/// resumed) on a rerun, so an interrupted run continues where it stopped
/// (`--force` redoes everything):
///
///   corpus      standalone functions          corpus.parquet
///   trace       MBPP's and a sample           traces.parquet
///   mine        behavioural clones            mined.jsonl
///   variants    6 rewrites + 4 speculative    variants.parquet
///               + 4 mutants each, re-traced
///               and labelled
///   pairs       trace positives (rewrites and pairs-{trace,static}.parquet
///               mined clones), static ones
///   clone       held-out clone benchmark      clone-test.jsonl
///   tokenizer   byte-level BPE                tokenizer.json
///   train       fused model and static-only   train-fused/, train-static/
///               baseline (--config)
///   eval        every task, every encoder     eval/
///               (lexical, MiniLM when installed, static, code-only, fused);
///               clone-groups when --clone-groups is given (its solutions
///               are traced into clone-groups-STEM/)
///   ablation    trace runs per function at    ablation-runs/
///               inference (1, 2, 4); trace     ablate/
///               encoding CFG vs raw; positives
///               from sound rewrites only, +
///               speculative ones, mined clones
///               only (four more training runs)
///   report      HTML + Markdown               report.html, report.md
///
/// Example:
///
///   tracecode pipeline --out out
///
/// The stdlib alone (no download): --corpus-config configs/corpus-stdlib.toml.
///
/// At scale (every standalone function, --trace-functions 0), the heavy
/// per-function stages split over N machines: each runs
///
///   tracecode pipeline --out out --trace-functions 0 --shard $I/$N
///
/// (corpus, then trace and variants of its shard, into out/shards/), and one
/// then joins the shards and runs everything after them:
///
///   tracecode pipeline --out out --trace-functions 0 --merge-shards $N
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct PipelineArgs {
    /// Directory for every stage's output and the report.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,

    /// Benchmark data directory (`search/mbpp.jsonl`,
    /// `vuln/sven_python_vuln_fix_pairs.jsonl`; default: `data/` of the
    /// TraceCode checkout, never the working directory).
    #[arg(long, env = "TRACECODE_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Standalone functions to trace: a seeded sample of the whole corpus,
    /// the same on every rerun (per shard with --shard); 0: all of them.
    #[arg(long, default_value_t = 1000)]
    pub trace_functions: usize,

    /// The corpus' first M standalone functions are traced besides the
    /// sample: MBPP's (its first input), whose problems carry the nl-search
    /// and summarization tasks.
    #[arg(long, default_value_t = 1000, value_name = "M")]
    pub trace_mbpp: usize,

    /// Corpus sources, a TOML file (`stdlib`, `pypi`, `inputs`; default:
    /// configs/corpus.toml of the checkout, the stdlib plus pinned packages;
    /// configs/corpus-stdlib.toml: the stdlib alone). MBPP is added to it;
    /// functions of the other evaluation sets (DATA's SVEN, --clone-groups)
    /// are removed.
    #[arg(long, value_name = "FILE")]
    pub corpus_config: Option<PathBuf>,

    /// Run the corpus stage and the trace and variants stages of shard I of
    /// N only (into OUT/shards/), then stop: one such run per machine.
    #[arg(long, value_name = "I/N", conflicts_with = "merge_shards")]
    pub shard: Option<String>,

    /// Join the N shards in OUT/shards/ (see --shard) and run the stages after them.
    #[arg(long, value_name = "N")]
    pub merge_shards: Option<u64>,

    /// Valid runs to keep per traced function.
    #[arg(long, default_value_t = 8)]
    pub inputs: usize,

    /// Redo stages whose outputs already exist.
    #[arg(long)]
    pub force: bool,

    /// Python interpreter whose stdlib is the default corpus.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,

    /// Training configuration of both runs; its data paths are replaced by
    /// --out's files (default: configs/small.toml of the TraceCode checkout).
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Training steps of both runs (overrides the config; sized so the
    /// whole job fits in about 30 minutes on 2 CPU cores).
    #[arg(long, default_value_t = 120)]
    pub train_steps: i64,

    /// Training steps of the summarization decoder (per encoder).
    #[arg(long, default_value_t = 400)]
    pub summarize_steps: i64,

    /// Most training / test functions of the summarization decoder.
    #[arg(long, default_value_t = 2000)]
    pub summarize_train: usize,
    #[arg(long, default_value_t = 300)]
    pub summarize_test: usize,

    /// Most groups of equivalent functions for code search.
    #[arg(long, default_value_t = 300)]
    pub search_groups: usize,

    /// Clone groups for the clone-groups task (independently written
    /// solutions of the same problems; default DATA/clones/clone-groups.jsonl
    /// when present, else the task is skipped). Evaluation only: the corpus
    /// never reads it.
    #[arg(long, value_name = "FILE")]
    pub clone_groups: Option<PathBuf>,

    /// Seeds of the evaluation tasks that train something on top of an
    /// encoder (vulnerability probe, summarizer).
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    pub eval_seeds: Vec<u64>,
}

/// The sandbox of the main job's runs.
fn sandbox() -> SandboxArgs {
    SandboxArgs {
        workers: None,
        timeout: 2000,
        max_events: 100_000,
        checkpoint: 100,
    }
}

fn trace_args(
    args: &PipelineArgs,
    corpus: &Path,
    output: &Path,
    shard: Option<crate::runner::Shard>,
) -> super::trace::TraceArgs {
    super::trace::TraceArgs {
        corpus: corpus.to_path_buf(),
        output: output.to_path_buf(),
        inputs: args.inputs,
        sandbox: sandbox(),
        search_rounds: 2,
        adapt_rounds: 3,
        canonical: 6,
        seed: 0,
        shard: shard.map(|s| format!("{}/{}", s.index, s.count)),
        limit: (args.trace_functions > 0).then_some(args.trace_mbpp),
        sample: (args.trace_functions > 0).then_some(args.trace_functions),
        sample_seed: 0,
        all: false,
        replay: None,
    }
}

fn variants_args(traces: &Path, output: &Path) -> super::variants::VariantsArgs {
    super::variants::VariantsArgs {
        traces: traces.to_path_buf(),
        output: output.to_path_buf(),
        rewrites: 6,
        speculative: 4,
        mutants: 4,
        seed: 0,
        limit: None,
        shard: None,
        sandbox: sandbox(),
    }
}

/// Shard `i` of `n`'s traces and variants under OUT/shards/.
fn shard_paths(out: &Path, i: u64, n: u64) -> (PathBuf, PathBuf) {
    let dir = out.join("shards");
    (
        dir.join(format!("traces.{i}-of-{n}.parquet")),
        dir.join(format!("variants.{i}-of-{n}.parquet")),
    )
}

/// `--shard I/N`: trace and vary one shard of the corpus, then stop. The
/// variants stage reads the shard's own traces, so shards never wait for
/// each other.
fn run_shard(args: &PipelineArgs, corpus: &Path, shard: crate::runner::Shard) -> Result<()> {
    let (traces, variants) = shard_paths(&args.out, shard.index, shard.count);
    std::fs::create_dir_all(args.out.join("shards"))?;
    eprintln!(
        "[pipeline] shard {}/{}: trace and variants into {}",
        shard.index,
        shard.count,
        args.out.join("shards").display()
    );
    super::trace::run(&trace_args(args, corpus, &traces, Some(shard)))?;
    super::variants::run(&variants_args(&traces, &variants))?;
    eprintln!(
        "[pipeline] shard {}/{} done; when all {} are, run the pipeline once more with --merge-shards {}",
        shard.index, shard.count, shard.count, shard.count
    );
    Ok(())
}

/// `--merge-shards N`: the N shards' traces and variants joined into the
/// run's own files (once; a rerun finds them merged).
fn merge_shards(args: &PipelineArgs, n: u64, traces: &Path, variants: &Path) -> Result<()> {
    if n == 0 {
        bail!("--merge-shards needs at least 1 shard");
    }
    let shards: Vec<(PathBuf, PathBuf)> = (0..n).map(|i| shard_paths(&args.out, i, n)).collect();
    let missing: Vec<String> = shards
        .iter()
        .flat_map(|(t, v)| [t, v])
        .filter(|p| !p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !missing.is_empty() {
        bail!(
            "--merge-shards {n}: not every shard has finished; missing {}",
            missing.join(", ")
        );
    }
    for (stage, output, files) in [
        (
            super::merge::Stage::Traces,
            traces,
            shards.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
        ),
        (
            super::merge::Stage::Variants,
            variants,
            shards.iter().map(|s| s.1.clone()).collect(),
        ),
    ] {
        if output.exists() && !args.force {
            eprintln!(
                "[pipeline] {} exists: shards already merged",
                output.display()
            );
            continue;
        }
        super::merge::run(&super::merge::MergeArgs {
            stage,
            shards: files,
            output: output.to_path_buf(),
        })?;
    }
    Ok(())
}

/// What the main job cannot do without, checked before any stage runs so a
/// missing input fails in the first second, not after the corpus is traced.
fn preflight(args: &PipelineArgs) -> Result<()> {
    if let Some(dir) = &args.data {
        if !dir.is_dir() {
            bail!(
                "the data directory {} (--data or TRACECODE_DATA) does not exist",
                dir.display()
            );
        }
    }
    if let Some(file) = &args.clone_groups {
        if !file.is_file() {
            bail!(
                "the clone-groups file {} (--clone-groups) does not exist",
                file.display()
            );
        }
    }
    let config = default_config(args.config.as_deref());
    tracecode_model::train::TrainConfig::load(&config).with_context(|| {
        format!(
            "the training configuration {} (pass --config FILE, or set TRACECODE_ROOT to the TraceCode checkout)",
            config.display()
        )
    })?;
    let python = crate::env::python(args.python.as_deref());
    crate::env::python_output(
        &python,
        "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        &[],
    )
    .with_context(|| {
        format!(
            "the Python whose stdlib is the corpus ({}; pass --python or set TRACECODE_PYTHON)",
            python.display()
        )
    })?;
    match crate::env::data_dir(args.data.as_deref()) {
        Some(dir) => eprintln!("[pipeline] data: {}", dir.display()),
        None => eprintln!("[pipeline] data: no data directory found (pass --data DIR); tasks that need one are skipped"),
    }
    Ok(())
}

pub fn run(args: &PipelineArgs) -> Result<()> {
    preflight(args)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let corpus_path = args.out.join("corpus.parquet");
    let summary_path = args.out.join("corpus.parquet.summary.json");
    let summary: serde_json::Value = if !args.force && corpus_path.exists() && summary_path.exists()
    {
        eprintln!(
            "[pipeline] corpus: {} exists, skipping (use --force to redo)",
            corpus_path.display()
        );
        serde_json::from_str(&std::fs::read_to_string(&summary_path)?)?
    } else {
        eprintln!("[pipeline] corpus: extracting functions");
        let data = crate::env::data_dir(args.data.as_deref());
        let mbpp = data.as_ref().map(|d| d.join("search").join("mbpp.jsonl"));
        let mut inputs = Vec::new();
        match mbpp {
            Some(mbpp) if mbpp.is_file() => inputs.push(mbpp),
            _ => eprintln!("[pipeline] no MBPP file in the data directory; the corpus has no MBPP"),
        }
        let mut corpus_args = corpus::args_for(inputs, false, &corpus_path);
        let config = args
            .corpus_config
            .clone()
            .unwrap_or_else(|| crate::env::config_file("corpus.toml"));
        if config.is_file() || args.corpus_config.is_some() {
            corpus_args.config = Some(config);
        } else {
            eprintln!(
                "[pipeline] no {} (not a TraceCode checkout?): the corpus is the stdlib",
                config.display()
            );
            corpus_args.stdlib = true;
        }
        let sven = data
            .as_ref()
            .map(|d| d.join("vuln").join("sven_python_vuln_fix_pairs.jsonl"));
        corpus_args.decontaminate = [sven, args.clone_groups.clone()]
            .into_iter()
            .flatten()
            .filter(|p| p.is_file())
            .collect();
        corpus_args.python = args.python.clone();
        let s: CorpusSummary = corpus::run(&corpus_args)?;
        serde_json::to_value(&s)?
    };
    let traces_path = args.out.join("traces.parquet");
    let variants_path = args.out.join("variants.parquet");
    let shard = crate::runner::Shard::parse_opt(args.shard.as_deref())?;
    if let Some(shard) = shard {
        return run_shard(args, &corpus_path, shard);
    }
    if let Some(n) = args.merge_shards {
        merge_shards(args, n, &traces_path, &variants_path)?;
    }
    if args.force && traces_path.exists() && args.merge_shards.is_none() {
        std::fs::remove_file(&traces_path)?;
    }
    eprintln!(
        "[pipeline] trace: {} inputs each for a sample of {} standalone functions and the first {} (MBPP's)",
        args.inputs, args.trace_functions, args.trace_mbpp
    );
    let trace = super::trace::run(&trace_args(args, &corpus_path, &traces_path, None))?;
    let trace = serde_json::to_value(&trace)?;
    // Behavioural clones of the corpus: positives for training beside rewrites.
    let mined_path = args.out.join(MINED);
    eprintln!("[pipeline] mine: behavioural clones among the traced functions");
    let mined = super::mine::run(&super::mine::MineArgs {
        traces: vec![args.out.join("traces.parquet")],
        output: mined_path.clone(),
        min_agree: 3,
        near_miss: 0.5,
    })?;

    if args.force && variants_path.exists() && args.merge_shards.is_none() {
        std::fs::remove_file(&variants_path)?;
    }
    eprintln!("[pipeline] variants: rewrites and mutants of every traced function, re-traced");
    let variants = super::variants::run(&variants_args(&traces_path, &variants_path))?;
    let mut pairs = Vec::new();
    for positives in [Positives::Trace, Positives::Static] {
        let name = format!("pairs-{}.parquet", serde_name(&positives));
        let s = super::pairs::run(&super::pairs::PairsArgs {
            variants: variants_path.clone(),
            output: args.out.join(name),
            positives,
            positive_source: super::pairs::default_source(positives, &mined_path),
            mined: Some(mined_path.clone()),
            no_speculative: false,
            corpus: Some(corpus_path.clone()),
            split: "0.8,0.1".into(),
            seed: 0,
            max_per_example: 8,
        })?;
        pairs.push(s);
    }
    let clone = super::bench_set::run_clone(&super::bench_set::CloneArgs {
        variants: variants_path,
        output: args.out.join("clone-test.jsonl"),
        split: SplitArg::Test,
        fractions: "0.8,0.1".into(),
        seed: 0,
    })?;

    let summaries = serde_json::json!({
        "corpus": summary,
        "trace": trace,
        "mine": mined,
        "variants": variants,
        "pairs": pairs,
        "clone": clone_counts(&clone),
    });
    super::eval::write_json(&args.out.join(SUMMARIES), &summaries)?;

    let tokenizer = args.out.join("tokenizer.json");
    if args.force || !tokenizer.exists() {
        eprintln!("[pipeline] tokenizer: byte-level BPE on the corpus");
        super::tokenizer::train(&super::tokenizer::TokenizerTrainArgs {
            corpus: vec![corpus_path.clone()],
            vocab_size: 8000,
            min_frequency: 2,
            output: tokenizer.clone(),
        })?;
    }
    for (run, static_only) in [(FUSED_RUN, false), (STATIC_RUN, true)] {
        train_run(args, run, static_only, &tokenizer)?;
    }

    let mut encoders = vec!["lexical=lexical".to_string()];
    match tracecode_model::pretrained::locate("minilm") {
        Ok(_) => encoders.push("minilm=minilm".into()),
        Err(e) => eprintln!("[pipeline] MiniLM baseline skipped: {e:#}"),
    }
    let model = |run: &str| args.out.join(run).join("model").display().to_string();
    encoders.push(format!("static={}", model(STATIC_RUN)));
    encoders.push(format!("code-only={}", model(FUSED_RUN)));
    encoders.push(format!("fused={}+traces", model(FUSED_RUN)));
    let eval_dir = args.out.join("eval");
    eprintln!(
        "[pipeline] eval: every task for {} encoders",
        encoders.len()
    );
    super::eval::run(&eval_args(args, &eval_dir, vec![], &encoders)?)?;
    // The number-of-inputs axis at inference: runs per function given to the
    // trace encoder, on the tasks that use traces.
    let runs_axis: Vec<String> = INPUTS_AXIS
        .iter()
        .map(|k| format!("fused-runs{k}={}+traces={k}", model(FUSED_RUN)))
        .collect();
    eprintln!("[pipeline] ablation: runs per function at inference {INPUTS_AXIS:?}");
    super::eval::run(&eval_args(
        args,
        &args.out.join("ablation-runs"),
        vec![Task::Clone, Task::CodeSearch],
        &runs_axis,
    )?)?;

    // One training-time axis of the grid: trace encoding as CFG blocks (the
    // base, i.e. the fused run above, reused) against the raw line sequence.
    eprintln!("[pipeline] ablation: trace encoding CFG vs raw line sequence; positives from rewrites only, from mined behavioural clones only");
    super::ablate::run(&super::ablate::AblateArgs {
        run: args.out.clone(),
        output: args.out.join("ablate"),
        axes: vec![super::ablate::Axis::Encoding, super::ablate::Axis::Sources],
        config: args.config.clone(),
        steps: Some(args.train_steps),
        tasks: vec![],
        data: args.data.clone(),
        base_run: Some(args.out.join(FUSED_RUN)),
        clone_groups: args.clone_groups.clone(),
    })?;

    let (html, md) = super::report::run(&super::report::ReportArgs {
        run: args.out.clone(),
        output: None,
    })?;
    println!(
        "report: {}
        {}",
        html.display(),
        md.display()
    );
    Ok(())
}

/// Where the pipeline keeps the data stages' summaries for `tracecode report`.
pub const SUMMARIES: &str = "summaries.json";
pub const FUSED_RUN: &str = "train-fused";
/// Behavioural clones mined from the run's traces (`tracecode mine`).
pub const MINED: &str = "mined.jsonl";
pub const STATIC_RUN: &str = "train-static";
/// Runs per function given to the trace encoder in the inference ablation.
const INPUTS_AXIS: [usize; 3] = [1, 2, 4];

fn clone_counts(clone: &[ClonePair]) -> serde_json::Value {
    let count = |kind: &str| clone.iter().filter(|c| c.kind == kind).count();
    serde_json::json!({
        "pairs": clone.len(),
        "obfuscated_variant": count("obfuscated_variant"),
        "mutant": count("mutant"),
        "other_function": count("other_function"),
    })
}

/// One training run of the main job (resumes from its checkpoint).
fn train_run(
    args: &PipelineArgs,
    run: &str,
    static_only: bool,
    tokenizer: &std::path::Path,
) -> Result<()> {
    use tracecode_model::train::{train, TrainConfig, TrainOptions};
    let mut config =
        TrainConfig::load(&default_config(args.config.as_deref())).with_context(|| {
            "the training configuration (set --config, or run from the TraceCode checkout)"
        })?;
    let positives = if static_only { "static" } else { "trace" };
    config.data.pairs = args.out.join(format!("pairs-{positives}.parquet"));
    config.data.variants = args.out.join("variants.parquet");
    config.data.tokenizer = Some(tokenizer.to_path_buf());
    config.model.heads.use_traces = !static_only;
    config.train.steps = args.train_steps;
    let out = args.out.join(run);
    if args.force && out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    eprintln!(
        "[pipeline] train: {run} ({} positives, {} steps × batch {})",
        positives, config.train.steps, config.train.batch_size
    );
    let summary = train(
        &config,
        &out,
        &TrainOptions {
            progress: true,
            stop_after: None,
        },
    )?;
    if let Some(best) = summary.best_validation {
        eprintln!(
            "[pipeline] train: {run} best validation loss {:.4} at step {}",
            best.loss, best.step
        );
    }
    Ok(())
}

fn eval_args(
    args: &PipelineArgs,
    output: &std::path::Path,
    tasks: Vec<Task>,
    encoders: &[String],
) -> Result<EvalArgs> {
    Ok(EvalArgs {
        tasks,
        encoders: encoders.iter().map(|e| e.parse()).collect::<Result<_>>()?,
        output: output.to_path_buf(),
        run: args.out.clone(),
        data: args.data.clone(),
        clone_groups: args.clone_groups.clone(),
        summarize_steps: args.summarize_steps,
        summarize_train: args.summarize_train,
        summarize_test: args.summarize_test,
        search_groups: args.search_groups,
        seeds: args.eval_seeds.clone(),
        force: args.force,
        ..EvalArgs::defaults()
    })
}

/// The training configuration: `explicit`, else configs/small.toml of the
/// TraceCode checkout (see [`crate::env::repo_root`]).
pub fn default_config(explicit: Option<&std::path::Path>) -> PathBuf {
    explicit.map_or_else(|| crate::env::config_file("small.toml"), Path::to_path_buf)
}
