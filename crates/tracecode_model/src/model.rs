//! The TraceCode model: code encoder, optional trace encoder, their fusion,
//! and a code-only head distilled from the fused embedding.
//!
//! A model directory holds `config.json` + `model.safetensors` (the encoder,
//! HuggingFace layout), `tokenizer.json`, and TraceCode's own
//! `tracecode.json` + `heads.safetensors`. A directory without
//! `tracecode.json` is a plain HF encoder used as-is, pooled as its
//! sentence-transformers configuration says (mean pooling without one).

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::{Device, Tensor};

use crate::config::EncoderConfig;
use crate::encoder::{load_hf_weights, load_scope, save_scope, Encoder, Pooling};
use crate::features::TraceEncoding;
use crate::pretrained::SentenceConfig;
use crate::tokenizer::CodeTokenizer;
use crate::trace_encoder::{TraceBatch, TraceEncoder, TraceEncoderKind};

/// How code and trace vectors are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Fusion {
    /// MLP over the concatenation.
    Concat,
    /// code + sigmoid(gate) ⊙ trace, after projecting both.
    Gated,
    /// Late fusion: normalize(code embedding) + w · normalize(projected
    /// trace), w learned (starts at 1). The cosine of two fused vectors then
    /// mixes their code and trace similarities, so two programs that behave
    /// alike come close however differently they are written, and a function
    /// without a trace keeps its code-only direction.
    #[default]
    Sum,
}

/// Everything about the model beyond the encoder's `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadsConfig {
    /// false: the static-only baseline (no trace branch).
    pub use_traces: bool,
    pub trace_encoder: TraceEncoderKind,
    pub trace_encoding: TraceEncoding,
    /// Step embedding size (the BiLSTM's hidden size per direction).
    pub trace_dim: i64,
    pub trace_layers: i64,
    pub fusion: Fusion,
    /// Size of the output embedding.
    pub embed_dim: i64,
    /// Code tokens kept per function (further cut to the encoder's positions).
    pub max_code_tokens: usize,
    /// Runs per function the trace encoder reads.
    pub max_runs: usize,
    /// Steps per run (the outcome step included).
    pub max_steps: usize,
    /// The trace encoder also reads behaviour tokens (hashed input and
    /// outcome of each canonical run), which compare across programs.
    /// Absent from a saved configuration: false (a model from before them).
    #[serde(default)]
    pub behaviour_tokens: bool,
    /// Heads that start as the identity on the pooled encoder state:
    /// code-only = pooled + MLP(pooled) and fused = pooled + fusion(pooled,
    /// trace), with the last layers zero-initialised, so a pretrained
    /// encoder's embedding is where continued training starts (not a random
    /// projection of it). The embedding then has the encoder's hidden size
    /// (`embed_dim` is not used).
    pub residual: bool,
    /// How the encoder's token states are pooled. Unset: as the encoder
    /// directory's sentence-transformers configuration says (mean without
    /// one); a saved model records the pooling it was trained with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooling: Option<Pooling>,
}

impl Default for HeadsConfig {
    fn default() -> Self {
        HeadsConfig {
            use_traces: true,
            trace_encoder: TraceEncoderKind::Lstm,
            trace_encoding: TraceEncoding::Cfg,
            trace_dim: 128,
            trace_layers: 1,
            fusion: Fusion::Sum,
            embed_dim: 256,
            max_code_tokens: 256,
            max_runs: 8,
            max_steps: 128,
            behaviour_tokens: true,
            residual: false,
            pooling: None,
        }
    }
}

impl HeadsConfig {
    /// The size of the embeddings the heads output on an encoder of `hidden` size.
    pub fn output_dim(&self, hidden: i64) -> i64 {
        if self.residual {
            hidden
        } else {
            self.embed_dim
        }
    }
}

/// Linear layers initialised as `tch` does, or to zero (the output layers of
/// residual heads, which then start as the identity).
fn linear(vs: nn::Path, input: i64, output: i64, zero: bool) -> nn::Linear {
    let config = if zero {
        nn::LinearConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        }
    } else {
        Default::default()
    };
    nn::linear(vs, input, output, config)
}

