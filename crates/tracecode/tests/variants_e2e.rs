//! End-to-end test of the variant stages on real MBPP functions: corpus →
//! trace → variants → pairs → bench-set clone, through the built binary and
//! the sandboxed workers, with the outputs read back as a user would.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::tracecode;
use tracecode_data::{
    read_rows, ClonePair, EquivalenceLabel, PairExample, Split, VariantRecord, VariantRole,
};

#[test]
fn mbpp_variants_are_labelled_and_become_pairs_and_a_clone_benchmark() {
    let mbpp = common::repo_data().join("search/mbpp.jsonl");
    if !mbpp.exists() {
        eprintln!("skipping: {} not present", mbpp.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (corpus, traces, variants) = (
        p("corpus.parquet"),
        p("traces.parquet"),
        p("variants.parquet"),
    );
    tracecode(
        &[
            "corpus",
            mbpp.to_str().unwrap(),
            "--limit",
            "24",
            "--seed",
            "5",
            "-o",
            &corpus,
        ],
        dir.path(),
    );
    tracecode(
        &["trace", &corpus, "-o", &traces, "--inputs", "5"],
        dir.path(),
    );

    // Every kept run renders in every format.
    let rendered = p("rendered.jsonl");
    tracecode(
        &[
            "render",
            &traces,
            "--format",
            "next,semcoder,codeexecutor,concise",
            "-o",
            &rendered,
        ],
        dir.path(),
    );
    let renderings: Vec<serde_json::Value> = std::fs::read_to_string(&rendered)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let traced: Vec<tracecode_data::TraceRecord> = read_rows(Path::new(&traces)).unwrap();
    let runs: usize = traced.iter().map(|t| t.runs.len()).sum();
    assert_eq!(renderings.len(), 4 * runs);
    for r in &renderings {
        let text = r["text"].as_str().unwrap();
        let expected = match r["format"].as_str().unwrap() {
            "next" => "# Input:",
            "semcoder" => "[INPUT]",
            "codeexecutor" => "<line>",
            "concise" => "call ",
            other => panic!("{other}"),
        };
        assert!(text.contains(expected), "{text}");
    }
    // --limit takes the first functions with runs, in file order; a selection
    // that matches nothing is an error and writes no file.
    let first = p("first.jsonl");
    tracecode(
        &[
            "render", &traces, "--format", "concise", "--limit", "1", "-o", &first,
        ],
        dir.path(),
    );
    let with_runs = traced.iter().find(|t| !t.runs.is_empty()).unwrap();
    let first_rows: Vec<serde_json::Value> = std::fs::read_to_string(&first)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(first_rows.len(), with_runs.runs.len());
    assert!(first_rows.iter().all(|r| r["id"] == with_runs.id.as_str()));
    let none = p("none.jsonl");
    let failed = std::process::Command::new(env!("CARGO_BIN_EXE_tracecode"))
        .args(["render", &traces, "--id", "no_such_function", "-o", &none])
        .output()
        .unwrap();
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("no traced function"));
    assert!(!Path::new(&none).exists());

    let out = tracecode(
        &[
            "variants",
            &traces,
            "-o",
            &variants,
            "--rewrites",
            "6",
            "--mutants",
            "4",
        ],
        dir.path(),
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("REWRITES") && log.contains("SPECULATIVE") && log.contains("MUTANTS"),
        "{log}"
    );

    let rows: Vec<VariantRecord> = read_rows(Path::new(&variants)).unwrap();
    let originals: Vec<&VariantRecord> = rows
        .iter()
        .filter(|r| r.role == VariantRole::Original)
        .collect();
    assert!(originals.len() >= 20, "{} originals", originals.len());
    let runs_of: HashMap<&str, usize> = originals
        .iter()
        .map(|r| (r.function_id.as_str(), r.trace.runs.len()))
        .collect();
    let (mut rewrites, mut rewrites_equivalent, mut mutants, mut mutants_different) = (0, 0, 0, 0);
    let (mut speculative, mut speculative_determined) = (0, 0);
    for r in &rows {
        // Every variant ran on exactly its original's inputs.
        assert_eq!(
            r.trace.runs.len(),
            runs_of[r.function_id.as_str()],
            "{}",
            r.id
        );
        assert_ne!(r.trace.code, "");
        match (r.role, r.label) {
            (VariantRole::Rewrite, l) => {
                rewrites += 1;
                rewrites_equivalent += usize::from(l == EquivalenceLabel::TraceEquivalent);
            }
            (VariantRole::Mutant, l) => {
                mutants += 1;
                mutants_different += usize::from(l == EquivalenceLabel::TraceDifferent);
                // A different mutant says where and why.
                if l == EquivalenceLabel::TraceDifferent {
                    assert!(r.failed_check.is_some() && r.first_diff_input.is_some());
                    assert!(r.detail.is_some());
                }
            }
            (VariantRole::Speculative, l) => {
                speculative += 1;
                speculative_determined += usize::from(matches!(
                    l,
                    EquivalenceLabel::TraceEquivalent | EquivalenceLabel::TraceDifferent
                ));
                assert!(r.kinds.len() == 1, "{:?}", r.kinds);
            }
            (VariantRole::Original, l) => assert!(matches!(
                l,
                EquivalenceLabel::Deterministic | EquivalenceLabel::Nondeterministic
            )),
        }
    }
    assert!(rewrites >= 4 * originals.len(), "{rewrites} rewrites");
    assert!(mutants >= 2 * originals.len(), "{mutants} mutants");
    // Speculative rewrites fire on real functions and get a verdict.
    assert!(speculative >= originals.len(), "{speculative} speculative");
    assert!(speculative_determined * 10 >= speculative * 8);
    // The summary counts, per kind, where its pattern occurs and where it fired.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{variants}.summary.json")).unwrap())
            .unwrap();
    let coverage = summary["coverage_by_kind"].as_object().unwrap();
    assert!(coverage.len() >= 10, "{coverage:?}");
    for (kind, c) in coverage {
        assert!(
            c["fired"].as_u64() <= c["applicable"].as_u64(),
            "{kind}: {c}"
        );
    }
    assert_eq!(
        summary["speculative"]["total"].as_u64().unwrap() as usize,
        speculative
    );
    // The issue's bars, on a small sample: rewrites are overwhelmingly
    // equivalent, mutants overwhelmingly different.
    assert!(
        rewrites_equivalent * 10 >= rewrites * 8,
        "{rewrites_equivalent}/{rewrites} rewrites equivalent"
    );
    assert!(
        mutants_different * 10 >= mutants * 7,
        "{mutants_different}/{mutants} mutants different"
    );

    // Resume: a second run finds everything done and keeps the rows.
    let again = tracecode(&["variants", &traces, "-o", &variants], dir.path());
    assert!(String::from_utf8_lossy(&again.stderr).contains(" 0 to vary"));
    let reread: Vec<VariantRecord> = read_rows(Path::new(&variants)).unwrap();
    assert_eq!(reread.len(), rows.len());

    // Two shards, merged, hold exactly the rows of the whole run.
    let shards: Vec<String> = (0..2)
        .map(|i| p(&format!("variants.{i}.parquet")))
        .collect();
    for (i, shard) in shards.iter().enumerate() {
        tracecode(
            &[
                "variants",
                &traces,
                "-o",
                shard,
                "--shard",
                &format!("{i}/2"),
            ],
            dir.path(),
        );
    }
    let merged = p("variants-merged.parquet");
    let mut merge = vec!["merge", "variants", "-o", &merged];
    merge.extend(shards.iter().map(String::as_str));
    tracecode(&merge, dir.path());
    let ids = |path: &str| -> HashSet<String> {
        read_rows::<VariantRecord>(Path::new(path))
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(ids(&merged), ids(&variants));
    assert!(Path::new(&format!("{merged}.summary.json")).exists());

    // Pairs in every mode.
    let mut counts = HashMap::new();
    for mode in ["trace", "static", "both"] {
        let out = p(&format!("pairs-{mode}.parquet"));
        tracecode(
            &[
                "pairs",
                &variants,
                "-o",
                &out,
                "--positives",
                mode,
                "--corpus",
                &corpus,
            ],
            dir.path(),
        );
        let examples: Vec<PairExample> = read_rows(Path::new(&out)).unwrap();
        let positives: usize = examples.iter().map(|e| e.positive_ids.len()).sum();
        assert!(examples.iter().all(|e| !e.positive_ids.is_empty()));
        assert!(examples
            .iter()
            .all(|e| e.positive_ids.len() == e.positive_codes.len()
                && e.negative_ids.len() == e.negative_codes.len()));
        counts.insert(mode, positives);
        if mode == "trace" {
            let splits: HashSet<Split> = examples.iter().map(|e| e.split).collect();
            assert!(splits.contains(&Split::Train));
            check_with_pyarrow(&out);
        }
    }
    // `both` takes trace-equivalent rewrites (kept speculative ones too), a
    // subset of `trace`; static takes sound rewrites unchecked, never speculative.
    assert!(counts["trace"] >= counts["both"] && counts["static"] > 0);

    // The clone benchmark, over every function (fractions 0,0: all in test).
    let clone = p("clone.jsonl");
    tracecode(
        &[
            "bench-set",
            "clone",
            &variants,
            "-o",
            &clone,
            "--fractions",
            "0,0",
        ],
        dir.path(),
    );
    let pairs: Vec<ClonePair> = std::fs::read_to_string(&clone)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let positives = pairs.iter().filter(|p| p.label == 1).count();
    assert!(positives >= 10, "{positives} positive clone pairs");
    assert!(pairs.iter().any(|p| p.kind == "mutant" && p.label == 0));
    assert!(pairs
        .iter()
        .any(|p| p.kind == "other_function" && p.label == 0));
    assert!(pairs.iter().all(|p| p.code_a != p.code_b));
}

/// The pairs file reads in pyarrow with list columns (skipped without the venv).
fn check_with_pyarrow(path: &str) {
    let Some(venv) = std::env::var_os("TRACECODE_VENV") else {
        eprintln!("skipping the pyarrow check: TRACECODE_VENV is not set");
        return;
    };
    let script = r#"
import sys, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
assert {"function_id", "split", "anchor_code", "positive_codes", "negative_codes", "summary"} <= set(t.column_names), t.column_names
rows = t.to_pylist()
assert rows and all(r["split"] in ("train", "validation", "test") for r in rows)
assert all(isinstance(r["positive_codes"], list) and r["positive_codes"] for r in rows)
print(len(rows))
"#;
    let res = Command::new(PathBuf::from(venv).join("bin/python"))
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .expect("run the venv python");
    assert!(
        res.status.success(),
        "pyarrow check failed:\n{}\n{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}
