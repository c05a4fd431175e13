//! The self-contained HTML page.
//!
//! One file that opens offline: inline `<style>`, inline `<svg>`, no script,
//! no external fonts or images. A Content-Security-Policy of
//! `default-src 'none'` makes that a guarantee rather than a habit: the
//! browser refuses any external load or script (and logs it, which the
//! Chromium test checks), so even a string that escaped escaping could not
//! run code.

use std::borrow::Cow;
use std::fmt::Write;

use crate::format::{best_cells, cell_text};
use crate::model::{Better, Block, Report, Table};
use crate::svg;

/// Escapes text for HTML element content and double-quoted attributes (and
/// SVG, which uses the same rules).
pub(crate) fn esc(s: &str) -> Cow<'_, str> {
    html_escape::encode_double_quoted_attribute(s)
}

const CSS: &str = r#"
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --rule: #d1d9e0; --soft: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--fg);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
main { max-width: 900px; margin: 0 auto; padding: 40px 28px 56px; }
header { border-bottom: 1px solid var(--rule); padding-bottom: 18px; margin-bottom: 22px; }
h1 { font-size: 28px; line-height: 1.25; margin: 0 0 6px; letter-spacing: -0.01em; }
.subtitle { color: var(--muted); font-size: 17px; margin: 0 0 14px; }
dl.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 6px 28px; margin: 14px 0 0; font-size: 13.5px; }
dl.meta div { display: flex; gap: 10px; min-width: 0; }
dl.meta dt { color: var(--muted); flex: none; }
dl.meta dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
nav.toc { background: var(--soft); border: 1px solid var(--rule); border-radius: 8px; padding: 12px 20px; margin: 0 0 28px; font-size: 14px; }
nav.toc h2 { font-size: 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 0 0 4px; border: 0; padding: 0; }
nav.toc ol { margin: 0; padding-left: 22px; columns: 2; column-gap: 32px; }
nav.toc a { color: var(--accent); text-decoration: none; }
nav.toc a:hover { text-decoration: underline; }
section { margin: 0 0 36px; }
h2 { font-size: 21px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--rule); }
h2 .secnum { color: var(--muted); font-weight: 500; margin-right: 8px; }
p { margin: 0 0 12px; }
figure { margin: 22px 0 26px; }
figure.chart svg { display: block; width: 100%; max-width: 720px; height: auto; margin: 0 auto; }
figure.chart figcaption { max-width: 720px; margin: 8px auto 0; }
figcaption { font-size: 13.5px; color: var(--muted); }
figcaption b { color: var(--fg); }
figure.table figcaption { margin-bottom: 8px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; margin: 0 auto;
  border-top: 2px solid var(--fg); border-bottom: 2px solid var(--fg); }
