//! Record schemas shared by every TraceCode stage, and their on-disk formats.
//!
//! Datasets are Apache Parquet (readable by pandas, polars and HF `datasets`);
//! small human-facing files are JSONL. Every writer is atomic: it writes a
//! temporary file in the destination directory and renames it into place, so
//! an interrupted run never leaves a truncated dataset behind.

pub mod behaviour;
pub mod equivalence;
pub mod io;
pub mod schema;
pub mod trace;
pub mod variant;

pub use io::{
    for_each_row, read_parquet, read_rows, stream_listed, stream_rows, write_jsonl, write_parquet,
    write_rows, OutputFormat, PartedOutput,
};
pub use schema::{serde_name, ExampleCall, FunctionRecord, Param, ParamKind, RecordStatus};
pub use trace::{Cfg, RunResult, RunStatus, StatusCount, TraceRecord, TracedRun, ValueWrite};
pub use variant::{
    ClonePair, EquivalenceCheck, EquivalenceLabel, PairExample, Rename, Split, VariantRecord,
    VariantRole,
};
