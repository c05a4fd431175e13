//! The main job at scale, split over machines: `--corpus-config` (a sources
//! file, evaluation sets removed), `--shard I/N` on each "machine" (trace and
//! variants of one shard), then `--merge-shards N` joining them and running
//! every later stage to a report. Tiny sizes: the point is the plumbing.

mod common;

use std::collections::HashSet;
use std::path::Path;

use common::{repo_data, tracecode};
use tracecode_data::{read_rows, TraceRecord, VariantRecord};

fn ids<T: serde::de::DeserializeOwned>(path: &Path, id: impl Fn(T) -> String) -> HashSet<String> {
    read_rows::<T>(path).unwrap().into_iter().map(id).collect()
}

#[test]
fn shards_run_apart_and_merge_into_one_finished_run() {
    let data = repo_data();
    if !data.join("search/mbpp.jsonl").exists() {
        eprintln!("skipping: {} has no MBPP", data.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sources.toml"), "stdlib = true\n").unwrap();
    let out = d.join("run");
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/small.toml");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "pipeline",
            "--out",
            out.to_str().unwrap(),
            "--corpus-config",
            d.join("sources.toml").to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--trace-functions",
            "6",
            "--trace-mbpp",
            "6",
            "--inputs",
            "3",
            "--train-steps",
            "2",
            "--summarize-steps",
            "2",
            "--summarize-train",
            "20",
            "--summarize-test",
            "10",
            "--search-groups",
            "10",
            "--eval-seeds",
            "0",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let args = base(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        tracecode(&args, d)
    };

    // Merging before the shards exist fails and says which are missing.
    let early = std::process::Command::new(env!("CARGO_BIN_EXE_tracecode"))
        .args(base(&["--merge-shards", "2"]))
        .current_dir(d)
        .output()
        .unwrap();
    assert!(!early.status.success());
    assert!(String::from_utf8_lossy(&early.stderr).contains("traces.0-of-2.parquet"));

    for shard in ["0/2", "1/2"] {
        let out = run(&["--shard", shard]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("--merge-shards 2"));
    }
    // The corpus left the evaluation sets out (SVEN here; MBPP is an input,
    // split by function like the rest).
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("corpus.parquet.summary.json")).unwrap(),
    )
    .unwrap();
    assert!(
        summary["evaluation_functions"].as_u64().unwrap() > 300,
        "{summary}"
    );
    assert!(summary["decontaminated"].is_u64());
    // Shards are disjoint: each traced its own functions.
    let shard = |i: u32, stage: &str| out.join(format!("shards/{stage}.{i}-of-2.parquet"));
    let (t0, t1) = (
        ids(&shard(0, "traces"), |r: TraceRecord| r.id),
        ids(&shard(1, "traces"), |r: TraceRecord| r.id),
    );
    assert!(!t0.is_empty() && !t1.is_empty() && t0.is_disjoint(&t1));
    assert!(
        !out.join("traces.parquet").exists(),
        "a shard stops after variants"
    );

    run(&["--merge-shards", "2"]);
    let merged = ids(&out.join("traces.parquet"), |r: TraceRecord| r.id);
    assert_eq!(merged, t0.union(&t1).cloned().collect());
    let variants = ids(&out.join("variants.parquet"), |r: VariantRecord| {
        r.function_id
    });
    // Every function with a valid run is varied (a sampled one may have none).
    let traced: HashSet<String> = read_rows::<TraceRecord>(&out.join("traces.parquet"))
        .unwrap()
        .into_iter()
        .filter(|r| r.status == "traced" && !r.runs.is_empty())
        .map(|r| r.id)
        .collect();
    assert!(!traced.is_empty());
    assert_eq!(variants, traced);
    assert!(out.join("report.md").is_file());
}
