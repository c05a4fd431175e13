//! Axis domains and "nice" tick values (1, 2 or 5 × 10^k), linear and log.
//!
//! The domain is widened to whole ticks so the plot starts and ends on a
//! labelled gridline, as in matplotlib's `axis("tight")` + nice locator.

/// Domain, ticks and tick labels of one numeric axis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub ticks: Vec<(f64, String)>,
}

/// About this many ticks per axis (the nice step decides the exact count).
const TARGET_TICKS: usize = 6;

impl Axis {
    /// A linear axis covering the finite `values` (and 0 when `include_zero`,
    /// for bars). No finite value gives the domain [0, 1]; a single distinct
    /// value is padded by 10% of its magnitude (±1 around 0).
    pub fn linear(values: impl IntoIterator<Item = f64>, include_zero: bool) -> Axis {
        let mut range = extent(values.into_iter().filter(|v| v.is_finite()));
        if include_zero {
            range = Some(range.map_or((0.0, 0.0), |(a, b)| (a.min(0.0), b.max(0.0))));
        }
        let (mut min, mut max) = range.unwrap_or((0.0, 1.0));
        if min == max {
            let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
            min -= pad;
            max += pad;
        }
        let step = nice(nice(max - min, false) / (TARGET_TICKS - 1) as f64, true);
        // The 1e-9 slack keeps float noise (3e-4 / 5e-5 = 6.000000000000001)
        // from adding an empty step at either end.
        let first = (min / step + 1e-9).floor() as i64;
        let last = (max / step - 1e-9).ceil() as i64;
        // Ticks are multiples of `step` (k × step, not accumulated) so labels stay exact.
        let values: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
        let ticks = linear_labels(&values, step);
        Axis {
            lo: first as f64 * step,
            hi: last as f64 * step,
            log: false,
            ticks,
        }
    }

    /// A base-10 log axis over the positive finite `values`, with ticks at
    /// 1, 2, 5 × 10^k, thinned to powers of ten when there are too many.
    pub fn log(values: impl IntoIterator<Item = f64>) -> Axis {
        let (min, max) =
            extent(values.into_iter().filter(|v| v.is_finite() && *v > 0.0)).unwrap_or((1.0, 10.0));
        let (k0, k1) = (
            min.log10().floor() as i32 - 1,
            max.log10().ceil() as i32 + 1,
        );
        let candidates: Vec<f64> = (k0..=k1)
            .flat_map(|k| [1.0, 2.0, 5.0].map(|m| pow10(m, k)))
            .collect();
        // Widen to the nearest candidates around the data.
        let lo = candidates
            .iter()
            .copied()
            .filter(|&c| c <= min)
            .fold(f64::NAN, f64::max);
        let hi = candidates
            .iter()
            .copied()
            .filter(|&c| c >= max)
            .fold(f64::NAN, f64::min);
        let mut values: Vec<f64> = candidates
            .iter()
            .copied()
            .filter(|&c| c >= lo && c <= hi)
            .collect();
        let (mut lo, mut hi) = (lo, hi);
        if values.len() > TARGET_TICKS + 2 {
            lo = pow10(1.0, lo.log10().floor() as i32);
            hi = pow10(1.0, hi.log10().ceil() as i32);
            values = (lo.log10().round() as i32..=hi.log10().round() as i32)
                .map(|k| pow10(1.0, k))
                .collect();
        } else if lo == hi {
            lo = pow10(1.0, lo.log10().floor() as i32);
            hi = lo * 10.0;
            values = vec![lo, hi];
        }
        let ticks = values.into_iter().map(|v| (v, log_label(v))).collect();
        Axis {
            lo,
            hi,
            log: true,
            ticks,
        }
    }

    /// Position of `v` along the axis in [0, 1] (outside for out-of-domain
    /// values); `None` for values the axis cannot show (non-finite, ≤ 0 on log).
    pub fn frac(&self, v: f64) -> Option<f64> {
        if !v.is_finite() || (self.log && v <= 0.0) {
            return None;
        }
        let f = if self.log {
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        f.is_finite().then_some(f)
    }
}

fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| {
        Some(acc.map_or((v, v), |(a, b): (f64, f64)| (a.min(v), b.max(v))))
    })
}

/// `m × 10^k`, computed so that e.g. 2e-3 is the float nearest 0.002.
fn pow10(m: f64, k: i32) -> f64 {
    if k >= 0 {
        m * 10f64.powi(k)
    } else {
        m / 10f64.powi(-k)
    }
}

/// Heckbert's nice number: the 1/2/5 × 10^k nearest `x` (`round`) or at least `x`.
fn nice(x: f64, round: bool) -> f64 {
    let k = x.log10().floor() as i32;
    let f = x / pow10(1.0, k);
    let m = if round {
        match f {
            f if f < 1.5 => 1.0,
            f if f < 3.0 => 2.0,
            f if f < 7.0 => 5.0,
            _ => 10.0,
        }
    } else {
        match f {
            f if f <= 1.0 => 1.0,
            f if f <= 2.0 => 2.0,
            f if f <= 5.0 => 5.0,
            _ => 10.0,
        }
    };
    pow10(m, k)
}

