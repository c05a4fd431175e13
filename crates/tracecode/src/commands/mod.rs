//! One module per subcommand.

pub mod bench_set;
pub mod corpus;
pub mod embed;
pub mod pairs;
pub mod pipeline;
pub mod planned;
pub mod render;
pub mod tokenizer;
pub mod trace;
pub mod train;
pub mod variants;
