//! What evaluating code can do, judged conservatively: which names it reads
//! and writes, whether it can have side effects, whether it can raise, and
//! whether a value is certainly a number. Rewrites that reorder evaluation or
//! swap an operator for its expanded form are only safe when these say so.

use std::collections::HashSet;

use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Number, Operator, Pattern, Stmt, UnaryOp};
use ruff_text_size::Ranged;

use super::names::Facts;

/// Builtins without side effects on anything but (see [`CONSUMING`]) their
/// arguments; calls to them without keyword arguments are treated as pure
/// when they are not shadowed.
const PURE_BUILTINS: &[&str] = &[
    "len",
    "abs",
    "min",
    "max",
    "int",
    "float",
    "str",
    "bool",
    "tuple",
    "list",
    "dict",
    "set",
    "frozenset",
    "range",
    "sorted",
    "sum",
    "isinstance",
    "ord",
    "chr",
    "repr",
];

/// Pure builtins that iterate their arguments: given an iterator, they use it up.
const CONSUMING: &[&str] = &[
    "min",
    "max",
    "tuple",
    "list",
    "dict",
    "set",
    "frozenset",
    "sorted",
    "sum",
];

/// Builtins that cannot fail when called with no arguments.
const EMPTY_CONSTRUCTORS: &[&str] = &[
    "list",
    "dict",
    "set",
    "frozenset",
    "tuple",
    "str",
    "int",
    "float",
    "bool",
];

/// Builtins that return an `int` or `float` (or raise) whatever they are given.
const NUMERIC_BUILTINS: &[&str] = &["len", "int", "float", "ord"];

/// What executing a statement or evaluating an expression does.
#[derive(Debug, Default)]
pub(super) struct Effects {
    pub reads: HashSet<String>,
    /// Names rebound, plus names whose object may be consumed or mutated.
    pub writes: HashSet<String>,
    /// Anything beyond reading and binding local names: calls, stores into
    /// objects, `yield`, `await`, ...
    pub impure: bool,
    pub may_raise: bool,
}

impl Effects {
    /// Effects of a plain assignment (`name = value`, `a, b = value`,
    /// `name: T = value`); `None` for any other statement.
    pub fn of_assignment(stmt: &Stmt, facts: &Facts) -> Option<Effects> {
        let (targets, value): (Vec<&Expr>, &Expr) = match stmt {
            Stmt::Assign(a) => (a.targets.iter().collect(), &a.value),
            Stmt::AnnAssign(a) => (vec![a.target.as_ref()], a.value.as_deref()?),
            _ => return None,
        };
        let mut e = Effects::default();
        e.expr(value, facts);
        let unpacks = targets.iter().any(|t| !t.is_name_expr());
        for target in targets {
            e.expr(target, facts);
        }
        if unpacks {
            // Unpacking iterates the value (using up an iterator) and can fail.
            e.may_raise = true;
            e.writes.extend(e.reads.iter().cloned());
        }
        Some(e)
    }

    /// Effects of evaluating `expr` alone.
    pub fn of_expr(expr: &Expr, facts: &Facts) -> Effects {
        let mut e = Effects::default();
        e.expr(expr, facts);
        e
    }

    /// Whether running `self` and `other` in either order is the same:
    /// neither touches what the other reads or writes, neither has side
    /// effects, and at most one can raise (so the same exception, if any,
    /// escapes either way; callers make sure none is caught in between).
    pub fn commutes_with(&self, other: &Effects) -> bool {
        let pure = !self.impure && !other.impure;
        let one_may_raise = !self.may_raise || !other.may_raise;
        pure && one_may_raise
            && self.writes.is_disjoint(&other.reads)
            && self.writes.is_disjoint(&other.writes)
            && other.writes.is_disjoint(&self.reads)
    }

