//! `tracecode report`: the run's results as one self-contained HTML page and
//! a Markdown summary, assembled from what the stages left in the run
//! directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use tracecode_model::train::Metrics;
use tracecode_report::{
    pca_2d, write_report, BarChart, BarSeries, Block, Cell, Column, Histogram, LineChart, Report,
    Scatter, ScatterPoint, Section, Series, Table,
};

use super::eval::{read_results, read_skipped, SkippedTask, Task, TaskResult};
use super::pipeline::{FUSED_RUN, STATIC_RUN, SUMMARIES};

/// Write the HTML and Markdown report of a run directory.
///
/// Reads what the pipeline stages left in RUN: summaries.json (data stages),
/// train-*/metrics.jsonl (training curves), eval/ (task results of `tracecode
/// eval`), ablation-runs/ and ablate/ (ablations). Missing parts become
/// "pending" notes, so a report can be written at any point of a run.
/// Writes RUN/report.html (self-contained: inline CSS and SVG, opens offline)
/// and RUN/report.md.
///
/// Example:
///
///   tracecode report --run out
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ReportArgs {
    /// The run directory (`--out` of `tracecode pipeline`).
    #[arg(long, default_value = "out")]
    pub run: PathBuf,
    /// Where to write report.html and report.md (default: RUN).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: &ReportArgs) -> Result<(PathBuf, PathBuf)> {
    let report = build(&args.run)?;
    let dir = args.output.clone().unwrap_or_else(|| args.run.clone());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    super::eval::write_json(&dir.join("report.json"), &report)?;
    write_report(&dir, "report", &report)
}

/// Display names and order of the metrics tasks report.
fn metric_label(metric: &str) -> &str {
    match metric {
        "auroc" => "AUROC",
        "cosine_obfuscated_variant" => "cos(obfuscated clone)",
        "cosine_mutant" => "cos(mutant)",
        "cosine_other_function" => "cos(other function)",
        "map_at_r" => "MAP@R",
        "map_at_r_with_mutants" => "MAP@R with mutants",
        "auroc_random" => "AUROC (random negatives)",
        "auroc_same_tag" => "AUROC (same-tag negatives)",
        "mrr" => "MRR",
        "recall_at_1" => "R@1",
        "recall_at_10" => "R@10",
        "macro_f1" => "macro-F1",
        "accuracy" => "accuracy",
        "pair_accuracy" => "pair accuracy",
        "bleu4" => "smoothed BLEU-4",
        "rouge_l" => "ROUGE-L",
        other => other,
    }
}

/// Higher is better for every metric here except a mutant's or another
/// function's similarity to the original, which should be low.
fn column_for(metric: &str) -> Column {
    let mut c = if matches!(metric, "cosine_mutant" | "cosine_other_function") {
        Column::lower(metric_label(metric))
    } else {
        Column::higher(metric_label(metric))
    };
    c.decimals = Some(if matches!(metric, "bleu4" | "rouge_l") {
        2
    } else {
        3
    });
    c
}

fn score_cell(r: &TaskResult, metric: &str) -> Cell {
    match r.scores.get(metric) {
        Some(s) => match s.spread() {
            Some(d) => Cell::value_pm(s.value, d),
            None => Cell::value(s.value),
        },
        None => Cell::text("–"),
    }
}

fn encoders_in_order(results: &[TaskResult]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in results {
        if !out.contains(&r.encoder) {
            out.push(r.encoder.clone());
        }
    }
    out
}

