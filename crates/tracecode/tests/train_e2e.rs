//! End-to-end test of the learner on real MBPP functions: corpus → trace →
//! variants → pairs → tokenizer → train (fused and static-only) → exact
//! resume → embed, through the built binary.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::tracecode;

fn metrics(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The parts of a metrics line that must be reproduced exactly (not timings).
fn curve(lines: &[serde_json::Value]) -> Vec<(i64, String, String)> {
    lines
        .iter()
        .map(|m| {
            (
                m["step"].as_i64().unwrap(),
                m["split"].as_str().unwrap().to_string(),
                format!("{:.9}", m["loss"].as_f64().unwrap()),
            )
        })
        .collect()
}

#[test]
fn mbpp_training_resumes_exactly_and_embeds() {
    let mbpp = common::shared_data().join("search/mbpp.jsonl");
    if !mbpp.exists() {
        eprintln!("skipping: {} not present", mbpp.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    tracecode(
        &[
            "corpus",
            mbpp.to_str().unwrap(),
            "--limit",
            "40",
            "--seed",
            "3",
            "-o",
            &p("corpus.parquet"),
        ],
        d,
    );
    tracecode(
        &[
            "trace",
            &p("corpus.parquet"),
            "-o",
            &p("traces.parquet"),
            "--inputs",
            "4",
        ],
        d,
    );
    tracecode(
        &[
            "variants",
            &p("traces.parquet"),
            "-o",
            &p("variants.parquet"),
            "--rewrites",
            "3",
            "--mutants",
            "2",
        ],
        d,
    );
    for mode in ["trace", "static"] {
        tracecode(
            &[
                "pairs",
                &p("variants.parquet"),
                "--positives",
                mode,
                "--corpus",
                &p("corpus.parquet"),
                "-o",
                &p(&format!("pairs-{mode}.parquet")),
            ],
            d,
        );
    }
    let out = tracecode(
        &[
            "tokenizer",
            "train",
            &p("corpus.parquet"),
            "--vocab-size",
            "600",
            "-o",
            &p("tokenizer.json"),
        ],
        d,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("tokens"));
    std::fs::write(
        d.join("run.toml"),
        "[data]\npairs = \"pairs-trace.parquet\"\nvariants = \"variants.parquet\"\ntokenizer = \"tokenizer.json\"\n\
         [model]\npreset = \"tiny\"\ntrace_dim = 32\nembed_dim = 32\nmax_code_tokens = 96\nmax_runs = 3\nmax_steps = 40\n\
         [train]\nsteps = 6\nbatch_size = 6\nwarmup = 2\nlr = 1e-3\ncheckpoint_every = 3\neval_every = 3\nthreads = 1\n",
    )
    .unwrap();

    // Uninterrupted run.
    tracecode(&["train", "--config", &p("run.toml"), "-o", &p("full")], d);
    let full = metrics(&d.join("full/metrics.jsonl"));
    assert_eq!(full.iter().filter(|m| m["split"] == "train").count(), 6);
    assert!(full
        .iter()
        .any(|m| m["split"] == "validation" && m["positive_similarity"].is_f64()));
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tracecode.json",
        "heads.safetensors",
    ] {
        assert!(d.join("full/model").join(f).exists(), "{f}");
    }

    // Interrupted after step 3, then resumed: the same curve, value for value.
    tracecode(
        &[
            "train",
            "--config",
            &p("run.toml"),
            "-o",
            &p("resumed"),
            "--stop-after",
            "3",
        ],
        d,
    );
    assert_eq!(
        metrics(&d.join("resumed/metrics.jsonl"))
            .iter()
            .filter(|m| m["split"] == "train")
            .count(),
        3
    );
    let out = tracecode(
        &["train", "--config", &p("run.toml"), "-o", &p("resumed")],
        d,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("resumed from step 3"));
    assert_eq!(
        curve(&metrics(&d.join("resumed/metrics.jsonl"))),
        curve(&full)
    );

    // Static-only baseline: same command, no trace branch.
    tracecode(
        &[
            "train",
            "--config",
            &p("run.toml"),
            "-o",
            &p("static"),
            "--static-only",
            "--pairs",
            &p("pairs-static.parquet"),
            "--steps",
            "3",
        ],
        d,
    );
    let heads: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("static/model/tracecode.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(heads["use_traces"], false);

    // Embedding: code and text, with and without traces; unit vectors in input order.
    let variants: Vec<tracecode_data::VariantRecord> =
        tracecode_data::read_rows(&d.join("variants.parquet")).unwrap();
    let mut input = String::new();
    for v in variants.iter().take(5) {
        input += &serde_json::json!({"id": v.id, "text": v.trace.code}).to_string();
        input += "\n";
    }
    input += &serde_json::json!({"id": "query", "text": "sum of a list of numbers"}).to_string();
    for extra in [
        vec![],
        vec!["--with-traces".to_string(), p("variants.parquet")],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tracecode"))
            .args(["embed", "--model", &p("full/model")])
            .args(&extra)
            .current_dir(d)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[5]["id"], "query");
        for r in &rows {
            let e: Vec<f64> = r["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(e.len(), 32);
            let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        }
        if !extra.is_empty() {
            assert!(String::from_utf8_lossy(&out.stderr).contains("5 of 6 rows have traces"));
        }
    }
}
