//! `tracecode eval`: the evaluation tasks, run for every encoder named on the
//! command line, with one resumable result file per (encoder, task).

mod clone;
pub mod clone_groups;
mod code_search;
pub mod encoder;
mod nl_search;
mod summarize;
mod vuln;

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};
use tracecode_data::variant::VariantRecord;
use tracecode_data::Split;

use super::pairs::{parse_split, split_of};
use encoder::{Encoder, EncoderSpec, TraceStore};

/// Evaluate encoders on the downstream tasks.
///
/// Tasks (default: all), each a score per encoder:
///
///   clone        adversarial clone detection on `bench-set clone` pairs: AUROC
///                (± DeLong standard error) of the cosine similarity
///   code-search  code-to-code search: MAP@R over groups of trace-equivalent
///                variants of held-out functions; and MAP@R with each group's
///                trace-different mutants added to the pool as distractors
///   nl-search    natural language to code: MRR of MBPP task texts (held-out
///                functions) against every MBPP solution
///   vuln         vulnerability detection: logistic-regression probe on frozen
///                embeddings of SVEN functions (vulnerable vs fixed), macro-F1
///                on SVEN's validation split, mean ± std over seeds
///   clone-groups clones written independently (`--clone-groups FILE`: problems,
///                each with solutions by different authors; e.g. `tracecode
///                mine` output), identifiers anonymised: MAP@R over all
///                solutions, AUROC of same-problem pairs against random and
///                against same-tag other-problem pairs (± SE); encoders with
///                traces trace every solution first (with LeetCode's judge
///                imports); adds the row `behaviour` (canonical outcomes alone)
///   summarize    a small transformer decoder trained on each frozen encoder to
///                write docstring summaries; smoothed BLEU-4 and ROUGE-L on
///                held-out functions
///
/// Encoders are `--encoder NAME=SPEC`: SPEC `lexical` (TF-IDF / BM25 on
/// identifier-split tokens; a nearest-neighbour summary for `summarize`),
/// `minilm` (the installed all-MiniLM-L6-v2 as-is), a model directory
/// (`OUT/model` of `tracecode train`, or any HF BERT/RoBERTa encoder), and a
/// model directory with `+traces` (functions with an execution trace get the
/// fused code + trace embedding; `+traces=K` keeps K runs per function).
///
/// Held-out functions are the `test` split of `tracecode pairs` (same
/// `--split` and `--seed`), so no evaluated function was trained on; models
/// are selected on validation data by `tracecode train`, never here.
///
/// Each (encoder, task) result is written to OUT/ENCODER/TASK.json as soon
/// as it is done, and skipped on a rerun (`--force` recomputes);
/// OUT/results.json gathers them all.
///
/// Example:
///
///   tracecode eval --run out -o out/eval \
///       --encoder lexical=lexical --encoder minilm=minilm \
///       --encoder static=out/train-static/model \
///       --encoder code-only=out/train-fused/model \
///       --encoder fused=out/train-fused/model+traces
#[derive(Args, Debug, Clone)]
#[command(verbatim_doc_comment)]
pub struct EvalArgs {
    /// Tasks to run (default: all).
    #[arg(value_enum)]
    pub tasks: Vec<Task>,

    /// Encoders to evaluate, `NAME=SPEC` (repeatable; see above).
    #[arg(long = "encoder", required = true)]
    pub encoders: Vec<EncoderSpec>,

    /// Output directory for the per-task results.
    #[arg(short, long, default_value = "eval")]
    pub output: PathBuf,

    /// Pipeline output directory: the default location of corpus.parquet,
    /// traces.parquet, variants.parquet and clone-test.jsonl.
    #[arg(long, default_value = "out")]
    pub run: PathBuf,

    /// Benchmark data directory holding `search/mbpp.jsonl` and
    /// `vuln/sven_python_vuln_fix_pairs.jsonl` (default: `data/` of the
    /// TraceCode checkout, never the working directory).
    #[arg(long, env = "TRACECODE_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// MBPP problems for nl-search (default DATA/search/mbpp.jsonl).
    #[arg(long, value_name = "FILE")]
    pub mbpp: Option<PathBuf>,

