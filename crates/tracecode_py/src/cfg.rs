//! Static control-flow graphs of Python functions, built from the ruff AST.
//!
//! A [`Cfg`] is stored next to each execution trace so that trace encoders can
//! consume either the raw line sequence or its projection onto basic blocks
//! ([`Cfg::blocks_of_lines`]).
//!
//! # Shape of the graph
//!
//! * A synthetic `entry` block (id 0, no lines) and a synthetic `exit` block
//!   (last id, no lines). Every `return`, an uncaught `raise`/`assert` and
//!   falling off the end of the body lead to `exit`.
//! * Decision points get blocks of their own that hold only the header: `if`/
//!   `elif` tests and `match` subjects (`branch`), `case` patterns (`case`),
//!   `for`/`while` headers (`loop_head`) and `with` headers (`with`). Keeping
//!   headers separate means every loop iteration re-enters a `loop_head` block
//!   and every conditional has its `true`/`false` edges on one small block.
//! * Clause openers start a block that the clause's leading simple statements
//!   continue: `try:` (`try`), `except ...:` (`handler`) and `finally:`
//!   (`finally`). The interpreter traces these lines too, so they get block lines.
//! * Any other run of simple statements is a `body` block. `return`, `raise`,
//!   `break` and `continue` end a block, and so does `assert` (it may raise).
//!
//! # Exceptions
//!
//! Implicit exceptions are modelled only where something can catch them: every
//! block of a `try` body gets an `exception` edge to each of its handlers, and
//! every block protected by a `finally` (the body when there are no handlers,
//! otherwise the handlers and the `else` clause) gets one to the `finally`
//! block. An explicit `raise` (or a failing `assert`) outside any `try` gets a
//! `raise` edge to `exit`; the end of a `finally` clause gets one too, because
//! it re-raises whatever exception brought control there. `return`, `break`
//! and `continue` that leave a `try ... finally` are routed through the
//! `finally` block, which then continues with the same jump.
//!
//! # Lines
//!
//! Lines are 1-based lines of the source the function was parsed from. A
//! statement owns every line it spans (so a multi-line call maps all of its
//! lines to one block), except compound statements, which own only their
//! header (`for x in (a,\n b):` owns two lines, its body owns the rest).
//! Nested functions, classes, lambdas and comprehensions are single statements
//! of the enclosing block; their bodies are not expanded.
//!
//! When several statements share a line (`if x: return 1`), the line maps to
//! the block of the *first* statement on it (here the `branch` block), even
//! though the later statement's block also lists that line in
//! [`Block::lines`]. A line trace cannot tell such statements apart anyway.

use std::mem;

use ruff_python_ast::{self as ast, ExceptHandler, Expr, Int, Number, Stmt, StmtFunctionDef};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextSize};
pub use tracecode_data::trace::{Block, BlockKind, Cfg, Edge, EdgeKind, LineBlock};

/// Why [`cfg_of_function`] could not build a graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfgError {
    #[error("syntax error: {0}")]
    Syntax(String),
    #[error("source has no top-level function definition")]
    NoFunction,
}

/// Builds the CFG of the first top-level `def` (possibly `async`, possibly
/// decorated) in `source`.
///
/// # Errors
///
/// [`CfgError::Syntax`] when `source` does not parse, [`CfgError::NoFunction`]
/// when it has no top-level `def`.
pub fn cfg_of_function(source: &str) -> Result<Cfg, CfgError> {
    let parsed = ruff_python_parser::parse_module(source)
        .map_err(|err| CfgError::Syntax(err.to_string()))?;
    let def = parsed
        .syntax()
        .body
        .iter()
        .find_map(Stmt::as_function_def_stmt)
        .ok_or(CfgError::NoFunction)?;
    let line_index = LineIndex::from_source_text(source);
    Ok(cfg_of_def(def, source, &line_index))
}

/// Builds the CFG of an already parsed function; `source` and `line_index`
/// must be those of the module `def` was parsed from.
pub fn cfg_of_def(def: &StmtFunctionDef, source: &str, line_index: &LineIndex) -> Cfg {
    let mut builder = Builder::new(source, line_index);
    builder.suite(executed_body(def));
    builder.finish(def)
}

/// The statements of `def` that run: all but a leading docstring, which
/// CPython does not execute (no line event), so its block could never be entered.
fn executed_body(def: &StmtFunctionDef) -> &[Stmt] {
    match def.body.split_first() {
        Some((Stmt::Expr(e), rest)) if e.value.is_string_literal_expr() => rest,
        _ => &def.body,
    }
}

/// Index of a block in [`Builder::blocks`], in creation order.
type RawId = usize;

const ENTRY: RawId = 0;
const EXIT: RawId = 1;

/// An edge whose source is known but whose target is the next block to be
/// created (or `exit`, if the function ends first).
type Pending = (RawId, EdgeKind);

/// Lines covered by one statement (or the header of a compound statement).
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Source offset of the statement; orders blocks and breaks line ties.
    offset: TextSize,
    start_line: u32,
    end_line: u32,
}

struct RawBlock {
    kind: BlockKind,
    spans: Vec<Span>,
    /// Innermost `try` scope (index into [`Builder::scopes`]) when the block
    /// was created; its exception edges are added when that scope closes.
    scope: Option<usize>,
}

/// A jump that may have to run `finally` clauses before reaching its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jump {
    Return,
    /// Index into [`Builder::loops`].
    Break(usize),
    /// Index into [`Builder::loops`].
    Continue(usize),
}

impl Jump {
    fn edge_kind(self) -> EdgeKind {
        match self {
            Jump::Return => EdgeKind::Return,
            Jump::Break(_) => EdgeKind::Break,
            Jump::Continue(_) => EdgeKind::Continue,
        }
    }
}

struct Loop {
    head: RawId,
    /// `break` edges; they target whatever follows the loop.
    breaks: Vec<Pending>,
    /// Depth of [`Builder::try_stack`] at the loop, so that `break` and
    /// `continue` know which `finally` clauses they leave.
    try_depth: usize,
}

/// The region protected by a `try`: either its handlers or its `finally`.
struct TryScope {
    is_finally: bool,
    /// Jumps routed into the `finally` block (only for `is_finally`).
    routed: Vec<Pending>,
    /// Jumps the `finally` block must continue with once it ends.
    resumes: Vec<Jump>,
}

/// Builds the graph in one pass over the statements, in source order.
///
/// The builder keeps either an open body block that simple statements are
/// appended to, or a set of pending edges that the next created block
/// receives. Blocks are therefore created only when a statement needs them,
/// and no empty join blocks exist.
struct Builder<'a> {
    source: &'a str,
    line_index: &'a LineIndex,
    blocks: Vec<RawBlock>,
    edges: Vec<(RawId, RawId, EdgeKind)>,
    open: Option<RawId>,
    pending: Vec<Pending>,
    loops: Vec<Loop>,
    /// Enclosing `try` scopes, innermost last (indices into `scopes`).
    try_stack: Vec<usize>,
    scopes: Vec<TryScope>,
}

