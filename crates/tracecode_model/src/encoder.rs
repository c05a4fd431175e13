//! A BERT-family transformer encoder (RoBERTa, CodeBERT, BERT, MiniLM) whose
//! parameters carry HuggingFace's names, so `model.safetensors` files move
//! between TraceCode and `transformers` unchanged.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::config::EncoderConfig;

/// HF's initializer: N(0, 0.02) weights, zero biases.
pub(crate) fn init_linear(vs: nn::Path, input: i64, output: i64) -> nn::Linear {
    let config = nn::LinearConfig {
        ws_init: nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        },
        bs_init: Some(nn::Init::Const(0.0)),
        bias: true,
    };
    nn::linear(vs, input, output, config)
}

fn init_embedding(vs: nn::Path, count: i64, dim: i64) -> nn::Embedding {
    let config = nn::EmbeddingConfig {
        ws_init: nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        },
        ..Default::default()
    };
    nn::embedding(vs, count, dim, config)
}

pub(crate) fn init_layer_norm(vs: nn::Path, dim: i64, eps: f64) -> nn::LayerNorm {
    nn::layer_norm(
        vs,
        vec![dim],
        nn::LayerNormConfig {
            eps,
            ..Default::default()
        },
    )
}

pub(crate) struct Layer {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    attention_output: nn::Linear,
    attention_norm: nn::LayerNorm,
    intermediate: nn::Linear,
    output: nn::Linear,
    output_norm: nn::LayerNorm,
}

impl Layer {
    pub(crate) fn new(vs: nn::Path, c: &EncoderConfig) -> Self {
        let attention = &vs / "attention";
        let this = &attention / "self";
        let out = &attention / "output";
        Layer {
            query: init_linear(&this / "query", c.hidden_size, c.hidden_size),
            key: init_linear(&this / "key", c.hidden_size, c.hidden_size),
            value: init_linear(&this / "value", c.hidden_size, c.hidden_size),
            attention_output: init_linear(&out / "dense", c.hidden_size, c.hidden_size),
            attention_norm: init_layer_norm(&out / "LayerNorm", c.hidden_size, c.layer_norm_eps),
            intermediate: init_linear(
                &vs / "intermediate" / "dense",
                c.hidden_size,
                c.intermediate_size,
            ),
            output: init_linear(&vs / "output" / "dense", c.intermediate_size, c.hidden_size),
            output_norm: init_layer_norm(
                &vs / "output" / "LayerNorm",
                c.hidden_size,
                c.layer_norm_eps,
            ),
        }
    }

    /// `x`: the real tokens' states [N, H], packed as `packing` says;
    /// returns the same shape.
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        packing: &Packing,
        c: &EncoderConfig,
        train: bool,
    ) -> Tensor {
        let (b, t) = (packing.batch, packing.length);
        let h = x.size()[1];
        let heads = c.num_attention_heads;
        let split = |y: Tensor| {
            packing
                .unpack(&y)
                .view([b, t, heads, h / heads])
                .transpose(1, 2)
        };
        let q = split(self.query.forward(x));
        let k = split(self.key.forward(x));
        let v = split(self.value.forward(x));
        let mask = packing.mask.as_ref();
        let p = if train {
            c.attention_probs_dropout_prob
        } else {
            0.0
        };
        let context =
            Tensor::scaled_dot_product_attention(&q, &k, &v, mask, p, false, None::<f64>, false);
        let context = packing.pack(&context.transpose(1, 2).contiguous().view([b, t, h]));
        let attended = self
            .attention_output
            .forward(&context)
            .dropout(c.hidden_dropout_prob, train);
        let x = self.attention_norm.forward(&(attended + x));
        let inner = activation(&self.intermediate.forward(&x), &c.hidden_act);
        let out = self
            .output
            .forward(&inner)
            .dropout(c.hidden_dropout_prob, train);
        self.output_norm.forward(&(out + x))
    }
}

/// Where the real tokens of a padded [B, T] batch are. The per-token parts
/// of a layer (projections, feed-forward, layer norms: most of the work) run
/// on the real tokens only, packed as [N, H]; they are laid out as [B, T, H]
/// just for attention. Sorted-by-length batches of MBPP code are still ~8%
/// padding, which this skips (transformers computes it).
pub(crate) struct Packing {
    batch: i64,
    length: i64,
    /// Flat indices (into B·T) of the real tokens; `None` without padding.
    real: Option<Tensor>,
    /// [B, 1, 1, T] boolean, true where attention is allowed; `None` without
    /// padding, which lets SDPA take its fused kernel (as transformers does).
    mask: Option<Tensor>,
}

