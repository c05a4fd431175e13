//! Code summarization head: a small transformer decoder that writes a
//! one-line summary of a function from a *frozen* encoder's view of it.
//!
//! The same decoder recipe runs on top of every encoder being compared
//! (TraceCode fused, TraceCode code-only, the static-only baseline, an HF
//! encoder as-is), so differences in the summaries measure the
//! representations, not the decoder. Hence:
//! - the target vocabulary is built from the training summaries, independent
//!   of the encoder's tokenizer;
//! - the encoder is never updated: its outputs are computed under `no_grad`
//!   and, for training, cached once;
//! - the decoder reads the encoder's last hidden states of the code plus one
//!   extra memory slot holding the model's pooled embedding of the function.
//!   When a function comes with trace features that slot is the fused
//!   code + trace embedding, which is how trace information reaches the
//!   decoder at all (the encoder's token states never see traces).

use std::collections::HashMap;

use anyhow::{bail, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Kind, Reduction, Tensor};

use crate::features::TraceFeatures;
use crate::model::{normalize, TraceCodeModel};
use crate::optim::{learning_rate, AdamW};
use crate::trace_encoder::TraceBatch;

/// Padding in target sequences (ignored by the loss).
pub const PAD: i64 = 0;
/// First decoder input of every summary.
pub const BOS: i64 = 1;
/// End of a summary.
pub const EOS: i64 = 2;
/// A word outside the vocabulary.
pub const UNK: i64 = 3;
const SPECIALS: [&str; 4] = ["<pad>", "<bos>", "<eos>", "<unk>"];

/// ASCII punctuation that CodeXGLUE's smoothed-BLEU `normalize` always splits
/// off as its own token (its character class `[{-~[-` -&(-+:-@/]`).
fn always_split(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | '!'..='&' | '('..='+' | ':'..='@' | '/')
}

/// Lower-cased words of a summary, split the way CodeXGLUE's smoothed BLEU
/// tokenises (approximately): single punctuation marks are tokens, `.` and `,`
/// stay inside numbers, `-` and `'` stay inside words unless a digit precedes
/// the `-`. Splitting like the metric means a vocabulary word is a unit BLEU
/// counts, so the decoder never spends capacity on distinctions BLEU ignores.
fn words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let digit = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(char::is_ascii_digit)
    };
    let mut out = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1);
        let alone = match c {
            '.' | ',' => !(digit(prev) && digit(Some(i + 1))),
            '-' => digit(prev),
            c => c.is_whitespace() || always_split(c),
        };
        if !alone {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// Word-level target vocabulary: the special tokens at [`PAD`], [`BOS`],
/// [`EOS`], [`UNK`], then training-summary words by falling frequency.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocab {
    words: Vec<String>,
    ids: HashMap<String, i64>,
}

