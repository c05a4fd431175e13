//! What the rewrites need to know about a function's names: which new names
//! are safe to introduce, and flattened facts about bindings that decide
//! whether a name can be unbound or shadowed where a rewrite reads it.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Pattern, Stmt, StmtFunctionDef};
use ruff_text_size::TextRange;

use crate::edit::ParsedFunction;
use crate::extract::{is_builtin, BUILTINS};

/// Python 3.13 keywords and soft keywords: never valid as new names.
pub(super) const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "_",
];

/// Module globals every module has: as good as builtins for shadowing.
const MODULE_DUNDERS: &[&str] = &["__builtins__", "__cached__", "__file__"];

static IDENTIFIER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\p{L}_][\p{L}\p{N}_]*").unwrap());

/// Every identifier-like word in `text`, strings and comments included: a
/// superset of the names the code uses, so avoiding it is always safe.
pub(super) fn words(text: &str) -> HashSet<String> {
    IDENTIFIER
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// Conventional names: never renamed, and never reused for something else.
pub(super) const CONVENTIONAL: &[&str] = &["self", "cls"];

/// Names a rewrite must not introduce, and a source of fresh ones.
pub(super) struct Taken(HashSet<String>);

impl Taken {
    /// Every word of `source`, every builtin and keyword.
    pub fn from_source(source: &str) -> Self {
        Taken::from_set(words(source))
    }

    /// `names`, every builtin and keyword.
    pub fn from_set(mut names: HashSet<String>) -> Self {
        // Builtins too: a new name must not shadow one the code (or a later
        // rewrite such as `for_to_while`'s `iter`/`next`) relies on.
        let reserved = KEYWORDS
            .iter()
            .chain(BUILTINS)
            .chain(MODULE_DUNDERS)
            .chain(CONVENTIONAL);
        names.extend(reserved.map(|s| s.to_string()));
        Taken(names)
    }

    /// Reserves `name` if it is free; says whether it was.
    pub fn claim(&mut self, name: &str) -> bool {
        self.0.insert(name.to_string())
    }

    /// Reserves and returns the first free `{stem}{n}`, n = 0, 1, ...
    pub fn fresh(&mut self, stem: &str) -> String {
        (0..)
            .map(|n| format!("{stem}{n}"))
            .find(|name| self.claim(name))
            .expect("unbounded")
    }
}

/// Flattened binding facts of the function (nested scopes merged), enough to
/// tell whether reading a name can fail and whether a builtin is shadowed.
#[derive(Default)]
pub(super) struct Facts {
    /// Parameters of the function itself.
    pub params: HashSet<String>,
    /// Every name bound anywhere inside (assigned, imported, defined, caught, deleted...).
    pub bound: HashSet<String>,
    /// Names bound inside nested functions, lambdas or comprehensions.
    pub nested_bound: HashSet<String>,
    /// Names mentioned inside nested functions or lambdas: a closure may see
    /// such a variable at any time.
    pub nested_used: HashSet<String>,
    /// Names appearing in `del`.
    pub deleted: HashSet<String>,
    /// Names declared `global` or `nonlocal` anywhere inside.
    pub declared: HashSet<String>,
    /// Locals whose textually first occurrence is a plain `name = value` directly
    /// in the function body: bound before any statement that can read them.
    pub assigned_first: HashSet<String>,
    /// Whether the function can see its own variables by name (`locals()`,
    /// `vars()`, `dir()`, `eval`, `exec`, frames): adding a local is then visible.
    pub introspects: bool,
}

impl Facts {
    pub fn new(pf: &ParsedFunction) -> Facts {
        let def = pf.def();
        let mut c = FactCollector::default();
        for p in def.parameters.iter() {
            c.facts.params.insert(p.name().to_string());
            c.bind(p.name().as_str());
        }
        c.visit_body(&def.body);
        let mut facts = c.facts;
        facts.assigned_first = assigned_first(pf, def, &facts.params);
        facts
    }

    /// Whether reading `name` anywhere in the function always finds it bound:
    /// a parameter or an [`Facts::assigned_first`] local that is never deleted,
    /// never shadowed by a nested scope and never declared global.
    pub fn definitely_bound(&self, name: &str) -> bool {
        (self.params.contains(name) || self.assigned_first.contains(name))
            && !self.deleted.contains(name)
            && !self.nested_bound.contains(name)
            && !self.declared.contains(name)
    }

    /// Whether assigning `name` is visible beyond the function's own frame
    /// right away: a global or nonlocal, or a variable a closure can read.
    pub fn shared(&self, name: &str) -> bool {
        self.declared.contains(name) || self.nested_used.contains(name)
    }

    /// Whether `name` refers to the builtin of that name (nothing inside rebinds it).
    pub fn is_builtin(&self, name: &str) -> bool {
        is_builtin(name) && !self.bound.contains(name) && !self.declared.contains(name)
    }
}

fn assigned_first(
    pf: &ParsedFunction,
    def: &StmtFunctionDef,
    params: &HashSet<String>,
) -> HashSet<String> {
    let mut seen: HashSet<String> = params.clone();
    let mut first = HashSet::new();
    for stmt in &def.body {
        if let Stmt::Assign(assign) = stmt {
            if let [Expr::Name(target)] = assign.targets.as_slice() {
                let name = target.id.as_str();
                if !seen.contains(name) && !words(pf.text(assign.value.as_ref())).contains(name) {
                    first.insert(name.to_string());
                }
            }
        }
        seen.extend(words(pf.text(stmt)));
    }
    first
}

#[derive(Default)]
struct FactCollector {
    facts: Facts,
    /// How many nested scopes (functions, lambdas, comprehensions) enclose the visit.
    depth: usize,
    /// How many of those are functions or lambdas.
    closure_depth: usize,
}

impl FactCollector {
    fn bind(&mut self, name: &str) {
        self.facts.bound.insert(name.to_string());
        if self.depth > 0 {
            self.facts.nested_bound.insert(name.to_string());
        }
        if self.closure_depth > 0 {
            self.facts.nested_used.insert(name.to_string());
        }
    }

    /// Runs `walk` one scope deeper; `closure` for functions and lambdas.
    fn nested(&mut self, closure: bool, walk: impl FnOnce(&mut Self)) {
        self.depth += 1;
        self.closure_depth += usize::from(closure);
        walk(self);
        self.depth -= 1;
        self.closure_depth -= usize::from(closure);
    }
}

/// Builtins that see or create variables by name.
pub(super) const INTROSPECTION: &[&str] = &["locals", "vars", "dir", "eval", "exec", "globals"];

/// Attributes that reach frames, whose `f_locals` expose variables by name.
pub(super) const FRAME_ACCESS: &[&str] = &["_getframe", "currentframe", "f_locals", "f_back"];

impl<'a> Visitor<'a> for FactCollector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.bind(def.name.as_str());
                self.nested(true, |c| {
                    for p in def.parameters.iter() {
                        c.bind(p.name().as_str());
                    }
                    visitor::walk_stmt(c, stmt);
                });
                return;
            }
            Stmt::ClassDef(class) => self.bind(class.name.as_str()),
            Stmt::Import(import) => {
                for alias in &import.names {
                    let local = match &alias.asname {
                        Some(a) => a.as_str(),
                        None => alias.name.as_str().split('.').next().unwrap_or_default(),
                    };
                    self.bind(local);
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    self.bind(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                }
            }
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                self.facts
                    .declared
                    .extend(names.iter().map(|n| n.to_string()));
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.facts.introspects |= match expr {
            Expr::Name(name) => {
                name.ctx == ExprContext::Load && INTROSPECTION.contains(&name.id.as_str())
            }
            Expr::Attribute(a) => FRAME_ACCESS.contains(&a.attr.as_str()),
            _ => false,
        };
        match expr {
            Expr::Name(name) if self.closure_depth > 0 && name.ctx == ExprContext::Load => {
                self.facts.nested_used.insert(name.id.to_string());
            }
            Expr::Name(name) => match name.ctx {
                ExprContext::Store => self.bind(&name.id),
                ExprContext::Del => {
                    self.bind(&name.id);
                    self.facts.deleted.insert(name.id.to_string());
                }
                _ => {}
            },
            Expr::Lambda(lambda) => {
                return self.nested(true, |c| {
                    for p in lambda.parameters.iter().flat_map(|p| p.iter()) {
                        c.bind(p.name().as_str());
                    }
                    visitor::walk_expr(c, expr);
                });
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                return self.nested(false, |c| visitor::walk_expr(c, expr));
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.bind(name.as_str());
        }
        visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        let name = match pattern {
            Pattern::MatchAs(p) => p.name.as_ref(),
            Pattern::MatchStar(p) => p.name.as_ref(),
            Pattern::MatchMapping(p) => p.rest.as_ref(),
            _ => None,
        };
        if let Some(name) = name {
            self.bind(name.as_str());
        }
        visitor::walk_pattern(self, pattern);
    }
}

