//! `tracecode ablate`: retrain the fused model with one factor changed at a
//! time and evaluate every setting the same way.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use tracecode_model::features::TraceEncoding;
use tracecode_model::train::{train, TrainConfig, TrainOptions};

use super::eval::{EvalArgs, Task};
use super::pairs::{PositiveSource, Positives};

/// Run the ablation grid: each setting changes one factor of the base
/// configuration, is trained from scratch with the same steps and seed, and
/// is evaluated on the same tasks.
///
/// Axes (default: all):
///
///   positives  which variants are positives: trace (trace-equivalent
///              variants; the base), static (every rewrite, unchecked),
///              both (rewrites that are also trace-equivalent)
///   sources    where positives come from: sound rewrites only
///              (positives-sound), + trace-checked speculative rewrites
///              (positives-speculative), mined behavioural clones only
///              (positives-behaviour); the base has all three
///   inputs     traced runs (inputs) per function the trace encoder sees in
///              training and at inference: 1, 3, 5, 10 (capped by the runs
///              the trace stage kept)
///   encoding   trace steps as CFG blocks + structure (the base) or the raw
///              line sequence
///
/// Settings train in OUT/SETTING (resuming from their checkpoints) and are
/// evaluated into OUT/SETTING/TASK.json; OUT/results.json gathers them
/// for `tracecode report`. A rerun skips finished work.
///
/// Example:
///
///   tracecode ablate --run out -o out/ablate --axis encoding --steps 150
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct AblateArgs {
    /// Pipeline output directory holding variants, pairs, tokenizer, corpus and traces.
    #[arg(long, default_value = "out")]
    pub run: PathBuf,

    /// Output directory of the grid.
    #[arg(short, long, default_value = "out/ablate")]
    pub output: PathBuf,

    /// Axes to run (repeatable; default: all).
    #[arg(long = "axis", value_enum)]
    pub axes: Vec<Axis>,

    /// Base training configuration (default: configs/small.toml of the checkout).
    #[arg(long)]
    pub config: Option<PathBuf>,

    /// Override the training steps of every setting.
    #[arg(long)]
    pub steps: Option<i64>,

    /// Tasks to evaluate (default: clone and code-search, the tasks traces reach).
    #[arg(long = "task", value_enum)]
    pub tasks: Vec<Task>,

    /// Benchmark data directory (MBPP, SVEN) for the tasks that need it
    /// (default: `data/` of the TraceCode checkout).
    #[arg(long, env = "TRACECODE_DATA", value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Training directory of the base setting (default OUT/base). A finished
    /// run of the same configuration there is reused, not retrained: the
    /// pipeline passes its own fused run (RUN/train-fused).
    #[arg(long)]
    pub base_run: Option<PathBuf>,

    /// Clone groups (see `tracecode eval clone-groups`): with it, the
    /// default tasks include clone-groups.
    #[arg(long, value_name = "FILE")]
    pub clone_groups: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Axis {
    Positives,
    Sources,
    Inputs,
    Encoding,
}

/// One trained setting: its name and how it departs from the base config.
struct Setting {
    name: String,
    positives: Positives,
    /// `None`: the run's default (see [`super::pairs::default_source`]).
    source: Option<PositiveSource>,
    /// Whether trace-checked speculative rewrites are among the positives.
    speculative: bool,
    max_runs: Option<usize>,
    encoding: Option<TraceEncoding>,
}

fn settings(axes: &[Axis]) -> Vec<Setting> {
    let base = |name: &str| Setting {
        name: name.into(),
        positives: Positives::Trace,
        source: None,
        speculative: true,
        max_runs: None,
        encoding: None,
    };
    let mut out = vec![base("base")];
    for axis in axes {
        match axis {
            Axis::Positives => {
                for (name, p) in [
                    ("positives-static", Positives::Static),
                    ("positives-both", Positives::Both),
                ] {
                    out.push(Setting {
                        positives: p,
                        ..base(name)
                    });
                }
            }
            Axis::Sources => {
                for (name, source, speculative) in [
                    ("positives-sound", PositiveSource::Rewrites, false),
                    ("positives-speculative", PositiveSource::Rewrites, true),
                    ("positives-behaviour", PositiveSource::Behaviour, true),
                ] {
                    out.push(Setting {
                        source: Some(source),
                        speculative,
                        ..base(name)
                    });
                }
            }
            Axis::Inputs => {
                for k in [1, 3, 5, 10] {
                    out.push(Setting {
                        max_runs: Some(k),
                        ..base(&format!("inputs-{k}"))
                    });
                }
            }
            Axis::Encoding => out.push(Setting {
                encoding: Some(TraceEncoding::Raw),
                ..base("encoding-raw")
            }),
        }
    }
    out
}

/// The pairs file of a setting, made from the run's variants when missing.
fn pairs_file(run: &Path, s: &Setting) -> Result<PathBuf> {
    let (positives, source) = (s.positives, s.source);
    let name = tracecode_data::serde_name(&positives);
    let sound = if s.speculative { "" } else { "-sound" };
    let path = run.join(match source {
        None => format!("pairs-{name}{sound}.parquet"),
        Some(s) => format!(
            "pairs-{name}-{}{sound}.parquet",
            tracecode_data::serde_name(&s)
        ),
    });
    if !path.exists() {
        let mined = run.join(super::pipeline::MINED);
        super::pairs::run(&super::pairs::PairsArgs {
            variants: run.join("variants.parquet"),
            output: path.clone(),
            positives,
            positive_source: source
                .unwrap_or_else(|| super::pairs::default_source(positives, &mined)),
            mined: mined.exists().then_some(mined),
            no_speculative: !s.speculative,
            corpus: Some(run.join("corpus.parquet")),
            split: "0.8,0.1".into(),
            seed: 0,
            max_per_example: 8,
        })?;
    }
    Ok(path)
}

pub fn run(args: &AblateArgs) -> Result<()> {
    let axes = if args.axes.is_empty() {
        vec![Axis::Positives, Axis::Inputs, Axis::Encoding]
    } else {
        args.axes.clone()
    };
    let config_path = super::pipeline::default_config(args.config.as_deref());
    let base = TrainConfig::load(&config_path)?;
    let tokenizer = args.run.join("tokenizer.json");
    if !tokenizer.exists() {
        bail!(
            "{} not found: run the pipeline (or `tracecode tokenizer train`) first",
            tokenizer.display()
        );
    }
    let settings = settings(&axes);
    let mut encoders = Vec::new();
    for (i, s) in settings.iter().enumerate() {
        let mut config = base.clone();
        config.data.pairs = pairs_file(&args.run, s)?;
        let mut train_examples = 0usize;
        tracecode_data::for_each_row(&config.data.pairs, |e: tracecode_data::PairExample| {
            train_examples += usize::from(e.split == tracecode_data::Split::Train);
            Ok(())
        })?;
        if train_examples == 0 {
            // E.g. positives-behaviour on a corpus where mining found no clones.
            eprintln!(
                "[ablate] setting {}: skipped, {} has no train examples",
                s.name,
                config.data.pairs.display()
            );
            continue;
        }
        config.data.variants = args.run.join("variants.parquet");
        config.data.tokenizer = Some(tokenizer.clone());
        config.data.init = None;
        config.model.heads.use_traces = true;
        if let Some(k) = s.max_runs {
            config.model.heads.max_runs = k;
        }
        if let Some(e) = s.encoding {
            config.model.heads.trace_encoding = e;
        }
        if let Some(steps) = args.steps {
            config.train.steps = steps;
        }
        eprintln!(
            "[ablate] setting {}/{}: {} ({} steps)",
            i + 1,
            settings.len(),
            s.name,
            config.train.steps
        );
        let out = match (&args.base_run, s.name.as_str()) {
            (Some(dir), "base") => dir.clone(),
            _ => args.output.join(&s.name),
        };
        train(
            &config,
            &out,
            &TrainOptions {
                progress: true,
                stop_after: None,
            },
        )
        .with_context(|| format!("training setting {}", s.name))?;
        encoders.push(format!("{}={}+traces", s.name, out.join("model").display()).parse()?);
    }
    let tasks = if args.tasks.is_empty() {
        let mut tasks = vec![Task::Clone, Task::CodeSearch];
        if args.clone_groups.is_some() {
            tasks.push(Task::CloneGroups);
        }
        tasks
    } else {
        args.tasks.clone()
    };
    super::eval::run(&EvalArgs {
        tasks,
        encoders,
        output: args.output.clone(),
        run: args.run.clone(),
        data: args.data.clone(),
        clone_groups: args.clone_groups.clone(),
        ..EvalArgs::defaults()
    })?;
    Ok(())
}