impl Vocab {
    /// Keeps words seen at least `min_count` times, the most frequent first
    /// (ties in word order, so the vocabulary is deterministic), up to `size`
    /// entries in all (specials included).
    pub fn build<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        size: usize,
        min_count: usize,
    ) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for w in words(text) {
                *counts.entry(w).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, n)| *n >= min_count.max(1))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let words: Vec<String> = SPECIALS
            .iter()
            .map(|s| s.to_string())
            .chain(ranked.into_iter().map(|(w, _)| w))
            .take(size.max(SPECIALS.len()))
            .collect();
        let ids = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as i64))
            .collect();
        Vocab { words, ids }
    }

    /// Number of entries, specials included.
    pub fn size(&self) -> usize {
        self.words.len()
    }

    /// Word ids of a text, [`UNK`] for unknown words; no [`BOS`]/[`EOS`].
    pub fn encode(&self, text: &str) -> Vec<i64> {
        words(text)
            .iter()
            .map(|w| self.ids.get(w).copied().unwrap_or(UNK))
            .collect()
    }

    /// The words of `ids` up to the first [`EOS`], joined by spaces (BLEU
    /// tokenises again, so spacing around punctuation does not matter);
    /// [`PAD`] and [`BOS`] are skipped.
    pub fn decode(&self, ids: &[i64]) -> String {
        ids.iter()
            .take_while(|&&i| i != EOS)
            .filter(|&&i| i != PAD && i != BOS)
            .map(|&i| self.words.get(i as usize).map_or("<unk>", String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Hyper-parameters of the summarization decoder and its training.
///
/// The defaults are sized for CPU: the decoder is trained once per compared
/// encoder, on two cores. At width 128 (not 256) a step of 32 functions
/// costs about a quarter as much, and on MBPP (~900 training functions over
/// the `small` encoder) it reached the same best validation loss (1.93 vs
/// 1.94 nats per token); the peak learning rate 2e-3 gets there in 300 steps
/// instead of 600 at 1e-3. `steps` is a ceiling: `patience` stops a run once
/// validation loss no longer falls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SummarizerConfig {
    /// Decoder layers.
    pub layers: i64,
    /// Attention heads (must divide `d_model`).
    pub heads: i64,
    pub d_model: i64,
    /// Width of the feed-forward layer.
    pub ffn: i64,
    pub dropout: f64,
    /// Longest summary generated or trained on, `<eos>` included (longer
    /// training summaries are cut).
    pub max_summary_tokens: usize,
    /// Code tokens the decoder sees per function: one cap for every encoder,
    /// so an encoder with a longer position table gets no extra context.
    pub max_code_tokens: usize,
    pub steps: i64,
    pub batch_size: usize,
    /// Peak learning rate (AdamW).
    pub lr: f64,
    /// Linear warm-up steps, then linear decay to 0 at `steps`.
    pub warmup: i64,
    pub weight_decay: f64,
    /// Maximum global gradient norm.
    pub grad_clip: f64,
    /// Label smoothing of the training loss (validation loss is unsmoothed).
    pub label_smoothing: f64,
    pub seed: u64,
    /// Vocabulary entries, specials included.
    pub vocab_size: usize,
    /// A word enters the vocabulary if it occurs this often in training summaries.
    pub min_count: usize,
    /// Validate (and keep the best weights) every this many steps.
    pub eval_every: i64,
    /// Stop after this many evaluations without a better validation loss (0:
    /// run all `steps`): a small training set overfits long before `steps`,
    /// and the steps after the best one are wasted CPU.
    pub patience: usize,
    /// Budget for the cached encoder states of the training and validation
    /// functions, in MiB (f16 on the CPU); functions beyond it are re-encoded
    /// whenever a batch needs them.
    pub cache_mib: usize,
}

impl Default for SummarizerConfig {
    fn default() -> Self {
        SummarizerConfig {
            layers: 2,
            heads: 4,
            d_model: 128,
            ffn: 512,
            dropout: 0.1,
            max_summary_tokens: 24,
            max_code_tokens: 256,
            steps: 800,
            batch_size: 32,
            lr: 2e-3,
            warmup: 100,
            weight_decay: 0.01,
            grad_clip: 1.0,
            label_smoothing: 0.1,
            seed: 0,
            vocab_size: 4000,
            min_count: 2,
            eval_every: 100,
            patience: 2,
            cache_mib: 1536,
        }
    }
}

impl SummarizerConfig {
    fn validate(&self) -> Result<()> {
        if self.heads < 1 || self.d_model % self.heads != 0 {
            bail!(
                "summarizer d_model {} is not a multiple of heads {}",
                self.d_model,
                self.heads
            );
        }
        if self.layers < 1 || self.steps < 1 || self.batch_size == 0 || self.eval_every < 1 {
            bail!("summarizer layers, steps, batch_size and eval_every must be positive");
        }
        if self.max_summary_tokens < 2 || self.max_code_tokens < 2 {
            bail!("summarizer max_summary_tokens and max_code_tokens must be at least 2");
        }
        Ok(())
    }
}

/// One function: its code, its reference summary, and its trace features
/// when it was traced (then the decoder's extra memory slot is the fused
/// embedding).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryExample {
    /// The function's id, for the caller's splits and reports (the decoder
    /// does not read it).
    pub id: String,
    pub code: String,
    pub summary: String,
    pub trace: Option<TraceFeatures>,
}

/// What the decoder attends to, computed by the frozen encoder.
pub struct Memory {
    /// Last hidden states of the code tokens: [B, T, H].
    pub hidden: Tensor,
    /// True at real tokens: [B, T] bool.
    pub mask: Tensor,
    /// The function's unit-length pooled embedding: fused (code + trace) where
    /// trace features were given, code-only otherwise: [B, D].
    pub pooled: Tensor,
}

/// Cuts a token sequence to `max` tokens keeping its last (end) token.
fn truncate(mut ids: Vec<i64>, max: usize) -> Vec<i64> {
    if ids.len() > max {
        let last = ids[ids.len() - 1];
        ids.truncate(max - 1);
        ids.push(last);
    }
    ids
}

/// Encodes functions for the decoder under `no_grad` (the encoder is frozen),
/// with at most `max_code_tokens` tokens each. `traces[i]` belongs to `codes[i]`.
pub fn encode_memory(
    model: &TraceCodeModel,
    codes: &[String],
    traces: &[Option<&TraceFeatures>],
    max_code_tokens: usize,
) -> Result<Memory> {
    if codes.is_empty() {
        bail!("encode_memory needs at least one function");
    }
    if codes.len() != traces.len() {
        bail!(
            "encode_memory got {} functions but {} trace entries",
            codes.len(),
            traces.len()
        );
    }
    let _guard = tch::no_grad_guard();
    let device = model.device();
    let ids: Vec<Vec<i64>> = model
        .tokenizer
        .ids_batch(codes)?
        .into_iter()
        .map(|s| truncate(s, max_code_tokens.max(2)))
        .collect();
    let seqs: Vec<&[i64]> = ids.iter().map(Vec::as_slice).collect();
    let (input, mask) = model.tokenizer.batch(&seqs, device);
    let hidden = model.encoder.forward(&input, &mask, false);
    let pooled = model.pooling.pool(&hidden, &mask);
    let code = normalize(&model.code_embedding(&pooled));
    let has: Vec<bool> = traces.iter().map(Option::is_some).collect();
    let pooled = if model.uses_traces() && has.contains(&true) {
        let empty = TraceFeatures::default();
        let feats: Vec<&TraceFeatures> = traces.iter().map(|t| t.unwrap_or(&empty)).collect();
        let fused =
            normalize(&model.fused_embedding(&pooled, &TraceBatch::new(&feats, device), false));
        let with_trace = Tensor::from_slice(&has).to_device(device).unsqueeze(1);
        fused.where_self(&with_trace, &code)
    } else {
        code
    };
    Ok(Memory {
        hidden,
        mask: mask.to_kind(Kind::Bool),
        pooled,
    })
}

/// One function's memory on the CPU, trimmed to its real tokens. Hidden
/// states are kept in f16: half the RAM, and a relative rounding error
/// (~1e-3) far below what the decoder resolves.
struct Row {
    hidden: Tensor,
    pooled: Tensor,
}

impl Row {
    fn bytes(&self) -> usize {
        (self.hidden.numel() * 2 + self.pooled.numel() * 4) + 64
    }
}

fn split_rows(memory: &Memory) -> Result<Vec<Row>> {
    let lengths = Vec::<i64>::try_from(
        memory
            .mask
            .sum_dim_intlist(1, false, Kind::Int64)
            .to_device(Device::Cpu),
    )?;
    Ok(lengths
        .iter()
        .enumerate()
        .map(|(i, &len)| Row {
            hidden: memory
                .hidden
                .get(i as i64)
                .narrow(0, 0, len)
                .to_device(Device::Cpu)
                .to_kind(Kind::Half),
            pooled: memory
                .pooled
                .get(i as i64)
                .to_device(Device::Cpu)
                .to_kind(Kind::Float)
                .copy(),
        })
        .collect())
}

/// Pads rows into a batch on `device`.
fn stack_rows(rows: &[&Row], device: Device) -> Memory {
    let t = rows.iter().map(|r| r.hidden.size()[0]).max().unwrap_or(1);
    let hidden: Vec<Tensor> = rows
        .iter()
        .map(|r| {
            r.hidden
                .to_kind(Kind::Float)
                .constant_pad_nd([0, 0, 0, t - r.hidden.size()[0]])
        })
        .collect();
    let mask: Vec<Tensor> = rows
        .iter()
        .map(|r| Tensor::arange(t, (Kind::Int64, Device::Cpu)).lt(r.hidden.size()[0]))
        .collect();
    let pooled: Vec<&Tensor> = rows.iter().map(|r| &r.pooled).collect();
    Memory {
        hidden: Tensor::stack(&hidden, 0).to_device(device),
        mask: Tensor::stack(&mask, 0).to_device(device),
        pooled: Tensor::stack(&pooled, 0).to_device(device),
    }
}

/// Encoder memories of a fixed set of functions, cached while a byte budget
/// lasts: the encoder is frozen, so encoding each function once instead of
/// once per epoch makes training cost the decoder's alone.
struct MemoryCache<'a> {
    examples: &'a [SummaryExample],
    rows: Vec<Option<Row>>,
    bytes: usize,
    max_code_tokens: usize,
}

