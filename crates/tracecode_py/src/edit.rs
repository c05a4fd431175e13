//! Text edits over AST ranges: the one way TraceCode changes source code.
//!
//! Rewrites and mutants never regenerate code from the AST. They replace the
//! byte ranges of the nodes they change and leave every other byte alone, so
//! comments, blank lines and formatting survive, and the result of a small
//! change is a small diff. Every edited function is re-parsed before it is
//! returned ([`apply_edits`] checks that), so a buggy edit becomes an error
//! instead of a broken variant.

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{ModModule, Stmt, StmtFunctionDef};
use ruff_python_parser::Parsed;
use ruff_text_size::{Ranged, TextRange, TextSize};
use serde::{Deserialize, Serialize};

/// Replace the bytes of `range` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub replacement: String,
}

impl TextEdit {
    pub fn replace(range: TextRange, replacement: impl Into<String>) -> Self {
        TextEdit {
            range,
            replacement: replacement.into(),
        }
    }

    pub fn insert(at: TextSize, text: impl Into<String>) -> Self {
        TextEdit::replace(TextRange::empty(at), text)
    }

    pub fn delete(range: TextRange) -> Self {
        TextEdit::replace(range, "")
    }
}

/// Why an edit could not be produced or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The input function does not parse, or has no top-level `def`.
    #[error("input does not parse as a function: {0}")]
    BadInput(String),
    /// The rewrite or mutation has nothing to act on in this function, or
    /// acting would not be safe (e.g. reordering statements that interfere).
    #[error("not applicable: {0}")]
    NotApplicable(String),
    /// Two edits overlap (a bug in the caller).
    #[error("overlapping edits at {0:?} and {1:?}")]
    Overlap(TextRange, TextRange),
    /// The edited source no longer parses (a bug in the caller).
    #[error("edited code does not parse: {0}")]
    Invalid(String),
}

/// Applies non-overlapping `edits` to `source` and checks the result parses.
/// Insertions at the same offset are applied in the order given.
pub fn apply_edits(source: &str, mut edits: Vec<TextEdit>) -> Result<String, EditError> {
    edits.sort_by_key(|e| (e.range.start(), e.range.end()));
    for pair in edits.windows(2) {
        if pair[1].range.start() < pair[0].range.end() {
            return Err(EditError::Overlap(pair[0].range, pair[1].range));
        }
    }
    let mut out = String::with_capacity(source.len() + 64);
    let mut at = 0usize;
    for e in &edits {
        let (start, end) = (e.range.start().to_usize(), e.range.end().to_usize());
        out.push_str(&source[at..start]);
        out.push_str(&e.replacement);
        at = end;
    }
    out.push_str(&source[at..]);
    ruff_python_parser::parse_module(&out).map_err(|err| EditError::Invalid(err.to_string()))?;
    Ok(out)
}

/// A function's source parsed once, for rewrites and mutants to inspect.
pub struct ParsedFunction<'a> {
    pub source: &'a str,
    parsed: Parsed<ModModule>,
}

impl<'a> ParsedFunction<'a> {
    /// Parses `source`, which must contain a top-level `def` (the first one is
    /// the function acted on; decorators and leading comments are allowed).
    pub fn parse(source: &'a str) -> Result<Self, EditError> {
        let parsed = ruff_python_parser::parse_module(source)
            .map_err(|err| EditError::BadInput(err.to_string()))?;
        if !parsed.syntax().body.iter().any(Stmt::is_function_def_stmt) {
            return Err(EditError::BadInput("no top-level def".into()));
        }
        Ok(ParsedFunction { source, parsed })
    }

    /// The function acted on.
    pub fn def(&self) -> &StmtFunctionDef {
        self.parsed
            .syntax()
            .body
            .iter()
            .find_map(Stmt::as_function_def_stmt)
            .expect("checked in parse")
    }

    /// Names of the parameters a call can pass by keyword (not positional-only
    /// ones, nor `*args`/`**kwargs`): what a call's keywords may name.
    pub fn keyword_parameters(&self) -> Vec<&str> {
        let p = &self.def().parameters;
        p.args
            .iter()
            .chain(&p.kwonlyargs)
            .map(|a| a.parameter.name.as_str())
            .collect()
    }

