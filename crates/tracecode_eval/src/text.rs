//! Text-generation metrics: smoothed BLEU-4 (CodeXGLUE code-to-text) and
//! ROUGE-L (Google's `rouge-score`).

use std::collections::HashMap;
use std::sync::LazyLock;

use anyhow::{ensure, Result};
use regex::Regex;
use serde::Serialize;

/// BLEU tokens. CodeXGLUE's `computeMaps` lower-cases and applies
/// `splitPuncts` (`re.findall(r"[\w]+|[^\s\w]", line)`), then `bleu.py`'s
/// `normalize` (the NIST mteval-v11a rules) re-tokenises the joined result.
/// On `splitPuncts` output the only `normalize` rule that still changes the
/// tokens is the punctuation rule, whose class contains `_`: it splits
/// underscores out of words. (`<skipped>`, line breaks and XML entities can no
/// longer occur, and the period/comma/dash rules only add spaces around
/// characters that are already separate tokens.) So the composition is: runs
/// of word characters other than `_`, or any single other non-space character.
///
/// Caveat: Rust's Unicode `\w` differs from Python's on rare characters
/// (e.g. combining marks are word characters here, and `²` is not), so
/// non-ASCII text can tokenise slightly differently from the Python original.
static BLEU_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^\W_]+|\S").expect("valid BLEU token regex"));

/// Smoothed sentence BLEU-4 of `hypothesis` against one `reference`, on a
/// 0–100 scale, exactly as CodeXGLUE's code-to-text evaluator
/// (`Code-Text/code-to-text/evaluator/evaluator.py`: `computeMaps`,
/// `bleuFromMaps`, `bleu`, `score_cooked` with `smooth=1`), which is the
/// smoothed BLEU of Lin & Och (2004, "ORANGE") from the CodeNN `bleu.py`.
///
/// For n-gram orders 1..=4 with clipped matches `c_n` and hypothesis n-gram
/// counts `g_n`: `log p_1 = ln(c_1 + ε) − ln(g_1 + ε)` and, smoothed,
/// `log p_n = ln(c_n + 1) − ln(g_n + 1)` for n > 1, where ε is the smallest
/// positive normal double (Python's `sys.float_info.min`), so an order with no
/// unigram match contributes ≈ −708 rather than −∞. The brevity penalty is
/// `min(0, 1 − (|ref| + 1)/(|hyp| + 1))` in log space (note the +1s, as in the
/// original). Result: `100 · exp(mean_n log p_n + penalty)`.
///
/// Quirk kept from the original: an empty hypothesis scores
/// `100 · exp(−|ref|)` (every order is 0/0 → log 0), not 0.
pub fn smoothed_bleu4(reference: &str, hypothesis: &str) -> f64 {
    const N: usize = 4;
    let reference = bleu_tokens(reference);
    let hypothesis = bleu_tokens(hypothesis);
    let ref_counts = ngram_counts(&reference, N);
    let mut correct = [0usize; N];
    for (gram, count) in ngram_counts(&hypothesis, N) {
        correct[gram.len() - 1] += count.min(ref_counts.get(&gram).copied().unwrap_or(0));
    }
    let mut log_bleu = 0.0;
    for (k, &c) in correct.iter().enumerate() {
        let guess = hypothesis.len().saturating_sub(k) as f64;
        let add = if k > 0 { 1.0 } else { 0.0 };
        log_bleu +=
            (c as f64 + add + f64::MIN_POSITIVE).ln() - (guess + add + f64::MIN_POSITIVE).ln();
    }
    log_bleu /= N as f64;
    let penalty = (1.0 - (reference.len() + 1) as f64 / (hypothesis.len() + 1) as f64).min(0.0);
    100.0 * (log_bleu + penalty).exp()
}

/// Mean of [`smoothed_bleu4`] over aligned pairs, as `bleuFromMaps` reports
/// it (CodeXGLUE's "smoothed BLEU-4", 0–100). Errors on length mismatch or an
/// empty corpus.
pub fn corpus_smoothed_bleu4<R: AsRef<str>, H: AsRef<str>>(
    references: &[R],
    hypotheses: &[H],
) -> Result<f64> {
    check_corpus(references.len(), hypotheses.len())?;
    let total: f64 = references
        .iter()
        .zip(hypotheses)
        .map(|(r, h)| smoothed_bleu4(r.as_ref(), h.as_ref()))
        .sum();
    Ok(total / references.len() as f64)
}

