//! Loads a report that uses every block type in headless Chromium and checks
//! that it renders offline without a single console message (the page's CSP
//! logs any blocked external load or script there).
//!
//! Chromium: `$TRACECODE_CHROMIUM`, else `/usr/bin/chromium` (install it with
//! `scripts/install-chromium.sh`). `TRACECODE_SKIP_BROWSER=1` skips these
//! tests. `TRACECODE_REPORT_OUT=<dir>` keeps the example report there and
//! adds a full-page screenshot (`report.png`) for a visual check.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tracecode_report::{
    pca_2d, write_report, BarChart, BarSeries, Block, Cell, Column, Histogram, LineChart, Report,
    Scatter, ScatterPoint, Section, Series, Table,
};

const TIMEOUT: Duration = Duration::from_secs(120);

/// The Chromium binary, or `None` when the tests are to be skipped.
fn chromium() -> Option<PathBuf> {
    if std::env::var("TRACECODE_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("skipping headless Chromium test (TRACECODE_SKIP_BROWSER=1)");
        return None;
    }
    let path = std::env::var_os("TRACECODE_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        path.is_file(),
        "Chromium not found at {}: run scripts/install-chromium.sh, set TRACECODE_CHROMIUM=/path/to/chromium, \
         or set TRACECODE_SKIP_BROWSER=1 to skip this test",
        path.display()
    );
    Some(path)
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `page` with `action` (`--dump-dom`,
/// `--screenshot=…`), a fresh profile in `work`, and a timeout.
fn run_chromium(bin: &Path, page: &Path, action: &str, work: &Path) -> Run {
    let profile = tempfile::tempdir_in(work).unwrap();
    let (out_path, err_path) = (work.join("chromium.out"), work.join("chromium.err"));
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1000,5600",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--enable-logging=stderr", "--v=0", action])
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("Chromium did not finish within {TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Run {
        success: status.success(),
        stdout: std::fs::read_to_string(out_path).unwrap(),
        stderr: std::fs::read_to_string(err_path).unwrap(),
    }
}

/// Lines of Chromium's log that mean the page misbehaved: any console
/// message (the report has no script, so every one is a CSP block or an
/// error), uncaught exceptions and network failures.
fn page_problems(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught") || l.contains("net::ERR_"))
        .collect()
}

