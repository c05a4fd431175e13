//! The GitHub-flavoured Markdown summary: the same report where charts
//! become small tables of their key numbers, so the file stands alone (in a
//! PR description, a terminal, or a diff between runs).

use std::fmt::Write;

use crate::format::{best_cells, cell_text, groups, number, summary};
use crate::model::{BarChart, Better, Block, Histogram, LineChart, Report, Scatter, Table};

/// Renders the report as GitHub-flavoured Markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut s = format!("# {}\n\n", inline(&report.title));
    if let Some(sub) = &report.subtitle {
        let _ = write!(s, "*{}*\n\n", inline(sub));
    }
    for (k, v) in &report.meta {
        let _ = writeln!(s, "- **{}:** {}", inline(k), inline(v));
    }
    if !report.meta.is_empty() {
        s.push('\n');
    }
    let (mut tables, mut figures) = (0, 0);
    for (i, sec) in report.sections.iter().enumerate() {
        let _ = write!(s, "## {}. {}\n\n", i + 1, inline(&sec.heading));
        for p in &sec.paragraphs {
            let _ = write!(s, "{}\n\n", inline(p));
        }
        for block in &sec.blocks {
            let (title, caption, rows) = match block {
                Block::Table(t) => {
                    tables += 1;
                    let _ = writeln!(s, "**Table {tables}.**{}\n", caption_text(&t.caption));
                    s.push_str(&table(t));
                    s.push('\n');
                    continue;
                }
                Block::Note(text) => {
                    let _ = write!(s, "> **Note:** {}\n\n", inline(text));
                    continue;
                }
                Block::LineChart(c) => (&c.title, &c.caption, line_summary(c)),
                Block::BarChart(c) => (&c.title, &c.caption, bar_summary(c)),
                Block::Histogram(c) => (&c.title, &c.caption, histogram_summary(c)),
                Block::Scatter(c) => (&c.title, &c.caption, scatter_summary(c)),
            };
            figures += 1;
            let title = if title.is_empty() {
                String::new()
            } else {
                format!(" {}.", inline(title.trim_end_matches('.')))
            };
            let _ = writeln!(s, "**Figure {figures}.{title}**{}\n", caption_text(caption));
            s.push_str(&pipe_table(&rows.0, &rows.1, &rows.2));
            s.push('\n');
        }
    }
    s
}

fn caption_text(caption: &Option<String>) -> String {
    caption
        .as_ref()
        .map_or(String::new(), |c| format!(" {}", inline(c)))
}

/// Prose and headings: no raw HTML (`<` is shown literally) and one line.
fn inline(s: &str) -> String {
    s.replace('<', "&lt;").replace(['\n', '\r'], " ")
}

/// A table cell additionally cannot contain an unescaped pipe.
fn cell(s: &str) -> String {
    inline(s).replace('|', "\\|")
}

/// A pipe table; `right[c]` right-aligns column `c`. Short rows are padded.
fn pipe_table(header: &[String], right: &[bool], rows: &[Vec<String>]) -> String {
    let width = rows
        .iter()
        .map(Vec::len)
        .chain([header.len()])
        .max()
        .unwrap_or(0);
    if width == 0 {
        return String::new();
    }
    let line = |cells: &mut dyn Iterator<Item = String>| {
        format!("| {} |\n", cells.collect::<Vec<_>>().join(" | "))
    };
    let mut s = line(&mut (0..width).map(|c| header.get(c).map_or(String::new(), |h| cell(h))));
    s += &line(&mut (0..width).map(|c| {
        if right.get(c).copied().unwrap_or(false) {
            "--:"
        } else {
            ":--"
        }
        .to_string()
    }));
    for row in rows {
        s += &line(&mut (0..width).map(|c| row.get(c).map_or(String::new(), |x| cell(x))));
    }
    s
}

