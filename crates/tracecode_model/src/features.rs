//! What the trace encoder reads of a traced function: per run, one step per
//! line event of the function's own frame, each step a *position* token (the
//! block id under CFG encoding, the function-relative line under raw
//! encoding) and a *value* token (a hashed summary of what the line wrote).
//! Variable names are left out on purpose: renaming rewrites must not change
//! the trace view.
//!
//! Beside the runs, *behaviour tokens*: one hashed (input, outcome) token per
//! canonical run (inputs drawn from the type signature alone, so every
//! function with that signature ran the same ones; see `tracecode trace`).
//! Steps and positions differ between two programs written independently;
//! these tokens are equal exactly where the two did the same thing on the
//! same input, which is what lets traces compare across programs.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracecode_data::behaviour::canonical_outcomes;
use tracecode_data::trace::{RunStatus, TraceRecord};

/// How steps are positioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TraceEncoding {
    /// Basic-block ids of the CFG, plus each block's kind and out-degree.
    #[default]
    Cfg,
    /// Function-relative line numbers, no graph.
    Raw,
}

/// Size of the position vocabulary (ids beyond are clamped to the last).
pub const POSITION_VOCAB: i64 = 256;
/// Size of the hashed value vocabulary; 0 means "wrote nothing".
pub const VALUE_VOCAB: i64 = 4096;
/// Block-structure vocabulary: kind × out-degree buckets (CFG encoding only).
pub const STRUCTURE_VOCAB: i64 = 64;
/// Size of the hashed behaviour vocabulary; 0 is padding.
pub const BEHAVIOUR_VOCAB: i64 = 8192;
/// Position token of the final step that carries the outcome.
const OUTCOME_POSITION: i64 = POSITION_VOCAB - 1;

/// One step: (position, value, structure).
pub type Step = [i64; 3];

/// The encoder's view of one function: up to `max_runs` runs of at most
/// `max_steps` steps each (the outcome step included).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TraceFeatures {
    pub runs: Vec<Vec<Step>>,
    /// One token per canonical run: its input and outcome, hashed.
    pub behaviour: Vec<i64>,
}

fn hashed(kind: &str, text: &str) -> i64 {
    hashed_into(VALUE_VOCAB, kind, text)
}

/// A token in 1..vocab for `text` of `kind` (0 stays free for padding).
fn hashed_into(vocab: i64, kind: &str, text: &str) -> i64 {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    let d = h.finalize();
    1 + (u64::from_le_bytes(d[..8].try_into().unwrap()) % (vocab as u64 - 1)) as i64
}

/// A value summary: the type and a short prefix of the repr, so equal values
/// share a token and small differences of long values may too.
fn value_token(type_name: &str, repr: &str) -> i64 {
    let prefix: String = repr.chars().take(24).collect();
    hashed(type_name, &prefix)
}