    /// The source text of `node`.
    pub fn text(&self, node: &impl Ranged) -> &'a str {
        &self.source[node.range()]
    }

    /// The indentation (leading whitespace) of the line holding `offset`.
    pub fn indent_at(&self, offset: TextSize) -> &'a str {
        let start = self.source[..offset.to_usize()]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = &self.source[start..];
        let width = line.len() - line.trim_start_matches([' ', '\t']).len();
        &line[..width]
    }

    /// The offset where the line holding `offset` starts.
    pub fn line_start(&self, offset: TextSize) -> TextSize {
        let start = self.source[..offset.to_usize()]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        TextSize::try_from(start).unwrap()
    }

    /// The 1-based line number of `offset`, for notes.
    pub fn line_number(&self, offset: TextSize) -> usize {
        self.source[..offset.to_usize()].matches('\n').count() + 1
    }

    /// Whether only indentation precedes `node` on its line (it is not the
    /// body of a one-line `if c: x`, nor after a `;`).
    pub fn starts_line(&self, node: &impl Ranged) -> bool {
        self.source[self.line_start(node.start()).to_usize()..node.start().to_usize()]
            .trim()
            .is_empty()
    }

    /// Whether `node` has its lines to itself: only indentation before it,
    /// and at most a comment after it (no `;` neighbour, not the body of a
    /// one-line `if c: x`). Only such statements can be moved by lines.
    pub fn owns_lines(&self, node: &impl Ranged) -> bool {
        let rest = &self.source[node.end().to_usize()..];
        let after = rest[..rest.find('\n').unwrap_or(rest.len())].trim();
        self.starts_line(node) && (after.is_empty() || after.starts_with('#'))
    }

    /// Whether a comment lies inside `range`: text rebuilt from node texts
    /// would drop it, so such rewrites refuse.
    pub fn has_comment_in(&self, range: TextRange) -> bool {
        self.parsed
            .tokens()
            .iter()
            .any(|t| t.kind() == TokenKind::Comment && range.contains_range(t.range()))
    }

    /// Whether a string token overlapping `range` spans a line break:
    /// re-indenting such lines would change the string's value.
    pub fn has_multiline_string_in(&self, range: TextRange) -> bool {
        self.parsed.tokens().iter().any(|t| {
            matches!(
                t.kind(),
                TokenKind::String | TokenKind::FStringMiddle | TokenKind::TStringMiddle
            ) && t.range().intersect(range).is_some()
                && self.source[t.range()].contains('\n')
        })
    }

    /// The range of the whole physical lines that `node` spans, including the
    /// trailing newline: what deleting or moving a statement must take.
    pub fn line_range(&self, node: &impl Ranged) -> TextRange {
        let start = self.source[..node.start().to_usize()]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let end = self.source[node.end().to_usize()..]
            .find('\n')
            .map_or(self.source.len(), |i| node.end().to_usize() + i + 1);
        TextRange::new(
            TextSize::try_from(start).unwrap(),
            TextSize::try_from(end).unwrap(),
        )
    }
}

/// A changed version of a function: a semantics-preserving rewrite or a mutant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The full function source after the change.
    pub code: String,
    /// The rewrite or mutation kinds applied, in order (snake_case names).
    pub kinds: Vec<String>,
    /// Local and parameter renamings, original name → new name, composed over
    /// every applied rewrite. Equivalence checking maps variables through it,
    /// and calls with keyword arguments are renamed through it.
    pub renames: Vec<(String, String)>,
    /// One-line human description of each change, e.g. `line 4: < → <=`.
    pub notes: Vec<String>,
}

impl Variant {
    /// The identity variant of `code`, the start of a composition.
    pub fn original(code: &str) -> Self {
        Variant {
            code: code.to_string(),
            kinds: vec![],
            renames: vec![],
            notes: vec![],
        }
    }

    /// Composes a further change on top of this one: `renames` are given in
    /// terms of this variant's names.
    pub fn then(
        &self,
        code: String,
        kind: &str,
        renames: &[(String, String)],
        note: impl Into<String>,
    ) -> Variant {
        let mut composed: Vec<(String, String)> = self
            .renames
            .iter()
            .map(|(orig, cur)| {
                let next = renames
                    .iter()
                    .find(|(from, _)| from == cur)
                    .map_or(cur.clone(), |(_, to)| to.clone());
                (orig.clone(), next)
            })
            .collect();
        for (from, to) in renames {
            if !self.renames.iter().any(|(_, cur)| cur == from) {
                composed.push((from.clone(), to.clone()));
            }
        }
        composed.retain(|(a, b)| a != b);
        let mut kinds = self.kinds.clone();
        kinds.push(kind.to_string());
        let mut notes = self.notes.clone();
        notes.push(note.into());
        Variant {
            code,
            kinds,
            renames: composed,
            notes,
        }
    }
}

