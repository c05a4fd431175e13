//! Renders one traced run of a function as text for LLM prompts.
//!
//! The four formats are the trace representations compared in "Do Code
//! Semantics Help? A Comprehensive Study on Execution Trace-Based Information
//! for Code LLMs" (Wang et al., 2025): [`RenderFormat::Next`] (NExT),
//! [`RenderFormat::Semcoder`] (SemCoder), [`RenderFormat::Codeexecutor`]
//! (CodeExecutor) and [`RenderFormat::Concise`]. Each lives in its own module
//! behind the [`TraceRenderer`] trait; [`render`] picks one by name.
//!
//! Every format shows only the called function's own frame (call depth 0):
//! recursive calls and helpers are summarised by the values they leave in it.
//! The shared reconstruction of that frame ([`OwnFrame`], [`FrameState`]) and
//! the loop abridging rule ([`OwnFrame::shown_steps`], [`abridge`]) live here
//! so that the formats differ only in layout. `docs/trace-formats.md` gives
//! the exact layouts.

mod codeexecutor;
mod concise;
mod next;
mod semcoder;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tracecode_data::trace::{RunResult, RunStatus, TraceRecord, TracedRun};

pub use codeexecutor::{CodeExecutorRenderer, DEFAULT_MAX_STEPS};
pub use concise::ConciseRenderer;
pub use next::NextRenderer;
pub use semcoder::SemcoderRenderer;

/// Turns one run of a traced function into prompt text.
pub trait TraceRenderer {
    /// The format this renderer writes.
    fn format(&self) -> RenderFormat;
    /// The text for `run`, one of `trace.runs` (or a run of `trace.code`).
    /// Always ends with a newline.
    fn render(&self, trace: &TraceRecord, run: &TracedRun) -> String;
}

/// Names every trace format, for configuration files and command lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenderFormat {
    /// NExT (Ni et al., 2024): changed variables as numbered inline comments.
    Next,
    /// SemCoder (Ding et al., 2024): full states as inline comments, with
    /// `[INPUT]`/`[OUTPUT]` blocks.
    Semcoder,
    /// CodeExecutor (Liu et al., 2023): a flat `<line> n <state> ... </state>` sequence.
    Codeexecutor,
    /// One line per step with the variables it changed.
    Concise,
}

impl RenderFormat {
    /// Every format, in a fixed order.
    pub const ALL: [RenderFormat; 4] = [
        RenderFormat::Next,
        RenderFormat::Semcoder,
        RenderFormat::Codeexecutor,
        RenderFormat::Concise,
    ];

    /// The name accepted by [`FromStr`] and used by serde.
    pub fn name(self) -> &'static str {
        match self {
            RenderFormat::Next => "next",
            RenderFormat::Semcoder => "semcoder",
            RenderFormat::Codeexecutor => "codeexecutor",
            RenderFormat::Concise => "concise",
        }
    }
}

impl fmt::Display for RenderFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for RenderFormat {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        RenderFormat::ALL
            .into_iter()
            .find(|format| format.name() == name)
            .ok_or_else(|| UnknownFormat(name.to_owned()))
    }
}

/// A format name that [`RenderFormat::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = RenderFormat::ALL
            .iter()
            .map(|format| format.name())
            .collect();
        write!(
            f,
            "unknown trace format `{}` (expected one of: {})",
            self.0,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownFormat {}

/// Renders `run` of `trace` in `format` with that format's default settings.
pub fn render(format: RenderFormat, trace: &TraceRecord, run: &TracedRun) -> String {
    match format {
        RenderFormat::Next => NextRenderer.render(trace, run),
        RenderFormat::Semcoder => SemcoderRenderer.render(trace, run),
        RenderFormat::Codeexecutor => CodeExecutorRenderer::default().render(trace, run),
        RenderFormat::Concise => ConciseRenderer.render(trace, run),
    }
}

/// A variable and the (bounded) Python repr of its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub repr: String,
}

