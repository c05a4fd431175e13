//! Ranking and classification metrics: AUROC, MAP@R, MRR, macro-F1, accuracy.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::Hash;

use anyhow::{bail, ensure, Result};
use rayon::prelude::*;
use serde::Serialize;

/// Area under the ROC curve with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Auroc {
    /// P(score of a random positive > score of a random negative), ties
    /// counting one half.
    pub auroc: f64,
    /// DeLong standard error of `auroc`; NaN when a class has a single member
    /// (its variance component is then undefined).
    pub se: f64,
    /// Number of positive labels.
    pub positives: usize,
    /// Number of negative labels.
    pub negatives: usize,
}

/// AUROC as the Mann–Whitney U statistic with midranks for ties, and its
/// standard error by DeLong, DeLong & Clarke-Pearson (1988).
///
/// DeLong's estimator is used rather than Hanley–McNeil because it makes no
/// assumption about the score distributions (Hanley–McNeil assumes
/// exponential ones). It is computed in O(n log n) from midranks as in Sun &
/// Xu (2014): for positive i, `V10_i = (R_i - Rx_i) / n_neg` where `R_i` is its
/// midrank among all scores and `Rx_i` among positives only (the fraction of
/// negatives it beats, ties one half); symmetrically for negatives; then
/// `se² = var(V10)/n_pos + var(V01)/n_neg` with sample variances.
///
/// Errors when lengths differ, a score is NaN, or either class is empty.
pub fn auroc(scores: &[f64], labels: &[bool]) -> Result<Auroc> {
    ensure!(
        scores.len() == labels.len(),
        "auroc: {} scores but {} labels",
        scores.len(),
        labels.len()
    );
    ensure!(scores.iter().all(|s| !s.is_nan()), "auroc: a score is NaN");
    let pos: Vec<f64> = (0..scores.len())
        .filter(|&i| labels[i])
        .map(|i| scores[i])
        .collect();
    let neg: Vec<f64> = (0..scores.len())
        .filter(|&i| !labels[i])
        .map(|i| scores[i])
        .collect();
    let (m, n) = (pos.len(), neg.len());
    ensure!(
        m > 0 && n > 0,
        "auroc: needs both classes, got {m} positives and {n} negatives"
    );

    let all: Vec<f64> = pos.iter().chain(&neg).copied().collect();
    let r_all = midranks(&all);
    let r_pos = midranks(&pos);
    let r_neg = midranks(&neg);
    let v10: Vec<f64> = (0..m).map(|i| (r_all[i] - r_pos[i]) / n as f64).collect();
    let v01: Vec<f64> = (0..n)
        .map(|j| 1.0 - (r_all[m + j] - r_neg[j]) / m as f64)
        .collect();
    let auc = v10.iter().sum::<f64>() / m as f64;
    let se = if m < 2 || n < 2 {
        f64::NAN
    } else {
        (sample_var(&v10) / m as f64 + sample_var(&v01) / n as f64).sqrt()
    };
    Ok(Auroc {
        auroc: auc,
        se,
        positives: m,
        negatives: n,
    })
}

/// 1-based ranks, tied values sharing the mean of the ranks they span.
fn midranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // positions start..end hold ranks start+1..=end; their mean:
        let mid = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = mid;
        }
        start = end;
    }
    ranks
}

fn sample_var(v: &[f64]) -> f64 {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64
}

/// MAP@R of embeddings ranked by cosine similarity (Musgrave, Belongie & Lim,
/// "A Metric Learning Reality Check", 2020).
///
/// Embeddings are L2-normalised first, so their length does not matter; a
/// zero vector or a dimension mismatch is an error. See
/// [`map_at_r_from_scores`] for the definition.
pub fn map_at_r<G: Eq + Hash + Sync>(embeddings: &[Vec<f32>], groups: &[G]) -> Result<f64> {
    ensure!(
        embeddings.len() == groups.len(),
        "map_at_r: {} embeddings but {} groups",
        embeddings.len(),
        groups.len()
    );
    let unit = normalise_all(embeddings)?;
    map_at_r_from_scores(groups, |i| unit.iter().map(|e| dot(&unit[i], e)).collect())
}

