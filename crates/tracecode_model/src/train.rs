//! Contrastive training with exact resume.
//!
//! Every random choice of step `k` (which examples, which positive and
//! negatives, dropout masks) is drawn from generators seeded by `(seed, k)`,
//! so a run resumed from the checkpoint of step `k` takes exactly the steps
//! an uninterrupted run would have: the checkpoint needs the weights, the
//! optimizer moments and `k`, nothing else.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::config::EncoderConfig;
use crate::data::{Example, PairData};
use crate::loss::{alignment_uniformity, info_nce};
use crate::model::{normalize, HeadsConfig, TraceCodeModel, HEADS_SCOPE};
use crate::optim::{learning_rate, AdamW};
use crate::run_log::{step_bar, MetricsLog};
use crate::tokenizer::CodeTokenizer;
use crate::trace_encoder::TraceBatch;
use tracecode_data::variant::Split;

/// `run.toml`: every hyper-parameter of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub data: DataConfig,
    #[serde(default)]
    pub model: ModelConfig,
    #[serde(default)]
    pub train: Hyper,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Rows of `tracecode pairs`.
    pub pairs: PathBuf,
    /// The `tracecode variants` file the pairs' ids refer to.
    pub variants: PathBuf,
    /// `tokenizer.json` for a model trained from scratch (ignored with `init`).
    #[serde(default)]
    pub tokenizer: Option<PathBuf>,
    /// A pretrained encoder to continue from: a HuggingFace or
    /// sentence-transformers directory, or a known name (`minilm`, see
    /// [`crate::pretrained`]). Its tokenizer, configuration and pooling are kept.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Train examples held in memory at once (0: all of them). With N > 0
    /// training streams: it takes the train examples N at a time, in file
    /// order, reads each window's programs from the variants file when it
    /// gets there, makes one pass over the window and moves on (wrapping
    /// around), so memory is bounded by N, not by the dataset.
    #[serde(default)]
    pub window: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    /// Encoder size when training from scratch: tiny, small or base.
    pub preset: String,
    #[serde(flatten)]
    pub heads: HeadsConfig,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            preset: "small".into(),
            heads: HeadsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hyper {
    pub steps: i64,
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    pub lr: f64,
    /// Peak learning rate of the encoder (same schedule); unset: `lr`. Lower
    /// than `lr` when continuing from a pretrained encoder, whose weights
    /// should move less than the freshly initialised heads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoder_lr: Option<f64>,
    pub warmup: i64,
    pub weight_decay: f64,
    pub grad_clip: f64,
    /// InfoNCE temperature.
    pub tau: f64,
    /// Mutant hard negatives per anchor.
    pub hard_negatives: usize,
    /// CodeSage hard-negative weighting strength (0: plain InfoNCE).
    pub hard_negative_beta: f64,
    /// Weight of the docstring-summary ↔ code objective.
    pub text_weight: f64,
    /// Weight of distilling the fused embedding into the code-only head.
    pub distill_weight: f64,
    pub seed: u64,
    pub checkpoint_every: i64,
    pub eval_every: i64,
    /// Validation examples scored at each evaluation (the first N).
    pub eval_examples: usize,
    /// `auto` (CUDA when present), `cpu`, `cuda`.
    pub device: String,
    /// bf16 autocast on CUDA.
    pub bf16: bool,
    /// Intra-op CPU threads (0: libtorch's default).
    pub threads: i32,
}

impl Default for Hyper {
    fn default() -> Self {
        Hyper {
            steps: 300,
            batch_size: 16,
            grad_accum: 1,
            lr: 5e-4,
            encoder_lr: None,
            warmup: 30,
            weight_decay: 0.01,
            grad_clip: 1.0,
            tau: 0.05,
            hard_negatives: 1,
            hard_negative_beta: 1.0,
            text_weight: 0.5,
            distill_weight: 1.0,
            seed: 0,
            checkpoint_every: 50,
            eval_every: 50,
            eval_examples: 256,
            device: "auto".into(),
            bf16: true,
            threads: 0,
        }
    }
}

impl TrainConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut c: TrainConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        // Relative data paths are relative to the config file.
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut c.data.pairs);
        fix(&mut c.data.variants);
        c.data.tokenizer.as_mut().map(fix);
        c.data
            .init
            .as_mut()
            .filter(|p| !crate::pretrained::is_name(p))
            .map(fix);
        Ok(c)
    }

    pub fn device(&self) -> Result<Device> {
        parse_device(&self.train.device)
    }
}