    fn expr(&mut self, expr: &Expr, facts: &Facts) {
        match expr {
            Expr::Name(n) => match n.ctx {
                ExprContext::Load => {
                    self.reads.insert(n.id.to_string());
                    self.may_raise |= !facts.definitely_bound(&n.id);
                }
                ExprContext::Store => {
                    self.writes.insert(n.id.to_string());
                    self.impure |= facts.shared(&n.id);
                }
                _ => self.impure = true,
            },
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_) => {}
            Expr::List(ast::ExprList { elts, .. }) | Expr::Tuple(ast::ExprTuple { elts, .. }) => {
                for elt in elts {
                    self.expr(elt, facts);
                }
            }
            Expr::Starred(s) => {
                self.consume(&s.value, facts);
                self.may_raise = true;
            }
            Expr::Set(ast::ExprSet { elts, .. }) => {
                for elt in elts {
                    self.expr(elt, facts);
                    self.may_raise |= !is_hashable_literal(elt);
                }
            }
            Expr::Dict(d) => {
                for item in &d.items {
                    match &item.key {
                        Some(key) => {
                            self.expr(key, facts);
                            self.may_raise |= !is_hashable_literal(key);
                        }
                        None => self.may_raise = true,
                    }
                    self.expr(&item.value, facts);
                }
            }
            Expr::UnaryOp(u) => {
                self.expr(&u.operand, facts);
                let negated_number = matches!(u.op, UnaryOp::USub | UnaryOp::UAdd)
                    && u.operand.is_number_literal_expr();
                self.may_raise |= !negated_number;
            }
            Expr::Call(call) => {
                let builtin = match call.func.as_ref() {
                    Expr::Name(f) if facts.is_builtin(&f.id) => Some(f.id.as_str()),
                    _ => None,
                };
                match builtin {
                    // Keyword arguments (`key=`, `default=`, `**kw`) may be
                    // callables the builtin calls: not pure then.
                    Some(f) if PURE_BUILTINS.contains(&f) && call.arguments.keywords.is_empty() => {
                        let no_args = call.arguments.args.is_empty();
                        self.may_raise |= !(no_args && EMPTY_CONSTRUCTORS.contains(&f));
                        for arg in call.arguments.args.iter() {
                            if CONSUMING.contains(&f) {
                                self.consume(arg, facts);
                            } else {
                                self.expr(arg, facts);
                            }
                        }
                    }
                    _ => {
                        self.impure = true;
                        self.walk_children(expr, facts);
                    }
                }
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                // Iterating uses up iterators; comprehension variables are
                // counted as writes, which only makes conflicts more likely.
                let mut inner = Effects::default();
                inner.walk_children(expr, facts);
                self.consumed(inner);
                self.may_raise = true;
            }
            Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) => {
                self.impure = true;
                self.walk_children(expr, facts);
            }
            Expr::Attribute(a) if a.ctx != ExprContext::Load => {
                self.impure = true;
                self.walk_children(expr, facts);
            }
            Expr::Subscript(s) if s.ctx != ExprContext::Load => {
                self.impure = true;
                self.walk_children(expr, facts);
            }
            _ => {
                self.may_raise = true;
                self.walk_children(expr, facts);
            }
        }
    }

    /// Like [`Effects::expr`], but every name read may also be used up.
    fn consume(&mut self, expr: &Expr, facts: &Facts) {
        let mut inner = Effects::default();
        inner.expr(expr, facts);
        self.consumed(inner);
    }

    /// Takes in `inner`, whose reads may also have been used up.
    fn consumed(&mut self, inner: Effects) {
        self.writes.extend(inner.reads.iter().cloned());
        self.absorb(inner);
    }

    fn absorb(&mut self, other: Effects) {
        self.reads.extend(other.reads);
        self.writes.extend(other.writes);
        self.impure |= other.impure;
        self.may_raise |= other.may_raise;
    }

    fn walk_children(&mut self, expr: &Expr, facts: &Facts) {
        struct Children<'f> {
            facts: &'f Facts,
            effects: Effects,
        }
        impl<'a> Visitor<'a> for Children<'_> {
            fn visit_expr(&mut self, expr: &'a Expr) {
                self.effects.expr(expr, self.facts);
            }
        }
        let mut children = Children {
            facts,
            effects: Effects::default(),
        };
        walk_expr(&mut children, expr);
        self.absorb(children.effects);
    }
}