impl<'a> MemoryCache<'a> {
    fn new(
        model: &TraceCodeModel,
        examples: &'a [SummaryExample],
        max_code_tokens: usize,
        budget: usize,
        batch_size: usize,
    ) -> Result<Self> {
        let mut cache = MemoryCache {
            examples,
            rows: (0..examples.len()).map(|_| None).collect(),
            bytes: 0,
            max_code_tokens,
        };
        // Similar lengths together: less padding to encode.
        let mut order: Vec<usize> = (0..examples.len()).collect();
        order.sort_by_key(|&i| examples[i].code.len());
        'chunks: for chunk in order.chunks(batch_size.max(1)) {
            for (&i, row) in chunk.iter().zip(cache.encode(model, chunk)?) {
                if cache.bytes + row.bytes() > budget {
                    break 'chunks;
                }
                cache.bytes += row.bytes();
                cache.rows[i] = Some(row);
            }
        }
        Ok(cache)
    }

    fn encode(&self, model: &TraceCodeModel, idx: &[usize]) -> Result<Vec<Row>> {
        let codes: Vec<String> = idx.iter().map(|&i| self.examples[i].code.clone()).collect();
        let traces: Vec<Option<&TraceFeatures>> = idx
            .iter()
            .map(|&i| self.examples[i].trace.as_ref())
            .collect();
        split_rows(&encode_memory(
            model,
            &codes,
            &traces,
            self.max_code_tokens,
        )?)
    }

    /// The memory of functions `idx`, in that order.
    fn batch(&self, model: &TraceCodeModel, idx: &[usize]) -> Result<Memory> {
        let missing: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| self.rows[i].is_none())
            .collect();
        let fresh = if missing.is_empty() {
            Vec::new()
        } else {
            self.encode(model, &missing)?
        };
        let fresh: HashMap<usize, &Row> = missing.iter().copied().zip(fresh.iter()).collect();
        let rows: Vec<&Row> = idx
            .iter()
            .map(|i| self.rows[*i].as_ref().unwrap_or_else(|| fresh[i]))
            .collect();
        Ok(stack_rows(&rows, model.device()))
    }
}

fn split_heads(x: &Tensor, heads: i64) -> Tensor {
    let (b, l, d) = x.size3().expect("states are [B, L, D]");
    x.view([b, l, heads, d / heads]).transpose(1, 2)
}

fn merge_heads(x: &Tensor) -> Tensor {
    let (b, h, l, d) = x.size4().expect("heads are [B, H, L, D]");
    x.transpose(1, 2).contiguous().view([b, l, h * d])
}

/// A pre-LN decoder layer: causal self-attention, cross-attention over the
/// memory, GELU feed-forward, each a residual branch.
struct Block {
    self_norm: nn::LayerNorm,
    qkv: nn::Linear,
    self_out: nn::Linear,
    cross_norm: nn::LayerNorm,
    cross_q: nn::Linear,
    cross_kv: nn::Linear,
    cross_out: nn::Linear,
    ffn_norm: nn::LayerNorm,
    ffn_in: nn::Linear,
    ffn_out: nn::Linear,
}

impl Block {
    fn new(vs: nn::Path, d: i64, ffn: i64) -> Self {
        let lin = |name: &str, i, o| nn::linear(&vs / name, i, o, Default::default());
        let norm = |name: &str| nn::layer_norm(&vs / name, vec![d], Default::default());
        Block {
            self_norm: norm("self_norm"),
            qkv: lin("qkv", d, 3 * d),
            self_out: lin("self_out", d, d),
            cross_norm: norm("cross_norm"),
            cross_q: lin("cross_q", d, d),
            cross_kv: lin("cross_kv", d, 2 * d),
            cross_out: lin("cross_out", d, d),
            ffn_norm: norm("ffn_norm"),
            ffn_in: lin("ffn_in", d, ffn),
            ffn_out: lin("ffn_out", ffn, d),
        }
    }

