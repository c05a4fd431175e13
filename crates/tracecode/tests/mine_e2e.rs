//! Canonical inputs and behavioural clone mining, end to end: functions
//! written differently (other names, parameter names, docstring types instead
//! of annotations) run on the same canonical inputs, and `mine` groups the
//! ones that do the same thing.

mod common;

use std::collections::BTreeSet;

use common::tracecode;

const MODULE: &str = r#"
def total(xs: list[int]) -> int:
    s = 0
    for x in xs:
        s += x
    return s


def add_all(values):
    """Sum of the values.

    :type values: List[int]
    :rtype: int
    """
    return sum(values)


def biggest(xs: list[int]) -> int:
    return max(xs) if xs else 0


def reverse_in_place(xs: list[int]) -> None:
    xs.reverse()


def flip(items: list[int]) -> None:
    i, j = 0, len(items) - 1
    while i < j:
        items[i], items[j] = items[j], items[i]
        i += 1
        j -= 1
"#;

#[test]
fn canonical_runs_are_shared_and_mining_groups_behavioural_clones() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("clones.py"), MODULE).unwrap();
    tracecode(&["corpus", "clones.py", "-o", "corpus.jsonl"], d);
    tracecode(
        &[
            "trace",
            "corpus.jsonl",
            "-o",
            "traces.jsonl",
            "--inputs",
            "3",
            "--canonical",
            "6",
            "--workers",
            "1",
        ],
        d,
    );
    let traces: Vec<serde_json::Value> = std::fs::read_to_string(d.join("traces.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let canonical_args = |name: &str| -> Vec<String> {
        let t = traces
            .iter()
            .find(|t| t["qualname"] == name)
            .unwrap_or_else(|| panic!("{name} traced"));
        t["runs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["strategy"] == "canonical")
            .map(|r| {
                let call = r["call"].as_str().unwrap();
                call[call.find('(').unwrap()..].to_string()
            })
            .collect()
    };
    // One signature, (list[int]), from an annotation or a docstring field:
    // the same canonical inputs, whatever the names.
    let inputs = canonical_args("total");
    assert!(inputs.len() >= 3, "{inputs:?}");
    assert_eq!(canonical_args("add_all"), inputs);
    assert_eq!(canonical_args("flip"), inputs);

    tracecode(&["mine", "traces.jsonl", "-o", "groups.jsonl"], d);
    let groups: Vec<BTreeSet<String>> = std::fs::read_to_string(d.join("groups.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let g: serde_json::Value = serde_json::from_str(l).unwrap();
            g["solutions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["source"].as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    let group_of = |name: &str| groups.iter().find(|g| g.contains(name));
    let sums = group_of("total").expect("total is in a group");
    assert!(sums.contains("add_all"), "{groups:?}");
    assert!(!sums.contains("biggest"), "{groups:?}");
    let reversals = group_of("flip").expect("flip is in a group (mutated argument)");
    assert!(reversals.contains("reverse_in_place"), "{groups:?}");
    assert!(!reversals.contains("total"));
    assert_eq!(groups.len(), 2, "{groups:?}");
}
