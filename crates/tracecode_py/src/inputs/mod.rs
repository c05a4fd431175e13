//! Deterministic input generation: Python call expressions to trace a
//! function on, built from its examples, signature and body.
//!
//! Layout follows the HF-tokenizers style: one [`InputSource`] trait, one file
//! per kind of source (`mutate`, `random`, `usage`), and [`InputStrategy`]
//! naming them all so every generated call records where it came from.
//! Everything is source text, so nothing here needs a Python interpreter; the
//! tracer decides which calls actually run. `adapt` closes the loop the other
//! way: it reads the exception messages of calls that failed at entry and
//! proposes calls with the argument types changed accordingly.

mod adapt;
mod mutate;
mod random;
mod strategy;
mod types;
mod usage;

pub use adapt::{adapt_calls, FailedCall};
pub use mutate::mutate_arg;
pub use random::{
    py_bytes_repr, py_str_repr, random_value, random_value_with, zero_value, RandomConfig,
};
pub use strategy::{
    canonical_calls, canonical_signature, generate_calls, mutate_calls, GeneratedCall, InputSource,
    InputStrategy,
};
pub use types::ValueType;
pub use usage::infer_param_types;

use tracecode_data::schema::{ExampleCall, FunctionRecord, Param};

/// The part of a [`FunctionRecord`] input generation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    pub name: String,
    pub params: Vec<Param>,
    pub code: String,
    pub is_method: bool,
    pub examples: Vec<ExampleCall>,
}

impl From<&FunctionRecord> for FunctionSpec {
    fn from(r: &FunctionRecord) -> Self {
        FunctionSpec {
            name: r.name.clone(),
            params: r.params.clone(),
            code: r.code.clone(),
            is_method: r.is_method,
            examples: r.examples.clone(),
        }
    }
}