/// One line event of the function's own frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 1-based line of [`TraceRecord::code`].
    pub line: u32,
    /// What executing the line wrote, in write order, each name once with its
    /// last value (the tracer attributes a write to the line that made it).
    pub changed: Vec<Variable>,
}

/// The called function's own frame (depth 0) of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnFrame {
    /// The arguments as bound on entry.
    pub inputs: Vec<Variable>,
    /// The frame's line events in execution order; a step's index is its
    /// number in every format.
    pub steps: Vec<Step>,
}

/// Lines executed at most this many times are shown in full; others are abridged.
const MAX_UNABRIDGED_EXECUTIONS: usize = 3;
/// How many leading executions of an abridged line stay visible (the last one does too).
const KEPT_LEADING_EXECUTIONS: usize = 2;

impl OwnFrame {
    /// Keeps the line events of depth 0 that fall in `code` (as
    /// [`tracecode_data::trace::own_lines`] does) and the writes logged on
    /// them, so nested calls and context helpers vanish with their variables.
    ///
    /// The tracer logs a frame's arguments on its first line event, together
    /// with that line's own writes; the leading writes of that event whose
    /// names are parameters of the `def` header (each name once) are split off
    /// as [`OwnFrame::inputs`], so the first line is not credited with them.
    pub fn from_run(trace: &TraceRecord, run: &TracedRun) -> OwnFrame {
        let result = &run.result;
        let offset = trace.code_line_offset;
        let depths = result.depths.iter().copied().chain(std::iter::repeat(0));
        let mut step_of_event = vec![None; result.lines.len()];
        let mut steps = Vec::new();
        for (event, (&line, depth)) in result.lines.iter().zip(depths).enumerate() {
            if depth == 0 && line > offset {
                step_of_event[event] = Some(steps.len());
                steps.push(Step {
                    line: line - offset,
                    changed: Vec::new(),
                });
            }
        }

        let mut writes: Vec<Vec<Variable>> = vec![Vec::new(); steps.len()];
        for write in &result.values {
            if let Some(&Some(step)) = step_of_event.get(write.step as usize) {
                writes[step].push(Variable {
                    name: write.name.clone(),
                    repr: one_line(&write.repr),
                });
            }
        }

        let inputs = match writes.first_mut() {
            Some(first) => {
                let parameters = parameter_names(&trace.code);
                let mut taken: Vec<&str> = Vec::new();
                let count = first
                    .iter()
                    .take_while(|write| {
                        let fresh_parameter = parameters.contains(&write.name)
                            && !taken.contains(&write.name.as_str());
                        taken.push(&write.name);
                        fresh_parameter
                    })
                    .count();
                first.drain(..count).collect()
            }
            None => Vec::new(),
        };

        for (step, step_writes) in steps.iter_mut().zip(writes) {
            let mut changed = FrameState::default();
            for write in step_writes {
                changed.write(write);
            }
            step.changed = changed.vars;
        }
        OwnFrame { inputs, steps }
    }

    /// Which steps an abridged rendering shows: all executions of a line run
    /// at most 3 times; otherwise its first 2 and its last. Loops are where
    /// lines repeat, so this keeps the first iterations and the final values
    /// while bounding the text.
    pub fn shown_steps(&self) -> Vec<bool> {
        let mut executions: HashMap<u32, usize> = HashMap::new();
        for step in &self.steps {
            *executions.entry(step.line).or_default() += 1;
        }
        let mut seen: HashMap<u32, usize> = HashMap::new();
        self.steps
            .iter()
            .map(|step| {
                let count = executions[&step.line];
                let nth = seen.entry(step.line).or_default();
                let execution = *nth;
                *nth += 1;
                count <= MAX_UNABRIDGED_EXECUTIONS
                    || execution < KEPT_LEADING_EXECUTIONS
                    || execution + 1 == count
            })
            .collect()
    }

