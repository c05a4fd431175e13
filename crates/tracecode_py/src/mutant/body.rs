//! What operators look at: the statements, blocks and expressions of a
//! function body, and small text helpers for locating and describing edits.

use std::fmt::Display;

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::source_order::{walk_body, walk_expr, walk_stmt, SourceOrderVisitor};
use ruff_python_ast::{Decorator, Expr, Parameters, Stmt, StmtFunctionDef, TypeParams};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::edit::ParsedFunction;

/// The mutable code of a function, in source order (parents before children).
///
/// Decorators, parameters (their defaults and annotations), return and
/// variable annotations and type parameters are left out, also for nested
/// functions and lambdas: they run once at definition time or never, so
/// mutating them tells the model little about the body's behaviour. Bare
/// string statements (docstrings) are kept as statements but not entered,
/// since changing them never changes behaviour.
pub(super) struct Body<'a> {
    pub root: &'a StmtFunctionDef,
    pub stmts: Vec<&'a Stmt>,
    pub exprs: Vec<&'a Expr>,
    /// Every non-empty statement list: function, branch, loop, handler bodies.
    pub blocks: Vec<&'a [Stmt]>,
}

impl<'a> Body<'a> {
    pub fn of(f: &'a ParsedFunction) -> Self {
        let root = f.def();
        let mut body = Body {
            root,
            stmts: Vec::new(),
            exprs: Vec::new(),
            blocks: Vec::new(),
        };
        body.visit_body(&root.body);
        body
    }

    /// The innermost function (possibly nested) whose source holds `node`.
    pub fn enclosing_def(&self, node: &impl Ranged) -> &'a StmtFunctionDef {
        self.stmts
            .iter()
            .filter_map(|s| s.as_function_def_stmt())
            .filter(|d| d.range().contains_range(node.range()))
            .max_by_key(|d| d.start())
            .unwrap_or(self.root)
    }
}

impl<'a> SourceOrderVisitor<'a> for Body<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.stmts.push(stmt);
        if !is_bare_string(stmt) {
            walk_stmt(self, stmt);
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.exprs.push(expr);
        walk_expr(self, expr);
    }

    fn visit_body(&mut self, body: &'a [Stmt]) {
        if !body.is_empty() {
            self.blocks.push(body);
        }
        walk_body(self, body);
    }

    fn visit_decorator(&mut self, _: &'a Decorator) {}
    fn visit_parameters(&mut self, _: &'a Parameters) {}
    fn visit_annotation(&mut self, _: &'a Expr) {}
    fn visit_type_params(&mut self, _: &'a TypeParams) {}
}

/// The ranges of all comments in `f`. Operators that replace whole
/// statements or expressions skip those holding one, so every comment
/// survives.
pub(super) fn comments(f: &ParsedFunction) -> Vec<TextRange> {
    let parsed = ruff_python_parser::parse_module(f.source).expect("parsed before");
    parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == TokenKind::Comment)
        .map(Ranged::range)
        .collect()
}

/// A statement that is only a string literal: a docstring or a no-op.
pub(super) fn is_bare_string(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::Expr(e) if e.value.is_string_literal_expr())
}

pub(super) fn offset(at: usize) -> TextSize {
    TextSize::try_from(at).expect("source under 4 GiB")
}

/// The range of operator `op` (`+=`, `not in`, ...) between two operands:
/// the first text in `gap` that is not whitespace, a parenthesis, a comment
/// or a line continuation. The AST keeps no operator ranges, and the gap
/// between two operands holds nothing else.
pub(super) fn operator_range(source: &str, gap: TextRange, op: &str) -> Option<TextRange> {
    let end = gap.end().to_usize();
    let mut at = gap.start().to_usize();
    let mut start = None;
    for word in op.split(' ') {
        at = skip_trivia(source, at, end);
        if !source[at..end].starts_with(word) {
            return None;
        }
        start.get_or_insert(at);
        at += word.len();
    }
    Some(TextRange::new(offset(start?), offset(at)))
}

fn skip_trivia(source: &str, mut at: usize, end: usize) -> usize {
    while at < end {
        match source.as_bytes()[at] {
            b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\\' | b'(' | b')' => at += 1,
            b'#' => at = source[at..end].find('\n').map_or(end, |i| at + i),
            _ => break,
        }
    }
    at
}

/// A mutation note: `line 4: < → <=`, lines 1-based within the function code.
pub(super) fn note(f: &ParsedFunction, at: TextSize, what: impl Display) -> String {
    let line = f.source[..at.to_usize()].matches('\n').count() + 1;
    format!("line {line}: {what}")
}

/// `text` on one line and at most 40 characters, for notes.
pub(super) fn snippet(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 40 {
        flat
    } else {
        flat.chars().take(39).chain(['…']).collect()
    }
}