fn task_description(task: Task) -> &'static str {
    match task {
        Task::Clone => "Adversarial clone detection on held-out functions: is B a trace-equivalent rewrite of A with every identifier obfuscated (label 1), or a one-token mutant of A or another function (label 0)? AUROC of the cosine similarity, ± DeLong standard error.",
        Task::CloneGroups => "Clones written independently (type-4): solutions of the same problem by different authors, identifiers anonymised (functions f0.., parameters and assigned names v0.., comments and docstrings dropped). MAP@R over all solutions (R = the other solutions of its problem), ± standard error clustered by problem; AUROC of the cosine similarity of every same-problem pair against as many random pairs of different problems, and against as many pairs of different problems that share a tag, ± DeLong standard error. The fused encoder reads each solution's trace (its entry method run on its own and on canonical inputs, with LeetCode's judge imports); the behaviour row scores pairs by agreement of canonical outcomes alone.",
        Task::CodeSearch => "Code-to-code search: each held-out function and its trace-equivalent rewrites form a group; every program queries all others. MAP@R (R = the other members of its group), ± standard error clustered by group. MAP@R with mutants puts up to three trace-different one-token mutants of each function into the pool as distractors: they read like the query but behave differently.",
        Task::NlSearch => "Natural language to code: the English task text of each held-out MBPP problem queries all MBPP solutions. MRR and recall at 1 / 10.",
        Task::Vuln => "Vulnerability detection (SVEN, vulnerable vs fixed version of a function): logistic-regression probe on frozen embeddings, L2 chosen by 3-fold cross-validation on the training split, scored on SVEN's validation split; mean ± std over probe seeds. Pair accuracy: the vulnerable version scores higher than its fix.",
        Task::Summarize => "Code summarization: a 2-layer transformer decoder trained on each frozen encoder (its token states plus the pooled embedding) writes the docstring's first sentence; smoothed BLEU-4 (CodeXGLUE) and ROUGE-L F1 on held-out functions. The lexical row copies the summary of the nearest training function.",
    }
}

