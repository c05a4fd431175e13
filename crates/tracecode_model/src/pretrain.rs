//! Stage-1 pre-training of the code encoder, before contrastive training:
//! masked language modelling with *full* masking (15% of the tokens, every
//! chosen token replaced by the mask token: no 80-10-10) mixed 50/50 per
//! example with identifier deobfuscation (DOBF: every occurrence of some of
//! the function's local names is masked, so the model must infer a name from
//! how the code uses it). This is CodeSage's stage 1 for an encoder-only model.
//!
//! The output directory is a HuggingFace masked-LM checkpoint
//! (`RobertaForMaskedLM` / `BertForMaskedLM` names and `config.json`), which
//! `transformers` loads and `tracecode train --init` continues from.
//!
//! Resume is exact for the same reason as in [`crate::train`]: every random
//! choice of step `k` (examples, masks, dropout) is seeded by `(seed, k)`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand::seq::IteratorRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};
use tracecode_data::schema::{FunctionRecord, RecordStatus};
use tracecode_data::variant::Split;

use crate::config::EncoderConfig;
use crate::encoder::{
    activation, init_layer_norm, init_linear, load_scope, normalize_key, Encoder,
};
use crate::optim::{learning_rate, AdamW};
use crate::run_log::{step_bar, MetricsLog};
use crate::tokenizer::CodeTokenizer;
use crate::train::{batch_indices, parse_device, step_rng};

/// `pretrain.toml`: every setting of a pre-training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    pub data: PretrainData,
    #[serde(default)]
    pub model: PretrainModel,
    #[serde(default)]
    pub train: PretrainHyper,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretrainData {
    /// Rows of `tracecode corpus`: every parsed function, runnable or not.
    pub corpus: PathBuf,
    /// `tokenizer.json` for an encoder trained from scratch (ignored with `init`).
    #[serde(default)]
    pub tokenizer: Option<PathBuf>,
    /// A pretrained encoder directory (or a known name such as `minilm`) to
    /// continue from; its tokenizer and configuration are kept.
    #[serde(default)]
    pub init: Option<PathBuf>,
    /// Train and validation fractions of the per-function split, and its
    /// seed: keep them as `tracecode pairs` has them (the defaults), so the
    /// functions held out for evaluation are never pre-trained on.
    #[serde(default = "default_split")]
    pub split: [f64; 2],
    #[serde(default)]
    pub split_seed: u64,
    /// Use at most this many train functions (0: all).
    #[serde(default)]
    pub max_functions: usize,
}