/// A config's `device`: `auto` (CUDA when libtorch sees a GPU), `cpu`, `cuda`.
pub fn parse_device(name: &str) -> Result<Device> {
    Ok(match name {
        "auto" => Device::cuda_if_available(),
        "cpu" => Device::Cpu,
        "cuda" if tch::Cuda::is_available() => Device::Cuda(0),
        "cuda" => bail!("device = \"cuda\" but libtorch sees no CUDA device"),
        other => bail!("unknown device `{other}` (auto, cpu, cuda)"),
    })
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    pub step: i64,
    pub split: String,
    pub loss: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrastive: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
    /// Mean cosine of anchor and its trace-equivalent positive (validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive_similarity: Option<f64>,
    /// Mean cosine of anchor and its mutant hard negative (validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_similarity: Option<f64>,
    /// Mean cosine of anchor and the other functions' positives in its batch
    /// (validation): the baseline the two above are read against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_similarity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alignment: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uniformity: Option<f64>,
}

impl Metrics {
    fn new(step: i64, split: &str, loss: f64) -> Self {
        Metrics {
            step,
            split: split.into(),
            loss,
            ..Default::default()
        }
    }
}

/// What happened, for the caller's summary.
pub struct TrainSummary {
    pub steps: i64,
    pub resumed_from: Option<i64>,
    pub first_validation: Option<Metrics>,
    pub best_validation: Option<Metrics>,
    pub last_validation: Option<Metrics>,
    pub train_examples: usize,
    pub validation_examples: usize,
}

/// Checkpoint layout under the output directory.
pub struct RunDir {
    pub root: PathBuf,
}

impl RunDir {
    pub fn checkpoint(&self) -> PathBuf {
        self.root.join("checkpoint")
    }
    /// The model selected on validation loss.
    pub fn best(&self) -> PathBuf {
        self.root.join("model")
    }
    pub fn metrics(&self) -> PathBuf {
        self.root.join("metrics.jsonl")
    }
}

#[derive(Serialize, Deserialize)]
struct CheckpointState {
    step: i64,
    best_validation_loss: Option<f64>,
    config: TrainConfig,
}

pub(crate) fn step_rng(seed: u64, step: i64, stream: u64) -> ChaCha8Rng {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (step as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(stream);
    rng
}

/// The train examples of step `step`: epochs are seeded permutations, so the
/// data position is a function of the step.
pub(crate) fn batch_indices(n: usize, batch: usize, seed: u64, step: i64) -> Vec<usize> {
    let start = step as usize * batch;
    (start..start + batch)
        .map(|pos| {
            let (epoch, offset) = (pos / n, pos % n);
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut step_rng(seed, epoch as i64, 1));
            order[offset]
        })
        .collect()
}

/// Forward pass of one micro-batch: (loss, contrastive, distill, text, tokens, anchor, positive).
struct StepOut {
    loss: Tensor,
    contrastive: f64,
    distill: Option<f64>,
    text: Option<f64>,
    tokens: usize,
}

