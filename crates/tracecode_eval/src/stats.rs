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
}