/// Renames, in the call expression `call` recorded for the function named
/// `function` (e.g. `f(1, key=2)`, or `list(f(xs, n=2))` as a doctest writes
/// it), the keyword arguments of every call to `function` that `renames`
/// names, so the call binds the same way on a variant. `renames` must hold
/// parameter renames only ([`ParsedFunction::keyword_parameters`]): a local
/// that shares a keyword's name (`key = kwargs.get('key')`) is not one. A
/// call is to `function` when its callee is that name or an attribute of
/// that name (`Solution().f(...)`). Calls that do not parse are returned
/// unchanged.
pub fn rename_call_keywords<S: AsRef<str>>(
    call: &str,
    function: &str,
    renames: &[(S, S)],
) -> String {
    use ruff_python_ast::visitor::{walk_expr, Visitor};
    use ruff_python_ast::Expr;

    struct Keywords<'r, S> {
        function: &'r str,
        renames: &'r [(S, S)],
        edits: Vec<TextEdit>,
    }
    impl<'a, S: AsRef<str>> Visitor<'a> for Keywords<'_, S> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(c) = expr {
                let callee = match c.func.as_ref() {
                    Expr::Name(n) => Some(n.id.as_str()),
                    Expr::Attribute(a) => Some(a.attr.as_str()),
                    _ => None,
                };
                if callee == Some(self.function) {
                    for k in &c.arguments.keywords {
                        let Some(arg) = k.arg.as_ref() else { continue };
                        if let Some((_, to)) = self
                            .renames
                            .iter()
                            .find(|(from, _)| from.as_ref() == arg.as_str())
                        {
                            self.edits.push(TextEdit::replace(arg.range(), to.as_ref()));
                        }
                    }
                }
            }
            walk_expr(self, expr);
        }
    }

    if renames.is_empty() {
        return call.to_string();
    }
    let Ok(parsed) = ruff_python_parser::parse_expression(call) else {
        return call.to_string();
    };
    let mut keywords = Keywords {
        function,
        renames,
        edits: Vec::new(),
    };
    keywords.visit_expr(parsed.expr());
    let mut edits = keywords.edits;
    edits.sort_by_key(|e| e.range.start());
    let mut out = call.to_string();
    for e in edits.iter().rev() {
        out.replace_range(
            e.range.start().to_usize()..e.range.end().to_usize(),
            &e.replacement,
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_keep_comments() {
        let src = "def f(a):\n    # keep me\n    return a + 1  # and me\n";
        let at = src.find("a + 1").unwrap();
        let range = TextRange::at(TextSize::try_from(at).unwrap(), TextSize::from(5));
        let out = apply_edits(src, vec![TextEdit::replace(range, "1 + a")]).unwrap();
        assert_eq!(
            out,
            "def f(a):\n    # keep me\n    return 1 + a  # and me\n"
        );
    }

    #[test]
    fn overlapping_and_invalid_edits_are_errors() {
        let src = "def f(a):\n    return a\n";
        let r = TextRange::new(TextSize::from(0), TextSize::from(5));
        let r2 = TextRange::new(TextSize::from(3), TextSize::from(7));
        assert!(matches!(
            apply_edits(src, vec![TextEdit::delete(r), TextEdit::delete(r2)]),
            Err(EditError::Overlap(..))
        ));
        assert!(matches!(
            apply_edits(src, vec![TextEdit::delete(r)]),
            Err(EditError::Invalid(_))
        ));
    }

    #[test]
    fn line_range_and_indent() {
        let src = "def f(a):\n    x = 1\n    return x\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let first = &pf.def().body[0];
        assert_eq!(&src[pf.line_range(first)], "    x = 1\n");
        assert_eq!(pf.indent_at(first.start()), "    ");
    }

    #[test]
    fn keyword_parameters_leave_out_positional_only_and_star_parameters() {
        let pf =
            ParsedFunction::parse("def f(a, /, b, *args, c=1, **kwargs):\n    key = 1\n").unwrap();
        assert_eq!(pf.keyword_parameters(), vec!["b", "c"]);
    }

    #[test]
    fn call_keywords_follow_parameter_renames() {
        let renames = [("n", "v0"), ("xs", "v1")];
        let rename = |call: &str| rename_call_keywords(call, "f", &renames);
        assert_eq!(
            rename("f([1, 2], n=3, key=len)"),
            "f([1, 2], v0=3, key=len)"
        );
        assert_eq!(rename("f(xs=[], n=1)"), "f(v1=[], v0=1)");
        assert_eq!(rename("f(**{'n': 1})"), "f(**{'n': 1})");
        assert_eq!(rename("not a call("), "not a call(");
        // Inside a doctest's wrapper, and as a method; other calls keep theirs.
        assert_eq!(
            rename("list(f(range(3), n=2, key=g(n=1)))"),
            "list(f(range(3), v0=2, key=g(n=1)))"
        );
        assert_eq!(
            rename("Solution().f(xs=[1], n=0)"),
            "Solution().f(v1=[1], v0=0)"
        );
    }

    #[test]
    fn line_ownership_comments_and_multiline_strings() {
        let src = "def f(a):\n    x = 1  # one\n    y = 2; z = '''a\nb'''\n    if a: return x\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let body = &pf.def().body;
        assert!(pf.owns_lines(&body[0]));
        assert!(!pf.owns_lines(&body[1]) && pf.starts_line(&body[1]));
        assert!(!pf.starts_line(&body[2]));
        let Stmt::If(s) = &body[3] else { panic!() };
        assert!(!pf.starts_line(&s.body[0]));
        assert!(pf.has_comment_in(pf.line_range(&body[0])));
        assert!(!pf.has_comment_in(body[0].range()));
        assert!(pf.has_multiline_string_in(pf.line_range(&body[2])));
        assert!(!pf.has_multiline_string_in(pf.line_range(&body[0])));
        assert_eq!(pf.line_number(body[3].start()), 5);
    }

    #[test]
    fn renames_compose() {
        let v = Variant::original("def f(a): return a\n");
        let v = v.then("x".into(), "rename", &[("a".into(), "b".into())], "a→b");
        let v = v.then(
            "y".into(),
            "rename",
            &[("b".into(), "v0".into()), ("t".into(), "v1".into())],
            "",
        );
        assert_eq!(
            v.renames,
            vec![("a".into(), "v0".into()), ("t".into(), "v1".into())]
        );
        assert_eq!(v.kinds, vec!["rename", "rename"]);
    }
}

/// The body of the function in `source` as the code side of a text–code pair
/// (CodeSage's hard positive): without the signature and the docstring, each
/// `return X` turned into `X` (a bare `return` into `pass`), dedented. The
/// summary then cannot be matched by copying the docstring or the name.
/// `None` when the source does not parse or nothing is left.
pub fn body_for_text_pair(source: &str) -> Option<String> {
    use ruff_python_ast::statement_visitor::{walk_stmt, StatementVisitor};

    struct Returns(Vec<(TextRange, Option<TextRange>)>);
    impl StatementVisitor<'_> for Returns {
        fn visit_stmt(&mut self, stmt: &Stmt) {
            match stmt {
                Stmt::Return(r) => self
                    .0
                    .push((r.range(), r.value.as_ref().map(|v| v.range()))),
                // Returns of nested functions and classes belong to them.
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => walk_stmt(self, stmt),
            }
        }
    }

    let parsed = ParsedFunction::parse(source).ok()?;
    let def = parsed.def();
    let mut body: &[Stmt] = &def.body;
    if let Some(Stmt::Expr(e)) = body.first() {
        if e.value.is_string_literal_expr() {
            body = &body[1..];
        }
    }
    let (first, last) = (body.first()?, body.last()?);
    let mut returns = Returns(Vec::new());
    for stmt in body {
        returns.visit_stmt(stmt);
    }
    let start = parsed.line_start(first.range().start());
    let edits = returns
        .0
        .into_iter()
        .map(|(range, value)| {
            let replacement = value.map_or("pass", |v| &source[v]);
            TextEdit::replace(range, replacement)
        })
        .collect();
    let rewritten = apply_edits(source, edits).ok()?;
    // The edits only shrink text after `start`; find the body's end again by
    // how much the text shrank.
    let shrink = source.len() - rewritten.len();
    let end = last.range().end().to_usize() - shrink;
    let indent = parsed.indent_at(first.range().start()).len();
    let text: Vec<&str> = rewritten[start.to_usize()..end]
        .lines()
        .map(|l| {
            let width = l.len() - l.trim_start_matches([' ', '\t']).len();
            &l[width.min(indent)..]
        })
        .collect();
    let text = text.join("\n");
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod text_pair_tests {
    use super::body_for_text_pair;

    #[test]
    fn signature_docstring_and_returns_are_removed() {
        let code = "def area(r):\n    \"\"\"Area of a circle.\"\"\"\n    if r < 0:\n        return\n    x = 3.14 * r * r\n    return x  # done\n";
        assert_eq!(
            body_for_text_pair(code).unwrap(),
            "if r < 0:\n    pass\nx = 3.14 * r * r\nx"
        );
    }

    #[test]
    fn nested_function_returns_are_kept_and_empty_bodies_give_none() {
        let code = "def f(a):\n    def g(b):\n        return b\n    return g(a)\n";
        assert_eq!(
            body_for_text_pair(code).unwrap(),
            "def g(b):\n    return b\ng(a)"
        );
        assert_eq!(body_for_text_pair("def f():\n    \"\"\"Doc.\"\"\"\n"), None);
        assert_eq!(body_for_text_pair("def f(:\n"), None);
    }
}