fn forward(
    model: &TraceCodeModel,
    data: &PairData,
    examples: &[&Example],
    hp: &Hyper,
    rng: &mut ChaCha8Rng,
    train: bool,
) -> (StepOut, Tensor, Tensor, Option<Tensor>) {
    let b = examples.len();
    let mut programs: Vec<usize> = examples.iter().map(|e| e.anchor).collect();
    for e in examples {
        programs.push(e.positives[rng.gen_range(0..e.positives.len())]);
    }
    for e in examples {
        let mut negs = e.negatives.clone();
        negs.shuffle(rng);
        programs.extend(negs.into_iter().take(hp.hard_negatives));
    }
    let seqs: Vec<&[i64]> = programs
        .iter()
        .map(|&i| data.items[i].code.as_slice())
        .collect();
    let tokens: usize = seqs.iter().map(|s| s.len()).sum();
    let pooled = model.pooled(&seqs, train);
    let device = model.device();
    let (fused, code_only) = if model.uses_traces() {
        let feats: Vec<_> = programs.iter().map(|&i| &data.items[i].trace).collect();
        let traces = TraceBatch::new(&feats, device);
        (
            normalize(&model.fused_embedding(&pooled, &traces, train)),
            Some(normalize(&model.code_embedding(&pooled))),
        )
    } else {
        (normalize(&model.code_embedding(&pooled)), None)
    };
    let bi = b as i64;
    let anchor = fused.narrow(0, 0, bi);
    let positive = fused.narrow(0, bi, bi);
    let hard = fused.narrow(0, 2 * bi, fused.size()[0] - 2 * bi);
    let contrastive = info_nce(
        &anchor,
        &positive,
        Some(&hard),
        hp.tau,
        hp.hard_negative_beta,
    );
    // Read before `loss` takes the tensor over: tch's `+=` adds in place, so
    // any handle sharing its storage would afterwards read the total.
    let contrastive_value = contrastive.double_value(&[]);
    let mut loss = contrastive;
    let mut out_distill = None;
    if let Some(code_only) = &code_only {
        let cos = (code_only * fused.detach()).sum_dim_intlist(1, false, Kind::Float);
        let distill = (cos.neg() + 1.0).mean(Kind::Float);
        out_distill = Some(distill.double_value(&[]));
        loss += distill * hp.distill_weight;
    }
    let texts: Vec<&(Vec<i64>, Vec<i64>)> =
        examples.iter().filter_map(|e| e.text.as_ref()).collect();
    let mut out_text = None;
    let mut tokens = tokens;
    if hp.text_weight > 0.0 && texts.len() >= 2 {
        let seqs: Vec<&[i64]> = texts
            .iter()
            .map(|t| t.0.as_slice())
            .chain(texts.iter().map(|t| t.1.as_slice()))
            .collect();
        tokens += seqs.iter().map(|s| s.len()).sum::<usize>();
        let emb = normalize(&model.code_embedding(&model.pooled(&seqs, train)));
        let n = texts.len() as i64;
        let text = info_nce(
            &emb.narrow(0, 0, n),
            &emb.narrow(0, n, n),
            None,
            hp.tau,
            0.0,
        );
        out_text = Some(text.double_value(&[]));
        loss += text * hp.text_weight;
    }
    let hard_out = (hard.size()[0] > 0).then(|| hard.narrow(0, 0, hard.size()[0].min(bi)));
    (
        StepOut {
            contrastive: contrastive_value,
            loss,
            distill: out_distill,
            text: out_text,
            tokens,
        },
        anchor,
        positive,
        hard_out,
    )
}

/// Validation: loss and similarities on the first `eval_examples` examples,
/// with fixed choices (first positive, first negative), no dropout.
fn validate(model: &TraceCodeModel, data: &PairData, hp: &Hyper, step: i64) -> Option<Metrics> {
    let examples: Vec<&Example> = data.validation.iter().take(hp.eval_examples).collect();
    if examples.len() < 2 {
        return None;
    }
    let _guard = tch::no_grad_guard();
    let (mut loss, mut pos, mut neg, mut other, mut align, mut uniform, mut n_neg, mut batches) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0usize, 0);
    let mut hp1 = hp.clone();
    hp1.hard_negatives = 1;
    for chunk in examples.chunks(hp.batch_size.max(2)) {
        if chunk.len() < 2 {
            continue;
        }
        let mut rng = step_rng(hp.seed, 0, 7);
        let (out, a, p, h) = forward(model, data, chunk, &hp1, &mut rng, false);
        loss += out.contrastive;
        pos += (&a * &p)
            .sum_dim_intlist(1, false, Kind::Float)
            .mean(Kind::Float)
            .double_value(&[]);
        let n = a.size()[0];
        let off = Tensor::eye(n, (Kind::Bool, a.device())).logical_not();
        other += a
            .matmul(&p.tr())
            .masked_select(&off)
            .mean(Kind::Float)
            .double_value(&[]);
        // Negatives are listed per example that has one, in order.
        if let Some(h) = h {
            let owners: Vec<i64> = chunk
                .iter()
                .enumerate()
                .filter(|(_, e)| !e.negatives.is_empty())
                .map(|(i, _)| i as i64)
                .collect();
            let k = h.size()[0].min(owners.len() as i64);
            let idx = Tensor::from_slice(&owners[..k as usize]).to_device(a.device());
            neg += (a.index_select(0, &idx) * h.narrow(0, 0, k))
                .sum_dim_intlist(1, false, Kind::Float)
                .mean(Kind::Float)
                .double_value(&[]);
            n_neg += 1;
        }
        let (al, un) = alignment_uniformity(&a, &p);
        align += al;
        uniform += un;
        batches += 1;
    }
    if batches == 0 {
        return None;
    }
    let f = batches as f64;
    let mut m = Metrics::new(step, "validation", loss / f);
    m.positive_similarity = Some(pos / f);
    m.negative_similarity = (n_neg > 0).then(|| neg / n_neg as f64);
    m.other_similarity = Some(other / f);
    m.alignment = Some(align / f);
    m.uniformity = Some(uniform / f);
    Some(m)
}

