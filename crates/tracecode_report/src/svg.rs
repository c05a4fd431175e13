//! Inline SVG charts.
//!
//! Hand-written rather than a plotting crate: the four chart kinds are simple,
//! and writing the elements directly gives small, clean markup styled by the
//! page's CSS (fonts, greys), with no embedded fonts or raster fallbacks and
//! full control over ticks, legends and non-finite values. Every number
//! written into an attribute goes through [`px`], which never emits NaN.
//!
//! Text widths are estimated from character counts (there is no font
//! metrics engine); the estimates are deliberately generous.

use std::fmt::Write;

use crate::format::{self, number};
use crate::html::esc;
use crate::model::{BarChart, Histogram, LineChart, Scatter};
use crate::ticks::Axis;

/// Okabe–Ito colour-blind-safe palette, ordered for contrast on white
/// (yellow last: it is the weakest on a white background).
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442",
];

/// viewBox width; the page shows charts at this size on desktop (1 unit = 1 CSS px).
const WIDTH: f64 = 720.0;
const PLOT_HEIGHT: f64 = 270.0;
const RIGHT: f64 = 18.0;
/// Line charts draw point markers when no series has more points than this
/// (all series or none, so the chart stays consistent).
const MAX_MARKERS: usize = 30;
/// Longest legend / category label before it is cut with "…" (full text in a tooltip).
const MAX_LABEL_CHARS: usize = 36;

fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// Past the palette, lines repeat colours with a dash pattern so they stay distinct.
fn dash_attr(i: usize) -> &'static str {
    match (i / PALETTE.len()) % 3 {
        0 => "",
        1 => r#" stroke-dasharray="7 3""#,
        _ => r#" stroke-dasharray="2 3""#,
    }
}

/// A pixel coordinate for an attribute: one decimal, and 0 for anything non-finite.
fn px(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "0".to_string()
    }
}

/// Estimated rendered width of `s` at `size` px in the page's sans-serif font.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.55
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MAX_LABEL_CHARS {
        s.to_string()
    } else {
        s.chars().take(MAX_LABEL_CHARS - 1).chain(['…']).collect()
    }
}

#[derive(Clone, Copy)]
enum Swatch {
    Line,
    /// Solid box (bars).
    Bar,
    /// Translucent outlined box (overlaid histograms).
    Area,
    Dot,
}

/// The plot rectangle in viewBox units.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
}

impl Frame {
    fn x(&self, f: f64) -> f64 {
        self.left + f * self.width
    }
    fn y(&self, f: f64) -> f64 {
        self.top + (1.0 - f) * self.height
    }
    fn bottom(&self) -> f64 {
        self.top + self.height
    }
    fn right(&self) -> f64 {
        self.left + self.width
    }
}

enum XAxis<'a> {
    Numeric(&'a Axis),
    Categories(&'a [String]),
}

/// Everything a chart shares: legend, grid, axes, ticks and labels. `body`
/// draws the data into the finished frame.
struct Chart<'a> {
    title: &'a str,
    legend: Vec<String>,
    swatch: Swatch,
    x: XAxis<'a>,
    y: &'a Axis,
    x_label: &'a str,
    y_label: &'a str,
}

