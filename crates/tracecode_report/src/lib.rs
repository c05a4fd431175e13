//! Results reports for TraceCode runs: one self-contained HTML page (inline
//! CSS and SVG charts, opens offline) and a Markdown summary of the same
//! content.
//!
//! Build a [`Report`] (title, metadata, sections of paragraphs, tables and
//! charts), then [`render_html`] / [`render_markdown`] it, or [`write_report`]
//! both files at once. The model is serde-serialisable so a run can keep the
//! report's data as JSON and re-render it later. [`pca_2d`] projects
//! embeddings for the [`Scatter`] chart.

mod format;
mod html;
mod markdown;
mod model;
mod pca;
mod svg;
mod ticks;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

pub use html::render_html;
pub use markdown::render_markdown;
pub use model::{
    BarChart, BarSeries, Better, Block, Cell, Column, Histogram, LineChart, Report, Scatter,
    ScatterPoint, Section, Series, Table,
};
pub use pca::pca_2d;

/// Writes `dir/stem.html` and `dir/stem.md` (creating `dir`), each atomically
/// so a reader never sees a half-written report. Returns both paths.
pub fn write_report(dir: &Path, stem: &str, report: &Report) -> Result<(PathBuf, PathBuf)> {
    let html = dir.join(format!("{stem}.html"));
    let md = dir.join(format!("{stem}.md"));
    for (path, text) in [(&html, render_html(report)), (&md, render_markdown(report))] {
        tracecode_data::io::atomic_write(path, |mut f| Ok(f.write_all(text.as_bytes())?))?;
    }
    Ok((html, md))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_report_writes_both_files_and_model_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let report = Report {
            title: "Run".into(),
            sections: vec![Section {
                heading: "Loss".into(),
                blocks: vec![
                    Block::Note("pending".into()),
                    Block::Table(Table {
                        columns: vec![Column::lower("loss")],
                        rows: vec![vec![Cell::value(0.5)]],
                        caption: None,
                    }),
                ],
                ..Section::default()
            }],
            ..Report::default()
        };
        let (html, md) = write_report(&dir.path().join("out"), "report", &report).unwrap();
        assert_eq!(html, dir.path().join("out/report.html"));
        assert_eq!(
            std::fs::read_to_string(&html).unwrap(),
            render_html(&report)
        );
        assert_eq!(
            std::fs::read_to_string(&md).unwrap(),
            render_markdown(&report)
        );
        // Only the two reports remain: no temporary files left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("out")).unwrap().count(),
            2
        );

        let json = serde_json::to_string(&report).unwrap();
        assert!(json.contains(r#"{"note":"pending"}"#), "{json}");
        assert_eq!(serde_json::from_str::<Report>(&json).unwrap(), report);
    }
}
