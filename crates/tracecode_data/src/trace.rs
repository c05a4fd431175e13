//! Schemas of the trace stage: how a run ended and what it recorded
//! ([`RunResult`]), the static control-flow graph stored beside it ([`Cfg`]),
//! and one traced function ([`TraceRecord`]).
//!
//! They live here, not in the crates that produce them (`tracecode_exec` runs
//! code, `tracecode_py` builds graphs), so that every later stage (variants,
//! rendering, training) reads traces without linking an interpreter.

use serde::{Deserialize, Serialize};

/// How a run ended. Precedence when several apply: limits (timeout,
/// event_limit) > sandbox_denied > memory_limit > raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The call returned normally.
    Returned,
    /// The module or the call raised an exception (see `exception_*`).
    Raised,
    /// Wall-clock (or CPU) budget exhausted.
    Timeout,
    /// More than `max_events` line events.
    EventLimit,
    /// `MemoryError` under the address-space limit.
    MemoryLimit,
    /// The sandbox refused an operation (even if user code caught the error),
    /// or user code tampered with the tracer.
    SandboxDenied,
    /// The worker died or broke the protocol; `detail` says how. The default:
    /// a result nobody filled in is a crash.
    #[default]
    Crashed,
    /// The source or call expression does not compile (or holds NUL bytes).
    BadInput,
}

/// A variable written by the line at `lines[step]` (arguments are attributed
/// to the first line event of their frame).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueWrite {
    pub step: u32,
    pub name: String,
    /// Bounded repr (at most `Limits::repr_chars` chars, `...` when cut).
    pub repr: String,
    pub type_name: String,
}

/// Everything recorded about one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RunResult {
    pub status: RunStatus,
    pub detail: Option<String>,
    /// 1-based line numbers (in `module_source`) of every line event in user frames.
    pub lines: Vec<u32>,
    /// Call depth of each line event (0 = the called function).
    pub depths: Vec<u16>,
    pub values: Vec<ValueWrite>,
    pub return_repr: Option<String>,
    /// `json.dumps` of the return value when it is small plain JSON data.
    pub return_json: Option<String>,
    pub exception_type: Option<String>,
    pub exception_message: Option<String>,
    /// Number of line events in user frames (may exceed `lines.len()` by one at the cap).
    pub events: u64,
    pub duration_us: u64,
    /// Captured `sys.stdout`, bounded to 4 KiB.
    pub stdout: String,
}

impl RunResult {
    /// A result carrying only a status and a detail message.
    pub fn failed(status: RunStatus, detail: impl Into<String>) -> Self {
        RunResult {
            status,
            detail: Some(detail.into()),
            ..Default::default()
        }
    }
}

/// Control-flow graph of one function. Serialisable as plain structs and
/// vectors so that it can be stored in Parquet via `serde_arrow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cfg {
    /// Blocks indexed by id: `blocks[i].id == i`.
    pub blocks: Vec<Block>,
    /// Edges sorted by `(from, to, kind)`, without duplicates.
    pub edges: Vec<Edge>,
    /// Line → block, sorted by line, one entry per mapped line.
    pub line_to_block: Vec<LineBlock>,
    /// Always 0.
    pub entry: u32,
    /// Always the last block id.
    pub exit: u32,
}

/// A basic block: a maximal run of statements entered only at the top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Stable id: entry is 0, then blocks in source order of their first
    /// statement, exit last.
    pub id: u32,
    pub kind: BlockKind,
    /// First line of the block's first statement. For `entry` this is the
    /// first line of the `def` statement (its first decorator, like
    /// `co_firstlineno`); for `exit` the last line of the function.
    pub start_line: u32,
    /// Last line spanned by any of the block's statements.
    pub end_line: u32,
    /// Sorted, distinct start lines of the block's statements (the
    /// pseudo-statements `try:`, `except ...:` and `finally:` included).
    /// Continuation lines of multi-line statements are in
    /// [`Cfg::line_to_block`] but not here. Empty for `entry` and `exit`.
    pub lines: Vec<u32>,
}

/// What a block is for; serialised as a `snake_case` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// Synthetic start of the function.
    Entry,
    /// Synthetic end of the function: returns, uncaught raises, falling off.
    Exit,
    /// Straight-line statements.
    Body,
    /// An `if`/`elif` test or a `match` subject.
    Branch,
    /// A `for`/`while` header: target of `loop_back` and `continue` edges.
    LoopHead,
    /// A `case` pattern (with its guard).
    Case,
    /// A `with`/`async with` header; the body starts a new block.
    With,
    /// The `try:` line and the leading simple statements of the try body.
    Try,
    /// An `except ...:` line and the leading simple statements of its body.
    Handler,
    /// The `finally:` line and the leading simple statements of its body.
    Finally,
}

/// A directed control-flow edge between two block ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    pub kind: EdgeKind,
}

/// Why control moves along an edge; serialised as a `snake_case` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// Sequential flow (including into a loop or `with` body's successor and
    /// falling off the end of the function).
    Fallthrough,
    /// Condition held: `if`/`elif` test, `case` matched, loop has another
    /// iteration (`while` test true, `for` got an item).
    True,
    /// Condition failed: next `elif`/`else`/`case`, or past the `if`/`match`.
    False,
    /// From the end of a loop body back to its head.
    LoopBack,
    /// From a loop head when the loop finishes normally (to `else` or past it).
    LoopExit,
    /// From a block inside a `try` to a handler or `finally` that may catch.
    Exception,
    /// `return` to `exit` (or into a `finally` it must run first).
    Return,
    /// An exception leaving the function: `raise`, failed `assert`, or the
    /// re-raise at the end of a `finally`.
    Raise,
    /// `break` to the code after the loop (or into a `finally` first).
    Break,
    /// `continue` to the loop head (or into a `finally` first).
    Continue,
}

