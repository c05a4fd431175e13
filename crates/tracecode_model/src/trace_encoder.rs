//! The trace encoder: step embeddings (position + value + structure) → a
//! BiLSTM (the default) or a small transformer → mean over steps → mean over
//! the function's runs; plus, when enabled, the mean embedding of the
//! function's behaviour tokens (see [`crate::features`]).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, RNN};
use tch::{Device, Kind, Tensor};

use crate::config::EncoderConfig;
use crate::encoder::{Layer, Packing};
use crate::features::{
    TraceFeatures, BEHAVIOUR_VOCAB, POSITION_VOCAB, STRUCTURE_VOCAB, VALUE_VOCAB,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TraceEncoderKind {
    #[default]
    Lstm,
    Transformer,
}

enum Body {
    Lstm(nn::LSTM),
    Transformer {
        layers: Vec<Layer>,
        config: EncoderConfig,
        positions: nn::Embedding,
    },
}

pub struct TraceEncoder {
    position: nn::Embedding,
    value: nn::Embedding,
    structure: nn::Embedding,
    /// Behaviour-token embeddings, straight into the output space.
    behaviour: Option<nn::Embedding>,
    body: Body,
    pub out_dim: i64,
}

/// A batch of functions' traces as tensors: steps [N, L, 3] for N = B × R run
/// slots, `step_mask` [N, L], `run_mask` [B, R], `behaviour` [B, K] (0-padded).
pub struct TraceBatch {
    pub steps: Tensor,
    pub step_mask: Tensor,
    pub run_mask: Tensor,
    pub behaviour: Tensor,
    pub functions: i64,
    pub runs: i64,
}

impl TraceBatch {
    pub fn new(features: &[&TraceFeatures], device: Device) -> Self {
        let b = features.len();
        let r = features
            .iter()
            .map(|f| f.runs.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let l = features
            .iter()
            .flat_map(|f| f.runs.iter().map(|s| s.len()))
            .max()
            .unwrap_or(0)
            .max(1);
        let mut steps = vec![0i64; b * r * l * 3];
        let mut step_mask = vec![0i64; b * r * l];
        let mut run_mask = vec![0i64; b * r];
        for (fi, f) in features.iter().enumerate() {
            for (ri, run) in f.runs.iter().enumerate() {
                run_mask[fi * r + ri] = 1;
                for (si, step) in run.iter().enumerate() {
                    let slot = (fi * r + ri) * l + si;
                    step_mask[slot] = 1;
                    steps[slot * 3..slot * 3 + 3].copy_from_slice(step);
                }
            }
        }
        let k = features
            .iter()
            .map(|f| f.behaviour.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut behaviour = vec![0i64; b * k];
        for (fi, f) in features.iter().enumerate() {
            behaviour[fi * k..fi * k + f.behaviour.len()].copy_from_slice(&f.behaviour);
        }
        let (b, r, l) = (b as i64, r as i64, l as i64);
        TraceBatch {
            behaviour: Tensor::from_slice(&behaviour)
                .view([b, k as i64])
                .to_device(device),
            steps: Tensor::from_slice(&steps)
                .view([b * r, l, 3])
                .to_device(device),
            step_mask: Tensor::from_slice(&step_mask)
                .view([b * r, l])
                .to_device(device),
            run_mask: Tensor::from_slice(&run_mask).view([b, r]).to_device(device),
            functions: b,
            runs: r,
        }
    }
}

fn masked_mean(x: &Tensor, mask: &Tensor, dim: i64) -> Tensor {
    let m = mask.to_kind(x.kind()).unsqueeze(-1);
    (x * &m).sum_dim_intlist(dim, false, x.kind())
        / m.sum_dim_intlist(dim, false, x.kind()).clamp_min(1.0)
}

impl TraceEncoder {
    /// `behaviour`: read behaviour tokens too (models saved before they
    /// existed have no such weights).
    pub fn new(
        vs: &nn::Path,
        kind: TraceEncoderKind,
        dim: i64,
        layers: i64,
        dropout: f64,
        behaviour: bool,
    ) -> Self {
        let emb = |p: nn::Path, n| {
            nn::embedding(
                p,
                n,
                dim,
                nn::EmbeddingConfig {
                    padding_idx: 0,
                    ..Default::default()
                },
            )
        };
        let (body, out_dim) = match kind {
            TraceEncoderKind::Lstm => {
                let config = nn::RNNConfig {
                    bidirectional: true,
                    batch_first: true,
                    num_layers: layers,
                    dropout,
                    ..Default::default()
                };
                (Body::Lstm(nn::lstm(vs / "lstm", dim, dim, config)), 2 * dim)
            }
            TraceEncoderKind::Transformer => {
                let mut config = EncoderConfig::preset("tiny", 1).expect("tiny preset");
                config.hidden_size = dim;
                config.intermediate_size = 4 * dim;
                config.num_attention_heads = 4;
                config.hidden_dropout_prob = dropout;
                config.attention_probs_dropout_prob = dropout;
                let layers = (0..layers)
                    .map(|i| Layer::new(vs / "transformer" / i, &config))
                    .collect();
                let positions = nn::embedding(vs / "step_positions", 1024, dim, Default::default());
                (
                    Body::Transformer {
                        layers,
                        config,
                        positions,
                    },
                    dim,
                )
            }
        };
        TraceEncoder {
            position: emb(vs / "position", POSITION_VOCAB),
            value: emb(vs / "value", VALUE_VOCAB),
            structure: emb(vs / "structure", STRUCTURE_VOCAB),
            // Random vectors: the mean of two functions' token vectors starts
            // out as similar as their token sets overlap, and outweighs the
            // run summary (whose steps never match across programs).
            behaviour: behaviour.then(|| {
                nn::embedding(
                    vs / "behaviour",
                    BEHAVIOUR_VOCAB,
                    out_dim,
                    nn::EmbeddingConfig {
                        padding_idx: 0,
                        ws_init: nn::Init::Randn {
                            mean: 0.0,
                            stdev: 1.0,
                        },
                        ..Default::default()
                    },
                )
            }),
            body,
            out_dim,
        }
    }

    /// One vector per function: [B, out_dim]. Functions without runs get zeros.
    pub fn forward(&self, batch: &TraceBatch, train: bool) -> Tensor {
        let s = &batch.steps;
        let x = self.position.forward(&s.select(2, 0))
            + self.value.forward(&s.select(2, 1))
            + self.structure.forward(&s.select(2, 2));
        let h = match &self.body {
            Body::Lstm(lstm) => lstm.seq(&x).0,
            Body::Transformer {
                layers,
                config,
                positions,
            } => {
                let l = x.size()[1].min(1024);
                let x = x.narrow(1, 0, l);
                let idx = Tensor::arange(l, (Kind::Int64, x.device()));
                let mut h = x + positions.forward(&idx).unsqueeze(0);
                // Fully padded run slots would give NaN attention: let them see themselves.
                let mask = batch.step_mask.narrow(1, 0, l).copy();
                let _ = mask.select(1, 0).fill_(1);
                let packing = Packing::new(&mask);
                h = packing.pack(&h);
                for layer in layers {
                    h = layer.forward(&h, &packing, config, train);
                }
                packing.unpack(&h)
            }
        };
        let l = h.size()[1];
        let per_run = masked_mean(&h, &batch.step_mask.narrow(1, 0, l), 1);
        let per_run = per_run.view([batch.functions, batch.runs, self.out_dim]);
        let runs = masked_mean(&per_run, &batch.run_mask, 1);
        match &self.behaviour {
            Some(emb) => {
                let tokens = &batch.behaviour;
                runs + masked_mean(&emb.forward(tokens), &tokens.ne(0), 1)
            }
            None => runs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(n_runs: usize, len: usize, seed: i64) -> TraceFeatures {
        TraceFeatures {
            runs: (0..n_runs)
                .map(|r| {
                    (0..len)
                        .map(|i| [1 + (i as i64 + seed) % 5, r as i64 + 1, 1])
                        .collect()
                })
                .collect(),
            behaviour: (0..n_runs as i64).map(|r| 1 + r + seed).collect(),
        }
    }

    #[test]
    fn both_bodies_pool_to_one_vector_per_function_and_ignore_padding() {
        for kind in [TraceEncoderKind::Lstm, TraceEncoderKind::Transformer] {
            let vs = nn::VarStore::new(Device::Cpu);
            let enc = TraceEncoder::new(&vs.root(), kind, 16, 1, 0.0, true);
            let a = features(2, 5, 0);
            let b = features(3, 9, 1);
            let out = enc.forward(&TraceBatch::new(&[&a, &b], Device::Cpu), false);
            assert_eq!(out.size(), vec![2, enc.out_dim]);
            // A function's vector does not depend on its batch mates (padding is masked) — for
            // the transformer exactly; the BiLSTM's backward pass reads padding, so only run
            // padding is checked there.
            let alone = enc.forward(&TraceBatch::new(&[&a], Device::Cpu), false);
            if kind == TraceEncoderKind::Transformer {
                assert!(alone.allclose(&out.narrow(0, 0, 1), 1e-5, 1e-5, false));
            }
            let empty = TraceFeatures::default();
            let z = enc.forward(&TraceBatch::new(&[&empty, &a], Device::Cpu), false);
            assert_eq!(
                z.narrow(0, 0, 1).abs().sum(Kind::Float).double_value(&[]),
                0.0
            );
        }
    }
}
