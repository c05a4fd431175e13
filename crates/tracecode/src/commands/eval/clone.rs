//! Adversarial clone detection: AUROC of the cosine similarity on labelled
//! pairs (obfuscated trace-equivalent variants vs mutants and other functions).

use std::collections::{BTreeMap, HashMap, HashSet};

use anyhow::{Context, Result};
use serde_json::json;
use tracecode_data::{read_rows, ClonePair};
use tracecode_eval::metrics::auroc;

use super::encoder::Encoder;
use super::{Outcome, Score, Skip, TaskContext};

pub fn run(ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    let path = ctx.clone_pairs();
    let pairs: Vec<ClonePair> = read_rows(&path).with_context(|| {
        format!(
            "reading clone pairs {} (make them with `tracecode bench-set clone`)",
            path.display()
        )
    })?;
    if pairs.is_empty() {
        return Err(Skip(format!("{} has no clone pairs", path.display())).into());
    }
    let positives = pairs.iter().filter(|p| p.label == 1).count();
    if positives == pairs.len() || positives == 0 {
        return Err(Skip(format!(
            "{} has {} pairs, all of one label: AUROC needs both",
            path.display(),
            pairs.len()
        ))
        .into());
    }
    // Each distinct program embedded once.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut texts = Vec::new();
    let mut ids = Vec::new();
    for p in &pairs {
        for (id, code) in [(&p.id_a, &p.code_a), (&p.id_b, &p.code_b)] {
            index.entry(id).or_insert_with(|| {
                texts.push(code.clone());
                ids.push(id.clone());
                texts.len() - 1
            });
        }
    }
    let traces: Vec<_> = if encoder.uses_traces() {
        let wanted: HashSet<String> = ids.iter().cloned().collect();
        let store = ctx.clone_traces(&wanted)?;
        ids.iter().map(|id| store.get(id)).collect()
    } else {
        vec![None; ids.len()]
    };
    let vectors = encoder.embed(&texts, &traces)?;
    let scores: Vec<f64> = pairs
        .iter()
        .map(|p| vectors.cosine(index[p.id_a.as_str()], &vectors, index[p.id_b.as_str()]))
        .collect();
    let labels: Vec<bool> = pairs.iter().map(|p| p.label == 1).collect();
    let a = auroc(&scores, &labels)?;
    let mut by_kind: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (p, s) in pairs.iter().zip(&scores) {
        by_kind.entry(p.kind.as_str()).or_default().push(*s);
    }
    let mut notes = Vec::new();
    if encoder.uses_traces() {
        notes.push(format!(
            "{} of {} programs embedded with their trace",
            traces.iter().filter(|t| t.is_some()).count(),
            texts.len()
        ));
    }
    let mut out = vec![(
        "auroc",
        Score {
            value: a.auroc,
            std: None,
            se: Some(a.se),
        },
    )];
    for (kind, v) in &by_kind {
        let name: &'static str = match *kind {
            "obfuscated_variant" => "cosine_obfuscated_variant",
            "mutant" => "cosine_mutant",
            "other_function" => "cosine_other_function",
            _ => continue,
        };
        out.push((name, Score::plain(v.iter().sum::<f64>() / v.len() as f64)));
    }
    Ok(Outcome {
        scores: out,
        n: pairs.len(),
        notes,
        extra: json!({
            "scores": by_kind,
            "positives": a.positives,
            "negatives": a.negatives,
        }),
    })
}
