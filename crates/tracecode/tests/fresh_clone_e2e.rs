//! The main job from a bare clone, as a new user runs it: the repository
//! cloned into an empty directory (nothing beside it, `TRACECODE_DATA`
//! unset), `tracecode pipeline` started from another directory, at tiny
//! sizes, to a finished report in which every task is scored or skipped with
//! its reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tracecode args…` run from `cwd` as a user of the clone at `root` would
/// (`TRACECODE_ROOT` is what `scripts/env.sh` sets; no data override).
fn tracecode_in(root: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tracecode"))
        .args(args)
        .current_dir(cwd)
        .env("TRACECODE_ROOT", root)
        .env_remove("TRACECODE_DATA")
        .output()
        .expect("run tracecode")
}

fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh clone of this repository's committed HEAD in `dir/tracecode`.
fn fresh_clone(dir: &Path) -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(
        repo.join(".git").exists(),
        "{} is not a git checkout: this test clones the repository",
        repo.display()
    );
    let clone = dir.join("tracecode");
    let status = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(&repo)
        .arg(&clone)
        .status()
        .expect("run git");
    assert!(status.success(), "git clone failed");
    clone
}

#[test]
fn pipeline_runs_from_a_bare_clone_to_a_finished_report() {
    let tmp = tempfile::tempdir().unwrap();
    let clone = fresh_clone(tmp.path());
    assert!(clone.join("data/search/mbpp.jsonl").is_file());
    // Started from a directory that is neither the clone nor beside data.
    let cwd = tmp.path().join("elsewhere");
    std::fs::create_dir(&cwd).unwrap();
    let out = tmp.path().join("run");
    let out_s = out.to_str().unwrap();

    // A required input that is missing fails before any stage runs.
    let bad = tracecode_in(
        &clone,
        &cwd,
        &[
            "pipeline",
            "--out",
            out_s,
            "--data",
            "/nonexistent/tracecode-data",
        ],
    );
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("/nonexistent/tracecode-data"), "{err}");
    assert!(!out.join("corpus.parquet").exists(), "no stage ran");

    let run = tracecode_in(
        &clone,
        &cwd,
        &[
            "pipeline",
            "--out",
            out_s,
            "--trace-functions",
            "20",
            "--trace-mbpp",
            "40",
            "--inputs",
            "3",
            "--train-steps",
            "2",
            "--summarize-steps",
            "2",
            "--summarize-train",
            "40",
            "--summarize-test",
            "20",
            "--search-groups",
            "20",
            "--eval-seeds",
            "0",
        ],
    );
    assert_ok(&run, "tracecode pipeline");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!(
            "[pipeline] data: {}",
            clone.join("data").display()
        )),
        "the clone's data/ is found from the repository, not the working directory:\n{stderr}"
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(out.join("report.html").is_file());

    // The default corpus is the clone's configs/corpus.toml (the stdlib and
    // pinned packages) plus MBPP; the traced functions are MBPP's first ones
    // and a sample of the rest.
    let corpus: Vec<tracecode_data::FunctionRecord> =
        tracecode_data::read_rows(&out.join("corpus.parquet")).unwrap();
    let source_of: std::collections::HashMap<&str, &str> = corpus
        .iter()
        .map(|r| (r.id.as_str(), r.source.as_str()))
        .collect();
    assert!(
        corpus.iter().any(|r| r.source == "pypi"),
        "packages in the corpus"
    );
    let traced: Vec<tracecode_data::TraceRecord> =
        tracecode_data::read_rows(&out.join("traces.parquet")).unwrap();
    let mbpp = traced
        .iter()
        .filter(|t| source_of[t.id.as_str()] == "mbpp")
        .count();
    assert!(
        mbpp >= 40 && traced.len() > mbpp + 10,
        "{mbpp} MBPP of {} traced",
        traced.len()
    );

    // Every task is scored, or skipped with its reason; with the shipped
    // data, the data-dependent tasks are scored.
    let results: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval/results.json")).unwrap())
            .unwrap();
    let skipped: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("eval/skipped.json")).unwrap())
            .unwrap();
    for task in [
        "clone",
        "clone-groups",
        "code-search",
        "nl-search",
        "vuln",
        "summarize",
    ] {
        let scored = results.iter().any(|r| r["task"] == task);
        let skip = skipped.iter().find(|s| s["task"] == task);
        assert!(
            scored || skip.is_some(),
            "{task} neither scored nor skipped"
        );
        if let Some(s) = skip {
            let reason = s["reason"].as_str().unwrap();
            assert!(!reason.is_empty());
            assert!(report.contains(&format!("skipped: {reason}")), "{report}");
        }
    }
    assert!(
        out.join("mined.jsonl").is_file(),
        "behavioural clones are mined"
    );
    for task in ["nl-search", "vuln"] {
        assert!(
            results.iter().any(|r| r["task"] == task),
            "{task} reads data/ of the clone: {skipped:?}"
        );
    }

    // A task whose data is missing is skipped with a one-line reason, and
    // the report says so in that task's row.
    let missing = tmp.path().join("no-such-pairs.jsonl");
    let eval = tracecode_in(
        &clone,
        &cwd,
        &[
            "eval",
            "vuln",
            "nl-search",
            "--run",
            out_s,
            "-o",
            out.join("eval").to_str().unwrap(),
            "--encoder",
            "lexical=lexical",
            "--vuln",
            missing.to_str().unwrap(),
        ],
    );
    assert_ok(&eval, "tracecode eval with a missing vulnerability file");
    let skipped = std::fs::read_to_string(out.join("eval/skipped.json")).unwrap();
    assert!(skipped.contains("no vulnerability pairs"), "{skipped}");
    assert_ok(
        &tracecode_in(&clone, &cwd, &["report", "--run", out_s]),
        "tracecode report",
    );
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let row = report
        .lines()
        .find(|l| l.contains("vuln") && l.contains("skipped:"))
        .unwrap_or_else(|| panic!("no skipped vuln row in:\n{report}"));
    assert!(row.contains(&missing.display().to_string()), "{row}");
}
