//! One module per subcommand.

pub mod bench_set;
pub mod corpus;
pub mod pairs;
pub mod pipeline;
pub mod planned;
pub mod render;
pub mod trace;
pub mod variants;
