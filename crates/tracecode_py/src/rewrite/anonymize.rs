//! AdvTest-style anonymisation of a whole module, for evaluating clone
//! detectors on independently written programs: functions and methods become
//! `f0, f1, ...`, parameters and assigned names `v0, v1, ...` (in order of
//! first appearance), comments and docstrings are dropped. What is left for
//! an encoder to match is structure, literals, library calls and behaviour.
//!
//! Unlike [`super::ObfuscateNames`], which renames inside one function with
//! full scope resolution, this renames a name everywhere in the module by its
//! spelling: each name maps to one fresh name, so every reference still
//! finds its binding. Names whose spelling is observable elsewhere keep it:
//! builtins (a module may shadow one and use it elsewhere), imported names,
//! classes, names bound in a class body (they are attributes), dunders,
//! `self`/`cls`, and methods reached as an attribute of anything but
//! `self`/`cls` (`node.insert` may be `list.insert`).

use std::collections::{HashMap, HashSet};

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Identifier, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::names::{words, Taken, CONVENTIONAL};
use crate::edit::{apply_edits, EditError, TextEdit};
use crate::extract::is_builtin;

/// `source` with its identifiers anonymised and comments and docstrings
/// removed; an error when it does not parse.
pub fn anonymize_module(source: &str) -> Result<String, EditError> {
    let parsed =
        ruff_python_parser::parse_module(source).map_err(|e| EditError::BadInput(e.to_string()))?;
    let mut c = Collector::default();
    c.note_docstring(&parsed.syntax().body);
    c.visit_body(&parsed.syntax().body);
    let mut taken = Taken::from_set(words(source));
    let mut new_name: HashMap<&str, String> = HashMap::new();
    let mut order: Vec<(TextSize, &str, bool)> = c
        .first_seen
        .iter()
        .map(|(name, (at, is_def))| (*at, name.as_str(), *is_def))
        .collect();
    order.sort();
    for (_, name, is_def) in order {
        let fixed = c.fixed.contains(name)
            || (is_def && c.foreign_attributes.contains(name))
            || CONVENTIONAL.contains(&name)
            || is_builtin(name)
            || name.starts_with("__");
        if !fixed {
            new_name.insert(name, taken.fresh(if is_def { "f" } else { "v" }));
        }
    }
    let mut edits: Vec<TextEdit> = Vec::new();
    for (range, name) in &c.sites {
        if let Some(new) = new_name.get(name.as_str()) {
            edits.push(TextEdit::replace(*range, new.clone()));
        }
    }
    for (range, attr) in &c.method_attributes {
        if c.defs.contains(attr) {
            if let Some(new) = new_name.get(attr.as_str()) {
                edits.push(TextEdit::replace(*range, new.clone()));
            }
        }
    }
    for (range, callee, keyword) in &c.keywords {
        if c.defs.contains(callee) || c.classes.contains(callee) {
            if let Some(new) = new_name.get(keyword.as_str()) {
                edits.push(TextEdit::replace(*range, new.clone()));
            }
        }
    }
    for (docstring, alone) in &c.docstrings {
        edits.push(if *alone {
            TextEdit::replace(*docstring, "pass")
        } else {
            TextEdit::delete(whole_lines(source, *docstring))
        });
    }
    for token in parsed.tokens().iter() {
        if token.kind() == TokenKind::Comment {
            edits.push(TextEdit::delete(comment_span(source, token.range())));
        }
    }
    apply_edits(source, edits)
}

/// `range` widened to its whole lines (newline included) when nothing else
/// shares them, so a removed docstring leaves no blank line.
fn whole_lines(source: &str, range: TextRange) -> TextRange {
    let (start, end) = (range.start().to_usize(), range.end().to_usize());
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let rest = &source[end..];
    let line_end = rest.find('\n').map_or(source.len(), |i| end + i + 1);
    let blank = |s: &str| {
        s.chars()
            .all(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';')
    };
    if blank(&source[line_start..start]) && blank(&source[end..line_end]) {
        TextRange::new(
            TextSize::try_from(line_start).expect("source fits u32"),
            TextSize::try_from(line_end).expect("source fits u32"),
        )
    } else {
        range
    }
}