fn results_sections(results: &[TaskResult], skipped: &[SkippedTask]) -> Vec<Section> {
    let encoders = encoders_in_order(results);
    let skip_reason = |t: Task| skipped.iter().find(|s| s.task == t).map(|s| &s.reason);
    // Skipped tasks keep their column, so a missing score reads as skipped
    // (with its reason below), never as silently absent.
    let tasks: Vec<Task> = Task::ALL
        .into_iter()
        .filter(|t| results.iter().any(|r| r.task == *t) || skip_reason(*t).is_some())
        .collect();
    // Headline table: one column per task.
    let mut columns = vec![Column::plain("encoder")];
    let mut headline_metric = Vec::new();
    for t in &tasks {
        let metric = results
            .iter()
            .find(|r| r.task == *t)
            .map(|r| r.headline.clone())
            .unwrap_or_default();
        let mut c = column_for(&metric);
        c.name = format!("{} {}", t.name(), metric_label(&metric));
        columns.push(c);
        headline_metric.push(metric);
    }
    let rows = encoders
        .iter()
        .map(|e| {
            let mut row = vec![Cell::text(e)];
            for (t, m) in tasks.iter().zip(&headline_metric) {
                let missing = if skip_reason(*t).is_some() {
                    "skipped"
                } else {
                    "–"
                };
                row.push(
                    results
                        .iter()
                        .find(|r| r.task == *t && &r.encoder == e)
                        .map_or(Cell::text(missing), |r| score_cell(r, m)),
                );
            }
            row
        })
        .collect();
    let status_rows: Vec<Vec<Cell>> = tasks
        .iter()
        .map(|&t| {
            let scored = results.iter().filter(|r| r.task == t).count();
            let status = match skip_reason(t) {
                Some(reason) => format!("skipped: {reason}"),
                None => format!("scored for {scored} encoders"),
            };
            vec![Cell::text(t.name()), Cell::text(status)]
        })
        .collect();
    let mut summary = Section {
        heading: "Results".into(),
        paragraphs: vec![
            "Every encoder on every task; the best value per column is in bold. Held-out functions are the test split of the per-function split used for training (no evaluated function was trained on); checkpoints were selected on validation loss only.".into(),
            "Encoders: lexical = TF-IDF / BM25 over identifier-split tokens; minilm = all-MiniLM-L6-v2 as-is; static = the static-only contrastive baseline (same model and training, no trace branch, static positives); code-only = TraceCode's distilled code-only head; fused = TraceCode with the function's execution trace; behaviour = agreement of canonical outcomes alone, no encoder (clone-groups only).".into(),
        ],
        blocks: vec![Block::Table(Table {
            caption: Some("Headline metric per task".into()),
            columns,
            rows,
        })],
    };
    let spec_rows: Vec<Vec<Cell>> = encoders
        .iter()
        .map(|e| {
            let spec = results
                .iter()
                .find(|r| &r.encoder == e)
                .map_or("", |r| r.spec.as_str());
            vec![Cell::text(e), Cell::text(spec)]
        })
        .collect();
    summary.blocks.push(Block::Table(Table {
        caption: Some("Tasks: scored, or skipped with the reason".into()),
        columns: vec![Column::plain("task"), Column::plain("status")],
        rows: status_rows,
    }));
    summary.blocks.push(Block::Table(Table {
        caption: Some("Encoders evaluated".into()),
        columns: vec![Column::plain("encoder"), Column::plain("source")],
        rows: spec_rows,
    }));
    let mut sections = vec![summary];
    for t in tasks {
        let of_task: Vec<&TaskResult> = results.iter().filter(|r| r.task == t).collect();
        if of_task.is_empty() {
            continue;
        }
        let mut metrics: Vec<String> = Vec::new();
        for r in &of_task {
            if !metrics.contains(&r.headline) {
                metrics.insert(0, r.headline.clone());
            }
            for k in r.scores.keys() {
                if !metrics.contains(k) {
                    metrics.push(k.clone());
                }
            }
        }
        let mut columns = vec![Column::plain("encoder")];
        columns.extend(metrics.iter().map(|m| column_for(m)));
        columns.push(Column::plain("n"));
        let (shared, own) = split_notes(&of_task);
        let notes_column = own.iter().any(|n| !n.is_empty());
        if notes_column {
            columns.push(Column::plain("notes"));
        }
        let rows = of_task
            .iter()
            .zip(&own)
            .map(|(r, own)| {
                let mut row = vec![Cell::text(&r.encoder)];
                row.extend(metrics.iter().map(|m| score_cell(r, m)));
                row.push(Cell::text(r.n.to_string()));
                if notes_column {
                    row.push(Cell::text(own));
                }
                row
            })
            .collect();
        let caption =
            (!shared.is_empty()).then(|| format!("For every encoder: {}.", shared.join("; ")));
        let mut section = Section {
            heading: format!("Task: {}", t.name()),
            paragraphs: vec![task_description(t).into()],
            blocks: vec![Block::Table(Table {
                caption,
                columns,
                rows,
            })],
        };
        match t {
            Task::Clone => section.blocks.extend(clone_histograms(&of_task)),
            Task::CodeSearch => section.blocks.extend(projections(&of_task)),
            Task::Summarize => section.blocks.extend(summary_samples(&of_task)),
            _ => {}
        }
        sections.push(section);
    }
    sections
}

/// A task's notes split into those every encoder shares (about the task's
/// data: said once, as the table's caption) and each encoder's own, joined.
fn split_notes(of_task: &[&TaskResult]) -> (Vec<String>, Vec<String>) {
    let shared: Vec<String> = of_task.first().map_or_else(Vec::new, |first| {
        first
            .notes
            .iter()
            .filter(|n| of_task.iter().all(|r| r.notes.contains(n)))
            .cloned()
            .collect()
    });
    let own = of_task
        .iter()
        .map(|r| {
            let own: Vec<&str> = r
                .notes
                .iter()
                .filter(|n| !shared.contains(n))
                .map(String::as_str)
                .collect();
            own.join("; ")
        })
        .collect();
    (shared, own)
}

