//! Summary statistics for reporting a metric over several runs (seeds, folds).

/// Mean and *sample* standard deviation (divisor n - 1) of `values`.
///
/// The sample (not population) deviation is used because the runs are a
/// sample of the possible seeds and the spread is meant to estimate how much
/// a new run could differ. Undefined parts are NaN rather than an error so a
/// report can still show them: both are NaN for no values, and the deviation
/// is NaN for a single value.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, f64::NAN);
    }
    let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    (mean, (ss / (n - 1) as f64).sqrt())
}

/// Standard error of the mean of `values` when they come in correlated
/// clusters (`cluster[i]` names value `i`'s cluster), e.g. the queries of one
/// code-search group, which share their relevant items: the cluster-robust
/// estimate sqrt(G/(G-1) · Σ_g (S_g − n_g·mean)²) / N, with S_g and n_g a
/// cluster's sum and size. NaN with fewer than two clusters.
pub fn clustered_se(values: &[f64], cluster: &[usize]) -> f64 {
    assert_eq!(values.len(), cluster.len(), "one cluster per value");
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let mut residual: std::collections::HashMap<usize, f64> = Default::default();
    for (v, c) in values.iter().zip(cluster) {
        *residual.entry(*c).or_default() += v - mean;
    }
    let g = residual.len() as f64;
    if g < 2.0 {
        return f64::NAN;
    }
    let ss: f64 = residual.values().map(|r| r * r).sum();
    (g / (g - 1.0) * ss).sqrt() / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        // mean 5; squared deviations 9+1+1+9 = 20; 20/3 -> std = 2.5819889
        let (m, s) = mean_std(&[2.0, 4.0, 6.0, 8.0]);
        assert!((m - 5.0).abs() < 1e-12);
        assert!((s - (20.0f64 / 3.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn degenerate_inputs_are_nan() {
        let (m, s) = mean_std(&[]);
        assert!(m.is_nan() && s.is_nan());
        let (m, s) = mean_std(&[0.7]);
        assert_eq!(m, 0.7);
        assert!(s.is_nan());
    }

    #[test]
    fn clustered_se_matches_plain_se_for_singletons_and_widens_for_copies() {
        // One value per cluster: the usual s/sqrt(n) = 2.58199/2.
        let v = [2.0, 4.0, 6.0, 8.0];
        let (_, s) = mean_std(&v);
        assert!((clustered_se(&v, &[0, 1, 2, 3]) - s / 2.0).abs() < 1e-12);
        // Each value duplicated within its cluster: no new information, so
        // the same standard error as the four singletons.
        let dup = [2.0, 2.0, 4.0, 4.0, 6.0, 6.0, 8.0, 8.0];
        let se = clustered_se(&dup, &[0, 0, 1, 1, 2, 2, 3, 3]);
        assert!((se - s / 2.0).abs() < 1e-12);
        assert!(clustered_se(&v, &[0, 0, 0, 0]).is_nan());
    }
}