/// Labels with one shared number of decimals (from the step), a k/M suffix
/// for large magnitudes and scientific notation for tiny ones.
fn linear_labels(values: &[f64], step: f64) -> Vec<(f64, String)> {
    let biggest = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let (scale, suffix) = if biggest >= 1e6 {
        (1e6, "M")
    } else if biggest >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let decimals = (-(step / scale).log10()).ceil().max(0.0) as usize;
    values
        .iter()
        .map(|&v| {
            let label = if v.abs() < step * 1e-6 {
                "0".to_string()
            } else if biggest < 1e-3 {
                // Round to the step's precision first so `{:e}` prints 1.5e-4, not 1.5000000000000001e-4.
                let rounded: f64 = format!("{v:.decimals$}")
                    .parse()
                    .expect("formatted float parses");
                format!("{rounded:e}")
            } else {
                format!("{:.*}{suffix}", decimals, v / scale)
            };
            // A typographic minus for negative ticks (the exponent keeps its hyphen).
            match label.strip_prefix('-') {
                Some(rest) => (v, format!("−{rest}")),
                None => (v, label),
            }
        })
        .collect()
}

fn log_label(v: f64) -> String {
    if (1e-3..1e4).contains(&v) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(axis: &Axis) -> Vec<&str> {
        axis.ticks.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice(0.93, false), 1.0);
        assert_eq!(nice(15.8, false), 20.0);
        assert_eq!(nice(0.25, true), 0.2);
        assert_eq!(nice(4.0, true), 5.0);
        assert_eq!(nice(0.0008, true), 0.001);
    }

    #[test]
    fn linear_ticks_hand_computed() {
        // range nice(0.93) = 1, step nice(1/5 = 0.2) = 0.2.
        let a = Axis::linear([0.02, 0.93], false);
        assert_eq!((a.lo, a.hi), (0.0, 1.0));
        assert_eq!(labels(&a), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        // Negative values: range nice(15.8) = 20, step nice(4) = 5.
        let a = Axis::linear([-3.7, 12.1], false);
        assert_eq!((a.lo, a.hi), (-5.0, 15.0));
        assert_eq!(labels(&a), ["−5", "0", "5", "10", "15"]);
    }

    #[test]
    fn linear_ticks_suffixes_and_tiny_values() {
        let a = Axis::linear([0.0, 20_000.0], false);
        assert_eq!(labels(&a), ["0", "5k", "10k", "15k", "20k"]);
        let a = Axis::linear([1e-4, 3e-4], false);
        assert_eq!(labels(&a), ["1e-4", "1.5e-4", "2e-4", "2.5e-4", "3e-4"]);
    }

    #[test]
    fn degenerate_linear_inputs() {
        // No data: the unit interval.
        let a = Axis::linear([], false);
        assert_eq!((a.lo, a.hi), (0.0, 1.0));
        // NaN and inf are ignored; one value 5 is padded to [4.5, 5.5], step
        // nice(1 / 5) = 0.2, widened to whole steps [4.4, 5.6].
        let a = Axis::linear([f64::NAN, 5.0, f64::INFINITY, 5.0], false);
        assert!((a.lo - 4.4).abs() < 1e-12 && (a.hi - 5.6).abs() < 1e-12);
        assert_eq!(
            labels(&a),
            ["4.4", "4.6", "4.8", "5.0", "5.2", "5.4", "5.6"]
        );
        // All zero: [-1, 1]; include_zero keeps 0 in a positive-only domain.
        let a = Axis::linear([0.0, 0.0], false);
        assert_eq!((a.lo, a.hi), (-1.0, 1.0));
        assert_eq!(Axis::linear([2.0, 3.0], true).lo, 0.0);
    }

    #[test]
    fn log_ticks() {
        // Four decades: powers of ten only.
        let a = Axis::log([0.012, 0.0, -1.0, 35.0]);
        assert_eq!((a.lo, a.hi), (0.01, 100.0));
        assert_eq!(labels(&a), ["0.01", "0.1", "1", "10", "100"]);
        // Within one decade: 1-2-5 ticks widened around the data.
        let a = Axis::log([0.3, 0.9]);
        assert_eq!((a.lo, a.hi), (0.2, 1.0));
        assert_eq!(labels(&a), ["0.2", "0.5", "1"]);
        // A single value on a candidate: a whole decade.
        let a = Axis::log([2.0]);
        assert_eq!((a.lo, a.hi), (1.0, 10.0));
        assert_eq!(
            labels(&Axis::log([1e-6, 1e-5])),
            ["1e-6", "2e-6", "5e-6", "1e-5"]
        );
    }

    #[test]
    fn frac_maps_and_rejects() {
        let a = Axis::linear([0.0, 1.0], false);
        assert_eq!(a.frac(0.25), Some(0.25));
        assert_eq!(a.frac(f64::NAN), None);
        let l = Axis::log([1.0, 100.0]);
        assert_eq!(l.frac(10.0), Some(0.5));
        assert_eq!(l.frac(0.0), None);
    }
}