/// Score distributions of the clone pairs by kind, for the model encoders.
fn clone_histograms(results: &[&TaskResult]) -> Vec<Block> {
    results
        .iter()
        .filter(|r| r.spec != "lexical")
        .filter_map(|r| {
            let scores: BTreeMap<String, Vec<f64>> =
                serde_json::from_value(r.extra.get("scores")?.clone()).ok()?;
            let name = |k: &str| match k {
                "obfuscated_variant" => "obfuscated clone (label 1)".to_string(),
                "mutant" => "mutant (label 0)".to_string(),
                "other_function" => "other function (label 0)".to_string(),
                other => other.to_string(),
            };
            Some(Block::Histogram(Histogram {
                title: format!("{}: cosine similarity of clone pairs", r.encoder),
                x_label: "cosine similarity".into(),
                series: scores.into_iter().map(|(k, v)| (name(&k), v)).collect(),
                bins: 30,
                range: None,
                caption: Some("Separated distributions mean a high AUROC; mutants share almost every token with the original, so only behaviour tells them apart.".into()),
            }))
        })
        .collect()
}

/// 2-D PCA of the code-search embeddings of a few groups.
fn projections(results: &[&TaskResult]) -> Vec<Block> {
    results
        .iter()
        .filter_map(|r| {
            let p = r.extra.get("projection")?;
            let groups: Vec<String> = serde_json::from_value(p.get("groups")?.clone()).ok()?;
            let embeddings: Vec<Vec<f32>> = serde_json::from_value(p.get("embeddings")?.clone()).ok()?;
            if embeddings.len() < 3 {
                return None;
            }
            let xy = pca_2d(&embeddings);
            Some(Block::Scatter(Scatter {
                title: format!("{}: embeddings of equivalent programs", r.encoder),
                x_label: "PC 1".into(),
                y_label: "PC 2".into(),
                points: xy
                    .into_iter()
                    .zip(&groups)
                    .map(|((x, y), g)| ScatterPoint {
                        x,
                        y,
                        group: g.chars().take(8).collect(),
                        label: Some(format!("function {g}")),
                    })
                    .collect(),
                caption: Some("Each colour is one held-out function and its trace-equivalent rewrites (2-D PCA); tight, separate clusters mean rewrites embed together.".into()),
            }))
        })
        .collect()
}

fn summary_samples(results: &[&TaskResult]) -> Vec<Block> {
    let mut rows = Vec::new();
    for r in results {
        if let Some(samples) = r.extra.get("samples").and_then(|s| s.as_array()) {
            for s in samples.iter().take(3) {
                rows.push(vec![
                    Cell::text(&r.encoder),
                    Cell::text(s["reference"].as_str().unwrap_or("")),
                    Cell::text(s["generated"].as_str().unwrap_or("")),
                ]);
            }
        }
    }
    if rows.is_empty() {
        return vec![];
    }
    vec![Block::Table(Table {
        caption: Some("Sample summaries (first test functions)".into()),
        columns: vec![
            Column::plain("encoder"),
            Column::plain("reference"),
            Column::plain("generated"),
        ],
        rows,
    })]
}

/// Grouped bars of the headline metrics over an ablation's encoders.
fn ablation_section(heading: &str, text: &str, results: &[TaskResult]) -> Section {
    let encoders = encoders_in_order(results);
    let tasks: Vec<Task> = Task::ALL
        .into_iter()
        .filter(|t| results.iter().any(|r| r.task == *t))
        .collect();
    let categories: Vec<String> = tasks
        .iter()
        .map(|t| {
            let m = results
                .iter()
                .find(|r| r.task == *t)
                .map_or("", |r| r.headline.as_str());
            format!("{} {}", t.name(), metric_label(m))
        })
        .collect();
    let series = encoders
        .iter()
        .map(|e| {
            let cells: Vec<Option<&TaskResult>> = tasks
                .iter()
                .map(|t| results.iter().find(|r| r.task == *t && &r.encoder == e))
                .collect();
            BarSeries {
                name: e.clone(),
                values: cells
                    .iter()
                    .map(|r| r.map(|r| r.scores[&r.headline].value))
                    .collect(),
                errors: Some(
                    cells
                        .iter()
                        .map(|r| r.and_then(|r| r.scores[&r.headline].spread()))
                        .collect(),
                ),
            }
        })
        .collect();
    let mut columns = vec![Column::plain("setting")];
    columns.extend(categories.iter().map(|c| Column {
        decimals: Some(3),
        ..Column::higher(c.clone())
    }));
    let rows = encoders
        .iter()
        .map(|e| {
            let mut row = vec![Cell::text(e)];
            for t in &tasks {
                row.push(
                    results
                        .iter()
                        .find(|r| r.task == *t && &r.encoder == e)
                        .map_or(Cell::text("–"), |r| score_cell(r, &r.headline)),
                );
            }
            row
        })
        .collect();
    Section {
        heading: heading.into(),
        paragraphs: vec![text.into()],
        blocks: vec![
            Block::BarChart(BarChart {
                title: heading.into(),
                y_label: "score".into(),
                categories,
                series,
                caption: None,
            }),
            Block::Table(Table {
                caption: None,
                columns,
                rows,
            }),
        ],
    }
}

