//! Clone detection on independently written programs (type-4 clones): a
//! clone-groups file lists problems, each with solutions written by different
//! people; two solutions of one problem are clones, of two problems are not.
//!
//! Identifiers are anonymised by default (AdvTest style, see
//! [`anonymize_module`]): what stays is what the programs do and how, not
//! what their authors called things. Scores per encoder: AUROC of the cosine
//! similarity on all same-problem pairs against as many random
//! other-problem pairs, and against as many pairs of other problems sharing
//! a tag (harder: same topic, different task), each ± DeLong SE; and MAP@R
//! over all solutions ± SE clustered by problem.
//!
//! Encoders with traces read each program's trace: every solution is laid
//! out as a module with the imports LeetCode's judge provides and traced
//! once per evaluation (own and canonical inputs), and its entry — the first
//! public method of `class Solution`, else its first standalone function —
//! gives the trace. Traces come from the programs as written: anonymising
//! changes no behaviour, and trace features hold no names. The same traces
//! give the behaviour-only row (similarity of canonical outcomes, see
//! `tracecode mine`), written as encoder `behaviour`.

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::json;
use tracecode_data::{FunctionRecord, TraceRecord};
use tracecode_eval::metrics::{auroc, average_precision_at_r};
use tracecode_eval::stats::clustered_se;
use tracecode_py::rewrite::anonymize::anonymize_module;

use super::encoder::Encoder;
use super::{Outcome, Score, Skip, TaskContext};
use crate::commands::mine;
use crate::runner::SandboxArgs;

/// The imports LeetCode's judge provides, put before every solution that runs.
pub const JUDGE_PRELUDE: &str = include_str!("judge_prelude.py");
/// Canonical inputs a pair must share for the behaviour row's full credit.
const BEHAVIOUR_MIN_AGREE: usize = 3;
/// Seed of the program order (ties in MAP@R) and of the negative pairs.
const SEED: u64 = 0;

/// One clone-groups row as read: problem ids may be numbers or strings.
#[derive(Deserialize)]
struct GroupRow {
    problem_id: serde_json::Value,
    #[serde(default)]
    tags: Vec<String>,
    solutions: Vec<SolutionRow>,
}

#[derive(Deserialize)]
struct SolutionRow {
    code: String,
}

/// One solution, ready to embed.
pub struct Program {
    pub problem: String,
    /// Stable name: `p<problem>_<k>` (its file when traced).
    pub name: String,
    pub tags: Vec<String>,
    /// The code as written (what runs).
    pub code: String,
    /// What encoders read: anonymised unless `--keep-identifiers`.
    pub text: String,
}

/// The clone-groups set of one evaluation, read once and shared by every encoder.
pub struct CloneSet {
    /// In a seeded random order, so no encoder gains from ties by position.
    pub programs: Vec<Program>,
    /// Solutions left out because they do not parse (cannot be anonymised).
    pub unparsable: usize,
    traces: OnceCell<Vec<Option<TraceRecord>>>,
}

