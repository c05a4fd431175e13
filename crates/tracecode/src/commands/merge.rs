//! `tracecode merge`: join the outputs of sharded runs of one stage.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tracecode_data::{FunctionRecord, TraceRecord, VariantRecord};

/// Join the outputs of a stage run in shards (`--shard I/N` on N machines)
/// into one file, streamed, in the order the shards are given.
///
/// A row whose id was already written is dropped (a shard rerun, or the same
/// file given twice), so merging is idempotent. The merged file is written
/// atomically and gets the stage's summary, as if one machine had run it.
///
/// A whole run on N machines (any batch scheduler: a Slurm array, a
/// Kubernetes indexed Job) looks like:
///
///   tracecode corpus --config configs/corpus.toml -o corpus.parquet            # once
///   tracecode trace corpus.parquet -o traces.$I.parquet --shard $I/$N          # per machine
///   tracecode merge traces -o traces.parquet traces.*.parquet                  # once
///   tracecode variants traces.parquet -o variants.$I.parquet --shard $I/$N     # per machine
///   tracecode merge variants -o variants.parquet variants.*.parquet            # once
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct MergeArgs {
    /// What the shards hold.
    #[arg(value_enum)]
    pub stage: Stage,

    /// Shard outputs (Parquet or JSONL).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,

    /// Merged output (Parquet, or JSONL when it ends in `.jsonl`).
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// `tracecode corpus` outputs.
    Corpus,
    /// `tracecode trace` outputs.
    Traces,
    /// `tracecode variants` outputs (summary written beside the merged file).
    Variants,
}

/// Rows written and duplicates dropped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Merged {
    pub rows: usize,
    pub duplicates: usize,
}

pub fn run(args: &MergeArgs) -> Result<()> {
    for shard in &args.shards {
        if !shard.exists() {
            bail!("shard {} does not exist", shard.display());
        }
        if same_file(shard, &args.output) {
            bail!(
                "{} is both a shard and the output: name the merged file differently",
                shard.display()
            );
        }
    }
    let merged = match args.stage {
        Stage::Corpus => merge_rows(&args.shards, &args.output, |r: &FunctionRecord| {
            // Error rows have no function id of their own: keep them all.
            r.is_ok().then(|| r.id.clone())
        })?,
        Stage::Traces => merge_rows(&args.shards, &args.output, |r: &TraceRecord| {
            Some(r.id.clone())
        })?,
        Stage::Variants => merge_rows(&args.shards, &args.output, |r: &VariantRecord| {
            Some(r.id.clone())
        })?,
    };
    eprintln!(
        "[merge] {} shards → {}: {} rows ({} duplicates dropped)",
        args.shards.len(),
        args.output.display(),
        merged.rows,
        merged.duplicates
    );
    match args.stage {
        Stage::Corpus => {}
        Stage::Traces => {
            super::trace::summarize(&args.output)?;
        }
        Stage::Variants => {
            super::variants::summarize(&args.output)?;
        }
    }
    Ok(())
}

/// Streams the rows of `shards` into `output`, each key once (`None`: always kept).
pub fn merge_rows<T: Serialize + DeserializeOwned>(
    shards: &[PathBuf],
    output: &Path,
    key: impl Fn(&T) -> Option<String>,
) -> Result<Merged> {
    let mut seen = HashSet::new();
    let mut merged = Merged::default();
    tracecode_data::io::write_rows_from(output, |sink| {
        for shard in shards {
            tracecode_data::for_each_row(shard, |row: T| {
                if key(&row).is_some_and(|k| !seen.insert(k)) {
                    merged.duplicates += 1;
                    return Ok(());
                }
                merged.rows += 1;
                sink(row)
            })
            .with_context(|| format!("reading shard {}", shard.display()))?;
        }
        Ok(())
    })?;
    Ok(merged)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracecode_data::{read_rows, write_rows, FunctionRecord};

    fn record(id: &str) -> FunctionRecord {
        let mut r = FunctionRecord::error("files", "x.py", "x.py", "none", "");
        r.status = tracecode_data::RecordStatus::Ok;
        r.error = None;
        r.id = id.into();
        r
    }

    #[test]
    fn joins_shards_in_order_and_drops_repeated_ids() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.parquet");
        let b = dir.path().join("b.jsonl");
        write_rows(&a, &[record("1"), record("2")]).unwrap();
        let mut broken = FunctionRecord::error("files", "y.py", "y.py", "syntax_error", "bad");
        broken.id = "2".into(); // error rows are never deduplicated
        write_rows(&b, &[record("3"), record("1"), broken]).unwrap();
        let out = dir.path().join("all.parquet");
        let key = |r: &FunctionRecord| r.is_ok().then(|| r.id.clone());
        let merged = merge_rows(&[a.clone(), b.clone()], &out, key).unwrap();
        assert_eq!(
            merged,
            Merged {
                rows: 4,
                duplicates: 1
            }
        );
        let rows: Vec<FunctionRecord> = read_rows(&out).unwrap();
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3", "2"]);
        // Merging again, with a shard given twice, changes nothing.
        let again = dir.path().join("again.parquet");
        merge_rows(&[out.clone(), a], &again, key).unwrap();
        let rows: Vec<FunctionRecord> = read_rows(&again).unwrap();
        assert_eq!(rows.len(), 4);
    }
}