impl<'a> Builder<'a> {
    fn new(source: &'a str, line_index: &'a LineIndex) -> Self {
        let synthetic = |kind| RawBlock {
            kind,
            spans: Vec::new(),
            scope: None,
        };
        Self {
            source,
            line_index,
            blocks: vec![synthetic(BlockKind::Entry), synthetic(BlockKind::Exit)],
            edges: Vec::new(),
            open: None,
            pending: vec![(ENTRY, EdgeKind::Fallthrough)],
            loops: Vec::new(),
            try_stack: Vec::new(),
            scopes: Vec::new(),
        }
    }

    fn line(&self, offset: TextSize) -> u32 {
        u32::try_from(self.line_index.line_index(offset).get()).unwrap_or(u32::MAX)
    }

    /// Lines from `start` up to the last character before `end` (exclusive).
    fn span(&self, start: TextSize, end: TextSize) -> Span {
        let last = if end > start {
            end - TextSize::from(1)
        } else {
            start
        };
        Span {
            offset: start,
            start_line: self.line(start),
            end_line: self.line(last),
        }
    }

    fn edge(&mut self, from: RawId, to: RawId, kind: EdgeKind) {
        self.edges.push((from, to, kind));
    }

    /// Closes the open block; it falls through to whatever comes next.
    fn seal(&mut self) {
        if let Some(block) = self.open.take() {
            self.pending.push((block, EdgeKind::Fallthrough));
        }
    }

    /// Closes the open block and hands back every edge waiting for a target.
    fn take_exits(&mut self) -> Vec<Pending> {
        self.seal();
        mem::take(&mut self.pending)
    }

    /// Creates a block starting with `span` and connects the pending edges
    /// to it. The new block is not open: callers decide whether statements
    /// may be appended to it.
    fn new_block(&mut self, kind: BlockKind, span: Span) -> RawId {
        self.seal();
        let id = self.blocks.len();
        self.blocks.push(RawBlock {
            kind,
            spans: vec![span],
            scope: self.try_stack.last().copied(),
        });
        for (from, edge_kind) in mem::take(&mut self.pending) {
            self.edge(from, id, edge_kind);
        }
        id
    }

    /// Appends a simple statement to the open block, opening one if needed.
    fn simple(&mut self, stmt: &Stmt) -> RawId {
        let span = self.span(stmt.start(), stmt.end());
        let id = match self.open {
            Some(id) => {
                self.blocks[id].spans.push(span);
                id
            }
            None => self.new_block(BlockKind::Body, span),
        };
        self.open = Some(id);
        id
    }

