//! `name = [e for x in it if c]` becomes
//!
//! ```python
//! name = []
//! for x in it:
//!     if c:
//!         name.append(e)
//! ```
//!
//! (sets use `set()`/`.add`, dicts `{}`/`name[k] = v`; several `for`s nest).
//!
//! The loop runs with `name` already bound to the partial result, so the
//! comprehension must not mention `name`, no nested function may read it,
//! and no `try`/`with` may observe it after a failure midway. The loop
//! variables outlive the loop, so any that the function uses elsewhere are
//! renamed to fresh names inside. A dict's key is evaluated after its value
//! in `name[k] = v`, so the key must be unable to raise and have no effects.
//! Lambdas, nested comprehensions, `:=`, `await` and `yield` inside are
//! refused, as are comments (rebuilding the text would drop them).

use std::collections::BTreeSet;

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::helpers::any_over_expr;
use ruff_python_ast::{self as ast, Comprehension, Expr, OperatorPrecedence, Stmt, StmtAssign};
use ruff_text_size::{Ranged, TextRange};

use super::effects::Effects;
use super::names::{Facts, NameOccurrences, Taken};
use super::support::{indent_unit, operand, pick, precedence, scopes_or_suspends, suites};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct ComprehensionToLoop;

impl Rewrite for ComprehensionToLoop {
    fn kind(&self) -> RewriteKind {
        RewriteKind::ComprehensionToLoop
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let facts = Facts::new(f);
        let names = NameOccurrences::of(f);
        let sites: Vec<&StmtAssign> = suites(f.def())
            .iter()
            .filter(|s| !s.guarded)
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_assign_stmt)
            .filter(|a| convertible(f, a, &facts, &names))
            .collect();
        let assign = pick(sites, rng, "no comprehension assigned to a local")?;
        let code = apply_edits(f.source, vec![to_loop(f, assign, &names)])?;
        let note = format!(
            "line {}: comprehension → loop",
            f.line_number(assign.start())
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The parts of a comprehension, whatever its kind.
struct Parts<'a> {
    generators: &'a [Comprehension],
    kind: Kind<'a>,
}

/// What a comprehension builds, from which element expression(s).
enum Kind<'a> {
    List(&'a Expr),
    Set(&'a Expr),
    Dict(&'a Expr, &'a Expr),
}

fn parts(value: &Expr) -> Option<Parts<'_>> {
    let (generators, kind) = match value {
        Expr::ListComp(c) => (&c.generators[..], Kind::List(&c.elt)),
        Expr::SetComp(c) => (&c.generators[..], Kind::Set(&c.elt)),
        Expr::DictComp(c) => (&c.generators[..], Kind::Dict(c.key.as_deref()?, &c.value)),
        _ => return None,
    };
    Some(Parts { generators, kind })
}

fn convertible(f: &ParsedFunction, a: &StmtAssign, facts: &Facts, names: &NameOccurrences) -> bool {
    let ([Expr::Name(target)], Some(p)) = (a.targets.as_slice(), parts(&a.value)) else {
        return false;
    };
    let name = target.id.as_str();
    let constructor_ok = match p.kind {
        Kind::List(_) => true,
        Kind::Set(_) => facts.is_builtin("set"),
        Kind::Dict(key, _) => {
            let e = Effects::of_expr(key, facts);
            let loop_var = key
                .as_name_expr()
                .is_some_and(|k| targets_of(p.generators).contains(k.id.as_str()));
            !e.impure && e.writes.is_empty() && (loop_var || !e.may_raise)
        }
    };
    let comprehension = a.value.range();
    constructor_ok
        && !facts.introspects
        && f.owns_lines(a)
        && !f.has_comment_in(comprehension)
        && !p.generators.iter().any(|g| g.is_async)
        && simple_inside(&p)
        && !names.inside(name, comprehension)
        && !names.in_nested_scopes.contains(name)
        && !facts.declared.contains(name)
}

/// No lambdas, nested comprehensions, `:=`, `await` or `yield` inside.
fn simple_inside(p: &Parts) -> bool {
    let elts: Vec<&Expr> = match p.kind {
        Kind::List(e) | Kind::Set(e) => vec![e],
        Kind::Dict(k, v) => vec![k, v],
    };
    let generator_parts = p
        .generators
        .iter()
        .flat_map(|g| [&g.iter, &g.target].into_iter().chain(&g.ifs));
    !elts
        .into_iter()
        .chain(generator_parts)
        .any(|e| any_over_expr(e, scopes_or_suspends))
}

/// The names the comprehension's `for` targets bind.
fn targets_of(generators: &[Comprehension]) -> BTreeSet<&str> {
    fn collect<'a>(target: &'a Expr, out: &mut BTreeSet<&'a str>) {
        match target {
            Expr::Name(n) => {
                out.insert(n.id.as_str());
            }
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                elts.iter().for_each(|e| collect(e, out));
            }
            Expr::Starred(s) => collect(&s.value, out),
            _ => {}
        }
    }
    let mut names = BTreeSet::new();
    for g in generators {
        collect(&g.target, &mut names);
    }
    names
}