impl Packing {
    /// `attention_mask`: [B, T], nonzero at real tokens.
    pub(crate) fn new(attention_mask: &Tensor) -> Self {
        let (batch, length) = attention_mask.size2().expect("attention mask is [B, T]");
        let padded = attention_mask.min().int64_value(&[]) == 0;
        let (real, mask) = if padded {
            let real = attention_mask.flatten(0, 1).nonzero().squeeze_dim(1);
            let mask = attention_mask.to_kind(Kind::Bool).unsqueeze(1).unsqueeze(1);
            (Some(real), Some(mask))
        } else {
            (None, None)
        };
        Packing {
            batch,
            length,
            real,
            mask,
        }
    }

    /// [B, T, H] → the real tokens' rows [N, H].
    pub(crate) fn pack(&self, x: &Tensor) -> Tensor {
        let flat = x.view([self.batch * self.length, -1]);
        match &self.real {
            Some(real) => flat.index_select(0, real),
            None => flat,
        }
    }

    /// [N, H] → [B, T, H], zeros at padding.
    pub(crate) fn unpack(&self, x: &Tensor) -> Tensor {
        let h = x.size()[1];
        match &self.real {
            Some(real) => Tensor::zeros([self.batch * self.length, h], (x.kind(), x.device()))
                .index_copy(0, real, x)
                .view([self.batch, self.length, h]),
            None => x.view([self.batch, self.length, h]),
        }
    }
}

pub(crate) fn activation(x: &Tensor, name: &str) -> Tensor {
    match name {
        "gelu_new" => x.gelu("tanh"),
        "relu" => x.relu(),
        _ => x.gelu("none"),
    }
}

/// The encoder. Its variables live at the root of the given path, named as
/// `transformers`' `RobertaModel`/`BertModel` name them (`embeddings.*`,
/// `encoder.layer.N.*`, `pooler.dense.*`).
pub struct Encoder {
    pub config: EncoderConfig,
    word_embeddings: nn::Embedding,
    position_embeddings: nn::Embedding,
    token_type_embeddings: nn::Embedding,
    embedding_norm: nn::LayerNorm,
    layers: Vec<Layer>,
}

impl Encoder {
    pub fn new(vs: &nn::Path, config: &EncoderConfig) -> Self {
        let c = config;
        let emb = vs / "embeddings";
        let layers = (0..c.num_hidden_layers)
            .map(|i| Layer::new(vs / "encoder" / "layer" / i, c))
            .collect();
        // Not used for sentence embeddings, but part of the HF layout: a
        // checkpoint without it loads in `transformers` with a warning.
        let _pooler = init_linear(vs / "pooler" / "dense", c.hidden_size, c.hidden_size);
        Encoder {
            config: c.clone(),
            word_embeddings: init_embedding(&emb / "word_embeddings", c.vocab_size, c.hidden_size),
            position_embeddings: init_embedding(
                &emb / "position_embeddings",
                c.max_position_embeddings,
                c.hidden_size,
            ),
            token_type_embeddings: init_embedding(
                &emb / "token_type_embeddings",
                c.type_vocab_size,
                c.hidden_size,
            ),
            embedding_norm: init_layer_norm(&emb / "LayerNorm", c.hidden_size, c.layer_norm_eps),
            layers,
        }
    }

    /// The token embedding matrix [V, H]: masked-LM heads tie their output
    /// projection to it, as BERT and RoBERTa do.
    pub fn word_embedding_weight(&self) -> &Tensor {
        &self.word_embeddings.ws
    }

    /// Last hidden states [B, T, H] of `input_ids` [B, T] under
    /// `attention_mask` [B, T] (1 = token, 0 = padding); zeros at padding.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, train: bool) -> Tensor {
        let c = &self.config;
        let (_, t) = input_ids.size2().expect("input_ids are [B, T]");
        let positions = if c.model_type == "roberta" {
            // RoBERTa numbers real tokens from pad_token_id + 1; padding keeps pad_token_id.
            let real = input_ids.ne(c.pad_token_id).to_kind(Kind::Int64);
            real.cumsum(1, Kind::Int64) * &real + c.pad_token_id
        } else {
            Tensor::arange(t, (Kind::Int64, input_ids.device()))
                .unsqueeze(0)
                .expand_as(input_ids)
        };
        let types = input_ids.zeros_like();
        let x = self.word_embeddings.forward(input_ids)
            + self.position_embeddings.forward(&positions)
            + self.token_type_embeddings.forward(&types);
        let x = self
            .embedding_norm
            .forward(&x)
            .dropout(c.hidden_dropout_prob, train);
        let packing = Packing::new(attention_mask);
        let mut x = packing.pack(&x);
        for layer in &self.layers {
            x = layer.forward(&x, &packing, c, train);
        }
        packing.unpack(&x)
    }
}

