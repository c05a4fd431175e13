//! Layout and expression helpers shared by the rewrites: where the statement
//! lists are, how deep to indent new code, how to move or re-indent whole
//! lines, and when an expression's text needs parentheses in a new place.

use std::collections::HashSet;
use std::sync::LazyLock;

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use regex::Regex;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    self as ast, CmpOp, Expr, OperatorPrecedence, Stmt, StmtFunctionDef, UnaryOp,
};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::edit::{EditError, ParsedFunction, TextEdit};

/// One statement list of the function, with what encloses it.
pub(super) struct Suite<'a> {
    pub stmts: &'a [Stmt],
    /// Inside a `try`, a `with` or a nested function: an exception raised here
    /// may be caught and execution go on, so a half-done effect is observable.
    pub guarded: bool,
    /// The body of a `def`, whose first statement may be its docstring.
    pub is_def_body: bool,
}

impl Suite<'_> {
    /// How many leading statements must stay first (the docstring).
    pub fn fixed_prefix(&self) -> usize {
        usize::from(self.is_def_body && self.stmts.first().is_some_and(is_docstring))
    }
}

pub(super) fn is_docstring(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::Expr(e) if e.value.is_string_literal_expr())
}

/// Every statement list of the function, outermost first. Class bodies are
/// left out: their names are attributes, not variables.
pub(super) fn suites(def: &StmtFunctionDef) -> Vec<Suite<'_>> {
    fn collect<'a>(stmts: &'a [Stmt], guarded: bool, is_def_body: bool, out: &mut Vec<Suite<'a>>) {
        out.push(Suite {
            stmts,
            guarded,
            is_def_body,
        });
        for stmt in stmts {
            match stmt {
                Stmt::If(s) => {
                    collect(&s.body, guarded, false, out);
                    for clause in &s.elif_else_clauses {
                        collect(&clause.body, guarded, false, out);
                    }
                }
                Stmt::For(ast::StmtFor { body, orelse, .. })
                | Stmt::While(ast::StmtWhile { body, orelse, .. }) => {
                    collect(body, guarded, false, out);
                    if !orelse.is_empty() {
                        collect(orelse, guarded, false, out);
                    }
                }
                Stmt::With(s) => collect(&s.body, true, false, out),
                Stmt::Try(s) => {
                    collect(&s.body, true, false, out);
                    for ast::ExceptHandler::ExceptHandler(h) in &s.handlers {
                        collect(&h.body, true, false, out);
                    }
                    for block in [&s.orelse, &s.finalbody] {
                        if !block.is_empty() {
                            collect(block, true, false, out);
                        }
                    }
                }
                Stmt::Match(s) => {
                    for case in &s.cases {
                        collect(&case.body, guarded, false, out);
                    }
                }
                Stmt::FunctionDef(def) => collect(&def.body, true, true, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    collect(&def.body, false, true, &mut out);
    out
}

/// Every expression in the function body (nested scopes included), and the
/// ranges of those whose value is only used for its truth: `if`/`while`/
/// `assert` tests, conditional-expression tests and comprehension filters.
pub(super) struct Expressions<'a> {
    pub all: Vec<&'a Expr>,
    pub tests: HashSet<TextRange>,
}

impl<'a> Expressions<'a> {
    pub fn of(def: &'a StmtFunctionDef) -> Self {
        let mut e = Expressions {
            all: Vec::new(),
            tests: HashSet::new(),
        };
        e.visit_body(&def.body);
        e
    }
}

impl<'a> Visitor<'a> for Expressions<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::If(s) => {
                self.tests.insert(s.test.range());
                let elif_tests = s.elif_else_clauses.iter().filter_map(|c| c.test.as_ref());
                self.tests.extend(elif_tests.map(Ranged::range));
            }
            Stmt::While(s) => {
                self.tests.insert(s.test.range());
            }
            Stmt::Assert(s) => {
                self.tests.insert(s.test.range());
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.all.push(expr);
        if let Expr::If(e) = expr {
            self.tests.insert(e.test.range());
        }
        visitor::walk_expr(self, expr);
    }

    fn visit_comprehension(&mut self, comprehension: &'a ast::Comprehension) {
        self.tests
            .extend(comprehension.ifs.iter().map(Ranged::range));
        visitor::walk_comprehension(self, comprehension);
    }
}

/// Whether `expr` itself opens a scope, binds with `:=` or suspends
/// (`await`/`yield`): what moving code between a comprehension and a loop
/// could change the meaning of.
pub(super) fn scopes_or_suspends(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Lambda(_)
            | Expr::ListComp(_)
            | Expr::SetComp(_)
            | Expr::DictComp(_)
            | Expr::Generator(_)
            | Expr::Named(_)
            | Expr::Await(_)
            | Expr::Yield(_)
            | Expr::YieldFrom(_)
    )
}

