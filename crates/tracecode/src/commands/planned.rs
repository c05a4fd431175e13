//! Stages that later releases fill in. They exist so `--help` shows the whole
//! pipeline, and they fail with a clear message instead of producing anything.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};

/// Arguments of a planned stage: accepted and ignored, so the error below is
/// the one a user sees whatever they typed.
#[derive(Args, Debug)]
pub struct Ignored {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    args: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum Planned {
    /// [not yet available] Evaluate on clone detection, code search, vulnerability detection, summarization.
    Eval(Ignored),
    /// [not yet available] Run the ablation grid and tabulate every task.
    Ablate(Ignored),
    /// [not yet available] Write the HTML and Markdown report.
    Report(Ignored),
}

impl Planned {
    pub fn run(&self) -> Result<()> {
        let name = match self {
            Planned::Eval(_) => "eval",
            Planned::Ablate(_) => "ablate",
            Planned::Report(_) => "report",
        };
        bail!("`tracecode {name}` is not yet available in this version; see README.md for the stages that are")
    }
}
