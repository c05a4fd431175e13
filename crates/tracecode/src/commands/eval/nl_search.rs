//! Natural language to code search on MBPP: each held-out task's English text
//! queries every MBPP solution; MRR of its own solution.

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::{Context, Result};
use serde::Deserialize;
use tracecode_data::{FunctionRecord, RecordStatus, Split};
use tracecode_eval::lexical::{code_tokens, Bm25};
use tracecode_eval::metrics::{mrr, rank_of_target};

use super::encoder::Encoder;
use super::{Outcome, Score, Skip, TaskContext};

#[derive(Deserialize)]
struct MbppRow {
    task_id: serde_json::Value,
    text: String,
}

/// MBPP task texts by task id (as a string, like the corpus' `task_id`).
fn mbpp_texts(path: &std::path::Path) -> Result<HashMap<String, String>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = HashMap::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let row: MbppRow = serde_json::from_str(&line).with_context(|| {
            format!(
                "{}: expected MBPP rows with task_id and text",
                path.display()
            )
        })?;
        let id = match row.task_id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        out.insert(id, row.text);
    }
    Ok(out)
}

pub fn run(ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    let texts = mbpp_texts(&ctx.mbpp().context("no MBPP file (pass --mbpp FILE)")?)?;
    // Candidates: every MBPP solution in the corpus; queries: the texts of the
    // held-out ones (training may have seen train-split texts as summaries).
    let mut codes = Vec::new();
    let mut queries = Vec::new();
    tracecode_data::io::for_each_parquet_row(&ctx.corpus(), |r: FunctionRecord| {
        if r.status == RecordStatus::Ok && r.source == "mbpp" {
            if let Some(text) = r.task_id.as_ref().and_then(|t| texts.get(t)) {
                if ctx.split_of(&r.id) == Split::Test {
                    queries.push((text.clone(), codes.len()));
                }
                codes.push(r.code);
            }
        }
        Ok(())
    })?;
    if queries.is_empty() {
        return Err(Skip(format!(
            "no held-out MBPP functions in {} (add MBPP to the corpus)",
            ctx.corpus().display()
        ))
        .into());
    }
    let ranks: Vec<usize> = if encoder.model.is_none() {
        let docs: Vec<Vec<String>> = codes.iter().map(|c| code_tokens(c)).collect();
        let bm25 = Bm25::new(&docs, 1.2, 0.75);
        queries
            .iter()
            .map(|(q, target)| rank_of_target(&bm25.scores(&code_tokens(q)), *target))
            .collect::<Result<_>>()?
    } else {
        let query_texts: Vec<String> = queries.iter().map(|q| q.0.clone()).collect();
        let q = encoder.embed(&query_texts, &vec![None; query_texts.len()])?;
        let c = encoder.embed(&codes, &vec![None; codes.len()])?;
        queries
            .iter()
            .enumerate()
            .map(|(i, (_, target))| {
                let scores: Vec<f64> = (0..codes.len()).map(|j| q.cosine(i, &c, j)).collect();
                rank_of_target(&scores, *target)
            })
            .collect::<Result<_>>()?
    };
    let recall_at =
        |k: usize| ranks.iter().filter(|&&r| r <= k).count() as f64 / ranks.len() as f64;
    let mut notes = vec![format!(
        "{} held-out queries against {} MBPP solutions",
        queries.len(),
        codes.len()
    )];
    if encoder.uses_traces() {
        notes.push("text has no trace: solutions use the code-only embedding".into());
    }
    Ok(Outcome {
        scores: vec![
            ("mrr", Score::plain(mrr(&ranks)?)),
            ("recall_at_1", Score::plain(recall_at(1))),
            ("recall_at_10", Score::plain(recall_at(10))),
        ],
        n: queries.len(),
        notes,
        extra: serde_json::Value::Null,
    })
}
