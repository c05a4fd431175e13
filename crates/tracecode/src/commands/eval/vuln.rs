//! Vulnerability detection on SVEN: a logistic-regression probe on frozen
//! embeddings tells vulnerable functions from their fixed versions.

use std::io::BufRead;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::json;
use tracecode_eval::metrics::macro_f1;
use tracecode_eval::probe::{select_l2, LogisticProbe};
use tracecode_eval::stats::mean_std;

use super::encoder::Encoder;
use super::{Outcome, Score, TaskContext};

/// TF-IDF features of the lexical baseline: the most frequent terms.
const LEXICAL_DIM: usize = 1024;
/// L2 strengths tried by cross-validation on the training split (sklearn's
/// 1/C on the summed loss: 1 is sklearn's default).
const L2_GRID: [f64; 4] = [0.1, 1.0, 10.0, 100.0];
/// Cross-validation folds for choosing L2.
const FOLDS: usize = 3;

#[derive(Deserialize)]
struct SvenPair {
    split: String,
    vulnerable: String,
    fixed: String,
}

pub fn run(ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    let path = ctx
        .sven()
        .context("no vulnerability pairs (pass --vuln FILE)")?;
    let file = std::fs::File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut pairs = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if !line.trim().is_empty() {
            let pair: SvenPair = serde_json::from_str(&line).with_context(|| {
                format!(
                    "{}: expected rows with split, vulnerable, fixed",
                    path.display()
                )
            })?;
            pairs.push(pair);
        }
    }
    // Label 1 = vulnerable, 0 = fixed; both versions of a pair stay in one split.
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    let mut is_train = Vec::new();
    for p in &pairs {
        for (code, label) in [(&p.vulnerable, 1), (&p.fixed, 0)] {
            texts.push(tracecode_py::extract::dedent_snippet(code));
            labels.push(label);
            is_train.push(p.split == "train");
        }
    }
    if !is_train.contains(&true) || !is_train.contains(&false) {
        bail!("{} needs both train and val rows", path.display());
    }
    let features = encoder
        .embed(&texts, &vec![None; texts.len()])?
        .into_dense(LEXICAL_DIM);
    let pick = |train: bool| -> (Vec<Vec<f32>>, Vec<usize>) {
        (0..texts.len())
            .filter(|&i| is_train[i] == train)
            .map(|i| (features[i].clone(), labels[i]))
            .unzip()
    };
    let (x_train, y_train) = pick(true);
    let (x_val, y_val) = pick(false);
    let mut f1s = Vec::new();
    let mut accuracies = Vec::new();
    let mut pair_accuracies = Vec::new();
    let mut l2s = Vec::new();
    for &seed in &ctx.args.seeds {
        let l2 = select_l2(&x_train, &y_train, 2, &L2_GRID, FOLDS, seed)?.l2;
        let probe = LogisticProbe::fit_bootstrap(&x_train, &y_train, 2, l2, seed)?;
        let pred = probe.predict(&x_val)?;
        f1s.push(macro_f1(&pred, &y_val, 2)?);
        accuracies.push(
            pred.iter().zip(&y_val).filter(|(p, y)| p == y).count() as f64 / y_val.len() as f64,
        );
        // Validation rows come in (vulnerable, fixed) order per pair.
        let proba = probe.predict_proba(&x_val)?;
        let ranked = proba
            .chunks(2)
            .filter(|c| c.len() == 2 && c[0][1] > c[1][1])
            .count();
        pair_accuracies.push(ranked as f64 / (y_val.len() / 2) as f64);
        l2s.push(l2);
    }
    let score = |v: &[f64]| {
        let (mean, std) = mean_std(v);
        Score {
            value: mean,
            std: Some(std),
            se: None,
        }
    };
    let mut notes = vec![format!(
        "{} train / {} validation functions; per seed: L2 by {FOLDS}-fold CV on train, probe fit on a stratified bootstrap of train",
        y_train.len(),
        y_val.len()
    )];
    if encoder.uses_traces() {
        notes.push("SVEN snippets cannot run: code-only embedding".into());
    }
    if encoder.model.is_none() {
        notes.push(format!("TF-IDF of the {LEXICAL_DIM} most frequent terms"));
    }
    Ok(Outcome {
        scores: vec![
            ("macro_f1", score(&f1s)),
            ("accuracy", score(&accuracies)),
            ("pair_accuracy", score(&pair_accuracies)),
        ],
        n: y_val.len(),
        notes,
        extra: json!({ "seeds": ctx.args.seeds, "l2": l2s, "macro_f1": f1s }),
    })
}