fn mlp(vs: nn::Path, input: i64, hidden: i64, output: i64, zero_output: bool) -> nn::Sequential {
    nn::seq()
        .add(linear(&vs / "0", input, hidden, false))
        .add_fn(|x| x.gelu("none"))
        .add(linear(&vs / "2", hidden, output, zero_output))
}

struct Heads {
    code: nn::Sequential,
    trace: Option<(TraceEncoder, FusionLayer)>,
    /// Outputs are added to the pooled state (see [`HeadsConfig::residual`]).
    residual: bool,
}

enum FusionLayer {
    Concat(nn::Sequential),
    Gated {
        code: nn::Linear,
        trace: nn::Linear,
        gate: nn::Linear,
    },
    Sum {
        trace: nn::Linear,
        weight: Tensor,
    },
}

impl FusionLayer {
    fn forward(&self, code: &Tensor, trace: &Tensor) -> Tensor {
        match self {
            FusionLayer::Concat(m) => m.forward(&Tensor::cat(&[code, trace], 1)),
            FusionLayer::Gated {
                code: c,
                trace: t,
                gate,
            } => {
                let g = gate.forward(&Tensor::cat(&[code, trace], 1)).sigmoid();
                c.forward(code) + g * t.forward(trace)
            }
            FusionLayer::Sum { trace: t, weight } => {
                normalize(code) + weight * normalize(&t.forward(trace))
            }
        }
    }
}

/// Where TraceCode's own variables live in the var store; the encoder's are at
/// the root under HF names.
pub const HEADS_SCOPE: &str = "tracecode_heads";

pub struct TraceCodeModel {
    pub vs: nn::VarStore,
    pub encoder: Encoder,
    /// With `pooling` set to the one in use.
    pub heads_config: Option<HeadsConfig>,
    heads: Option<Heads>,
    pub tokenizer: CodeTokenizer,
    pub pooling: Pooling,
}

impl TraceCodeModel {
    /// A freshly initialised model (heads always present).
    pub fn new(
        encoder: &EncoderConfig,
        mut heads: HeadsConfig,
        tokenizer: CodeTokenizer,
        device: Device,
    ) -> Self {
        let vs = nn::VarStore::new(device);
        let enc = Encoder::new(&vs.root(), encoder);
        let h = Self::build_heads(&vs, encoder.hidden_size, &heads);
        let pooling = *heads.pooling.get_or_insert_default();
        TraceCodeModel {
            vs,
            encoder: enc,
            heads_config: Some(heads),
            heads: Some(h),
            tokenizer,
            pooling,
        }
    }

    fn build_heads(vs: &nn::VarStore, hidden: i64, c: &HeadsConfig) -> Heads {
        let root = vs.root() / HEADS_SCOPE;
        let (out, zero) = (c.output_dim(hidden), c.residual);
        let code = mlp(&root / "code_head", hidden, hidden, out, zero);
        let trace = c.use_traces.then(|| {
            let enc = TraceEncoder::new(
                &(&root / "trace"),
                c.trace_encoder,
                c.trace_dim,
                c.trace_layers,
                0.1,
                c.behaviour_tokens,
            );
            let both = hidden + enc.out_dim;
            let fusion = match c.fusion {
                Fusion::Concat => {
                    FusionLayer::Concat(mlp(&root / "fusion", both, hidden, out, zero))
                }
                Fusion::Gated => FusionLayer::Gated {
                    code: linear(&root / "fusion" / "code", hidden, out, zero),
                    trace: linear(&root / "fusion" / "trace", enc.out_dim, out, zero),
                    gate: linear(&root / "fusion" / "gate", both, out, false),
                },
                // Never zero, and no bias: the trace's share is there from the
                // first step, and a function without a trace adds nothing.
                Fusion::Sum => FusionLayer::Sum {
                    trace: nn::linear(
                        &root / "fusion" / "trace",
                        enc.out_dim,
                        out,
                        nn::LinearConfig {
                            bias: false,
                            ..Default::default()
                        },
                    ),
                    weight: (&root / "fusion").var("weight", &[1], nn::Init::Const(1.0)),
                },
            };
            (enc, fusion)
        });
        Heads {
            code,
            trace,
            residual: c.residual,
        }
    }

