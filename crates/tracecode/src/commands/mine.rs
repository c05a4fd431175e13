//! `tracecode mine`: behavioural clone mining. Functions whose runs on
//! canonical inputs (shared by every function with the same type signature,
//! see `tracecode trace`) have the same outcomes are grouped, whoever wrote
//! them and whatever they are called.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::{Deserialize, Serialize};
use tracecode_data::behaviour::canonical_outcomes;
use tracecode_data::TraceRecord;

/// Group functions whose canonical runs agree: behavioural clones.
///
/// Two functions agree on a canonical input when both ran it validly and
/// ended the same way: the same return value (reprs, addresses normalised),
/// or the same exception type; when they return `None`, also the same final
/// value of every list, dict, set or bytearray argument the call changed
/// (mutated arguments, by position). An input one function returns on and the other raises on is
/// not compared: it lies outside one's domain (code written for a problem's
/// input constraints does anything beyond them). A pair is mined when it
/// shares at least --min-agree compared inputs and agrees on all of them,
/// and at least two different values were
/// returned among them (a constant answer, e.g. `None` for every input, or
/// the same exception everywhere, is no evidence of doing the same thing).
/// Mined pairs are joined into groups (connected
/// components). A group needs two functions of different shape: textually
/// identical functions (same tokens up to names and literals) never make a
/// group on their own.
///
/// Near misses — pairs sharing at least --min-agree inputs that agree on at
/// least --near-miss of them, but not all — are written beside the groups as
/// hard-negative candidates (GROUPS.near-misses.jsonl).
///
/// The output is in the clone-groups format (`problem_id`, `title`, `tags`,
/// `description`, `solutions` [{`source`, `id`, `code`}]), readable by
/// `tracecode eval clone-groups`.
///
/// Example:
///
///   tracecode trace corpus.parquet -o traces.parquet
///   tracecode mine traces.parquet -o groups.jsonl
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct MineArgs {
    /// Trace files from `tracecode trace` (or variants' originals), mined together.
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,

    /// Output clone groups (JSONL).
    #[arg(short, long, default_value = "groups.jsonl")]
    pub output: PathBuf,

    /// Shared canonical inputs a pair must agree on.
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub min_agree: usize,

    /// Fraction of shared inputs a near miss agrees on (below 1).
    #[arg(long, default_value_t = 0.5, value_name = "F")]
    pub near_miss: f64,
}

/// One function as mining sees it: its outcome per canonical input.
pub(crate) struct Behaviour {
    id: String,
    qualname: String,
    code: String,
    shape: String,
    /// Input key (the call's arguments) → outcome.
    outcomes: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize)]
pub struct MineSummary {
    pub functions: usize,
    pub with_canonical_runs: usize,
    pub pairs_mined: usize,
    pub groups: usize,
    pub functions_in_groups: usize,
    pub near_misses: usize,
}

pub fn run(args: &MineArgs) -> Result<MineSummary> {
    if !(0.0..1.0).contains(&args.near_miss) {
        bail!("--near-miss must be in [0, 1)");
    }
    let mut summary = MineSummary::default();
    let mut functions: Vec<Behaviour> = Vec::new();
    for path in &args.traces {
        tracecode_data::for_each_row(path, |r: TraceRecord| {
            summary.functions += 1;
            if let Some(b) = behaviour(&r) {
                functions.push(b);
            }
            Ok(())
        })
        .with_context(|| format!("reading traces {}", path.display()))?;
    }
    summary.with_canonical_runs = functions.len();
    // Only functions that ran a common input can agree: candidates come from
    // an index of input → functions, each pair taken at the first input its
    // two functions share (so once, without a set of all pairs).
    // Ordered, so near misses come out in the same order on every run.
    let mut by_input: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in functions.iter().enumerate() {
        for input in f.outcomes.keys() {
            by_input.entry(input.as_str()).or_default().push(i);
        }
    }
    let mut parent: Vec<usize> = (0..functions.len()).collect();
    let mut near = Vec::new();
    for (input, members) in &by_input {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                let (a, b) = (&functions[i], &functions[j]);
                let first_shared = a.outcomes.keys().find(|k| b.outcomes.contains_key(*k));
                if first_shared.map(String::as_str) != Some(*input) {
                    continue;
                }
                let (shared, agreed) = agreement(a, b);
                if shared < args.min_agree {
                    continue;
                }
                if agreed.len() == shared {
                    if varied_returns(&agreed) {
                        summary.pairs_mined += 1;
                        union(&mut parent, i, j);
                    }
                } else if agreed.len() as f64 >= args.near_miss * shared as f64 {
                    near.push(NearMiss {
                        id_a: a.id.clone(),
                        id_b: b.id.clone(),
                        code_a: a.code.clone(),
                        code_b: b.code.clone(),
                        shared,
                        agreed: agreed.len(),
                    });
                }
            }
        }
    }
    let mut components: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..functions.len() {
        let root = find(&mut parent, i);
        components.entry(root).or_default().push(i);
    }
    let mut groups = Vec::new();
    for members in components.into_values() {
        let shapes: HashSet<&str> = members
            .iter()
            .map(|&i| functions[i].shape.as_str())
            .collect();
        if members.len() < 2 || shapes.len() < 2 {
            continue;
        }
        summary.functions_in_groups += members.len();
        groups.push(CloneGroup {
            problem_id: format!("mined-{}", groups.len()),
            title: functions[members[0]].qualname.clone(),
            tags: vec![],
            description: String::new(),
            solutions: members
                .iter()
                .map(|&i| Solution {
                    source: functions[i].qualname.clone(),
                    id: functions[i].id.clone(),
                    code: functions[i].code.clone(),
                })
                .collect(),
        });
    }
    summary.groups = groups.len();
    summary.near_misses = near.len();
    tracecode_data::write_rows(&args.output, &groups)?;
    let near_path = near_miss_path(&args.output);
    tracecode_data::write_rows(&near_path, &near)?;
    eprintln!(
        "mine: {} functions, {} with canonical runs → {} groups ({} functions, {} mined pairs) in {}; {} near misses in {}",
        summary.functions,
        summary.with_canonical_runs,
        summary.groups,
        summary.functions_in_groups,
        summary.pairs_mined,
        args.output.display(),
        summary.near_misses,
        near_path.display()
    );
    Ok(summary)
}