    fn suite(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::If(node) => self.if_stmt(node),
            Stmt::While(node) => self.while_stmt(node),
            Stmt::For(node) => self.for_stmt(node),
            Stmt::With(node) => self.with_stmt(node),
            Stmt::Match(node) => self.match_stmt(node),
            Stmt::Try(node) => self.try_stmt(node),
            Stmt::Return(_) => {
                let block = self.terminator(stmt);
                self.jump(block, Jump::Return);
            }
            Stmt::Break(_) => {
                let block = self.terminator(stmt);
                if let Some(depth) = self.loops.len().checked_sub(1) {
                    self.jump(block, Jump::Break(depth));
                }
            }
            Stmt::Continue(_) => {
                let block = self.terminator(stmt);
                if let Some(depth) = self.loops.len().checked_sub(1) {
                    self.jump(block, Jump::Continue(depth));
                }
            }
            Stmt::Raise(_) => {
                let block = self.terminator(stmt);
                self.raise(block);
            }
            Stmt::Assert(_) => {
                let block = self.simple(stmt);
                self.raise(block);
                self.seal();
            }
            _ => {
                self.simple(stmt);
            }
        }
    }

    /// Appends a statement after which control does not fall through.
    fn terminator(&mut self, stmt: &Stmt) -> RawId {
        let block = self.simple(stmt);
        self.open = None;
        block
    }

    /// An explicit exception from `from`. Inside a `try` the scope's
    /// exception edges already cover the block, so only an uncaught raise
    /// needs an edge of its own.
    fn raise(&mut self, from: RawId) {
        if self.try_stack.is_empty() {
            self.edge(from, EXIT, EdgeKind::Raise);
        }
    }

    /// Emits `jump` from `from`, detouring through the innermost `finally`
    /// between the jump and its target; that `finally` resumes the jump when
    /// it ends ([`Builder::resume_after_finally`]).
    fn jump(&mut self, from: RawId, jump: Jump) {
        let floor = match jump {
            Jump::Return => 0,
            Jump::Break(depth) | Jump::Continue(depth) => self.loops[depth].try_depth,
        };
        let finally = self.try_stack[floor..]
            .iter()
            .rev()
            .copied()
            .find(|&scope| self.scopes[scope].is_finally);
        if let Some(scope) = finally {
            let scope = &mut self.scopes[scope];
            scope.routed.push((from, jump.edge_kind()));
            if !scope.resumes.contains(&jump) {
                scope.resumes.push(jump);
            }
            return;
        }
        match jump {
            Jump::Return => self.edge(from, EXIT, EdgeKind::Return),
            Jump::Break(depth) => self.loops[depth].breaks.push((from, EdgeKind::Break)),
            Jump::Continue(depth) => {
                let head = self.loops[depth].head;
                self.edge(from, head, EdgeKind::Continue);
            }
        }
    }

    fn if_stmt(&mut self, node: &ast::StmtIf) {
        let mut test = self.new_block(BlockKind::Branch, self.span(node.start(), node.test.end()));
        self.pending = vec![(test, EdgeKind::True)];
        self.suite(&node.body);
        let mut exits = self.take_exits();
        let mut has_else = false;
        for clause in &node.elif_else_clauses {
            self.pending = vec![(test, EdgeKind::False)];
            if let Some(condition) = &clause.test {
                test = self.new_block(
                    BlockKind::Branch,
                    self.span(clause.start(), condition.end()),
                );
                self.pending = vec![(test, EdgeKind::True)];
            } else {
                has_else = true;
            }
            self.suite(&clause.body);
            exits.extend(self.take_exits());
        }
        if !has_else {
            exits.push((test, EdgeKind::False));
        }
        self.pending = exits;
    }

    fn while_stmt(&mut self, node: &ast::StmtWhile) {
        let head = self.new_block(
            BlockKind::LoopHead,
            self.span(node.start(), node.test.end()),
        );
        let breaks = self.loop_body(head, &node.body);
        // `while True:` only ends through `break`, `return` or `raise`.
        let can_finish = !is_always_true(&node.test);
        self.loop_else(head, can_finish, &node.orelse, breaks);
    }

    fn for_stmt(&mut self, node: &ast::StmtFor) {
        let head = self.new_block(
            BlockKind::LoopHead,
            self.span(node.start(), node.iter.end()),
        );
        let breaks = self.loop_body(head, &node.body);
        self.loop_else(head, true, &node.orelse, breaks);
    }

    /// Builds a loop body entered from `head`; every way of finishing an
    /// iteration loops back. Returns the loop's `break` edges.
    fn loop_body(&mut self, head: RawId, body: &[Stmt]) -> Vec<Pending> {
        self.loops.push(Loop {
            head,
            breaks: Vec::new(),
            try_depth: self.try_stack.len(),
        });
        self.pending = vec![(head, EdgeKind::True)];
        self.suite(body);
        for (from, _) in self.take_exits() {
            self.edge(from, head, EdgeKind::LoopBack);
        }
        self.loops.pop().map(|lp| lp.breaks).unwrap_or_default()
    }

    /// The loop's `else` clause runs when the head finishes normally;
    /// `break` skips it.
    fn loop_else(&mut self, head: RawId, can_finish: bool, orelse: &[Stmt], breaks: Vec<Pending>) {
        if can_finish {
            self.pending = vec![(head, EdgeKind::LoopExit)];
        }
        self.suite(orelse);
        self.seal();
        self.pending.extend(breaks);
    }

    fn with_stmt(&mut self, node: &ast::StmtWith) {
        let end = node.items.last().map_or(node.start(), Ranged::end);
        let head = self.new_block(BlockKind::With, self.span(node.start(), end));
        self.pending = vec![(head, EdgeKind::Fallthrough)];
        self.suite(&node.body);
        // `__exit__` runs (and CPython re-traces the header) before the next
        // statement, so that statement starts a block of its own.
        self.seal();
    }

    fn match_stmt(&mut self, node: &ast::StmtMatch) {
        let subject = self.new_block(
            BlockKind::Branch,
            self.span(node.start(), node.subject.end()),
        );
        let mut next = (subject, EdgeKind::Fallthrough);
        let mut exits = Vec::new();
        let mut exhaustive = false;
        for case in &node.cases {
            self.pending = vec![next];
            let end = case
                .guard
                .as_ref()
                .map_or(case.pattern.end(), |guard| guard.end());
            let test = self.new_block(BlockKind::Case, self.span(case.start(), end));
            self.pending = vec![(test, EdgeKind::True)];
            self.suite(&case.body);
            exits.extend(self.take_exits());
            next = (test, EdgeKind::False);
            exhaustive = case.guard.is_none() && case.pattern.is_irrefutable();
        }
        if !exhaustive {
            exits.push(next);
        }
        self.pending = exits;
    }

    fn enter_scope(&mut self, is_finally: bool) -> usize {
        let scope = self.scopes.len();
        self.scopes.push(TryScope {
            is_finally,
            routed: Vec::new(),
            resumes: Vec::new(),
        });
        self.try_stack.push(scope);
        scope
    }

    /// Adds an `exception` edge from every block created inside `scope` to
    /// each of `targets`.
    fn link_scope(&mut self, scope: usize, targets: &[RawId]) {
        let sources: Vec<RawId> = (0..self.blocks.len())
            .filter(|&id| self.blocks[id].scope == Some(scope))
            .collect();
        for from in sources {
            for &to in targets {
                self.edge(from, to, EdgeKind::Exception);
            }
        }
    }

    fn try_stmt(&mut self, node: &ast::StmtTry) {
        // The `finally` scope encloses the handlers' scope: exceptions raised
        // in handlers or in `else` still run `finally`.
        let finally = (!node.finalbody.is_empty()).then(|| self.enter_scope(true));
        let handlers = (!node.handlers.is_empty()).then(|| self.enter_scope(false));

        let head = self.new_block(BlockKind::Try, self.span(node.start(), node.start()));
        self.open = Some(head);
        self.suite(&node.body);
        self.seal();
        if handlers.is_some() {
            self.try_stack.pop();
        }
        // `else` is not protected by the handlers, so it starts a new block.
        self.suite(&node.orelse);
        let mut exits = self.take_exits();

        if let Some(scope) = handlers {
            let mut targets = Vec::with_capacity(node.handlers.len());
            for handler in &node.handlers {
                let ExceptHandler::ExceptHandler(handler) = handler;
                let header_end = handler
                    .name
                    .as_ref()
                    .map(Ranged::end)
                    .or_else(|| handler.type_.as_ref().map(|type_| type_.end()))
                    .unwrap_or(handler.start());
                let block =
                    self.new_block(BlockKind::Handler, self.span(handler.start(), header_end));
                targets.push(block);
                self.open = Some(block);
                self.suite(&handler.body);
                exits.extend(self.take_exits());
            }
            self.link_scope(scope, &targets);
        }

        let Some(scope) = finally else {
            self.pending = exits;
            return;
        };
        self.try_stack.pop();
        self.pending = exits;
        self.pending
            .extend(mem::take(&mut self.scopes[scope].routed));
        let keyword = self.finally_keyword(node);
        let block = self.new_block(BlockKind::Finally, self.span(keyword, keyword));
        self.open = Some(block);
        self.link_scope(scope, &[block]);
        self.suite(&node.finalbody);
        let ends = self.take_exits();
        self.resume_after_finally(scope, &ends);
        self.pending = ends;
    }

    /// Continues, from the end of a `finally` clause, every jump that was
    /// routed into it, and re-raises when no outer `try` catches (inside an
    /// outer `try`, the scope's exception edges already cover these blocks).
    fn resume_after_finally(&mut self, scope: usize, ends: &[Pending]) {
        let resumes = mem::take(&mut self.scopes[scope].resumes);
        for &(from, _) in ends {
            for &jump in &resumes {
                self.jump(from, jump);
            }
            if self.try_stack.is_empty() {
                self.edge(from, EXIT, EdgeKind::Raise);
            }
        }
    }

    /// Offset of the `finally` keyword, which the AST does not record: the
    /// first `finally` outside a comment between the previous clause and
    /// the first statement of the `finally` body.
    fn finally_keyword(&self, node: &ast::StmtTry) -> TextSize {
        let body_start = node.finalbody.first().map_or(node.end(), Ranged::start);
        let previous_end = [
            node.body.last().map(Ranged::end),
            node.handlers.last().map(Ranged::end),
            node.orelse.last().map(Ranged::end),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(node.start());
        let Some(gap) = self
            .source
            .get(usize::from(previous_end)..usize::from(body_start))
        else {
            return body_start;
        };
        let mut offset = 0;
        for line in gap.split_inclusive('\n') {
            let code = line.split('#').next().unwrap_or_default();
            if let Some(position) = code.find("finally") {
                return TextSize::try_from(offset + position)
                    .map_or(body_start, |delta| previous_end + delta);
            }
            offset += line.len();
        }
        body_start
    }

    /// Assigns stable ids (entry, blocks by first statement offset, exit)
    /// and resolves lines.
    fn finish(mut self, def: &StmtFunctionDef) -> Cfg {
        for (from, kind) in self.take_exits() {
            self.edge(from, EXIT, kind);
        }

        let mut order: Vec<RawId> = (EXIT + 1..self.blocks.len()).collect();
        order.sort_by_key(|&id| (self.blocks[id].spans[0].offset, id));
        order.insert(0, ENTRY);
        order.push(EXIT);
        let mut new_id = vec![0u32; self.blocks.len()];
        for (position, &raw) in order.iter().enumerate() {
            new_id[raw] = to_u32(position);
        }

        let def_span = self.span(def.start(), def.end());
        let blocks = order
            .iter()
            .map(|&raw| {
                let block = &self.blocks[raw];
                let (start_line, end_line) = match block.kind {
                    BlockKind::Entry => (def_span.start_line, def_span.start_line),
                    BlockKind::Exit => (def_span.end_line, def_span.end_line),
                    _ => (
                        block.spans.iter().map(|s| s.start_line).min().unwrap_or(0),
                        block.spans.iter().map(|s| s.end_line).max().unwrap_or(0),
                    ),
                };
                let mut lines: Vec<u32> = block.spans.iter().map(|s| s.start_line).collect();
                lines.sort_unstable();
                lines.dedup();
                Block {
                    id: new_id[raw],
                    kind: block.kind,
                    start_line,
                    end_line,
                    lines,
                }
            })
            .collect();

        let mut edges: Vec<Edge> = self
            .edges
            .iter()
            .map(|&(from, to, kind)| Edge {
                from: new_id[from],
                to: new_id[to],
                kind,
            })
            .collect();
        edges.sort_unstable();
        edges.dedup();

        Cfg {
            blocks,
            edges,
            line_to_block: self.line_map(&new_id),
            entry: new_id[ENTRY],
            exit: new_id[EXIT],
        }
    }

    /// Every line of every span, owned by the earliest statement on it.
    fn line_map(&self, new_id: &[u32]) -> Vec<LineBlock> {
        let mut claims: Vec<(u32, TextSize, u32)> = Vec::new();
        for (raw, block) in self.blocks.iter().enumerate() {
            for span in &block.spans {
                for line in span.start_line..=span.end_line {
                    claims.push((line, span.offset, new_id[raw]));
                }
            }
        }
        claims.sort_unstable();
        claims.dedup_by_key(|claim| claim.0);
        claims
            .into_iter()
            .map(|(line, _, block)| LineBlock { line, block })
            .collect()
    }
}

