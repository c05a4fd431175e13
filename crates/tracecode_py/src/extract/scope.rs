//! Free-name analysis of a function (or any statement): which names it reads
//! that it does not bind itself, and which dotted attribute chains it reads
//! from them (`os.path.join`), so that imports can be judged by what is used.
//!
//! Scoping is deliberately flattened: a name bound anywhere inside the function
//! (including nested functions, lambdas and comprehensions) counts as local.
//! That can only hide a free name shadowed in a nested scope, which is rare and
//! errs on the side of calling a function self-contained *less* often than
//! Python would not: the standalone check is a filter, and the tracer is the
//! judge of what really runs.

use std::collections::BTreeSet;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Pattern, Stmt};

/// What a piece of code reads from and binds into its enclosing namespaces.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NameUses {
    /// Names read but never bound inside, in sorted order.
    pub free: BTreeSet<String>,
    /// Every dotted chain rooted at a free name, e.g. `os.path.join`, plus bare free names.
    pub chains: BTreeSet<String>,
    /// Every name read, bound inside or not (to tell whether `self` is used).
    pub reads: BTreeSet<String>,
    /// Names declared `global` inside.
    pub globals_declared: BTreeSet<String>,
    /// Whether the code contains `yield` / `yield from`.
    pub yields: bool,
}

/// Collects free names of a function: parameters are bound, the body is walked.
pub fn function_uses(def: &ast::StmtFunctionDef) -> NameUses {
    let mut c = Collector::default();
    // Decorators, defaults and annotations are evaluated in the enclosing scope.
    for d in &def.decorator_list {
        c.visit_expr(&d.expression);
    }
    for p in def.parameters.iter() {
        c.bound.insert(p.name().to_string());
        if let Some(d) = p.default() {
            c.visit_expr(d);
        }
        if let Some(a) = p.annotation() {
            c.visit_expr(a);
        }
    }
    if let Some(r) = &def.returns {
        c.visit_expr(r);
    }
    c.visit_body(&def.body);
    c.finish()
}

/// Collects free names of arbitrary module-level statements (helpers, constants, classes).
pub fn stmt_uses(stmt: &Stmt) -> NameUses {
    let mut c = Collector::default();
    match stmt {
        Stmt::FunctionDef(def) => return function_uses(def),
        // A class body's own names are class attributes: reading them from methods is
        // via `self`, so binding them here is the right approximation.
        _ => c.visit_stmt(stmt),
    }
    // The statement's own binding (e.g. `X = 1`, `class C`) is not a use.
    c.finish()
}

#[derive(Default)]
struct Collector {
    bound: BTreeSet<String>,
    loaded: Vec<String>,
    chains: Vec<String>,
    globals_declared: BTreeSet<String>,
    yields: bool,
}

impl Collector {
    fn finish(self) -> NameUses {
        let reads: BTreeSet<String> = self.loaded.into_iter().collect();
        let free: BTreeSet<String> = reads
            .iter()
            .filter(|n| !self.bound.contains(*n) || self.globals_declared.contains(*n))
            .cloned()
            .collect();
        let chains = self
            .chains
            .into_iter()
            .filter(|c| free.contains(c.split('.').next().unwrap_or(c)))
            .collect();
        NameUses {
            free,
            chains,
            reads,
            globals_declared: self.globals_declared,
            yields: self.yields,
        }
    }

    fn bind(&mut self, name: &str) {
        self.bound.insert(name.to_string());
    }
}

/// `a.b.c` for an attribute chain rooted at a plain name; `None` otherwise.
pub fn dotted_chain(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => {
            dotted_chain(&a.value).map(|base| format!("{base}.{}", a.attr.as_str()))
        }
        _ => None,
    }
}

impl<'a> Visitor<'a> for Collector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.bind(def.name.as_str());
                for p in def.parameters.iter() {
                    self.bind(p.name().as_str());
                }
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
            Stmt::Global(g) => {
                for n in &g.names {
                    self.globals_declared.insert(n.to_string());
                }
            }
            Stmt::Nonlocal(n) => {
                for name in &n.names {
                    self.bind(name.as_str());
                }
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => match name.ctx {
                ExprContext::Load => {
                    self.loaded.push(name.id.to_string());
                    self.chains.push(name.id.to_string());
                }
                ExprContext::Store | ExprContext::Del => self.bind(&name.id),
                ExprContext::Invalid => {}
            },
            Expr::Attribute(_) => {
                if let Some(chain) = dotted_chain(expr) {
                    self.chains.push(chain);
                }
            }
            Expr::Lambda(lambda) => {
                if let Some(params) = &lambda.parameters {
                    for p in params.iter() {
                        self.bind(p.name().as_str());
                    }
                }
            }
            Expr::Yield(_) | Expr::YieldFrom(_) => self.yields = true,
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
        match pattern {
            Pattern::MatchAs(p) => {
                if let Some(n) = &p.name {
                    self.bind(n.as_str());
                }
            }
            Pattern::MatchStar(p) => {
                if let Some(n) = &p.name {
                    self.bind(n.as_str());
                }
            }
            Pattern::MatchMapping(p) => {
                if let Some(n) = &p.rest {
                    self.bind(n.as_str());
                }
            }
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }
}