fn read_metrics(path: &Path) -> Result<Vec<Metrics>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("parsing {}", path.display())))
        .collect()
}

fn training_section(run: &Path) -> Result<Section> {
    let mut loss = Vec::new();
    let mut train_loss = Vec::new();
    let mut cosines = Vec::new();
    let mut rows = Vec::new();
    for name in [FUSED_RUN, STATIC_RUN] {
        let path = run.join(name).join("metrics.jsonl");
        if !path.exists() {
            continue;
        }
        let metrics = read_metrics(&path)?;
        let val: Vec<&Metrics> = metrics.iter().filter(|m| m.split == "validation").collect();
        let train: Vec<&Metrics> = metrics.iter().filter(|m| m.split == "train").collect();
        loss.push(Series {
            name: name.into(),
            points: val.iter().map(|m| (m.step as f64, m.loss)).collect(),
        });
        // Train loss smoothed over 10 steps: single steps are noisy.
        train_loss.push(Series {
            name: name.into(),
            points: train
                .chunks(10)
                .map(|c| {
                    let mean = c
                        .iter()
                        .map(|m| m.contrastive.unwrap_or(m.loss))
                        .sum::<f64>()
                        / c.len() as f64;
                    (c[c.len() - 1].step as f64, mean)
                })
                .collect(),
        });
        for (label, get) in [
            (
                "positive",
                (|m: &Metrics| m.positive_similarity) as fn(&Metrics) -> Option<f64>,
            ),
            ("mutant", |m: &Metrics| m.negative_similarity),
            ("other function", |m: &Metrics| m.other_similarity),
        ] {
            cosines.push(Series {
                name: format!("{name}: {label}"),
                points: val
                    .iter()
                    .filter_map(|m| Some((m.step as f64, get(m)?)))
                    .collect(),
            });
        }
        let best = val.iter().min_by(|a, b| a.loss.total_cmp(&b.loss));
        if let (Some(first), Some(best)) = (val.first(), best) {
            let tps: Vec<f64> = train.iter().filter_map(|m| m.tokens_per_s).collect();
            rows.push(vec![
                Cell::text(name),
                Cell::value(first.loss),
                Cell::value(best.loss),
                Cell::text(best.step.to_string()),
                Cell::value(best.positive_similarity.unwrap_or(f64::NAN)),
                Cell::value(best.negative_similarity.unwrap_or(f64::NAN)),
                Cell::value(best.other_similarity.unwrap_or(f64::NAN)),
                Cell::value(tps.iter().sum::<f64>() / tps.len().max(1) as f64),
            ]);
        }
    }
    let mut section = Section {
        heading: "Training".into(),
        paragraphs: vec!["Contrastive training of the fused model (trace-equivalent positives, mutant hard negatives) and of the static-only baseline (static positives, no trace branch). Validation = pairs of held-out functions; the checkpoint with the lowest validation loss is the one evaluated.".into()],
        blocks: vec![],
    };
    if loss.is_empty() {
        section.blocks.push(Block::Note(
            "pending: no training run in this directory".into(),
        ));
        return Ok(section);
    }
    section.blocks.push(Block::LineChart(LineChart {
        title: "Validation loss".into(),
        x_label: "step".into(),
        y_label: "InfoNCE loss".into(),
        series: loss,
        log_y: false,
        caption: None,
    }));
    section.blocks.push(Block::LineChart(LineChart {
        title: "Training contrastive loss (mean of 10 steps)".into(),
        x_label: "step".into(),
        y_label: "InfoNCE loss".into(),
        series: train_loss,
        log_y: false,
        caption: None,
    }));
    section.blocks.push(Block::LineChart(LineChart {
        title: "Validation cosine similarity to the anchor".into(),
        x_label: "step".into(),
        y_label: "mean cosine".into(),
        series: cosines,
        log_y: false,
        caption: Some(
            "Positives should stay high while mutants (hard negatives) and other functions fall."
                .into(),
        ),
    }));
    section.blocks.push(Block::Table(Table {
        caption: Some("Validation at the first and the best step".into()),
        columns: vec![
            Column::plain("run"),
            Column::lower("first loss"),
            Column::lower("best loss"),
            Column::plain("best step"),
            Column::higher("cos positive"),
            Column::lower("cos mutant"),
            Column::lower("cos other"),
            Column::higher("tokens/s"),
        ],
        rows,
    }));
    Ok(section)
}