/// `while True:` / `while 1:`, whose test can never fail.
fn is_always_true(test: &Expr) -> bool {
    match test {
        Expr::BooleanLiteral(literal) => literal.value,
        Expr::NumberLiteral(literal) => {
            matches!(&literal.value, Number::Int(value) if *value != Int::ZERO)
        }
        _ => false,
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).expect("more than u32::MAX blocks")
}

#[cfg(test)]
mod tests {
    use super::*;
    use BlockKind as B;
    use EdgeKind as E;

    /// Joins source lines; line numbers in the tests are 1-based indices.
    fn cfg(lines: &[&str]) -> Cfg {
        let source = lines.join("\n") + "\n";
        let cfg = cfg_of_function(&source).expect("test source parses");
        check_invariants(&cfg);
        cfg
    }

    fn kinds(cfg: &Cfg) -> Vec<BlockKind> {
        cfg.blocks.iter().map(|block| block.kind).collect()
    }

    fn edges(cfg: &Cfg) -> Vec<(u32, u32, EdgeKind)> {
        cfg.edges.iter().map(|e| (e.from, e.to, e.kind)).collect()
    }

    fn sorted(mut edges: Vec<(u32, u32, EdgeKind)>) -> Vec<(u32, u32, EdgeKind)> {
        edges.sort_unstable();
        edges
    }

    fn lines_of(cfg: &Cfg) -> Vec<Vec<u32>> {
        cfg.blocks.iter().map(|block| block.lines.clone()).collect()
    }

    /// Structural properties every graph must have.
    fn check_invariants(cfg: &Cfg) {
        let n = to_u32(cfg.blocks.len());
        assert!(n >= 2);
        assert_eq!(cfg.entry, 0);
        assert_eq!(cfg.exit, n - 1);
        assert_eq!(cfg.blocks[0].kind, BlockKind::Entry);
        assert_eq!(cfg.blocks[cfg.exit as usize].kind, BlockKind::Exit);
        for (i, block) in cfg.blocks.iter().enumerate() {
            assert_eq!(block.id as usize, i);
            let synthetic = matches!(block.kind, BlockKind::Entry | BlockKind::Exit);
            assert_eq!(block.lines.is_empty(), synthetic, "block {block:?}");
            assert!(block.start_line <= block.end_line);
            if !synthetic {
                assert_eq!(block.lines[0], block.start_line);
                assert!(block.lines.windows(2).all(|w| w[0] < w[1]));
            }
        }
        // Source order of first statements.
        let starts: Vec<u32> = cfg.blocks[1..n as usize - 1]
            .iter()
            .map(|b| b.start_line)
            .collect();
        assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
        for edge in &cfg.edges {
            assert!(edge.from < n && edge.to < n);
            assert_ne!(edge.to, cfg.entry);
            assert_ne!(edge.from, cfg.exit);
        }
        assert!(cfg.edges.windows(2).all(|w| w[0] < w[1]));
        assert!(cfg.line_to_block.windows(2).all(|w| w[0].line < w[1].line));
        for entry in &cfg.line_to_block {
            assert!(entry.block > 0 && entry.block < cfg.exit);
        }
    }

    #[test]
    fn straight_line() {
        let cfg = cfg(&[
            "def f(x):",     // 1
            "    y = x + 1", // 2
            "    return y",  // 3
        ]);
        assert_eq!(kinds(&cfg), [B::Entry, B::Body, B::Exit]);
        assert_eq!(edges(&cfg), [(0, 1, E::Fallthrough), (1, 2, E::Return)]);
        assert_eq!(cfg.blocks[1].lines, [2, 3]);
        assert_eq!((cfg.blocks[1].start_line, cfg.blocks[1].end_line), (2, 3));
        assert_eq!((cfg.blocks[0].start_line, cfg.blocks[2].end_line), (1, 3));
        assert_eq!(
            cfg.line_to_block,
            [
                LineBlock { line: 2, block: 1 },
                LineBlock { line: 3, block: 1 }
            ]
        );
        assert_eq!(cfg.block_of_line(1), None);
        assert_eq!(cfg.block_of_line(3), Some(1));
    }