impl CloneSet {
    pub fn read(path: &Path, keep_identifiers: bool) -> Result<Self> {
        let rows: Vec<GroupRow> = tracecode_data::read_rows(path)
            .with_context(|| format!("reading clone groups {}", path.display()))?;
        let mut programs = Vec::new();
        let mut unparsable = 0;
        for row in rows {
            let problem = match &row.problem_id {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let safe: String = problem
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            for (k, s) in row.solutions.into_iter().enumerate() {
                let text = if keep_identifiers {
                    ruff_python_parser::parse_module(&s.code)
                        .ok()
                        .map(|_| s.code.clone())
                } else {
                    anonymize_module(&s.code).ok()
                };
                let Some(text) = text else {
                    unparsable += 1;
                    continue;
                };
                programs.push(Program {
                    problem: problem.clone(),
                    name: format!("p{safe}_{k}"),
                    tags: row.tags.clone(),
                    code: s.code,
                    text,
                });
            }
        }
        programs.shuffle(&mut ChaCha8Rng::seed_from_u64(SEED));
        Ok(CloneSet {
            programs,
            unparsable,
            traces: OnceCell::new(),
        })
    }

    /// The entry trace of every program (`None` where none ran validly),
    /// tracing them into `work` on first use; resumes an interrupted trace.
    pub fn traces(&self, work: &Path) -> Result<&[Option<TraceRecord>]> {
        if let Some(t) = self.traces.get() {
            return Ok(t);
        }
        let traces = trace_programs(&self.programs, work)?;
        Ok(self.traces.get_or_init(|| traces))
    }
}

/// Lays the programs out under `work/src`, extracts and traces them, and
/// returns each program's entry trace.
fn trace_programs(programs: &[Program], work: &Path) -> Result<Vec<Option<TraceRecord>>> {
    let src = work.join("src");
    std::fs::create_dir_all(&src).with_context(|| format!("creating {}", src.display()))?;
    let mut changed = false;
    for p in programs {
        let path = src.join(format!("{}.py", p.name));
        let text = format!("{JUDGE_PRELUDE}{}", p.code);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            changed = true;
        }
    }
    // Re-extracted when a program changed; tracing resumes by function id,
    // so only new or changed functions run.
    let corpus = work.join("corpus.parquet");
    if changed || !corpus.exists() {
        let mut args = crate::commands::corpus::args_for(vec![src.clone()], false, &corpus);
        // Two repositories may solve a problem with the same code: both count.
        args.keep_duplicates = true;
        crate::commands::corpus::run(&args)?;
    }
    let traces_path = work.join("traces.parquet");
    crate::commands::trace::run(&crate::commands::trace::TraceArgs {
        corpus: corpus.clone(),
        output: traces_path.clone(),
        inputs: 5,
        sandbox: SandboxArgs {
            workers: None,
            timeout: 2000,
            max_events: 100_000,
            checkpoint: 100,
        },
        search_rounds: 2,
        adapt_rounds: 3,
        canonical: 6,
        seed: 0,
        shard: None,
        limit: None,
        sample: None,
        sample_seed: 0,
        all: false,
        replay: None,
    })?;
    // The entry of each file: the first public method of `Solution`, else
    // the first standalone function.
    let mut entry: HashMap<String, (bool, u32, String)> = HashMap::new();
    tracecode_data::for_each_row(&corpus, |r: FunctionRecord| {
        if !r.is_ok() {
            return Ok(());
        }
        let Some(file) = Path::new(&r.path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
        else {
            return Ok(());
        };
        let is_entry = r.qualname.starts_with("Solution.") && !r.name.starts_with('_');
        if !is_entry && !r.standalone {
            return Ok(());
        }
        let candidate = (!is_entry, r.line, r.id.clone());
        let slot = entry.entry(file).or_insert_with(|| candidate.clone());
        if candidate < *slot {
            *slot = candidate;
        }
        Ok(())
    })?;
    // Ids are content hashes: two files with the same code share one.
    let mut wanted: HashMap<String, Vec<String>> = HashMap::new();
    for (file, (_, _, id)) in entry {
        wanted.entry(id).or_default().push(file);
    }
    let mut by_file: HashMap<String, TraceRecord> = HashMap::new();
    tracecode_data::for_each_row(&traces_path, |t: TraceRecord| {
        if t.runs.is_empty() {
            return Ok(());
        }
        for file in wanted.get(&t.id).into_iter().flatten() {
            by_file.insert(file.clone(), t.clone());
        }
        Ok(())
    })?;
    Ok(programs.iter().map(|p| by_file.remove(&p.name)).collect())
}

/// Where the programs of the clone-groups file `groups` are traced: under
/// the run directory, so every evaluation of that run (the main one, the
/// ablations) shares one trace of them.
pub fn work_dir(run: &Path, groups: &Path) -> PathBuf {
    let stem = groups
        .file_stem()
        .map_or_else(|| "groups".into(), |s| s.to_string_lossy().into_owned());
    run.join(format!("clone-groups-{stem}"))
}

pub fn run(ctx: &TaskContext, encoder: &Encoder) -> Result<Outcome> {
    let set = ctx.clone_set()?;
    let texts: Vec<String> = set.programs.iter().map(|p| p.text.clone()).collect();
    let (traces, mut notes) = if encoder.uses_traces() {
        let traces = set.traces(&ctx.clone_groups_work_dir())?;
        let with = traces.iter().filter(|t| t.is_some()).count();
        (
            traces.iter().map(Option::as_ref).collect(),
            vec![format!(
                "{with} of {} programs embedded with their trace",
                texts.len()
            )],
        )
    } else {
        (vec![None; texts.len()], vec![])
    };
    let vectors = encoder.embed(&texts, &traces)?;
    let mut outcome = score(set, |i, j| vectors.cosine(i, &vectors, j))?;
    notes.append(&mut outcome.notes);
    outcome.notes = notes;
    Ok(outcome)
}

/// The behaviour-only row: similarity of canonical outcomes alone.
pub fn run_behaviour(ctx: &TaskContext) -> Result<Outcome> {
    let set = ctx.clone_set()?;
    let traces = set.traces(&ctx.clone_groups_work_dir())?;
    let behaviours: Vec<Option<mine::Behaviour>> = traces
        .iter()
        .map(|t| t.as_ref().and_then(mine::behaviour))
        .collect();
    let with = behaviours.iter().filter(|b| b.is_some()).count();
    let mut outcome = score(set, |i, j| match (&behaviours[i], &behaviours[j]) {
        (Some(a), Some(b)) => mine::similarity(a, b, BEHAVIOUR_MIN_AGREE),
        _ => 0.0,
    })?;
    outcome.notes.insert(
        0,
        format!(
            "{with} of {} programs have canonical runs; the others score 0 against everything",
            set.programs.len()
        ),
    );
    Ok(outcome)
}

/// AUROC against random and same-tag negatives, and MAP@R, for a similarity.
fn score(set: &CloneSet, similarity: impl Fn(usize, usize) -> f64 + Sync) -> Result<Outcome> {
    let programs = &set.programs;
    let mut by_problem: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, p) in programs.iter().enumerate() {
        by_problem.entry(&p.problem).or_default().push(i);
    }
    let mut positives = Vec::new();
    for members in by_problem.values() {
        for (x, &i) in members.iter().enumerate() {
            for &j in &members[x + 1..] {
                positives.push((i, j));
            }
        }
    }
    if positives.is_empty() || by_problem.len() < 2 {
        return Err(Skip(
            "the clone groups need two problems and a problem with two solutions".into(),
        )
        .into());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let n = programs.len();
    let mut random = Vec::with_capacity(positives.len());
    while random.len() < positives.len() {
        let (i, j) = (rng.gen_range(0..n), rng.gen_range(0..n));
        if programs[i].problem != programs[j].problem {
            random.push((i, j));
        }
    }
    let mut same_tag = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            let (a, b) = (&programs[i], &programs[j]);
            if a.problem != b.problem && a.tags.iter().any(|t| b.tags.contains(t)) {
                same_tag.push((i, j));
            }
        }
    }
    same_tag.shuffle(&mut rng);
    same_tag.truncate(positives.len());

    let positive_scores: Vec<f64> = positives.iter().map(|&(i, j)| similarity(i, j)).collect();
    let auroc_against = |negatives: &[(usize, usize)]| -> Result<(Score, f64)> {
        let negative_scores: Vec<f64> = negatives.iter().map(|&(i, j)| similarity(i, j)).collect();
        let scores: Vec<f64> = positive_scores
            .iter()
            .chain(&negative_scores)
            .copied()
            .collect();
        let labels: Vec<bool> = (0..scores.len()).map(|k| k < positives.len()).collect();
        let a = auroc(&scores, &labels)?;
        let mean_negative = negative_scores.iter().sum::<f64>() / negative_scores.len() as f64;
        Ok((
            Score {
                value: a.auroc,
                std: None,
                se: Some(a.se),
            },
            mean_negative,
        ))
    };
    let (random_auroc, random_mean) = auroc_against(&random)?;
    let labels: Vec<&str> = programs.iter().map(|p| p.problem.as_str()).collect();
    let aps = average_precision_at_r(&labels, |i| (0..n).map(|j| similarity(i, j)).collect())?;
    let problem_index: HashMap<&str, usize> = by_problem
        .keys()
        .enumerate()
        .map(|(k, p)| (*p, k))
        .collect();
    let (values, clusters): (Vec<f64>, Vec<usize>) = aps
        .iter()
        .enumerate()
        .filter_map(|(i, ap)| ap.map(|ap| (ap, problem_index[labels[i]])))
        .unzip();
    let map = Score {
        value: values.iter().sum::<f64>() / values.len() as f64,
        std: None,
        se: Some(clustered_se(&values, &clusters)),
    };
    let mean_positive = positive_scores.iter().sum::<f64>() / positive_scores.len() as f64;
    let mut scores = vec![("map_at_r", map), ("auroc_random", random_auroc)];
    let mut notes = vec![format!(
        "{} programs of {} problems ({} left out: they do not parse); {} same-problem pairs against as many random other-problem pairs",
        n,
        by_problem.len(),
        set.unparsable,
        positives.len()
    )];
    let mut extra = json!({
        "mean_cosine_same_problem": mean_positive,
        "mean_cosine_random_other": random_mean,
    });
    if same_tag.len() == positives.len() {
        let (tag_auroc, tag_mean) = auroc_against(&same_tag)?;
        scores.push(("auroc_same_tag", tag_auroc));
        extra["mean_cosine_same_tag_other"] = json!(tag_mean);
        notes.push(format!(
            "{} pairs of other problems sharing a tag as same-tag negatives",
            same_tag.len()
        ));
    } else {
        notes.push(format!(
            "no same-tag AUROC: {} pairs of different problems share a tag, {} needed",
            same_tag.len(),
            positives.len()
        ));
    }
    Ok(Outcome {
        scores,
        n,
        notes,
        extra,
    })
}
