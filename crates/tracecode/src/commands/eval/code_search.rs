//! Code-to-code search: every held-out function and its trace-equivalent
//! rewrites form a group; each program queries all the others and MAP@R
//! scores how well its own group ranks first.
//!
//! The plain pool is easy for any encoder that sees shared identifiers and
//! structure (rewrites keep most tokens). The adversarial score adds each
//! group's trace-different mutants to the pool as distractors: candidates
//! that read almost exactly like the query but behave differently, so an
//! encoder that matches surface form ranks them above the true rewrites.

use std::collections::{BTreeMap, HashSet};

use anyhow::Result;
use serde_json::json;
use tracecode_data::variant::{EquivalenceLabel, VariantRole};
use tracecode_data::TraceRecord;
use tracecode_eval::metrics::average_precision_at_r;
use tracecode_eval::stats::clustered_se;
use tracecode_py::extract::shape_hash;

use super::encoder::{Encoder, Vectors};
use super::{Outcome, Score, Skip, TaskContext};

/// Programs per group: the original and up to three equivalent rewrites.
const GROUP_SIZE: usize = 4;
/// Trace-different mutants per group added as distractors.
const DISTRACTORS_PER_GROUP: usize = 3;
/// Worst queries kept per pool for error analysis.
const MISSES_KEPT: usize = 20;
/// Groups whose embeddings are kept for the report's 2-D projection.
const PLOTTED_GROUPS: usize = 12;

/// One group: the function, its equivalent programs, its distractors.
struct Group {
    function: String,
    members: Vec<TraceRecord>,
    distractors: Vec<TraceRecord>,
}

