//! `tracecode pretrain`: the optional first stage, masked language modelling
//! mixed with identifier deobfuscation, before contrastive training.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use tracecode_model::pretrain::{pretrain, PretrainConfig, PretrainMetrics, PretrainOptions};

/// Pre-train the code encoder: MLM (15% of tokens, all fully masked) mixed
/// 50/50 per function with identifier deobfuscation (DOBF).
///
/// The optional stage 1 before `tracecode train`, as in CodeSage. MLM masks
/// 15% of a function's tokens, every one replaced by the mask token (no
/// 80-10-10 split); DOBF masks every occurrence of some of its local names
/// (parameters, locals, nested functions, resolved by scope from the AST), so
/// a name must be inferred from how the code uses it. Functions come from
/// `tracecode corpus` (every parsed function: nothing has to run); those the
/// per-function split holds out for evaluation are never used. Settings are in
/// a TOML file (configs/pretrain.toml); the run resumes from OUT/checkpoint.
/// OUT receives:
///
///   model/          the masked LM with the best validation loss, as a HuggingFace
///                   RobertaForMaskedLM / BertForMaskedLM directory (config.json,
///                   model.safetensors, tokenizer.json)
///   checkpoint/     the latest step, with optimizer state (for resuming)
///   metrics.jsonl   per step: loss, MLM and DOBF loss, lr, grad norm, tokens/s;
///                   per evaluation: validation loss and token accuracy per objective
///
/// Contrastive training continues from it with `--init OUT/model`.
///
/// Examples:
///
///   tracecode pretrain --config configs/pretrain.toml -o out/pretrain
///   tracecode train --config configs/small.toml --init out/pretrain/model -o out/train-fused-mlm
///   tracecode pretrain --config configs/pretrain.toml --init minilm -o out/pretrain-minilm
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct PretrainArgs {
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
    /// Override `[data] corpus`.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Override `[data] init`: continue from this encoder directory or known name (`minilm`).
    #[arg(long, value_name = "DIR|minilm")]
    pub init: Option<PathBuf>,
    /// Override `[model] preset` (tiny, small, base).
    #[arg(long)]
    pub preset: Option<String>,
    /// Stop after this step (a checkpoint is written); the same command without it continues.
    #[arg(long)]
    pub stop_after: Option<i64>,
}

pub fn run(args: &PretrainArgs) -> Result<()> {
    let mut config = PretrainConfig::load(&args.config)?;
    if let Some(s) = args.steps {
        config.train.steps = s;
    }
    if let Some(s) = args.seed {
        config.train.seed = s;
    }
    if let Some(p) = &args.corpus {
        config.data.corpus = p.clone();
    }
    if let Some(p) = &args.init {
        config.data.init = Some(p.clone());
    }
    if let Some(p) = &args.preset {
        config.model.preset = p.clone();
    }
    let encoder = match &config.data.init {
        Some(init) => format!("from {}", init.display()),
        None => format!("preset {}", config.model.preset),
    };
    eprintln!(
        "pretrain: MLM + DOBF, {encoder}, {} steps × batch {}",
        config.train.steps, config.train.batch_size
    );
    let options = PretrainOptions {
        progress: true,
        stop_after: args.stop_after,
    };
    let summary = pretrain(&config, &args.output, &options)?;
    if let Some(from) = summary.resumed_from {
        eprintln!("pretrain: resumed from step {from}");
    }
    println!(
        "pretrain: {} train / {} validation functions ({} held out for evaluation), {} steps",
        summary.train_functions, summary.validation_functions, summary.held_out, summary.steps
    );
    let show = |label: &str, m: &Option<PretrainMetrics>| {
        if let Some(m) = m {
            let part = |loss: Option<f64>, acc: Option<f64>| match (loss, acc) {
                (Some(l), Some(a)) => format!("loss {l:.3} accuracy {a:.3}"),
                _ => "-".into(),
            };
            println!(
                "  {label:<6} step {:>5}  loss {:.4}  MLM: {}  DOBF: {}",
                m.step,
                m.loss,
                part(m.mlm, m.mlm_accuracy),
                part(m.dobf, m.dobf_accuracy)
            );
        }
    };
    println!("validation (masked tokens of validation functions):");
    show("first", &summary.first_validation);
    show("best", &summary.best_validation);
    println!("pretrain: model → {}", args.output.join("model").display());
    Ok(())
}