fn default_split() -> [f64; 2] {
    [0.8, 0.1]
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainModel {
    /// Encoder size when training from scratch: tiny, small or base.
    pub preset: String,
    /// Functions are cut to this many tokens.
    pub max_tokens: usize,
}

impl Default for PretrainModel {
    fn default() -> Self {
        PretrainModel {
            preset: "small".into(),
            max_tokens: 256,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainHyper {
    pub steps: i64,
    pub batch_size: usize,
    pub lr: f64,
    pub warmup: i64,
    pub weight_decay: f64,
    pub grad_clip: f64,
    /// Share of an MLM example's tokens that are masked.
    pub mask_rate: f64,
    /// Share of examples given the DOBF objective (those without a local
    /// name to hide fall back to MLM).
    pub dobf_share: f64,
    /// In a DOBF example, the chance each local name is hidden (at least one is).
    pub dobf_name_rate: f64,
    pub seed: u64,
    pub checkpoint_every: i64,
    pub eval_every: i64,
    /// Validation functions scored at each evaluation (the first N).
    pub eval_examples: usize,
    /// `auto` (CUDA when present), `cpu`, `cuda`.
    pub device: String,
    /// Intra-op CPU threads (0: libtorch's default).
    pub threads: i32,
}

impl Default for PretrainHyper {
    fn default() -> Self {
        PretrainHyper {
            steps: 300,
            batch_size: 32,
            lr: 5e-4,
            warmup: 30,
            weight_decay: 0.01,
            grad_clip: 1.0,
            mask_rate: 0.15,
            dobf_share: 0.5,
            dobf_name_rate: 0.5,
            seed: 0,
            checkpoint_every: 50,
            eval_every: 50,
            eval_examples: 256,
            device: "auto".into(),
            threads: 0,
        }
    }
}

impl PretrainConfig {
    /// Reads a TOML file; relative paths are relative to it.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut c: PretrainConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut c.data.corpus);
        c.data.tokenizer.as_mut().map(fix);
        c.data
            .init
            .as_mut()
            .filter(|p| !crate::pretrained::is_name(p))
            .map(fix);
        Ok(c)
    }
}

/// One function, tokenized, with the token positions of each local name.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskableCode {
    pub ids: Vec<i64>,
    /// Per local name (parameters, locals, nested functions), the positions
    /// of every token overlapping one of its occurrences.
    pub names: Vec<Vec<usize>>,
}

impl MaskableCode {
    /// Tokenizes `code` and maps its local names' byte ranges
    /// ([`tracecode_py::rewrite::local_name_sites`]) onto tokens. Code whose
    /// names cannot be resolved gets none (and is used for MLM only).
    pub fn new(code: &str, tokenizer: &CodeTokenizer) -> Result<Self> {
        let (ids, offsets) = tokenizer.ids_with_offsets(code)?;
        let sites = tracecode_py::rewrite::local_name_sites(code).unwrap_or_default();
        let names = sites
            .iter()
            .map(|(_, ranges)| tokens_overlapping(&offsets, ranges))
            .filter(|t| !t.is_empty())
            .collect();
        Ok(MaskableCode { ids, names })
    }
}

fn tokens_overlapping(offsets: &[(usize, usize)], ranges: &[Range<usize>]) -> Vec<usize> {
    offsets
        .iter()
        .enumerate()
        .filter(|(_, &(a, b))| a < b && ranges.iter().any(|r| a < r.end && r.start < b))
        .map(|(i, _)| i)
        .collect()
}

/// Which objective an example was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    Mlm,
    Dobf,
}

/// The positions to mask in `code` (sorted) and the objective they serve.
pub fn choose_masks(
    code: &MaskableCode,
    hp: &PretrainHyper,
    rng: &mut ChaCha8Rng,
) -> (Objective, Vec<usize>) {
    let dobf = rng.gen_bool(hp.dobf_share.clamp(0.0, 1.0));
    if dobf && !code.names.is_empty() {
        let mut hidden: Vec<usize> = (0..code.names.len())
            .filter(|_| rng.gen_bool(hp.dobf_name_rate.clamp(0.0, 1.0)))
            .collect();
        if hidden.is_empty() {
            hidden.push(rng.gen_range(0..code.names.len()));
        }
        let mut positions: Vec<usize> = hidden
            .iter()
            .flat_map(|&n| code.names[n].iter().copied())
            .collect();
        positions.sort_unstable();
        positions.dedup();
        return (Objective::Dobf, positions);
    }
    // The first and last tokens are the sequence's special tokens.
    let inner = code.ids.len().saturating_sub(2);
    let count = ((inner as f64 * hp.mask_rate).round() as usize).clamp(1, inner.max(1));
    let mut positions: Vec<usize> =
        (1..code.ids.len().saturating_sub(1)).choose_multiple(rng, count);
    positions.sort_unstable();
    (Objective::Mlm, positions)
}

/// The masked-LM head, under HuggingFace's names: RoBERTa's `lm_head.*`
/// (GELU) or BERT's `cls.predictions.*` (the config's activation). Its output
/// projection is the encoder's word embedding matrix (tied), plus a bias.
struct MlmHead {
    dense: nn::Linear,
    norm: nn::LayerNorm,
    bias: Tensor,
    activation: String,
}

/// Whether a variable name (relative to the root) belongs to the head.
fn is_head_variable(name: &str) -> bool {
    name.starts_with("lm_head.") || name.starts_with("cls.")
}

impl MlmHead {
    fn new(root: &nn::Path, c: &EncoderConfig) -> Self {
        let (h, eps) = (c.hidden_size, c.layer_norm_eps);
        if c.model_type == "roberta" {
            let p = root / "lm_head";
            MlmHead {
                dense: init_linear(&p / "dense", h, h),
                norm: init_layer_norm(&p / "layer_norm", h, eps),
                bias: p.zeros("bias", &[c.vocab_size]),
                activation: "gelu".into(),
            }
        } else {
            let p = root / "cls" / "predictions";
            let t = &p / "transform";
            MlmHead {
                dense: init_linear(&t / "dense", h, h),
                norm: init_layer_norm(&t / "LayerNorm", h, eps),
                bias: p.zeros("bias", &[c.vocab_size]),
                activation: c.hidden_act.clone(),
            }
        }
    }

    /// Vocabulary logits [M, V] of hidden states [M, H].
    fn forward(&self, hidden: &Tensor, word_embeddings: &Tensor) -> Tensor {
        let x = activation(&self.dense.forward(hidden), &self.activation);
        self.norm.forward(&x).matmul(&word_embeddings.tr()) + &self.bias
    }
}

/// An encoder with its masked-LM head.
pub struct MaskedLm {
    pub vs: nn::VarStore,
    pub encoder: Encoder,
    head: MlmHead,
    pub tokenizer: CodeTokenizer,
    /// The directory continued from, whose sentence-transformers files
    /// (pooling, sequence length) the saved model keeps.
    init: Option<PathBuf>,
}

impl MaskedLm {
    /// A freshly initialised encoder of `config` and head.
    pub fn new(config: &EncoderConfig, tokenizer: CodeTokenizer, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let encoder = Encoder::new(&vs.root(), config);
        let head = MlmHead::new(&vs.root(), config);
        MaskedLm {
            vs,
            encoder,
            head,
            tokenizer,
            init: None,
        }
    }

    /// Loads an HF encoder or masked-LM directory; a head missing from it
    /// (a sentence-transformers model has none) starts fresh.
    pub fn load(dir: &Path, max_tokens: usize, device: Device) -> Result<Self> {
        let config = EncoderConfig::load(dir)?;
        let tokenizer = CodeTokenizer::load_dir(dir, max_tokens.min(config.max_tokens() as usize))?;
        let mut model = MaskedLm::new(&config, tokenizer, device);
        model.load_weights(dir)?;
        model.init = Some(dir.to_path_buf());
        Ok(model)
    }

    /// Copies the weights of `dir/model.safetensors` in place.
    fn load_weights(&self, dir: &Path) -> Result<()> {
        let path = dir.join("model.safetensors");
        if !path.exists() {
            bail!("{} not found", path.display());
        }
        load_scope(&self.vs, "", &path, None, normalize_key, |local| {
            local.starts_with("pooler.") || is_head_variable(local)
        })
    }

    /// Vocabulary logits [M, V] at `positions` (flat indices into [B, T]).
    pub fn logits(&self, ids: &Tensor, mask: &Tensor, positions: &Tensor, train: bool) -> Tensor {
        let hidden = self.encoder.forward(ids, mask, train);
        let h = self.encoder.config.hidden_size;
        let picked = hidden.view([-1, h]).index_select(0, positions);
        self.head
            .forward(&picked, self.encoder.word_embedding_weight())
    }

    /// Writes a HuggingFace masked-LM directory: `config.json` naming the
    /// `*ForMaskedLM` architecture, `model.safetensors` with the encoder under
    /// `roberta.` / `bert.` and the head under its own names, the tokenizer,
    /// and the sentence-transformers files of the directory continued from.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let c = &self.encoder.config;
        let prefix = if c.model_type == "roberta" {
            "roberta"
        } else {
            "bert"
        };
        let mut json = c.to_hf_json();
        json["architectures"] = serde_json::json!([if prefix == "roberta" {
            "RobertaForMaskedLM"
        } else {
            "BertForMaskedLM"
        }]);
        crate::io::write_text_atomic(
            &dir.join("config.json"),
            &serde_json::to_string_pretty(&json)?,
        )?;
        let mut named: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .map(|(name, t)| {
                let name = if is_head_variable(&name) {
                    name
                } else {
                    format!("{prefix}.{name}")
                };
                (
                    name,
                    t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous(),
                )
            })
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        crate::io::write_safetensors_atomic(&named, &dir.join("model.safetensors"))?;
        self.tokenizer.save(&dir.join("tokenizer.json"))?;
        if let Some(init) = &self.init {
            copy_sentence_files(init, dir)?;
        }
        Ok(())
    }
}