impl Chart<'_> {
    fn render(self, empty: bool, body: impl FnOnce(&Frame, &mut String)) -> String {
        let tick_w = self
            .y
            .ticks
            .iter()
            .map(|(_, l)| text_width(l, 11.0))
            .fold(0.0, f64::max);
        let left = 10.0 + if self.y_label.is_empty() { 0.0 } else { 20.0 } + tick_w + 10.0;
        let plot_w = WIDTH - left - RIGHT;

        // Legend rows, wrapped to the plot width.
        let mut legend_items = Vec::new();
        let (mut lx, mut row) = (0.0, 0usize);
        for (i, name) in self.legend.iter().enumerate() {
            let w = 26.0 + text_width(&clip(name), 12.0) + 16.0;
            if lx > 0.0 && lx + w > plot_w {
                lx = 0.0;
                row += 1;
            }
            legend_items.push((i, lx, row));
            lx += w;
        }
        let legend_rows = if self.legend.is_empty() { 0 } else { row + 1 };
        let top = 12.0 + legend_rows as f64 * 20.0 + if legend_rows > 0 { 6.0 } else { 0.0 };

        // Category labels turn 35° when any would not fit under its bar group.
        let (rotate, label_h) = match &self.x {
            XAxis::Categories(cats) if !cats.is_empty() => {
                let band = plot_w / cats.len() as f64;
                let widest = cats
                    .iter()
                    .map(|c| text_width(&clip(c), 11.0))
                    .fold(0.0, f64::max);
                if widest > band - 6.0 {
                    (true, widest * 0.574 + 12.0)
                } else {
                    (false, 14.0)
                }
            }
            _ => (false, 14.0),
        };
        let bottom = 10.0 + label_h + if self.x_label.is_empty() { 6.0 } else { 26.0 };
        let frame = Frame {
            left,
            top,
            width: plot_w,
            height: PLOT_HEIGHT,
        };
        let height = top + PLOT_HEIGHT + bottom;

        let mut s = String::new();
        let _ = write!(
            s,
            r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" aria-label="{}">"#,
            px(WIDTH),
            px(height),
            esc(self.title)
        );

        // Legend.
        if !legend_items.is_empty() {
            s.push_str(r#"<g class="legend">"#);
            for (i, lx, row) in legend_items {
                let (x, y) = (left + lx, 12.0 + row as f64 * 20.0 + 8.0);
                let name = &self.legend[i];
                let c = colour(i);
                match self.swatch {
                    Swatch::Line => {
                        let _ = write!(
                            s,
                            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{c}" stroke-width="2.5"{}/>"#,
                            px(x),
                            px(y),
                            px(x + 20.0),
                            px(y),
                            dash_attr(i)
                        );
                    }
                    Swatch::Bar => {
                        let _ = write!(
                            s,
                            r#"<rect x="{}" y="{}" width="18" height="11" fill="{c}"/>"#,
                            px(x + 1.0),
                            px(y - 5.5)
                        );
                    }
                    Swatch::Area => {
                        let _ = write!(
                            s,
                            r#"<rect x="{}" y="{}" width="18" height="11" fill="{c}" fill-opacity="0.35" stroke="{c}" stroke-width="1.5"/>"#,
                            px(x + 1.0),
                            px(y - 5.5)
                        );
                    }
                    Swatch::Dot => {
                        let _ = write!(
                            s,
                            r#"<circle cx="{}" cy="{}" r="4.5" fill="{c}"/>"#,
                            px(x + 10.0),
                            px(y)
                        );
                    }
                }
                let _ = write!(
                    s,
                    r#"<text x="{}" y="{}" dy="0.35em"><title>{}</title>{}</text>"#,
                    px(x + 26.0),
                    px(y),
                    esc(name),
                    esc(&clip(name))
                );
            }
            s.push_str("</g>");
        }

        // Grid, then axes and ticks.
        s.push_str(r#"<g class="grid">"#);
        for (v, _) in &self.y.ticks {
            if let Some(f) = self.y.frac(*v) {
                let y = frame.y(f);
                let _ = write!(
                    s,
                    r#"<line x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
                    px(frame.left),
                    px(y),
                    px(frame.right()),
                    px(y)
                );
            }
        }
        if let XAxis::Numeric(xa) = &self.x {
            for (v, _) in &xa.ticks {
                if let Some(f) = xa.frac(*v) {
                    let x = frame.x(f);
                    let _ = write!(
                        s,
                        r#"<line x1="{}" y1="{}" x2="{}" y2="{}"/>"#,
                        px(x),
                        px(frame.top),
                        px(x),
                        px(frame.bottom())
                    );
                }
            }
        }
        s.push_str("</g>");

        s.push_str(r#"<g class="axis">"#);
        let _ = write!(
            s,
            r#"<line x1="{l}" y1="{b}" x2="{r}" y2="{b}"/><line x1="{l}" y1="{t}" x2="{l}" y2="{b}"/>"#,
            l = px(frame.left),
            r = px(frame.right()),
            t = px(frame.top),
            b = px(frame.bottom())
        );
        for (v, label) in &self.y.ticks {
            if let Some(f) = self.y.frac(*v) {
                let y = frame.y(f);
                let _ = write!(
                    s,
                    r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}"/><text x="{}" y="{y}" dy="0.32em" text-anchor="end">{}</text>"#,
                    px(frame.left - 4.0),
                    px(frame.left),
                    px(frame.left - 7.0),
                    esc(label),
                    y = px(y)
                );
            }
        }
        let tick_y = frame.bottom() + 4.0;
        match &self.x {
            XAxis::Numeric(xa) => {
                for (v, label) in &xa.ticks {
                    if let Some(f) = xa.frac(*v) {
                        let x = px(frame.x(f));
                        let _ = write!(
                            s,
                            r#"<line x1="{x}" y1="{}" x2="{x}" y2="{}"/><text x="{x}" y="{}" dy="0.71em" text-anchor="middle">{}</text>"#,
                            px(frame.bottom()),
                            px(tick_y),
                            px(tick_y + 3.0),
                            esc(label)
                        );
                    }
                }
            }
            XAxis::Categories(cats) => {
                let band = frame.width / cats.len().max(1) as f64;
                for (i, cat) in cats.iter().enumerate() {
                    let x = px(frame.left + band * (i as f64 + 0.5));
                    let y = px(tick_y + 3.0);
                    let shown = esc(&clip(cat)).into_owned();
                    if rotate {
                        let _ = write!(
                            s,
                            r#"<text x="{x}" y="{y}" dy="0.71em" text-anchor="end" transform="rotate(-35 {x} {y})"><title>{}</title>{shown}</text>"#,
                            esc(cat)
                        );
                    } else {
                        let _ = write!(
                            s,
                            r#"<text x="{x}" y="{y}" dy="0.71em" text-anchor="middle"><title>{}</title>{shown}</text>"#,
                            esc(cat)
                        );
                    }
                }
            }
        }
        s.push_str("</g>");

        if !self.x_label.is_empty() {
            let _ = write!(
                s,
                r#"<text class="axis-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
                px(frame.left + frame.width / 2.0),
                px(height - 10.0),
                esc(self.x_label)
            );
        }
        if !self.y_label.is_empty() {
            let (x, y) = (px(14.0), px(frame.top + frame.height / 2.0));
            let _ = write!(
                s,
                r#"<text class="axis-label" x="{x}" y="{y}" dy="0.35em" text-anchor="middle" transform="rotate(-90 {x} {y})">{}</text>"#,
                esc(self.y_label)
            );
        }

        s.push_str(r#"<g class="data">"#);
        if empty {
            let _ = write!(
                s,
                r#"<text class="empty" x="{}" y="{}" text-anchor="middle">no data</text>"#,
                px(frame.left + frame.width / 2.0),
                px(frame.top + frame.height / 2.0)
            );
        } else {
            body(&frame, &mut s);
        }
        s.push_str("</g></svg>");
        s
    }
}

/// A line chart; non-finite points (and non-positive ones on a log axis) break the line.
pub(crate) fn line_chart(c: &LineChart) -> String {
    let y_axis = if c.log_y {
        Axis::log(c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)))
    } else {
        Axis::linear(
            c.series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
            false,
        )
    };
    let shown = |&(x, y): &(f64, f64)| x.is_finite() && y_axis.frac(y).is_some();
    let x_axis = Axis::linear(
        c.series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| shown(p)).map(|p| p.0)),
        false,
    );
    let empty = !c.series.iter().any(|s| s.points.iter().any(shown));
    let markers = c
        .series
        .iter()
        .all(|s| s.points.iter().filter(|p| shown(p)).count() <= MAX_MARKERS);
    let chart = Chart {
        title: &c.title,
        legend: c.series.iter().map(|s| s.name.clone()).collect(),
        swatch: Swatch::Line,
        x: XAxis::Numeric(&x_axis),
        y: &y_axis,
        x_label: &c.x_label,
        y_label: &c.y_label,
    };
    chart.render(empty, |frame, s| {
        for (i, series) in c.series.iter().enumerate() {
            let colour = colour(i);
            let mut d = String::new();
            let mut pen_down = false;
            let mut dots = Vec::new();
            for &(x, y) in &series.points {
                let (Some(fx), Some(fy)) = (x_axis.frac(x), y_axis.frac(y)) else {
                    pen_down = false;
                    continue;
                };
                let (px_x, px_y) = (px(frame.x(fx)), px(frame.y(fy)));
                let _ = write!(d, "{}{px_x} {px_y}", if pen_down { "L" } else { "M" });
                pen_down = true;
                dots.push((x, y, px_x, px_y));
            }
            if d.matches('L').count() > 0 {
                let _ = write!(
                    s,
                    r#"<path class="line" d="{d}" stroke="{colour}"{}><title>{}</title></path>"#,
                    dash_attr(i),
                    esc(&series.name)
                );
            }
            // A lone point has no line, so it always gets its marker.
            if markers || dots.len() == 1 {
                for (x, y, cx, cy) in dots {
                    let _ = write!(
                        s,
                        r#"<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"><title>{}: ({}, {})</title></circle>"#,
                        esc(&series.name),
                        number(x, None),
                        number(y, None)
                    );
                }
            }
        }
    })
}

