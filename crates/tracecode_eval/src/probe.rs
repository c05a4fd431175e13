//! Linear probe: L2-regularised logistic regression on frozen embeddings.
//!
//! The solver is `linfa-logistic`'s multinomial logistic regression (L-BFGS
//! with a Moré–Thuente line search) rather than a hand-written one: it is a
//! maintained, tested implementation, and its objective is exactly what a
//! probe needs, `Σ_i −log p(y_i | x_i) + (l2/2)·‖W‖²` with an unpenalised
//! intercept, i.e. scikit-learn's `LogisticRegression(C = 1/l2)` (multinomial).
//! Because the loss is summed, not averaged, the same `l2` regularises less as
//! the training set grows, as with sklearn's `C`.
//!
//! Seeds: the objective is strictly convex, so the fitted probe is unique and
//! [`LogisticProbe::fit`] is deterministic; a seed there would only add
//! optimiser noise, which says nothing about the encoder. Spread across seeds
//! is instead measured with [`LogisticProbe::fit_bootstrap`], which refits on a
//! seeded class-stratified bootstrap resample of the training set, and with
//! the seeded fold assignment of [`select_l2`].

use anyhow::{bail, ensure, Context, Result};
use linfa::prelude::*;
use linfa_logistic::{MultiFittedLogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::metrics::macro_f1;

/// L-BFGS stops when the gradient norm falls below this or after
/// `MAX_ITERATIONS`; the default 100 iterations are too few for a
/// several-hundred-dimensional embedding to converge.
const GRADIENT_TOLERANCE: f64 = 1e-4;
const MAX_ITERATIONS: u64 = 1000;

/// A fitted probe: train-set standardisation plus a logistic-regression model.
#[derive(Debug, Clone)]
pub struct LogisticProbe {
    mean: Vec<f64>,
    /// Per-feature standard deviation (1 for constant features).
    scale: Vec<f64>,
    model: MultiFittedLogisticRegression<f64, usize>,
    classes: usize,
}

impl LogisticProbe {
    /// Fits on features `x` (one row per example) and labels `y` in
    /// `0..classes` with L2 strength `l2 ≥ 0`. Features are standardised with
    /// the mean and (population) standard deviation of `x`, stored in the
    /// probe and reused at prediction, so scale differences between encoders
    /// do not interact with `l2`. Deterministic (see the module docs).
    ///
    /// Errors on empty or ragged input, non-finite values, labels out of
    /// range, fewer than two distinct labels, or a solver failure.
    pub fn fit(x: &[Vec<f32>], y: &[usize], classes: usize, l2: f64) -> Result<Self> {
        let dim = check_features(x)?;
        ensure!(
            x.len() == y.len(),
            "probe: {} feature rows but {} labels",
            x.len(),
            y.len()
        );
        if let Some(&bad) = y.iter().find(|&&c| c >= classes) {
            bail!("probe: label {bad} out of range for {classes} classes");
        }
        ensure!(
            y.iter().any(|&c| c != y[0]),
            "probe: training labels contain a single class"
        );
        ensure!(
            l2.is_finite() && l2 >= 0.0,
            "probe: l2 must be finite and >= 0, got {l2}"
        );

        let n = x.len() as f64;
        let mut mean = vec![0.0; dim];
        for row in x {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v) / n;
            }
        }
        let mut scale = vec![0.0; dim];
        for row in x {
            for ((s, &v), m) in scale.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(v) - m).powi(2) / n;
            }
        }
        for s in &mut scale {
            *s = if *s > 0.0 { s.sqrt() } else { 1.0 };
        }
        let records = standardise(x, &mean, &scale);
        let dataset = Dataset::new(records, Array1::from(y.to_vec()));
        let model = MultiLogisticRegression::default()
            .alpha(l2)
            .gradient_tolerance(GRADIENT_TOLERANCE)
            .max_iterations(MAX_ITERATIONS)
            .fit(&dataset)
            .context("probe: logistic regression failed")?;
        let probe = LogisticProbe {
            mean,
            scale,
            model,
            classes,
        };
        Ok(probe)
    }

    /// [`LogisticProbe::fit`] on a class-stratified bootstrap resample of
    /// `(x, y)` drawn with `seed`: each class keeps its size and is sampled
    /// with replacement from its own members, so no class can vanish. Fitting
    /// with several seeds measures how much the probe's score depends on
    /// which training examples it saw.
    pub fn fit_bootstrap(
        x: &[Vec<f32>],
        y: &[usize],
        classes: usize,
        l2: f64,
        seed: u64,
    ) -> Result<Self> {
        ensure!(
            x.len() == y.len(),
            "probe: {} feature rows but {} labels",
            x.len(),
            y.len()
        );
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sample = Vec::with_capacity(y.len());
        for members in members_by_class(y, classes)? {
            for _ in 0..members.len() {
                sample.push(members[rng.gen_range(0..members.len())]);
            }
        }
        let xs: Vec<Vec<f32>> = sample.iter().map(|&i| x[i].clone()).collect();
        let ys: Vec<usize> = sample.iter().map(|&i| y[i]).collect();
        Self::fit(&xs, &ys, classes, l2)
    }

    /// Class probabilities, one row of length `classes` per example; classes
    /// absent from the training labels get probability 0.
    pub fn predict_proba(&self, x: &[Vec<f32>]) -> Result<Vec<Vec<f64>>> {
        let dim = check_features(x)?;
        ensure!(
            dim == self.mean.len(),
            "probe: features have dimension {dim}, the probe was fitted on {}",
            self.mean.len()
        );
        let p = self
            .model
            .predict_probabilities(&standardise(x, &self.mean, &self.scale));
        Ok(p.rows()
            .into_iter()
            .map(|row| {
                let mut full = vec![0.0; self.classes];
                for (&c, &v) in self.model.classes().iter().zip(row) {
                    full[c] = v;
                }
                full
            })
            .collect())
    }

    /// Most probable class per example (the lowest class index on exact ties).
    pub fn predict(&self, x: &[Vec<f32>]) -> Result<Vec<usize>> {
        Ok(self
            .predict_proba(x)?
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .fold((0, f64::NEG_INFINITY), |best, (c, &p)| {
                        if p > best.1 {
                            (c, p)
                        } else {
                            best
                        }
                    })
                    .0
            })
            .collect())
    }
}