fn table(t: &Table) -> String {
    let best = best_cells(t);
    let header: Vec<String> = t
        .columns
        .iter()
        .map(|c| match c.better {
            Some(Better::Higher) => format!("{} ↑", c.name),
            Some(Better::Lower) => format!("{} ↓", c.name),
            None => c.name.clone(),
        })
        .collect();
    let right: Vec<bool> = (0..t.columns.len())
        .map(|c| {
            let mut cells = t
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .filter(|x| x.text.is_some() || x.value.is_some())
                .peekable();
            cells.peek().is_some() && cells.all(|x| x.text.is_none())
        })
        .collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(c, x)| {
                    let text = cell_text(x, t.columns.get(c).and_then(|c| c.decimals));
                    if best[r][c] {
                        format!("**{text}**")
                    } else {
                        text
                    }
                })
                .collect()
        })
        .collect();
    pipe_table(&header, &right, &rows)
}

type Summary = (Vec<String>, Vec<bool>, Vec<Vec<String>>);

fn strings<const N: usize>(a: [&str; N]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Per series: points, first and last value, and where the minimum and maximum are.
fn line_summary(c: &LineChart) -> Summary {
    let at = if c.x_label.is_empty() {
        "x".to_string()
    } else {
        c.x_label.clone()
    };
    let header = vec![
        "series".into(),
        "points".into(),
        "first".into(),
        "last".into(),
        format!("min (@ {at})"),
        format!("max (@ {at})"),
    ];
    let rows = c
        .series
        .iter()
        .map(|s| {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            let y = |p: Option<&(f64, f64)>| p.map_or("—".to_string(), |p| number(p.1, None));
            let xy = |p: Option<&(f64, f64)>| {
                p.map_or("—".to_string(), |p| {
                    format!("{} @ {}", number(p.1, None), number(p.0, None))
                })
            };
            let min = pts.iter().min_by(|a, b| a.1.total_cmp(&b.1));
            let max = pts.iter().max_by(|a, b| a.1.total_cmp(&b.1));
            vec![
                s.name.clone(),
                pts.len().to_string(),
                y(pts.first()),
                y(pts.last()),
                xy(min),
                xy(max),
            ]
        })
        .collect();
    (header, vec![false, true, true, true, true, true], rows)
}

/// The bar values as a category × series table.
fn bar_summary(c: &BarChart) -> Summary {
    let header = std::iter::once(String::new())
        .chain(c.series.iter().map(|s| s.name.clone()))
        .collect();
    let right = std::iter::once(false)
        .chain(c.series.iter().map(|_| true))
        .collect();
    let rows = c
        .categories
        .iter()
        .enumerate()
        .map(|(i, cat)| {
            std::iter::once(cat.clone())
                .chain(c.series.iter().map(|s| {
                    let v = s.values.get(i).copied().flatten();
                    let e = s.errors.as_ref().and_then(|e| e.get(i).copied().flatten());
                    match (v, e) {
                        (Some(v), Some(e)) => format!("{} ± {}", number(v, None), number(e, None)),
                        (Some(v), None) => number(v, None),
                        (None, _) => "—".to_string(),
                    }
                }))
                .collect()
        })
        .collect();
    (header, right, rows)
}

fn histogram_summary(h: &Histogram) -> Summary {
    let header = strings(["series", "n", "mean", "median", "std", "min", "max"]);
    let rows = h
        .series
        .iter()
        .map(|(name, values)| match summary(values) {
            Some(s) => std::iter::once(name.clone())
                .chain([s.n.to_string()])
                .chain([s.mean, s.median, s.std, s.min, s.max].map(|v| number(v, None)))
                .collect(),
            None => std::iter::once(name.clone())
                .chain(["0".to_string()])
                .chain(std::iter::repeat_n("—".to_string(), 5))
                .collect(),
        })
        .collect();
    (
        header,
        vec![false, true, true, true, true, true, true],
        rows,
    )
}

fn scatter_summary(c: &Scatter) -> Summary {
    let finite = c
        .points
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite());
    let rows = groups(finite.map(|p| p.group.as_str()))
        .into_iter()
        .map(|(g, n)| vec![g.to_string(), n.to_string()])
        .collect();
    (strings(["group", "points"]), vec![false, true], rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BarSeries, Cell, Column, ScatterPoint, Section, Series};

    #[test]
    fn table_shape_bold_and_alignment() {
        let t = Table {
            caption: Some("Retrieval".into()),
            columns: vec![
                Column::plain("model"),
                Column::higher("MRR"),
                Column::lower("loss"),
            ],
            rows: vec![
                vec![
                    Cell::text("a|b"),
                    Cell::value_pm(0.875, 0.012),
                    Cell::value(0.5),
                ],
                vec![Cell::text("c"), Cell::value_pm(0.80, 0.02)],
            ],
        };
        assert_eq!(
            table(&t),
            "| model | MRR ↑ | loss ↓ |\n\
             | :-- | --: | --: |\n\
             | a\\|b | **0.875 ± 0.012** | 0.500 |\n\
             | c | 0.800 ± 0.020 |  |\n"
        );
    }

    #[test]
    fn whole_document_layout() {
        let report = Report {
            title: "Run <1>".into(),
            subtitle: Some("small".into()),
            meta: vec![("seed".into(), "0".into())],
            sections: vec![Section {
                heading: "Results".into(),
                paragraphs: vec!["Line one\nline two.".into()],
                blocks: vec![
                    Block::Note("pending: eval".into()),
                    Block::Scatter(Scatter {
                        title: "Embeddings".into(),
                        points: vec![
                            ScatterPoint {
                                x: 0.0,
                                y: 0.0,
                                group: "a".into(),
                                label: None,
                            },
                            ScatterPoint {
                                x: f64::NAN,
                                y: 0.0,
                                group: "b".into(),
                                label: None,
                            },
                        ],
                        caption: Some("PCA.".into()),
                        ..Scatter::default()
                    }),
                ],
            }],
        };
        assert_eq!(
            render_markdown(&report),
            "# Run &lt;1>\n\n*small*\n\n- **seed:** 0\n\n## 1. Results\n\nLine one line two.\n\n\
             > **Note:** pending: eval\n\n**Figure 1. Embeddings.** PCA.\n\n\
             | group | points |\n| :-- | --: |\n| a | 1 |\n\n"
        );
    }

    #[test]
    fn chart_summaries() {
        let line = LineChart {
            x_label: "step".into(),
            series: vec![
                Series {
                    name: "run".into(),
                    points: vec![(0.0, 2.0), (10.0, f64::NAN), (20.0, 0.5), (30.0, 0.75)],
                },
                Series {
                    name: "empty".into(),
                    points: vec![],
                },
            ],
            ..LineChart::default()
        };
        let (header, _, rows) = line_summary(&line);
        assert_eq!(header[4], "min (@ step)");
        assert_eq!(rows[0], ["run", "3", "2", "0.750", "0.500 @ 20", "2 @ 0"]);
        assert_eq!(rows[1], ["empty", "0", "—", "—", "—", "—"]);

        let bars = BarChart {
            categories: vec!["full".into(), "no trace".into()],
            series: vec![BarSeries {
                name: "MRR".into(),
                values: vec![Some(0.7), None],
                errors: Some(vec![Some(0.01), None]),
            }],
            ..BarChart::default()
        };
        assert_eq!(
            bar_summary(&bars).2,
            [["full", "0.700 ± 0.010"], ["no trace", "—"]]
        );

        let hist = Histogram {
            series: vec![
                ("pos".into(), vec![1.0, 2.0, 3.0, 10.0]),
                ("neg".into(), vec![f64::NAN]),
            ],
            ..Histogram::default()
        };
        // mean 4, median 2.5, population std sqrt((9+4+1+36)/4) = sqrt(12.5) = 3.5355.
        let rows = histogram_summary(&hist).2;
        assert_eq!(rows[0], ["pos", "4", "4", "2.500", "3.536", "1", "10"]);
        assert_eq!(rows[1], ["neg", "0", "—", "—", "—", "—", "—"]);
    }
}
