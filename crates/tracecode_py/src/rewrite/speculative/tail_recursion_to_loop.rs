//! Self tail calls become a loop: the body (after the docstring) is wrapped
//! in `while True:` and each `return f(a, b)` rebinds the loop's state and
//! starts over.
//!
//! ```python
//! def gcd(a, b):                    def gcd(a, b):
//!     if b == 0:                        a0, b0 = a, b
//!         return abs(a)      →          while True:
//!     return gcd(b, a % b)                  if b0 == 0:
//!                                               return abs(a0)
//!                                           a0, b0 = b0, a0 % b0
//!                                           continue
//! ```
//!
//! In the top-level function the loop runs on copies of the parameters
//! (fresh names): the parameters keep the values the call bound, as in the
//! recursive original's frame, so a correct rewrite is trace-equivalent
//! (a nested function's loop rebinds its parameters directly).
//!
//! Only functions with plain positional parameters (no `*args`, `**kw` or
//! keyword-only ones; not methods, whose first is `self` or `cls`) whose
//! every mention of their own name is such a call, with exactly one
//! argument per parameter, and no nested `def`, `class` or `lambda` that
//! could capture the parameters. A tail call inside a loop would `continue`
//! that loop instead, and one inside `try`/`with` would skip their exit
//! code, so those refuse. When the body can fall off its end, a `return` is
//! added there, which keeps it returning `None` instead of looping forever.
//!
//! Speculative: the call went through whatever the name is bound to when it
//! runs (a decorator's wrapper such as a cache, a later rebinding), and
//! recursion too deep for the stack raised `RecursionError` where the loop
//! finishes (or never stops). The traces tell which of these mattered.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::helpers::any_over_body;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, OperatorPrecedence, Stmt, StmtFunctionDef, StmtReturn};
use ruff_text_size::{Ranged, TextRange};

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::names::{Taken, CONVENTIONAL};
use crate::rewrite::support::{indent_unit, is_docstring, operand, pick, reindent, suites};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct TailRecursionToLoop;

