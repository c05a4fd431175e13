//! One module per subcommand.

pub mod ablate;
pub mod bench_set;
pub mod corpus;
pub mod embed;
pub mod eval;
pub mod merge;
pub mod mine;
pub mod pairs;
pub mod pipeline;
pub mod pretrain;
pub mod render;
pub mod report;
pub mod tokenizer;
pub mod trace;
pub mod train;
pub mod variants;