    /// Loads a model directory. With `heads` given, a plain HF encoder
    /// directory gets freshly initialised heads (continued training from a
    /// pretrained encoder); otherwise such a directory is used as-is. The
    /// tokenizer is the directory's (`tokenizer.json` or BERT's `vocab.txt`).
    pub fn load(dir: &Path, device: Device, heads: Option<HeadsConfig>) -> Result<Self> {
        let encoder_config = EncoderConfig::load(dir)?;
        let sentence = SentenceConfig::load(dir)?;
        let own = dir.join("tracecode.json");
        let saved: Option<HeadsConfig> = if own.exists() {
            let text = std::fs::read_to_string(&own)
                .with_context(|| format!("reading {}", own.display()))?;
            Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("parsing {}", own.display()))?,
            )
        } else {
            None
        };
        let mut heads_config = saved.or(heads);
        let pooling = match &mut heads_config {
            Some(h) => *h.pooling.get_or_insert(sentence.pooling),
            None => sentence.pooling,
        };
        let max_tokens = heads_config
            .as_ref()
            .map_or(sentence.max_seq_length.unwrap_or(512), |h| {
                h.max_code_tokens
            })
            .min(encoder_config.max_tokens() as usize);
        let tokenizer = CodeTokenizer::load_dir(dir, max_tokens)?;
        let vs = nn::VarStore::new(device);
        let encoder = Encoder::new(&vs.root(), &encoder_config);
        let heads = heads_config
            .as_ref()
            .map(|c| Self::build_heads(&vs, encoder_config.hidden_size, c));
        let model = TraceCodeModel {
            vs,
            encoder,
            heads_config,
            heads,
            tokenizer,
            pooling,
        };
        model.load_weights(dir)?;
        Ok(model)
    }

    /// Copies the weights of a model directory written by [`Self::save`] (or
    /// of a plain HF encoder, when this model has no heads to fill) into this
    /// model, in place: its variables (and an optimizer holding them) stay valid.
    pub fn load_weights(&self, dir: &Path) -> Result<()> {
        load_hf_weights(&self.vs, "", dir, Some(HEADS_SCOPE))?;
        if dir.join("tracecode.json").exists() {
            let path = dir.join("heads.safetensors");
            load_scope(&self.vs, HEADS_SCOPE, &path, None, str::to_string, |_| {
                false
            })?;
        }
        Ok(())
    }

    /// Writes the model directory (atomically per file).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let config = serde_json::to_string_pretty(&self.encoder.config.to_hf_json())?;
        crate::io::write_text_atomic(&dir.join("config.json"), &config)?;
        save_scope(
            &self.vs,
            "",
            &dir.join("model.safetensors"),
            Some(HEADS_SCOPE),
        )?;
        self.tokenizer.save(&dir.join("tokenizer.json"))?;
        if let Some(h) = &self.heads_config {
            crate::io::write_text_atomic(
                &dir.join("tracecode.json"),
                &serde_json::to_string_pretty(h)?,
            )?;
            save_scope(&self.vs, HEADS_SCOPE, &dir.join("heads.safetensors"), None)?;
        }
        Ok(())
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn uses_traces(&self) -> bool {
        self.heads.as_ref().is_some_and(|h| h.trace.is_some())
    }

    /// Pooled encoder states of token sequences: [B, H].
    pub fn pooled(&self, seqs: &[&[i64]], train: bool) -> Tensor {
        let (ids, mask) = self.tokenizer.batch(seqs, self.device());
        let hidden = self.encoder.forward(&ids, &mask, train);
        self.pooling.pool(&hidden, &mask)
    }

    /// The code-only embedding of pooled states (unnormalised): the code head,
    /// or the pooled states themselves for an as-is encoder.
    pub fn code_embedding(&self, pooled: &Tensor) -> Tensor {
        match &self.heads {
            Some(h) if h.residual => pooled + h.code.forward(pooled),
            Some(h) => h.code.forward(pooled),
            None => pooled.shallow_clone(),
        }
    }

    /// The fused embedding (unnormalised); the code-only one when the model
    /// has no trace branch.
    pub fn fused_embedding(&self, pooled: &Tensor, traces: &TraceBatch, train: bool) -> Tensor {
        let Some(heads) = &self.heads else {
            return self.code_embedding(pooled);
        };
        match &heads.trace {
            Some((enc, fusion)) => {
                let trace = enc.forward(traces, train);
                match fusion {
                    // Late fusion acts on the code embedding itself.
                    FusionLayer::Sum { .. } => fusion.forward(&self.code_embedding(pooled), &trace),
                    _ => {
                        let fused = fusion.forward(pooled, &trace);
                        if heads.residual {
                            pooled + fused
                        } else {
                            fused
                        }
                    }
                }
            }
            None => self.code_embedding(pooled),
        }
    }
}

