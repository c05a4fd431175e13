//! End-to-end tests of `tracecode corpus` on real code: the local stdlib, MBPP
//! from `../shared/data`, a pinned PyPI package, and a directory of malformed
//! inputs. They run the built binary exactly as a user would.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{repo_data, tracecode};
use tracecode_data::{read_rows, FunctionRecord, RecordStatus};

fn ok_rows(rows: &[FunctionRecord]) -> Vec<&FunctionRecord> {
    rows.iter()
        .filter(|r| r.status == RecordStatus::Ok)
        .collect()
}

#[test]
fn stdlib_corpus_is_large_classified_and_documented() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdlib.parquet");
    tracecode(
        &["corpus", "--stdlib", "-o", out.to_str().unwrap()],
        dir.path(),
    );
    let rows: Vec<FunctionRecord> = read_rows(&out).unwrap();
    let ok = ok_rows(&rows);
    let standalone = ok.iter().filter(|r| r.standalone).count();
    let summaries = ok.iter().filter(|r| r.summary.is_some()).count();
    let examples = ok.iter().filter(|r| !r.examples.is_empty()).count();
    assert!(ok.len() >= 10_000, "{} functions", ok.len());
    assert!(standalone >= 3_000, "{standalone} standalone");
    assert!(summaries >= 3_000, "{summaries} with summaries");
    assert!(examples >= 100, "{examples} with doctest examples");
    // Ids are unique (exact duplicates removed) and are content hashes of the code.
    let ids: std::collections::HashSet<&str> = ok.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), ok.len());
    // Every standalone function, with its context, is valid Python.
    for r in ok.iter().filter(|r| r.standalone).take(500) {
        let program = format!("{}{}\n", r.context, r.code);
        assert!(
            ruff_python_parser::parse_module(&program).is_ok(),
            "{} {}:\n{program}",
            r.path,
            r.qualname
        );
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("stdlib.parquet.summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["functions"].as_u64().unwrap() as usize, ok.len());
}

#[test]
fn mbpp_rows_become_functions_with_test_calls() {
    let mbpp = repo_data().join("search/mbpp.jsonl");
    if !mbpp.exists() {
        eprintln!("skipping: {} not present", mbpp.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mbpp.jsonl");
    tracecode(
        &[
            "corpus",
            mbpp.to_str().unwrap(),
            "--jsonl",
            "-o",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let rows: Vec<FunctionRecord> = read_rows(&out).unwrap();
    let ok = ok_rows(&rows);
    assert!(
        (960..=974).contains(&ok.len()),
        "{} MBPP functions",
        ok.len()
    );
    let with_calls = ok
        .iter()
        .filter(|r| {
            r.examples.len() >= 3
                && r.examples
                    .iter()
                    .all(|e| e.call.contains(&format!("{}(", r.name)))
        })
        .count();
    assert!(
        with_calls * 100 >= ok.len() * 95,
        "{with_calls} of {} have their 3 test calls",
        ok.len()
    );
    assert!(ok
        .iter()
        .all(|r| r.source == "mbpp" && r.task_id.is_some() && r.summary.is_some()));
    let standalone = ok.iter().filter(|r| r.standalone).count();
    assert!(standalone * 100 >= ok.len() * 95, "{standalone} standalone");
}

#[test]
fn pinned_pypi_package_is_downloaded_and_extracted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mi.parquet");
    tracecode(
        &[
            "corpus",
            "--pypi",
            "more-itertools==10.5.0",
            "--standalone-only",
            "-o",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let rows: Vec<FunctionRecord> = read_rows(&out).unwrap();
    let ok = ok_rows(&rows);
    assert!(ok.len() >= 50, "{} standalone functions", ok.len());
    assert!(ok
        .iter()
        .all(|r| r.standalone && r.source == "pypi" && r.source_name == "more-itertools==10.5.0"));
    assert!(
        ok.iter().filter(|r| !r.examples.is_empty()).count() >= 30,
        "doctest examples harvested"
    );
    // Relative imports inside the package resolve to absolute ones in the context.
    assert!(ok.iter().all(|r| !r.context.contains("from .")));
}

#[test]
fn a_package_pip_cannot_fetch_is_named_in_the_summary_and_the_rest_is_extracted() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("mod.py");
    std::fs::write(&src, "def double(x):\n    return 2 * x\n").unwrap();
    let out = dir.path().join("c.parquet");
    let missing = "tracecode-no-such-distribution==0.0.1";
    tracecode(
        &[
            "corpus",
            src.to_str().unwrap(),
            "--pypi",
            missing,
            "-o",
            out.to_str().unwrap(),
        ],
        dir.path(),
    );
    let rows: Vec<FunctionRecord> = read_rows(&out).unwrap();
    assert_eq!(ok_rows(&rows).len(), 1);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("c.parquet.summary.json")).unwrap(),
    )
    .unwrap();
    let reason = summary["unavailable"][missing].as_str().unwrap();
    assert!(reason.contains("pip could not download"), "{reason}");
}

#[test]
fn malformed_inputs_become_error_rows_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("syntax.py"), "def broken(:\n    pass\n").unwrap();
    std::fs::write(src.join("binary.py"), b"\x7fELF\x02\x01\x01\x00\x00\x00").unwrap();
    std::fs::write(src.join("latin1.py"), b"def f():\n    return 'caf\xe9'\n").unwrap();
    std::fs::write(src.join("py2.py"), "def hello():\n    print 'hello'\n").unwrap();
    let mut huge = String::from("def big():\n    return [\n");
    while huge.len() < 10 * 1024 * 1024 {
        huge.push_str("        1234567890,\n");
    }
    huge.push_str("    ]\n");
    std::fs::write(src.join("huge.py"), huge).unwrap();
    std::fs::write(src.join("empty.py"), "X = 1\n").unwrap();
    std::fs::write(
        src.join("good.py"),
        "def good(x):\n    \"\"\"Double a number for the caller.\"\"\"\n    return 2 * x\n",
    )
    .unwrap();

    let out = dir.path().join("out.parquet");
    let run = tracecode(
        &["corpus", src.to_str().unwrap(), "-o", out.to_str().unwrap()],
        dir.path(),
    );
    let rows: Vec<FunctionRecord> = read_rows(&out).unwrap();
    let reason_of = |path: &str| {
        rows.iter()
            .find(|r| r.path == path)
            .and_then(|r| r.error.clone())
    };
    assert_eq!(reason_of("syntax.py").as_deref(), Some("syntax_error"));
    assert_eq!(reason_of("binary.py").as_deref(), Some("binary"));
    assert_eq!(reason_of("latin1.py").as_deref(), Some("not_utf8"));
    assert_eq!(reason_of("py2.py").as_deref(), Some("python2"));
    assert_eq!(reason_of("huge.py").as_deref(), Some("too_large"));
    assert_eq!(reason_of("empty.py").as_deref(), Some("no_function"));
    let good = rows.iter().find(|r| r.path == "good.py").unwrap();
    assert!(good.is_ok() && good.standalone);
    assert_eq!(
        good.summary.as_deref(),
        Some("Double a number for the caller.")
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("errors") && stderr.contains("python2 1") && stderr.contains("too_large 1"),
        "{stderr}"
    );
}

#[test]
fn filters_limit_and_seed_are_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("m.py");
    let mut code = String::new();
    for i in 0..40 {
        // Distinct constants keep these from being near duplicates.
        code.push_str(&format!(
            "def f{i}(x):\n    y = x + {i}\n    return y * {i}\n\n"
        ));
    }
    code.push_str("def one_liner(x): return x\n");
    std::fs::write(&src, code).unwrap();
    let run = |seed: &str, name: &str| -> Vec<String> {
        let out = dir.path().join(name);
        tracecode(
            &[
                "corpus",
                src.to_str().unwrap(),
                "--min-lines",
                "2",
                "--limit",
                "10",
                "--seed",
                seed,
                "-o",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        read_rows::<FunctionRecord>(&out)
            .unwrap()
            .into_iter()
            .map(|r| r.name)
            .collect()
    };
    let a = run("7", "a.parquet");
    assert_eq!(a.len(), 10);
    assert!(!a.contains(&"one_liner".to_string()));
    assert_eq!(a, run("7", "b.parquet"), "same seed, same sample");
    assert_ne!(a, run("8", "c.parquet"), "another seed, another sample");
}

/// The Parquet file is readable by pyarrow with the documented column types.
#[test]
fn parquet_schema_reads_back_in_pyarrow() {
    let Some(venv) = std::env::var_os("TRACECODE_VENV") else {
        eprintln!(
            "skipping: TRACECODE_VENV is not set (scripts/test sets it and installs pyarrow)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("m.py");
    std::fs::write(&src, "def add(a: int, b: int = 1) -> int:\n    \"\"\"Add two numbers together.\n\n    >>> add(1, 2)\n    3\n    \"\"\"\n    return a + b\n").unwrap();
    let out = dir.path().join("m.parquet");
    tracecode(
        &["corpus", src.to_str().unwrap(), "-o", out.to_str().unwrap()],
        dir.path(),
    );
    let script = r#"
import sys, pyarrow.parquet as pq, pyarrow as pa
t = pq.read_table(sys.argv[1])
s = t.schema
assert t.num_rows == 1, t.num_rows
for name, typ in [("id", pa.string()), ("status", pa.string()), ("line", pa.uint32()), ("code", pa.string()),
                  ("standalone", pa.bool_()), ("tokens", pa.uint32()), ("summary", pa.string())]:
    assert s.field(name).type in (typ, pa.large_string() if typ == pa.string() else typ), (name, s.field(name).type)
assert pa.types.is_list(s.field("standalone_reasons").type) or pa.types.is_large_list(s.field("standalone_reasons").type)
ex = s.field("examples").type
assert pa.types.is_struct(ex.value_type) and {f.name for f in ex.value_type} == {"call", "expected", "origin"}, ex
p = s.field("params").type.value_type
assert {f.name for f in p} == {"name", "kind", "annotation", "default"}, p
row = t.to_pylist()[0]
assert row["status"] == "ok" and row["name"] == "add" and row["params"][1]["kind"] == "positional_or_keyword"
assert row["examples"][0] == {"call": "add(1, 2)", "expected": "3", "origin": "doctest"}, row["examples"]
import hashlib
assert row["id"] == hashlib.sha256(row["code"].encode()).hexdigest()[:16]
print("ok", len(s))
"#;
    let python = PathBuf::from(venv).join("bin/python");
    let res = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&out)
        .output()
        .expect("run the venv python");
    assert!(
        res.status.success(),
        "pyarrow check failed:\n{}\n{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn eval_without_encoders_says_what_is_missing_and_help_teaches() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tracecode"))
        .args(["eval", "clone"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--encoder"));
    let help = tracecode(&["corpus", "--help"], dir.path());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Examples:")
            && help.contains("--standalone-only")
            && help.contains("CodeSearchNet")
    );
}