/// Tables of the data stages from summaries.json.
fn data_section(summaries: &serde_json::Value) -> Section {
    let num = |v: &serde_json::Value| Cell::text(v.to_string().trim_matches('"').to_string());
    let mut blocks = Vec::new();
    let corpus = &summaries["corpus"];
    let trace = &summaries["trace"];
    let functions = trace["functions"].as_f64().unwrap_or(0.0);
    let mut rows = vec![
        vec![Cell::text("functions extracted"), num(&corpus["functions"])],
        vec![
            Cell::text("standalone (traceable)"),
            num(&corpus["standalone"]),
        ],
        vec![
            Cell::text("with a docstring summary"),
            num(&corpus["with_summary"]),
        ],
        vec![Cell::text("functions traced"), num(&trace["functions"])],
        vec![
            Cell::text("traced with ≥5 valid inputs"),
            Cell::text(format!(
                "{} ({:.1}%)",
                trace["with_five_valid_inputs"],
                100.0 * trace["with_five_valid_inputs"].as_f64().unwrap_or(0.0)
                    / functions.max(1.0)
            )),
        ],
        vec![
            Cell::text("mean block coverage"),
            Cell::text(format!(
                "{:.1}%",
                100.0 * trace["mean_block_coverage"].as_f64().unwrap_or(0.0)
            )),
        ],
        vec![
            Cell::text("clone benchmark pairs (test split)"),
            num(&summaries["clone"]["pairs"]),
        ],
    ];
    if let Some(unavailable) = corpus["unavailable"].as_object().filter(|u| !u.is_empty()) {
        let names: Vec<&str> = unavailable.keys().map(String::as_str).collect();
        rows.insert(
            1,
            vec![
                Cell::text("PyPI sources pip could not fetch (not in the corpus)"),
                Cell::text(names.join(", ")),
            ],
        );
    }
    blocks.push(Block::Table(Table {
        caption: Some("Corpus and traces".into()),
        columns: vec![Column::plain("measure"), Column::plain("value")],
        rows,
    }));
    let variants = &summaries["variants"];
    let mut rows = Vec::new();
    let mut row = |name: String, c: &serde_json::Value| {
        let total = c["total"].as_f64().unwrap_or(0.0);
        rows.push(vec![
            Cell::text(name),
            num(&c["total"]),
            num(&c["trace_equivalent"]),
            num(&c["trace_different"]),
            num(&c["undetermined"]),
            Cell::value(100.0 * c["trace_different"].as_f64().unwrap_or(0.0) / total.max(1.0)),
        ]);
    };
    row(
        "all rewrites (should be equivalent)".into(),
        &variants["rewrites"],
    );
    for (k, c) in variants["rewrites_by_kind"]
        .as_object()
        .into_iter()
        .flatten()
    {
        row(format!("rewrite: {k}"), c);
    }
    if variants["speculative"]["total"].as_u64().unwrap_or(0) > 0 {
        row(
            "all speculative (kept = equivalent, rejected = different)".into(),
            &variants["speculative"],
        );
        for (k, c) in variants["speculative_by_kind"]
            .as_object()
            .into_iter()
            .flatten()
        {
            row(format!("speculative: {k}"), c);
        }
    }
    row("all mutants (should differ)".into(), &variants["mutants"]);
    for (k, c) in variants["mutants_by_kind"]
        .as_object()
        .into_iter()
        .flatten()
    {
        row(format!("mutant: {k}"), c);
    }
    blocks.push(Block::Table(Table {
        caption: Some("Variants, re-traced and labelled by trace comparison".into()),
        columns: vec![
            Column::plain("kind"),
            Column::plain("variants"),
            Column::plain("trace-equivalent"),
            Column::plain("trace-different"),
            Column::plain("undetermined"),
            Column {
                decimals: Some(1),
                ..Column::plain("different %")
            },
        ],
        rows,
    }));
    let coverage: Vec<Vec<Cell>> = variants["coverage_by_kind"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, c)| {
            let applicable = c["applicable"].as_f64().unwrap_or(0.0);
            vec![
                Cell::text(k.clone()),
                num(&c["applicable"]),
                num(&c["fired"]),
                Cell::value(100.0 * c["fired"].as_f64().unwrap_or(0.0) / applicable.max(1.0)),
            ]
        })
        .collect();
    if !coverage.is_empty() {
        blocks.push(Block::Table(Table {
            caption: Some(format!(
                "Rewrite kinds: functions where the pattern occurs and where the kind fired (alone or composed; {} compositions of ≥2 structural kinds)",
                variants["composed_structural"]
            )),
            columns: vec![
                Column::plain("kind"),
                Column::plain("pattern occurs"),
                Column::plain("fired"),
                Column {
                    decimals: Some(1),
                    ..Column::plain("fired %")
                },
            ],
            rows: coverage,
        }));
    }
    let rows = summaries["pairs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let split = |k: &str| p["examples_by_split"][k].as_u64().unwrap_or(0);
            vec![
                num(&p["positives"]),
                num(&p["examples"]),
                Cell::text(format!(
                    "{} / {} / {}",
                    split("train"),
                    split("validation"),
                    split("test")
                )),
                Cell::value(p["mean_positives"].as_f64().unwrap_or(f64::NAN)),
                Cell::value(p["mean_negatives"].as_f64().unwrap_or(f64::NAN)),
            ]
        })
        .collect();
    blocks.push(Block::Table(Table {
        caption: Some("Contrastive pairs".into()),
        columns: vec![
            Column::plain("positives"),
            Column::plain("examples"),
            Column::plain("train / validation / test"),
            Column {
                decimals: Some(2),
                ..Column::plain("mean positives")
            },
            Column {
                decimals: Some(2),
                ..Column::plain("mean hard negatives")
            },
        ],
        rows,
    }));
    Section {
        heading: "Data".into(),
        paragraphs: vec!["What the data stages produced: standalone functions of the local CPython standard library and MBPP, traced in the sandbox on generated inputs; semantics-preserving rewrites and mutants, re-traced, are positives when their traces match the original's and hard negatives when they differ.".into()],
        blocks,
    }
}

