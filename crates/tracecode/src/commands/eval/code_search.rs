//! Code-to-code search: every held-out function and its trace-equivalent
//! rewrites form a group; each program queries all the others and MAP@R
//! scores how well its own group ranks first.

use std::collections::{BTreeMap, HashSet};

use anyhow::{bail, Result};
use serde_json::json;
use tracecode_data::variant::{EquivalenceLabel, VariantRole};
use tracecode_data::TraceRecord;
use tracecode_eval::metrics::map_at_r_from_scores;

use super::encoder::{Encoder, Vectors};
use super::{Outcome, Score, TaskContext};

/// Programs per group: the original and up to three equivalent rewrites.
const GROUP_SIZE: usize = 4;
/// Groups whose embeddings are kept for the report's 2-D projection.
const PLOTTED_GROUPS: usize = 12;

pub fn run(ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    let mut groups: BTreeMap<String, Vec<(String, TraceRecord)>> = BTreeMap::new();
    for row in ctx.held_out_variants()? {
        let keep = match row.role {
            VariantRole::Original => true,
            VariantRole::Rewrite => row.label == EquivalenceLabel::TraceEquivalent,
            VariantRole::Mutant => false,
        };
        if keep {
            groups
                .entry(row.function_id.clone())
                .or_default()
                .push((row.id.clone(), row.trace.clone()));
        }
    }
    // Original first, then rewrites in id order: deterministic.
    let mut chosen: Vec<(String, Vec<(String, TraceRecord)>)> = Vec::new();
    for (function, mut members) in groups {
        members.sort_by(|a, b| {
            (a.0 != function)
                .cmp(&(b.0 != function))
                .then(a.0.cmp(&b.0))
        });
        let mut seen = HashSet::new();
        members.retain(|(_, t)| seen.insert(t.code.clone()));
        members.truncate(GROUP_SIZE);
        if members.len() >= 2 {
            chosen.push((function, members));
        }
    }
    chosen.truncate(ctx.args.search_groups);
    if chosen.len() < 2 {
        bail!(
            "fewer than 2 groups of equivalent held-out functions in {}",
            ctx.variants().display()
        );
    }
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    let mut traces = Vec::new();
    for (function, members) in &chosen {
        for (_, t) in members {
            texts.push(t.code.clone());
            labels.push(function.clone());
            traces.push(encoder.uses_traces().then_some(t));
        }
    }
    let vectors = encoder.embed(&texts, &traces)?;
    let n = texts.len();
    let map = map_at_r_from_scores(&labels, |i| {
        (0..n).map(|j| vectors.cosine(i, &vectors, j)).collect()
    })?;
    let plotted = match &vectors {
        Vectors::Dense(v) => {
            let cut = chosen.iter().take(PLOTTED_GROUPS).map(|g| g.1.len()).sum();
            json!({"groups": &labels[..cut], "embeddings": &v[..cut]})
        }
        Vectors::Sparse(_) => serde_json::Value::Null,
    };
    Ok(Outcome {
        scores: vec![("map_at_r", Score::plain(map))],
        n,
        notes: vec![format!("{} groups, {} programs", chosen.len(), n)],
        extra: json!({ "projection": plotted }),
    })
}
