//! Contrastive objectives over L2-normalised embeddings.

use tch::{Kind, Tensor};

/// Symmetric InfoNCE with in-batch negatives and extra hard negatives.
///
/// `anchor`, `positive`: [B, D], row i of each is a positive pair; every other
/// row is a negative. `hard`: [M, D] extra negatives for the anchor→positive
/// direction (mutants of the batch's functions). `beta` > 0 applies CodeSage's
/// hard-negative weighting: each anchor's negatives are reweighted by
/// softmax(beta · similarity) (times their count, detached), so the loss
/// concentrates on the negatives that are currently closest.
pub fn info_nce(
    anchor: &Tensor,
    positive: &Tensor,
    hard: Option<&Tensor>,
    tau: f64,
    beta: f64,
) -> Tensor {
    let b = anchor.size()[0];
    let candidates = match hard {
        Some(h) if h.size()[0] > 0 => Tensor::cat(&[positive, h], 0),
        _ => positive.shallow_clone(),
    };
    let targets = Tensor::arange(b, (Kind::Int64, anchor.device()));
    let forward = weighted_logits(&anchor.matmul(&candidates.tr()), tau, beta)
        .cross_entropy_for_logits(&targets);
    let backward = weighted_logits(&positive.matmul(&anchor.tr()), tau, beta)
        .cross_entropy_for_logits(&targets);
    (forward + backward) / 2.0
}

/// Similarities [B, C] (the positive of row i in column i) → logits, with the
/// negatives' log-weights added when `beta` > 0.
fn weighted_logits(sim: &Tensor, tau: f64, beta: f64) -> Tensor {
    let logits = sim / tau;
    if beta <= 0.0 {
        return logits;
    }
    let (b, c) = (sim.size()[0], sim.size()[1]);
    let eye = Tensor::eye_m(b, c, (Kind::Bool, sim.device()));
    let weights = tch::no_grad(|| {
        let masked = (sim * beta).masked_fill(&eye, f64::NEG_INFINITY);
        masked.softmax(1, sim.kind()) * ((c - 1) as f64)
    });
    logits + weights.clamp_min(1e-12).log().masked_fill(&eye, 0.0)
}

/// Wang & Isola's alignment (mean squared distance of positive pairs; lower
/// is better) and uniformity (log mean of exp(-2‖x−y‖²) over all pairs; lower
/// is better), as health metrics.
pub fn alignment_uniformity(anchor: &Tensor, positive: &Tensor) -> (f64, f64) {
    tch::no_grad(|| {
        let align = (anchor - positive)
            .square()
            .sum_dim_intlist(1, false, Kind::Float)
            .mean(Kind::Float);
        let x = Tensor::cat(&[anchor, positive], 0);
        let d = x.matmul(&x.tr()).neg().g_add_scalar(1.0) * 2.0; // ‖x−y‖² for unit vectors
        let n = x.size()[0];
        let off = Tensor::eye(n, (Kind::Bool, x.device())).logical_not();
        let uniform = (d * -2.0).exp().masked_select(&off).mean(Kind::Float).log();
        (align.double_value(&[]), uniform.double_value(&[]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::normalize;

    fn unit(rows: &[[f32; 2]]) -> Tensor {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        normalize(&Tensor::from_slice(&flat).view([rows.len() as i64, 2]))
    }

    #[test]
    fn info_nce_matches_a_hand_computed_value() {
        let a = unit(&[[1.0, 0.0], [0.0, 1.0]]);
        let p = unit(&[[1.0, 0.0], [0.0, 1.0]]);
        let loss = info_nce(&a, &p, None, 1.0, 0.0).double_value(&[]);
        // Each row: -log(e^1 / (e^1 + e^0)).
        let expected = -(1f64.exp() / (1f64.exp() + 1.0)).ln();
        assert!((loss - expected).abs() < 1e-6, "{loss} vs {expected}");
    }

    #[test]
    fn hard_negatives_raise_the_loss_and_weighting_focuses_on_close_ones() {
        let a = unit(&[[1.0, 0.0], [0.0, 1.0]]);
        let p = unit(&[[1.0, 0.1], [0.1, 1.0]]);
        let easy = info_nce(&a, &p, None, 0.1, 0.0).double_value(&[]);
        let h = unit(&[[1.0, 0.3], [-1.0, 0.0]]);
        let hard = info_nce(&a, &p, Some(&h), 0.1, 0.0).double_value(&[]);
        assert!(hard > easy);
        let weighted = info_nce(&a, &p, Some(&h), 0.1, 5.0).double_value(&[]);
        assert!(
            weighted > hard,
            "close negatives weigh more: {weighted} vs {hard}"
        );
    }

    #[test]
    fn alignment_is_zero_for_identical_pairs() {
        let a = unit(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
        let (align, uniform) = alignment_uniformity(&a, &a);
        assert!(align.abs() < 1e-9);
        assert!(uniform < 0.0);
    }
}