/// Every name occurrence in the function (parameters included), and the
/// names that nested functions or lambdas mention.
pub(super) struct NameOccurrences {
    pub all: Vec<(String, TextRange)>,
    pub in_nested_scopes: HashSet<String>,
}

impl NameOccurrences {
    pub fn of(f: &ParsedFunction) -> Self {
        let def = f.def();
        let mut all: Vec<(String, TextRange)> = def
            .parameters
            .iter()
            .map(|p| (p.name().to_string(), p.name().range))
            .collect();
        let mut c = NameCollector::default();
        c.visit_body(&def.body);
        all.extend(c.occurrences);
        NameOccurrences {
            all,
            in_nested_scopes: c.in_nested_scopes,
        }
    }

    pub fn inside(&self, name: &str, range: TextRange) -> bool {
        self.all
            .iter()
            .any(|(n, r)| n == name && range.contains_range(*r))
    }

    pub fn outside(&self, name: &str, range: TextRange) -> bool {
        self.all
            .iter()
            .any(|(n, r)| n == name && !range.contains_range(*r))
    }
}

/// Name occurrences below what it visits. Identifiers that bind without an
/// `Expr::Name` (nested `def` names and parameters, `except ... as`, match
/// captures, imports, `global`) count as occurrences too.
#[derive(Default)]
pub(super) struct NameCollector {
    pub occurrences: Vec<(String, TextRange)>,
    /// Names mentioned inside nested functions and lambdas.
    pub in_nested_scopes: HashSet<String>,
    depth: usize,
}