/// Copies `modules.json`, `sentence_bert_config.json` and the modules'
/// `config.json` files, so pooling and sequence length carry over.
fn copy_sentence_files(from: &Path, to: &Path) -> Result<()> {
    if from == to {
        return Ok(());
    }
    let mut files = vec![
        PathBuf::from("modules.json"),
        PathBuf::from("sentence_bert_config.json"),
    ];
    let modules = from.join("modules.json");
    if modules.exists() {
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&modules)?)
                .with_context(|| format!("parsing {}", modules.display()))?;
        for m in list {
            if let Some(p) = m["path"].as_str().filter(|p| !p.is_empty()) {
                files.push(Path::new(p).join("config.json"));
            }
        }
    }
    for f in files {
        let src = from.join(&f);
        if src.exists() {
            let text = std::fs::read_to_string(&src)?;
            let dst = to.join(&f);
            if let Some(parent) = dst.parent() {
                std::fs::create_dir_all(parent)?;
            }
            crate::io::write_text_atomic(&dst, &text)?;
        }
    }
    Ok(())
}

/// A batch's masked inputs and targets.
struct MaskedBatch {
    ids: Tensor,
    mask: Tensor,
    positions: Tensor,
    targets: Tensor,
    /// Per masked position, whether it serves DOBF.
    dobf: Vec<bool>,
    tokens: usize,
}