/// Grouped bars with optional error bars; missing values are marked "n/a".
pub(crate) fn bar_chart(c: &BarChart) -> String {
    let n_cat = c.categories.len();
    let entries = || {
        c.series.iter().enumerate().flat_map(move |(si, s)| {
            s.values.iter().take(n_cat).enumerate().map(move |(ci, v)| {
                let err = s
                    .errors
                    .as_ref()
                    .and_then(|e| e.get(ci).copied().flatten())
                    .filter(|e| e.is_finite());
                (si, ci, v.filter(|v| v.is_finite()), err)
            })
        })
    };
    let y_axis = Axis::linear(
        entries().flat_map(|(_, _, v, e)| {
            let v = v.unwrap_or(f64::NAN);
            let e = e.unwrap_or(0.0);
            [v, v + e, v - e]
        }),
        true,
    );
    let empty = n_cat == 0 || c.series.is_empty();
    let chart = Chart {
        title: &c.title,
        legend: c.series.iter().map(|s| s.name.clone()).collect(),
        swatch: Swatch::Bar,
        x: XAxis::Categories(&c.categories),
        y: &y_axis,
        x_label: "",
        y_label: &c.y_label,
    };
    chart.render(empty, |frame, s| {
        let band = frame.width / n_cat as f64;
        let bar_w = band * 0.8 / c.series.len() as f64;
        let zero = frame.y(y_axis.frac(0.0).unwrap_or(0.0));
        for (si, ci, value, err) in entries() {
            let x = frame.left + band * (ci as f64 + 0.1) + bar_w * si as f64;
            let centre = x + bar_w / 2.0;
            let Some(v) = value else {
                if bar_w >= 14.0 {
                    let _ = write!(
                        s,
                        r#"<text class="na" x="{}" y="{}" text-anchor="middle">n/a</text>"#,
                        px(centre),
                        px(zero - 4.0)
                    );
                }
                continue;
            };
            let top = frame.y(y_axis.frac(v).unwrap_or(0.0));
            let tip = match err {
                Some(e) => format!(
                    "{} · {}: {} ± {}",
                    c.series[si].name,
                    c.categories[ci],
                    number(v, None),
                    number(e, None)
                ),
                None => format!(
                    "{} · {}: {}",
                    c.series[si].name,
                    c.categories[ci],
                    number(v, None)
                ),
            };
            let _ = write!(
                s,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>"#,
                px(x + 0.5),
                px(top.min(zero)),
                px((bar_w - 1.0).max(0.5)),
                px((top - zero).abs()),
                colour(si),
                esc(&tip)
            );
            if let Some(e) = err {
                let (y0, y1) = (
                    frame.y(y_axis.frac(v - e).unwrap_or(0.0)),
                    frame.y(y_axis.frac(v + e).unwrap_or(0.0)),
                );
                let cap = (bar_w * 0.3).min(6.0);
                let _ = write!(
                    s,
                    r#"<path class="err" d="M{c} {y0}V{y1}M{a} {y0}H{b}M{a} {y1}H{b}"/>"#,
                    c = px(centre),
                    a = px(centre - cap),
                    b = px(centre + cap),
                    y0 = px(y0),
                    y1 = px(y1)
                );
            }
        }
        if y_axis.lo < 0.0 {
            let _ = write!(
                s,
                r#"<line class="zero" x1="{}" y1="{z}" x2="{}" y2="{z}"/>"#,
                px(frame.left),
                px(frame.right()),
                z = px(zero)
            );
        }
    })
}