impl Rewrite for TailRecursionToLoop {
    fn kind(&self) -> RewriteKind {
        RewriteKind::TailRecursionToLoop
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let nested = suites(f.def())
            .into_iter()
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_function_def_stmt);
        let sites: Vec<(&StmtFunctionDef, TextRange, String)> = std::iter::once(f.def())
            .chain(nested)
            .filter_map(|def| to_loop(f, def).map(|(range, text)| (def, range, text)))
            .collect();
        let (def, range, text) = pick(sites, rng, "no self tail call")?;
        let code = apply_edits(f.source, vec![TextEdit::replace(range, text)])?;
        let code = if def.range() == f.def().range() {
            loop_on_copies(&code)?
        } else {
            code
        };
        let note = format!(
            "line {}: tail calls of {} → while loop",
            f.line_number(def.start()),
            def.name
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The lines of `def`'s body (after the docstring) and their replacement.
fn to_loop(f: &ParsedFunction, def: &StmtFunctionDef) -> Option<(TextRange, String)> {
    let p = &def.parameters;
    if def.is_async || p.vararg.is_some() || p.kwarg.is_some() || !p.kwonlyargs.is_empty() {
        return None;
    }
    let params: Vec<&str> = p
        .posonlyargs
        .iter()
        .chain(&p.args)
        .map(|p| p.parameter.name.as_str())
        .collect();
    let name = def.name.as_str();
    let body = &def.body[usize::from(is_docstring(&def.body[0]))..];
    let (first, last) = (body.first()?, body.last()?);
    // A method's name is a class attribute: a bare call to it reaches
    // some other function.
    let method = params.first().is_some_and(|p| CONVENTIONAL.contains(p));
    if params.is_empty() || method || params.contains(&name) || !f.starts_line(first) {
        return None;
    }
    let mut calls = Vec::new();
    tail_calls(body, name, params.len(), false, &mut calls)?;
    let mut mentions = 0;
    // Closures could capture the parameters; suspending changes what a
    // return means.
    let blocked = any_over_body(body, |e| match e {
        Expr::Name(n) => {
            mentions += usize::from(n.id.as_str() == name);
            false
        }
        _ => matches!(
            e,
            Expr::Lambda(_) | Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Await(_)
        ),
    });
    if calls.is_empty() || blocked || mentions != calls.len() {
        return None;
    }
    let from = f.indent_at(first.start());
    let to = format!("{from}{}", indent_unit(f));
    let whole = TextRange::new(f.line_start(first.start()), f.line_range(last).end());
    let mut text = format!("{from}while True:\n");
    let mut at = whole.start();
    for r in calls {
        let call = r.value.as_deref()?.as_call_expr()?;
        if f.has_comment_in(r.range()) {
            return None;
        }
        let args: Vec<String> = call
            .arguments
            .args
            .iter()
            .map(|a| operand(f, a, OperatorPrecedence::IfElse))
            .collect();
        let assign = format!("{} = {}", params.join(", "), args.join(", "));
        // A return on its own line: rebuild its indentation too, so the
        // lines cut at its start are whole lines for `reindent`.
        let (cut, replacement) = if f.starts_line(r) {
            let indent = format!("{to}{}", f.indent_at(r.start()).strip_prefix(from)?);
            (
                f.line_start(r.start()),
                format!("{indent}{assign}\n{indent}continue"),
            )
        } else {
            (r.start(), format!("{assign}; continue"))
        };
        text.push_str(&reindent(f, TextRange::new(at, cut), from, &to)?);
        text.push_str(&replacement);
        at = r.end();
    }
    text.push_str(&reindent(f, TextRange::new(at, whole.end()), from, &to)?);
    if !matches!(last, Stmt::Return(_) | Stmt::Raise(_)) {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{to}return\n"));
    }
    Some((whole, text))
}

/// `code` (the top-level function turned into a `while True:` loop) with
/// the loop reading and rebinding fresh copies of the parameters, bound
/// right before it.
fn loop_on_copies(code: &str) -> Result<String, EditError> {
    let f = ParsedFunction::parse(code)?;
    let def = f.def();
    let params: Vec<&str> = def
        .parameters
        .posonlyargs
        .iter()
        .chain(&def.parameters.args)
        .map(|p| p.parameter.name.as_str())
        .collect();
    let body = &def.body[usize::from(is_docstring(&def.body[0]))..];
    let Some(Stmt::While(looped)) = body.first() else {
        return Err(EditError::NotApplicable("no loop to copy into".into()));
    };
    let mut taken = Taken::from_source(code);
    let copies: Vec<String> = params.iter().map(|p| taken.fresh(p)).collect();
    let mut uses = ParamUses {
        params: &params,
        found: Vec::new(),
    };
    uses.visit_stmt(&Stmt::While(looped.clone()));
    let mut edits: Vec<TextEdit> = uses
        .found
        .into_iter()
        .map(|(range, i)| TextEdit::replace(range, copies[i].clone()))
        .collect();
    edits.push(TextEdit::insert(
        f.line_start(looped.start()),
        format!(
            "{}{} = {}\n",
            f.indent_at(looped.start()),
            copies.join(", "),
            params.join(", ")
        ),
    ));
    apply_edits(code, edits)
}

/// Every name expression reading or binding a parameter, with its index.
struct ParamUses<'p> {
    params: &'p [&'p str],
    found: Vec<(TextRange, usize)>,
}

impl<'a> Visitor<'a> for ParamUses<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr {
            if let Some(i) = self.params.iter().position(|p| *p == n.id.as_str()) {
                self.found.push((n.range(), i));
            }
        }
        visitor::walk_expr(self, expr);
    }
}

/// Collects the `return name(a1, ..., an)` statements of `stmts` in source
/// order; `None` when one sits inside a loop, `try` or `with` (`guarded`),
/// or when a nested `def`/`class` or a `global`/`nonlocal` of the name
/// makes the body's meaning depend on more than its text.
fn tail_calls<'a>(
    stmts: &'a [Stmt],
    name: &str,
    arity: usize,
    guarded: bool,
    out: &mut Vec<&'a StmtReturn>,
) -> Option<()> {
    for stmt in stmts {
        match stmt {
            Stmt::Return(r) if is_self_call(r, name, arity) => {
                if guarded {
                    return None;
                }
                out.push(r);
            }
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return None,
            Stmt::Global(g) if g.names.iter().any(|n| n.as_str() == name) => return None,
            Stmt::Nonlocal(g) if g.names.iter().any(|n| n.as_str() == name) => return None,
            Stmt::If(s) => {
                tail_calls(&s.body, name, arity, guarded, out)?;
                for clause in &s.elif_else_clauses {
                    tail_calls(&clause.body, name, arity, guarded, out)?;
                }
            }
            Stmt::Match(m) => {
                for case in &m.cases {
                    tail_calls(&case.body, name, arity, guarded, out)?;
                }
            }
            Stmt::For(l) => {
                tail_calls(&l.body, name, arity, true, out)?;
                tail_calls(&l.orelse, name, arity, true, out)?;
            }
            Stmt::While(l) => {
                tail_calls(&l.body, name, arity, true, out)?;
                tail_calls(&l.orelse, name, arity, true, out)?;
            }
            Stmt::With(w) => tail_calls(&w.body, name, arity, true, out)?,
            Stmt::Try(t) => {
                tail_calls(&t.body, name, arity, true, out)?;
                for ruff_python_ast::ExceptHandler::ExceptHandler(h) in &t.handlers {
                    tail_calls(&h.body, name, arity, true, out)?;
                }
                tail_calls(&t.orelse, name, arity, true, out)?;
                tail_calls(&t.finalbody, name, arity, true, out)?;
            }
            _ => {}
        }
    }
    Some(())
}