fn is_hashable_literal(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
    )
}

/// Locals that only ever hold an `int`, `float` or `bool`: every binding of
/// the name anywhere in the function assigns a [`Numeric::is_numeric`]
/// value. Found as the greatest fixed point, so counters that feed each
/// other (`i += step`) qualify. Parameters never do: callers pass anything.
pub(super) struct Numeric<'f> {
    facts: &'f Facts,
    names: HashSet<String>,
}

impl<'f> Numeric<'f> {
    pub fn new(def: &ast::StmtFunctionDef, facts: &'f Facts) -> Self {
        let mut bindings = Bindings {
            range_is_builtin: facts.is_builtin("range"),
            ..Bindings::default()
        };
        bindings.visit_body(&def.body);
        let mut numeric = Numeric {
            facts,
            names: facts
                .bound
                .iter()
                .filter(|n| !facts.params.contains(*n) && !facts.declared.contains(*n))
                .filter(|n| !facts.nested_bound.contains(*n) && !bindings.opaque.contains(*n))
                .cloned()
                .collect(),
        };
        loop {
            let failing: Vec<String> = bindings
                .values
                .iter()
                .filter(|(name, value)| numeric.names.contains(name) && !numeric.is_numeric(value))
                .map(|(name, _)| name.clone())
                .collect();
            if failing.is_empty() {
                return numeric;
            }
            for name in failing {
                numeric.names.remove(&name);
            }
        }
    }

    /// Whether `expr` certainly evaluates to an `int`, `float` or `bool` (if
    /// it evaluates at all).
    pub fn is_numeric(&self, expr: &Expr) -> bool {
        match expr {
            Expr::NumberLiteral(n) => matches!(n.value, Number::Int(_) | Number::Float(_)),
            Expr::BooleanLiteral(_) => true,
            Expr::Name(n) => self.names.contains(n.id.as_str()),
            Expr::UnaryOp(u) => {
                matches!(u.op, UnaryOp::USub | UnaryOp::UAdd) && self.is_numeric(&u.operand)
            }
            Expr::BinOp(b) => {
                is_arithmetic(b.op) && self.is_numeric(&b.left) && self.is_numeric(&b.right)
            }
            Expr::Call(c) => matches!(
                c.func.as_ref(),
                Expr::Name(f) if NUMERIC_BUILTINS.contains(&f.id.as_str()) && self.facts.is_builtin(&f.id)
            ),
            _ => false,
        }
    }
}

/// The operators that keep numbers numbers and have no in-place variant on
/// `int`/`float` (so `x op= e` and `x = x op e` agree).
pub(super) fn is_arithmetic(op: Operator) -> bool {
    matches!(
        op,
        Operator::Add
            | Operator::Sub
            | Operator::Mult
            | Operator::Div
            | Operator::FloorDiv
            | Operator::Mod
            | Operator::Pow
    )
}

/// Every binding in the function, as the value bound where that is a simple
/// expression; `opaque` holds names bound any other way. (Bindings inside
/// nested scopes are seen too; callers drop names bound there.)
#[derive(Default)]
struct Bindings {
    values: Vec<(String, Expr)>,
    opaque: HashSet<String>,
    range_is_builtin: bool,
}