/// Deterministic noise in [-0.5, 0.5) (xorshift), so the example is reproducible.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// A report shaped like a real TraceCode run, using every block type and
/// some hostile input (markup in strings, NaN, a diverged run).
fn example_report() -> Report {
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let curves: Vec<Series> = [
        ("code only", 1.0),
        ("code + trace (concat)", 0.8),
        ("code + trace (fusion)", 0.7),
    ]
    .into_iter()
    .map(|(name, rate)| Series {
        name: name.into(),
        points: (0..=120)
            .map(|i| {
                let step = i as f64 * 50.0;
                (
                    step,
                    4.2 * (-rate * step / 1800.0).exp() + 0.35 + 0.08 * noise.next(),
                )
            })
            .collect(),
    })
    .collect();
    let mut diverged = Series {
        name: "lr 3e-3 (diverged)".into(),
        points: vec![],
    };
    for i in 0..=40 {
        let step = i as f64 * 50.0;
        diverged.points.push((
            step,
            if i < 30 {
                4.0 - 0.05 * i as f64
            } else {
                f64::NAN
            },
        ));
    }
    let mut loss = curves;
    loss.push(diverged);

    let val = ["code only", "code + trace (fusion)"]
        .iter()
        .enumerate()
        .map(|(k, name)| Series {
            name: (*name).into(),
            points: (1..=8)
                .map(|e| {
                    (
                        e as f64,
                        0.42 + 0.05 * k as f64 + 0.3 * (1.0 - (-(e as f64) / 3.0).exp()),
                    )
                })
                .collect(),
        })
        .collect();

    let positives: Vec<f64> = (0..400)
        .map(|_| 0.72 + 0.25 * (noise.next() + noise.next()))
        .collect();
    let negatives: Vec<f64> = (0..4000)
        .map(|_| 0.18 + 0.35 * (noise.next() + noise.next()))
        .collect();

    let groups = ["sorting", "string ops", "graph search", "arithmetic"];
    let mut embeddings = Vec::new();
    let mut names = Vec::new();
    for (g, _) in groups.iter().enumerate() {
        for i in 0..60 {
            let centre = [(g as f32 * 1.7).cos() * 3.0, (g as f32 * 1.7).sin() * 3.0];
            let v: Vec<f32> = (0..32)
                .map(|d| if d < 2 { centre[d] } else { 0.0 } + 0.9 * noise.next() as f32)
                .collect();
            embeddings.push(v);
            names.push(format!("{}_{i}", groups[g].replace(' ', "_")));
        }
    }
    let projected = pca_2d(&embeddings);
    let points = projected
        .iter()
        .zip(&names)
        .enumerate()
        .map(|(i, (&(x, y), name))| ScatterPoint {
            x,
            y,
            group: groups[i / 60].into(),
            label: Some(name.clone()),
        })
        .collect();

    Report {
        title: "TraceCode run small-fusion-03 <script>alert(1)</script>".into(),
        subtitle: Some("Contrastive pre-training of a code encoder fused with execution traces".into()),
        meta: vec![
            ("model".into(), "codet5p-110m-embedding + trace fusion".into()),
            ("dataset".into(), "tracecode-py-v2 (48,211 functions)".into()),
            ("steps".into(), "6,000 × batch 64".into()),
            ("seeds".into(), "3".into()),
            ("commit".into(), "92eb6e2".into()),
            ("date".into(), "2025-06-01".into()),
        ],
        sections: vec![
            Section {
                heading: "Summary".into(),
                paragraphs: vec![
                    "Fusing execution traces improves code-to-code retrieval over the code-only baseline on every metric; \
                     best values per column are bold, ± is the standard deviation over 3 seeds."
                        .into(),
                ],
                blocks: vec![
                    Block::Table(Table {
                        caption: Some("Retrieval on the held-out split (3 seeds).".into()),
                        columns: vec![
                            Column::plain("model"),
                            Column::higher("MRR"),
                            Column::higher("R@1"),
                            Column::higher("R@10"),
                            Column::lower("val loss"),
                            Column::plain("params"),
                        ],
                        rows: vec![
                            vec![
                                Cell::text("code only"),
                                Cell::value_pm(0.612, 0.011),
                                Cell::value_pm(0.503, 0.014),
                                Cell::value_pm(0.842, 0.006),
                                Cell::value(0.981),
                                Cell::text("110M"),
                            ],
                            vec![
                                Cell::text("code + trace (concat)"),
                                Cell::value_pm(0.668, 0.009),
                                Cell::value_pm(0.561, 0.012),
                                Cell::value_pm(0.871, 0.005),
                                Cell::value(0.902),
                                Cell::text("110M"),
                            ],
                            vec![
                                Cell::text("code + trace (fusion)"),
                                Cell::value_pm(0.701, 0.008),
                                Cell::value_pm(0.598, 0.010),
                                Cell::value_pm(0.889, 0.004),
                                Cell::value(0.874),
                                Cell::text("118M"),
                            ],
                            vec![
                                Cell::text("lr 3e-3 (diverged)"),
                                Cell::value(f64::NAN),
                                Cell::value(f64::NAN),
                                Cell::value(f64::NAN),
                                Cell::value(f64::INFINITY),
                                Cell::text("118M"),
                            ],
                        ],
                    }),
                    Block::Note("pending: the CodeSearchNet zero-shot evaluation is still running.".into()),
                ],
            },
            Section {
                heading: "Training".into(),
                paragraphs: vec!["Contrastive loss on the training batches; the lr 3e-3 run diverged at step 1500.".into()],
                blocks: vec![
                    Block::LineChart(LineChart {
                        title: "Training loss".into(),
                        x_label: "step".into(),
                        y_label: "InfoNCE loss".into(),
                        series: loss,
                        log_y: true,
                        caption: Some("Log scale; the diverged run stops where its loss became non-finite.".into()),
                    }),
                    Block::LineChart(LineChart {
                        title: "Validation MRR".into(),
                        x_label: "epoch".into(),
                        y_label: "MRR".into(),
                        series: val,
                        log_y: false,
                        caption: None,
                    }),
                ],
            },
            Section {
                heading: "Ablations".into(),
                paragraphs: vec![],
                blocks: vec![Block::BarChart(BarChart {
                    title: "Ablations".into(),
                    y_label: "MRR".into(),
                    categories: vec!["full".into(), "no trace values".into(), "no CFG".into(), "no hard negatives".into()],
                    series: vec![
                        BarSeries {
                            name: "in-distribution".into(),
                            values: vec![Some(0.701), Some(0.655), Some(0.688), Some(0.642)],
                            errors: Some(vec![Some(0.008), Some(0.010), Some(0.009), Some(0.012)]),
                        },
                        BarSeries {
                            name: "out-of-distribution".into(),
                            values: vec![Some(0.583), Some(0.521), None, Some(0.530)],
                            errors: Some(vec![Some(0.015), Some(0.018), None, Some(0.016)]),
                        },
                    ],
                    caption: Some("Mean over 3 seeds; error bars are ±1 std. \"no CFG\" OOD is pending.".into()),
                })],
            },
            Section {
                heading: "Embedding space".into(),
                paragraphs: vec![],
                blocks: vec![
                    Block::Histogram(Histogram {
                        title: "Pair similarity".into(),
                        x_label: "cosine similarity".into(),
                        series: vec![("positive pairs".into(), positives), ("negative pairs".into(), negatives)],
                        bins: 40,
                        range: Some((-1.0, 1.0)),
                        caption: Some("Semantically equivalent pairs vs random pairs.".into()),
                    }),
                    Block::Scatter(Scatter {
                        title: "Function embeddings".into(),
                        x_label: "PC 1".into(),
                        y_label: "PC 2".into(),
                        points,
                        caption: Some("PCA of 240 function embeddings, coloured by task family.".into()),
                    }),
                ],
            },
        ],
    }
}

