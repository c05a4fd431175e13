//! The code encoder's configuration, in HuggingFace's `config.json` spelling so
//! a checkpoint directory written here loads in `transformers` and the other
//! way round.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// A BERT-family encoder: `roberta` (learned positions offset past the padding
/// id, as RoBERTa and CodeBERT) or `bert` (positions from 0, token types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    pub model_type: String,
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    pub max_position_embeddings: i64,
    #[serde(default = "one")]
    pub type_vocab_size: i64,
    #[serde(default = "layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "one")]
    pub pad_token_id: i64,
    #[serde(default)]
    pub bos_token_id: i64,
    #[serde(default = "two")]
    pub eos_token_id: i64,
    #[serde(default = "dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "dropout")]
    pub attention_probs_dropout_prob: f64,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default)]
    pub architectures: Vec<String>,
}

fn one() -> i64 {
    1
}
fn two() -> i64 {
    2
}
fn layer_norm_eps() -> f64 {
    1e-5
}
fn dropout() -> f64 {
    0.1
}
fn gelu() -> String {
    "gelu".into()
}

/// Named encoder sizes. `tiny` is for tests, `small` trains on a laptop CPU,
/// `base` is CodeBERT's size.
pub const PRESETS: &[&str] = &["tiny", "small", "base"];

impl EncoderConfig {
    /// A RoBERTa configuration of a named size over `vocab_size` tokens.
    pub fn preset(name: &str, vocab_size: i64) -> Result<Self> {
        let (layers, hidden, heads, positions) = match name {
            "tiny" => (2, 64, 4, 258),
            "small" => (4, 256, 4, 514),
            "base" => (12, 768, 12, 514),
            other => bail!(
                "unknown encoder preset `{other}` (known: {})",
                PRESETS.join(", ")
            ),
        };
        Ok(EncoderConfig {
            model_type: "roberta".into(),
            vocab_size,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: 4 * hidden,
            max_position_embeddings: positions,
            type_vocab_size: 1,
            layer_norm_eps: 1e-5,
            pad_token_id: 1,
            bos_token_id: 0,
            eos_token_id: 2,
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            hidden_act: "gelu".into(),
            architectures: vec!["RobertaModel".into()],
        })
    }

    /// Reads `config.json` of a checkpoint directory.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let config: EncoderConfig =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<()> {
        if !matches!(self.model_type.as_str(), "roberta" | "bert") {
            bail!(
                "model_type `{}` is not supported (roberta or bert)",
                self.model_type
            );
        }
        if self.hidden_size % self.num_attention_heads != 0 {
            bail!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size,
                self.num_attention_heads
            );
        }
        if !matches!(self.hidden_act.as_str(), "gelu" | "gelu_new" | "relu") {
            bail!(
                "hidden_act `{}` is not supported (gelu, gelu_new, relu)",
                self.hidden_act
            );
        }
        Ok(())
    }

    /// Longest token sequence the position table allows (RoBERTa reserves
    /// `pad_token_id + 1` positions).
    pub fn max_tokens(&self) -> i64 {
        if self.model_type == "roberta" {
            self.max_position_embeddings - self.pad_token_id - 1
        } else {
            self.max_position_embeddings
        }
    }

    /// `config.json` as `transformers` writes it (plus its own fields).
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("config serializes");
        v["transformers_version"] = "5.24.0".into();
        v["torch_dtype"] = "float32".into();
        v["position_embedding_type"] = "absolute".into();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_sized_as_documented() {
        let base = EncoderConfig::preset("base", 50265).unwrap();
        assert_eq!(
            (
                base.num_hidden_layers,
                base.hidden_size,
                base.num_attention_heads
            ),
            (12, 768, 12)
        );
        assert_eq!(base.max_tokens(), 512);
        for name in PRESETS {
            EncoderConfig::preset(name, 1000)
                .unwrap()
                .validate()
                .unwrap();
        }
        assert!(EncoderConfig::preset("huge", 10).is_err());
    }

    #[test]
    fn hf_json_round_trips() {
        let c = EncoderConfig::preset("tiny", 300).unwrap();
        let back: EncoderConfig = serde_json::from_value(c.to_hf_json()).unwrap();
        assert_eq!(back, c);
    }
}
