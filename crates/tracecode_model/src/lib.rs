//! TraceCode's learner on libtorch (`tch`): a BERT-family code encoder with
//! HuggingFace parameter names, a trace encoder over basic-block sequences and
//! value logs, their fusion, contrastive objectives, training with exact
//! resume, and embedding.

pub mod config;
pub mod data;
pub mod embed;
pub mod encoder;
pub mod features;
pub mod io;
pub mod loss;
pub mod model;
pub mod optim;
pub mod pretrain;
pub mod pretrained;
pub mod run_log;
pub mod summarize;
pub mod tokenizer;
pub mod trace_encoder;
pub mod train;