/// MAP@R for any similarity, given as `score_row(i)`: the scores of query `i`
/// against every item (entry `i` itself is ignored). This lets lexical
/// baselines (BM25, TF-IDF) be scored exactly like embeddings.
///
/// Each item is a query against all *other* items, ranked by descending score,
/// ties broken by ascending index so the result is deterministic. With `R` =
/// number of other items in the query's group, AP@R = (1/R) Σ_{k≤R} P(k)·rel(k)
/// where P(k) is the precision among the top k; queries with R = 0 are
/// skipped; MAP@R is the mean over the remaining queries. Queries run in
/// parallel (rayon), so `score_row` must be `Sync`.
///
/// Errors when a row has the wrong length or a NaN score, or when no item
/// shares its group with another (MAP@R would be undefined).
pub fn map_at_r_from_scores<G, F>(groups: &[G], score_row: F) -> Result<f64>
where
    G: Eq + Hash + Sync,
    F: Fn(usize) -> Vec<f64> + Sync,
{
    let aps: Vec<f64> = average_precision_at_r(groups, score_row)?
        .into_iter()
        .flatten()
        .collect();
    Ok(aps.iter().sum::<f64>() / aps.len() as f64)
}

/// The per-query AP@R behind [`map_at_r_from_scores`]: entry `i` is `None`
/// for an item alone in its group (not a query, only a candidate that other
/// queries may wrongly rank high: a distractor). Callers use it for
/// standard errors clustered by group.
pub fn average_precision_at_r<G, F>(groups: &[G], score_row: F) -> Result<Vec<Option<f64>>>
where
    G: Eq + Hash + Sync,
    F: Fn(usize) -> Vec<f64> + Sync,
{
    let n = groups.len();
    let mut ids: HashMap<&G, usize> = HashMap::new();
    let group_id: Vec<usize> = groups
        .iter()
        .map(|g| {
            let next = ids.len();
            *ids.entry(g).or_insert(next)
        })
        .collect();
    let mut group_size = vec![0usize; ids.len()];
    for &g in &group_id {
        group_size[g] += 1;
    }

    let per_query: Vec<Option<f64>> = (0..n)
        .into_par_iter()
        .map(|i| -> Result<Option<f64>> {
            let r = group_size[group_id[i]] - 1;
            if r == 0 {
                return Ok(None);
            }
            let scores = score_row(i);
            ensure!(
                scores.len() == n,
                "map_at_r: score row {i} has {} entries for {n} items",
                scores.len()
            );
            ensure!(
                scores.iter().all(|s| !s.is_nan()),
                "map_at_r: score row {i} has a NaN"
            );
            let by_rank = |&a: &usize, &b: &usize| -> Ordering {
                scores[b].total_cmp(&scores[a]).then(a.cmp(&b))
            };
            let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            // Only the top R matter: partition, then sort just those.
            others.select_nth_unstable_by(r - 1, by_rank);
            let top = &mut others[..r];
            top.sort_unstable_by(by_rank);
            let mut hits = 0usize;
            let mut sum = 0.0;
            for (k, &j) in top.iter().enumerate() {
                if group_id[j] == group_id[i] {
                    hits += 1;
                    sum += hits as f64 / (k + 1) as f64;
                }
            }
            Ok(Some(sum / r as f64))
        })
        .collect::<Result<_>>()?;
    ensure!(
        per_query.iter().any(Option::is_some),
        "map_at_r: no item shares its group with another item"
    );
    Ok(per_query)
}

/// Mean reciprocal rank of 1-based ranks. Errors on no ranks or a rank of 0.
pub fn mrr(ranks: &[usize]) -> Result<f64> {
    ensure!(!ranks.is_empty(), "mrr: no ranks");
    ensure!(
        ranks.iter().all(|&r| r >= 1),
        "mrr: ranks are 1-based, got 0"
    );
    Ok(ranks.iter().map(|&r| 1.0 / r as f64).sum::<f64>() / ranks.len() as f64)
}

