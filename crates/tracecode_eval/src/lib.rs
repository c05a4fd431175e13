//! Evaluation of code encoders: the numbers `tracecode eval` reports.
//!
//! Everything here is pure Rust and independent of libtorch, so metrics can be
//! tested (and recomputed from saved embeddings) on any machine.
//!
//! - [`metrics`]: AUROC with a DeLong standard error, MAP@R, MRR, macro-F1 and
//!   accuracy.
//! - [`text`]: smoothed BLEU-4 as CodeXGLUE's code-to-text evaluator computes
//!   it, and ROUGE-L as Google's `rouge-score` computes it.
//! - [`lexical`]: a code-aware tokenizer, Okapi BM25 and TF-IDF, the lexical
//!   baselines any learned encoder must beat.
//! - [`probe`]: a standardised, L2-regularised logistic-regression probe with
//!   L2 chosen by cross-validation on the training split.
//! - [`stats`]: mean and sample standard deviation for reporting spreads.

pub mod lexical;
pub mod metrics;
pub mod probe;
pub mod stats;
pub mod text;