    /// SVEN vulnerable/fixed pairs for vuln (default DATA/vuln/sven_python_vuln_fix_pairs.jsonl).
    #[arg(long, value_name = "FILE")]
    pub vuln: Option<PathBuf>,

    /// Clone pairs (default RUN/clone-test.jsonl).
    #[arg(long)]
    pub clone_pairs: Option<PathBuf>,

    /// Clone groups for clone-groups (default DATA/clones/clone-groups.jsonl
    /// when present): JSONL rows of `problem_id`, `tags`, `solutions` [{`code`}].
    #[arg(long, value_name = "FILE")]
    pub clone_groups: Option<PathBuf>,

    /// clone-groups: keep identifiers, comments and docstrings as written
    /// (default: anonymised, AdvTest style).
    #[arg(long)]
    pub keep_identifiers: bool,

    /// Train and validation fractions of the function split, as given to `tracecode pairs`.
    #[arg(long, default_value = "0.8,0.1")]
    pub split: String,

    /// Seed of the function split, as given to `tracecode pairs`.
    #[arg(long, default_value_t = 0)]
    pub split_seed: u64,

    /// Seeds for tasks that train something on top of the encoder (vuln probe, summarizer).
    #[arg(long, value_delimiter = ',', default_value = "0,1,2")]
    pub seeds: Vec<u64>,

    /// Most groups of equivalent functions for code search.
    #[arg(long, default_value_t = 300)]
    pub search_groups: usize,

    /// Most training / test examples for summarization.
    #[arg(long, default_value_t = 2000)]
    pub summarize_train: usize,
    #[arg(long, default_value_t = 300)]
    pub summarize_test: usize,

    /// Training steps of the summarization decoder.
    #[arg(long, default_value_t = 400)]
    pub summarize_steps: i64,

    /// Texts per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,

    /// Recompute results that already exist.
    #[arg(long)]
    pub force: bool,
}

impl EvalArgs {
    /// The command line's defaults, for stages that run evaluation
    /// themselves (set `encoders`, `output`, `run` and `data`).
    pub fn defaults() -> Self {
        EvalArgs {
            tasks: vec![],
            encoders: vec![],
            output: PathBuf::from("eval"),
            run: PathBuf::from("out"),
            data: None,
            mbpp: None,
            vuln: None,
            clone_pairs: None,
            clone_groups: None,
            keep_identifiers: false,
            split: "0.8,0.1".into(),
            split_seed: 0,
            seeds: vec![0, 1, 2],
            search_groups: 300,
            summarize_train: 2000,
            summarize_test: 300,
            summarize_steps: 400,
            batch_size: 32,
            force: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    Clone,
    CloneGroups,
    CodeSearch,
    NlSearch,
    Vuln,
    Summarize,
}

impl Task {
    pub const ALL: [Task; 6] = [
        Task::Clone,
        Task::CloneGroups,
        Task::CodeSearch,
        Task::NlSearch,
        Task::Vuln,
        Task::Summarize,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Task::Clone => "clone",
            Task::CloneGroups => "clone-groups",
            Task::CodeSearch => "code-search",
            Task::NlSearch => "nl-search",
            Task::Vuln => "vuln",
            Task::Summarize => "summarize",
        }
    }
}

/// One score with its spread: `std` over seeds or `se` (standard error).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Score {
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub se: Option<f64>,
}

impl Score {
    pub fn plain(value: f64) -> Self {
        Score {
            value,
            std: None,
            se: None,
        }
    }

    pub fn spread(&self) -> Option<f64> {
        self.std.or(self.se)
    }
}