impl<'a> Visitor<'a> for Bindings {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(ast::StmtFunctionDef { name, .. })
            | Stmt::ClassDef(ast::StmtClassDef { name, .. }) => {
                self.opaque.insert(name.to_string());
            }
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                for alias in names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    self.opaque
                        .insert(local.split('.').next().unwrap_or_default().to_string());
                }
            }
            Stmt::Assign(a) if a.targets.len() == 1 && a.targets[0].is_name_expr() => {
                let name = a.targets[0].as_name_expr().unwrap().id.to_string();
                self.values.push((name, (*a.value).clone()));
                return self.visit_expr(&a.value);
            }
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(value),
                ..
            }) if target.is_name_expr() => {
                let name = target.as_name_expr().unwrap().id.to_string();
                self.values.push((name, (**value).clone()));
                return self.visit_expr(value);
            }
            Stmt::AugAssign(a) if a.target.is_name_expr() && is_arithmetic(a.op) => {
                let name = a.target.as_name_expr().unwrap();
                // `x op= e` binds `x op e`, numeric when both are.
                let value = Expr::BinOp(ast::ExprBinOp {
                    node_index: Default::default(),
                    range: a.range,
                    left: Box::new(Expr::Name(ast::ExprName {
                        ctx: ExprContext::Load,
                        ..name.clone()
                    })),
                    op: a.op,
                    right: a.value.clone(),
                });
                self.values.push((name.id.to_string(), value));
                return self.visit_expr(&a.value);
            }
            Stmt::For(f)
                if f.target.is_name_expr() && self.range_is_builtin && is_range_call(&f.iter) =>
            {
                let name = f.target.as_name_expr().unwrap().id.to_string();
                let zero = Expr::NumberLiteral(ast::ExprNumberLiteral {
                    node_index: Default::default(),
                    range: f.target.range(),
                    value: Number::Int(ast::Int::ZERO),
                });
                self.values.push((name, zero));
                self.visit_expr(&f.iter);
                self.visit_body(&f.body);
                return self.visit_body(&f.orelse);
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr {
            if n.ctx != ExprContext::Load {
                self.opaque.insert(n.id.to_string());
            }
        }
        walk_expr(self, expr);
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.opaque.insert(name.to_string());
        }
        ruff_python_ast::visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        let name = match pattern {
            Pattern::MatchAs(p) => p.name.as_ref(),
            Pattern::MatchStar(p) => p.name.as_ref(),
            Pattern::MatchMapping(p) => p.rest.as_ref(),
            _ => None,
        };
        if let Some(name) = name {
            self.opaque.insert(name.to_string());
        }
        ruff_python_ast::visitor::walk_pattern(self, pattern);
    }
}

/// `range(...)`, the builtin when `Bindings::range_is_builtin` says so.
fn is_range_call(expr: &Expr) -> bool {
    matches!(expr, Expr::Call(c) if matches!(c.func.as_ref(), Expr::Name(f) if f.id.as_str() == "range"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::ParsedFunction;

    fn stmt_effects(src: &str, index: usize) -> Effects {
        let pf = ParsedFunction::parse(src).unwrap();
        let facts = Facts::new(&pf);
        Effects::of_assignment(&pf.def().body[index], &facts).unwrap()
    }

    #[test]
    fn effects_of_assignments() {
        let src = "def f(a, it):\n    x = 0\n    n = len(a)\n    m = list(it)\n    y = g(a)\n    p, q = a\n";
        let x = stmt_effects(src, 0);
        assert!(!x.may_raise && !x.impure);
        let n = stmt_effects(src, 1);
        assert!(n.may_raise && !n.impure && n.writes.len() == 1);
        assert!(x.commutes_with(&n));
        let m = stmt_effects(src, 2);
        assert!(m.writes.contains("it"), "list() uses up an iterator");
        assert!(stmt_effects(src, 3).impure);
        assert!(stmt_effects(src, 4).writes.contains("a"));
        let shared = "def f(a):\n    global g\n    g = 1\n    h = 2\n    k = lambda: h\n";
        assert!(
            stmt_effects(shared, 1).impure,
            "a global is visible outside"
        );
        assert!(stmt_effects(shared, 2).impure, "a closure reads h");
    }

    #[test]
    fn numeric_locals_are_a_fixed_point() {
        let src = "def f(xs, k):\n    i = 0\n    n = len(xs)\n    total = 0\n    for j in range(n):\n        i += j * 2\n        total += xs[j]\n    s = 'a'\n    w = k\n    return i, total, s, w\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let facts = Facts::new(&pf);
        let numeric = Numeric::new(pf.def(), &facts);
        let mut names: Vec<&String> = numeric.names.iter().collect();
        names.sort();
        assert_eq!(names, ["i", "j", "n"]);
    }
}
