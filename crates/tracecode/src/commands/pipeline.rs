//! `tracecode pipeline`: the main job — every available stage, end to end, on
//! a default corpus found on the machine, resumable, ending in a report.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use super::corpus::{self, CorpusSummary};

/// Run every available stage on the default corpus and write a report.
///
/// The default corpus is the local CPython standard library plus MBPP
/// (`<data>/search/mbpp.jsonl`, when present). Each stage writes its output
/// under `--out` and is skipped on a rerun when its output exists, so an
/// interrupted run resumes where it stopped (`--force` redoes everything).
///
/// Stages available in this version: corpus. The report lists the rest as pending.
///
/// Example:
///
///   tracecode pipeline --out out
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct PipelineArgs {
    /// Directory for every stage's output and the report.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,

    /// Shared data directory holding `search/mbpp.jsonl`.
    #[arg(long, default_value = "../shared/data")]
    pub data: PathBuf,

    /// Redo stages whose outputs already exist.
    #[arg(long)]
    pub force: bool,

    /// Python interpreter whose stdlib is the default corpus.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

pub fn run(args: &PipelineArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let corpus_path = args.out.join("corpus.parquet");
    let summary_path = args.out.join("corpus.parquet.summary.json");
    let summary: serde_json::Value = if !args.force && corpus_path.exists() && summary_path.exists()
    {
        eprintln!(
            "[pipeline] corpus: {} exists, skipping (use --force to redo)",
            corpus_path.display()
        );
        serde_json::from_str(&std::fs::read_to_string(&summary_path)?)?
    } else {
        eprintln!("[pipeline] corpus: extracting functions");
        let mbpp = args.data.join("search").join("mbpp.jsonl");
        let mut inputs = Vec::new();
        if mbpp.exists() {
            inputs.push(mbpp);
        } else {
            eprintln!(
                "[pipeline] {} not found; using the stdlib alone",
                mbpp.display()
            );
        }
        let mut corpus_args = corpus::args_for(inputs, true, &corpus_path);
        corpus_args.python = args.python.clone();
        let s: CorpusSummary = corpus::run(&corpus_args)?;
        serde_json::to_value(&s)?
    };
    let report = args.out.join("report.md");
    tracecode_data::io::atomic_write(&report, |mut f| {
        use std::io::Write;
        f.write_all(render_report(&summary).as_bytes())?;
        Ok(())
    })?;
    println!("report: {}", report.display());
    Ok(())
}

fn render_report(corpus: &serde_json::Value) -> String {
    let n = |k: &str| corpus.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
    let mut md = String::from("# TraceCode run report\n\n## Corpus\n\n");
    let _ = writeln!(md, "| measure | value |\n|---|---|");
    for (label, key) in [
        ("inputs (files and rows)", "inputs"),
        ("functions kept", "functions"),
        ("standalone", "standalone"),
        ("with summary", "with_summary"),
        ("with example calls", "with_examples"),
    ] {
        let _ = writeln!(md, "| {label} | {} |", n(key));
    }
    if let Some(d) = corpus.get("duplicates") {
        let _ = writeln!(
            md,
            "| duplicates removed (exact / near) | {} / {} |",
            d["exact"], d["near"]
        );
    }
    for (title, key, unit) in [
        ("Errors by reason", "errors", "rows"),
        ("Skipped inputs by reason", "skipped", "rows"),
        (
            "Why functions are not standalone",
            "non_standalone_reasons",
            "functions",
        ),
    ] {
        let _ = write!(md, "\n### {title}\n\n| reason | {unit} |\n|---|---|\n");
        for (reason, count) in corpus
            .get(key)
            .and_then(|e| e.as_object())
            .into_iter()
            .flatten()
        {
            let _ = writeln!(md, "| {reason} | {count} |");
        }
    }
    md.push_str("\n## Pending stages\n\ntrace, variants, pairs, train, eval and the HTML report are not yet available in this version.\n");
    md
}