/// Mean of the hidden states over real tokens: [B, T, H] → [B, H].
pub fn mean_pool(hidden: &Tensor, attention_mask: &Tensor) -> Tensor {
    let m = attention_mask.to_kind(hidden.kind()).unsqueeze(-1);
    (hidden * &m).sum_dim_intlist(1, false, hidden.kind())
        / m.sum_dim_intlist(1, false, hidden.kind()).clamp_min(1e-9)
}

/// How token states become one vector: the modes of sentence-transformers'
/// `Pooling` module that a pretrained encoder may have been trained with, so
/// its embedding is reproduced rather than replaced by mean pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean over real tokens (TraceCode's own models, MiniLM).
    #[default]
    Mean,
    /// The first token's state (`[CLS]` / `<s>`).
    Cls,
    /// Element-wise maximum over real tokens.
    Max,
}

impl Pooling {
    /// Pools hidden states [B, T, H] under `attention_mask` [B, T] into [B, H].
    pub fn pool(self, hidden: &Tensor, attention_mask: &Tensor) -> Tensor {
        match self {
            Pooling::Mean => mean_pool(hidden, attention_mask),
            Pooling::Cls => hidden.select(1, 0),
            Pooling::Max => {
                // As sentence-transformers: padding set to -1e9 before the max.
                let pad = attention_mask.eq(0).unsqueeze(-1);
                hidden.masked_fill(&pad, -1e9).amax([1], false)
            }
        }
    }
}

/// Prefixes under which task models (`RobertaForMaskedLM`, sentence
/// transformers, ...) store the bare encoder.
const ENCODER_PREFIXES: &[&str] = &["roberta.", "bert.", "model.", "encoder_model."];

/// HF checkpoint key → this crate's name: strip a task prefix and map the old
/// TF-style `gamma`/`beta` LayerNorm names.
pub(crate) fn normalize_key(key: &str) -> String {
    let mut k = key;
    for p in ENCODER_PREFIXES {
        if let Some(rest) = k.strip_prefix(p) {
            k = rest;
            break;
        }
    }
    k.replace("LayerNorm.gamma", "LayerNorm.weight")
        .replace("LayerNorm.beta", "LayerNorm.bias")
}

/// Copies the encoder weights of `dir/model.safetensors` into the variables of
/// `vs` whose names start with `scope` (empty: the root), except those under
/// `exclude` (the TraceCode heads). Every encoder variable must be present
/// except the pooler; keys of other heads in the file are ignored.
pub fn load_hf_weights(
    vs: &nn::VarStore,
    scope: &str,
    dir: &Path,
    exclude: Option<&str>,
) -> Result<()> {
    let path = dir.join("model.safetensors");
    if !path.exists() {
        bail!(
            "{} not found: TraceCode reads safetensors checkpoints (convert pytorch_model.bin with `transformers`: model.save_pretrained(dir, safe_serialization=True))",
            path.display()
        );
    }
    load_scope(vs, scope, &path, exclude, normalize_key, |local| {
        local.starts_with("pooler.")
    })
}