    /// Step indices of each executed line, by line.
    pub fn steps_by_line(&self) -> BTreeMap<u32, Vec<usize>> {
        let mut by_line: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (index, step) in self.steps.iter().enumerate() {
            by_line.entry(step.line).or_default().push(index);
        }
        by_line
    }

    /// The state before the first step: the arguments.
    pub fn initial_state(&self) -> FrameState {
        FrameState {
            vars: self.inputs.clone(),
        }
    }
}

/// The full state of the frame: every variable written so far, in order of
/// first write, with its latest value. The tracer logs no deletions, so a
/// `del`eted variable keeps its last value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameState {
    vars: Vec<Variable>,
}

impl FrameState {
    /// Applies the writes of one step.
    pub fn apply(&mut self, writes: &[Variable]) {
        for write in writes {
            self.write(write.clone());
        }
    }

    /// The variables, in order of first write.
    pub fn vars(&self) -> &[Variable] {
        &self.vars
    }

    fn write(&mut self, var: Variable) {
        match self.vars.iter_mut().find(|known| known.name == var.name) {
            Some(known) => known.repr = var.repr,
            None => self.vars.push(var),
        }
    }
}

/// An entry of an abridged step sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abridged {
    /// A shown step (its index in [`OwnFrame::steps`]).
    Step(usize),
    /// One or more consecutive hidden steps, written `...`.
    Elided,
}

/// `steps` (indices in execution order) with each run of steps that `shown`
/// hides collapsed into one [`Abridged::Elided`].
pub fn abridge(steps: impl IntoIterator<Item = usize>, shown: &[bool]) -> Vec<Abridged> {
    let mut out = Vec::new();
    for step in steps {
        if shown[step] {
            out.push(Abridged::Step(step));
        } else if out.last() != Some(&Abridged::Elided) {
            out.push(Abridged::Elided);
        }
    }
    out
}

/// How a run ended, as the formats print it (line breaks escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The repr of the returned value.
    Returned(String),
    /// `Type: message` (just `Type` when the message is empty).
    Raised(String),
    /// Any other end: the status name, then the detail in parentheses if any,
    /// e.g. `event_limit (more than 100000 line events)`.
    Stopped(String),
}

impl Outcome {
    pub fn of(result: &RunResult) -> Outcome {
        match (result.status, &result.return_repr, &result.exception_type) {
            (RunStatus::Returned, Some(repr), _) => Outcome::Returned(one_line(repr)),
            (RunStatus::Raised, _, Some(exception_type)) => {
                match result
                    .exception_message
                    .as_deref()
                    .filter(|m| !m.is_empty())
                {
                    Some(message) => {
                        Outcome::Raised(one_line(&format!("{exception_type}: {message}")))
                    }
                    None => Outcome::Raised(one_line(exception_type)),
                }
            }
            _ => {
                let status = status_name(result.status);
                match &result.detail {
                    Some(detail) => Outcome::Stopped(one_line(&format!("{status} ({detail})"))),
                    None => Outcome::Stopped(status),
                }
            }
        }
    }
}

/// The serde (snake_case) name of a status, as in trace files.
fn status_name(status: RunStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{status:?}"))
}

/// Escapes line breaks, so that a value (a user `__repr__`, an exception
/// message) cannot break the one-state-per-line layouts.
pub(crate) fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