/// A comment with the spaces before it; its whole line when it stands alone.
fn comment_span(source: &str, range: TextRange) -> TextRange {
    let start = range.start().to_usize();
    let before = source[..start].trim_end_matches([' ', '\t']).len();
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    if before <= line_start {
        return whole_lines(source, range);
    }
    TextRange::new(
        TextSize::try_from(before).expect("source fits u32"),
        range.end(),
    )
}

#[derive(Default)]
struct Collector {
    /// Renamable candidates: where each is first seen, and whether a `def` binds it.
    first_seen: HashMap<String, (TextSize, bool)>,
    /// Every occurrence of a name (bindings and uses).
    sites: Vec<(TextRange, String)>,
    /// Names that keep their spelling.
    fixed: HashSet<String>,
    defs: HashSet<String>,
    classes: HashSet<String>,
    /// `self.X` / `cls.X`: renamed with the method `X`.
    method_attributes: Vec<(TextRange, String)>,
    /// Attributes reached on anything but `self`/`cls`.
    foreign_attributes: HashSet<String>,
    /// Keyword arguments: (range, callee name, keyword).
    keywords: Vec<(TextRange, String, String)>,
    /// Docstring statements, and whether each is its body's only statement.
    docstrings: Vec<(TextRange, bool)>,
    /// Whether we are directly in a class body (not in one of its methods).
    class_body: bool,
}

impl Collector {
    fn bind(&mut self, name: &str, range: TextRange, is_def: bool) {
        let entry = self
            .first_seen
            .entry(name.to_string())
            .or_insert((range.start(), is_def));
        entry.0 = entry.0.min(range.start());
        entry.1 |= is_def;
        if self.class_body {
            self.fixed.insert(name.to_string());
        }
        self.sites.push((range, name.to_string()));
    }

    fn bind_identifier(&mut self, id: &Identifier, is_def: bool) {
        self.bind(id.as_str(), id.range(), is_def);
    }

    fn note_docstring(&mut self, body: &[Stmt]) {
        if let Some(Stmt::Expr(e)) = body.first() {
            if e.value.is_string_literal_expr() {
                self.docstrings.push((e.range(), body.len() == 1));
            }
        }
    }

    fn in_function(&mut self, walk: impl FnOnce(&mut Self)) {
        let outer = std::mem::replace(&mut self.class_body, false);
        walk(self);
        self.class_body = outer;
    }

    fn visit_parameters_as_bindings(&mut self, parameters: &ast::Parameters) {
        for p in parameters.iter() {
            self.bind_identifier(p.name(), false);
        }
    }
}