/// The result of one task for one encoder (OUT/ENCODER/TASK.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskResult {
    pub task: Task,
    pub encoder: String,
    /// The encoder's SPEC as given.
    pub spec: String,
    /// Headline metric first.
    pub scores: BTreeMap<String, Score>,
    /// The name of the headline metric in `scores`.
    pub headline: String,
    /// Evaluated items (pairs, queries, test examples).
    pub n: usize,
    /// How the task was run for this encoder (e.g. "no traces for this task").
    pub notes: Vec<String>,
    /// Task-specific material for the report (score lists, points to plot).
    #[serde(default)]
    pub extra: serde_json::Value,
    pub seconds: f64,
}

/// Everything a task needs besides the encoder, and what every encoder's
/// run of a task shares (read once per `tracecode eval`, not per encoder).
pub struct TaskContext<'a> {
    pub args: &'a EvalArgs,
    pub fractions: (f64, f64),
    held_out_variants: OnceCell<Vec<VariantRecord>>,
    clone_traces: OnceCell<TraceStore>,
    clone_set: OnceCell<clone_groups::CloneSet>,
}

impl<'a> TaskContext<'a> {
    pub fn new(args: &'a EvalArgs) -> Result<Self> {
        Ok(TaskContext {
            args,
            fractions: parse_split(&args.split)?,
            held_out_variants: OnceCell::new(),
            clone_traces: OnceCell::new(),
            clone_set: OnceCell::new(),
        })
    }

    /// The rows of RUN/variants.parquet whose function is held out (test split).
    pub fn held_out_variants(&self) -> Result<&[VariantRecord]> {
        if let Some(rows) = self.held_out_variants.get() {
            return Ok(rows);
        }
        let mut rows = Vec::new();
        tracecode_data::io::for_each_parquet_row(&self.variants(), |row: VariantRecord| {
            if self.split_of(&row.function_id) == Split::Test {
                rows.push(row);
            }
            Ok(())
        })?;
        Ok(self.held_out_variants.get_or_init(|| rows))
    }