    #[test]
    fn falling_off_the_end_reaches_exit() {
        let cfg = cfg(&["def f(xs):", "    xs.append(1)"]);
        assert_eq!(
            edges(&cfg),
            [(0, 1, E::Fallthrough), (1, 2, E::Fallthrough)]
        );
    }

    #[test]
    fn if_elif_else() {
        let cfg = cfg(&[
            "def f(x):",       // 1
            "    if x > 0:",   // 2  -> 1 branch
            "        s = 1",   // 3  -> 2
            "    elif x < 0:", // 4  -> 3 branch
            "        s = -1",  // 5  -> 4
            "    else:",       // 6
            "        s = 0",   // 7  -> 5
            "    return s",    // 8  -> 6
        ]);
        assert_eq!(
            kinds(&cfg),
            [
                B::Entry,
                B::Branch,
                B::Body,
                B::Branch,
                B::Body,
                B::Body,
                B::Body,
                B::Exit
            ]
        );
        assert_eq!(
            lines_of(&cfg)[1..7],
            [vec![2], vec![3], vec![4], vec![5], vec![7], vec![8]]
        );
        assert_eq!(
            edges(&cfg),
            sorted(vec![
                (0, 1, E::Fallthrough),
                (1, 2, E::True),
                (1, 3, E::False),
                (3, 4, E::True),
                (3, 5, E::False),
                (2, 6, E::Fallthrough),
                (4, 6, E::Fallthrough),
                (5, 6, E::Fallthrough),
                (6, 7, E::Return),
            ])
        );
        assert_eq!(cfg.block_of_line(6), None, "`else:` is not a statement");
    }

    #[test]
    fn if_without_else_falls_through_on_false() {
        let cfg = cfg(&[
            "def f(x):",     // 1
            "    if x:",     // 2 -> 1
            "        x = 0", // 3 -> 2
            "    return x",  // 4 -> 3
        ]);
        assert_eq!(
            edges(&cfg),
            [
                (0, 1, E::Fallthrough),
                (1, 2, E::True),
                (1, 3, E::False),
                (2, 3, E::Fallthrough),
                (3, 4, E::Return),
            ]
        );
    }

    #[test]
    fn while_with_break_continue_and_else() {
        let cfg = cfg(&[
            "def f(n):",            // 1
            "    i = 0",            // 2  -> 1
            "    while i < n:",     // 3  -> 2 loop_head
            "        i += 1",       // 4  -> 3
            "        if i == 3:",   // 5  -> 4 branch
            "            continue", // 6  -> 5
            "        if i > 5:",    // 7  -> 6 branch
            "            break",    // 8  -> 7
            "    else:",            // 9
            "        i = -1",       // 10 -> 8
            "    return i",         // 11 -> 9
        ]);
        assert_eq!(
            kinds(&cfg),
            [
                B::Entry,
                B::Body,
                B::LoopHead,
                B::Body,
                B::Branch,
                B::Body,
                B::Branch,
                B::Body,
                B::Body,
                B::Body,
                B::Exit
            ]
        );
        assert_eq!(
            edges(&cfg),
            sorted(vec![
                (0, 1, E::Fallthrough),
                (1, 2, E::Fallthrough),
                (2, 3, E::True),
                (2, 8, E::LoopExit),
                (3, 4, E::Fallthrough),
                (4, 5, E::True),
                (4, 6, E::False),
                (5, 2, E::Continue),
                (6, 7, E::True),
                (6, 2, E::LoopBack),
                (7, 9, E::Break),
                (8, 9, E::Fallthrough),
                (9, 10, E::Return),
            ])
        );
    }

    #[test]
    fn while_true_only_exits_through_break() {
        let cfg = cfg(&[
            "def f():",          // 1
            "    while True:",   // 2 -> 1
            "        if g():",   // 3 -> 2
            "            break", // 4 -> 3
            "    return 1",      // 5 -> 4
        ]);
        assert_eq!(
            edges(&cfg),
            [
                (0, 1, E::Fallthrough),
                (1, 2, E::True),
                (2, 1, E::LoopBack),
                (2, 3, E::True),
                (3, 4, E::Break),
                (4, 5, E::Return),
            ]
        );
    }

    #[test]
    fn for_loop() {
        let cfg = cfg(&[
            "def total(xs):",   // 1
            "    s = 0",        // 2 -> 1
            "    for x in xs:", // 3 -> 2
            "        s += x",   // 4 -> 3
            "    return s",     // 5 -> 4
        ]);
        assert_eq!(
            kinds(&cfg),
            [B::Entry, B::Body, B::LoopHead, B::Body, B::Body, B::Exit]
        );
        assert_eq!(
            edges(&cfg),
            [
                (0, 1, E::Fallthrough),
                (1, 2, E::Fallthrough),
                (2, 3, E::True),
                (2, 4, E::LoopExit),
                (3, 2, E::LoopBack),
                (4, 5, E::Return),
            ]
        );
    }

    #[test]
    fn nested_loops() {
        let cfg = cfg(&[
            "def f(m):",             // 1
            "    n = 0",             // 2 -> 1
            "    for row in m:",     // 3 -> 2
            "        for v in row:", // 4 -> 3
            "            if v:",     // 5 -> 4
            "                break", // 6 -> 5
            "            n += v",    // 7 -> 6
            "        n += 1",        // 8 -> 7
            "    return n",          // 9 -> 8
        ]);
        assert_eq!(
            kinds(&cfg),
            [
                B::Entry,
                B::Body,
                B::LoopHead,
                B::LoopHead,
                B::Branch,
                B::Body,
                B::Body,
                B::Body,
                B::Body,
                B::Exit
            ]
        );
        assert_eq!(
            edges(&cfg),
            sorted(vec![
                (0, 1, E::Fallthrough),
                (1, 2, E::Fallthrough),
                (2, 3, E::True),
                (2, 8, E::LoopExit),
                (3, 4, E::True),
                (3, 7, E::LoopExit),
                (4, 5, E::True),
                (4, 6, E::False),
                (5, 7, E::Break),
                (6, 3, E::LoopBack),
                (7, 2, E::LoopBack),
                (8, 9, E::Return),
            ])
        );
    }

