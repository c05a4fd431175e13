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
    /// For a method, the expression passed for its first parameter: `None`
    /// when it never touches its instance, `Class()` when it does and its
    /// class (made with no arguments) is in its context. `None` (no value)
    /// for a plain function.
    pub receiver: Option<String>,
    pub examples: Vec<ExampleCall>,
}

impl From<&FunctionRecord> for FunctionSpec {
    fn from(r: &FunctionRecord) -> Self {
        FunctionSpec {
            name: r.name.clone(),
            params: r.params.clone(),
            code: r.code.clone(),
            receiver: r.is_method.then(|| receiver_of(r)),
            examples: r.examples.clone(),
        }
    }
}

/// `Class()` for a method that reads its first parameter and whose class is
/// defined in its context (extraction puts it there only for classes made
/// with no arguments), else `None`.
fn receiver_of(r: &FunctionRecord) -> String {
    let class = r.qualname.split_once('.').map(|(c, _)| c);
    let first = r.params.first().map(|p| p.name.as_str());
    match (class, first) {
        (Some(class), Some(first)) => {
            let defines = r.context.lines().any(|l| {
                l.strip_prefix("class ")
                    .and_then(|rest| rest.strip_prefix(class))
                    .is_some_and(|rest| rest.starts_with(['(', ':']))
            });
            // Once in the signature, again wherever the body reads it.
            let word = regex::Regex::new(&format!(r"\b{}\b", regex::escape(first)))
                .expect("an escaped name is a valid regex");
            let reads_first = word.find_iter(&r.code).count() > 1;
            if defines && reads_first {
                format!("{class}()")
            } else {
                "None".into()
            }
        }
        _ => "None".into(),
    }
}
