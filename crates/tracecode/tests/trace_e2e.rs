//! End-to-end tests of `tracecode trace`: real MBPP functions traced through
//! the sandboxed workers, and a file of hostile functions that must be
//! contained while the benign function beside them is traced.

mod common;

use std::net::TcpListener;
use std::path::Path;

use common::tracecode;
use serde_json::Value;

/// Trace rows read from JSONL output (the test binary cannot name the CLI's types).
fn read_traces(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn statuses(row: &Value) -> Vec<String> {
    row["candidate_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn mbpp_functions_get_valid_inputs_blocks_and_values_and_resume() {
    let mbpp = common::repo_data().join("search/mbpp.jsonl");
    if !mbpp.exists() {
        eprintln!("skipping: {} not present", mbpp.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("mbpp.parquet");
    let traces = dir.path().join("traces.jsonl");
    tracecode(
        &[
            "corpus",
            mbpp.to_str().unwrap(),
            "--limit",
            "12",
            "--seed",
            "1",
            "-o",
            corpus.to_str().unwrap(),
        ],
        dir.path(),
    );
    let trace_up_to = |limit: &str| {
        tracecode(
            &[
                "trace",
                corpus.to_str().unwrap(),
                "-o",
                traces.to_str().unwrap(),
                "--inputs",
                "5",
                "--limit",
                limit,
            ],
            dir.path(),
        )
    };
    trace_up_to("6");
    let rows = read_traces(&traces);
    assert_eq!(rows.len(), 6);
    for r in &rows {
        assert_eq!(
            r["status"],
            "traced",
            "{}: {:?}",
            r["qualname"],
            statuses(r)
        );
        let n_blocks = r["cfg"]["blocks"].as_array().unwrap().len() as u64;
        for run in r["runs"].as_array().unwrap() {
            let blocks = run["blocks"].as_array().unwrap();
            assert!(!blocks.is_empty(), "{} {}", r["qualname"], run["call"]);
            assert!(blocks.iter().all(|b| b.as_u64().unwrap() < n_blocks));
            assert!(
                run["result"]["return_repr"].is_string()
                    || run["result"]["exception_type"].is_string()
            );
        }
        assert!(
            r["blocks_hit"].as_u64().unwrap() >= 1
                && r["blocks_hit"].as_u64() <= r["blocks_total"].as_u64()
        );
    }
    let with_five = rows
        .iter()
        .filter(|r| r["runs"].as_array().unwrap().len() >= 5)
        .count();
    assert!(with_five >= 4, "{with_five} of 6 have 5 valid inputs");
    // The example calls come first and their values are logged.
    assert!(rows.iter().any(|r| r["runs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|run| run["strategy"] == "examples"
            && !run["result"]["values"].as_array().unwrap().is_empty())));

    // Resume: a second run with a larger limit traces only the new functions.
    let out = trace_up_to("8");
    assert!(String::from_utf8_lossy(&out.stderr).contains("6 already traced, 2 to trace"));
    let again = read_traces(&traces);
    assert_eq!(again.len(), 8);
    assert_eq!(
        again[..6].iter().map(|r| &r["id"]).collect::<Vec<_>>(),
        rows.iter().map(|r| &r["id"]).collect::<Vec<_>>()
    );
    let parts = dir.path().join("traces.jsonl.parts");
    assert!(!parts.exists(), "parts are merged and removed");

    // An interrupted run leaves its finished checkpoints as parts: here the
    // 8 rows as the one part of a run that had no output yet. The next run
    // skips them and merges them with its own.
    std::fs::create_dir_all(&parts).unwrap();
    std::fs::rename(&traces, parts.join("part-000000.jsonl")).unwrap();
    let out = trace_up_to("9");
    assert!(String::from_utf8_lossy(&out.stderr).contains("8 already traced, 1 to trace"));
    let merged = read_traces(&traces);
    assert_eq!(merged.len(), 9);
    assert_eq!(merged[..8], again[..]);
    assert!(!parts.exists());

    // Replay: the same calls run again give the same results (tracing is deterministic).
    let replayed = dir.path().join("replayed.jsonl");
    tracecode(
        &[
            "trace",
            corpus.to_str().unwrap(),
            "--replay",
            traces.to_str().unwrap(),
            "-o",
            replayed.to_str().unwrap(),
        ],
        dir.path(),
    );
    let replayed = read_traces(&replayed);
    assert_eq!(replayed.len(), 9);
    for (a, b) in merged.iter().zip(&replayed) {
        let calls = |r: &Value| {
            r["runs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| {
                    (
                        x["call"].clone(),
                        x["result"]["return_repr"].clone(),
                        x["blocks"].clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(calls(a), calls(b), "{}", a["qualname"]);
    }
}

#[test]
fn hostile_functions_are_contained_and_the_benign_one_is_traced() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    let written = dir.path().join("written.txt");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let v = victim.display();
    let w = written.display();
    // The classifier would not call these standalone; `--all` traces them anyway,
    // so the sandbox, not the classifier, is what must stop them.
    let src = format!(
        r#"import os
import socket

def write_file(x: int) -> int:
    open('{w}', 'w').write('pwned')
    return x

def unlink_file(x: int) -> int:
    os.unlink('{v}')
    return x

def connect(x: int) -> int:
    socket.create_connection(('127.0.0.1', {port}))
    return x

def spawn(x: int) -> int:
    os.system('touch {w}')
    return x

def spin(x: int) -> int:
    while True:
        x += 1

def benign(xs: list) -> int:
    """Sum a list of integers twice over."""
    total = 0
    for v in xs:
        total += 2 * v
    return total
"#
    );
    let file = dir.path().join("hostile.py");
    std::fs::write(&file, src).unwrap();
    let corpus = dir.path().join("c.parquet");
    let traces = dir.path().join("t.jsonl");
    tracecode(
        &[
            "corpus",
            file.to_str().unwrap(),
            "-o",
            corpus.to_str().unwrap(),
        ],
        dir.path(),
    );
    tracecode(
        &[
            "trace",
            corpus.to_str().unwrap(),
            "--all",
            "-o",
            traces.to_str().unwrap(),
            "--inputs",
            "3",
            "--timeout",
            "500",
        ],
        dir.path(),
    );

    assert!(!written.exists(), "a hostile function wrote a file");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(listener.accept().is_err(), "a hostile function connected");
    let rows = read_traces(&traces);
    let by = |name: &str| {
        rows.iter()
            .find(|r| r["qualname"] == name)
            .unwrap_or_else(|| panic!("{name} not traced"))
    };
    let benign = by("benign");
    assert_eq!(benign["status"], "traced");
    let runs = benign["runs"].as_array().unwrap();
    assert!(runs.iter().any(|r| r["result"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["name"] == "total")));
    for name in ["write_file", "unlink_file", "connect", "spawn"] {
        let s = statuses(by(name));
        assert!(s.iter().any(|s| s == "sandbox_denied"), "{name}: {s:?}");
        assert_eq!(by(name)["status"], "no_valid_input");
    }
    let spin = statuses(by("spin"));
    assert!(
        spin.iter().all(|s| s == "event_limit" || s == "timeout"),
        "{spin:?}"
    );
}

/// Writes `source` to `dir/file` as a one-file corpus; returns a function
/// that traces it with `--inputs 4`, no canonical inputs (so candidate
/// counts are the search's own) and `flag VALUE` into `dir/OUT` and gives
/// back the function's row.
fn one_function_tracer<'a>(
    dir: &'a Path,
    file: &str,
    source: &str,
    flag: &'a str,
) -> impl Fn(&str, &str) -> Value + 'a {
    let src = dir.join(file);
    std::fs::write(&src, source).unwrap();
    let corpus = dir.join("c.parquet");
    tracecode(
        &[
            "corpus",
            src.to_str().unwrap(),
            "-o",
            corpus.to_str().unwrap(),
        ],
        dir,
    );
    move |value: &str, out: &str| {
        let out = dir.join(out);
        tracecode(
            &[
                "trace",
                corpus.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--inputs",
                "4",
                "--canonical",
                "0",
                flag,
                value,
            ],
            dir,
        );
        read_traces(&out).remove(0)
    }
}

/// Coverage-guided search: branches that only values near a working call
/// reach are found by mutating it; `--search-rounds 0` runs only the 4×K
/// first candidates.
#[test]
fn coverage_guided_search_reaches_branches_near_working_calls() {
    let dir = tempfile::tempdir().unwrap();
    let trace = one_function_tracer(
        dir.path(),
        "bands.py",
        "def band(n, m):\n    \"\"\"\n    >>> band(50, 70)\n    'mid'\n    \"\"\"\n    if n == 51:\n        return 'n+1'\n    if m == 69:\n        return 'm-1'\n    if n + m == 119:\n        return 'sum-1'\n    return 'mid'\n",
        "--search-rounds",
    );
    let plain = trace("0", "plain.jsonl");
    let searched = trace("3", "searched.jsonl");
    let n = |r: &Value, k: &str| r[k].as_u64().unwrap();
    assert!(n(&plain, "candidates") <= 16);
    assert!(n(&searched, "candidates") > 16, "{searched}");
    assert!(
        n(&searched, "blocks_hit") > n(&plain, "blocks_hit"),
        "plain {} vs searched {} of {}",
        n(&plain, "blocks_hit"),
        n(&searched, "blocks_hit"),
        n(&plain, "blocks_total")
    );
}

/// Type adaptation: usage inference reads `word * 2` as a number, so every
/// first candidate is an int and fails at entry (`'int' object has no
/// attribute 'upper'`); the message says a str was wanted, and the adapted
/// calls run. `--adapt-rounds 0` shows the function has no valid input
/// without it.
#[test]
fn failures_at_entry_adapt_argument_types() {
    let dir = tempfile::tempdir().unwrap();
    let trace = one_function_tracer(
        dir.path(),
        "shout.py",
        "def shout(word):\n    doubled = word * 2\n    return doubled.upper()\n",
        "--adapt-rounds",
    );
    let plain = trace("0", "plain.jsonl");
    assert_eq!(plain["status"], "no_valid_input", "{plain}");
    assert_eq!(statuses(&plain), vec!["failed_at_entry"]);

    let adapted = trace("3", "adapted.jsonl");
    assert_eq!(adapted["status"], "traced", "{:?}", statuses(&adapted));
    let runs = adapted["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4, "{runs:?}");
    for run in runs {
        assert_eq!(run["strategy"], "adapted");
        assert_eq!(run["result"]["status"], "returned");
        // The argument is now a str literal.
        let call = run["call"].as_str().unwrap();
        assert!(
            call.starts_with("shout('") || call.starts_with("shout(\""),
            "{call}"
        );
    }
    assert!(
        adapted["candidates"].as_u64().unwrap() > plain["candidates"].as_u64().unwrap(),
        "{adapted}"
    );
}
