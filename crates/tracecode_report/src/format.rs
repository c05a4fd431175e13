//! Number formatting, best-cell selection and summary statistics shared by the
//! HTML and Markdown renderers, so both show exactly the same numbers.

use crate::model::{Better, Cell, Histogram, Table};

/// Formats a table number: `decimals` if given, else integers without
/// decimals, 1–3 decimals by magnitude, scientific notation for very small or
/// large magnitudes. Non-finite values become `—`, `∞`, `−∞` (never "NaN").
pub(crate) fn number(v: f64, decimals: Option<usize>) -> String {
    if v.is_nan() {
        return "—".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "∞" } else { "−∞" }.to_string();
    }
    if let Some(d) = decimals {
        return format!("{v:.d$}");
    }
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e7).contains(&a) {
        return format!("{v:.2e}");
    }
    format!("{v:.*}", auto_decimals(v))
}

fn auto_decimals(v: f64) -> usize {
    let a = v.abs();
    if v.fract() == 0.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else {
        3
    }
}

/// The text a cell shows: its `text`, else `value ± spread`, else nothing.
/// The spread uses the value's decimals so the two line up.
pub(crate) fn cell_text(cell: &Cell, decimals: Option<usize>) -> String {
    if let Some(t) = &cell.text {
        return t.clone();
    }
    let Some(v) = cell.value else {
        return String::new();
    };
    // One shared precision so value and spread line up; an integer mean with
    // a fractional spread (1200 ± 35.5) gets one decimal rather than "1200 ± 36".
    let sci = v.is_finite() && v != 0.0 && !(1e-3..1e7).contains(&v.abs());
    let d = decimals.or_else(|| {
        let fractional_spread = cell
            .spread
            .is_some_and(|s| s.is_finite() && s.fract() != 0.0);
        (!sci && v.is_finite()).then(|| {
            if v.fract() == 0.0 && fractional_spread {
                1
            } else {
                auto_decimals(v)
            }
        })
    });
    match cell.spread {
        Some(s) => format!("{} ± {}", number(v, d), number(s, d)),
        None => number(v, d),
    }
}

/// `best[row][col]`: whether the cell is the best of its column. Only columns
/// with a [`Better`] direction and at least two finite values take part;
/// values that *display* the same as the best are all bold (ties at the shown
/// precision, as in papers).
pub(crate) fn best_cells(table: &Table) -> Vec<Vec<bool>> {
    let mut best: Vec<Vec<bool>> = table.rows.iter().map(|r| vec![false; r.len()]).collect();
    for (c, column) in table.columns.iter().enumerate() {
        let Some(better) = column.better else {
            continue;
        };
        let finite: Vec<(usize, f64)> = table
            .rows
            .iter()
            .enumerate()
            .filter_map(|(r, row)| Some((r, row.get(c)?.value.filter(|v| v.is_finite())?)))
            .collect();
        if finite.len() < 2 {
            continue;
        }
        let pick = |a: f64, b: f64| match better {
            Better::Higher => a.max(b),
            Better::Lower => a.min(b),
        };
        let top = finite
            .iter()
            .map(|&(_, v)| v)
            .reduce(pick)
            .expect("two or more values");
        let shown = number(top, column.decimals);
        for (r, v) in finite {
            best[r][c] = number(v, column.decimals) == shown;
        }
    }
    best
}

/// Mean, median, standard deviation and extremes of the finite values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub n: usize,
    pub mean: f64,
    pub median: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

/// `None` when there is no finite value. `std` is the population deviation.
pub(crate) fn summary(values: &[f64]) -> Option<Summary> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Some(Summary {
        n,
        mean,
        median,
        std: var.sqrt(),
        min: v[0],
        max: v[n - 1],
    })
}

/// Shared bins of a histogram: `(lo, hi, counts per series)`, `None` when no
/// series has a finite value in range. The top edge is inclusive.
pub(crate) fn bin(h: &Histogram) -> Option<(f64, f64, Vec<Vec<usize>>)> {
    let finite = || {
        h.series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|x| x.is_finite())
    };
    let (mut lo, mut hi) = match h.range {
        Some((lo, hi)) if lo.is_finite() && hi.is_finite() && lo <= hi => (lo, hi),
        _ => finite().fold(None, |acc: Option<(f64, f64)>, x| {
            Some(acc.map_or((x, x), |(a, b)| (a.min(x), b.max(x))))
        })?,
    };
    if lo == hi {
        // One distinct value: give it a unit-wide bin around itself.
        lo -= 0.5;
        hi += 0.5;
    }
    let n = finite().filter(|x| (lo..=hi).contains(x)).count();
    if n == 0 {
        return None;
    }
    let bins = if h.bins > 0 {
        h.bins
    } else {
        ((n as f64).log2().ceil() as usize + 1).clamp(5, 50)
    };
    let counts = h
        .series
        .iter()
        .map(|(_, values)| {
            let mut counts = vec![0usize; bins];
            for &x in values
                .iter()
                .filter(|x| x.is_finite() && (lo..=hi).contains(*x))
            {
                let i = ((x - lo) / (hi - lo) * bins as f64) as usize;
                counts[i.min(bins - 1)] += 1;
            }
            counts
        })
        .collect();
    Some((lo, hi, counts))
}