/// The precedence of `expr` as its source text stands (ranges exclude
/// redundant parentheses, so a bare tuple binds loosest of all).
pub(super) fn precedence(expr: &Expr) -> OperatorPrecedence {
    match expr {
        Expr::Tuple(t) if !t.parenthesized => OperatorPrecedence::None,
        Expr::Generator(g) if !g.parenthesized => OperatorPrecedence::None,
        _ => OperatorPrecedence::from_expr(expr),
    }
}

/// The text of `expr`, parenthesized when it binds looser than `min` or
/// spans lines (its line breaks may have relied on enclosing brackets).
pub(super) fn operand(pf: &ParsedFunction, expr: &Expr, min: OperatorPrecedence) -> String {
    let text = pf.text(expr);
    if precedence(expr) < min || text.contains('\n') {
        format!("({text})")
    } else {
        text.to_string()
    }
}

/// The negation of `expr`, at `not` precedence. In a truth-only context
/// (`truth_only`) `not x` negates to `x`; elsewhere that would change the
/// value from a bool to `x`, so the `not` is doubled instead. `in` and `is`
/// become `not in` and `is not` (and back), which Python defines as the
/// negations; other comparisons only get a `not` (`__ne__` may disagree
/// with `__eq__`).
pub(super) fn negate(pf: &ParsedFunction, expr: &Expr, truth_only: bool) -> String {
    match expr {
        Expr::UnaryOp(u) if truth_only && u.op == UnaryOp::Not => {
            operand(pf, &u.operand, OperatorPrecedence::Not)
        }
        Expr::Compare(c) => negated_membership(pf, c)
            .unwrap_or_else(|| format!("not {}", operand(pf, expr, OperatorPrecedence::Not))),
        _ => format!("not {}", operand(pf, expr, OperatorPrecedence::Not)),
    }
}

static NOT_IN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bnot\s+in\b").unwrap());
static IS_NOT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bis\s+not\b").unwrap());

/// `a in b` → `a not in b`, `a is b` → `a is not b`, and back.
fn negated_membership(pf: &ParsedFunction, c: &ast::ExprCompare) -> Option<String> {
    let ([op], [right]) = (&*c.ops, &*c.comparators) else {
        return None;
    };
    let between = &pf.source[TextRange::new(c.left.end(), right.start())];
    if between.contains(['#', '\n']) {
        return None;
    }
    let negated = match op {
        CmpOp::In => between.replacen("in", "not in", 1),
        CmpOp::NotIn => NOT_IN.replace(between, "in").into_owned(),
        CmpOp::Is => between.replacen("is", "is not", 1),
        CmpOp::IsNot => IS_NOT.replace(between, "is").into_owned(),
        _ => return None,
    };
    let head = &pf.source[TextRange::new(c.start(), c.left.end())];
    let tail = &pf.source[TextRange::new(right.start(), c.end())];
    Some(format!("{head}{negated}{tail}"))
}

/// One level of indentation as the function writes it (its body's indent
/// beyond the `def` line's), so new blocks match tabs or spaces.
pub(super) fn indent_unit(pf: &ParsedFunction) -> String {
    let def = pf.def();
    let outer = pf.indent_at(def.start());
    let inner = pf.indent_at(def.body[0].start());
    match inner.strip_prefix(outer) {
        Some(unit) if !unit.is_empty() && pf.starts_line(&def.body[0]) => unit.to_string(),
        _ => "    ".to_string(),
    }
}

/// The offset just past the `:` that ends a compound statement's header,
/// given the end of the header's last expression (or keyword). `None` when
/// anything but closing brackets, blanks and line continuations lie between.
pub(super) fn header_colon_end(pf: &ParsedFunction, after: TextSize) -> Option<TextSize> {
    let rest = &pf.source[after.to_usize()..];
    let skipped = rest.find(|c: char| !matches!(c, ' ' | '\t' | ')' | ']' | '\\' | '\r' | '\n'))?;
    (rest[skipped..].starts_with(':')).then(|| after + TextSize::try_from(skipped + 1).unwrap())
}

/// The offset where the line after `offset` starts (or the end of the source).
pub(super) fn next_line_start(pf: &ParsedFunction, offset: TextSize) -> TextSize {
    let rest = &pf.source[offset.to_usize()..];
    let len = rest.find('\n').map_or(rest.len(), |i| i + 1);
    offset + TextSize::try_from(len).unwrap()
}

/// Edits that exchange two disjoint regions of whole lines, `first` before
/// `second`. The source's last line may lack its newline; it keeps lacking it.
pub(super) fn swap_regions(
    pf: &ParsedFunction,
    first: TextRange,
    second: TextRange,
) -> Vec<TextEdit> {
    let (a, b) = (&pf.source[first], &pf.source[second]);
    let (mut new_first, mut new_second) = (b.to_string(), a.to_string());
    if !b.ends_with('\n') {
        let eol = if a.ends_with("\r\n") { "\r\n" } else { "\n" };
        new_first.push_str(eol);
        new_second.truncate(a.len() - eol.len());
    }
    vec![
        TextEdit::replace(first, new_first),
        TextEdit::replace(second, new_second),
    ]
}