    /// The traces of the programs `ids` of the clone pairs: from the held-out
    /// variants, else (pairs made elsewhere) from the run's variants and traces.
    pub fn clone_traces(&self, ids: &HashSet<String>) -> Result<&TraceStore> {
        if let Some(store) = self.clone_traces.get() {
            return Ok(store);
        }
        let mut store = TraceStore::default();
        if self.variants().exists() {
            for row in self.held_out_variants()? {
                if ids.contains(&row.id) {
                    store.insert(&row.id, row.trace.clone());
                }
            }
        }
        let missing: HashSet<String> = ids
            .iter()
            .filter(|id| store.get(id).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() {
            for path in [self.variants(), self.traces()] {
                if path.exists() {
                    store.read_file(&path, &missing)?;
                }
            }
        }
        Ok(self.clone_traces.get_or_init(|| store))
    }

    /// The clone-groups set, read (and anonymised) once for every encoder.
    pub fn clone_set(&self) -> Result<&clone_groups::CloneSet> {
        if let Some(set) = self.clone_set.get() {
            return Ok(set);
        }
        let path = self
            .clone_groups()
            .context("clone-groups needs --clone-groups FILE")?;
        let set = clone_groups::CloneSet::read(&path, self.args.keep_identifiers)?;
        Ok(self.clone_set.get_or_init(|| set))
    }

    /// Where clone-groups traces its programs (see [`clone_groups::work_dir`]).
    pub fn clone_groups_work_dir(&self) -> PathBuf {
        let groups = self.clone_groups().unwrap_or_default();
        clone_groups::work_dir(&self.args.run, &groups)
    }

    pub fn split_of(&self, function_id: &str) -> Split {
        split_of(
            function_id,
            self.args.split_seed,
            self.fractions.0,
            self.fractions.1,
        )
    }

    pub fn corpus(&self) -> PathBuf {
        self.args.run.join("corpus.parquet")
    }
    pub fn traces(&self) -> PathBuf {
        self.args.run.join("traces.parquet")
    }
    pub fn variants(&self) -> PathBuf {
        self.args.run.join("variants.parquet")
    }
    pub fn clone_pairs(&self) -> PathBuf {
        self.args
            .clone_pairs
            .clone()
            .unwrap_or_else(|| self.args.run.join("clone-test.jsonl"))
    }
    /// `--mbpp`, else DATA/search/mbpp.jsonl; `None` without a data directory.
    pub fn mbpp(&self) -> Option<PathBuf> {
        self.args.mbpp.clone().or_else(|| {
            crate::env::data_dir(self.args.data.as_deref())
                .map(|d| d.join("search").join("mbpp.jsonl"))
        })
    }
    /// `--clone-groups`, else DATA/clones/clone-groups.jsonl.
    pub fn clone_groups(&self) -> Option<PathBuf> {
        self.args.clone_groups.clone().or_else(|| {
            crate::env::data_dir(self.args.data.as_deref())
                .map(|d| d.join("clones").join("clone-groups.jsonl"))
        })
    }
    /// `--vuln`, else DATA/vuln/sven_python_vuln_fix_pairs.jsonl.
    pub fn sven(&self) -> Option<PathBuf> {
        self.args.vuln.clone().or_else(|| {
            crate::env::data_dir(self.args.data.as_deref())
                .map(|d| d.join("vuln").join("sven_python_vuln_fix_pairs.jsonl"))
        })
    }

    /// Why `task` cannot run on this machine's data, checked before any
    /// encoder is loaded; `None` when its inputs are there. (Tasks that find
    /// their data empty once read say so with [`Skip`] instead.)
    fn unavailable(&self, task: Task) -> Option<String> {
        let missing = |path: Option<PathBuf>, what: &str, hint: &str| match path {
            Some(p) if p.is_file() => None,
            Some(p) => Some(format!("no {what}: {} not found ({hint})", p.display())),
            None => Some(format!("no {what} ({hint})")),
        };
        let run_file = |path: PathBuf, stage: &str| {
            missing(
                Some(path),
                &format!("{stage} output"),
                &format!("run `tracecode {stage}` into --run"),
            )
        };
        match task {
            Task::Clone => missing(
                Some(self.clone_pairs()),
                "clone pairs",
                "run `tracecode bench-set clone`, or pass --clone-pairs FILE",
            ),
            Task::CloneGroups => missing(
                self.clone_groups(),
                "clone groups",
                "pass --clone-groups FILE",
            ),
            Task::CodeSearch => run_file(self.variants(), "variants"),
            Task::NlSearch => missing(
                self.mbpp(),
                "MBPP problems",
                "pass --mbpp FILE or --data DIR",
            )
            .or_else(|| run_file(self.corpus(), "corpus")),
            Task::Vuln => missing(
                self.sven(),
                "vulnerability pairs",
                "pass --vuln FILE or --data DIR",
            ),
            Task::Summarize => run_file(self.corpus(), "corpus"),
        }
    }
}

/// A task that cannot run for want of data: it is recorded as skipped, with
/// this one-line reason, for every encoder, and the evaluation goes on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Skip(pub String);

/// A task skipped in a run (OUT/skipped.json, shown by the report).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SkippedTask {
    pub task: Task,
    pub reason: String,
}

