//! One module per subcommand.

pub mod corpus;
pub mod pipeline;
pub mod planned;
pub mod trace;
