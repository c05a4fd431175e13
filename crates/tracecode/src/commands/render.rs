//! `tracecode render`: traces as text for LLM prompts.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use serde::Serialize;
use tracecode_data::io::write_rows_from;
use tracecode_data::{stream_rows, TraceRecord};
use tracecode_render::{render, RenderFormat};

/// A format name on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// NExT: inline comments with numbered states on each line, loops abridged.
    Next,
    /// SemCoder: [INPUT]…[/INPUT], [STATE-k]{…}[/STATE-k] comments, [OUTPUT]…[/OUTPUT].
    Semcoder,
    /// CodeExecutor: `<line> n <state> var : value </state>` sequence, then `<output>`.
    Codeexecutor,
    /// Concise: only the variables each executed line changed.
    Concise,
}

impl From<FormatArg> for RenderFormat {
    fn from(f: FormatArg) -> RenderFormat {
        match f {
            FormatArg::Next => RenderFormat::Next,
            FormatArg::Semcoder => RenderFormat::Semcoder,
            FormatArg::Codeexecutor => RenderFormat::Codeexecutor,
            FormatArg::Concise => RenderFormat::Concise,
        }
    }
}

/// Render traces as text for LLM prompts.
///
/// The four representations compared in "Do Code Semantics Help?" (see
/// docs/trace-formats.md for each on one function). Only the called
/// function's own frame is shown; calls it makes are not expanded.
///
/// Without `-o`, the selected runs are printed; with `-o`, every selected run
/// in every format becomes a row `{id, qualname, run, call, format, text}`
/// (JSONL or Parquet), ready to go into a prompt dataset.
///
/// Examples:
///
///   tracecode render traces.parquet --id 3f2a… --format next
///   tracecode render traces.parquet --format semcoder,concise -o prompts.jsonl
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct RenderArgs {
    /// Traces from `tracecode trace`.
    pub traces: PathBuf,

    /// Formats to render (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "concise")]
    pub format: Vec<FormatArg>,

    /// Only the function with this id (or this qualname).
    #[arg(long)]
    pub id: Option<String>,

    /// Only this run of each function (0-based); default: every run.
    #[arg(long)]
    pub run: Option<usize>,

    /// At most this many functions (in file order).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// Write rows here instead of printing.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// One rendered run.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct Rendered {
    pub id: String,
    pub qualname: String,
    pub run: u32,
    pub call: String,
    pub format: String,
    pub text: String,
}

pub fn run(args: &RenderArgs) -> Result<()> {
    let id = args.id.clone();
    // Streamed: one function's renderings are made and handed on at a time.
    let selected = stream_rows(&args.traces, 16, move |t: &TraceRecord| {
        !t.runs.is_empty()
            && id
                .as_deref()
                .is_none_or(|id| t.id == id || t.qualname == id)
    })
    .take(args.limit.unwrap_or(usize::MAX));
    let mut count = 0;
    let fill = |emit: &mut dyn FnMut(Rendered) -> Result<()>| -> Result<()> {
        let mut functions = 0;
        for t in selected {
            let t = t.with_context(|| format!("reading traces from {}", args.traces.display()))?;
            functions += 1;
            for (i, run) in t.runs.iter().enumerate() {
                if args.run.is_some_and(|r| r != i) {
                    continue;
                }
                for &f in &args.format {
                    let format = RenderFormat::from(f);
                    emit(Rendered {
                        id: t.id.clone(),
                        qualname: t.qualname.clone(),
                        run: i as u32,
                        call: run.call.clone(),
                        format: format.name().to_string(),
                        text: render(format, &t, run),
                    })?;
                    count += 1;
                }
            }
        }
        if functions == 0 {
            bail!("no traced function with runs matches the selection");
        }
        Ok(())
    };
    match &args.output {
        Some(path) => {
            write_rows_from(path, fill)?;
            eprintln!("render: {count} renderings → {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            fill(&mut |r: Rendered| {
                writeln!(
                    out,
                    "=== {} ({}) run {} [{}]\n{}\n",
                    r.qualname, r.id, r.run, r.format, r.text
                )?;
                Ok(())
            })?;
        }
    }
    Ok(())
}
