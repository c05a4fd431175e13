//! The clone-groups evaluation end to end: solutions of the same problems
//! written differently (LeetCode style, `class Solution`), anonymised,
//! embedded by the lexical baseline, traced with the judge's imports for the
//! behaviour-only row, scored, and read back on a rerun.

mod common;

use common::tracecode;
use serde_json::{json, Value};

fn solutions(codes: &[&str]) -> Value {
    Value::Array(
        codes
            .iter()
            .enumerate()
            .map(|(k, c)| json!({"source": format!("author{k}"), "code": c}))
            .collect(),
    )
}

#[test]
fn clone_groups_scores_encoders_and_behaviour() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let rows = [
        json!({"problem_id": 1, "title": "Sum", "tags": ["Array"], "solutions": solutions(&[
            "class Solution:\n    def total(self, nums: List[int]) -> int:\n        s = 0  # running sum\n        for x in nums:\n            s += x\n        return s\n",
            "class Solution(object):\n    def addAll(self, values):\n        \"\"\"\n        :type values: List[int]\n        :rtype: int\n        \"\"\"\n        return sum(values)\n",
        ])}),
        json!({"problem_id": 2, "title": "Largest", "tags": ["Array"], "solutions": solutions(&[
            "class Solution:\n    def largest(self, nums: List[int]) -> int:\n        return max(nums)\n",
            "class Solution:\n    def findMax(self, a: List[int]) -> int:\n        best = a[0]\n        for v in a[1:]:\n            if v > best:\n                best = v\n        return best\n",
        ])}),
        json!({"problem_id": "3", "title": "Reverse", "tags": ["Array", "String"], "solutions": solutions(&[
            "class Solution:\n    def reverse(self, s: str) -> str:\n        return s[::-1]\n",
            "class Solution:\n    def backwards(self, text: str) -> str:\n        return ''.join(reversed(text))\n",
            // Two authors may write the same code: both programs get its trace.
            "class Solution:\n    def reverse(self, s: str) -> str:\n        return s[::-1]\n",
            "class Solution:\n    def broken(self, s: str) -> str\n        return s\n",
        ])}),
    ];
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(d.join("groups.jsonl"), text).unwrap();
    let args = [
        "eval",
        "clone-groups",
        "--clone-groups",
        "groups.jsonl",
        "--encoder",
        "lexical=lexical",
        "-o",
        "eval",
        "--run",
        "no-run",
    ];
    let output = |out: std::process::Output| {
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    };
    let out = output(tracecode(&args, d));
    assert!(out.contains("behaviour"), "{out}");
    let read = |encoder: &str| -> Value {
        let path = d.join("eval").join(encoder).join("clone-groups.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let lexical = read("lexical");
    assert_eq!(
        lexical["n"], 7,
        "the solution that does not parse is left out"
    );
    assert_eq!(lexical["headline"], "map_at_r");
    for metric in ["map_at_r", "auroc_random", "auroc_same_tag"] {
        let v = lexical["scores"][metric]["value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&v), "{metric} = {v}");
        assert!(
            lexical["scores"][metric]["se"].is_number(),
            "{metric} has an SE"
        );
    }
    let notes = lexical["notes"].to_string();
    assert!(notes.contains("1 left out"), "{notes}");
    // Every solution's entry method ran on the canonical inputs of its
    // signature; each pair of clones agrees on them and differs from the
    // other problems, so behaviour alone ranks every clone first.
    let behaviour = read("behaviour");
    assert!(
        behaviour["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("7 of 7 programs have canonical runs"),
        "{}",
        behaviour["notes"]
    );
    assert_eq!(behaviour["scores"]["map_at_r"]["value"], 1.0, "{behaviour}");
    assert_eq!(
        behaviour["scores"]["auroc_random"]["value"], 1.0,
        "{behaviour}"
    );
    let programs = d.join("no-run").join("clone-groups-groups").join("src");
    let traced = std::fs::read_to_string(programs.join("p1_0.py")).unwrap();
    assert!(
        traced.contains("def total(self, nums"),
        "programs run as written"
    );
    // A rerun reads the results back instead of recomputing them.
    let again = output(tracecode(&args, d));
    assert!(!again.contains("[eval] lexical / clone-groups"), "{again}");
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("eval").join("results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(results.as_array().unwrap().len(), 2);
}