/// One entry of [`Cfg::line_to_block`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineBlock {
    pub line: u32,
    pub block: u32,
}

impl Cfg {
    /// The block that `line` maps to, if any statement of the function owns it.
    #[must_use]
    pub fn block_of_line(&self, line: u32) -> Option<u32> {
        self.line_to_block
            .binary_search_by_key(&line, |entry| entry.line)
            .ok()
            .map(|i| self.line_to_block[i].block)
    }

    /// Projects a traced line sequence onto the blocks it enters.
    ///
    /// A block id is emitted each time control enters a block: when a line
    /// belongs to a different block than the previous mapped line, or when a
    /// `loop_head` block jumps back to (or repeats) its first line, which is
    /// how a loop written on one line (`for x in xs: s += x`) iterates. Other
    /// blocks never flow into themselves in the graph, so a backward jump
    /// inside them (a comprehension or a multi-line expression being traced
    /// line by line) is not an entry. Unmapped lines (the `def` line, lines
    /// outside the function) are skipped.
    #[must_use]
    pub fn blocks_of_lines(&self, lines: &[u32]) -> Vec<u32> {
        let mut out = Vec::new();
        let mut previous: Option<(u32, u32)> = None;
        for &line in lines {
            let Some(block) = self.block_of_line(line) else {
                continue;
            };
            let enters = match previous {
                None => true,
                Some((_, previous_block)) if previous_block != block => true,
                Some((previous_line, _)) => {
                    let info = &self.blocks[block as usize];
                    info.kind == BlockKind::LoopHead
                        && line == info.start_line
                        && previous_line >= line
                }
            };
            if enters {
                out.push(block);
            }
            previous = Some((line, block));
        }
        out
    }

    /// A copy with every line shifted by `by`, for when the function is
    /// executed after a prelude of `by` extra lines (or with `by < 0`, to undo
    /// one). Lines that would fall below 0 saturate at 0.
    #[must_use]
    pub fn line_offset(&self, by: i64) -> Cfg {
        let shift =
            |line: u32| -> u32 { u32::try_from((i64::from(line) + by).max(0)).unwrap_or(u32::MAX) };
        let blocks = self
            .blocks
            .iter()
            .map(|block| Block {
                start_line: shift(block.start_line),
                end_line: shift(block.end_line),
                lines: block.lines.iter().map(|&line| shift(line)).collect(),
                ..block.clone()
            })
            .collect();
        let line_to_block = self
            .line_to_block
            .iter()
            .map(|entry| LineBlock {
                line: shift(entry.line),
                block: entry.block,
            })
            .collect();
        Cfg {
            blocks,
            edges: self.edges.clone(),
            line_to_block,
            entry: self.entry,
            exit: self.exit,
        }
    }
}

/// One traced function: the output row of `tracecode trace`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TraceRecord {
    pub id: String,
    pub qualname: String,
    /// `traced` (at least one valid run), `no_valid_input`, or `cfg_error`.
    pub status: String,
    pub detail: Option<String>,
    /// The function's source, as in the corpus record.
    pub code: String,
    /// What runs before `code` in the executed module (imports, helpers), so a
    /// trace file alone is enough to re-run, rewrite or render a function.
    pub context: String,
    /// Lines of `context` before `code` in the executed module: run lines minus
    /// this are lines of `code`.
    pub code_line_offset: u32,
    /// PyPI distributions the context imports, as in the corpus record.
    #[serde(default)]
    pub packages: Vec<String>,
    pub cfg: Option<Cfg>,
    pub runs: Vec<TracedRun>,
    /// Candidate calls run, and how each ended.
    pub candidates: u32,
    pub candidate_statuses: Vec<StatusCount>,
    pub blocks_hit: u32,
    pub blocks_total: u32,
    pub distinct_paths: u32,
}

/// How many runs ended with one status.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: String,
    pub count: u32,
}

/// One kept run of a function.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TracedRun {
    pub call: String,
    /// Input strategy that produced the call (`examples`, `mutation`, `type_hints`, ...).
    pub strategy: String,
    /// Block ids entered by the function's own frame, in order.
    pub blocks: Vec<u32>,
    pub result: RunResult,
}

impl TracedRun {
    /// Line numbers of the function's own frame in `code` coordinates (the
    /// run's lines are those of the executed module, `offset` lines later).
    pub fn own_lines(&self, offset: u32) -> Vec<u32> {
        own_lines(&self.result, offset)
    }
}

/// Lines of depth 0 (the called function's own frame) shifted to `code`
/// coordinates; lines before `offset` (the context prelude) are dropped.
pub fn own_lines(result: &RunResult, offset: u32) -> Vec<u32> {
    result
        .lines
        .iter()
        .zip(result.depths.iter().chain(std::iter::repeat(&0)))
        .filter(|&(&l, &d)| d == 0 && l > offset)
        .map(|(&l, _)| l - offset)
        .collect()
}