/// `return name(a1, ..., an)`: positional arguments only, one per parameter.
fn is_self_call(r: &StmtReturn, name: &str, arity: usize) -> bool {
    let Some(call) = r.value.as_deref().and_then(Expr::as_call_expr) else {
        return false;
    };
    let args = &call.arguments;
    call.func
        .as_name_expr()
        .is_some_and(|n| n.id.as_str() == name)
        && args.keywords.is_empty()
        && args.args.len() == arity
        && !args.args.iter().any(Expr::is_starred_expr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rewrite(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        TailRecursionToLoop
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn wraps_the_body_and_loops_on_copies_of_the_parameters() {
        let src = "def gcd(a, b):\n    \"\"\"Euclid.\"\"\"\n    # b shrinks every time\n    if b == 0:\n        return abs(a)\n    return gcd(b, a % b)  # tail call\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def gcd(a, b):\n    \"\"\"Euclid.\"\"\"\n    # b shrinks every time\n    a0, b0 = a, b\n    while True:\n        if b0 == 0:\n            return abs(a0)\n        a0, b0 = b0, a0 % b0\n        continue  # tail call\n"
        );
    }

    #[test]
    fn one_line_calls_and_falling_off_the_end() {
        let src = "def walk(node, depth):\n    if node is None: return depth\n    print(node.value)\n    if node.next: return walk(node.next, depth + 1)\n    elif node.skip:\n        return walk(\n            node.skip.next,\n            depth)\n    depth = 0\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def walk(node, depth):\n    node0, depth0 = node, depth\n    while True:\n        if node0 is None: return depth0\n        print(node0.value)\n        if node0.next: node0, depth0 = node0.next, depth0 + 1; continue\n        elif node0.skip:\n            node0, depth0 = node0.skip.next, depth0\n            continue\n        depth0 = 0\n        return\n"
        );
    }

    #[test]
    fn applies_where_deep_recursion_raised() {
        // `down(10**5)` raises RecursionError; the loop returns 0. The traces
        // reject the variant on such an input.
        let src = "def down(n):\n    if n <= 0:\n        return 0\n    return down(n - 1)\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def down(n):\n    n0 = n\n    while True:\n        if n0 <= 0:\n            return 0\n        n0 = n0 - 1\n        continue\n"
        );
    }

    #[test]
    fn refuses_other_shapes_and_comments() {
        for src in [
            // Not a tail call, or another reference to the name.
            "def fact(n):\n    if n < 2:\n        return 1\n    return n * fact(n - 1)\n",
            "def f(n):\n    g = f\n    return f(n - 1)\n",
            // Wrong arity, keywords, or variadic parameters.
            "def f(n, k=1):\n    return f(n - 1)\n",
            "def f(n):\n    return f(n=n - 1)\n",
            "def f(n, *rest):\n    return f(n - 1)\n",
            // Inside a loop or try.
            "def f(n):\n    for i in range(n):\n        return f(i)\n",
            "def f(n):\n    try:\n        return f(n - 1)\n    except RecursionError:\n        return n\n",
            // A closure over the parameters.
            "def f(n):\n    g = lambda: n\n    return f(n - 1)\n",
            // A comment inside the rebuilt call.
            "def f(n):\n    return f(n -  # less\n             1)\n",
            // A method: `f` is not the method but some global.
            "def f(self, n):\n    return f(self, n - 1)\n",
            // A multi-line string would change when re-indented.
            "def f(n):\n    s = '''a\n    b'''\n    return f(n - 1)\n",
        ] {
            assert!(
                matches!(rewrite(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
