//! CodeExecutor (Liu et al., 2023, "Code Execution with Pre-trained Language
//! Models"): the trace alone, without the code, as one flat token sequence of
//! executed line numbers each followed by the full frame state after it.

use tracecode_data::trace::{TraceRecord, TracedRun};

use crate::{Outcome, OwnFrame, RenderFormat, TraceRenderer, Variable};

/// Steps rendered before the trace is cut: the format repeats the full state
/// at every step, so its length grows with steps × variables.
pub const DEFAULT_MAX_STEPS: usize = 64;

/// Renders [`RenderFormat::Codeexecutor`], on one line:
///
/// ```text
/// <line> 2 <state> xs : [3, -1] ; total : 0 </state> <line> 3 <state> ... </state> ... <output> 3
/// ```
///
/// After `max_steps` steps the rest is replaced by `<line> ... </line>`; the
/// end is `<output> repr`, `<exception> Type: message` or `<stopped> status`.
#[derive(Debug, Clone, Copy)]
pub struct CodeExecutorRenderer {
    pub max_steps: usize,
}

impl Default for CodeExecutorRenderer {
    fn default() -> Self {
        CodeExecutorRenderer {
            max_steps: DEFAULT_MAX_STEPS,
        }
    }
}

impl TraceRenderer for CodeExecutorRenderer {
    fn format(&self) -> RenderFormat {
        RenderFormat::Codeexecutor
    }

    fn render(&self, trace: &TraceRecord, run: &TracedRun) -> String {
        let frame = OwnFrame::from_run(trace, run);
        let mut state = frame.initial_state();
        let mut parts: Vec<String> = Vec::new();
        for step in frame.steps.iter().take(self.max_steps) {
            state.apply(&step.changed);
            parts.push(format!(
                "<line> {} {}",
                step.line,
                state_tokens(state.vars())
            ));
        }
        if frame.steps.len() > self.max_steps {
            parts.push("<line> ... </line>".to_owned());
        }
        parts.push(match Outcome::of(&run.result) {
            Outcome::Returned(repr) => format!("<output> {repr}"),
            Outcome::Raised(exception) => format!("<exception> {exception}"),
            Outcome::Stopped(status) => format!("<stopped> {status}"),
        });
        let mut out = parts.join(" ");
        out.push('\n');
        out
    }
}

/// `<state> a : 1 ; b : [1, 2] </state>` (`<state> </state>` when empty).
fn state_tokens(vars: &[Variable]) -> String {
    if vars.is_empty() {
        return "<state> </state>".to_owned();
    }
    let pairs: Vec<String> = vars
        .iter()
        .map(|var| format!("{} : {}", var.name, var.repr))
        .collect();
    format!("<state> {} </state>", pairs.join(" ; "))
}
