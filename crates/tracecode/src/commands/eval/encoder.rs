//! What `tracecode eval` compares: encoders named on the command line, each
//! either the lexical baseline or a model directory, optionally fed traces.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use tracecode_data::variant::VariantRecord;
use tracecode_data::TraceRecord;
use tracecode_eval::lexical::{self, code_tokens, SparseVec, TfIdf};
use tracecode_model::features::TraceFeatures;
use tracecode_model::model::{HeadsConfig, TraceCodeModel};

/// `NAME=SPEC` from the command line.
///
/// SPEC is `lexical` (TF-IDF / BM25 over identifier-split tokens), `minilm`
/// (the installed all-MiniLM-L6-v2), or a model directory; a model directory
/// may end in `+traces` (functions with a trace get the fused code + trace
/// embedding) or `+traces=K` (at most K runs per function reach the trace
/// encoder: the number-of-inputs ablation at inference).
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderSpec {
    pub name: String,
    pub kind: EncoderKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EncoderKind {
    Lexical,
    Model {
        dir: PathBuf,
        /// `Some(max runs)` when traces are used.
        traces: Option<usize>,
    },
}

impl FromStr for EncoderSpec {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let Some((name, spec)) = s.split_once('=') else {
            bail!("--encoder takes NAME=SPEC (SPEC: lexical, minilm, DIR, DIR+traces, DIR+traces=K), got {s:?}");
        };
        if name.is_empty() || name.contains(['/', ' ']) {
            bail!("encoder name {name:?} must be non-empty, without '/' or spaces");
        }
        let kind = if spec == "lexical" {
            EncoderKind::Lexical
        } else {
            let (dir, traces) = match spec.split_once("+traces") {
                None => (spec, None),
                Some((dir, "")) => (dir, Some(usize::MAX)),
                Some((dir, k)) => {
                    let k: usize = k
                        .strip_prefix('=')
                        .and_then(|k| k.parse().ok())
                        .filter(|&k| k > 0)
                        .with_context(|| format!("`+traces=K` needs K >= 1, got {spec:?}"))?;
                    (dir, Some(k))
                }
            };
            EncoderKind::Model {
                dir: PathBuf::from(dir),
                traces,
            }
        };
        Ok(EncoderSpec {
            name: name.to_string(),
            kind,
        })
    }
}

/// Vectors for a set of texts, comparable by cosine similarity.
pub enum Vectors {
    /// Unit-length embeddings from a model.
    Dense(Vec<Vec<f32>>),
    /// L2-normalised TF-IDF vectors.
    Sparse(Vec<SparseVec>),
}

impl Vectors {
    /// Cosine similarity of item `i` here and item `j` in `other` (same kind).
    pub fn cosine(&self, i: usize, other: &Vectors, j: usize) -> f64 {
        match (self, other) {
            (Vectors::Dense(a), Vectors::Dense(b)) => {
                a[i].iter().zip(&b[j]).map(|(x, y)| f64::from(x * y)).sum()
            }
            (Vectors::Sparse(a), Vectors::Sparse(b)) => lexical::cosine(&a[i], &b[j]),
            _ => unreachable!("vectors of one encoder share a kind"),
        }
    }

    /// The dense rows (a dense projection of TF-IDF for the lexical baseline).
    pub fn into_dense(self, dim: usize) -> Vec<Vec<f32>> {
        match self {
            Vectors::Dense(v) => v,
            Vectors::Sparse(v) => v.iter().map(|s| lexical::to_dense(s, dim)).collect(),
        }
    }
}

/// A loaded encoder, ready to embed.
pub struct Encoder {
    pub spec: EncoderSpec,
    pub model: Option<TraceCodeModel>,
    batch_size: usize,
}

impl Encoder {
    pub fn load(spec: &EncoderSpec, batch_size: usize) -> Result<Self> {
        let model = match &spec.kind {
            EncoderKind::Lexical => None,
            EncoderKind::Model { dir, traces } => {
                let dir = resolve_model_dir(dir)?;
                let model = TraceCodeModel::load(&dir, tch::Device::cuda_if_available(), None)
                    .with_context(|| format!("encoder {}: loading {}", spec.name, dir.display()))?;
                if traces.is_some() && !model.uses_traces() {
                    bail!(
                        "encoder {}: {} has no trace branch; drop `+traces`",
                        spec.name,
                        dir.display()
                    );
                }
                Some(model)
            }
        };
        Ok(Encoder {
            spec: spec.clone(),
            model,
            batch_size,
        })
    }

    /// Whether traces reach this encoder.
    pub fn uses_traces(&self) -> bool {
        matches!(
            self.spec.kind,
            EncoderKind::Model {
                traces: Some(_),
                ..
            }
        )
    }