/// A task's output before timing and naming are added.
pub struct Outcome {
    pub scores: Vec<(&'static str, Score)>,
    pub n: usize,
    pub notes: Vec<String>,
    pub extra: serde_json::Value,
}

fn run_task(task: Task, ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    match task {
        Task::Clone => clone::run(ctx, encoder),
        Task::CloneGroups => clone_groups::run(ctx, encoder),
        Task::CodeSearch => code_search::run(ctx, encoder),
        Task::NlSearch => nl_search::run(ctx, encoder),
        Task::Vuln => vuln::run(ctx, encoder),
        Task::Summarize => summarize::run(ctx, encoder),
    }
}

fn spec_text(spec: &EncoderSpec) -> String {
    match &spec.kind {
        encoder::EncoderKind::Lexical => "lexical".into(),
        encoder::EncoderKind::Model { dir, traces } => match traces {
            None => dir.display().to_string(),
            Some(usize::MAX) => format!("{}+traces", dir.display()),
            Some(k) => format!("{}+traces={k}", dir.display()),
        },
    }
}

pub fn run(args: &EvalArgs) -> Result<Vec<TaskResult>> {
    let tasks: Vec<Task> = if args.tasks.is_empty() {
        Task::ALL.to_vec()
    } else {
        args.tasks.clone()
    };
    let mut names = std::collections::HashSet::new();
    for e in &args.encoders {
        if !names.insert(&e.name) {
            bail!("encoder name {} is given twice", e.name);
        }
        if e.name == BEHAVIOUR {
            bail!("encoder name {BEHAVIOUR} is taken by clone-groups' behaviour-only row");
        }
    }
    let ctx = TaskContext::new(args)?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let mut skipped: Vec<SkippedTask> = Vec::new();
    let skip = |skipped: &mut Vec<SkippedTask>, task: Task, reason: String| {
        eprintln!("[eval] {} — skipped: {reason}", task.name());
        skipped.push(SkippedTask { task, reason });
    };
    for &task in &tasks {
        if let Some(reason) = ctx.unavailable(task) {
            skip(&mut skipped, task, reason);
        }
    }
    let is_skipped = |skipped: &[SkippedTask], task: Task| skipped.iter().any(|s| s.task == task);
    let mut results = Vec::new();
    for spec in &args.encoders {
        let dir = args.output.join(&spec.name);
        let pending: Vec<Task> = tasks
            .iter()
            .copied()
            .filter(|t| !is_skipped(&skipped, *t))
            .filter(|t| args.force || !result_path(&dir, *t).exists())
            .collect();
        let encoder = if pending.is_empty() {
            None
        } else {
            eprintln!("[eval] encoder {}: {}", spec.name, spec_text(spec));
            Some(Encoder::load(spec, args.batch_size)?)
        };
        std::fs::create_dir_all(&dir)?;
        for &task in &tasks {
            if is_skipped(&skipped, task) {
                continue;
            }
            let path = result_path(&dir, task);
            if !pending.contains(&task) {
                results.push(read_result(&path)?);
                continue;
            }
            let encoder = encoder.as_ref().expect("loaded when a task is pending");
            eprintln!("[eval] {} / {}", spec.name, task.name());
            let start = Instant::now();
            let outcome = match run_task(task, &ctx, encoder) {
                Ok(outcome) => outcome,
                Err(e) => match e.downcast::<Skip>() {
                    Ok(Skip(reason)) => {
                        skip(&mut skipped, task, reason);
                        continue;
                    }
                    Err(e) => {
                        return Err(e.context(format!(
                            "task {} for encoder {}",
                            task.name(),
                            spec.name
                        )))
                    }
                },
            };
            let result = task_result(task, &spec.name, spec_text(spec), outcome, start)?;
            write_json(&path, &result)?;
            results.push(result);
        }
    }
    if tasks.contains(&Task::CloneGroups) && !is_skipped(&skipped, Task::CloneGroups) {
        // Behaviour alone, no encoder: canonical outcomes of the traced programs.
        let dir = args.output.join(BEHAVIOUR);
        let path = result_path(&dir, Task::CloneGroups);
        if !args.force && path.exists() {
            results.push(read_result(&path)?);
        } else {
            eprintln!("[eval] {BEHAVIOUR} / clone-groups");
            let start = Instant::now();
            match clone_groups::run_behaviour(&ctx) {
                Ok(outcome) => {
                    let result = task_result(
                        Task::CloneGroups,
                        BEHAVIOUR,
                        "canonical outcomes".into(),
                        outcome,
                        start,
                    )?;
                    std::fs::create_dir_all(&dir)?;
                    write_json(&path, &result)?;
                    results.push(result);
                }
                Err(e) => match e.downcast::<Skip>() {
                    Ok(Skip(reason)) => skip(&mut skipped, Task::CloneGroups, reason),
                    Err(e) => return Err(e.context("clone-groups, behaviour-only row")),
                },
            }
        }
    }
    write_json(&args.output.join("results.json"), &results)?;
    write_json(&args.output.join(SKIPPED), &skipped)?;
    print_table(&tasks, &results, &skipped);
    Ok(results)
}

/// The encoder name of clone-groups' behaviour-only row.
pub const BEHAVIOUR: &str = "behaviour";

/// Names and times a task's outcome, and says it on stderr.
fn task_result(
    task: Task,
    encoder: &str,
    spec: String,
    outcome: Outcome,
    start: Instant,
) -> Result<TaskResult> {
    let headline = outcome
        .scores
        .first()
        .map(|(k, _)| k.to_string())
        .context("a task reports at least one score")?;
    let result = TaskResult {
        task,
        encoder: encoder.to_string(),
        spec,
        headline,
        scores: outcome
            .scores
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        n: outcome.n,
        notes: outcome.notes,
        extra: outcome.extra,
        seconds: start.elapsed().as_secs_f64(),
    };
    let s = &result.scores[&result.headline];
    eprintln!(
        "[eval] {} / {}: {} {:.4}{} (n = {}, {:.0} s)",
        encoder,
        task.name(),
        result.headline,
        s.value,
        s.spread().map_or(String::new(), |d| format!(" ± {d:.4}")),
        result.n,
        result.seconds
    );
    Ok(result)
}

fn read_result(path: &Path) -> Result<TaskResult> {
    serde_json::from_str(&std::fs::read_to_string(path)?)
        .with_context(|| format!("reading {} (delete it to recompute)", path.display()))
}

/// Where `tracecode eval` lists the tasks it skipped, with their reasons.
pub const SKIPPED: &str = "skipped.json";

/// OUT/skipped.json of an earlier `tracecode eval` (empty when it has none).
pub fn read_skipped(dir: &Path) -> Result<Vec<SkippedTask>> {
    let path = dir.join(SKIPPED);
    if !path.exists() {
        return Ok(vec![]);
    }
    serde_json::from_str(&std::fs::read_to_string(&path)?)
        .with_context(|| format!("parsing {}", path.display()))
}

fn result_path(dir: &Path, task: Task) -> PathBuf {
    dir.join(format!("{}.json", task.name()))
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    tracecode_data::io::atomic_write(path, |mut f| {
        use std::io::Write;
        f.write_all(text.as_bytes())?;
        Ok(())
    })
}

/// Reads OUT/results.json of an earlier `tracecode eval`.
pub fn read_results(dir: &Path) -> Result<Vec<TaskResult>> {
    let path = dir.join("results.json");
    serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
    )
    .with_context(|| format!("parsing {}", path.display()))
}