impl TraceFeatures {
    pub fn from_record(
        record: &TraceRecord,
        encoding: TraceEncoding,
        max_runs: usize,
        max_steps: usize,
    ) -> Self {
        let cfg = record.cfg.as_ref();
        let offset = record.code_line_offset;
        let block_of = |line: u32| -> Option<u32> {
            let map = &cfg?.line_to_block;
            let i = map.binary_search_by_key(&line, |lb| lb.line).ok()?;
            Some(map[i].block)
        };
        // Structure token per block, computed once (not per step): kind × out-degree.
        let structure: Vec<i64> = cfg.map_or_else(Vec::new, |cfg| {
            let mut out_degree = vec![0i64; cfg.blocks.len()];
            for e in &cfg.edges {
                if let Some(d) = out_degree.get_mut(e.from as usize) {
                    *d += 1;
                }
            }
            cfg.blocks
                .iter()
                .zip(out_degree)
                .map(|(b, out)| 1 + (b.kind as i64 * 4 + out.min(3)) % (STRUCTURE_VOCAB - 1))
                .collect()
        });
        let structure_of = |block: u32| structure.get(block as usize).copied().unwrap_or(0);
        let mut runs = Vec::new();
        for run in record.runs.iter().take(max_runs) {
            let r = &run.result;
            // Value writes by step index of the full line sequence.
            let mut writes: Vec<Option<i64>> = vec![None; r.lines.len()];
            for w in &r.values {
                if let Some(slot) = writes.get_mut(w.step as usize) {
                    slot.get_or_insert_with(|| value_token(&w.type_name, &w.repr));
                }
            }
            let mut steps = Vec::new();
            for (i, (&line, &depth)) in r
                .lines
                .iter()
                .zip(r.depths.iter().chain(std::iter::repeat(&0)))
                .enumerate()
            {
                if depth != 0 || line <= offset {
                    continue;
                }
                if steps.len() + 1 >= max_steps {
                    break;
                }
                let local = line - offset;
                let value = writes[i].unwrap_or(0);
                let step = match encoding {
                    TraceEncoding::Raw => [(local as i64).min(POSITION_VOCAB - 2), value, 0],
                    TraceEncoding::Cfg => match block_of(local) {
                        Some(b) => [(b as i64).min(POSITION_VOCAB - 2), value, structure_of(b)],
                        None => [0, value, 0],
                    },
                };
                steps.push(step);
            }
            let outcome = match r.status {
                RunStatus::Returned => hashed("return", r.return_repr.as_deref().unwrap_or("")),
                RunStatus::Raised => hashed("raise", r.exception_type.as_deref().unwrap_or("")),
                other => hashed("status", tracecode_data::serde_name(&other).as_str()),
            };
            steps.push([OUTCOME_POSITION, outcome, 0]);
            runs.push(steps);
        }
        let behaviour = canonical_outcomes(record)
            .iter()
            .map(|(input, outcome)| hashed_into(BEHAVIOUR_VOCAB, input, outcome))
            .collect();
        TraceFeatures { runs, behaviour }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracecode_data::trace::{RunResult, TracedRun, ValueWrite};

    fn record(lines: Vec<u32>, values: Vec<(u32, &str)>, ret: &str) -> TraceRecord {
        let result = RunResult {
            status: RunStatus::Returned,
            depths: vec![0; lines.len()],
            lines,
            values: values
                .into_iter()
                .map(|(step, repr)| ValueWrite {
                    step,
                    name: "x".into(),
                    repr: repr.into(),
                    type_name: "int".into(),
                })
                .collect(),
            return_repr: Some(ret.into()),
            ..Default::default()
        };
        TraceRecord {
            id: "f".into(),
            code_line_offset: 2,
            runs: vec![TracedRun {
                call: "f(1)".into(),
                strategy: "examples".into(),
                blocks: vec![],
                result,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn raw_steps_are_function_relative_lines_with_value_tokens_and_an_outcome() {
        let r = record(vec![1, 4, 5, 5], vec![(1, "3"), (3, "4")], "4");
        let f = TraceFeatures::from_record(&r, TraceEncoding::Raw, 8, 16);
        let steps = &f.runs[0];
        assert_eq!(steps.len(), 4, "prelude line dropped, outcome added");
        assert_eq!(
            steps.iter().map(|s| s[0]).collect::<Vec<_>>(),
            vec![2, 3, 3, OUTCOME_POSITION]
        );
        assert!(steps[0][1] > 0 && steps[1][1] == 0 && steps[2][1] > 0);
        assert_ne!(
            steps[0][1], steps[2][1],
            "different values, different tokens"
        );
        // Renaming a variable does not change the features.
        let mut renamed = r.clone();
        renamed.runs[0].result.values[0].name = "y".into();
        assert_eq!(
            TraceFeatures::from_record(&renamed, TraceEncoding::Raw, 8, 16),
            f
        );
        // A different return value changes the outcome token.
        let other = record(vec![1, 4, 5, 5], vec![(1, "3"), (3, "4")], "5");
        assert_ne!(
            TraceFeatures::from_record(&other, TraceEncoding::Raw, 8, 16).runs[0][3],
            steps[3]
        );
    }

    #[test]
    fn steps_are_capped() {
        let r = record((0..100).map(|i| 3 + i % 3).collect(), vec![], "0");
        let f = TraceFeatures::from_record(&r, TraceEncoding::Raw, 8, 10);
        assert_eq!(f.runs[0].len(), 10);
    }

    #[test]
    fn behaviour_tokens_match_across_programs_on_the_same_canonical_inputs() {
        let canonical = |code: &str, call: &str, ret: &str| {
            let mut r = record(vec![3, 4], vec![], ret);
            r.code = code.into();
            r.runs[0].strategy = "canonical".into();
            r.runs[0].call = call.into();
            r
        };
        let a = canonical("def total(xs):\n    return sum(xs)\n", "total([1, 2])", "3");
        let b = canonical(
            "def add(v):\n    s = 0\n    for x in v: s += x\n    return s\n",
            "add([1, 2])",
            "3",
        );
        let features = |r: &TraceRecord| TraceFeatures::from_record(r, TraceEncoding::Cfg, 8, 16);
        let (fa, fb) = (features(&a), features(&b));
        assert_eq!(fa.behaviour.len(), 1);
        assert_eq!(
            fa.behaviour, fb.behaviour,
            "same input, same outcome, same token"
        );
        let c = canonical("def first(xs):\n    return xs[0]\n", "first([1, 2])", "1");
        assert_ne!(features(&c).behaviour, fa.behaviour);
        // Runs on a function's own inputs carry no behaviour token.
        let own = record(vec![3, 4], vec![], "3");
        assert!(features(&own).behaviour.is_empty());
    }
}