/// `code` with `comments[line]` appended to its lines (trailing whitespace
/// of a commented line dropped), one `\n` after every line.
pub(crate) fn annotate_code(code: &str, comments: &BTreeMap<u32, String>) -> String {
    let mut out = String::new();
    for (index, line) in code.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        match comments.get(&number) {
            Some(comment) => {
                out.push_str(line.trim_end());
                out.push_str("  # ");
                out.push_str(comment);
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// Parameter names of the first `def` header in `code`, in order (`self`,
/// `*args` and `**kwargs` by their names). A light scan, not a parser: it
/// tracks brackets, string quotes and comments so that commas inside default
/// values do not split parameters.
fn parameter_names(code: &str) -> Vec<String> {
    let mut line_start = 0;
    let mut header = None;
    for line in code.split_inclusive('\n') {
        let mut words = line.split_whitespace();
        let is_def = match words.next() {
            Some("def") => true,
            Some("async") => words.next() == Some("def"),
            _ => false,
        };
        if is_def {
            header = Some(&code[line_start..]);
            break;
        }
        line_start += line.len();
    }
    let Some(header) = header else {
        return Vec::new();
    };
    let Some(open) = header.find('(') else {
        return Vec::new();
    };

    let mut segments = vec![String::new()];
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut chars = header[open + 1..].chars();
    while let Some(c) = chars.next() {
        if let Some(open_quote) = quote {
            match c {
                '\\' => {
                    chars.next();
                }
                _ if c == open_quote => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '#' => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => break,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => segments.push(String::new()),
            _ if depth == 0 => segments.last_mut().expect("never empty").push(c),
            _ => {}
        }
    }
    segments
        .iter()
        .map(|segment| {
            segment
                .trim_start()
                .trim_start_matches('*')
                .trim_start()
                .chars()
                .take_while(|&c| c.is_alphanumeric() || c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in RenderFormat::ALL {
            assert_eq!(format.name().parse::<RenderFormat>(), Ok(format));
            let json = serde_json::to_string(&format).unwrap();
            assert_eq!(json, format!("\"{}\"", format.name()));
        }
        assert_eq!(
            "nope".parse::<RenderFormat>(),
            Err(UnknownFormat("nope".into()))
        );
    }

    #[test]
    fn parameter_names_skip_defaults_annotations_and_decorators() {
        let code = "@cache\nasync def f(self, a: dict[str, int] = {'x,': 1}, *args,\n        # a comment, with a comma\n        b=\"),\", /, *, c=(1, 2), **kw) -> int:\n    return 1\n";
        assert_eq!(parameter_names(code), ["self", "a", "args", "b", "c", "kw"]);
        assert_eq!(parameter_names("x = 1\n"), Vec::<String>::new());
        assert_eq!(
            parameter_names("def f():\n    pass\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn abridge_keeps_first_two_and_last_execution_of_each_line() {
        let step = |line| Step {
            line,
            changed: Vec::new(),
        };
        // Line 1 runs 5 times, line 2 runs 4 times, line 3 once.
        let frame = OwnFrame {
            inputs: Vec::new(),
            steps: vec![
                step(1),
                step(2),
                step(1),
                step(2),
                step(1),
                step(2),
                step(1),
                step(2),
                step(1),
                step(3),
            ],
        };
        let shown = frame.shown_steps();
        assert_eq!(
            shown,
            [true, true, true, true, false, false, false, true, true, true]
        );
        use Abridged::{Elided, Step as S};
        assert_eq!(
            abridge(0..frame.steps.len(), &shown),
            [S(0), S(1), S(2), S(3), Elided, S(7), S(8), S(9)]
        );
        assert_eq!(
            abridge(frame.steps_by_line()[&1].clone(), &shown),
            [S(0), S(2), Elided, S(8)]
        );
    }

    #[test]
    fn outcome_text() {
        let raised = RunResult {
            status: RunStatus::Raised,
            exception_type: Some("ValueError".into()),
            exception_message: Some("bad\nvalue".into()),
            ..Default::default()
        };
        assert_eq!(
            Outcome::of(&raised),
            Outcome::Raised("ValueError: bad\\nvalue".into())
        );
        let limited = RunResult::failed(RunStatus::EventLimit, "more than 10 line events");
        assert_eq!(
            Outcome::of(&limited),
            Outcome::Stopped("event_limit (more than 10 line events)".into())
        );
    }
}