fn to_loop(f: &ParsedFunction, a: &StmtAssign, names: &NameOccurrences) -> TextEdit {
    let name = a.targets[0].as_name_expr().unwrap().id.as_str();
    let p = parts(&a.value).unwrap();
    let comprehension = a.value.range();
    // Loop variables used outside the comprehension get fresh names.
    let mut taken = Taken::from_source(f.source);
    let mut renamed: Vec<(&str, String)> = Vec::new();
    for var in targets_of(p.generators) {
        if names.outside(var, comprehension) {
            renamed.push((var, taken.fresh(&format!("{var}_"))));
        }
    }
    renamed.sort();
    // Occurrences of loop variables: everything inside but the first iterable,
    // which is evaluated outside the comprehension's scope.
    let first_iter = p.generators[0].iter.range();
    let sites: Vec<(TextRange, String)> = names
        .all
        .iter()
        .filter(|(_, r)| comprehension.contains_range(*r) && !first_iter.contains_range(*r))
        .filter_map(|(n, r)| {
            renamed
                .iter()
                .find(|(v, _)| v == n)
                .map(|(_, new)| (*r, new.clone()))
        })
        .collect();
    let text = |e: &Expr| substitute(f, e.range(), &sites);
    let wrapped = |e: &Expr| {
        let t = text(e);
        if t.contains('\n') || precedence(e) < OperatorPrecedence::Lambda {
            format!("({t})")
        } else {
            t
        }
    };

    let indent = f.indent_at(a.start()).to_string();
    let unit = indent_unit(f);
    let (empty, add) = match p.kind {
        Kind::List(e) => ("[]", format!("{name}.append({})", text(e))),
        Kind::Set(e) => ("set()", format!("{name}.add({})", text(e))),
        Kind::Dict(k, v) => ("{}", format!("{name}[{}] = {}", text(k), wrapped(v))),
    };
    let mut out = format!("{name} = {empty}");
    let mut depth = indent.clone();
    for g in p.generators {
        let iter = if g.iter.range() == first_iter {
            operand(f, &g.iter, OperatorPrecedence::Lambda)
        } else {
            wrapped(&g.iter)
        };
        out.push_str(&format!("\n{depth}for {} in {iter}:", text(&g.target)));
        depth.push_str(&unit);
        for condition in &g.ifs {
            out.push_str(&format!("\n{depth}if {}:", wrapped(condition)));
            depth.push_str(&unit);
        }
    }
    out.push_str(&format!("\n{depth}{add}"));
    TextEdit::replace(a.range(), out)
}

/// The text of `range` with the name occurrences in `sites` replaced.
fn substitute(f: &ParsedFunction, range: TextRange, sites: &[(TextRange, String)]) -> String {
    let mut inner: Vec<&(TextRange, String)> = sites
        .iter()
        .filter(|(r, _)| range.contains_range(*r))
        .collect();
    inner.sort_by_key(|(r, _)| r.start());
    let mut out = String::new();
    let mut at = range.start();
    for (r, new) in inner {
        out.push_str(&f.source[TextRange::new(at, r.start())]);
        out.push_str(new);
        at = r.end();
    }
    out.push_str(&f.source[TextRange::new(at, range.end())]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn to_loop(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        ComprehensionToLoop
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn list_comprehension_with_filter_and_nested_for() {
        let src = "def f(rows):\n    cells = [c * 2 for row in rows if row for c in row if c > 0]  # all\n    return cells\n";
        assert_eq!(
            to_loop(src).unwrap(),
            "def f(rows):\n    cells = []\n    for row in rows:\n        if row:\n            for c in row:\n                if c > 0:\n                    cells.append(c * 2)  # all\n    return cells\n"
        );
    }

    #[test]
    fn dict_and_set_comprehensions_with_fresh_loop_variables() {
        let src = "def f(d, k):\n    inv = {v: k for k, v in d.items()}\n    return inv, k\n";
        assert_eq!(
            to_loop(src).unwrap(),
            "def f(d, k):\n    inv = {}\n    for k_0, v in d.items():\n        inv[v] = k_0\n    return inv, k\n"
        );
        let src = "def f(xs):\n\tout = {x % 3 for x in xs}\n\treturn out\n";
        assert_eq!(
            to_loop(src).unwrap(),
            "def f(xs):\n\tout = set()\n\tfor x in xs:\n\t\tout.add(x % 3)\n\treturn out\n"
        );
    }

    #[test]
    fn refuses_self_reference_nested_scopes_and_guards() {
        for src in [
            "def f(xs):\n    xs = [x for x in xs]\n    return xs\n",
            "def f(xs):\n    g = lambda: out\n    out = [x for x in xs]\n    return out, g\n",
            "def f(xs):\n    try:\n        out = [1 / x for x in xs]\n    except ZeroDivisionError:\n        return out\n",
            "def f(xs):\n    out = [y for x in xs if (y := x)]\n    return out\n",
            "def f(xs):\n    out = [x for x in xs  # c\n    ]\n    return out\n",
            "def f(d):\n    out = {g(v): v for v in d}\n    return out\n",
        ] {
            assert!(matches!(to_loop(src), Err(EditError::NotApplicable(_))), "{src}");
        }
    }
}