    /// Embeds `texts`; `traces[i]` (when this encoder uses traces) gives text
    /// `i` the fused embedding. The lexical baseline fits TF-IDF on `texts`.
    pub fn embed(&self, texts: &[String], traces: &[Option<&TraceRecord>]) -> Result<Vectors> {
        let Some(model) = &self.model else {
            let docs: Vec<Vec<String>> = texts.iter().map(|t| code_tokens(t)).collect();
            let tfidf = TfIdf::fit(&docs);
            return Ok(Vectors::Sparse(
                docs.iter().map(|d| tfidf.transform(d)).collect(),
            ));
        };
        let mut features = HashMap::new();
        if let (
            EncoderKind::Model {
                traces: Some(max_runs),
                ..
            },
            Some(heads),
        ) = (&self.spec.kind, &model.heads_config)
        {
            for (i, rec) in traces.iter().enumerate() {
                if let Some(rec) = rec {
                    features.insert(i, trace_features(heads, rec, *max_runs));
                }
            }
        }
        Ok(Vectors::Dense(tracecode_model::embed::embed_texts(
            model,
            texts,
            &features,
            self.batch_size,
        )?))
    }
}

/// `minilm` names the installed all-MiniLM-L6-v2; anything else is a path.
fn resolve_model_dir(dir: &Path) -> Result<PathBuf> {
    if dir == Path::new("minilm") && !dir.exists() {
        return tracecode_model::pretrained::locate("minilm");
    }
    if !dir.is_dir() {
        bail!("model directory {} does not exist", dir.display());
    }
    Ok(dir.to_path_buf())
}

/// Trace records by id, read from `tracecode variants` and/or `tracecode
/// trace` outputs, keeping only the ids asked for (the files are large).
#[derive(Default)]
pub struct TraceStore {
    records: HashMap<String, TraceRecord>,
}

impl TraceStore {
    /// Reads `variants` (rows carry their trace), then `traces` for ids not
    /// found there; missing files are skipped.
    pub fn load(
        variants: Option<&Path>,
        traces: Option<&Path>,
        ids: &HashSet<String>,
    ) -> Result<Self> {
        let mut store = TraceStore::default();
        for path in [variants, traces]
            .into_iter()
            .flatten()
            .filter(|p| p.exists())
        {
            store.read_file(path, ids)?;
        }
        Ok(store)
    }

    /// Adds the traced records of `ids` from `path`, a `tracecode variants`
    /// or a `tracecode trace` output; ids already present are kept.
    pub fn read_file(&mut self, path: &Path, ids: &HashSet<String>) -> Result<()> {
        let as_variants = tracecode_data::io::for_each_parquet_row(path, |row: VariantRecord| {
            if ids.contains(&row.id) {
                self.insert(&row.id, row.trace);
            }
            Ok(())
        });
        if as_variants.is_err() {
            tracecode_data::io::for_each_parquet_row(path, |rec: TraceRecord| {
                if ids.contains(&rec.id) {
                    self.insert(&rec.id.clone(), rec);
                }
                Ok(())
            })
            .with_context(|| format!("{} holds neither traces nor variants", path.display()))?;
        }
        Ok(())
    }

    /// Keeps `rec` for `id` if it has runs and `id` has no record yet.
    pub fn insert(&mut self, id: &str, rec: TraceRecord) {
        if !rec.runs.is_empty() && !self.records.contains_key(id) {
            self.records.insert(id.to_string(), rec);
        }
    }

    pub fn get(&self, id: &str) -> Option<&TraceRecord> {
        self.records.get(id)
    }
}

/// A record's input to the trace encoder, with at most `max_runs` runs (and
/// never more than the model was built for).
pub fn trace_features(heads: &HeadsConfig, rec: &TraceRecord, max_runs: usize) -> TraceFeatures {
    TraceFeatures::from_record(
        rec,
        heads.trace_encoding,
        heads.max_runs.min(max_runs),
        heads.max_steps,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let s: EncoderSpec = "bm25=lexical".parse().unwrap();
        assert_eq!(s.kind, EncoderKind::Lexical);
        let s: EncoderSpec = "fused=out/m+traces".parse().unwrap();
        assert_eq!(
            s.kind,
            EncoderKind::Model {
                dir: "out/m".into(),
                traces: Some(usize::MAX)
            }
        );
        let s: EncoderSpec = "k3=out/m+traces=3".parse().unwrap();
        assert_eq!(
            s.kind,
            EncoderKind::Model {
                dir: "out/m".into(),
                traces: Some(3)
            }
        );
        assert!("noname".parse::<EncoderSpec>().is_err());
        assert!("a=out/m+traces=0".parse::<EncoderSpec>().is_err());
        assert!("a/b=lexical".parse::<EncoderSpec>().is_err());
    }
}
