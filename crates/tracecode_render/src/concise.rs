//! Concise: the cheapest of the four, one line per executed step with only
//! the variables it changed, and no code (the prompt is expected to show the
//! code separately, with line numbers).

use tracecode_data::trace::{TraceRecord, TracedRun};

use crate::{abridge, one_line, Abridged, Outcome, OwnFrame, RenderFormat, TraceRenderer};

/// Renders [`RenderFormat::Concise`]:
///
/// ```text
/// call f([3, -1])
/// L2: total = 0
/// L3: x = 3
/// L4
/// ...
/// return 3
/// ```
///
/// Steps are abridged per line like NExT's (a line run more than 3 times
/// shows its first 2 and its last execution); each run of consecutive hidden
/// steps becomes one `...` line. The end is `return repr`,
/// `raise Type: message` or `stopped: status (detail)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ConciseRenderer;

impl TraceRenderer for ConciseRenderer {
    fn format(&self) -> RenderFormat {
        RenderFormat::Concise
    }

    fn render(&self, trace: &TraceRecord, run: &TracedRun) -> String {
        let frame = OwnFrame::from_run(trace, run);
        let shown = frame.shown_steps();
        let mut out = format!("call {}\n", one_line(&run.call));
        for entry in abridge(0..frame.steps.len(), &shown) {
            match entry {
                Abridged::Step(index) => {
                    let step = &frame.steps[index];
                    out.push_str(&format!("L{}", step.line));
                    if !step.changed.is_empty() {
                        let pairs: Vec<String> = step
                            .changed
                            .iter()
                            .map(|var| format!("{} = {}", var.name, var.repr))
                            .collect();
                        out.push_str(": ");
                        out.push_str(&pairs.join(", "));
                    }
                }
                Abridged::Elided => out.push_str("..."),
            }
            out.push('\n');
        }
        out.push_str(&match Outcome::of(&run.result) {
            Outcome::Returned(repr) => format!("return {repr}\n"),
            Outcome::Raised(exception) => format!("raise {exception}\n"),
            Outcome::Stopped(status) => format!("stopped: {status}\n"),
        });
        out
    }
}