/// The text of the whole lines in `range` with leading `from` indentation
/// replaced by `to`. Lines not starting with `from` (continuations inside
/// brackets, stray comments) keep theirs. `None` when a string spans a line
/// break there, since re-indenting would change its value.
pub(super) fn reindent(
    pf: &ParsedFunction,
    range: TextRange,
    from: &str,
    to: &str,
) -> Option<String> {
    if pf.has_multiline_string_in(range) {
        return None;
    }
    let text = &pf.source[range];
    let lines = text
        .split_inclusive('\n')
        .map(|line| match line.strip_prefix(from) {
            Some(rest) if !line.trim().is_empty() => format!("{to}{rest}"),
            _ => line.to_string(),
        });
    Some(lines.collect())
}

/// Swaps one pair of adjacent statements (after each docstring) of the
/// suites `in_suite` accepts, picked with `rng` among the pairs `swappable`
/// accepts; whole lines move, so trailing comments travel along. `none`
/// says why nothing applies, `how` ends the note.
pub(super) fn swap_adjacent(
    f: &ParsedFunction,
    rng: &mut ChaCha8Rng,
    in_suite: impl Fn(&Suite) -> bool,
    mut swappable: impl FnMut(&Stmt, &Stmt) -> bool,
    none: &str,
    how: &str,
) -> Result<super::Rewritten, EditError> {
    let mut pairs = Vec::new();
    for suite in suites(f.def()).into_iter().filter(|s| in_suite(s)) {
        let stmts = &suite.stmts[suite.fixed_prefix()..];
        for pair in stmts.windows(2) {
            if swappable(&pair[0], &pair[1]) {
                pairs.push((&pair[0], &pair[1]));
            }
        }
    }
    let (a, b) = pick(pairs, rng, none)?;
    let code =
        crate::edit::apply_edits(f.source, swap_regions(f, f.line_range(a), f.line_range(b)))?;
    let note = format!(
        "swapped lines {} and {}{how}",
        f.line_number(a.start()),
        f.line_number(b.start())
    );
    Ok(super::Rewritten {
        code,
        renames: vec![],
        note,
    })
}

/// Picks one of `sites` with `rng`, or says why there is none.
pub(super) fn pick<T>(mut sites: Vec<T>, rng: &mut ChaCha8Rng, none: &str) -> Result<T, EditError> {
    if sites.is_empty() {
        return Err(EditError::NotApplicable(none.to_string()));
    }
    let i = rng.gen_range(0..sites.len());
    Ok(sites.swap_remove(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_mark_guarded_and_def_bodies() {
        let src = "def f(x):\n    \"\"\"Doc.\"\"\"\n    try:\n        y = 1\n    except E:\n        pass\n    for i in x:\n        def g():\n            return i\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let s = suites(pf.def());
        let flags: Vec<(usize, bool, bool)> = s
            .iter()
            .map(|s| (s.stmts.len(), s.guarded, s.is_def_body))
            .collect();
        assert_eq!(
            flags,
            vec![
                (3, false, true),
                (1, true, false),
                (1, true, false),
                (1, false, false),
                (1, true, true)
            ]
        );
        assert_eq!(s[0].fixed_prefix(), 1);
    }

    #[test]
    fn operands_get_parentheses_only_when_needed() {
        let src = "def f(a, b):\n    return (a or b), a + b, (a,\n b), not a, a  is not(b), a not  in b\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let Stmt::Return(r) = &pf.def().body[0] else {
            panic!()
        };
        let Expr::Tuple(t) = r.value.as_deref().unwrap() else {
            panic!()
        };
        let cmp = OperatorPrecedence::ComparisonsMembershipIdentity;
        assert_eq!(operand(&pf, &t.elts[0], cmp), "(a or b)");
        assert_eq!(operand(&pf, &t.elts[1], cmp), "a + b");
        assert_eq!(operand(&pf, &t.elts[2], cmp), "((a,\n b))");
        assert_eq!(negate(&pf, &t.elts[3], true), "a");
        assert_eq!(negate(&pf, &t.elts[3], false), "not not a");
        assert_eq!(negate(&pf, &t.elts[0], false), "not (a or b)");
        assert_eq!(negate(&pf, &t.elts[4], false), "a  is(b)");
        assert_eq!(negate(&pf, &t.elts[5], false), "a in b");
    }

    #[test]
    fn reindent_keeps_bracket_continuations_and_refuses_multiline_strings() {
        let src = "def f(x):\n    if x:\n        y = [1,\n  2]\n        return y\n    s = '''a\n    b'''\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let Stmt::If(s) = &pf.def().body[0] else {
            panic!()
        };
        let body = TextRange::new(
            pf.line_start(s.body[0].start()),
            pf.line_range(&s.body[1]).end(),
        );
        assert_eq!(
            reindent(&pf, body, "        ", "    ").unwrap(),
            "    y = [1,\n  2]\n    return y\n"
        );
        let string = pf.line_range(&pf.def().body[1]);
        assert_eq!(reindent(&pf, string, "    ", ""), None);
    }
}