/// Names bound as comprehension targets anywhere in `source` (`x` in
/// `[x * 2 for x in xs]`). Python scopes them to the comprehension, although
/// CPython 3.12+ inlines comprehensions and a tracer sees them in the
/// function's frame: trace comparisons leave them out. Empty when `source`
/// does not parse.
pub fn comprehension_variables(source: &str) -> BTreeSet<String> {
    struct Targets(BTreeSet<String>);
    impl<'a> Visitor<'a> for Targets {
        fn visit_comprehension(&mut self, c: &'a ast::Comprehension) {
            let mut names = vec![&c.target];
            while let Some(target) = names.pop() {
                match target {
                    Expr::Name(n) => {
                        self.0.insert(n.id.to_string());
                    }
                    Expr::Tuple(t) => names.extend(t.elts.iter()),
                    Expr::List(l) => names.extend(l.elts.iter()),
                    Expr::Starred(s) => names.push(&s.value),
                    _ => {}
                }
            }
            visitor::walk_comprehension(self, c);
        }
    }
    let Ok(parsed) = ruff_python_parser::parse_module(source) else {
        return BTreeSet::new();
    };
    let mut targets = Targets(BTreeSet::new());
    targets.visit_body(&parsed.syntax().body);
    targets.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses_of(src: &str) -> NameUses {
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        match &parsed.syntax().body[0] {
            Stmt::FunctionDef(def) => function_uses(def),
            other => stmt_uses(other),
        }
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn params_locals_and_comprehension_targets_are_bound() {
        let u = uses_of(
            "def f(a, *args, b=DEFAULT, **kw):\n    x = [i * a for i in range(n)]\n    for j, k in kw.items():\n        x.append(j)\n    return helper(x, os.path.join('a', 'b'))\n",
        );
        assert_eq!(u.free, set(&["DEFAULT", "helper", "n", "os", "range"]));
        assert!(u.chains.contains("os.path.join"));
        assert!(!u.yields);
    }

    #[test]
    fn except_match_with_walrus_and_imports_bind() {
        let u = uses_of(
            "def g(v):\n    import re\n    from math import sqrt as s\n    try:\n        pass\n    except ValueError as e:\n        print(e)\n    match v:\n        case [first, *rest]:\n            return first, rest\n        case {'k': w, **others}:\n            return w, others\n    if (m := re.match('a', v)):\n        return s(m)\n    yield\n",
        );
        assert_eq!(u.free, set(&["ValueError", "print"]));
        assert!(u.yields);
    }

    #[test]
    fn global_declaration_keeps_name_free() {
        let u = uses_of("def h():\n    global COUNT\n    COUNT = COUNT + 1\n");
        assert_eq!(u.free, set(&["COUNT"]));
        assert_eq!(u.globals_declared, set(&["COUNT"]));
    }

    #[test]
    fn lambda_params_and_nested_defs_are_local() {
        let u = uses_of("def k(xs):\n    def inner(y):\n        return y + z\n    return sorted(xs, key=lambda t: inner(t))\n");
        assert_eq!(u.free, set(&["sorted", "z"]));
    }

    #[test]
    fn module_statement_uses() {
        let u = uses_of("PATTERN = re.compile(BASE + '+')\n");
        assert_eq!(u.free, set(&["BASE", "re"]));
        assert!(u.chains.contains("re.compile"));
    }

    #[test]
    fn comprehension_targets_are_found_at_any_depth() {
        let names = comprehension_variables(
            "def f(xs):\n    y = [a for a in xs]\n    return {k: v for (k, [v, *w]) in y if k}, sum(i for i in range(3))\n",
        );
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(names, ["a", "i", "k", "v", "w"]);
        assert!(comprehension_variables("def (").is_empty());
    }
}