/// Builds (or, with `init`, loads) the model a config asks for.
pub fn build_model(config: &TrainConfig, device: Device) -> Result<TraceCodeModel> {
    let heads = config.model.heads.clone();
    if let Some(init) = &config.data.init {
        let dir = crate::pretrained::resolve(init)?;
        let model = TraceCodeModel::load(&dir, device, Some(heads.clone()))?;
        let loaded = model.heads_config.as_ref().expect("heads were given");
        // An unset pooling takes the directory's: compare the rest.
        let wanted = HeadsConfig {
            pooling: heads.pooling.or(loaded.pooling),
            ..heads
        };
        if *loaded != wanted {
            bail!(
                "{} already holds TraceCode heads of another configuration",
                dir.display()
            );
        }
        Ok(model)
    } else {
        let path = config
            .data
            .tokenizer
            .as_ref()
            .context("[data] needs `tokenizer` (or `init`)")?;
        let mut encoder = EncoderConfig::preset(&config.model.preset, 0)?;
        let tokenizer = CodeTokenizer::load(
            path,
            heads.max_code_tokens.min(encoder.max_tokens() as usize),
        )?;
        encoder.vocab_size = tokenizer.vocab_size() as i64;
        Ok(TraceCodeModel::new(&encoder, heads, tokenizer, device))
    }
}

/// How to run (not what to learn: that is the config).
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    pub progress: bool,
    /// Stop (checkpointed) after this step; running again continues.
    pub stop_after: Option<i64>,
}