/// Lower-cases (as `computeMaps` does before `splitPuncts`), then splits
/// with [`BLEU_TOKEN`].
fn bleu_tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    BLEU_TOKEN
        .find_iter(&lower)
        .map(|m| m.as_str().to_owned())
        .collect()
}

fn ngram_counts(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    for k in 1..=n {
        for gram in tokens.windows(k) {
            *counts.entry(gram).or_insert(0) += 1;
        }
    }
    counts
}

/// ROUGE-L scores of one hypothesis against one reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RougeL {
    /// LCS length / hypothesis length.
    pub precision: f64,
    /// LCS length / reference length.
    pub recall: f64,
    /// Harmonic mean of precision and recall (F with β = 1).
    pub f1: f64,
}

/// ROUGE-L over longest common subsequences of tokens, as `rouge_score`'s
/// `RougeScorer(["rougeL"])` with its default tokenizer and no stemmer:
/// lower-case, keep the runs of `[a-z0-9]` (everything else, including
/// non-ASCII letters, separates tokens). If either side has no tokens all
/// three scores are 0, as in `rouge_score`.
pub fn rouge_l(reference: &str, hypothesis: &str) -> RougeL {
    let r = rouge_tokens(reference);
    let h = rouge_tokens(hypothesis);
    if r.is_empty() || h.is_empty() {
        return RougeL {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
    }
    let lcs = lcs_len(&r, &h) as f64;
    let precision = lcs / h.len() as f64;
    let recall = lcs / r.len() as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    RougeL {
        precision,
        recall,
        f1,
    }
}

/// Per-field mean of [`rouge_l`] over aligned pairs (the plain average; the
/// bootstrap intervals of `rouge_score`'s aggregator are not reproduced).
/// Errors on length mismatch or an empty corpus.
pub fn corpus_rouge_l<R: AsRef<str>, H: AsRef<str>>(
    references: &[R],
    hypotheses: &[H],
) -> Result<RougeL> {
    check_corpus(references.len(), hypotheses.len())?;
    let mut sum = RougeL {
        precision: 0.0,
        recall: 0.0,
        f1: 0.0,
    };
    for (r, h) in references.iter().zip(hypotheses) {
        let s = rouge_l(r.as_ref(), h.as_ref());
        sum.precision += s.precision;
        sum.recall += s.recall;
        sum.f1 += s.f1;
    }
    let n = references.len() as f64;
    Ok(RougeL {
        precision: sum.precision / n,
        recall: sum.recall / n,
        f1: sum.f1 / n,
    })
}

fn rouge_tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Length of the longest common subsequence, O(|a|·|b|) time, O(|b|) memory.
fn lcs_len(a: &[String], b: &[String]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

fn check_corpus(refs: usize, hyps: usize) -> Result<()> {
    ensure!(refs == hyps, "{refs} references but {hyps} hypotheses");
    ensure!(refs > 0, "empty corpus");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn bleu_tokenisation_matches_split_puncts_then_normalize() {
        // Python: normalize(splitPuncts("parse json string into dict, raise value_error"))
        assert_eq!(
            bleu_tokens("Parse JSON string into dict, raise value_error"),
            ["parse", "json", "string", "into", "dict", ",", "raise", "value", "_", "error"]
        );
        // Digits and periods: "3.14-2" -> 3 . 14 - 2; "__" -> _ _
        assert_eq!(
            bleu_tokens("3.14-2 a__b"),
            ["3", ".", "14", "-", "2", "a", "_", "_", "b"]
        );
    }

    #[test]
    fn bleu_identical_is_100() {
        let s = "the cat sat on the mat";
        assert!(close(smoothed_bleu4(s, s), 100.0, 1e-9));
    }

    #[test]
    fn bleu_prefix_only_pays_brevity_penalty() {
        // hyp "the cat sat": every n-gram order matches fully (1-4: 3/3, (2+1)/(2+1),
        // (1+1)/(1+1), (0+1)/(0+1)), so only the penalty 1 - 7/4 = -0.75 remains.
        // Reference implementation: 47.236655274101466.
        let b = smoothed_bleu4("the cat sat on the mat", "the cat sat");
        assert!(close(b, 100.0 * (-0.75f64).exp(), 1e-9));
        assert!(close(b, 47.236655274101466, 1e-9));
    }

    #[test]
    fn bleu_partial_overlap_hand_computed() {
        // ref: returns the max _ value of the list .   (9 tokens)
        // hyp: return max _ value of a list             (7 tokens)
        // matches 1-gram 5/7, 2-gram (3+1)/(6+1), 3-gram (2+1)/(5+1), 4-gram (1+1)/(4+1)
        // penalty 1 - 10/8 = -0.25; reference implementation: 41.62865289720646.
        let expected =
            100.0 * ((5.0f64 / 7.0 * 4.0 / 7.0 * 3.0 / 6.0 * 2.0 / 5.0).ln() / 4.0 - 0.25).exp();
        let b = smoothed_bleu4(
            "Returns the max_value of the list.",
            "return max_value of a list",
        );
        assert!(close(b, expected, 1e-9));
        assert!(close(b, 41.62865289720646, 1e-9));
    }

    #[test]
    fn bleu_disjoint_and_empty() {
        // No unigram match: log p1 = ln(ε) - ln 2 ≈ -709.1, so the score is ~1e-75
        // (reference implementation: 8.636168555094742e-76), i.e. 0 for reporting.
        let disjoint = smoothed_bleu4("a b", "c d");
        assert!(disjoint > 0.0 && disjoint < 1e-70);
        // Empty hypothesis: only the penalty 1 - 4/1 = -3 -> 100·e^-3 = 4.9787 (sic).
        assert!(close(
            smoothed_bleu4("return the sum", ""),
            100.0 * (-3.0f64).exp(),
            1e-9
        ));
    }

    #[test]
    fn corpus_bleu_is_the_mean() {
        let refs = ["the cat sat on the mat", "a b"];
        let hyps = ["the cat sat on the mat", "c d"];
        let c = corpus_smoothed_bleu4(&refs, &hyps).unwrap();
        assert!(close(c, 50.0, 1e-9));
        assert!(corpus_smoothed_bleu4(&refs, &hyps[..1]).is_err());
        assert!(corpus_smoothed_bleu4::<&str, &str>(&[], &[]).is_err());
    }

    #[test]
    fn rouge_l_hand_computed() {
        // ref the cat sat on the mat / hyp the cat is on a mat: LCS = the cat on mat = 4
        let s = rouge_l("The cat sat on the mat.", "the cat is on a mat");
        assert!(close(s.precision, 4.0 / 6.0, 1e-12));
        assert!(close(s.recall, 4.0 / 6.0, 1e-12));
        assert!(close(s.f1, 4.0 / 6.0, 1e-12));
        // ref a b c d / hyp a c e: LCS 2, P = 2/3, R = 1/2, F = 2PR/(P+R) = 4/7
        let s = rouge_l("a b c d", "a, c; E!");
        assert!(close(s.precision, 2.0 / 3.0, 1e-12));
        assert!(close(s.recall, 0.5, 1e-12));
        assert!(close(s.f1, 4.0 / 7.0, 1e-12));
    }

    #[test]
    fn rouge_l_tokens_and_empty() {
        // Underscores and non-ASCII letters separate tokens.
        assert_eq!(rouge_tokens("max_value2 Café"), ["max", "value2", "caf"]);
        assert_eq!(rouge_l("a b", "c").f1, 0.0);
        assert_eq!(
            rouge_l("a b", "!!"),
            RougeL {
                precision: 0.0,
                recall: 0.0,
                f1: 0.0
            }
        );
    }

    #[test]
    fn corpus_rouge_l_is_the_mean() {
        let c = corpus_rouge_l(&["a b", "a b c d"], &["a b", "a c e"]).unwrap();
        assert!(close(c.precision, (1.0 + 2.0 / 3.0) / 2.0, 1e-12));
        assert!(close(c.recall, 0.75, 1e-12));
        assert!(close(c.f1, (1.0 + 4.0 / 7.0) / 2.0, 1e-12));
    }
}