    /// `kv`: this layer's keys and values of the memory, [B, heads, S, d/heads];
    /// `mask`: [B, 1, 1, S] bool, true at real memory slots.
    fn forward(
        &self,
        x: &Tensor,
        kv: &(Tensor, Tensor),
        mask: &Tensor,
        heads: i64,
        dropout: f64,
        train: bool,
    ) -> Tensor {
        let p = if train { dropout } else { 0.0 };
        let qkv = self.qkv.forward(&self.self_norm.forward(x)).chunk(3, -1);
        let [q, k, v] = [0, 1, 2].map(|i| split_heads(&qkv[i], heads));
        let a = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            None::<Tensor>,
            p,
            true,
            None::<f64>,
            false,
        );
        let x = x + self
            .self_out
            .forward(&merge_heads(&a))
            .dropout(dropout, train);
        let q = split_heads(&self.cross_q.forward(&self.cross_norm.forward(&x)), heads);
        let a = Tensor::scaled_dot_product_attention(
            &q,
            &kv.0,
            &kv.1,
            Some(mask),
            p,
            false,
            None::<f64>,
            false,
        );
        let x = &x
            + self
                .cross_out
                .forward(&merge_heads(&a))
                .dropout(dropout, train);
        let h = self.ffn_in.forward(&self.ffn_norm.forward(&x)).gelu("none");
        &x + self.ffn_out.forward(&h).dropout(dropout, train)
    }
}

/// Memory projections and the decoder stack. Input and output embeddings are
/// tied: with a few thousand summaries, an untied output layer would be most
/// of the parameters and learn little more.
struct Decoder {
    embed: Tensor,
    out_bias: Tensor,
    positions: Tensor,
    blocks: Vec<Block>,
    final_norm: nn::LayerNorm,
    memory_proj: nn::Linear,
    pooled_proj: nn::Linear,
    memory_norm: nn::LayerNorm,
    heads: i64,
    dropout: f64,
    d_model: i64,
}

impl Decoder {
    fn new(vs: &nn::Path, c: &SummarizerConfig, vocab: i64, hidden: i64, pooled: i64) -> Self {
        let d = c.d_model;
        // Embeddings ~ N(0, 1/d), scaled by √d on input: unit-scale inputs
        // and unit-scale tied output logits.
        let embed = vs.var(
            "embed",
            &[vocab, d],
            nn::Init::Randn {
                mean: 0.0,
                stdev: (d as f64).powf(-0.5),
            },
        );
        Decoder {
            embed,
            out_bias: vs.var("out_bias", &[vocab], nn::Init::Const(0.0)),
            positions: vs.var(
                "positions",
                &[c.max_summary_tokens as i64, d],
                nn::Init::Randn {
                    mean: 0.0,
                    stdev: 0.02,
                },
            ),
            blocks: (0..c.layers)
                .map(|i| Block::new(vs / "layer" / i, d, c.ffn))
                .collect(),
            final_norm: nn::layer_norm(vs / "final_norm", vec![d], Default::default()),
            memory_proj: nn::linear(vs / "memory_proj", hidden, d, Default::default()),
            pooled_proj: nn::linear(vs / "pooled_proj", pooled, d, Default::default()),
            memory_norm: nn::layer_norm(vs / "memory_norm", vec![d], Default::default()),
            heads: c.heads,
            dropout: c.dropout,
            d_model: d,
        }
    }

    /// Memory states [B, 1+T, d] (the pooled slot first) and their attention
    /// mask [B, 1, 1, 1+T]. The pooled slot is always real, so no query ever
    /// faces an all-masked memory.
    fn memory(&self, m: &Memory, train: bool) -> (Tensor, Tensor) {
        let slot = self.pooled_proj.forward(&m.pooled).unsqueeze(1);
        let states = Tensor::cat(&[slot, self.memory_proj.forward(&m.hidden)], 1);
        let states = self
            .memory_norm
            .forward(&states)
            .dropout(self.dropout, train);
        let b = m.mask.size()[0];
        let real = Tensor::ones([b, 1], (Kind::Bool, m.mask.device()));
        let mask = Tensor::cat(&[real, m.mask.to_kind(Kind::Bool)], 1)
            .unsqueeze(1)
            .unsqueeze(1);
        (states, mask)
    }

    /// Per layer, keys and values of the memory: computed once per batch, not
    /// once per generated token.
    fn cross(&self, states: &Tensor) -> Vec<(Tensor, Tensor)> {
        self.blocks
            .iter()
            .map(|b| {
                let kv = b.cross_kv.forward(states).chunk(2, -1);
                (
                    split_heads(&kv[0], self.heads),
                    split_heads(&kv[1], self.heads),
                )
            })
            .collect()
    }

    /// Next-token logits [B, L, V] at every position of `tokens` [B, L].
    fn logits(
        &self,
        tokens: &Tensor,
        cross: &[(Tensor, Tensor)],
        mask: &Tensor,
        train: bool,
    ) -> Tensor {
        let l = tokens.size()[1];
        let x = Tensor::embedding(&self.embed, tokens, -1, false, false)
            * (self.d_model as f64).sqrt()
            + self.positions.narrow(0, 0, l).unsqueeze(0);
        let mut x = x.dropout(self.dropout, train);
        for (block, kv) in self.blocks.iter().zip(cross) {
            x = block.forward(&x, kv, mask, self.heads, self.dropout, train);
        }
        self.final_norm.forward(&x).matmul(&self.embed.tr()) + &self.out_bias
    }
}

