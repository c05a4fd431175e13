//! `tracecode train`: contrastive training of the fused model or the
//! static-only baseline.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use tracecode_model::train::{train, TrainConfig, TrainOptions};

/// Train the fused code + trace encoder (or the static-only baseline).
///
/// Every hyper-parameter is in a TOML file (see docs/training.md; a complete
/// example is configs/small.toml). Training resumes from OUT/checkpoint when
/// it exists, reproducing the uninterrupted run exactly. OUT receives:
///
///   model/          the checkpoint with the best validation loss: config.json +
///                   model.safetensors (HuggingFace RoBERTa / BERT layout), tokenizer.json,
///                   tracecode.json + heads.safetensors (trace encoder, fusion, heads)
///   checkpoint/     the latest step, with optimizer state (for resuming)
///   metrics.jsonl   one line per step (loss per objective, lr, grad norm, tokens/s)
///                   and per evaluation (validation loss, positive / hard-negative
///                   similarity, alignment, uniformity)
///
/// The static-only baseline is the same command with `use_traces = false` and
/// pairs made with `tracecode pairs --positives static`.
///
/// With `--init` (or `[data] init`) training continues from a pretrained
/// encoder instead of a fresh one: a HuggingFace / sentence-transformers
/// directory (BERT or RoBERTa), or `minilm` for all-MiniLM-L6-v2 as installed
/// by scripts/env.sh. Its tokenizer, configuration and pooling are kept; the
/// trace branch and heads are new. configs/minilm.toml is set up for it.
///
/// Examples:
///
///   tracecode train --config configs/small.toml -o out/train-fused
///   tracecode train --config configs/small.toml -o out/train-static --static-only \
///       --pairs out/pairs-static.parquet
///   tracecode train --config configs/minilm.toml -o out/minilm-fused
///   tracecode train --config configs/minilm.toml -o out/minilm-static --static-only \
///       --pairs out/pairs-static.parquet
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct TrainArgs {
    /// The run's TOML configuration.
    #[arg(long)]
    pub config: PathBuf,
    /// Output directory.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Override `[train] steps`.
    #[arg(long)]
    pub steps: Option<i64>,
    /// Override `[train] seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override `[data] pairs`.
    #[arg(long)]
    pub pairs: Option<PathBuf>,
    /// Train the static-only baseline (`use_traces = false`).
    #[arg(long)]
    pub static_only: bool,
    /// Override `[model] preset` (tiny, small, base).
    #[arg(long)]
    pub preset: Option<String>,
    /// Override `[data] init`: continue from this pretrained encoder directory,
    /// or from a known one by name (`minilm`).
    #[arg(long, value_name = "DIR|minilm")]
    pub init: Option<PathBuf>,
    /// Stop after this step (a checkpoint is written); the same command without it continues.
    #[arg(long)]
    pub stop_after: Option<i64>,
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let mut config = TrainConfig::load(&args.config)?;
    if let Some(s) = args.steps {
        config.train.steps = s;
    }
    if let Some(s) = args.seed {
        config.train.seed = s;
    }
    if let Some(p) = &args.pairs {
        config.data.pairs = p.clone();
    }
    if let Some(p) = &args.preset {
        config.model.preset = p.clone();
    }
    if let Some(p) = &args.init {
        config.data.init = Some(p.clone());
    }
    if args.static_only {
        config.model.heads.use_traces = false;
    }
    let kind = if config.model.heads.use_traces {
        "fused code + trace"
    } else {
        "static-only"
    };
    let encoder = match &config.data.init {
        Some(init) => format!("from {}", init.display()),
        None => format!("preset {}", config.model.preset),
    };
    eprintln!(
        "train: {kind} model, {encoder}, {} steps × batch {}, device {:?}",
        config.train.steps,
        config.train.batch_size,
        config.device()?
    );
    let options = TrainOptions {
        progress: true,
        stop_after: args.stop_after,
    };
    let summary = train(&config, &args.output, &options)?;
    if let Some(from) = summary.resumed_from {
        eprintln!("train: resumed from step {from}");
    }
    println!(
        "train: {} train / {} validation examples, {} steps",
        summary.train_examples, summary.validation_examples, summary.steps
    );
    let show = |label: &str, m: &Option<tracecode_model::train::Metrics>| {
        if let Some(m) = m {
            println!(
                "  {label:<6} step {:>5}  loss {:.4}  cosine: positive {:.3}  hard negative {}  other functions {:.3}",
                m.step,
                m.loss,
                m.positive_similarity.unwrap_or(f64::NAN),
                m.negative_similarity
                    .map_or("-".into(), |v| format!("{v:.3}")),
                m.other_similarity.unwrap_or(f64::NAN)
            );
        }
    };
    println!("validation (held-out functions):");
    show("first", &summary.first_validation);
    show("best", &summary.best_validation);
    show("last", &summary.last_validation);
    println!("train: model → {}", args.output.join("model").display());
    Ok(())
}