/// Overlaid step histograms of each series' fraction per bin.
pub(crate) fn histogram(h: &Histogram) -> String {
    let binned = format::bin(h);
    let totals: Vec<usize> = match &binned {
        Some((_, _, counts)) => counts.iter().map(|c| c.iter().sum()).collect(),
        None => vec![0; h.series.len()],
    };
    let fractions: Vec<Vec<f64>> = match &binned {
        Some((_, _, counts)) => counts
            .iter()
            .zip(&totals)
            .map(|(c, &n)| {
                c.iter()
                    .map(|&k| if n == 0 { 0.0 } else { k as f64 / n as f64 })
                    .collect()
            })
            .collect(),
        None => Vec::new(),
    };
    let (lo, hi) = binned.as_ref().map_or((0.0, 1.0), |(lo, hi, _)| (*lo, *hi));
    let x_axis = Axis::linear([lo, hi], false);
    let y_axis = Axis::linear(fractions.iter().flatten().copied(), true);
    let chart = Chart {
        title: &h.title,
        legend: h
            .series
            .iter()
            .zip(&totals)
            .map(|((name, _), n)| format!("{name} (n={n})"))
            .collect(),
        swatch: Swatch::Area,
        x: XAxis::Numeric(&x_axis),
        y: &y_axis,
        x_label: &h.x_label,
        y_label: "fraction per bin",
    };
    chart.render(binned.is_none(), |frame, s| {
        let bins = fractions.first().map_or(0, Vec::len);
        let edge = |i: usize| px(frame.x(x_axis.frac(lo + (hi - lo) * i as f64 / bins as f64).unwrap_or(0.0)));
        let base = px(frame.y(y_axis.frac(0.0).unwrap_or(0.0)));
        for (i, (f, (name, _))) in fractions.iter().zip(&h.series).enumerate() {
            // Outline only the occupied span, not a baseline across the whole range.
            let (Some(first), Some(last)) = (f.iter().position(|&v| v > 0.0), f.iter().rposition(|&v| v > 0.0)) else {
                continue;
            };
            let mut d = format!("M{} {base}", edge(first));
            for (b, &v) in f.iter().enumerate().take(last + 1).skip(first) {
                let y = px(frame.y(y_axis.frac(v).unwrap_or(0.0)));
                let _ = write!(d, "V{y}H{}", edge(b + 1));
            }
            let _ = write!(d, "V{base}Z");
            let c = colour(i);
            let _ = write!(
                s,
                r#"<path class="hist" d="{d}" fill="{c}" stroke="{c}"><title>{} (n={})</title></path>"#,
                esc(name),
                totals[i]
            );
        }
    })
}

