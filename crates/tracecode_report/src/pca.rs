//! 2-D PCA for the embedding scatter plot.
//!
//! Hand-written power iteration rather than a linear-algebra crate: only the
//! top two directions are needed, and multiplying by XᵀX as Xᵀ(Xv) costs
//! O(n·d) per iteration without ever forming the d×d covariance (d = 768).

/// Power-iteration budget per component; far more than 2-D plots need to converge.
const MAX_ITERS: usize = 1000;
const TOLERANCE: f64 = 1e-12;

/// Projects `points` (all of one dimension) onto their top two principal
/// directions, after centring. The first coordinate has the larger variance.
/// Deterministic: a fixed start vector, and each direction's sign is chosen
/// so that its largest-magnitude component is positive. Data of rank < 2
/// gives a zero second coordinate.
///
/// # Panics
/// If the points do not all have the same dimension.
pub fn pca_2d(points: &[Vec<f32>]) -> Vec<(f64, f64)> {
    let Some(first) = points.first() else {
        return Vec::new();
    };
    let d = first.len();
    assert!(
        points.iter().all(|p| p.len() == d),
        "pca_2d: all points must have the same dimension ({d})"
    );
    let n = points.len() as f64;
    let mean: Vec<f64> = (0..d)
        .map(|j| points.iter().map(|p| f64::from(p[j])).sum::<f64>() / n)
        .collect();
    let x: Vec<Vec<f64>> = points
        .iter()
        .map(|p| {
            p.iter()
                .zip(&mean)
                .map(|(&v, m)| f64::from(v) - m)
                .collect()
        })
        .collect();
    let pc1 = top_direction(&x, None);
    // A second eigenvalue at rounding-noise level relative to the first means
    // rank-1 data: its "direction" would be noise, so project to exactly 0.
    let pc2 = pc1
        .as_ref()
        .and_then(|(u, l1)| top_direction(&x, Some(u)).filter(|(_, l2)| *l2 > 1e-9 * l1));
    let project =
        |row: &[f64], pc: &Option<(Vec<f64>, f64)>| pc.as_ref().map_or(0.0, |(u, _)| dot(row, u));
    x.iter()
        .map(|row| (project(row, &pc1), project(row, &pc2)))
        .collect()
}

/// Unit eigenvector of XᵀX with the largest eigenvalue and that eigenvalue,
/// restricted to the complement of `deflate` (deflation by projection);
/// `None` if X has no variance there.
fn top_direction(x: &[Vec<f64>], deflate: Option<&Vec<f64>>) -> Option<(Vec<f64>, f64)> {
    let d = x[0].len();
    // Fixed, irregular start (golden-ratio sequence) so it is not orthogonal
    // to the answer for symmetric data, as an all-ones start can be.
    let mut v: Vec<f64> = (1..=d)
        .map(|i| (i as f64 * 0.618_033_988_749_895).fract() - 0.5)
        .collect();
    let orthogonalise = |v: &mut Vec<f64>| {
        if let Some(u) = deflate {
            let c = dot(v, u);
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= c * b);
        }
    };
    orthogonalise(&mut v);
    normalise(&mut v)?;
    let mut eigenvalue = 0.0;
    for _ in 0..MAX_ITERS {
        let xv: Vec<f64> = x.iter().map(|row| dot(row, &v)).collect();
        let mut next = vec![0.0; d];
        for (row, s) in x.iter().zip(&xv) {
            next.iter_mut().zip(row).for_each(|(a, b)| *a += s * b);
        }
        orthogonalise(&mut next);
        eigenvalue = normalise(&mut next)?;
        let change: f64 = next.iter().zip(&v).map(|(a, b)| (a - b).powi(2)).sum();
        v = next;
        if change < TOLERANCE {
            break;
        }
    }
    let largest = v
        .iter()
        .copied()
        .fold(0.0f64, |m, a| if a.abs() > m.abs() { a } else { m });
    if largest < 0.0 {
        v.iter_mut().for_each(|a| *a = -*a);
    }
    Some((v, eigenvalue))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Scales `v` to unit length and returns its former norm; `None` if it is
/// zero (no variance left in that subspace) or not finite.
fn normalise(v: &mut [f64]) -> Option<f64> {
    let norm = dot(v, v).sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return None;
    }
    v.iter_mut().for_each(|a| *a /= norm);
    Some(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variance(xs: impl Iterator<Item = f64>) -> f64 {
        let v: Vec<f64> = xs.collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64
    }

    #[test]
    fn points_on_a_line_project_onto_x() {
        // A line in 3-D with direction (2, -1, -1), which is orthogonal to an
        // all-ones start vector.
        let pts: Vec<Vec<f32>> = (0..5)
            .map(|t| t as f32)
            .map(|t| vec![1.0 + 2.0 * t, 1.0 - t, 2.0 - t])
            .collect();
        let proj = pca_2d(&pts);
        // Centred positions (t - 2)·(2, -1, -1) projected on the unit direction:
        // (t - 2)·√6, positive for t > 2 because the largest component (2) is made positive.
        for (t, (x, y)) in proj.iter().enumerate() {
            assert!(
                (x - (t as f64 - 2.0) * 6f64.sqrt()).abs() < 1e-9,
                "{proj:?}"
            );
            assert_eq!(*y, 0.0);
        }
    }

    #[test]
    fn variance_ordering_and_axes() {
        // An axis-aligned ellipse: spread 3 along dim 2, spread 1 along dim 0.
        let pts: Vec<Vec<f32>> = (0..16)
            .map(|i| {
                let a = i as f32 * std::f32::consts::TAU / 16.0;
                vec![a.sin(), 0.0, 3.0 * a.cos()]
            })
            .collect();
        let proj = pca_2d(&pts);
        let vx = variance(proj.iter().map(|p| p.0));
        let vy = variance(proj.iter().map(|p| p.1));
        // Population variance of 3cos and sin over a full circle: 9/2 and 1/2.
        assert!(
            (vx - 4.5).abs() < 1e-5 && (vy - 0.5).abs() < 1e-5,
            "{vx} {vy}"
        );
        assert!(
            (proj[0].0 - 3.0).abs() < 1e-5 && proj[0].1.abs() < 1e-5,
            "{proj:?}"
        );
    }

    #[test]
    fn degenerate_inputs() {
        assert!(pca_2d(&[]).is_empty());
        assert_eq!(pca_2d(&[vec![1.0, 2.0]]), vec![(0.0, 0.0)]);
        assert_eq!(
            pca_2d(&[vec![1.0, 2.0], vec![1.0, 2.0]]),
            vec![(0.0, 0.0); 2]
        );
    }
}