#[test]
fn report_renders_offline_in_headless_chromium() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = std::env::var_os("TRACECODE_REPORT_OUT")
        .map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    let (html, md) = write_report(&out, "report", &example_report()).unwrap();
    let html = html.canonicalize().unwrap();
    assert!(std::fs::read_to_string(md)
        .unwrap()
        .contains("| code + trace (fusion) | **0.701 ± 0.008** |"));

    let run = run_chromium(&bin, &html, "--dump-dom", tmp.path());
    assert!(run.success, "Chromium failed:\n{}", run.stderr);
    let dom = run.stdout;
    assert_eq!(dom.matches("<svg").count(), 5, "one <svg> per figure");
    for kind in [
        "Training loss",
        "Validation MRR",
        "Ablations",
        "Pair similarity",
        "Function embeddings",
    ] {
        assert!(
            dom.contains(&format!(r#"aria-label="{kind}""#)),
            "figure {kind} missing"
        );
    }
    assert_eq!(dom.matches("<table").count(), 1);
    assert!(dom.contains("<b>0.701 ± 0.008</b>"));
    assert!(!dom.contains("<script") && dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!dom.contains("NaN"));
    let problems = page_problems(&run.stderr);
    assert!(
        problems.is_empty(),
        "the page logged problems:\n{}",
        problems.join("\n")
    );

    if std::env::var_os("TRACECODE_REPORT_OUT").is_some() {
        let png = out
            .join("report.png")
            .canonicalize()
            .unwrap_or_else(|_| out.join("report.png"));
        let run = run_chromium(
            &bin,
            &html,
            &format!("--screenshot={}", png.display()),
            tmp.path(),
        );
        assert!(
            run.success && png.is_file(),
            "screenshot failed:\n{}",
            run.stderr
        );
    }
}

/// The console check above is only meaningful if this Chromium logs CSP
/// blocks: a page with an external image must be caught.
#[test]
fn console_check_catches_a_blocked_load() {
    let Some(bin) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">\
         <img src=\"https://example.invalid/x.png\">",
    )
    .unwrap();
    let run = run_chromium(&bin, &page, "--dump-dom", tmp.path());
    assert!(run.success, "Chromium failed:\n{}", run.stderr);
    assert!(
        !page_problems(&run.stderr).is_empty(),
        "blocked load not logged:\n{}",
        run.stderr
    );
}