fn masked_batch(
    model: &MaskedLm,
    codes: &[&MaskableCode],
    hp: &PretrainHyper,
    rng: &mut ChaCha8Rng,
    mask_id: i64,
) -> MaskedBatch {
    let t = codes.iter().map(|c| c.ids.len()).max().unwrap_or(1).max(1);
    let mut seqs: Vec<Vec<i64>> = Vec::with_capacity(codes.len());
    let (mut positions, mut targets, mut dobf) = (Vec::new(), Vec::new(), Vec::new());
    for (row, code) in codes.iter().enumerate() {
        let (objective, masked) = choose_masks(code, hp, rng);
        let mut ids = code.ids.clone();
        for &p in &masked {
            positions.push((row * t + p) as i64);
            targets.push(ids[p]);
            dobf.push(objective == Objective::Dobf);
            ids[p] = mask_id;
        }
        seqs.push(ids);
    }
    let refs: Vec<&[i64]> = seqs.iter().map(Vec::as_slice).collect();
    let device = model.vs.device();
    let (ids, mask) = model.tokenizer.batch(&refs, device);
    MaskedBatch {
        ids,
        mask,
        positions: Tensor::from_slice(&positions).to_device(device),
        targets: Tensor::from_slice(&targets).to_device(device),
        dobf,
        tokens: codes.iter().map(|c| c.ids.len()).sum(),
    }
}

/// Masked tokens of one objective: summed cross-entropy, exact hits, count.
#[derive(Default, Clone, Copy)]
struct Tally {
    loss: f64,
    correct: usize,
    count: usize,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.loss += other.loss;
        self.correct += other.correct;
        self.count += other.count;
    }
    fn mean_loss(&self) -> Option<f64> {
        (self.count > 0).then(|| self.loss / self.count as f64)
    }
    fn accuracy(&self) -> Option<f64> {
        (self.count > 0).then(|| self.correct as f64 / self.count as f64)
    }
}