pub fn run(ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    let mut equivalent: BTreeMap<String, Vec<(String, TraceRecord)>> = BTreeMap::new();
    let mut mutants: BTreeMap<String, Vec<(String, TraceRecord)>> = BTreeMap::new();
    for row in ctx.held_out_variants()? {
        let target = match (row.role, row.label) {
            (VariantRole::Original, _) => &mut equivalent,
            (VariantRole::Rewrite, EquivalenceLabel::TraceEquivalent) => &mut equivalent,
            (VariantRole::Mutant, EquivalenceLabel::TraceDifferent) => &mut mutants,
            _ => continue,
        };
        target
            .entry(row.function_id.clone())
            .or_default()
            .push((row.id.clone(), row.trace.clone()));
    }
    // Original first, then rewrites in id order: deterministic. One group
    // per shape (see `shape_hash`): a function that differs from an earlier
    // group's only in names and literals would make either group's programs
    // a right answer for the other's queries.
    let mut chosen: Vec<Group> = Vec::new();
    let mut shapes = HashSet::new();
    let mut same_shape = 0;
    for (function, mut members) in equivalent {
        if chosen.len() == ctx.args.search_groups {
            break;
        }
        members.sort_by(|a, b| {
            (a.0 != function)
                .cmp(&(b.0 != function))
                .then(a.0.cmp(&b.0))
        });
        let mut seen = HashSet::new();
        members.retain(|(_, t)| seen.insert(t.code.clone()));
        members.truncate(GROUP_SIZE);
        if members.len() < 2 {
            continue;
        }
        let shape = shape_hash(&members[0].1.code).unwrap_or_else(|| function.clone());
        if !shapes.insert(shape) {
            same_shape += 1;
            continue;
        }
        let mut distractors = mutants.remove(&function).unwrap_or_default();
        distractors.sort_by(|a, b| a.0.cmp(&b.0));
        distractors.retain(|(_, t)| seen.insert(t.code.clone()));
        distractors.truncate(DISTRACTORS_PER_GROUP);
        chosen.push(Group {
            function,
            members: members.into_iter().map(|m| m.1).collect(),
            distractors: distractors.into_iter().map(|m| m.1).collect(),
        });
    }
    if chosen.len() < 2 {
        return Err(Skip(format!(
            "fewer than 2 groups of equivalent held-out functions in {}",
            ctx.variants().display()
        ))
        .into());
    }
    // Members first (indices 0..members), then distractors, each labelled
    // by its own id so it is a candidate but never a query.
    let mut programs: Vec<&TraceRecord> = Vec::new();
    let mut labels = Vec::new();
    let mut group_of = Vec::new();
    for (g, group) in chosen.iter().enumerate() {
        for t in &group.members {
            programs.push(t);
            labels.push(group.function.clone());
            group_of.push(g);
        }
    }
    let members = programs.len();
    for (g, group) in chosen.iter().enumerate() {
        for (k, t) in group.distractors.iter().enumerate() {
            programs.push(t);
            labels.push(format!("{}#distractor{k}", group.function));
            group_of.push(g);
        }
    }
    let texts: Vec<String> = programs.iter().map(|t| t.code.clone()).collect();
    let traces: Vec<Option<&TraceRecord>> = programs
        .iter()
        .map(|&t| encoder.uses_traces().then_some(t))
        .collect();
    let vectors = encoder.embed(&texts, &traces)?;
    let row = |i: usize, pool: usize| -> Vec<f64> {
        (0..pool).map(|j| vectors.cosine(i, &vectors, j)).collect()
    };
    // The score, and the worst queries for error analysis: each with the
    // candidate of another group (or a distractor) it ranked highest.
    let pool_map = |pool: usize| -> Result<(Score, serde_json::Value)> {
        let aps = average_precision_at_r(&labels[..pool], |i| row(i, pool))?;
        let (values, clusters): (Vec<f64>, Vec<usize>) = aps
            .iter()
            .zip(&group_of)
            .filter_map(|(ap, &g)| ap.map(|ap| (ap, g)))
            .unzip();
        let mut missed: Vec<(usize, f64)> = aps
            .iter()
            .enumerate()
            .filter_map(|(i, ap)| ap.filter(|&ap| ap < 1.0).map(|ap| (i, ap)))
            .collect();
        missed.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let misses: Vec<serde_json::Value> = missed
            .iter()
            .take(MISSES_KEPT)
            .map(|&(i, ap)| {
                let scores = row(i, pool);
                let wrong = (0..pool)
                    .filter(|&j| labels[j] != labels[i])
                    .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                    .expect("a pool of two groups or more");
                json!({
                    "query": programs[i].id,
                    "ap": ap,
                    "ranked_above_its_group": programs[wrong].id,
                    "of": labels[wrong],
                    "cosine": scores[wrong],
                })
            })
            .collect();
        let score = Score {
            value: values.iter().sum::<f64>() / values.len() as f64,
            std: None,
            se: Some(clustered_se(&values, &clusters)),
        };
        Ok((
            score,
            json!({ "queries_below_1": missed.len(), "worst": misses }),
        ))
    };
    let (plain, plain_misses) = pool_map(members)?;
    let (adversarial, adversarial_misses) = pool_map(programs.len())?;
    let plotted = match &vectors {
        Vectors::Dense(v) => {
            let cut = chosen
                .iter()
                .take(PLOTTED_GROUPS)
                .map(|g| g.members.len())
                .sum();
            json!({"groups": &labels[..cut], "embeddings": &v[..cut]})
        }
        Vectors::Sparse(_) => serde_json::Value::Null,
    };
    Ok(Outcome {
        scores: vec![
            ("map_at_r", plain),
            ("map_at_r_with_mutants", adversarial),
        ],
        n: members,
        notes: vec![format!(
            "{} groups, {} programs; {} trace-different mutants added as distractors for MAP@R with mutants; {} functions left out for the shape of an earlier group",
            chosen.len(),
            members,
            programs.len() - members,
            same_shape
        )],
        extra: json!({
            "projection": plotted,
            "misses": plain_misses,
            "misses_with_mutants": adversarial_misses,
        }),
    })
}