    #[test]
    fn return_inside_loop() {
        let cfg = cfg(&[
            "def find(xs, t):",               // 1
            "    for i, x in enumerate(xs):", // 2 -> 1
            "        if x == t:",             // 3 -> 2
            "            return i",           // 4 -> 3
            "    return -1",                  // 5 -> 4
        ]);
        assert_eq!(
            edges(&cfg),
            [
                (0, 1, E::Fallthrough),
                (1, 2, E::True),
                (1, 4, E::LoopExit),
                (2, 1, E::LoopBack),
                (2, 3, E::True),
                (3, 5, E::Return),
                (4, 5, E::Return),
            ]
        );
    }

    #[test]
    fn try_except_else_finally() {
        let cfg = cfg(&[
            "def f(x):",                                // 1
            "    try:",                                 // 2  -> 1 try
            "        y = 1 / x",                        // 3  -> 1
            "    except ZeroDivisionError:",            // 4  -> 2 handler
            "        y = 0",                            // 5  -> 2
            "    except (TypeError, ValueError) as e:", // 6  -> 3 handler
            "        raise",                            // 7  -> 3
            "    else:",                                // 8
            "        y += 1",                           // 9  -> 4
            "    finally:  # cleanup",                  // 10 -> 5 finally
            "        print('done')",                    // 11 -> 5
            "    return y",                             // 12 -> 6
        ]);
        assert_eq!(
            kinds(&cfg),
            [
                B::Entry,
                B::Try,
                B::Handler,
                B::Handler,
                B::Body,
                B::Finally,
                B::Body,
                B::Exit
            ]
        );
        assert_eq!(
            lines_of(&cfg)[1..7],
            [
                vec![2, 3],
                vec![4, 5],
                vec![6, 7],
                vec![9],
                vec![10, 11],
                vec![12]
            ]
        );
        assert_eq!(
            edges(&cfg),
            sorted(vec![
                (0, 1, E::Fallthrough),
                (1, 2, E::Exception),
                (1, 3, E::Exception),
                (1, 4, E::Fallthrough),
                // Handlers and `else` run under the `finally`.
                (2, 5, E::Fallthrough),
                (2, 5, E::Exception),
                (3, 5, E::Exception),
                (4, 5, E::Fallthrough),
                (4, 5, E::Exception),
                (5, 6, E::Fallthrough),
                // `finally` re-raises a pending exception.
                (5, 7, E::Raise),
                (6, 7, E::Return),
            ])
        );
    }

    #[test]
    fn return_and_break_run_finally_first() {
        let cfg = cfg(&[
            "def f(xs):",            // 1
            "    for x in xs:",      // 2 -> 1 loop_head
            "        try:",          // 3 -> 2 try
            "            if x:",     // 4 -> 3 branch
            "                break", // 5 -> 4
            "            return x",  // 6 -> 5
            "        finally:",      // 7 -> 6 finally
            "            log(x)",    // 8 -> 6
            "    return None",       // 9 -> 7
        ]);
        assert_eq!(
            kinds(&cfg),
            [
                B::Entry,
                B::LoopHead,
                B::Try,
                B::Branch,
                B::Body,
                B::Body,
                B::Finally,
                B::Body,
                B::Exit
            ]
        );
        assert_eq!(
            edges(&cfg),
            sorted(vec![
                (0, 1, E::Fallthrough),
                (1, 2, E::True),
                (1, 7, E::LoopExit),
                (2, 3, E::Fallthrough),
                (2, 6, E::Exception),
                (3, 4, E::True),
                (3, 5, E::False),
                (3, 6, E::Exception),
                (4, 6, E::Break),
                (4, 6, E::Exception),
                (5, 6, E::Return),
                (5, 6, E::Exception),
                // The finally resumes the jumps that entered it ...
                (6, 7, E::Break),
                (6, 8, E::Return),
                // ... re-raises, and otherwise ends the iteration.
                (6, 8, E::Raise),
                (6, 1, E::LoopBack),
                (7, 8, E::Return),
            ])
        );
    }

    #[test]
    fn raise_and_assert_outside_try_leave_the_function() {
        let cfg = cfg(&[
            "def f(x):",                   // 1
            "    assert x is not None",    // 2 -> 1
            "    if x < 0:",               // 3 -> 2
            "        raise ValueError(x)", // 4 -> 3
            "    return x",                // 5 -> 4
        ]);
        assert_eq!(
            edges(&cfg),
            [
                (0, 1, E::Fallthrough),
                (1, 2, E::Fallthrough),
                (1, 5, E::Raise),
                (2, 3, E::True),
                (2, 4, E::False),
                (3, 5, E::Raise),
                (4, 5, E::Return),
            ]
        );
    }

    #[test]
    fn assert_ends_its_block() {
        let cfg = cfg(&["def f(x):", "    y = x", "    assert y", "    return y"]);
        assert_eq!(lines_of(&cfg)[1..3], [vec![2, 3], vec![4]]);
    }

    #[test]
    fn match_statement() {
        let cfg = cfg(&[
            "def f(cmd):",                   // 1
            "    match cmd:",                // 2 -> 1 branch
            "        case 'go':",            // 3 -> 2 case
            "            r = 1",             // 4 -> 3
            "        case [x, y] if x > y:", // 5 -> 4 case
            "            r = 2",             // 6 -> 5
            "        case _:",               // 7 -> 6 case
            "            r = 3",             // 8 -> 7
            "    return r",                  // 9 -> 8
        ]);
        assert_eq!(
            kinds(&cfg),
            [
                B::Entry,
                B::Branch,
                B::Case,
                B::Body,
                B::Case,
                B::Body,
                B::Case,
                B::Body,
                B::Body,
                B::Exit
            ]
        );
        assert_eq!(
            edges(&cfg),
            sorted(vec![
                (0, 1, E::Fallthrough),
                (1, 2, E::Fallthrough),
                (2, 3, E::True),
                (2, 4, E::False),
                (4, 5, E::True),
                (4, 6, E::False),
                // The wildcard always matches: no false edge out of it.
                (6, 7, E::True),
                (3, 8, E::Fallthrough),
                (5, 8, E::Fallthrough),
                (7, 8, E::Fallthrough),
                (8, 9, E::Return),
            ])
        );
    }

    #[test]
    fn match_without_wildcard_can_fall_through() {
        let cfg = cfg(&[
            "def f(p):",            // 1
            "    match p:",         // 2 -> 1
            "        case (0, y):", // 3 -> 2
            "            return y", // 4 -> 3
            "    return None",      // 5 -> 4
        ]);
        assert_eq!(
            edges(&cfg),
            [
                (0, 1, E::Fallthrough),
                (1, 2, E::Fallthrough),
                (2, 3, E::True),
                (2, 4, E::False),
                (3, 5, E::Return),
                (4, 5, E::Return),
            ]
        );
    }

