//! Code summarization: a small decoder trained on top of each frozen encoder
//! writes a docstring summary; smoothed BLEU-4 and ROUGE-L on held-out
//! functions. The lexical baseline copies the summary of the most similar
//! training function (BM25).

use std::collections::HashSet;

use anyhow::Result;
use serde_json::json;
use tracecode_data::{FunctionRecord, RecordStatus, Split, TraceRecord};
use tracecode_eval::lexical::{code_tokens, Bm25};
use tracecode_eval::text::{corpus_rouge_l, corpus_smoothed_bleu4};
use tracecode_model::summarize::{train_summarizer, SummarizerConfig, SummaryExample};

use super::encoder::{trace_features, Encoder, TraceStore};
use super::{Outcome, Score, Skip, TaskContext};

/// A function with a summary, before any encoder-specific features.
struct Item {
    id: String,
    code: String,
    summary: String,
}

/// Functions with a docstring summary (MBPP: the task text), split by
/// function; traced functions first so the fused encoder has traces to use.
fn items(ctx: &TaskContext, traced: &HashSet<String>) -> Result<[Vec<Item>; 3]> {
    let mut by_split: [Vec<(bool, Item)>; 3] = Default::default();
    tracecode_data::io::for_each_parquet_row(&ctx.corpus(), |r: FunctionRecord| {
        if r.status != RecordStatus::Ok {
            return Ok(());
        }
        if let Some(summary) = r.summary {
            let slot = match ctx.split_of(&r.id) {
                Split::Train => 0,
                Split::Validation => 1,
                Split::Test => 2,
            };
            by_split[slot].push((
                traced.contains(&r.id),
                Item {
                    id: r.id,
                    code: r.code_no_docstring,
                    summary,
                },
            ));
        }
        Ok(())
    })?;
    let caps = [
        ctx.args.summarize_train,
        ctx.args.summarize_test / 2,
        ctx.args.summarize_test,
    ];
    let mut out: [Vec<Item>; 3] = Default::default();
    for (slot, mut v) in by_split.into_iter().enumerate() {
        // Stable: traced first, then corpus order.
        v.sort_by_key(|(traced, _)| !traced);
        out[slot] = v
            .into_iter()
            .map(|(_, item)| item)
            .take(caps[slot])
            .collect();
    }
    Ok(out)
}

fn traced_ids(ctx: &TaskContext) -> Result<HashSet<String>> {
    let mut ids = HashSet::new();
    if ctx.traces().exists() {
        tracecode_data::io::for_each_parquet_row(&ctx.traces(), |r: TraceRecord| {
            if !r.runs.is_empty() {
                ids.insert(r.id);
            }
            Ok(())
        })?;
    }
    Ok(ids)
}

pub fn run(ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    let traced = traced_ids(ctx)?;
    let [train, val, test] = items(ctx, &traced)?;
    if train.is_empty() || val.is_empty() || test.is_empty() {
        return Err(Skip(format!(
            "no functions with summaries in every split (train {}, validation {}, test {})",
            train.len(),
            val.len(),
            test.len()
        ))
        .into());
    }
    let references: Vec<String> = test.iter().map(|t| t.summary.clone()).collect();
    let mut notes = vec![format!(
        "{} train / {} validation / {} test functions",
        train.len(),
        val.len(),
        test.len()
    )];
    let hypotheses: Vec<String> = match &encoder.model {
        None => {
            let docs: Vec<Vec<String>> = train.iter().map(|t| code_tokens(&t.code)).collect();
            let bm25 = Bm25::new(&docs, 1.2, 0.75);
            notes.push("nearest training function by BM25; its summary".into());
            test.iter()
                .map(|t| {
                    let scores = bm25.scores(&code_tokens(&t.code));
                    let best = (0..scores.len())
                        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]).then(b.cmp(&a)))
                        .expect("non-empty training set");
                    train[best].summary.clone()
                })
                .collect()
        }
        Some(model) => {
            let store = if encoder.uses_traces() {
                let ids = train
                    .iter()
                    .chain(&val)
                    .chain(&test)
                    .map(|t| t.id.clone())
                    .collect();
                TraceStore::load(None, Some(&ctx.traces()), &ids)?
            } else {
                TraceStore::default()
            };
            let heads = model.heads_config.as_ref();
            let examples = |items: &[Item]| -> Vec<SummaryExample> {
                items
                    .iter()
                    .map(|t| SummaryExample {
                        id: t.id.clone(),
                        code: t.code.clone(),
                        summary: t.summary.clone(),
                        trace: store
                            .get(&t.id)
                            .zip(heads)
                            .map(|(r, h)| trace_features(h, r, usize::MAX)),
                    })
                    .collect()
            };
            let (train, val, test) = (examples(&train), examples(&val), examples(&test));
            if encoder.uses_traces() {
                notes.push(format!(
                    "{} of {} test functions with their trace",
                    test.iter().filter(|t| t.trace.is_some()).count(),
                    test.len()
                ));
            }
            let seed = ctx.args.seeds.first().copied().unwrap_or(0);
            let config = SummarizerConfig {
                steps: ctx.args.summarize_steps,
                seed,
                ..SummarizerConfig::default()
            };
            notes.push(format!(
                "decoder trained {} steps, seed {seed}; best validation loss kept",
                config.steps
            ));
            let (summarizer, _) = train_summarizer(model, &train, &val, &config, true)?;
            summarizer.generate(model, &test, ctx.args.batch_size)?
        }
    };
    let bleu = corpus_smoothed_bleu4(&references, &hypotheses)?;
    let rouge = corpus_rouge_l(&references, &hypotheses)?.f1;
    let samples: Vec<_> = test
        .iter()
        .zip(&hypotheses)
        .take(5)
        .map(|(t, h)| json!({"reference": t.summary, "generated": h}))
        .collect();
    Ok(Outcome {
        scores: vec![
            ("bleu4", Score::plain(bleu)),
            ("rouge_l", Score::plain(rouge * 100.0)),
        ],
        n: references.len(),
        notes,
        extra: json!({ "samples": samples }),
    })
}