impl NameCollector {
    fn push(&mut self, name: &str, range: TextRange) {
        self.occurrences.push((name.to_string(), range));
        if self.depth > 0 {
            self.in_nested_scopes.insert(name.to_string());
        }
    }
}

impl<'a> Visitor<'a> for NameCollector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.push(def.name.as_str(), def.name.range);
                self.depth += 1;
                for p in def.parameters.iter() {
                    self.push(p.name().as_str(), p.name().range);
                }
                visitor::walk_stmt(self, stmt);
                self.depth -= 1;
                return;
            }
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                for alias in names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    self.push(local.split('.').next().unwrap_or_default(), local.range);
                }
            }
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                for n in names {
                    self.push(n.as_str(), n.range);
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) if n.ctx != ExprContext::Invalid => self.push(&n.id, n.range),
            Expr::Lambda(l) => {
                self.depth += 1;
                for p in l.parameters.iter().flat_map(|p| p.iter()) {
                    self.push(p.name().as_str(), p.name().range);
                }
                visitor::walk_expr(self, expr);
                self.depth -= 1;
                return;
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.push(name.as_str(), name.range);
        }
        visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        let name = match pattern {
            Pattern::MatchAs(p) => p.name.as_ref(),
            Pattern::MatchStar(p) => p.name.as_ref(),
            Pattern::MatchMapping(p) => p.rest.as_ref(),
            _ => None,
        };
        if let Some(name) = name {
            self.push(name.as_str(), name.range);
        }
        visitor::walk_pattern(self, pattern);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_names_avoid_source_words_builtins_and_each_other() {
        let mut taken = Taken::from_source("def f(_it0):\n    return '_it1'\n");
        assert_eq!(taken.fresh("_it"), "_it2");
        assert_eq!(taken.fresh("_it"), "_it3");
        assert!(!taken.claim("len"));
        assert!(!taken.claim("match"));
    }

    #[test]
    fn definitely_bound_needs_a_first_plain_assignment() {
        let src = "def f(a, b):\n    n = len(a)\n    if b:\n        m = 1\n    k = k0 = 2\n    del b\n    g = lambda a: a\n    return n\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let facts = Facts::new(&pf);
        assert!(facts.definitely_bound("n"));
        assert!(!facts.definitely_bound("m"));
        assert!(!facts.definitely_bound("k"));
        assert!(!facts.definitely_bound("b"), "deleted");
        assert!(!facts.definitely_bound("a"), "shadowed by the lambda");
        assert!(facts.is_builtin("len"));
    }
}
