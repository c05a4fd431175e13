//! Python source analysis: parsing with Astral's ruff parser, function
//! extraction for the corpus, control-flow graphs for tracing, and rewrites.

pub mod cfg;
pub mod edit;
pub mod extract;
pub mod inputs;
pub mod mutant;
pub mod rewrite;