    #[test]
    fn with_body_starts_a_new_block() {
        let cfg = cfg(&[
            "async def f(p):",                // 1
            "    n = 0",                      // 2 -> 1
            "    async with open(p) as fh:",  // 3 -> 2 with
            "        data = await fh.read()", // 4 -> 3
            "    return data",                // 5 -> 4
        ]);
        assert_eq!(
            kinds(&cfg),
            [B::Entry, B::Body, B::With, B::Body, B::Body, B::Exit]
        );
        assert_eq!(
            edges(&cfg),
            [
                (0, 1, E::Fallthrough),
                (1, 2, E::Fallthrough),
                (2, 3, E::Fallthrough),
                (3, 4, E::Fallthrough),
                (4, 5, E::Return),
            ]
        );
    }

    #[test]
    fn nested_definitions_are_single_statements() {
        let cfg = cfg(&[
            "@decorator",                       // 1
            "def f(xs):",                       // 2
            "    '''Docstring.'''",             // 3
            "    def g(a):",                    // 4
            "        return a",                 // 5
            "    class C:",                     // 6
            "        x = 1",                    // 7
            "    h = lambda v: v",              // 8
            "    ys = [g(v) for v in xs if v]", // 9
            "    yield ys",                     // 10
        ]);
        assert_eq!(kinds(&cfg), [B::Entry, B::Body, B::Exit]);
        // The docstring is not executed, so it is in no block.
        assert_eq!(cfg.blocks[1].lines, [4, 6, 8, 9, 10]);
        assert_eq!((cfg.blocks[1].start_line, cfg.blocks[1].end_line), (4, 10));
        assert_eq!(cfg.block_of_line(3), None);
        assert!((4..=10).all(|line| cfg.block_of_line(line) == Some(1)));
        assert_eq!(
            edges(&cfg),
            [(0, 1, E::Fallthrough), (1, 2, E::Fallthrough)]
        );
        assert_eq!(
            cfg.blocks[0].start_line, 1,
            "entry starts at the first decorator"
        );
    }

    #[test]
    fn multi_line_statement_maps_all_its_lines() {
        let cfg = cfg(&[
            "def f(x):",        // 1
            "    y = g(",       // 2 -> 1
            "        x,",       // 3 -> 1
            "    )",            // 4 -> 1
            "    if (y and",    // 5 -> 2
            "            x):",  // 6 -> 2
            "        return y", // 7 -> 3
        ]);
        assert_eq!(cfg.blocks[1].lines, [2]);
        assert_eq!((cfg.blocks[1].start_line, cfg.blocks[1].end_line), (2, 4));
        assert_eq!((cfg.blocks[2].start_line, cfg.blocks[2].end_line), (5, 6));
        let mapped: Vec<Option<u32>> = (1..=8).map(|line| cfg.block_of_line(line)).collect();
        assert_eq!(
            mapped,
            [
                None,
                Some(1),
                Some(1),
                Some(1),
                Some(2),
                Some(2),
                Some(3),
                None
            ]
        );
        // Tracing may revisit a statement's first line; that is no new entry.
        assert_eq!(cfg.blocks_of_lines(&[2, 3, 2, 5, 6, 5, 7]), [1, 2, 3]);
    }

    #[test]
    fn statements_sharing_a_line_map_to_the_first() {
        let cfg = cfg(&[
            "def f(x):",          // 1
            "    if x: return 1", // 2 -> 1 branch, 2 body
            "    return 0",       // 3 -> 3
        ]);
        assert_eq!(
            kinds(&cfg),
            [B::Entry, B::Branch, B::Body, B::Body, B::Exit]
        );
        assert_eq!(cfg.blocks[2].lines, [2]);
        assert_eq!(cfg.block_of_line(2), Some(1));
        assert_eq!(cfg.block_of_line(3), Some(3));
    }

    #[test]
    fn blocks_of_a_loop_trace() {
        let cfg = cfg(&[
            "def f(n):",        // 1
            "    i = 0",        // 2 -> 1
            "    while i < n:", // 3 -> 2
            "        i += 1",   // 4 -> 3
            "    # done",       // 5
            "    return i",     // 6 -> 4
        ]);
        assert_eq!(
            cfg.blocks_of_lines(&[2, 3, 4, 3, 4, 3, 6]),
            [1, 2, 3, 2, 3, 2, 4]
        );
        // Unmapped lines (the `def` line of a call event, the comment) are skipped.
        assert_eq!(cfg.blocks_of_lines(&[1, 2, 5, 3, 6]), [1, 2, 4]);
        assert_eq!(cfg.blocks_of_lines(&[]), Vec::<u32>::new());
    }

    #[test]
    fn blocks_of_lines_keeps_one_id_per_straight_run() {
        let cfg = cfg(&[
            "def f(xs):",              // 1
            "    s = 0",               // 2 -> 1
            "    t = 1",               // 3 -> 1
            "    for x in xs: s += x", // 4 -> 2 (one-line loop)
            "    u = s",               // 5 -> 4
            "    return u + t",        // 6 -> 4
        ]);
        assert_eq!(kinds(&cfg)[1..5], [B::Body, B::LoopHead, B::Body, B::Body]);
        // Each repeat of the loop line is an iteration of the head.
        assert_eq!(cfg.blocks_of_lines(&[2, 3, 4, 4, 4, 5, 6]), [1, 2, 2, 2, 4]);
    }

    #[test]
    fn ids_are_stable() {
        let source = [
            "def f(xs):",
            "    total = 0",
            "    for x in xs:",
            "        if x:",
            "            total += x",
            "    return total",
        ];
        let first = cfg(&source);
        assert_eq!(first, cfg(&source));

        // A comment inside the body changes no block or edge.
        let mut commented = source.to_vec();
        commented.insert(3, "        # only truthy values");
        let second = cfg(&commented);
        assert_eq!(kinds(&first), kinds(&second));
        assert_eq!(first.edges, second.edges);
        assert_eq!(second.block_of_line(4), None);

        // A comment above the first statement shifts every body line by one.
        let mut shifted = source.to_vec();
        shifted.insert(1, "    # leading comment");
        let third = cfg(&shifted);
        let expected = first.line_offset(1);
        assert_eq!(third.blocks[1..], expected.blocks[1..]);
        assert_eq!(third.line_to_block, expected.line_to_block);
        assert_eq!(third.edges, expected.edges);
    }

    #[test]
    fn line_offset_shifts_every_line() {
        let original = cfg(&["def f(x):", "    if x:", "        return 1", "    return 2"]);
        let shifted = original.line_offset(10);
        assert_eq!(shifted.edges, original.edges);
        assert_eq!(kinds(&shifted), kinds(&original));
        for line in 1..=4 {
            assert_eq!(
                shifted.block_of_line(line + 10),
                original.block_of_line(line)
            );
        }
        assert_eq!(shifted.blocks[1].lines, [12]);
        assert_eq!(
            (shifted.blocks[0].start_line, shifted.blocks[4].end_line),
            (11, 14)
        );
        assert_eq!(shifted.line_offset(-10), original);
        assert_eq!(
            shifted.blocks_of_lines(&[12, 13]),
            original.blocks_of_lines(&[2, 3])
        );
    }

