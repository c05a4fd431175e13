//! What every resumable training loop (contrastive `train`, `pretrain`)
//! shares: its `metrics.jsonl` and its progress bar.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// `metrics.jsonl` of a run resumed at step `start`: lines up to the
/// checkpoint are kept, later ones (an interrupted run's) dropped, and new
/// lines are appended as they come.
pub struct MetricsLog<M> {
    file: File,
    pub lines: Vec<M>,
}

impl<M: Serialize + DeserializeOwned> MetricsLog<M> {
    pub fn open(path: &Path, start: i64, step_of: impl Fn(&M) -> i64) -> Result<Self> {
        let lines: Vec<M> = if start > 0 && path.exists() {
            std::fs::read_to_string(path)?
                .lines()
                .filter_map(|l| serde_json::from_str::<M>(l).ok())
                .filter(|m| step_of(m) <= start)
                .collect()
        } else {
            Vec::new()
        };
        let mut text = String::new();
        for m in &lines {
            text += &serde_json::to_string(m)?;
            text.push('\n');
        }
        crate::io::write_text_atomic(path, &text)?;
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(MetricsLog { file, lines })
    }

    pub fn emit(&mut self, m: M) -> Result<()> {
        writeln!(self.file, "{}", serde_json::to_string(&m)?)?;
        self.lines.push(m);
        Ok(())
    }
}

/// A bar over `steps` (`what` names them) positioned at `start`; hidden when not `show`.
pub fn step_bar(steps: i64, start: i64, what: &str, show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(steps as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {what} {{msg}}"
        ))
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_position(start as u64);
    bar
}
