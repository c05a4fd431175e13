//! SemCoder (Ding et al., 2024, "SemCoder: Training Code Language Models with
//! Comprehensive Semantics Reasoning"): the input and output in tagged blocks
//! around the code, each executed line followed by the *full* frame state
//! after it, so a reader never has to accumulate changes.

use std::collections::BTreeMap;

use tracecode_data::trace::{TraceRecord, TracedRun};

use crate::{
    abridge, annotate_code, one_line, Abridged, Outcome, OwnFrame, RenderFormat, TraceRenderer,
    Variable,
};

/// Renders [`RenderFormat::Semcoder`]:
///
/// ```text
/// [INPUT]
/// f([3, -1])
/// [/INPUT]
/// def f(xs):
///     total = 0  # [STATE-0]{"xs": [3, -1], "total": 0}[/STATE-0]
/// ...
/// [OUTPUT]
/// 3
/// [/OUTPUT]
/// ```
///
/// `k` in `[STATE-k]` is the global step number (as in NExT); a line's states
/// are separated by spaces and abridged like NExT's. The dict is JSON-like:
/// keys are JSON strings, values are the Python reprs as recorded
/// (`{"s": 'ab', "n": None}`), since the values need not be JSON data.
/// A raised exception goes in `[EXCEPTION]...[/EXCEPTION]` and any other end
/// in `[STOPPED]...[/STOPPED]` instead of `[OUTPUT]`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SemcoderRenderer;

impl TraceRenderer for SemcoderRenderer {
    fn format(&self) -> RenderFormat {
        RenderFormat::Semcoder
    }

    fn render(&self, trace: &TraceRecord, run: &TracedRun) -> String {
        let frame = OwnFrame::from_run(trace, run);
        let shown = frame.shown_steps();
        let mut state = frame.initial_state();
        let mut shown_states: Vec<Option<String>> = Vec::with_capacity(frame.steps.len());
        for (step, &is_shown) in frame.steps.iter().zip(&shown) {
            state.apply(&step.changed);
            shown_states.push(is_shown.then(|| dict(state.vars())));
        }
        let comments: BTreeMap<u32, String> = frame
            .steps_by_line()
            .into_iter()
            .map(|(line, steps)| {
                let states: Vec<String> = abridge(steps, &shown)
                    .into_iter()
                    .map(|entry| match entry {
                        Abridged::Step(index) => {
                            let state = shown_states[index].as_deref().unwrap_or_default();
                            format!("[STATE-{index}]{state}[/STATE-{index}]")
                        }
                        Abridged::Elided => "...".to_owned(),
                    })
                    .collect();
                (line, states.join(" "))
            })
            .collect();

        let mut out = format!("[INPUT]\n{}\n[/INPUT]\n", one_line(&run.call));
        out.push_str(&annotate_code(&trace.code, &comments));
        let (tag, text) = match Outcome::of(&run.result) {
            Outcome::Returned(repr) => ("OUTPUT", repr),
            Outcome::Raised(exception) => ("EXCEPTION", exception),
            Outcome::Stopped(status) => ("STOPPED", status),
        };
        out.push_str(&format!("[{tag}]\n{text}\n[/{tag}]\n"));
        out
    }
}

/// `{"name": repr, ...}`.
fn dict(vars: &[Variable]) -> String {
    let entries: Vec<String> = vars
        .iter()
        .map(|var| {
            format!(
                "{}: {}",
                serde_json::Value::from(var.name.as_str()),
                var.repr
            )
        })
        .collect();
    format!("{{{}}}", entries.join(", "))
}