/// 1-based rank of `scores[target]` among `scores` (higher is better),
/// pessimistic on ties: every other candidate scoring at least as high counts
/// as ranked above, so constant scores give the worst rank rather than rank 1.
/// A NaN counts against the target too (a NaN target gets the last rank).
pub fn rank_of_target(scores: &[f64], target: usize) -> Result<usize> {
    ensure!(
        target < scores.len(),
        "rank_of_target: target {target} out of range for {} candidates",
        scores.len()
    );
    let t = scores[target];
    let above = scores
        .iter()
        .enumerate()
        .filter(|&(j, s)| j != target && s.partial_cmp(&t) != Some(Ordering::Less))
        .count();
    Ok(above + 1)
}

/// MRR of cosine retrieval: query `q` should retrieve `candidates[targets[q]]`
/// among all candidates. Ranks are pessimistic on ties ([`rank_of_target`]).
pub fn retrieval_mrr(
    queries: &[Vec<f32>],
    candidates: &[Vec<f32>],
    targets: &[usize],
) -> Result<f64> {
    ensure!(
        queries.len() == targets.len(),
        "retrieval_mrr: {} queries but {} targets",
        queries.len(),
        targets.len()
    );
    let q = normalise_all(queries)?;
    let c = normalise_all(candidates)?;
    if let (Some(a), Some(b)) = (q.first(), c.first()) {
        ensure!(
            a.len() == b.len(),
            "retrieval_mrr: query dimension {} but candidate dimension {}",
            a.len(),
            b.len()
        );
    }
    let ranks: Vec<usize> = q
        .par_iter()
        .zip(targets)
        .map(|(qv, &t)| {
            let scores: Vec<f64> = c.iter().map(|cv| dot(qv, cv)).collect();
            rank_of_target(&scores, t)
        })
        .collect::<Result<_>>()?;
    mrr(&ranks)
}