/// Teacher-forcing tensors of word-id sequences (each at most
/// `max_summary_tokens - 1` long): inputs `<bos> w…`, targets `w… <eos>`,
/// both padded with [`PAD`]: [B, L].
fn teacher(summaries: &[&[i64]], device: Device) -> (Tensor, Tensor) {
    let l = summaries.iter().map(|s| s.len()).max().unwrap_or(0) + 1;
    let mut input = Vec::with_capacity(summaries.len() * l);
    let mut target = Vec::with_capacity(summaries.len() * l);
    for s in summaries {
        input.push(BOS);
        input.extend_from_slice(s);
        target.extend_from_slice(s);
        target.push(EOS);
        let pad = l - s.len() - 1;
        input.extend(std::iter::repeat_n(PAD, pad));
        target.extend(std::iter::repeat_n(PAD, pad));
    }
    let shape = [summaries.len() as i64, l as i64];
    (
        Tensor::from_slice(&input).view(shape).to_device(device),
        Tensor::from_slice(&target).view(shape).to_device(device),
    )
}

/// The greedy choice for one row: the best-scoring token that is not a
/// special (never `<eos>` first, so every summary has a word), and that does
/// not repeat a trigram already generated (greedy decoders of small models
/// fall into "of the of the" loops otherwise).
fn next_token(logits: &[f32], generated: &[i64]) -> i64 {
    let mut banned = vec![PAD, BOS, UNK];
    if generated.is_empty() {
        banned.push(EOS);
    }
    if let [.., a, b] = generated {
        banned.extend(
            generated
                .windows(3)
                .filter(|w| w[0] == *a && w[1] == *b)
                .map(|w| w[2]),
        );
    }
    let mut best = (EOS, f32::NEG_INFINITY);
    for (i, &score) in logits.iter().enumerate() {
        let i = i as i64;
        if score > best.1 && !banned.contains(&i) {
            best = (i, score);
        }
    }
    best.0
}

/// A trained summarization decoder and its vocabulary.
pub struct Summarizer {
    vs: nn::VarStore,
    decoder: Decoder,
    vocab: Vocab,
    config: SummarizerConfig,
}

impl Summarizer {
    /// A freshly initialised decoder sized for `model`'s outputs; initial
    /// weights depend on `config.seed` alone.
    fn new(model: &TraceCodeModel, vocab: Vocab, config: SummarizerConfig) -> Self {
        tch::manual_seed(config.seed as i64);
        let hidden = model.encoder.config.hidden_size;
        let pooled = model
            .heads_config
            .as_ref()
            .map_or(hidden, |h| h.output_dim(hidden));
        let vs = nn::VarStore::new(model.device());
        let decoder = Decoder::new(&vs.root(), &config, vocab.size() as i64, hidden, pooled);
        Summarizer {
            vs,
            decoder,
            vocab,
            config,
        }
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    pub fn config(&self) -> &SummarizerConfig {
        &self.config
    }

    fn logits(&self, memory: &Memory, input: &Tensor, train: bool) -> Tensor {
        let (states, mask) = self.decoder.memory(memory, train);
        let cross = self.decoder.cross(&states);
        self.decoder.logits(input, &cross, &mask, train)
    }

    /// Summary word ids of `text`, cut to leave room for `<eos>`.
    fn target(&self, text: &str) -> Vec<i64> {
        let mut ids = self.vocab.encode(text);
        ids.truncate(self.config.max_summary_tokens - 1);
        ids
    }

    /// Unsmoothed mean token NLL and token accuracy (teacher forcing, `<eos>`
    /// included) over all of `cache`'s functions.
    fn evaluate(
        &self,
        model: &TraceCodeModel,
        cache: &MemoryCache,
        targets: &[Vec<i64>],
    ) -> Result<(f64, f64)> {
        let _guard = tch::no_grad_guard();
        let (mut nll, mut correct, mut tokens) = (0.0, 0.0, 0.0);
        let all: Vec<usize> = (0..targets.len()).collect();
        for idx in all.chunks(self.config.batch_size) {
            let memory = cache.batch(model, idx)?;
            let seqs: Vec<&[i64]> = idx.iter().map(|&i| targets[i].as_slice()).collect();
            let (input, target) = teacher(&seqs, model.device());
            let logits = self.logits(&memory, &input, false);
            let v = logits.size()[2];
            let flat = target.view([-1]);
            nll += logits
                .view([-1, v])
                .cross_entropy_loss(&flat, None::<Tensor>, Reduction::Sum, PAD, 0.0)
                .double_value(&[]);
            let real = flat.ne(PAD);
            correct += (logits.argmax(-1, false).view([-1]).eq_tensor(&flat) * &real)
                .sum(Kind::Float)
                .double_value(&[]);
            tokens += real.sum(Kind::Float).double_value(&[]);
        }
        Ok((nll / tokens, correct / tokens))
    }

    /// Greedy summaries of `examples`, in input order, `batch_size` functions
    /// at a time. Decoding stops at `<eos>` or `max_summary_tokens`. Greedy,
    /// not beam search: the comparison between encoders needs one fixed,
    /// cheap decoding rule, not the best absolute scores.
    pub fn generate(
        &self,
        model: &TraceCodeModel,
        examples: &[SummaryExample],
        batch_size: usize,
    ) -> Result<Vec<String>> {
        let _guard = tch::no_grad_guard();
        let mut order: Vec<usize> = (0..examples.len()).collect();
        order.sort_by_key(|&i| examples[i].code.len());
        let mut out = vec![String::new(); examples.len()];
        for chunk in order.chunks(batch_size.max(1)) {
            let codes: Vec<String> = chunk.iter().map(|&i| examples[i].code.clone()).collect();
            let traces: Vec<Option<&TraceFeatures>> =
                chunk.iter().map(|&i| examples[i].trace.as_ref()).collect();
            let memory = encode_memory(model, &codes, &traces, self.config.max_code_tokens)?;
            for (&i, ids) in chunk.iter().zip(self.greedy(&memory)?) {
                out[i] = self.vocab.decode(&ids);
            }
        }
        Ok(out)
    }

    /// Generated word ids per row (each ends at its `<eos>` if it produced one).
    fn greedy(&self, memory: &Memory) -> Result<Vec<Vec<i64>>> {
        let (states, mask) = self.decoder.memory(memory, false);
        let cross = self.decoder.cross(&states);
        let b = memory.mask.size()[0] as usize;
        let v = self.vocab.size();
        let mut seqs: Vec<Vec<i64>> = vec![Vec::new(); b];
        let mut done = vec![false; b];
        for t in 0..self.config.max_summary_tokens {
            // Finished rows keep being fed (their tokens are ignored): batch
            // shapes stay rectangular.
            let input: Vec<i64> = seqs
                .iter()
                .flat_map(|s| {
                    std::iter::once(BOS)
                        .chain(s.iter().copied())
                        .chain(std::iter::repeat(PAD))
                        .take(t + 1)
                })
                .collect();
            let input = Tensor::from_slice(&input)
                .view([b as i64, t as i64 + 1])
                .to_device(memory.mask.device());
            let last = self
                .decoder
                .logits(&input, &cross, &mask, false)
                .select(1, t as i64)
                .to_kind(Kind::Float)
                .to_device(Device::Cpu);
            let last = Vec::<f32>::try_from(last.reshape([-1]))?;
            for (r, seq) in seqs.iter_mut().enumerate() {
                if done[r] {
                    continue;
                }
                let next = next_token(&last[r * v..(r + 1) * v], seq);
                seq.push(next);
                done[r] = next == EOS;
            }
            if done.iter().all(|&d| d) {
                break;
            }
        }
        Ok(seqs)
    }
}

/// One evaluation during training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryMetrics {
    pub step: i64,
    /// Mean label-smoothed training loss since the previous evaluation (none
    /// before the first step).
    pub train_loss: Option<f64>,
    /// Mean token negative log-likelihood on the validation set (unsmoothed,
    /// `<eos>` included): what model selection minimises.
    pub val_loss: f64,
    /// Fraction of validation tokens predicted exactly under teacher forcing.
    pub val_accuracy: f64,
}

