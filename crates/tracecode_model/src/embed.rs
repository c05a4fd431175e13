//! Embedding texts (code or natural language) with a trained model: the
//! stable contract behind `tracecode embed`.

use std::collections::HashMap;

use anyhow::Result;
use tch::Kind;

use crate::features::TraceFeatures;
use crate::model::{normalize, TraceCodeModel};
use crate::trace_encoder::TraceBatch;

/// Embeds `texts` in batches of similar length; returns one unit vector per
/// text, in input order. Texts whose index is in `traces` get the fused
/// (code + trace) embedding, the others the code-only one.
pub fn embed_texts(
    model: &TraceCodeModel,
    texts: &[String],
    traces: &HashMap<usize, TraceFeatures>,
    batch_size: usize,
) -> Result<Vec<Vec<f32>>> {
    let _guard = tch::no_grad_guard();
    let ids = model.tokenizer.ids_batch(texts)?;
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| ids[i].len());
    let mut out = vec![Vec::new(); texts.len()];
    let empty = TraceFeatures::default();
    for chunk in order.chunks(batch_size.max(1)) {
        let seqs: Vec<&[i64]> = chunk.iter().map(|&i| ids[i].as_slice()).collect();
        let pooled = model.pooled(&seqs, false);
        let code = normalize(&model.code_embedding(&pooled));
        let has: Vec<bool> = chunk.iter().map(|i| traces.contains_key(i)).collect();
        let emb = if model.uses_traces() && has.contains(&true) {
            let feats: Vec<&TraceFeatures> = chunk
                .iter()
                .map(|i| traces.get(i).unwrap_or(&empty))
                .collect();
            let fused = normalize(&model.fused_embedding(
                &pooled,
                &TraceBatch::new(&feats, model.device()),
                false,
            ));
            let mask = tch::Tensor::from_slice(&has)
                .to_device(model.device())
                .unsqueeze(1);
            fused.where_self(&mask, &code)
        } else {
            code
        };
        let emb = emb.to_kind(Kind::Float).to_device(tch::Device::Cpu);
        for (row, &i) in chunk.iter().enumerate() {
            out[i] = Vec::<f32>::try_from(emb.get(row as i64))?;
        }
    }
    Ok(out)
}