impl<'a> Visitor<'a> for Collector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                for p in def.parameters.iter() {
                    if let Some(default) = p.default() {
                        self.visit_expr(default);
                    }
                    if let Some(annotation) = p.annotation() {
                        self.visit_expr(annotation);
                    }
                }
                if let Some(returns) = &def.returns {
                    self.visit_expr(returns);
                }
                self.defs.insert(def.name.to_string());
                // A method too is renamed (with its `self.X` uses), unlike
                // other names bound in a class body.
                self.in_function(|c| c.bind_identifier(&def.name, true));
                self.note_docstring(&def.body);
                self.in_function(|c| {
                    c.visit_parameters_as_bindings(&def.parameters);
                    c.visit_body(&def.body);
                });
            }
            Stmt::ClassDef(class) => {
                for decorator in &class.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                self.classes.insert(class.name.to_string());
                self.fixed.insert(class.name.to_string());
                self.note_docstring(&class.body);
                let outer = std::mem::replace(&mut self.class_body, true);
                self.visit_body(&class.body);
                self.class_body = outer;
            }
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                for alias in names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    let local = local.split('.').next().unwrap_or_default();
                    self.fixed.insert(local.to_string());
                }
            }
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                for name in names {
                    self.sites.push((name.range(), name.to_string()));
                }
            }
            Stmt::Try(t) => {
                for handler in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    if let Some(name) = &h.name {
                        self.bind_identifier(name, false);
                    }
                }
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => {
                if matches!(name.ctx, ExprContext::Store | ExprContext::Del) {
                    self.bind(&name.id, name.range, false);
                } else {
                    self.sites.push((name.range, name.id.to_string()));
                }
            }
            Expr::Attribute(attribute) => {
                let on_self = attribute
                    .value
                    .as_name_expr()
                    .is_some_and(|n| CONVENTIONAL.contains(&n.id.as_str()));
                if on_self {
                    self.method_attributes
                        .push((attribute.attr.range(), attribute.attr.to_string()));
                } else {
                    self.foreign_attributes.insert(attribute.attr.to_string());
                }
                self.visit_expr(&attribute.value);
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    for p in parameters.iter() {
                        if let Some(default) = p.default() {
                            self.visit_expr(default);
                        }
                    }
                    self.visit_parameters_as_bindings(parameters);
                }
                self.visit_expr(&lambda.body);
            }
            Expr::Call(call) => {
                let callee = match call.func.as_ref() {
                    Expr::Name(n) => Some(n.id.to_string()),
                    Expr::Attribute(a) => Some(a.attr.to_string()),
                    _ => None,
                };
                if let Some(callee) = callee {
                    for keyword in &call.arguments.keywords {
                        if let Some(arg) = &keyword.arg {
                            self.keywords
                                .push((arg.range(), callee.clone(), arg.to_string()));
                        }
                    }
                }
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_methods_parameters_and_locals_and_drops_comments() {
        let src = r#"# Time: O(n)
class Solution(object):
    def twoSum(self, nums, target):
        """
        :type nums: List[int]
        """
        seen = {}  # value -> index
        for i, num in enumerate(nums):
            if target - num in seen:
                return [seen[target - num], i]
            seen[num] = i
        return self.helper(nums, k=target)

    def helper(self, nums, k=0):
        return sorted(nums, key=lambda x: -x)[k]
"#;
        let out = anonymize_module(src).unwrap();
        let expected = r#"class Solution(object):
    def f0(self, v0, v1):
        v2 = {}
        for v3, v4 in enumerate(v0):
            if v1 - v4 in v2:
                return [v2[v1 - v4], v3]
            v2[v4] = v3
        return self.f1(v0, v5=v1)

    def f1(self, v0, v5=0):
        return sorted(v0, key=lambda v6: -v6)[v5]
"#;
        assert_eq!(out, expected);
    }

    #[test]
    fn keeps_names_whose_spelling_is_observable() {
        let src = "import heapq as hq
from math import inf
class Node:
    size = 0
    def __init__(self, val):
        self.val = val
    def insert(self, x):
        return x

def build(items):
    max = 3
    node = Node(val=items[0])
    node.insert(1)
    return hq.nlargest(max, items), inf, Node.size
";
        let out = anonymize_module(src).unwrap();
        // Builtins, imports, classes, class attributes, dunders, and a
        // method reached on a non-self object keep their spelling; a
        // constructor's keyword follows its renamed parameter.
        for kept in [
            "hq", "inf", "Node", "size", "__init__", "insert", "max", "self.val",
        ] {
            assert!(out.contains(kept), "{kept} lost in\n{out}");
        }
        assert!(out.contains("def f0(v2):"), "{out}");
        assert!(out.contains("Node(v0=v2[0])"), "{out}");
        assert!(out.contains("def __init__(self, v0):"), "{out}");
    }

    #[test]
    fn a_docstring_alone_in_its_body_becomes_pass() {
        let out = anonymize_module("def f(a):\n    \"\"\"Doc.\"\"\"\n").unwrap();
        assert_eq!(out, "def f0(v0):\n    pass\n");
    }

    #[test]
    fn globals_nonlocals_and_exception_names_follow() {
        let src = "total = 0
def add(n):
    global total
    try:
        total += n
    except ValueError as err:
        raise err
";
        let out = anonymize_module(src).unwrap();
        assert_eq!(
            out,
            "v0 = 0
def f0(v1):
    global v0
    try:
        v0 += v1
    except ValueError as v2:
        raise v2
"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            anonymize_module("def f(:\n"),
            Err(EditError::BadInput(_))
        ));
    }
}