/// Points coloured by group (first-appearance order), with hover labels.
pub(crate) fn scatter(c: &Scatter) -> String {
    let valid = |p: &&crate::model::ScatterPoint| p.x.is_finite() && p.y.is_finite();
    let groups = format::groups(c.points.iter().filter(valid).map(|p| p.group.as_str()));
    let x_axis = Axis::linear(c.points.iter().filter(valid).map(|p| p.x), false);
    let y_axis = Axis::linear(c.points.iter().filter(valid).map(|p| p.y), false);
    let chart = Chart {
        title: &c.title,
        legend: groups.iter().map(|(g, n)| format!("{g} ({n})")).collect(),
        swatch: Swatch::Dot,
        x: XAxis::Numeric(&x_axis),
        y: &y_axis,
        x_label: &c.x_label,
        y_label: &c.y_label,
    };
    chart.render(groups.is_empty(), |frame, s| {
        for p in c.points.iter().filter(valid) {
            let (Some(fx), Some(fy)) = (x_axis.frac(p.x), y_axis.frac(p.y)) else { continue };
            let gi = groups.iter().position(|(g, _)| *g == p.group).unwrap_or(0);
            let tip = match &p.label {
                Some(l) => format!("{l} ({})", p.group),
                None => format!("{} ({}, {})", p.group, number(p.x, None), number(p.y, None)),
            };
            let _ = write!(
                s,
                r#"<circle class="pt" cx="{}" cy="{}" r="3.5" fill="{}"><title>{}</title></circle>"#,
                px(frame.x(fx)),
                px(frame.y(fy)),
                colour(gi),
                esc(&tip)
            );
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BarSeries, ScatterPoint, Series};

    /// Every numeric attribute value in the SVG, which must all parse as finite numbers.
    fn assert_clean(svg: &str) {
        assert!(
            !svg.contains("NaN") && !svg.contains("inf"),
            "non-finite number in {svg}"
        );
        for attr in [
            " x=\"",
            " y=\"",
            " cx=\"",
            " cy=\"",
            " width=\"",
            " height=\"",
            " x1=\"",
            " y2=\"",
        ] {
            for part in svg.split(attr).skip(1) {
                let value = &part[..part.find('"').unwrap()];
                assert!(
                    value.parse::<f64>().is_ok_and(f64::is_finite),
                    "{attr}{value}"
                );
            }
        }
    }

    #[test]
    fn px_never_emits_non_finite() {
        assert_eq!(px(f64::NAN), "0");
        assert_eq!(px(f64::INFINITY), "0");
        assert_eq!(px(1.26), "1.3");
    }

    #[test]
    fn line_chart_skips_non_finite_and_breaks_the_line() {
        let c = LineChart {
            title: "loss".into(),
            x_label: "step".into(),
            y_label: "loss".into(),
            series: vec![
                Series {
                    name: "a".into(),
                    points: vec![(0.0, 1.0), (1.0, f64::NAN), (2.0, 0.5), (3.0, 0.4)],
                },
                Series {
                    name: "bad".into(),
                    points: vec![(f64::INFINITY, 1.0), (0.0, f64::NEG_INFINITY)],
                },
                Series {
                    name: "single".into(),
                    points: vec![(1.5, 0.7)],
                },
                Series {
                    name: "empty".into(),
                    points: vec![],
                },
            ],
            log_y: false,
            caption: None,
        };
        let svg = line_chart(&c);
        assert_clean(&svg);
        // The NaN splits series "a" into a lone point and a two-point segment.
        let path = svg.split("<path class=\"line\" d=\"").nth(1).unwrap();
        let d = &path[..path.find('"').unwrap()];
        assert_eq!(
            (d.matches('M').count(), d.matches('L').count()),
            (2, 1),
            "{d}"
        );
        // Markers: three for "a", one for "single".
        assert_eq!(svg.matches("<circle").count(), 4);
        assert!(!svg.contains("no data"));
    }

    #[test]
    fn log_chart_drops_non_positive_and_all_bad_is_empty() {
        let mut c = LineChart {
            series: vec![Series {
                name: "s".into(),
                points: vec![(0.0, 0.0), (1.0, -2.0), (2.0, f64::NAN)],
            }],
            log_y: true,
            ..LineChart::default()
        };
        let svg = line_chart(&c);
        assert_clean(&svg);
        assert!(svg.contains("no data") && !svg.contains("<circle"));
        c.series[0].points.push((3.0, 10.0));
        assert_eq!(line_chart(&c).matches("<circle").count(), 1);
    }

    #[test]
    fn markers_all_or_none() {
        let long = Series {
            name: "long".into(),
            points: (0..40).map(|i| (i as f64, 1.0)).collect(),
        };
        let short = Series {
            name: "short".into(),
            points: vec![(0.0, 1.0), (1.0, 2.0)],
        };
        let lone = Series {
            name: "lone".into(),
            points: vec![(5.0, 1.5)],
        };
        let c = LineChart {
            series: vec![long, short, lone],
            ..LineChart::default()
        };
        // Only the lone point (which has no line) keeps its marker.
        assert_eq!(line_chart(&c).matches("<circle").count(), 1);
    }

    #[test]
    fn bars_with_errors_negative_and_missing() {
        let c = BarChart {
            title: "ablation".into(),
            y_label: "Δ MRR".into(),
            categories: vec!["full".into(), "no trace".into(), "no cfg".into()],
            series: vec![
                BarSeries {
                    name: "seed avg".into(),
                    values: vec![Some(0.5), Some(-0.2), None],
                    errors: Some(vec![Some(0.05), Some(f64::NAN), None]),
                },
                BarSeries {
                    name: "nan".into(),
                    values: vec![Some(f64::NAN), Some(f64::INFINITY), Some(0.1)],
                    errors: None,
                },
            ],
            caption: None,
        };
        let svg = bar_chart(&c);
        assert_clean(&svg);
        assert_eq!(
            svg.matches("<rect").count(),
            3 + 2,
            "three bars plus two legend swatches"
        );
        assert_eq!(svg.matches("class=\"err\"").count(), 1);
        assert!(
            svg.contains("class=\"zero\""),
            "negative bar draws the zero line"
        );
        assert_eq!(svg.matches(">n/a<").count(), 3);
    }

    #[test]
    fn histogram_and_scatter_tolerate_bad_values() {
        let h = Histogram {
            title: "scores".into(),
            x_label: "cosine".into(),
            series: vec![
                ("pos".into(), vec![0.9, 0.8, f64::NAN]),
                ("neg".into(), vec![f64::INFINITY]),
            ],
            bins: 4,
            range: None,
            caption: None,
        };
        let svg = histogram(&h);
        assert_clean(&svg);
        assert!(svg.contains("pos (n=2)") && svg.contains("neg (n=0)"));
        assert_eq!(svg.matches("class=\"hist\"").count(), 1);

        let s = Scatter {
            points: vec![
                ScatterPoint {
                    x: 1.0,
                    y: 2.0,
                    group: "a".into(),
                    label: Some("f<1>".into()),
                },
                ScatterPoint {
                    x: f64::NAN,
                    y: 2.0,
                    group: "b".into(),
                    label: None,
                },
                ScatterPoint {
                    x: 1.0,
                    y: 2.0,
                    group: "a".into(),
                    label: None,
                },
            ],
            ..Scatter::default()
        };
        let svg = scatter(&s);
        assert_clean(&svg);
        assert_eq!(svg.matches("class=\"pt\"").count(), 2);
        assert!(svg.contains("a (2)") && !svg.contains("b (") && svg.contains("f&lt;1&gt; (a)"));
    }

    #[test]
    fn long_category_labels_rotate() {
        let mut c = BarChart {
            categories: vec!["a".into(), "b".into()],
            series: vec![BarSeries {
                name: "s".into(),
                values: vec![Some(1.0), Some(2.0)],
                errors: None,
            }],
            ..BarChart::default()
        };
        assert!(!bar_chart(&c).contains("rotate(-35"));
        c.categories = (0..12)
            .map(|i| format!("a rather long ablation name {i}"))
            .collect();
        assert!(bar_chart(&c).contains("rotate(-35"));
    }
}