/// L2-normalised rows.
pub fn normalize(x: &Tensor) -> Tensor {
    x / x.norm_scalaropt_dim(2.0, [-1], true).clamp_min(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::TraceFeatures;
    use crate::tokenizer::train_bpe;

    fn tokenizer() -> CodeTokenizer {
        let texts = (0..50).map(|i| format!("def f{i}(x):\n    return x + {i}\n"));
        CodeTokenizer::from_tokenizer(train_bpe(texts, 300, 2, false).unwrap(), 32)
    }

    #[test]
    fn every_head_variant_embeds_and_survives_save_and_load() {
        let config = EncoderConfig::preset("tiny", 300).unwrap();
        let feats = TraceFeatures {
            runs: vec![vec![[1, 5, 2], [2, 0, 1], [255, 9, 0]]],
            behaviour: vec![7, 11],
        };
        for (fusion, kind, use_traces) in [
            (Fusion::Concat, TraceEncoderKind::Lstm, true),
            (Fusion::Gated, TraceEncoderKind::Transformer, true),
            (Fusion::Sum, TraceEncoderKind::Lstm, true),
            (Fusion::Concat, TraceEncoderKind::Lstm, false),
        ] {
            let heads = HeadsConfig {
                fusion,
                trace_encoder: kind,
                use_traces,
                trace_dim: 16,
                embed_dim: 24,
                ..Default::default()
            };
            let model = TraceCodeModel::new(&config, heads, tokenizer(), Device::Cpu);
            let ids = model.tokenizer.ids("def f3(x):\n    return x + 3").unwrap();
            let embed = |m: &TraceCodeModel| {
                tch::no_grad(|| {
                    let pooled = m.pooled(&[ids.as_slice()], false);
                    m.fused_embedding(&pooled, &TraceBatch::new(&[&feats], Device::Cpu), false)
                })
            };
            let before = embed(&model);
            assert_eq!(before.size(), vec![1, 24]);
            assert_eq!(model.uses_traces(), use_traces);
            let dir = tempfile::tempdir().unwrap();
            model.save(dir.path()).unwrap();
            let loaded = TraceCodeModel::load(dir.path(), Device::Cpu, None).unwrap();
            assert!(
                embed(&loaded).allclose(&before, 1e-6, 1e-6, false),
                "{fusion:?} {kind:?}"
            );
        }
    }

    #[test]
    fn residual_heads_start_as_the_pretrained_embedding_and_late_fusion_adds_the_trace() {
        let config = EncoderConfig::preset("tiny", 300).unwrap();
        let feats = TraceFeatures {
            runs: vec![vec![[1, 5, 2], [255, 9, 0]]],
            behaviour: vec![7],
        };
        for fusion in [Fusion::Concat, Fusion::Gated, Fusion::Sum] {
            let heads = HeadsConfig {
                fusion,
                residual: true,
                trace_dim: 16,
                ..Default::default()
            };
            let model = TraceCodeModel::new(&config, heads, tokenizer(), Device::Cpu);
            let ids = model.tokenizer.ids("def f3(x):\n    return x + 3").unwrap();
            tch::no_grad(|| {
                let pooled = model.pooled(&[ids.as_slice()], false);
                assert_eq!(pooled.size(), vec![1, config.hidden_size]);
                let code = model.code_embedding(&pooled);
                let fused =
                    model.fused_embedding(&pooled, &TraceBatch::new(&[&feats], Device::Cpu), false);
                assert!(code.allclose(&pooled, 0.0, 0.0, false), "{fusion:?}");
                if fusion == Fusion::Sum {
                    // Late fusion: the code direction plus the trace's unit
                    // vector at weight 1; without a trace, the code direction.
                    let trace_part = &fused - normalize(&pooled);
                    let norm = trace_part.norm().double_value(&[]);
                    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
                    let empty = TraceFeatures::default();
                    let alone = model.fused_embedding(
                        &pooled,
                        &TraceBatch::new(&[&empty], Device::Cpu),
                        false,
                    );
                    assert!(alone.allclose(&normalize(&pooled), 1e-6, 1e-6, false));
                } else {
                    assert!(fused.allclose(&pooled, 0.0, 0.0, false), "{fusion:?}");
                }
            });
        }
    }

    #[test]
    fn a_plain_encoder_directory_is_used_as_is() {
        let config = EncoderConfig::preset("tiny", 300).unwrap();
        let model = TraceCodeModel::new(&config, HeadsConfig::default(), tokenizer(), Device::Cpu);
        let dir = tempfile::tempdir().unwrap();
        model.save(dir.path()).unwrap();
        std::fs::remove_file(dir.path().join("tracecode.json")).unwrap();
        let plain = TraceCodeModel::load(dir.path(), Device::Cpu, None).unwrap();
        assert!(plain.heads_config.is_none() && !plain.uses_traces());
        let ids = plain.tokenizer.ids("def f(x): return x").unwrap();
        let pooled = tch::no_grad(|| plain.pooled(&[ids.as_slice()], false));
        assert!(plain
            .code_embedding(&pooled)
            .allclose(&pooled, 0.0, 0.0, false));
    }

    #[test]
    fn sentence_transformers_pooling_is_followed_and_kept_by_continued_training() {
        let config = EncoderConfig::preset("tiny", 300).unwrap();
        let model = TraceCodeModel::new(&config, HeadsConfig::default(), tokenizer(), Device::Cpu);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        model.save(d).unwrap();
        std::fs::remove_file(d.join("tracecode.json")).unwrap();
        std::fs::write(
            d.join("modules.json"),
            r#"[{"path": "", "type": "sentence_transformers.models.Transformer"},
                {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]"#,
        )
        .unwrap();
        std::fs::create_dir(d.join("1_Pooling")).unwrap();
        std::fs::write(
            d.join("1_Pooling/config.json"),
            r#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
        )
        .unwrap();
        std::fs::write(
            d.join("sentence_bert_config.json"),
            r#"{"max_seq_length": 6}"#,
        )
        .unwrap();

        let plain = TraceCodeModel::load(d, Device::Cpu, None).unwrap();
        assert_eq!(plain.pooling, Pooling::Cls);
        let text = "def f(x):\n    return x + 1 + 2 + 3";
        let ids = plain.tokenizer.ids(text).unwrap();
        assert_eq!(ids.len(), 6, "max_seq_length caps the tokens");
        let (t_ids, mask) = plain.tokenizer.batch(&[ids.as_slice()], Device::Cpu);
        let (pooled, first) = tch::no_grad(|| {
            let hidden = plain.encoder.forward(&t_ids, &mask, false);
            (plain.pooled(&[ids.as_slice()], false), hidden.select(1, 0))
        });
        assert!(pooled.allclose(&first, 0.0, 0.0, false));

        // Heads over it record the pooling, so the trained model keeps it
        // without the sentence-transformers files.
        let heads = HeadsConfig {
            use_traces: false,
            ..Default::default()
        };
        let with_heads = TraceCodeModel::load(d, Device::Cpu, Some(heads)).unwrap();
        assert_eq!(
            with_heads.heads_config.as_ref().unwrap().pooling,
            Some(Pooling::Cls)
        );
        let out = tempfile::tempdir().unwrap();
        with_heads.save(out.path()).unwrap();
        let back = TraceCodeModel::load(out.path(), Device::Cpu, None).unwrap();
        assert_eq!(back.pooling, Pooling::Cls);
        assert_eq!(back.tokenizer.max_tokens, 256);
    }
}