/// One batch's loss (mean over every masked token) and per-objective tallies.
struct BatchLoss {
    loss: Tensor,
    mlm: Tally,
    dobf: Tally,
}

fn batch_loss(model: &MaskedLm, b: &MaskedBatch, train: bool) -> BatchLoss {
    let logits = model.logits(&b.ids, &b.mask, &b.positions, train);
    let per_position =
        logits.cross_entropy_loss::<Tensor>(&b.targets, None, tch::Reduction::None, -100, 0.0);
    let correct: Vec<bool> = Vec::<bool>::try_from(logits.argmax(-1, false).eq_tensor(&b.targets))
        .expect("a bool vector");
    let values: Vec<f64> =
        Vec::<f64>::try_from(per_position.detach().to_kind(Kind::Double)).expect("a float vector");
    let (mut mlm, mut dobf) = (Tally::default(), Tally::default());
    for (i, &is_dobf) in b.dobf.iter().enumerate() {
        let t = if is_dobf { &mut dobf } else { &mut mlm };
        t.add(Tally {
            loss: values[i],
            correct: usize::from(correct[i]),
            count: 1,
        });
    }
    BatchLoss {
        loss: per_position.mean(Kind::Float),
        mlm,
        dobf,
    }
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PretrainMetrics {
    pub step: i64,
    pub split: String,
    /// Mean cross-entropy over all masked tokens.
    pub loss: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dobf: Option<f64>,
    /// Share of masked tokens predicted exactly (validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlm_accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dobf_accuracy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_s: Option<f64>,
}

/// The corpus as pre-training reads it.
pub struct PretrainCorpus {
    pub train: Vec<MaskableCode>,
    pub validation: Vec<MaskableCode>,
    /// Functions left out because they are held out for evaluation.
    pub held_out: usize,
}

/// Reads the corpus's parsed functions, splits them per function as
/// `tracecode pairs` does, and tokenizes them.
pub fn load_corpus(data: &PretrainData, tokenizer: &CodeTokenizer) -> Result<PretrainCorpus> {
    let (mut train, mut validation, mut held_out) = (Vec::new(), Vec::new(), 0);
    tracecode_data::io::for_each_parquet_row(&data.corpus, |r: FunctionRecord| {
        if r.status != RecordStatus::Ok {
            return Ok(());
        }
        match Split::of(&r.id, data.split_seed, data.split[0], data.split[1]) {
            Split::Train => train.push(r.code),
            Split::Validation => validation.push(r.code),
            Split::Test => held_out += 1,
        }
        Ok(())
    })
    .with_context(|| format!("reading corpus {}", data.corpus.display()))?;
    if data.max_functions > 0 {
        train.truncate(data.max_functions);
    }
    let prepare = |codes: Vec<String>| -> Result<Vec<MaskableCode>> {
        codes
            .iter()
            .map(|c| MaskableCode::new(c, tokenizer))
            .filter(|m| m.as_ref().map_or(true, |m| m.ids.len() > 2))
            .collect()
    };
    Ok(PretrainCorpus {
        train: prepare(train)?,
        validation: prepare(validation)?,
        held_out,
    })
}

#[derive(Serialize, Deserialize)]
struct CheckpointState {
    step: i64,
    best_validation_loss: Option<f64>,
    config: PretrainConfig,
}

/// What happened, for the caller's summary.
pub struct PretrainSummary {
    pub steps: i64,
    pub resumed_from: Option<i64>,
    pub train_functions: usize,
    pub validation_functions: usize,
    pub held_out: usize,
    pub first_validation: Option<PretrainMetrics>,
    pub best_validation: Option<PretrainMetrics>,
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct PretrainOptions {
    pub progress: bool,
    /// Stop (checkpointed) after this step; running again continues.
    pub stop_after: Option<i64>,
}

/// Builds (or, with `init`, loads) the masked LM of a config.
fn build(config: &PretrainConfig, device: Device) -> Result<MaskedLm> {
    if let Some(init) = &config.data.init {
        let dir = crate::pretrained::resolve(init)?;
        MaskedLm::load(&dir, config.model.max_tokens, device)
    } else {
        let path = config
            .data
            .tokenizer
            .as_ref()
            .context("[data] needs `tokenizer` (or `init`)")?;
        let mut encoder = EncoderConfig::preset(&config.model.preset, 0)?;
        let tokenizer = CodeTokenizer::load(
            path,
            config.model.max_tokens.min(encoder.max_tokens() as usize),
        )?;
        encoder.vocab_size = tokenizer.vocab_size() as i64;
        Ok(MaskedLm::new(&encoder, tokenizer, device))
    }
}

fn validate(
    model: &MaskedLm,
    data: &[MaskableCode],
    hp: &PretrainHyper,
    mask_id: i64,
    step: i64,
) -> Option<PretrainMetrics> {
    let n = data.len().min(hp.eval_examples);
    if n == 0 {
        return None;
    }
    // The same masks at every evaluation, so the curve compares like with like.
    let mut rng = step_rng(hp.seed, 0, 3);
    let (mut mlm, mut dobf) = (Tally::default(), Tally::default());
    tch::no_grad(|| {
        for chunk in data[..n].chunks(hp.batch_size.max(1)) {
            let codes: Vec<&MaskableCode> = chunk.iter().collect();
            let b = masked_batch(model, &codes, hp, &mut rng, mask_id);
            let out = batch_loss(model, &b, false);
            mlm.add(out.mlm);
            dobf.add(out.dobf);
        }
    });
    let mut all = mlm;
    all.add(dobf);
    Some(PretrainMetrics {
        step,
        split: "validation".into(),
        loss: all.mean_loss().unwrap_or(0.0),
        mlm: mlm.mean_loss(),
        dobf: dobf.mean_loss(),
        mlm_accuracy: mlm.accuracy(),
        dobf_accuracy: dobf.accuracy(),
        ..Default::default()
    })
}

/// Pre-trains per `config` into `out` (`out/model`: the masked LM selected on
/// validation loss; `out/checkpoint`; `out/metrics.jsonl`), resuming from
/// `out/checkpoint` when it exists.
pub fn pretrain(
    config: &PretrainConfig,
    out: &Path,
    options: &PretrainOptions,
) -> Result<PretrainSummary> {
    let hp = &config.train;
    let device = parse_device(&hp.device)?;
    if hp.threads > 0 {
        tch::set_num_threads(hp.threads);
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    tch::manual_seed(hp.seed as i64);
    let model = build(config, device)?;
    let mask_id = model
        .tokenizer
        .mask_id()
        .context("the tokenizer has no mask token (<mask> or [MASK])")?;
    let data = load_corpus(&config.data, &model.tokenizer)?;
    if data.train.is_empty() {
        bail!("{} has no train functions", config.data.corpus.display());
    }
    let mut opt = AdamW::new(&model.vs, hp.weight_decay);
    let checkpoint = out.join("checkpoint");
    let best_dir = out.join("model");
    let metrics_path = out.join("metrics.jsonl");
    let (mut start, mut best, mut resumed_from) = (0, None, None);
    let state_path = checkpoint.join("state.json");
    if state_path.exists() {
        let state: CheckpointState =
            serde_json::from_str(&std::fs::read_to_string(&state_path)?)
                .with_context(|| format!("parsing {}", state_path.display()))?;
        if state.config != *config {
            bail!(
                "{} holds a run of another configuration; use another output directory or delete it",
                checkpoint.display()
            );
        }
        model.load_weights(&checkpoint)?;
        opt.load(&checkpoint.join("optimizer.safetensors"))?;
        start = state.step;
        best = state.best_validation_loss;
        resumed_from = Some(start);
    }
    let mut log = MetricsLog::open(&metrics_path, start, |m: &PretrainMetrics| m.step)?;
    if start == 0 {
        if let Some(v) = validate(&model, &data.validation, hp, mask_id, 0) {
            log.emit(v)?;
        }
    }
    let bar = step_bar(hp.steps, start, "steps", options.progress);
    let end = options
        .stop_after
        .map_or(hp.steps, |s| s.clamp(start, hp.steps));
    for step in start..end {
        let started = Instant::now();
        tch::manual_seed((hp.seed as i64).wrapping_mul(1_000_003).wrapping_add(step));
        let mut rng = step_rng(hp.seed, step, 2);
        let lr = learning_rate(step, hp.warmup, hp.steps, hp.lr);
        opt.zero_grad();
        let idx = batch_indices(data.train.len(), hp.batch_size, hp.seed, step);
        let codes: Vec<&MaskableCode> = idx.iter().map(|&i| &data.train[i]).collect();
        let b = masked_batch(&model, &codes, hp, &mut rng, mask_id);
        let out = batch_loss(&model, &b, true);
        out.loss.backward();
        let loss = out.loss.double_value(&[]);
        if !loss.is_finite() {
            bail!("loss became {loss} at step {step}; lower `lr` or check the data");
        }
        let grad_norm = opt.clip_grad_norm(hp.grad_clip);
        opt.step(lr);
        log.emit(PretrainMetrics {
            step: step + 1,
            split: "train".into(),
            loss,
            mlm: out.mlm.mean_loss(),
            dobf: out.dobf.mean_loss(),
            lr: Some(lr),
            grad_norm: Some(grad_norm),
            tokens_per_s: Some(b.tokens as f64 / started.elapsed().as_secs_f64()),
            ..Default::default()
        })?;
        bar.set_message(format!("loss {loss:.3} lr {lr:.1e}"));
        let done = step + 1;
        bar.set_position(done as u64);
        let last = done == hp.steps;
        if done % hp.eval_every.max(1) == 0 || last {
            if let Some(v) = validate(&model, &data.validation, hp, mask_id, done) {
                if best.is_none_or(|b| v.loss < b) {
                    best = Some(v.loss);
                    model.save(&best_dir)?;
                }
                log.emit(v)?;
            }
        }
        if done % hp.checkpoint_every.max(1) == 0 || last || done == end {
            model.save(&checkpoint)?;
            opt.save(&checkpoint.join("optimizer.safetensors"))?;
            // state.json last: it marks the checkpoint complete.
            let state = CheckpointState {
                step: done,
                best_validation_loss: best,
                config: config.clone(),
            };
            crate::io::write_text_atomic(&state_path, &serde_json::to_string_pretty(&state)?)?;
        }
    }
    bar.finish_and_clear();
    if end == hp.steps && !best_dir.join("model.safetensors").exists() {
        model.save(&best_dir)?;
    }
    let vals: Vec<&PretrainMetrics> = log
        .lines
        .iter()
        .filter(|m| m.split == "validation")
        .collect();
    Ok(PretrainSummary {
        steps: end,
        resumed_from,
        train_functions: data.train.len(),
        validation_functions: data.validation.len(),
        held_out: data.held_out,
        first_validation: vals.first().map(|m| (*m).clone()),
        best_validation: vals
            .iter()
            .min_by(|a, b| a.loss.total_cmp(&b.loss))
            .map(|m| (*m).clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn tokenizer() -> CodeTokenizer {
        let corpus = (0..100).map(|i| {
            format!("def total_{i}(values, k):\n    acc = 0\n    for v in values:\n        acc += v * k\n    return acc\n")
        });
        let tok = crate::tokenizer::train_bpe(corpus, 400, 2, false).unwrap();
        CodeTokenizer::from_tokenizer(tok, 128)
    }

    const CODE: &str = "def total(values, k):\n    acc = 0\n    for v in values:\n        acc += v * k\n    return acc\n";

    #[test]
    fn local_names_map_to_the_tokens_of_every_occurrence() {
        let tok = tokenizer();
        let m = MaskableCode::new(CODE, &tok).unwrap();
        let (_, offsets) = tok.ids_with_offsets(CODE).unwrap();
        // values, k, acc, v: each name's tokens spell exactly its occurrences.
        assert_eq!(m.names.len(), 4);
        let text = |positions: &[usize]| -> Vec<String> {
            positions
                .iter()
                .map(|&p| CODE[offsets[p].0..offsets[p].1].trim().to_string())
                .collect()
        };
        assert_eq!(text(&m.names[0]), ["values", "values"]);
        assert_eq!(text(&m.names[1]), ["k", "k"]);
        assert_eq!(text(&m.names[2]), ["acc", "acc", "acc"]);
        assert_eq!(text(&m.names[3]), ["v", "v"]);
        // The function's own name is not a local.
        assert!(m
            .names
            .iter()
            .flatten()
            .all(|&p| !text(&[p])[0].contains("total")));
    }

    #[test]
    fn masks_are_seeded_full_and_sized_per_objective() {
        let tok = tokenizer();
        let m = MaskableCode::new(CODE, &tok).unwrap();
        let mlm_only = PretrainHyper {
            dobf_share: 0.0,
            ..Default::default()
        };
        let (objective, positions) = choose_masks(&m, &mlm_only, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(objective, Objective::Mlm);
        let inner = m.ids.len() - 2;
        assert_eq!(positions.len(), (inner as f64 * 0.15).round() as usize);
        assert!(positions.iter().all(|&p| p >= 1 && p <= inner));
        let again = choose_masks(&m, &mlm_only, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(again.1, positions, "same seed, same masks");
        let dobf_only = PretrainHyper {
            dobf_share: 1.0,
            dobf_name_rate: 1.0,
            ..Default::default()
        };
        let (objective, positions) =
            choose_masks(&m, &dobf_only, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(objective, Objective::Dobf);
        let mut all: Vec<usize> = m.names.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(positions, all, "every occurrence of every hidden name");
        // Code without resolvable names falls back to MLM.
        let no_names = MaskableCode::new("def f():\n    return locals()\n", &tok).unwrap();
        assert!(no_names.names.is_empty());
        assert_eq!(
            choose_masks(&no_names, &dobf_only, &mut ChaCha8Rng::seed_from_u64(1)).0,
            Objective::Mlm
        );
    }

    #[test]
    fn a_saved_masked_lm_loads_back_with_the_same_logits() {
        let tok = tokenizer();
        let mut config = EncoderConfig::preset("tiny", tok.vocab_size() as i64).unwrap();
        config.vocab_size = tok.vocab_size() as i64;
        let model = MaskedLm::new(&config, tok, Device::Cpu);
        let dir = tempfile::tempdir().unwrap();
        model.save(dir.path()).unwrap();
        let names: Vec<String> = Tensor::read_safetensors(dir.path().join("model.safetensors"))
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(names.contains(&"roberta.embeddings.word_embeddings.weight".to_string()));
        assert!(names.contains(&"lm_head.layer_norm.weight".to_string()));
        assert!(names.contains(&"lm_head.bias".to_string()));
        let back = MaskedLm::load(dir.path(), 128, Device::Cpu).unwrap();
        let ids = Tensor::from_slice(&[0i64, 7, 8, 9, 2]).view([1, 5]);
        let mask = ids.ones_like();
        let positions = Tensor::from_slice(&[1i64, 3]);
        let a = model.logits(&ids, &mask, &positions, false);
        let b = back.logits(&ids, &mask, &positions, false);
        assert_eq!(a.size(), vec![2, config.vocab_size]);
        assert!(a.allclose(&b, 1e-6, 1e-6, false));
    }
}
