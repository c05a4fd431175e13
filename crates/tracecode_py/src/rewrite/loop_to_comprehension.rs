//! The reverse of `comprehension_to_loop`:
//!
//! ```python
//! name = []
//! for x in it:
//!     if c:
//!         name.append(e)
//! ```
//!
//! becomes `name = [e for x in it if c]` (sets via `set()`/`.add`, dicts via
//! `{}`/`name[k] = v`; any chain of single-statement `for`s and `if`s).
//!
//! Only exact matches qualify. The loop must not mention `name` except to
//! add to it (inside, it is the partial result; in a comprehension it would
//! not be), and the loop variables must not be used anywhere else (after a
//! comprehension they are unbound). In `name[k] = v` the value is evaluated
//! before the key, in a dict comprehension after, so the key must be unable
//! to raise and have no effects. Loops inside `try`/`with`/nested functions,
//! and any with comments, are left alone.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::helpers::any_over_body;
use ruff_python_ast::{self as ast, Expr, OperatorPrecedence, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::effects::Effects;
use super::names::{Facts, NameOccurrences};
use super::support::{operand, pick, scopes_or_suspends, suites};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct LoopToComprehension;

impl Rewrite for LoopToComprehension {
    fn kind(&self) -> RewriteKind {
        RewriteKind::LoopToComprehension
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let facts = Facts::new(f);
        let names = NameOccurrences::of(f);
        let mut sites: Vec<(TextRange, String)> = Vec::new();
        for suite in suites(f.def()).iter().filter(|s| !s.guarded) {
            for pair in suite.stmts.windows(2) {
                if let Some(text) = comprehension(f, &pair[0], &pair[1], &facts, &names) {
                    sites.push((TextRange::new(pair[0].start(), pair[1].end()), text));
                }
            }
        }
        let (range, text) = pick(sites, rng, "no loop that builds a list, set or dict")?;
        let note = format!(
            "line {}: loop → comprehension",
            f.line_number(range.start())
        );
        let code = apply_edits(f.source, vec![TextEdit::replace(range, text)])?;
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// What the initial statement creates.
#[derive(Clone, Copy, PartialEq)]
enum Container {
    List,
    Set,
    Dict,
}

/// `name = [...]` replacing `init` and `loop_`, when they match exactly.
fn comprehension(
    f: &ParsedFunction,
    init: &Stmt,
    loop_: &Stmt,
    facts: &Facts,
    names: &NameOccurrences,
) -> Option<String> {
    let (name, container) = empty_container(init, facts)?;
    let Stmt::For(first) = loop_ else {
        return None;
    };
    // Walk the chain of single-statement `for`/`if` down to the addition.
    let mut clauses = Vec::new();
    let mut vars: Vec<&Expr> = Vec::new();
    let mut stmt = loop_;
    let element = loop {
        match stmt {
            Stmt::For(l) if !l.is_async && l.orelse.is_empty() && l.body.len() == 1 => {
                vars.push(&l.target);
                clauses.push(format!(
                    "for {} in {}",
                    f.text(l.target.as_ref()),
                    operand(f, &l.iter, OperatorPrecedence::Or)
                ));
                stmt = &l.body[0];
            }
            Stmt::If(s)
                if s.elif_else_clauses.is_empty() && s.body.len() == 1 && !clauses.is_empty() =>
            {
                clauses.push(format!(
                    "if {}",
                    operand(f, &s.test, OperatorPrecedence::Or)
                ));
                stmt = &s.body[0];
            }
            _ => break added(f, stmt, name, container, facts, &vars)?,
        }
    };
    let whole = TextRange::new(init.start(), loop_.end());
    let loop_range = first.range();
    let mut var_names = Vec::new();
    for var in &vars {
        target_names(var, &mut var_names)?;
    }
    let receiver_only = names
        .all
        .iter()
        .filter(|(n, r)| n == name && loop_range.contains_range(*r))
        .count()
        == 1;
    let ok = receiver_only
        && !names.in_nested_scopes.contains(name)
        && !facts.declared.contains(name)
        && !facts.introspects
        && var_names.iter().all(|v| !names.outside(v, loop_range))
        && f.owns_lines(init)
        && f.owns_lines(loop_)
        && !f.has_comment_in(whole)
        && !any_over_body(std::slice::from_ref(loop_), scopes_or_suspends);
    ok.then(|| {
        let (open, close) = match container {
            Container::List => ("[", "]"),
            Container::Set | Container::Dict => ("{", "}"),
        };
        format!("{name} = {open}{element} {}{close}", clauses.join(" "))
    })
}

/// `name = []`, `name = set()` or `name = {}`.
fn empty_container<'a>(init: &'a Stmt, facts: &Facts) -> Option<(&'a str, Container)> {
    let Stmt::Assign(a) = init else {
        return None;
    };
    let [Expr::Name(target)] = a.targets.as_slice() else {
        return None;
    };
    let container = match a.value.as_ref() {
        Expr::List(l) if l.elts.is_empty() => Container::List,
        Expr::Dict(d) if d.items.is_empty() => Container::Dict,
        Expr::Call(c)
            if c.arguments.args.is_empty()
                && c.arguments.keywords.is_empty()
                && c.func
                    .as_name_expr()
                    .is_some_and(|f| f.id.as_str() == "set")
                && facts.is_builtin("set") =>
        {
            Container::Set
        }
        _ => return None,
    };
    Some((target.id.as_str(), container))
}

/// The comprehension element of the innermost statement, when it adds one
/// item to `name` the way `container` is filled.
fn added(
    f: &ParsedFunction,
    stmt: &Stmt,
    name: &str,
    container: Container,
    facts: &Facts,
    vars: &[&Expr],
) -> Option<String> {
    let is_name = |e: &Expr| e.as_name_expr().is_some_and(|n| n.id.as_str() == name);
    match (stmt, container) {
        (Stmt::Expr(e), Container::List | Container::Set) => {
            let call = e.value.as_call_expr()?;
            let method = call.func.as_attribute_expr()?;
            let wanted = if container == Container::List {
                "append"
            } else {
                "add"
            };
            let [item] = &*call.arguments.args else {
                return None;
            };
            let ok = is_name(&method.value)
                && method.attr.as_str() == wanted
                && call.arguments.keywords.is_empty()
                && !item.is_starred_expr();
            ok.then(|| operand(f, item, OperatorPrecedence::IfElse))
        }
        (Stmt::Assign(a), Container::Dict) => {
            let [Expr::Subscript(s)] = a.targets.as_slice() else {
                return None;
            };
            let key = s.slice.as_ref();
            let effects = Effects::of_expr(key, facts);
            let is_loop_var = key.as_name_expr().is_some_and(|k| {
                vars.iter().any(|v| {
                    let mut bound = Vec::new();
                    target_names(v, &mut bound).is_some() && bound.contains(&k.id.as_str())
                })
            });
            let ok = is_name(&s.value)
                && !key.is_slice_expr()
                && !effects.impure
                && effects.writes.is_empty()
                && (is_loop_var || !effects.may_raise);
            ok.then(|| {
                format!(
                    "{}: {}",
                    operand(f, key, OperatorPrecedence::IfElse),
                    operand(f, &a.value, OperatorPrecedence::IfElse)
                )
            })
        }
        _ => None,
    }
}

/// The names a loop target binds; `None` for targets that are not names.
fn target_names<'a>(target: &'a Expr, out: &mut Vec<&'a str>) -> Option<()> {
    match target {
        Expr::Name(n) => out.push(n.id.as_str()),
        Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
            for e in elts {
                target_names(e, out)?;
            }
        }
        Expr::Starred(s) => target_names(&s.value, out)?,
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn to_comprehension(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        LoopToComprehension
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn folds_loops_with_filters() {
        let src = "def f(rows):\n    out = []\n\n    for row in rows:\n        if row:\n            for c in row:\n                out.append(c * 2)  # doubled\n    return out\n";
        assert_eq!(
            to_comprehension(src).unwrap(),
            "def f(rows):\n    out = [c * 2 for row in rows if row for c in row]  # doubled\n    return out\n"
        );
        let src = "def f(d):\n    inv = {}\n    for k, v in d.items():\n        inv[v] = k\n    s = set()\n    for x in d, inv:\n        s.add(x if x else 0)\n    return inv, s\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let outs: Vec<String> = (0..8)
            .map(|seed| {
                LoopToComprehension
                    .apply(&pf, &mut ChaCha8Rng::seed_from_u64(seed))
                    .unwrap()
                    .code
            })
            .collect();
        assert!(outs.contains(&"def f(d):\n    inv = {v: k for k, v in d.items()}\n    s = set()\n    for x in d, inv:\n        s.add(x if x else 0)\n    return inv, s\n".to_string()));
        assert!(outs.contains(&"def f(d):\n    inv = {}\n    for k, v in d.items():\n        inv[v] = k\n    s = {x if x else 0 for x in (d, inv)}\n    return inv, s\n".to_string()));
    }

    #[test]
    fn refuses_inexact_patterns() {
        for src in [
            // The loop variable is read after the loop.
            "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    return out, x\n",
            // The partial result is read inside.
            "def f(xs):\n    out = []\n    for x in xs:\n        out.append(len(out))\n    return out\n",
            // Two statements in the body.
            "def f(xs):\n    out = []\n    for x in xs:\n        print(x)\n        out.append(x)\n    return out\n",
            // A comment would be lost.
            "def f(xs):\n    out = []\n    for x in xs:\n        # keep\n        out.append(x)\n    return out\n",
            // Key evaluated after the value in the loop: it must not raise.
            "def f(xs, d):\n    out = {}\n    for x in xs:\n        out[d[x]] = x\n    return out\n",
            // An `else` clause.
            "def f(xs):\n    out = []\n    for x in xs:\n        out.append(x)\n    else:\n        pass\n    return out\n",
        ] {
            assert!(matches!(to_comprehension(src), Err(EditError::NotApplicable(_))), "{src}");
        }
    }
}