/// Distinct scatter groups in order of first appearance, with their sizes.
pub(crate) fn groups<'a>(groups: impl Iterator<Item = &'a str>) -> Vec<(&'a str, usize)> {
    let mut out: Vec<(&str, usize)> = Vec::new();
    for g in groups {
        match out.iter_mut().find(|(name, _)| *name == g) {
            Some((_, n)) => *n += 1,
            None => out.push((g, 1)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Column;

    #[test]
    fn numbers_by_magnitude_and_non_finite() {
        assert_eq!(number(0.87512, None), "0.875");
        assert_eq!(number(12.3456, None), "12.35");
        assert_eq!(number(1234.56, None), "1234.6");
        assert_eq!(number(1200.0, None), "1200");
        assert_eq!(number(0.0001234, None), "1.23e-4");
        assert_eq!(number(0.5, Some(1)), "0.5");
        assert_eq!(number(f64::NAN, None), "—");
        assert_eq!(number(f64::NEG_INFINITY, None), "−∞");
    }

    #[test]
    fn cell_text_spread_and_text() {
        assert_eq!(
            cell_text(&Cell::value_pm(0.8751, 0.0123), None),
            "0.875 ± 0.012"
        );
        assert_eq!(
            cell_text(&Cell::value_pm(1200.0, 35.5), None),
            "1200.0 ± 35.5"
        );
        assert_eq!(
            cell_text(&Cell::value_pm(0.5, 0.25), Some(2)),
            "0.50 ± 0.25"
        );
        assert_eq!(cell_text(&Cell::text("CodeT5+"), None), "CodeT5+");
        assert_eq!(cell_text(&Cell::default(), None), "");
    }

    #[test]
    fn best_cells_per_direction_with_display_ties() {
        let table = Table {
            caption: None,
            columns: vec![
                Column::plain("model"),
                Column::higher("acc"),
                Column::lower("loss"),
            ],
            rows: vec![
                vec![Cell::text("a"), Cell::value(0.8751), Cell::value(f64::NAN)],
                vec![Cell::text("b"), Cell::value(0.8749), Cell::value(0.30)],
                vec![Cell::text("c"), Cell::value(0.70), Cell::value(0.25)],
                // Short row: padded, never best.
                vec![Cell::text("d")],
            ],
        };
        let best = best_cells(&table);
        // acc: 0.8751 and 0.8749 both show as 0.875 → both bold.
        assert_eq!(best[0], vec![false, true, false]);
        assert_eq!(best[1], vec![false, true, false]);
        // loss: NaN is ignored, 0.25 is the minimum.
        assert_eq!(best[2], vec![false, false, true]);
        assert_eq!(best[3], vec![false]);
    }

    #[test]
    fn single_value_column_has_no_best() {
        let table = Table {
            caption: None,
            columns: vec![Column::higher("acc")],
            rows: vec![vec![Cell::value(0.9)], vec![Cell::text("n/a")]],
        };
        assert_eq!(best_cells(&table), vec![vec![false], vec![false]]);
    }

    #[test]
    fn summary_hand_computed() {
        // mean 2.5, median (2+3)/2, population variance (2.25+0.25+0.25+2.25)/4 = 1.25.
        let s = summary(&[4.0, 1.0, f64::NAN, 3.0, 2.0]).unwrap();
        assert_eq!(
            (s.n, s.mean, s.median, s.min, s.max),
            (4, 2.5, 2.5, 1.0, 4.0)
        );
        assert!((s.std - 1.25f64.sqrt()).abs() < 1e-12);
        assert_eq!(summary(&[f64::INFINITY]), None);
    }

    #[test]
    fn binning_shares_edges_and_includes_top() {
        let h = Histogram {
            series: vec![
                ("pos".into(), vec![0.0, 0.1, 0.6, 1.0, f64::NAN]),
                ("neg".into(), vec![0.5, 2.0]),
            ],
            bins: 2,
            range: Some((0.0, 1.0)),
            ..Histogram::default()
        };
        let (lo, hi, counts) = bin(&h).unwrap();
        assert_eq!((lo, hi), (0.0, 1.0));
        // 0.5 sits on the inner edge → upper bin; 2.0 is out of range.
        assert_eq!(counts, vec![vec![2, 2], vec![0, 1]]);
    }

    #[test]
    fn binning_degenerate_inputs() {
        let constant = Histogram {
            series: vec![("x".into(), vec![3.0; 4])],
            ..Histogram::default()
        };
        let (lo, hi, counts) = bin(&constant).unwrap();
        assert_eq!((lo, hi), (2.5, 3.5));
        // n = 4 → Sturges: ceil(log2 4) + 1 = 3, clamped up to 5 bins.
        assert_eq!(counts, vec![vec![0, 0, 4, 0, 0]]);
        let empty = Histogram {
            series: vec![("x".into(), vec![f64::NAN])],
            ..Histogram::default()
        };
        assert_eq!(bin(&empty), None);
    }

    #[test]
    fn groups_in_first_appearance_order() {
        assert_eq!(
            groups(["b", "a", "b", "c"].into_iter()),
            vec![("b", 2), ("a", 1), ("c", 1)]
        );
    }
}