/// Trains per `config` into `out`, resuming from `out/checkpoint` when it
/// exists (and was written by the same configuration).
pub fn train(config: &TrainConfig, out: &Path, options: &TrainOptions) -> Result<TrainSummary> {
    let progress = options.progress;
    let device = config.device()?;
    if config.train.threads > 0 {
        tch::set_num_threads(config.train.threads);
    }
    let hp = &config.train;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let run = RunDir {
        root: out.to_path_buf(),
    };
    // Initial weights depend on the seed alone.
    tch::manual_seed(hp.seed as i64);
    let model = build_model(config, device)?;
    let (train_examples, validation_examples) = PairData::count(&config.data.pairs)?;
    let mut windows = TrainWindows::new(config, hp, train_examples);
    // Validation reads only the examples it scores.
    let mut seen = 0;
    let validation = PairData::load_where(
        &config.data.pairs,
        &config.data.variants,
        &model.tokenizer,
        &config.model.heads,
        |e| {
            let keep = e.split == Split::Validation && seen < hp.eval_examples;
            seen += usize::from(keep);
            keep
        },
    )?;
    if windows.at(0, &model.tokenizer)?.train.is_empty() {
        bail!(
            "{} has no train examples with traced positives",
            config.data.pairs.display()
        );
    }
    let mut opt = AdamW::new(&model.vs, hp.weight_decay);
    if let Some(encoder_lr) = hp.encoder_lr {
        if hp.lr <= 0.0 {
            bail!("`encoder_lr` needs a positive `lr` (the heads' learning rate)");
        }
        let scale = encoder_lr / hp.lr;
        opt.set_lr_scales(|name| {
            if name.starts_with(HEADS_SCOPE) {
                1.0
            } else {
                scale
            }
        });
    }
    let mut start = 0;
    let mut best: Option<f64> = None;
    let mut resumed_from = None;
    let state_path = run.checkpoint().join("state.json");
    if state_path.exists() {
        let state: CheckpointState =
            serde_json::from_str(&std::fs::read_to_string(&state_path)?)
                .with_context(|| format!("parsing {}", state_path.display()))?;
        if state.config != *config {
            bail!(
                "{} holds a run of another configuration; use another output directory or delete it",
                run.checkpoint().display()
            );
        }
        model.load_weights(&run.checkpoint())?;
        opt.load(&run.checkpoint().join("optimizer.safetensors"))?;
        start = state.step;
        best = state.best_validation_loss;
        resumed_from = Some(start);
    }
    let mut log = MetricsLog::open(&run.metrics(), start, |m: &Metrics| m.step)?;
    if start == 0 {
        if let Some(v) = validate(&model, &validation, hp, 0) {
            log.emit(v)?;
        }
    }
    let bar = step_bar(hp.steps, start, "steps", progress);
    let use_bf16 = hp.bf16 && device.is_cuda();
    let end = options
        .stop_after
        .map_or(hp.steps, |s| s.clamp(start, hp.steps));
    for step in start..end {
        let started = Instant::now();
        tch::manual_seed((hp.seed as i64).wrapping_mul(1_000_003).wrapping_add(step));
        let mut rng = step_rng(hp.seed, step, 2);
        let lr = learning_rate(step, hp.warmup, hp.steps, hp.lr);
        opt.zero_grad();
        let (mut loss, mut contrastive, mut distill, mut text, mut tokens) =
            (0.0, 0.0, None, None, 0);
        let accum = hp.grad_accum.max(1);
        let data = windows.at(step, &model.tokenizer)?;
        for micro in 0..accum {
            let idx = batch_indices(
                data.train.len(),
                hp.batch_size,
                hp.seed,
                step * accum as i64 + micro as i64,
            );
            let examples: Vec<&Example> = idx.iter().map(|&i| &data.train[i]).collect();
            let (out, _, _, _) = tch::autocast(use_bf16, || {
                forward(&model, data, &examples, hp, &mut rng, true)
            });
            (&out.loss / accum as f64).backward();
            loss += out.loss.double_value(&[]) / accum as f64;
            contrastive += out.contrastive / accum as f64;
            distill = out
                .distill
                .map(|d| d / accum as f64 + distill.unwrap_or(0.0));
            text = out.text.map(|t| t / accum as f64 + text.unwrap_or(0.0));
            tokens += out.tokens;
        }
        if !loss.is_finite() {
            bail!("loss became {loss} at step {step}; lower `lr` or check the data");
        }
        let grad_norm = opt.clip_grad_norm(hp.grad_clip);
        opt.step(lr);
        let m = Metrics {
            contrastive: Some(contrastive),
            distill,
            text,
            lr: Some(lr),
            grad_norm: Some(grad_norm),
            tokens_per_s: Some(tokens as f64 / started.elapsed().as_secs_f64()),
            ..Metrics::new(step + 1, "train", loss)
        };
        bar.set_message(format!("loss {loss:.3} lr {lr:.1e}"));
        log.emit(m)?;
        let done = step + 1;
        bar.set_position(done as u64);
        let last = done == hp.steps;
        if done % hp.eval_every.max(1) == 0 || last {
            if let Some(v) = validate(&model, &validation, hp, done) {
                if best.is_none_or(|b| v.loss < b) {
                    best = Some(v.loss);
                    model.save(&run.best())?;
                }
                log.emit(v)?;
            }
        }
        if done % hp.checkpoint_every.max(1) == 0 || last || done == end {
            save_checkpoint(&model, &opt, &run, done, best, config)?;
        }
    }
    bar.finish_and_clear();
    if end == hp.steps && !run.best().join("model.safetensors").exists() {
        // No validation split: the last weights are the model.
        model.save(&run.best())?;
    }
    let vals: Vec<&Metrics> = log
        .lines
        .iter()
        .filter(|m| m.split == "validation")
        .collect();
    Ok(TrainSummary {
        steps: end,
        resumed_from,
        first_validation: vals.first().map(|m| (*m).clone()),
        best_validation: vals
            .iter()
            .min_by(|a, b| a.loss.total_cmp(&b.loss))
            .map(|m| (*m).clone()),
        last_validation: vals.last().map(|m| (*m).clone()),
        train_examples,
        validation_examples,
    })
}

/// The train examples, one window of `[data] window` examples in memory at
/// a time (all of them when the window is 0 or covers the file).
struct TrainWindows<'a> {
    config: &'a TrainConfig,
    /// Train examples per window.
    size: usize,
    count: usize,
    /// Optimizer steps spent on one window: one pass over its examples.
    steps_per_window: i64,
    loaded: Option<(usize, PairData)>,
}

