//! The report data model: plain serde structs, so a report can be built in
//! code, saved as JSON next to the HTML, and re-rendered later.
//!
//! Numbers are `f64` and may be NaN or infinite (a diverged run, an empty
//! split); the renderers skip or mark such values instead of failing, because
//! a report of a bad run is exactly when one is needed.

use serde::{Deserialize, Serialize};

/// A whole report: a title block, run metadata and numbered sections.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub title: String,
    #[serde(default)]
    pub subtitle: Option<String>,
    /// Run metadata shown under the title (`("model", "codet5p-110m")`, …), in order.
    #[serde(default)]
    pub meta: Vec<(String, String)>,
    #[serde(default)]
    pub sections: Vec<Section>,
}

/// One section: a heading (listed in the table of contents), prose, then blocks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub heading: String,
    /// Plain-text paragraphs (no markup; everything is escaped).
    #[serde(default)]
    pub paragraphs: Vec<String>,
    #[serde(default)]
    pub blocks: Vec<Block>,
}

/// A table, a figure or a callout. Tables and figures are numbered in
/// document order ("Table 1", "Figure 1") so text can refer to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Block {
    Table(Table),
    LineChart(LineChart),
    BarChart(BarChart),
    Histogram(Histogram),
    Scatter(Scatter),
    /// A highlighted paragraph: a caveat, or "pending: …" for missing results.
    Note(String),
}

/// A results table. Columns marked [`Better`] get their best cell in bold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Shown above the table after "Table N.".
    #[serde(default)]
    pub caption: Option<String>,
    pub columns: Vec<Column>,
    /// Rows of cells; a short row is padded with empty cells.
    pub rows: Vec<Vec<Cell>>,
}

/// A table column header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// Which direction is better; `None` for label columns and neutral numbers.
    #[serde(default)]
    pub better: Option<Better>,
    /// Fixed decimals for this column's numbers; `None` picks them per value.
    #[serde(default)]
    pub decimals: Option<usize>,
}

impl Column {
    /// A column without a "better" direction (labels, counts).
    pub fn plain(name: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            better: None,
            decimals: None,
        }
    }

    /// A metric column where the largest value is bolded (accuracy, MRR).
    pub fn higher(name: impl Into<String>) -> Self {
        Column {
            better: Some(Better::Higher),
            ..Column::plain(name)
        }
    }

    /// A metric column where the smallest value is bolded (loss, latency).
    pub fn lower(name: impl Into<String>) -> Self {
        Column {
            better: Some(Better::Lower),
            ..Column::plain(name)
        }
    }
}

/// Direction in which a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    Higher,
    Lower,
}

/// A table cell: text, or a number with an optional ± spread (std over seeds).
///
/// When both are set, `text` is shown and `value` still takes part in the
/// best-cell comparison (e.g. text "0.91 (ep 3)" with value 0.91).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub spread: Option<f64>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell {
            text: Some(text.into()),
            ..Cell::default()
        }
    }

    pub fn value(value: f64) -> Self {
        Cell {
            value: Some(value),
            ..Cell::default()
        }
    }

    /// `value ± spread`, e.g. a mean and standard deviation over seeds.
    pub fn value_pm(value: f64, spread: f64) -> Self {
        Cell {
            value: Some(value),
            spread: Some(spread),
            ..Cell::default()
        }
    }
}

/// Curves over a numeric x axis (training loss vs step, one series per run).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Logarithmic y axis; non-positive values are then skipped.
    #[serde(default)]
    pub log_y: bool,
    #[serde(default)]
    pub caption: Option<String>,
}

/// One named curve; a non-finite point breaks the line there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// Grouped bars: one group per category, one bar per series (ablations).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BarChart {
    pub title: String,
    pub y_label: String,
    pub categories: Vec<String>,
    pub series: Vec<BarSeries>,
    #[serde(default)]
    pub caption: Option<String>,
}

/// One bar per category (`None`: missing), with optional ± error bars.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BarSeries {
    pub name: String,
    pub values: Vec<Option<f64>>,
    #[serde(default)]
    pub errors: Option<Vec<Option<f64>>>,
}

/// Overlaid distributions on shared bins (positive vs negative pair scores).
///
/// Bars show the *fraction* of each series per bin, not counts, because the
/// series usually differ in size by orders of magnitude (one positive per
/// many negatives); the counts appear in the legend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub title: String,
    pub x_label: String,
    /// `(name, values)`; non-finite values are skipped.
    pub series: Vec<(String, Vec<f64>)>,
    /// Number of bins; 0 picks one from the data size (Sturges' rule).
    #[serde(default)]
    pub bins: usize,
    /// Binned range; `None` spans the finite values. Values outside are dropped.
    #[serde(default)]
    pub range: Option<(f64, f64)>,
    #[serde(default)]
    pub caption: Option<String>,
}

/// Labelled points coloured by group (a 2-D projection of embeddings, see
/// [`crate::pca_2d`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scatter {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<ScatterPoint>,
    #[serde(default)]
    pub caption: Option<String>,
}

/// One scatter point; `label` is its hover tooltip (e.g. the function name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScatterPoint {
    pub x: f64,
    pub y: f64,
    pub group: String,
    #[serde(default)]
    pub label: Option<String>,
}