    #[test]
    fn errors() {
        assert_eq!(cfg_of_function("x = 1\n"), Err(CfgError::NoFunction));
        assert!(matches!(
            cfg_of_function("def f(:\n"),
            Err(CfgError::Syntax(_))
        ));
    }

    #[test]
    fn serde_round_trip() {
        let cfg = cfg(&["def f(x):", "    while x:", "        x -= 1"]);
        let json = serde_json::to_string(&cfg).unwrap();
        assert!(json.contains(r#""kind":"loop_head""#), "{json}");
        assert!(json.contains(r#""kind":"loop_back""#), "{json}");
        let back: Cfg = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg);
    }

    /// The storage path: a trace row holding a CFG, through the project's
    /// `serde_arrow` Parquet writer and back.
    #[test]
    fn parquet_round_trip() {
        #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Row {
            id: String,
            cfg: Option<Cfg>,
        }
        let rows = vec![
            Row {
                id: "a".into(),
                cfg: Some(cfg(&[
                    "def f(x):",
                    "    try:",
                    "        return 1 / x",
                    "    except ZeroDivisionError:",
                    "        return 0",
                ])),
            },
            Row {
                id: "b".into(),
                cfg: None,
            },
        ];
        let path =
            std::env::temp_dir().join(format!("tracecode-cfg-{}.parquet", std::process::id()));
        tracecode_data::write_parquet(&path, &rows).unwrap();
        let back: Vec<Row> = tracecode_data::read_parquet(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(back, rows);
    }

    /// Start lines of all statements the graph must map (nested function and
    /// class bodies excluded), and every line of the simple ones.
    fn required_lines(body: &[Stmt], index: &LineIndex, out: &mut Vec<u32>) {
        let line = |offset: TextSize| to_u32(index.line_index(offset).get());
        for stmt in body {
            out.push(line(stmt.start()));
            match stmt {
                Stmt::If(node) => {
                    required_lines(&node.body, index, out);
                    for clause in &node.elif_else_clauses {
                        required_lines(&clause.body, index, out);
                    }
                }
                Stmt::For(node) => {
                    required_lines(&node.body, index, out);
                    required_lines(&node.orelse, index, out);
                }
                Stmt::While(node) => {
                    required_lines(&node.body, index, out);
                    required_lines(&node.orelse, index, out);
                }
                Stmt::With(node) => required_lines(&node.body, index, out),
                Stmt::Match(node) => {
                    for case in &node.cases {
                        out.push(line(case.start()));
                        required_lines(&case.body, index, out);
                    }
                }
                Stmt::Try(node) => {
                    required_lines(&node.body, index, out);
                    for ExceptHandler::ExceptHandler(handler) in &node.handlers {
                        out.push(line(handler.start()));
                        required_lines(&handler.body, index, out);
                    }
                    required_lines(&node.orelse, index, out);
                    required_lines(&node.finalbody, index, out);
                }
                _ => out.extend(line(stmt.start())..=line(stmt.end() - TextSize::from(1))),
            }
        }
    }

    /// Every function and method of a module, nested ones included.
    fn all_defs<'a>(body: &'a [Stmt], out: &mut Vec<&'a StmtFunctionDef>) {
        use ruff_python_ast::statement_visitor::{walk_stmt, StatementVisitor};
        struct Defs<'a, 'b>(&'b mut Vec<&'a StmtFunctionDef>);
        impl<'a> StatementVisitor<'a> for Defs<'a, '_> {
            fn visit_stmt(&mut self, stmt: &'a Stmt) {
                if let Stmt::FunctionDef(def) = stmt {
                    self.0.push(def);
                }
                walk_stmt(self, stmt);
            }
        }
        Defs(out).visit_body(body);
    }

    fn stdlib_dir() -> Option<std::path::PathBuf> {
        let output = std::process::Command::new("python3")
            .args([
                "-c",
                "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
            ])
            .output()
            .ok()?;
        let dir = String::from_utf8(output.stdout).ok()?;
        output.status.success().then(|| dir.trim().into())
    }

    /// Builds the CFG of every function in `path`; returns how many.
    fn check_file(path: &std::path::Path) -> usize {
        let Ok(source) = std::fs::read_to_string(path) else {
            return 0;
        };
        let Ok(parsed) = ruff_python_parser::parse_module(&source) else {
            return 0; // e.g. test data with deliberate syntax errors
        };
        let index = LineIndex::from_source_text(&source);
        let mut defs = Vec::new();
        all_defs(&parsed.syntax().body, &mut defs);
        for def in &defs {
            let cfg = cfg_of_def(def, &source, &index);
            check_invariants(&cfg);
            assert_eq!(cfg, cfg_of_def(def, &source, &index), "deterministic");
            let mut required = Vec::new();
            required_lines(executed_body(def), &index, &mut required);
            for line in required {
                assert!(
                    cfg.block_of_line(line).is_some(),
                    "{}:{line} in `{}` is not mapped",
                    path.display(),
                    def.name
                );
            }
        }
        defs.len()
    }

    #[test]
    fn stdlib_smoke() {
        let Some(dir) = stdlib_dir() else {
            eprintln!("python3 not found; skipping the stdlib smoke test");
            return;
        };
        let files = [
            "textwrap.py",
            "difflib.py",
            "argparse.py",
            "tarfile.py",
            "subprocess.py",
            "ast.py",
            "json/decoder.py",
            "asyncio/tasks.py",
        ];
        let mut total = 0;
        for file in files {
            let path = dir.join(file);
            if path.exists() {
                total += check_file(&path);
            } else {
                eprintln!("{} missing; skipped", path.display());
            }
        }
        assert!(total > 100, "only {total} functions checked");
    }

    /// The whole local stdlib; slow in debug builds, so run on demand with
    /// `cargo test -p tracecode_py cfg -- --ignored`.
    #[test]
    #[ignore = "walks the whole local stdlib (~60k functions)"]
    fn stdlib_full() {
        let Some(dir) = stdlib_dir() else {
            eprintln!("python3 not found; skipping");
            return;
        };
        let mut stack = vec![dir];
        let (mut files, mut defs) = (0, 0);
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() && !path.ends_with("site-packages") {
                    stack.push(path);
                } else if path.extension().is_some_and(|ext| ext == "py") {
                    files += 1;
                    defs += check_file(&path);
                }
            }
        }
        eprintln!("checked {defs} functions in {files} files");
        assert!(defs > 1000);
    }
}