th, td { padding: 5px 14px; white-space: nowrap; }
thead th { border-bottom: 1px solid var(--fg); font-weight: 600; vertical-align: bottom; }
tbody tr:nth-child(even) { background: #fafbfc; }
.txt { text-align: left; }
.num { text-align: right; }
.dir { color: var(--muted); font-weight: 400; margin-left: 2px; }
td b { font-weight: 700; }
.note { border-left: 4px solid #bf8700; background: #fff8c5; border-radius: 0 6px 6px 0; padding: 10px 14px; margin: 16px 0; font-size: 14px; }
.note::before { content: "Note"; display: block; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: #7d4e00; margin-bottom: 2px; }
svg.chart text { font-family: inherit; font-size: 11px; fill: var(--muted); }
svg.chart .legend text { font-size: 12px; fill: var(--fg); }
svg.chart .axis-label { font-size: 12.5px; fill: var(--fg); }
svg.chart .grid line { stroke: #eaeef2; }
svg.chart .axis line { stroke: #8c959f; }
svg.chart .zero { stroke: #57606a; }
svg.chart .line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .hist { fill-opacity: 0.3; stroke-width: 1.5; stroke-linejoin: round; }
svg.chart .err { stroke: #24292f; stroke-width: 1.3; fill: none; }
svg.chart .pt { fill-opacity: 0.75; stroke: #fff; stroke-width: 0.6; }
svg.chart .empty { font-size: 13px; font-style: italic; }
svg.chart .na { font-size: 10px; font-style: italic; }
footer { border-top: 1px solid var(--rule); margin-top: 40px; padding-top: 12px; color: var(--muted); font-size: 12.5px; }
@media (max-width: 640px) { main { padding: 24px 14px; } nav.toc ol { columns: 1; } }
@media print { main { max-width: none; padding: 0; } nav.toc { display: none; } figure, table { break-inside: avoid; } }
"#;

/// Renders the report as one self-contained HTML5 document.
pub fn render_html(report: &Report) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(
        s,
        concat!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n",
            "<meta name=\"generator\" content=\"tracecode report\">\n",
            "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<main>\n<header>\n<h1>{}</h1>\n"
        ),
        esc(&report.title),
        CSS,
        esc(&report.title)
    );
    if let Some(sub) = &report.subtitle {
        let _ = writeln!(s, "<p class=\"subtitle\">{}</p>", esc(sub));
    }
    if !report.meta.is_empty() {
        s.push_str("<dl class=\"meta\">\n");
        for (k, v) in &report.meta {
            let _ = writeln!(s, "<div><dt>{}</dt><dd>{}</dd></div>", esc(k), esc(v));
        }
        s.push_str("</dl>\n");
    }
    s.push_str("</header>\n");

    if report.sections.len() > 1 {
        s.push_str("<nav class=\"toc\">\n<h2>Contents</h2>\n<ol>\n");
        for (i, sec) in report.sections.iter().enumerate() {
            let _ = writeln!(
                s,
                "<li><a href=\"#section-{}\">{}</a></li>",
                i + 1,
                esc(&sec.heading)
            );
        }
        s.push_str("</ol>\n</nav>\n");
    }

    let (mut tables, mut figures) = (0, 0);
    for (i, sec) in report.sections.iter().enumerate() {
        let _ = writeln!(
            s,
            "<section id=\"section-{n}\">\n<h2><span class=\"secnum\">{n}</span>{}</h2>",
            esc(&sec.heading),
            n = i + 1
        );
        for p in &sec.paragraphs {
            let _ = writeln!(s, "<p>{}</p>", esc(p));
        }
        for block in &sec.blocks {
            let (title, caption, svg) = match block {
                Block::Table(t) => {
                    tables += 1;
                    table(&mut s, t, tables);
                    continue;
                }
                Block::Note(text) => {
                    let _ = writeln!(s, "<div class=\"note\">{}</div>", esc(text));
                    continue;
                }
                Block::LineChart(c) => (&c.title, &c.caption, svg::line_chart(c)),
                Block::BarChart(c) => (&c.title, &c.caption, svg::bar_chart(c)),
                Block::Histogram(c) => (&c.title, &c.caption, svg::histogram(c)),
                Block::Scatter(c) => (&c.title, &c.caption, svg::scatter(c)),
            };
            figures += 1;
            let _ = write!(
                s,
                "<figure class=\"chart\">\n{svg}\n<figcaption><b>Figure {figures}."
            );
            if !title.is_empty() {
                let _ = write!(s, " {}.", esc(title.trim_end_matches('.')));
            }
            s.push_str("</b>");
            if let Some(c) = caption {
                let _ = write!(s, " {}", esc(c));
            }
            s.push_str("</figcaption>\n</figure>\n");
        }
        s.push_str("</section>\n");
    }
    s.push_str(
        "<footer>Generated by <code>tracecode report</code>.</footer>\n</main>\n</body>\n</html>\n",
    );
    s
}

/// A booktabs-style table: caption above, numbers right-aligned, best cells
/// bold, ↑/↓ after metric names.
fn table(s: &mut String, t: &Table, number: usize) {
    let best = best_cells(t);
    let width = t
        .rows
        .iter()
        .map(Vec::len)
        .chain([t.columns.len()])
        .max()
        .unwrap_or(0);
    // A column is numeric (right-aligned) when every non-empty cell is a bare number.
    let numeric: Vec<bool> = (0..width)
        .map(|c| {
            let cells: Vec<_> = t
                .rows
                .iter()
                .filter_map(|r| r.get(c))
                .filter(|x| x.text.is_some() || x.value.is_some())
                .collect();
            !cells.is_empty() && cells.iter().all(|x| x.text.is_none())
        })
        .collect();
    let align = |c: usize| if numeric[c] { "num" } else { "txt" };
    let _ = write!(
        s,
        "<figure class=\"table\">\n<figcaption><b>Table {number}.</b>"
    );
    if let Some(c) = &t.caption {
        let _ = write!(s, " {}", esc(c));
    }
    s.push_str("</figcaption>\n<div class=\"scroll\"><table>\n<thead><tr>");
    for c in 0..width {
        let col = t.columns.get(c);
        let name = col.map_or("", |c| c.name.as_str());
        let arrow = match col.and_then(|c| c.better) {
            Some(Better::Higher) => "<span class=\"dir\" title=\"higher is better\">↑</span>",
            Some(Better::Lower) => "<span class=\"dir\" title=\"lower is better\">↓</span>",
            None => "",
        };
        let _ = write!(s, "<th class=\"{}\">{}{arrow}</th>", align(c), esc(name));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for (r, row) in t.rows.iter().enumerate() {
        s.push_str("<tr>");
        for c in 0..width {
            let decimals = t.columns.get(c).and_then(|c| c.decimals);
            let text = row
                .get(c)
                .map(|cell| cell_text(cell, decimals))
                .unwrap_or_default();
            if best[r].get(c).copied().unwrap_or(false) {
                let _ = write!(s, "<td class=\"{}\"><b>{}</b></td>", align(c), esc(&text));
            } else {
                let _ = write!(s, "<td class=\"{}\">{}</td>", align(c), esc(&text));
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table></div>\n</figure>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cell, Column, Section};

    #[test]
    fn every_user_string_is_escaped() {
        let evil = "<script>alert('x')</script>&\"";
        let report = Report {
            title: evil.into(),
            subtitle: Some(evil.into()),
            meta: vec![(evil.into(), evil.into())],
            sections: vec![
                Section {
                    heading: evil.into(),
                    paragraphs: vec![evil.into()],
                    blocks: vec![Block::Note(evil.into())],
                },
                Section {
                    heading: "t".into(),
                    paragraphs: vec![],
                    blocks: vec![Block::Table(Table {
                        caption: Some(evil.into()),
                        columns: vec![Column::plain(evil)],
                        rows: vec![vec![Cell::text(evil)]],
                    })],
                },
            ],
        };
        let html = render_html(&report);
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("<title>&lt;script&gt;alert('x')&lt;/script&gt;&amp;&quot;</title>"));
        // Title, h1, subtitle, meta key and value, TOC entry, heading, paragraph, note, caption, header, cell.
        assert_eq!(html.matches("&lt;script&gt;").count(), 12);
    }

    #[test]
    fn table_bolds_best_and_aligns_numbers() {
        let t = Table {
            caption: None,
            columns: vec![
                Column::plain("model"),
                Column::higher("MRR"),
                Column::lower("loss"),
            ],
            rows: vec![
                vec![
                    Cell::text("base"),
                    Cell::value_pm(0.61, 0.02),
                    Cell::value(0.9),
                ],
                vec![
                    Cell::text("+trace"),
                    Cell::value_pm(0.72, 0.01),
                    Cell::value(1.1),
                ],
            ],
        };
        let mut s = String::new();
        table(&mut s, &t, 3);
        assert!(s.contains("<b>Table 3.</b>"));
        assert!(s.contains(
            r#"<th class="num">MRR<span class="dir" title="higher is better">↑</span></th>"#
        ));
        assert!(s.contains(r#"<td class="num"><b>0.720 ± 0.010</b></td>"#));
        assert!(s.contains(r#"<td class="num">0.610 ± 0.020</td>"#));
        assert!(s.contains(r#"<td class="num"><b>0.900</b></td>"#));
        assert!(s.contains(r#"<td class="txt">+trace</td>"#));
    }

    #[test]
    fn toc_links_sections_and_figures_are_numbered() {
        let chart = Block::LineChart(crate::LineChart {
            title: "Loss.".into(),
            ..Default::default()
        });
        let report = Report {
            title: "r".into(),
            sections: vec![
                Section {
                    heading: "A".into(),
                    blocks: vec![chart.clone()],
                    ..Section::default()
                },
                Section {
                    heading: "B".into(),
                    blocks: vec![chart],
                    ..Section::default()
                },
            ],
            ..Report::default()
        };
        let html = render_html(&report);
        assert!(
            html.contains(r##"<a href="#section-2">B</a>"##)
                && html.contains(r#"<section id="section-2">"#)
        );
        assert!(html.contains("<b>Figure 1. Loss.</b>") && html.contains("<b>Figure 2. Loss.</b>"));
    }
}