/// GROUPS.near-misses.jsonl beside GROUPS.jsonl.
pub fn near_miss_path(groups: &std::path::Path) -> PathBuf {
    let stem = groups
        .file_stem()
        .map_or("groups".into(), |s| s.to_string_lossy().into_owned());
    groups.with_file_name(format!("{stem}.near-misses.jsonl"))
}

/// A group of behavioural clones, in the clone-groups format.
#[derive(Debug, Serialize, Deserialize)]
pub struct CloneGroup {
    pub problem_id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub description: String,
    pub solutions: Vec<Solution>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Solution {
    pub source: String,
    pub id: String,
    pub code: String,
}

/// Two functions that agree on most shared canonical inputs, not all.
#[derive(Debug, Serialize, Deserialize)]
pub struct NearMiss {
    pub id_a: String,
    pub id_b: String,
    pub code_a: String,
    pub code_b: String,
    pub shared: usize,
    pub agreed: usize,
}

/// Compared inputs, and the outcomes of those the two agree on. An input is
/// compared when both functions ended it the same way (both returned, or
/// both raised): one raising where the other returns says the input is
/// outside one function's domain (code written against a problem's input
/// constraints behaves arbitrarily beyond them), not that they differ.
pub(crate) fn agreement<'a>(a: &'a Behaviour, b: &Behaviour) -> (usize, Vec<&'a str>) {
    let mut compared = 0;
    let mut agreed = Vec::new();
    for (input, outcome) in &a.outcomes {
        if let Some(other) = b.outcomes.get(input) {
            if ending(other) != ending(outcome) {
                continue;
            }
            compared += 1;
            if other == outcome {
                agreed.push(outcome.as_str());
            }
        }
    }
    (compared, agreed)
}

/// How alike two functions behave, in [0, 1], by the mining rule made
/// graded: the share of compared canonical inputs they agree on, counted
/// over at least `min_agree` inputs (fewer is weaker evidence), halved when
/// the agreed outcomes hold fewer than two returned values (a constant
/// answer says little). 0 when they share no compared input.
pub(crate) fn similarity(a: &Behaviour, b: &Behaviour, min_agree: usize) -> f64 {
    let (shared, agreed) = agreement(a, b);
    if shared == 0 {
        return 0.0;
    }
    let evidence = if varied_returns(&agreed) { 1.0 } else { 0.5 };
    evidence * agreed.len() as f64 / shared.max(min_agree) as f64
}

/// Whether agreed outcomes hold at least two different returned values: a
/// constant answer (or one exception everywhere) is no evidence of doing the
/// same thing.
fn varied_returns(agreed: &[&str]) -> bool {
    let returned: HashSet<&&str> = agreed.iter().filter(|o| o.starts_with("return ")).collect();
    returned.len() >= 2
}

/// How an outcome ended: `return`, `raise` or a status name.
fn ending(outcome: &str) -> &str {
    outcome.split(' ').next().unwrap_or("")
}

fn find(parent: &mut [usize], i: usize) -> usize {
    let mut root = i;
    while parent[root] != root {
        root = parent[root];
    }
    let mut k = i;
    while parent[k] != root {
        let next = parent[k];
        parent[k] = root;
        k = next;
    }
    root
}

fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        parent[ra.max(rb)] = ra.min(rb);
    }
}

/// A traced function's canonical outcomes; `None` without canonical runs or
/// when its code does not parse.
pub(crate) fn behaviour(r: &TraceRecord) -> Option<Behaviour> {
    let outcomes = canonical_outcomes(r);
    if outcomes.is_empty() {
        return None;
    }
    Some(Behaviour {
        id: r.id.clone(),
        qualname: r.qualname.clone(),
        code: r.code.clone(),
        shape: tracecode_py::extract::shape_hash(&r.code)?,
        outcomes,
    })
}