/// `(x − mean) / scale` per feature, as the solver's design matrix.
fn standardise(x: &[Vec<f32>], mean: &[f64], scale: &[f64]) -> Array2<f64> {
    Array2::from_shape_fn((x.len(), mean.len()), |(i, j)| {
        (f64::from(x[i][j]) - mean[j]) / scale[j]
    })
}

/// Checks that `x` is non-empty, rectangular and finite; returns its width.
fn check_features(x: &[Vec<f32>]) -> Result<usize> {
    ensure!(!x.is_empty(), "probe: no feature rows");
    let dim = x[0].len();
    ensure!(dim > 0, "probe: feature rows are empty");
    for (i, row) in x.iter().enumerate() {
        ensure!(
            row.len() == dim,
            "probe: row {i} has {} features instead of {dim}",
            row.len()
        );
        ensure!(
            row.iter().all(|v| v.is_finite()),
            "probe: row {i} has a non-finite feature"
        );
    }
    Ok(dim)
}

/// Indices of each class's examples, in order (empty for absent classes).
fn members_by_class(y: &[usize], classes: usize) -> Result<Vec<Vec<usize>>> {
    let mut members = vec![Vec::new(); classes];
    for (i, &c) in y.iter().enumerate() {
        ensure!(
            c < classes,
            "probe: label {c} out of range for {classes} classes"
        );
        members[c].push(i);
    }
    Ok(members)
}

/// Outcome of [`select_l2`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct L2Selection {
    /// The grid value with the best mean cross-validated macro-F1.
    pub l2: f64,
    /// Mean macro-F1 over the folds for each grid value, in grid order.
    pub cv_macro_f1: Vec<f64>,
}

