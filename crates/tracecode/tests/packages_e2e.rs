//! Functions that import their own PyPI package: the corpus makes them
//! standalone (the package is the corpus' own source), and trace and variants
//! run them with the package on the workers' path.

mod common;

use common::tracecode;
use tracecode_data::{
    read_rows, write_rows, EquivalenceLabel, FunctionRecord, TraceRecord, VariantRecord,
};

const PIN: &str = "toolz==0.12.1";

#[test]
fn functions_importing_their_package_are_traced_and_varied_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let corpus = d.join("corpus.parquet");
    tracecode(
        &[
            "corpus",
            "--pypi",
            PIN,
            "--standalone-only",
            "-o",
            corpus.to_str().unwrap(),
        ],
        d,
    );
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("corpus.parquet.summary.json")).unwrap(),
    )
    .unwrap();
    assert!(
        summary["with_packages"].as_u64().unwrap() >= 100,
        "{summary}"
    );
    let rows: Vec<FunctionRecord> = read_rows(&corpus).unwrap();
    let with_package: Vec<FunctionRecord> = rows
        .into_iter()
        .filter(|r| !r.packages.is_empty())
        .collect();
    assert!(with_package.len() >= 100);
    for r in &with_package {
        assert!(r.standalone && r.standalone_reasons.is_empty());
        assert_eq!(r.packages, vec![PIN.to_string()]);
        let imports = tracecode_py::extract::third_party_imports(&r.context).unwrap();
        assert!(imports.contains("toolz"), "{}", r.context);
    }

    let few = d.join("few.parquet");
    write_rows(&few, &with_package[..16]).unwrap();
    let traces = d.join("traces.parquet");
    tracecode(
        &[
            "trace",
            few.to_str().unwrap(),
            "-o",
            traces.to_str().unwrap(),
            "--inputs",
            "4",
        ],
        d,
    );
    let traced: Vec<TraceRecord> = read_rows(&traces).unwrap();
    assert_eq!(traced.len(), 16);
    assert!(traced.iter().all(|t| t.packages == vec![PIN.to_string()]));
    let import_failures = traced
        .iter()
        .flat_map(|t| &t.runs)
        .filter(|r| r.result.exception_type.as_deref() == Some("ModuleNotFoundError"))
        .count();
    assert_eq!(import_failures, 0);
    // Many toolz functions take callables, which the input generators rarely
    // draw; the rest run.
    let ran = traced.iter().filter(|t| !t.runs.is_empty()).count();
    assert!(ran >= 5, "{ran} of 16 package functions have valid runs");

    let variants = d.join("variants.parquet");
    tracecode(
        &[
            "variants",
            traces.to_str().unwrap(),
            "-o",
            variants.to_str().unwrap(),
            "--limit",
            "4",
        ],
        d,
    );
    let rows: Vec<VariantRecord> = read_rows(&variants).unwrap();
    let equivalent = rows
        .iter()
        .filter(|v| v.label == EquivalenceLabel::TraceEquivalent && v.id != v.function_id)
        .count();
    assert!(
        equivalent >= 4,
        "{equivalent} rewrites re-traced as equivalent"
    );
}