impl<'a> TrainWindows<'a> {
    fn new(config: &'a TrainConfig, hp: &Hyper, train_examples: usize) -> Self {
        let size = match config.data.window {
            0 => train_examples.max(1),
            n => n.min(train_examples.max(1)),
        };
        let per_step = hp.batch_size.max(1) * hp.grad_accum.max(1);
        TrainWindows {
            config,
            size,
            count: train_examples.div_ceil(size).max(1),
            steps_per_window: size.div_ceil(per_step).max(1) as i64,
            loaded: None,
        }
    }

    /// The window training reads at `step` (loaded when it changes): the
    /// windows in turn, so a resumed run reads what an uninterrupted one did.
    fn at(&mut self, step: i64, tokenizer: &CodeTokenizer) -> Result<&PairData> {
        let index = (step / self.steps_per_window) as usize % self.count;
        if self.loaded.as_ref().is_none_or(|(i, _)| *i != index) {
            self.loaded = None; // free the old window before reading the next
            let range = index * self.size..(index + 1) * self.size;
            let mut nth = 0;
            let data = PairData::load_where(
                &self.config.data.pairs,
                &self.config.data.variants,
                tokenizer,
                &self.config.model.heads,
                |e| {
                    if e.split != Split::Train {
                        return false;
                    }
                    nth += 1;
                    range.contains(&(nth - 1))
                },
            )?;
            release_freed_memory();
            self.loaded = Some((index, data));
        }
        Ok(&self.loaded.as_ref().expect("loaded above").1)
    }
}

/// Hands the heap pages freed since the last call back to the OS. glibc keeps
/// them otherwise, and a run that reads window after window (each read also
/// frees the records it decoded) would peak as if it held every window.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn save_checkpoint(
    model: &TraceCodeModel,
    opt: &AdamW,
    run: &RunDir,
    step: i64,
    best: Option<f64>,
    config: &TrainConfig,
) -> Result<()> {
    let dir = run.checkpoint();
    model.save(&dir)?;
    opt.save(&dir.join("optimizer.safetensors"))?;
    // state.json last: it is what marks the checkpoint complete.
    let state = CheckpointState {
        step,
        best_validation_loss: best,
        config: config.clone(),
    };
    crate::io::write_text_atomic(
        &dir.join("state.json"),
        &serde_json::to_string_pretty(&state)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_each_epoch_once_and_depend_only_on_the_step() {
        let n = 10;
        let mut seen: Vec<usize> = (0..5).flat_map(|s| batch_indices(n, 2, 3, s)).collect();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_eq!(batch_indices(n, 4, 3, 7), batch_indices(n, 4, 3, 7));
        assert_ne!(batch_indices(n, 4, 3, 0), batch_indices(n, 4, 4, 0));
    }

    #[test]
    fn config_parses_with_defaults_and_rejects_unknown_keys() {
        let c: TrainConfig = toml::from_str(
            "[data]\npairs = \"p.parquet\"\nvariants = \"v.parquet\"\ntokenizer = \"t.json\"\n[model]\npreset = \"tiny\"\nuse_traces = false\n[train]\nsteps = 5\n",
        )
        .unwrap();
        assert_eq!(c.train.steps, 5);
        assert_eq!(c.train.tau, 0.05);
        assert!(!c.model.heads.use_traces);
        assert!(toml::from_str::<TrainConfig>(
            "[data]\npairs=\"p\"\nvariants=\"v\"\n[train]\nstepz = 1\n"
        )
        .is_err());
    }

    #[test]
    fn init_paths_are_relative_to_the_config_but_names_stay_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        for (init, want) in [
            ("minilm", PathBuf::from("minilm")),
            ("encoders/bert", dir.path().join("encoders/bert")),
        ] {
            std::fs::write(
                &path,
                format!("[data]\npairs = \"p\"\nvariants = \"v\"\ninit = \"{init}\"\n[train]\nlr = 1e-3\nencoder_lr = 1e-4\n"),
            )
            .unwrap();
            let c = TrainConfig::load(&path).unwrap();
            assert_eq!(c.data.init, Some(want));
            assert_eq!(c.train.encoder_lr, Some(1e-4));
        }
    }
}