/// Chooses `l2` from `grid` by stratified k-fold cross-validation on the
/// training set `(x, y)` only; the evaluation split must never be passed
/// here, or the reported score is optimistically biased.
///
/// Each class's examples are shuffled with `seed` and dealt round-robin into
/// `folds` folds (one counter across classes, so fold sizes differ by at most
/// one). Every (grid value, fold) pair is fitted in parallel with
/// [`LogisticProbe::fit`] on the other folds and scored by macro-F1 on the
/// held-out fold. The best mean wins; ties go to the larger `l2`, the simpler
/// model.
pub fn select_l2(
    x: &[Vec<f32>],
    y: &[usize],
    classes: usize,
    grid: &[f64],
    folds: usize,
    seed: u64,
) -> Result<L2Selection> {
    ensure!(!grid.is_empty(), "select_l2: empty grid");
    ensure!(
        x.len() == y.len(),
        "select_l2: {} feature rows but {} labels",
        x.len(),
        y.len()
    );
    ensure!(
        folds >= 2 && folds <= y.len(),
        "select_l2: need 2 <= folds <= {} examples, got {folds}",
        y.len()
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of = vec![0usize; y.len()];
    let mut next = 0;
    for mut members in members_by_class(y, classes)? {
        members.shuffle(&mut rng);
        for i in members {
            fold_of[i] = next % folds;
            next += 1;
        }
    }

    let jobs: Vec<(usize, usize)> = (0..grid.len())
        .flat_map(|g| (0..folds).map(move |f| (g, f)))
        .collect();
    let scores: Vec<f64> = jobs
        .par_iter()
        .map(|&(g, f)| -> Result<f64> {
            let (mut train_x, mut train_y, mut test_x, mut test_y) =
                (vec![], vec![], vec![], vec![]);
            for i in 0..y.len() {
                if fold_of[i] == f {
                    test_x.push(x[i].clone());
                    test_y.push(y[i]);
                } else {
                    train_x.push(x[i].clone());
                    train_y.push(y[i]);
                }
            }
            let probe = LogisticProbe::fit(&train_x, &train_y, classes, grid[g])
                .with_context(|| format!("select_l2: fold {f}, l2 = {}", grid[g]))?;
            macro_f1(&probe.predict(&test_x)?, &test_y, classes)
        })
        .collect::<Result<_>>()?;

    let cv_macro_f1: Vec<f64> = scores
        .chunks(folds)
        .map(|s| s.iter().sum::<f64>() / folds as f64)
        .collect();
    let mut best = 0;
    for g in 1..grid.len() {
        let (s, b) = (cv_macro_f1[g], cv_macro_f1[best]);
        if s > b || (s == b && grid[g] > grid[best]) {
            best = g;
        }
    }
    Ok(L2Selection {
        l2: grid[best],
        cv_macro_f1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::accuracy;

    /// `n` points per class around (-2, 0) (class 0) and (2, 0) (class 1),
    /// with uniform noise in [-1, 1]² and a constant third feature.
    fn blobs(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for c in 0..2 {
            let cx = if c == 0 { -2.0 } else { 2.0 };
            for _ in 0..n {
                x.push(vec![
                    cx + rng.gen_range(-1.0..1.0),
                    rng.gen_range(-1.0..1.0),
                    5.0,
                ]);
                y.push(c);
            }
        }
        (x, y)
    }

    /// XOR: the label is whether both coordinates have the same sign.
    fn xor(n: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let (a, b): (f32, f32) = (rng.gen_range(-1.0..1.0), rng.gen_range(-1.0..1.0));
                (vec![a, b], usize::from((a > 0.0) == (b > 0.0)))
            })
            .unzip()
    }

    #[test]
    fn separable_data_is_learned() {
        let (x, y) = blobs(50, 1);
        let (tx, ty) = blobs(50, 2);
        let probe = LogisticProbe::fit(&x, &y, 2, 1.0).unwrap();
        assert_eq!(accuracy(&probe.predict(&x).unwrap(), &y).unwrap(), 1.0);
        assert_eq!(accuracy(&probe.predict(&tx).unwrap(), &ty).unwrap(), 1.0);
        for row in probe.predict_proba(&tx).unwrap() {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
        // Standardisation: rescaling a feature by 1000 changes nothing.
        let scaled: Vec<Vec<f32>> = tx.iter().map(|r| vec![r[0] * 1000.0, r[1], r[2]]).collect();
        let xs: Vec<Vec<f32>> = x.iter().map(|r| vec![r[0] * 1000.0, r[1], r[2]]).collect();
        let p2 = LogisticProbe::fit(&xs, &y, 2, 1.0).unwrap();
        assert_eq!(p2.predict(&scaled).unwrap(), probe.predict(&tx).unwrap());
    }

    #[test]
    fn xor_is_at_chance() {
        let (x, y) = xor(400, 3);
        let (tx, ty) = xor(400, 4);
        let probe = LogisticProbe::fit(&x, &y, 2, 1.0).unwrap();
        let acc = accuracy(&probe.predict(&tx).unwrap(), &ty).unwrap();
        assert!((0.35..0.65).contains(&acc), "accuracy {acc}");
    }

    #[test]
    fn absent_class_gets_zero_probability() {
        let (x, y) = blobs(10, 5);
        let probe = LogisticProbe::fit(&x, &y, 3, 1.0).unwrap();
        let p = probe.predict_proba(&x[..2]).unwrap();
        assert!(p.iter().all(|r| r.len() == 3 && r[2] == 0.0));
        assert!(probe.predict_proba(&[vec![1.0, 2.0]]).is_err());
    }

    #[test]
    fn invalid_training_input_is_rejected() {
        let (x, y) = blobs(5, 6);
        assert!(LogisticProbe::fit(&x, &vec![0; x.len()], 2, 1.0).is_err());
        assert!(LogisticProbe::fit(&x, &y, 1, 1.0).is_err());
        assert!(LogisticProbe::fit(&x, &y[1..], 2, 1.0).is_err());
        assert!(LogisticProbe::fit(&x, &y, 2, -1.0).is_err());
        let mut bad = x.clone();
        bad[0][0] = f32::NAN;
        assert!(LogisticProbe::fit(&bad, &y, 2, 1.0).is_err());
    }

    #[test]
    fn bootstrap_is_seeded() {
        let (x, y) = xor(60, 7);
        let fit = |seed| {
            LogisticProbe::fit_bootstrap(&x, &y, 2, 1.0, seed)
                .unwrap()
                .predict_proba(&x)
                .unwrap()
        };
        assert_eq!(fit(11), fit(11));
        assert_ne!(fit(11), fit(12));
        // The plain fit has no randomness at all.
        let plain = || {
            LogisticProbe::fit(&x, &y, 2, 1.0)
                .unwrap()
                .predict_proba(&x)
                .unwrap()
        };
        assert_eq!(plain(), plain());
    }

    #[test]
    fn select_l2_rejects_crippling_regularisation() {
        // 70/30 classes: with l2 = 1e6 the weights vanish, the unpenalised
        // intercept predicts the majority class everywhere and macro-F1 is
        // about (0.82 + 0)/2; with l2 = 1 the blobs are separated.
        let (mut x, mut y) = blobs(70, 8);
        x.truncate(100);
        y.truncate(100);
        let sel = select_l2(&x, &y, 2, &[1e6, 1.0], 5, 9).unwrap();
        assert_eq!(sel.l2, 1.0);
        assert_eq!(sel.cv_macro_f1.len(), 2);
        assert!(
            sel.cv_macro_f1[0] < 0.6 && sel.cv_macro_f1[1] > 0.95,
            "{sel:?}"
        );
        assert_eq!(select_l2(&x, &y, 2, &[1e6, 1.0], 5, 9).unwrap(), sel);
        assert!(select_l2(&x, &y, 2, &[], 5, 9).is_err());
        assert!(select_l2(&x, &y, 2, &[1.0], 1, 9).is_err());
    }
}
