//! `tracecode embed`: the stable embedding contract for outside evaluation.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use tracecode_model::model::TraceCodeModel;

use super::eval::encoder::{trace_features, TraceStore};

/// Embed code or natural language with a trained model.
///
/// Reads JSONL rows `{"id": "...", "text": "..."}` from standard input and
/// writes `{"id": "...", "embedding": [f32, ...]}` rows, in input order, to
/// standard output. Embeddings are L2-normalised, so a dot product is the
/// cosine similarity. Text goes through the code-only head: natural-language
/// queries and code land in the same space.
///
/// With `--with-traces FILE` (traces of `tracecode trace`, or `tracecode
/// variants` rows), rows whose id has a traced record there get the fused
/// code + trace embedding instead. A model directory without TraceCode heads
/// (a plain HuggingFace or sentence-transformers encoder) gives its pooled
/// hidden states, pooled and truncated as its sentence-transformers files say
/// (mean pooling without them); `--model minilm` is all-MiniLM-L6-v2 as
/// installed by scripts/env.sh, the pretrained baseline.
///
/// Example:
///
///   jq -c '{id: .task_id|tostring, text: .code}' mbpp.jsonl | tracecode embed --model out/train/model > emb.jsonl
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct EmbedArgs {
    /// A model directory (`OUT/model` of `tracecode train`, or a HF encoder),
    /// or a known pretrained encoder by name (`minilm`).
    #[arg(long, value_name = "DIR|minilm")]
    pub model: PathBuf,
    /// Use the trace branch for rows whose id is traced in this file.
    #[arg(long)]
    pub with_traces: Option<PathBuf>,
    /// Texts per forward pass (batched by length).
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
}

#[derive(Deserialize)]
struct Row {
    id: String,
    text: String,
}

#[derive(Serialize)]
struct Out<'a> {
    id: &'a str,
    embedding: &'a [f32],
}

pub fn run(args: &EmbedArgs) -> Result<()> {
    let device = tch::Device::cuda_if_available();
    let dir = tracecode_model::pretrained::resolve(&args.model)?;
    let model = TraceCodeModel::load(&dir, device, None)?;
    let mut rows = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let row: Row = serde_json::from_str(&line)
            .with_context(|| format!("stdin line {}: expected {{\"id\", \"text\"}}", n + 1))?;
        rows.push(row);
    }
    let mut traces = HashMap::new();
    if let Some(path) = &args.with_traces {
        if !model.uses_traces() {
            bail!(
                "{} has no trace branch; drop --with-traces",
                args.model.display()
            );
        }
        let heads = model
            .heads_config
            .as_ref()
            .expect("trace branch implies heads");
        let ids: HashSet<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut store = TraceStore::default();
        store.read_file(path, &ids)?;
        for (i, row) in rows.iter().enumerate() {
            if let Some(rec) = store.get(&row.id) {
                traces.insert(i, trace_features(heads, rec, usize::MAX));
            }
        }
        eprintln!("embed: {} of {} rows have traces", traces.len(), rows.len());
    }
    let texts: Vec<String> = rows.iter().map(|r| r.text.clone()).collect();
    let embeddings = tracecode_model::embed::embed_texts(&model, &texts, &traces, args.batch_size)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (row, e) in rows.iter().zip(&embeddings) {
        serde_json::to_writer(
            &mut out,
            &Out {
                id: &row.id,
                embedding: e,
            },
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