/// Batches per length bucket: batches are cut from groups of this many
/// batches sorted by code length.
const BUCKET_BATCHES: usize = 16;

/// The batches of one training epoch, a function of `(seed, epoch)` alone: a
/// seeded permutation cut into groups of [`BUCKET_BATCHES`] batches, each
/// group sorted by `lengths` and cut into batches, and the batches shuffled.
/// Batch mates thus have similar code lengths: the memory, which dominates
/// the decoder's cost, carries little padding, while batches stay random.
fn epoch_batches(lengths: &[usize], batch: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(1);
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.shuffle(&mut rng);
    let mut batches = Vec::new();
    for group in order.chunks(batch * BUCKET_BATCHES) {
        let mut group = group.to_vec();
        group.sort_by_key(|&i| lengths[i]);
        batches.extend(group.chunks(batch).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

/// Copies of the variables, to restore the best weights at the end.
fn snapshot(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    vs.variables()
        .into_iter()
        .map(|(name, t)| (name, t.detach().copy()))
        .collect()
}

fn restore(vs: &nn::VarStore, saved: &[(String, Tensor)]) {
    let vars = vs.variables();
    tch::no_grad(|| {
        for (name, value) in saved {
            let mut var = vars[name].shallow_clone();
            var.copy_(value);
        }
    });
}

/// Trains a summarization decoder on `train` over the frozen `model`, and
/// returns the weights of the lowest validation loss with the metrics of
/// every evaluation (step 0 first). The vocabulary comes from `train`'s
/// summaries only. Every random choice (initial weights, batches, dropout)
/// is seeded by `(config.seed, step)`, so equal inputs give equal decoders.
pub fn train_summarizer(
    model: &TraceCodeModel,
    train: &[SummaryExample],
    val: &[SummaryExample],
    config: &SummarizerConfig,
    progress: bool,
) -> Result<(Summarizer, Vec<SummaryMetrics>)> {
    config.validate()?;
    if train.is_empty() || val.is_empty() {
        bail!(
            "summarizer training needs training and validation functions (got {} and {})",
            train.len(),
            val.len()
        );
    }
    let vocab = Vocab::build(
        train.iter().map(|e| e.summary.as_str()),
        config.vocab_size,
        config.min_count,
    );
    if vocab.size() == SPECIALS.len() {
        bail!(
            "no word occurs {} times in the {} training summaries",
            config.min_count,
            train.len()
        );
    }
    let summarizer = Summarizer::new(model, vocab, config.clone());
    let budget = config.cache_mib << 20;
    let train_cache = MemoryCache::new(
        model,
        train,
        config.max_code_tokens,
        budget,
        config.batch_size,
    )?;
    let val_cache = MemoryCache::new(
        model,
        val,
        config.max_code_tokens,
        budget.saturating_sub(train_cache.bytes),
        config.batch_size,
    )?;
    let train_targets: Vec<Vec<i64>> = train
        .iter()
        .map(|e| summarizer.target(&e.summary))
        .collect();
    let val_targets: Vec<Vec<i64>> = val.iter().map(|e| summarizer.target(&e.summary)).collect();

    let (val_loss, val_accuracy) = summarizer.evaluate(model, &val_cache, &val_targets)?;
    let mut metrics = vec![SummaryMetrics {
        step: 0,
        train_loss: None,
        val_loss,
        val_accuracy,
    }];
    let mut best = (val_loss, snapshot(&summarizer.vs));
    let mut opt = AdamW::new(&summarizer.vs, config.weight_decay);
    let bar = crate::run_log::step_bar(config.steps, 0, "summarizer steps", progress);
    let lengths: Vec<usize> = train.iter().map(|e| e.code.len()).collect();
    let mut epoch = (
        0,
        epoch_batches(&lengths, config.batch_size, config.seed, 0),
    );
    let per_epoch = epoch.1.len() as i64;
    let (mut running, mut count, mut stale) = (0.0, 0, 0);
    for step in 0..config.steps {
        tch::manual_seed(
            (config.seed as i64)
                .wrapping_mul(1_000_003)
                .wrapping_add(step),
        );
        let e = (step / per_epoch) as usize;
        if e != epoch.0 {
            epoch = (
                e,
                epoch_batches(&lengths, config.batch_size, config.seed, e),
            );
        }
        let idx = &epoch.1[(step % per_epoch) as usize];
        let memory = train_cache.batch(model, idx)?;
        let seqs: Vec<&[i64]> = idx.iter().map(|&i| train_targets[i].as_slice()).collect();
        let (input, target) = teacher(&seqs, model.device());
        opt.zero_grad();
        let logits = summarizer.logits(&memory, &input, true);
        let loss = logits
            .view([-1, summarizer.vocab.size() as i64])
            .cross_entropy_loss(
                &target.view([-1]),
                None::<Tensor>,
                Reduction::Mean,
                PAD,
                config.label_smoothing,
            );
        loss.backward();
        let value = loss.double_value(&[]);
        if !value.is_finite() {
            bail!("summarizer loss became {value} at step {step}; lower `lr`");
        }
        opt.clip_grad_norm(config.grad_clip);
        opt.step(learning_rate(step, config.warmup, config.steps, config.lr));
        running += value;
        count += 1;
        let done = step + 1;
        bar.set_position(done as u64);
        if done % config.eval_every == 0 || done == config.steps {
            let (val_loss, val_accuracy) = summarizer.evaluate(model, &val_cache, &val_targets)?;
            bar.set_message(format!("val loss {val_loss:.3}"));
            metrics.push(SummaryMetrics {
                step: done,
                train_loss: Some(running / count as f64),
                val_loss,
                val_accuracy,
            });
            (running, count) = (0.0, 0);
            if val_loss < best.0 {
                best = (val_loss, snapshot(&summarizer.vs));
                stale = 0;
            } else {
                stale += 1;
                if config.patience > 0 && stale >= config.patience {
                    break;
                }
            }
        }
    }
    bar.finish_and_clear();
    restore(&summarizer.vs, &best.1);
    Ok((summarizer, metrics))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EncoderConfig;
    use crate::model::HeadsConfig;
    use crate::tokenizer::{train_bpe, CodeTokenizer};

    #[test]
    fn words_split_like_codexglue_bleu() {
        assert_eq!(
            words("Write a function to find the n-th number, e.g. 3.5 or 1-indexed x_y!"),
            vec![
                "write", "a", "function", "to", "find", "the", "n-th", "number", ",", "e", ".",
                "g", ".", "3.5", "or", "1", "-", "indexed", "x", "_", "y", "!"
            ]
        );
        assert_eq!(words("don't  (a)"), vec!["don't", "(", "a", ")"]);
        assert!(words("  ").is_empty());
    }

    #[test]
    fn vocabulary_round_trips_maps_unknowns_and_respects_its_caps() {
        let texts = ["Find the sum.", "find the max", "the sum of x", "rare"];
        let vocab = Vocab::build(texts, 100, 2);
        // the ×3, find ×2, sum ×2 (ties by word); "." and the rest occur once.
        assert_eq!(vocab.size(), 4 + 3);
        assert_eq!(vocab.encode("the sum"), vec![4, 6]);
        assert_eq!(vocab.encode("Find THE"), vec![5, 4]);
        assert_eq!(vocab.encode("the rare sum"), vec![4, UNK, 6]);
        assert_eq!(vocab.decode(&[BOS, 5, 4, 6, EOS, 4]), "find the sum");
        assert_eq!(vocab.decode(&[5, UNK, PAD]), "find <unk>");
        let capped = Vocab::build(texts, 5, 1);
        assert_eq!(capped.size(), 5);
        assert_eq!(capped.encode("the find"), vec![4, UNK]);
        assert_eq!(Vocab::build(texts, 100, 1).size(), 4 + 8);
    }

    #[test]
    fn trigram_loops_and_specials_are_never_chosen() {
        let mut logits = vec![0.0f32; 8];
        logits[EOS as usize] = 9.0;
        logits[UNK as usize] = 8.0;
        logits[5] = 2.0;
        logits[6] = 1.0;
        assert_eq!(next_token(&logits, &[]), 5, "no <eos> or <unk> first");
        assert_eq!(next_token(&logits, &[7]), EOS);
        logits[EOS as usize] = 0.0;
        // After "5 6 5 6", a 5 would repeat the trigram "5 6 5".
        assert_eq!(next_token(&logits, &[5, 6, 5, 6]), 6);
        assert_eq!(next_token(&logits, &[5, 6]), 5);
    }

    fn decoder(dropout: f64) -> (nn::VarStore, Decoder) {
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let config = SummarizerConfig {
            layers: 2,
            heads: 2,
            d_model: 16,
            ffn: 32,
            dropout,
            max_summary_tokens: 8,
            ..Default::default()
        };
        let dec = Decoder::new(&vs.root(), &config, 12, 10, 6);
        (vs, dec)
    }

    fn memory(t: i64, real: &[i64]) -> Memory {
        let b = real.len() as i64;
        let lengths = Tensor::from_slice(real).unsqueeze(1);
        Memory {
            hidden: Tensor::randn([b, t, 10], (Kind::Float, Device::Cpu)),
            mask: Tensor::arange(t, (Kind::Int64, Device::Cpu))
                .unsqueeze(0)
                .lt_tensor(&lengths),
            pooled: Tensor::randn([b, 6], (Kind::Float, Device::Cpu)),
        }
    }

    #[test]
    fn a_future_token_does_not_change_earlier_logits() {
        let (_vs, dec) = decoder(0.0);
        let m = memory(5, &[5]);
        let (states, mask) = dec.memory(&m, false);
        let cross = dec.cross(&states);
        let a = Tensor::from_slice(&[BOS, 5, 6, 7]).unsqueeze(0);
        let b = Tensor::from_slice(&[BOS, 5, 6, 11]).unsqueeze(0);
        let la = dec.logits(&a, &cross, &mask, false);
        let lb = dec.logits(&b, &cross, &mask, false);
        assert!(la
            .narrow(1, 0, 3)
            .allclose(&lb.narrow(1, 0, 3), 1e-6, 1e-6, false));
        assert!(!la
            .narrow(1, 3, 1)
            .allclose(&lb.narrow(1, 3, 1), 1e-6, 1e-6, false));
    }

    #[test]
    fn padded_memory_slots_are_ignored() {
        let (_vs, dec) = decoder(0.0);
        let padded = memory(6, &[3]);
        let short = Memory {
            hidden: padded.hidden.narrow(1, 0, 3),
            mask: padded.mask.narrow(1, 0, 3),
            pooled: padded.pooled.shallow_clone(),
        };
        let tokens = Tensor::from_slice(&[BOS, 4, 9]).unsqueeze(0);
        let run = |m: &Memory| {
            let (states, mask) = dec.memory(m, false);
            dec.logits(&tokens, &dec.cross(&states), &mask, false)
        };
        assert!(run(&padded).allclose(&run(&short), 1e-5, 1e-5, false));
    }

    #[test]
    fn teacher_inputs_are_targets_shifted_right() {
        let (input, target) = teacher(&[&[7, 8], &[9]], Device::Cpu);
        assert_eq!(
            Vec::<i64>::try_from(input.view([-1])).unwrap(),
            vec![BOS, 7, 8, BOS, 9, PAD]
        );
        assert_eq!(
            Vec::<i64>::try_from(target.view([-1])).unwrap(),
            vec![7, 8, EOS, 9, EOS, PAD]
        );
    }

    #[test]
    fn memory_holds_truncated_code_states_and_the_fused_embedding_where_traced() {
        let texts = (0..50).map(|i| format!("def f{i}(x):\n    return x + {i}\n"));
        let tokenizer = CodeTokenizer::from_tokenizer(train_bpe(texts, 300, 2, false).unwrap(), 64);
        let config = EncoderConfig::preset("tiny", 300).unwrap();
        let heads = HeadsConfig {
            trace_dim: 16,
            embed_dim: 24,
            ..Default::default()
        };
        let model = TraceCodeModel::new(&config, heads, tokenizer, Device::Cpu);
        let feats = TraceFeatures {
            runs: vec![vec![[1, 5, 2], [2, 0, 1], [255, 9, 0]]],
            behaviour: vec![7, 11],
        };
        let code = "def f3(x):\n    y = x * 2\n    return y + 3\n".to_string();
        let codes = vec![code.clone(), code.clone()];
        let m = encode_memory(&model, &codes, &[Some(&feats), None], 8).unwrap();
        assert_eq!(m.hidden.size(), vec![2, 8, 64]);
        assert_eq!(m.mask.sum(Kind::Int64).int64_value(&[]), 16);
        assert_eq!(m.pooled.size(), vec![2, 24]);
        // Same code: the traced row differs, and it is the fused embedding.
        assert!(!m
            .pooled
            .get(0)
            .allclose(&m.pooled.get(1), 1e-4, 1e-4, false));
        let expected = tch::no_grad(|| {
            let ids = truncate(model.tokenizer.ids(&code).unwrap(), 8);
            let pooled = model.pooled(&[ids.as_slice()], false);
            let fused =
                model.fused_embedding(&pooled, &TraceBatch::new(&[&feats], Device::Cpu), false);
            (normalize(&fused), normalize(&model.code_embedding(&pooled)))
        });
        assert!(m
            .pooled
            .narrow(0, 0, 1)
            .allclose(&expected.0, 1e-5, 1e-5, false));
        assert!(m
            .pooled
            .narrow(0, 1, 1)
            .allclose(&expected.1, 1e-5, 1e-5, false));
        // The cut keeps the end token.
        assert_eq!(truncate(vec![0, 5, 6, 7, 2], 3), vec![0, 5, 2]);
        assert!(encode_memory(&model, &codes, &[None], 8).is_err());
    }

    #[test]
    fn epochs_cover_every_function_once_in_batches_of_similar_length() {
        // Lengths equal to the index: sorted groups make consecutive pairs.
        let lengths: Vec<usize> = (0..8).collect();
        let batches = epoch_batches(&lengths, 2, 5, 0);
        let mut sorted = batches.clone();
        sorted.sort();
        assert_eq!(sorted, vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6, 7]]);
        // Depends on seed and epoch only; one group per 16 batches.
        assert_eq!(
            epoch_batches(&lengths, 2, 5, 3),
            epoch_batches(&lengths, 2, 5, 3)
        );
        let long: Vec<usize> = (0..100).map(|i| i % 7).collect();
        let (a, b) = (epoch_batches(&long, 3, 5, 0), epoch_batches(&long, 3, 5, 1));
        assert_ne!(a, b);
        for batches in [a, b] {
            assert_eq!(
                batches.len(),
                34,
                "groups of 48, 48 and 4 functions: 16 + 16 + 2 batches"
            );
            let mut seen: Vec<usize> = batches.concat();
            seen.sort();
            assert_eq!(seen, (0..100).collect::<Vec<_>>());
        }
    }

    #[test]
    fn config_parses_with_defaults_and_rejects_unknown_keys() {
        let c: SummarizerConfig = toml::from_str("steps = 5\nd_model = 64\n").unwrap();
        assert_eq!((c.steps, c.d_model, c.layers), (5, 64, 2));
        assert!(toml::from_str::<SummarizerConfig>("stepz = 5").is_err());
        let bad = SummarizerConfig {
            heads: 3,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