/// Copies the tensors of the safetensors file `path`, keyed by `rename(key)`,
/// into the variables under `scope` (names relative to it) except those under
/// `exclude`. A variable with no tensor is an error unless `optional` says so;
/// extra tensors are ignored.
pub fn load_scope(
    vs: &nn::VarStore,
    scope: &str,
    path: &Path,
    exclude: Option<&str>,
    rename: impl Fn(&str) -> String,
    optional: impl Fn(&str) -> bool,
) -> Result<()> {
    let tensors =
        Tensor::read_safetensors(path).with_context(|| format!("reading {}", path.display()))?;
    let by_name: HashMap<String, Tensor> =
        tensors.into_iter().map(|(k, t)| (rename(&k), t)).collect();
    let mut missing = Vec::new();
    tch::no_grad(|| -> Result<()> {
        for (name, mut var) in vs.variables() {
            let Some(local) = strip_scope(&name, scope) else {
                continue;
            };
            if exclude.is_some_and(|p| local.starts_with(p)) {
                continue;
            }
            match by_name.get(local) {
                Some(src) => {
                    if src.size() != var.size() {
                        bail!(
                            "{}: shape {:?} in {} but {:?} in the model",
                            local,
                            src.size(),
                            path.display(),
                            var.size()
                        );
                    }
                    var.copy_(&src.to_kind(var.kind()).to_device(var.device()));
                }
                None if optional(local) => {}
                None => missing.push(local.to_string()),
            }
        }
        Ok(())
    })?;
    if !missing.is_empty() {
        missing.sort();
        bail!(
            "{} lacks {} weights, e.g. {}",
            path.display(),
            missing.len(),
            missing[..missing.len().min(3)].join(", ")
        );
    }
    Ok(())
}

fn strip_scope<'a>(name: &'a str, scope: &str) -> Option<&'a str> {
    if scope.is_empty() {
        Some(name)
    } else {
        name.strip_prefix(scope)?.strip_prefix('.')
    }
}

/// Writes the variables under `scope` (names relative to it) to a safetensors file.
pub fn save_scope(
    vs: &nn::VarStore,
    scope: &str,
    path: &Path,
    exclude_prefix: Option<&str>,
) -> Result<()> {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter_map(|(n, t)| {
            let local = strip_scope(&n, scope)?.to_string();
            if exclude_prefix.is_some_and(|p| local.starts_with(p)) {
                return None;
            }
            Some((
                local,
                t.to_device(tch::Device::Cpu)
                    .to_kind(Kind::Float)
                    .contiguous(),
            ))
        })
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    crate::io::write_safetensors_atomic(&named, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_prefixes_and_old_layer_norm_names_map_to_encoder_names() {
        assert_eq!(
            normalize_key("roberta.embeddings.LayerNorm.gamma"),
            "embeddings.LayerNorm.weight"
        );
        assert_eq!(
            normalize_key("bert.encoder.layer.0.output.LayerNorm.beta"),
            "encoder.layer.0.output.LayerNorm.bias"
        );
        assert_eq!(
            normalize_key("encoder.layer.1.attention.self.query.weight"),
            "encoder.layer.1.attention.self.query.weight"
        );
    }

    #[test]
    fn pooling_modes_match_hand_computed_values() {
        // Two sequences of three 2-d states; the second has one padding position.
        let hidden = Tensor::from_slice(&[
            1.0f32, 2.0, 3.0, -4.0, 5.0, 0.0, //
            -1.0, 7.0, 2.0, 1.0, 100.0, 100.0,
        ])
        .view([2, 3, 2]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 1, 0]).view([2, 3]);
        let rows = |p: Pooling| Vec::<f32>::try_from(p.pool(&hidden, &mask).reshape([-1])).unwrap();
        assert_eq!(rows(Pooling::Mean), vec![3.0, -2.0 / 3.0, 0.5, 4.0]);
        assert_eq!(rows(Pooling::Cls), vec![1.0, 2.0, -1.0, 7.0]);
        assert_eq!(rows(Pooling::Max), vec![5.0, 2.0, 2.0, 7.0]);
    }

    #[test]
    fn roberta_positions_skip_padding_and_padding_is_ignored() {
        let config = EncoderConfig::preset("tiny", 50).unwrap();
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let enc = Encoder::new(&vs.root(), &config);
        let ids = Tensor::from_slice(&[0i64, 7, 8, 2, 1, 1, 0, 7, 8, 2, 9, 9]).view([2, 6]);
        let mask = ids.ne(1).to_kind(Kind::Int64);
        let out = enc.forward(&ids, &mask, false);
        assert_eq!(out.size(), vec![2, 6, 64]);
        // The first sequence's real tokens do not depend on what the padding is.
        let ids2 = Tensor::from_slice(&[0i64, 7, 8, 2, 1, 1]).view([1, 6]);
        let short = Tensor::from_slice(&[0i64, 7, 8, 2]).view([1, 4]);
        let a = enc
            .forward(&ids2, &ids2.ne(1).to_kind(Kind::Int64), false)
            .narrow(1, 0, 4);
        let b = enc.forward(&short, &short.ones_like(), false);
        assert!(a.allclose(&b, 1e-5, 1e-5, false));
    }
}