/// Encoders as rows, tasks' headline metrics as columns.
fn print_table(tasks: &[Task], results: &[TaskResult], skipped: &[SkippedTask]) {
    let mut encoders: Vec<&str> = Vec::new();
    for r in results {
        if !encoders.contains(&r.encoder.as_str()) {
            encoders.push(&r.encoder);
        }
    }
    let width = encoders.iter().map(|e| e.len()).max().unwrap_or(7).max(7);
    let mut header = format!("{:<width$}", "encoder");
    for t in tasks {
        let metric = results
            .iter()
            .find(|r| r.task == *t)
            .map_or("", |r| r.headline.as_str());
        header += &format!("  {:>22}", format!("{} {}", t.name(), metric));
    }
    println!("{header}");
    for e in encoders {
        let mut line = format!("{e:<width$}");
        for t in tasks {
            let cell = results
                .iter()
                .find(|r| r.task == *t && r.encoder == e)
                .map_or(
                    if skipped.iter().any(|s| s.task == *t) {
                        "skipped"
                    } else {
                        "-"
                    }
                    .to_string(),
                    |r| {
                        let s = &r.scores[&r.headline];
                        match s.spread() {
                            Some(d) => format!("{:.3} ± {:.3}", s.value, d),
                            None => format!("{:.3}", s.value),
                        }
                    },
                );
            line += &format!("  {cell:>22}");
        }
        println!("{line}");
    }
    for s in skipped {
        println!("{} — skipped: {}", s.task.name(), s.reason);
    }
}