/// Unit-length copies of `vectors`; errors on a zero/non-finite vector or
/// mixed dimensions.
fn normalise_all(vectors: &[Vec<f32>]) -> Result<Vec<Vec<f32>>> {
    let dim = vectors.first().map_or(0, Vec::len);
    vectors
        .iter()
        .enumerate()
        .map(|(i, v)| {
            ensure!(
                v.len() == dim,
                "vector {i} has dimension {} instead of {dim}",
                v.len()
            );
            let norm = v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
            if !(norm.is_finite() && norm > 0.0) {
                bail!("vector {i} has norm {norm}; cosine similarity is undefined");
            }
            Ok(v.iter().map(|&x| (f64::from(x) / norm) as f32).collect())
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum()
}

/// Macro-averaged F1 over the classes `0..classes`.
///
/// Convention (sklearn's default `labels=None`): a class that appears in
/// neither `pred` nor `gold` is left out of the average, since its F1 is 0/0;
/// a class that appears in only one of them has F1 = 0 and is averaged in.
/// Errors on length mismatch, empty input or a label `>= classes`.
pub fn macro_f1(pred: &[usize], gold: &[usize], classes: usize) -> Result<f64> {
    check_labels(pred, gold, classes)?;
    let (mut tp, mut fp, mut fneg) = (
        vec![0usize; classes],
        vec![0usize; classes],
        vec![0usize; classes],
    );
    for (&p, &g) in pred.iter().zip(gold) {
        if p == g {
            tp[p] += 1;
        } else {
            fp[p] += 1;
            fneg[g] += 1;
        }
    }
    let f1s: Vec<f64> = (0..classes)
        .filter(|&c| tp[c] + fp[c] + fneg[c] > 0)
        .map(|c| 2.0 * tp[c] as f64 / (2 * tp[c] + fp[c] + fneg[c]) as f64)
        .collect();
    Ok(f1s.iter().sum::<f64>() / f1s.len() as f64)
}

/// Fraction of `pred` equal to `gold`. Errors on length mismatch or empty input.
pub fn accuracy(pred: &[usize], gold: &[usize]) -> Result<f64> {
    check_labels(pred, gold, usize::MAX)?;
    let correct = pred.iter().zip(gold).filter(|(p, g)| p == g).count();
    Ok(correct as f64 / pred.len() as f64)
}

fn check_labels(pred: &[usize], gold: &[usize], classes: usize) -> Result<()> {
    ensure!(
        pred.len() == gold.len(),
        "{} predictions but {} gold labels",
        pred.len(),
        gold.len()
    );
    ensure!(!pred.is_empty(), "no predictions");
    if let Some(&bad) = pred.iter().chain(gold).find(|&&c| c >= classes) {
        bail!("label {bad} out of range for {classes} classes");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn auroc_with_ties_and_delong_se() {
        // positives 0.8, 0.6, 0.4; negatives 0.6, 0.3.
        // V10 (fraction of negatives each positive beats, tie = 1/2):
        //   0.8 -> 1, 0.6 -> (0.5 + 1)/2 = 0.75, 0.4 -> 0.5; AUC = 2.25/3 = 0.75.
        // V01 (fraction of positives above each negative):
        //   0.6 -> (1 + 0.5 + 0)/3 = 0.5, 0.3 -> 1.
        // var(V10) = (0.0625 + 0 + 0.0625)/2 = 0.0625; var(V01) = 0.125/1.
        // se² = 0.0625/3 + 0.125/2 = 1/12 -> se = 0.28867513.
        let scores = [0.8, 0.6, 0.6, 0.4, 0.3];
        let labels = [true, true, false, true, false];
        let a = auroc(&scores, &labels).unwrap();
        assert!(close(a.auroc, 0.75));
        assert!(close(a.se, (1.0f64 / 12.0).sqrt()));
        assert_eq!((a.positives, a.negatives), (3, 2));
    }

    #[test]
    fn auroc_extremes() {
        let labels = [true, true, false, false];
        assert!(close(
            auroc(&[4.0, 3.0, 2.0, 1.0], &labels).unwrap().auroc,
            1.0
        ));
        assert!(close(
            auroc(&[1.0, 2.0, 3.0, 4.0], &labels).unwrap().auroc,
            0.0
        ));
        let tied = auroc(&[5.0; 4], &labels).unwrap();
        assert!(close(tied.auroc, 0.5));
        // Every V10 and V01 is 0.5, so both variances and the SE vanish.
        assert!(close(tied.se, 0.0));
    }

    #[test]
    fn auroc_rejects_bad_input() {
        assert!(auroc(&[1.0, 2.0], &[true, true]).is_err());
        assert!(auroc(&[1.0], &[true, false]).is_err());
        assert!(auroc(&[f64::NAN, 1.0], &[true, false]).is_err());
        // One positive: the AUROC exists, its SE does not.
        let a = auroc(&[3.0, 1.0, 2.0], &[true, false, false]).unwrap();
        assert!(close(a.auroc, 1.0) && a.se.is_nan());
    }

    #[test]
    fn map_at_r_hand_example() {
        // Unit directions (item 0 has length 2: normalisation must undo it);
        // groups a, a, b, a.
        //   q0 (1,0): sims 1:.8 2:.6 3:0 -> ranking 1(a) 2(b); R=2 -> AP = (1/1)/2 = 0.5
        //   q1 (.8,.6): sims 0:.8 2:.96 3:.6 -> 2(b) 0(a); R=2 -> AP = (1/2)/2 = 0.25
        //   q2: group b has no other member, skipped
        //   q3 (0,1): sims 0:0 1:.6 2:.8 -> 2(b) 1(a); R=2 -> AP = 0.25
        // MAP@R = (0.5 + 0.25 + 0.25)/3 = 1/3
        let emb = vec![
            vec![2.0, 0.0],
            vec![0.8, 0.6],
            vec![0.6, 0.8],
            vec![0.0, 1.0],
        ];
        let groups = ["a", "a", "b", "a"].map(String::from);
        assert!(close(map_at_r(&emb, &groups).unwrap(), 1.0 / 3.0));
    }

    #[test]
    fn map_at_r_breaks_ties_by_index() {
        // All scores equal: q0 ranks 1(b) before 2(a) -> AP 0; q2 ranks 0(a)
        // first -> AP 1; q1 is skipped. Mean 0.5.
        let groups = ["a", "b", "a"];
        let m = map_at_r_from_scores(&groups, |_| vec![0.0; 3]).unwrap();
        assert!(close(m, 0.5));
    }

    #[test]
    fn singleton_groups_are_distractors_not_queries() {
        // Groups a, a and a distractor d ranked between them for q0.
        //   q0: scores 1:.5 2:.9 -> top R=1 is 2(d) -> AP 0
        //   q1: scores 0:.9 2:.1 -> top is 0(a) -> AP 1
        //   q2 (d): alone in its group, not a query.
        let rows = [vec![1.0, 0.5, 0.9], vec![0.9, 1.0, 0.1], vec![0.0; 3]];
        let aps = average_precision_at_r(&["a", "a", "d"], |i| rows[i].clone()).unwrap();
        assert_eq!(aps, vec![Some(0.0), Some(1.0), None]);
    }

    #[test]
    fn map_at_r_rejects_degenerate_input() {
        assert!(map_at_r_from_scores(&["a", "b"], |_| vec![0.0; 2]).is_err());
        assert!(map_at_r_from_scores(&["a", "a"], |_| vec![0.0; 3]).is_err());
        assert!(map_at_r(&[vec![0.0, 0.0], vec![1.0, 0.0]], &["a", "a"]).is_err());
    }

    #[test]
    fn rank_is_pessimistic_on_ties() {
        assert_eq!(rank_of_target(&[0.1, 0.9, 0.5], 1).unwrap(), 1);
        assert_eq!(rank_of_target(&[0.1, 0.9, 0.5], 0).unwrap(), 3);
        assert_eq!(rank_of_target(&[0.5, 0.9, 0.5], 0).unwrap(), 3);
        assert_eq!(rank_of_target(&[1.0; 4], 2).unwrap(), 4);
        assert_eq!(rank_of_target(&[f64::NAN, 0.2], 0).unwrap(), 2);
        assert!(rank_of_target(&[1.0], 1).is_err());
    }

    #[test]
    fn mrr_hand_example() {
        // (1 + 1/2 + 1/4) / 3 = 0.58333...
        assert!(close(mrr(&[1, 2, 4]).unwrap(), 1.75 / 3.0));
        assert!(mrr(&[]).is_err());
        assert!(mrr(&[0]).is_err());
    }

    #[test]
    fn retrieval_mrr_uses_cosine() {
        // q0 = (1,0): cosines to candidates (1,1),(3,0),(0,1) are .707, 1, 0;
        //   target 0 is second -> 1/2.
        // q1 = (0,5): cosines .707, 0, 1; target 2 is first -> 1.
        let q = vec![vec![1.0, 0.0], vec![0.0, 5.0]];
        let c = vec![vec![1.0, 1.0], vec![3.0, 0.0], vec![0.0, 1.0]];
        assert!(close(retrieval_mrr(&q, &c, &[0, 2]).unwrap(), 0.75));
        assert!(retrieval_mrr(&q, &c, &[0]).is_err());
        assert!(retrieval_mrr(&q, &[vec![1.0, 0.0, 0.0]], &[0, 0]).is_err());
    }

    #[test]
    fn macro_f1_and_accuracy_hand_example() {
        // gold 0 0 1 1 2, pred 0 1 1 1 0; class 3 absent in both -> excluded.
        // class 0: tp 1, fp 1, fn 1 -> 2/4 = 0.5
        // class 1: tp 2, fp 1, fn 0 -> 4/5 = 0.8
        // class 2: tp 0, fp 0, fn 1 -> 0
        // macro = 1.3/3; accuracy = 3/5.
        let gold = [0, 0, 1, 1, 2];
        let pred = [0, 1, 1, 1, 0];
        assert!(close(macro_f1(&pred, &gold, 4).unwrap(), 1.3 / 3.0));
        assert!(close(accuracy(&pred, &gold).unwrap(), 0.6));
        assert!(macro_f1(&pred, &gold, 2).is_err());
        assert!(accuracy(&pred, &gold[..4]).is_err());
    }
}
