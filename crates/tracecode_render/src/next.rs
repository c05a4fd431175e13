//! NExT (Ni et al., 2024, "NExT: Teaching Large Language Models to Reason
//! about Code Execution"): the code itself, each executed line followed by a
//! comment listing, in execution order, the numbered states it produced, each
//! state being only the variables that line changed. Numbering the states
//! with the global step lets a reader follow control flow across lines.

use std::collections::BTreeMap;

use tracecode_data::trace::{TraceRecord, TracedRun};

use crate::{
    abridge, annotate_code, one_line, Abridged, Outcome, OwnFrame, RenderFormat, Step,
    TraceRenderer,
};

/// Written for a state in which the line changed no variable.
const NO_CHANGE: &str = "NO_CHANGE";

/// Renders [`RenderFormat::Next`]:
///
/// ```text
/// # Input: f([3, -1])
/// def f(xs):
///     total = 0  # (0) total=0
///     for x in xs:  # (1) x=3; (4) x=-1; (6) NO_CHANGE
/// ...
/// # Output: 3
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NextRenderer;

impl TraceRenderer for NextRenderer {
    fn format(&self) -> RenderFormat {
        RenderFormat::Next
    }

    fn render(&self, trace: &TraceRecord, run: &TracedRun) -> String {
        let frame = OwnFrame::from_run(trace, run);
        let shown = frame.shown_steps();
        let comments: BTreeMap<u32, String> = frame
            .steps_by_line()
            .into_iter()
            .map(|(line, steps)| {
                let states: Vec<String> = abridge(steps, &shown)
                    .into_iter()
                    .map(|entry| match entry {
                        Abridged::Step(index) => {
                            format!("({index}) {}", changes(&frame.steps[index]))
                        }
                        Abridged::Elided => "...".to_owned(),
                    })
                    .collect();
                (line, states.join("; "))
            })
            .collect();

        let mut out = format!("# Input: {}\n", one_line(&run.call));
        out.push_str(&annotate_code(&trace.code, &comments));
        out.push_str(&match Outcome::of(&run.result) {
            Outcome::Returned(repr) => format!("# Output: {repr}\n"),
            Outcome::Raised(exception) => format!("# Raises: {exception}\n"),
            Outcome::Stopped(status) => format!("# Stopped: {status}\n"),
        });
        out
    }
}

/// `name=repr` pairs joined by `, `, or [`NO_CHANGE`].
fn changes(step: &Step) -> String {
    if step.changed.is_empty() {
        return NO_CHANGE.to_owned();
    }
    let pairs: Vec<String> = step
        .changed
        .iter()
        .map(|var| format!("{}={}", var.name, var.repr))
        .collect();
    pairs.join(", ")
}
