//! An accumulating loop right after its initialisation becomes one builtin
//! call:
//!
//! ```python
//! total = 0                    # before
//! for c in counts:
//!     total += c
//! total = sum(counts)          # after
//! ```
//!
//! | before                                                        | after                              |
//! |---------------------------------------------------------------|------------------------------------|
//! | `s = 0` + `for x in xs: s += e`                               | `s = sum(e for x in xs)`           |
//! | `s = 0.0` + `for x in xs: s += e`                             | `s = sum((e for x in xs), 0.0)`    |
//! | `s = ''` + `for x in xs: s += e`                              | `s = ''.join(e for x in xs)`       |
//! | `for x in xs: if c: return True` + `return False`             | `return any(c for x in xs)`        |
//! | `for x in xs: if c: return False` + `return True`             | `return all(not c for x in xs)`    |
//! | `m = e0` + `for x in xs: if x > m: m = x` (`<`, `>=`, `<=`)   | `m = max([e0, *xs])` (`min`)       |
//!
//! When `e` is the loop variable itself the iterable is passed as it is
//! (`sum(xs)`). A float start is kept as `sum`'s start, so an empty or
//! all-int loop still gives a float. `max`/`min` get one list, not
//! `max(e0, *xs)`: with `xs` empty that form would iterate `e0`.
//!
//! Speculative: `sum` refuses strings and adds floats with compensated
//! summation (3.12+), `''.join` needs every element to be a `str` where
//! `+=` would try the element's `__radd__`, the generator reads `s` (and
//! any name rebound since) when it runs rather than step by step, and a
//! `>=`/`<=` update keeps the last of equal extremes where `max`/`min` keep
//! the first (visible for equal but distinct objects, and with NaN).
//! `any`/`all` stop at the same element as the loop, so only rebound
//! builtins or `C`s that inspect their frame tell them apart. The loop
//! variable keeps its last value only in the loop form; the traces ignore
//! variables present on one side only.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::helpers::any_over_body;
use ruff_python_ast::{CmpOp, Expr, Number, Operator, OperatorPrecedence, Stmt, StmtFor};
use ruff_text_size::{Ranged, TextRange};

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::support::{negate, operand, pick, suites};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct AccumulatorToBuiltin;

impl Rewrite for AccumulatorToBuiltin {
    fn kind(&self) -> RewriteKind {
        RewriteKind::AccumulatorToBuiltin
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let mut sites = Vec::new();
        for suite in suites(f.def()) {
            for pair in suite.stmts.windows(2) {
                let (first, second) = (&pair[0], &pair[1]);
                let found = fold(f, first, second)
                    .or_else(|| extremum(f, first, second))
                    .or_else(|| any_all(f, first, second));
                let range = TextRange::new(first.start(), second.end());
                if let Some((text, builtin)) = found.filter(|_| !f.has_comment_in(range)) {
                    sites.push((range, text, builtin));
                }
            }
        }
        let (range, text, builtin) = pick(sites, rng, "no accumulating loop")?;
        let note = format!(
            "line {}: accumulating loop → {builtin}",
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

/// A `for` loop whose body is the one statement returned. `await`/`yield`
/// would change meaning inside a generator expression, and `:=` there is
/// either a syntax error or binds elsewhere.
fn single_statement_loop(stmt: &Stmt) -> Option<(&StmtFor, &Stmt)> {
    let Stmt::For(l) = stmt else {
        return None;
    };
    let suspends_or_binds = |e: &Expr| {
        matches!(
            e,
            Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Named(_)
        )
    };
    let plain = !l.is_async
        && l.orelse.is_empty()
        && l.body.len() == 1
        && !any_over_body(std::slice::from_ref(stmt), suspends_or_binds);
    plain.then(|| (l, &l.body[0]))
}

fn is_name(e: &Expr, name: &str) -> bool {
    e.as_name_expr().is_some_and(|n| n.id.as_str() == name)
}

/// `name = value` with a single name target.
fn assigned(stmt: &Stmt) -> Option<(&str, &Expr)> {
    let Stmt::Assign(a) = stmt else {
        return None;
    };
    let [Expr::Name(target)] = a.targets.as_slice() else {
        return None;
    };
    Some((target.id.as_str(), &a.value))
}

/// What the loop feeds the builtin: `xs` itself when the element is the
/// loop variable, else `e for x in xs` (`parenthesized` when not the only
/// argument).
fn feed(f: &ParsedFunction, l: &StmtFor, element: &Expr, parenthesized: bool) -> String {
    let loop_var = l.target.as_name_expr();
    if loop_var.is_some_and(|v| is_name(element, v.id.as_str())) {
        return operand(f, &l.iter, OperatorPrecedence::Lambda);
    }
    let generator = format!(
        "{} for {} in {}",
        operand(f, element, OperatorPrecedence::IfElse),
        f.text(l.target.as_ref()),
        operand(f, &l.iter, OperatorPrecedence::Or)
    );
    if parenthesized {
        format!("({generator})")
    } else {
        generator
    }
}

/// `s = 0`/`s = 0.0`/`s = ''` + `for x in xs: s += e`.
fn fold(f: &ParsedFunction, init: &Stmt, loop_: &Stmt) -> Option<(String, &'static str)> {
    let (acc, start) = assigned(init)?;
    let (l, body) = single_statement_loop(loop_)?;
    let Stmt::AugAssign(aug) = body else {
        return None;
    };
    if aug.op != Operator::Add || !is_name(&aug.target, acc) {
        return None;
    }
    let (call, builtin) = match start {
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) if *i == ruff_python_ast::Int::ZERO => {
                (format!("sum({})", feed(f, l, &aug.value, false)), "sum")
            }
            Number::Float(x) if *x == 0.0 => (
                format!("sum({}, {})", feed(f, l, &aug.value, true), f.text(start)),
                "sum",
            ),
            _ => return None,
        },
        Expr::StringLiteral(s) if s.value.is_empty() => (
            format!("{}.join({})", f.text(start), feed(f, l, &aug.value, false)),
            "str.join",
        ),
        _ => return None,
    };
    Some((format!("{acc} = {call}"), builtin))
}

/// `m = e0` + `for x in xs: if x > m: m = x` (any strict or non-strict
/// order, either operand first).
fn extremum(f: &ParsedFunction, init: &Stmt, loop_: &Stmt) -> Option<(String, &'static str)> {
    let (acc, start) = assigned(init)?;
    let (l, body) = single_statement_loop(loop_)?;
    let var = l.target.as_name_expr()?.id.as_str();
    let Stmt::If(s) = body else {
        return None;
    };
    let [update] = s.body.as_slice() else {
        return None;
    };
    let (target, value) = assigned(update)?;
    let test = s.test.as_compare_expr()?;
    let ([op], [right]) = (&*test.ops, &*test.comparators) else {
        return None;
    };
    if !s.elif_else_clauses.is_empty() || target != acc || !is_name(value, var) {
        return None;
    }
    // Whether the loop keeps the element when it is the greater operand.
    let greater_wins = match op {
        CmpOp::Gt | CmpOp::GtE => true,
        CmpOp::Lt | CmpOp::LtE => false,
        _ => return None,
    };
    let builtin = if is_name(&test.left, var) && is_name(right, acc) {
        if greater_wins {
            "max"
        } else {
            "min"
        }
    } else if is_name(&test.left, acc) && is_name(right, var) {
        if greater_wins {
            "min"
        } else {
            "max"
        }
    } else {
        return None;
    };
    let text = format!(
        "{acc} = {builtin}([{}, *{}])",
        operand(f, start, OperatorPrecedence::IfElse),
        operand(f, &l.iter, OperatorPrecedence::BitOr)
    );
    Some((text, builtin))
}

/// `for x in xs: if c: return True` + `return False`, or the reverse.
fn any_all(f: &ParsedFunction, loop_: &Stmt, after: &Stmt) -> Option<(String, &'static str)> {
    let (l, body) = single_statement_loop(loop_)?;
    let Stmt::If(s) = body else {
        return None;
    };
    let [Stmt::Return(inner)] = s.body.as_slice() else {
        return None;
    };
    let Stmt::Return(outer) = after else {
        return None;
    };
    let literal = |r: &ruff_python_ast::StmtReturn| {
        r.value
            .as_deref()
            .and_then(Expr::as_boolean_literal_expr)
            .map(|b| b.value)
    };
    let (found, otherwise) = (literal(inner)?, literal(outer)?);
    if !s.elif_else_clauses.is_empty() || found == otherwise {
        return None;
    }
    let clause = format!(
        "for {} in {}",
        f.text(l.target.as_ref()),
        operand(f, &l.iter, OperatorPrecedence::Or)
    );
    Some(if found {
        let test = operand(f, &s.test, OperatorPrecedence::IfElse);
        (format!("return any({test} {clause})"), "any")
    } else {
        // Only the truth of each element counts, so `not not c` is `c`.
        let test = negate(f, &s.test, true);
        (format!("return all({test} {clause})"), "all")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rewrite(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        AccumulatorToBuiltin
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn sums_and_joins_keep_surrounding_comments() {
        assert_eq!(
            rewrite("def total(counts):\n    # add them up\n    total = 0\n    for c in counts:\n        total += c  # each\n    return total\n").unwrap(),
            "def total(counts):\n    # add them up\n    total = sum(counts)  # each\n    return total\n"
        );
        assert_eq!(
            rewrite("def norm(xs):\n    s = 0.0\n    for x in xs:\n        s += x * x\n    return s ** 0.5\n").unwrap(),
            "def norm(xs):\n    s = sum((x * x for x in xs), 0.0)\n    return s ** 0.5\n"
        );
        assert_eq!(
            rewrite("def caps(words):\n    out = \"\"\n    for w in words if words else ():\n        out += w[0].upper()\n    return out\n").unwrap(),
            "def caps(words):\n    out = \"\".join(w[0].upper() for w in (words if words else ()))\n    return out\n"
        );
    }

    #[test]
    fn searches_become_any_and_all() {
        assert_eq!(
            rewrite("def has_neg(xs):\n    for k, v in xs.items():\n        if v < 0 or k is None:\n            return True\n    return False  # none\n").unwrap(),
            "def has_neg(xs):\n    return any(v < 0 or k is None for k, v in xs.items())  # none\n"
        );
        assert_eq!(
            rewrite("def all_known(xs, seen):\n    for x in xs:\n        if x not in seen:\n            return False\n    return True\n").unwrap(),
            "def all_known(xs, seen):\n    return all(x in seen for x in xs)\n"
        );
        assert_eq!(
            rewrite("def all_small(xs):\n    for x in xs:\n        if x > 9 or x < -9:\n            return False\n    return True\n").unwrap(),
            "def all_small(xs):\n    return all(not (x > 9 or x < -9) for x in xs)\n"
        );
    }

    #[test]
    fn running_extremes_become_max_and_min() {
        assert_eq!(
            rewrite("def peak(xs):\n    best = xs[0]\n    for x in xs[1:]:\n        if x > best:\n            best = x  # new best\n    return best\n").unwrap(),
            "def peak(xs):\n    best = max([xs[0], *xs[1:]])  # new best\n    return best\n"
        );
        assert_eq!(
            rewrite("def low(xs, a, b):\n    m = a or b\n    for x in xs:\n        if m >= x:\n            m = x\n    return m\n").unwrap(),
            "def low(xs, a, b):\n    m = min([a or b, *xs])\n    return m\n"
        );
    }

    #[test]
    fn applies_where_behaviour_changes() {
        // The loop adds 0.1 ten times to 0.9999999999999999; `sum` compensates
        // (3.12+) and gives 1.0: the traces reject this on such inputs.
        assert_eq!(
            rewrite("def mean(xs):\n    s = 0.0\n    for x in xs:\n        s += x\n    return s / len(xs)\n").unwrap(),
            "def mean(xs):\n    s = sum(xs, 0.0)\n    return s / len(xs)\n"
        );
        // The loop doubles the running total; the generator reads `s` before
        // it is ever bound and raises NameError.
        assert_eq!(
            rewrite(
                "def grow(xs):\n    s = 0\n    for x in xs:\n        s += s + x\n    return s\n"
            )
            .unwrap(),
            "def grow(xs):\n    s = sum(s + x for x in xs)\n    return s\n"
        );
    }

    #[test]
    fn refuses_other_shapes_and_comments() {
        for src in [
            // Not right after the initialisation.
            "def f(xs):\n    s = 0\n    n = 1\n    for x in xs:\n        s += x\n    return s\n",
            // Another start, another operator, two statements, an else.
            "def f(xs):\n    s = 1\n    for x in xs:\n        s += x\n    return s\n",
            "def f(xs):\n    s = 0\n    for x in xs:\n        s -= x\n    return s\n",
            "def f(xs):\n    s = 0\n    for x in xs:\n        s += x\n        print(x)\n    return s\n",
            "def f(xs):\n    s = 0\n    for x in xs:\n        s += x\n    else:\n        s = 1\n    return s\n",
            // A comment inside the rebuilt text.
            "def f(xs):\n    s = ''\n    for x in xs:\n        # keep\n        s += x\n    return s\n",
            // `await` cannot move into a generator.
            "async def f(xs):\n    s = 0\n    for x in xs:\n        s += await x\n    return s\n",
            // Not a running extreme: updates with something else.
            "def f(xs):\n    m = 0\n    for x in xs:\n        if x > m:\n            m = x + 1\n    return m\n",
            // The search returns the same value both ways.
            "def f(xs):\n    for x in xs:\n        if x:\n            return True\n    return True\n",
        ] {
            assert!(
                matches!(rewrite(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