pub fn build(run: &Path) -> Result<Report> {
    let mut meta = vec![
        ("run directory".to_string(), run.display().to_string()),
        (
            "tracecode".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    if let Ok(config) =
        std::fs::read_to_string(run.join(FUSED_RUN).join("model").join("config.json"))
    {
        if let Ok(c) = serde_json::from_str::<serde_json::Value>(&config) {
            meta.push((
                "encoder".into(),
                format!(
                    "{} layers × {} hidden, {} heads",
                    c["num_hidden_layers"], c["hidden_size"], c["num_attention_heads"]
                ),
            ));
        }
    }
    let mut sections = Vec::new();
    let eval_dir = run.join("eval");
    match read_results(&eval_dir) {
        Ok(results) => sections.extend(results_sections(&results, &read_skipped(&eval_dir)?)),
        Err(_) => sections.push(Section {
            heading: "Results".into(),
            paragraphs: vec![],
            blocks: vec![Block::Note(format!(
                "pending: no evaluation results in {}",
                eval_dir.display()
            ))],
        }),
    }
    if let Ok(results) = read_results(&run.join("ablation-runs")) {
        sections.push(ablation_section(
            "Ablation: trace runs per function at inference",
            "The fused model embeds each function from K of its traced runs (inputs). More runs show more behaviour; the model was trained with up to max_runs runs per function.",
            &results,
        ));
    }
    if let Ok(results) = read_results(&run.join("ablate")) {
        sections.push(ablation_section(
            "Ablation grid (retrained models)",
            "Each setting retrains the model (`tracecode ablate`): base = trace-checked positives from sound rewrites, speculative rewrites the traces kept (rejected ones as hard negatives) and mined behavioural clones (near misses as hard negatives); positives-sound = sound rewrites only; positives-speculative = sound and kept speculative rewrites, no mined clones; positives-behaviour = mined clones only; positives-static / positives-both = unchecked rewrites / trace-checked rewrites only; encoding-raw = trace encoding over raw line sequences instead of CFG blocks.",
            &results,
        ));
    }
    sections.push(training_section(run)?);
    match std::fs::read_to_string(run.join(SUMMARIES)) {
        Ok(text) => sections.push(data_section(&serde_json::from_str(&text)?)),
        Err(_) => sections.push(Section {
            heading: "Data".into(),
            paragraphs: vec![],
            blocks: vec![Block::Note(format!(
                "pending: {} not found",
                run.join(SUMMARIES).display()
            ))],
        }),
    }
    Ok(Report {
        title: "TraceCode run report".into(),
        subtitle: Some(
            "Contrastive code representations from static code and execution traces".into(),
        ),
        meta,
        sections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(encoder: &str, notes: &[&str]) -> TaskResult {
        TaskResult {
            task: Task::CodeSearch,
            encoder: encoder.into(),
            spec: encoder.into(),
            scores: BTreeMap::new(),
            headline: "map_at_r".into(),
            n: 4,
            notes: notes.iter().map(|n| n.to_string()).collect(),
            extra: serde_json::Value::Null,
            seconds: 1.0,
        }
    }

    #[test]
    fn packages_pip_could_not_fetch_are_named_in_the_data_table() {
        let mut summaries = serde_json::json!({
            "corpus": {"functions": 10, "standalone": 4, "unavailable": {}},
            "trace": {"functions": 4},
        });
        let table = |s: &serde_json::Value| serde_json::to_string(&data_section(s)).unwrap();
        assert!(!table(&summaries).contains("could not fetch"));
        summaries["corpus"]["unavailable"] =
            serde_json::json!({"sympy==1.13.3": "pip could not download sympy==1.13.3"});
        let text = table(&summaries);
        assert!(
            text.contains("could not fetch") && text.contains("sympy==1.13.3"),
            "{text}"
        );
    }

    #[test]
    fn notes_every_encoder_shares_are_said_once() {
        let a = result("static", &["300 groups"]);
        let b = result("fused", &["300 groups", "no traces for 2 programs"]);
        let (shared, own) = split_notes(&[&a, &b]);
        assert_eq!(shared, vec!["300 groups".to_string()]);
        assert_eq!(
            own,
            vec![String::new(), "no traces for 2 programs".to_string()]
        );
        let (shared, own) = split_notes(&[&a]);
        assert_eq!((shared.len(), own[0].as_str()), (1, ""));
        assert_eq!(split_notes(&[]), (vec![], vec![]));
    }
}
