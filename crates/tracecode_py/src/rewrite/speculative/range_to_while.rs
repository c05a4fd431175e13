//! `for i in range(b):` or `for i in range(a, b):` becomes a `while` loop
//! over a fresh counter that the loop variable copies:
//!
//! ```python
//! for i in range(1, n):             k = 1
//!     total += i              →     while k < n:
//!                                       i = k
//!                                       total += i
//!                                       k += 1
//! ```
//!
//! The loop variable takes the same values as before and keeps its last
//! one (it stays unbound when the range is empty, as before); the counter
//! is a new name. The body keeps its lines and indentation, since `while`
//! takes the place of `for`; one-line loops get the assignment and the
//! increment on their line. Ranges with a step or keyword arguments, loops
//! with an `else`, `async for`, `await` or `yield` in the bounds and
//! comments inside the header are refused.
//!
//! Speculative: it is right for loops that run their body to the end, and
//! wrong when the body `continue`s (the increment is skipped: the loop
//! repeats forever, until the run's event limit stops it), when the body
//! changes what `b` evaluates to (`range` read it once, the `while` test
//! reads it every iteration), or when `b` has effects or is not an integer
//! (`range(2.5)` raises, `k < 2.5` does not). The traces reject those.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::helpers::any_over_expr;
use ruff_python_ast::{Expr, OperatorPrecedence, Stmt, StmtFor};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::names::Taken;
use crate::rewrite::support::{header_colon_end, next_line_start, operand, pick, suites};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct RangeToWhile;

impl Rewrite for RangeToWhile {
    fn kind(&self) -> RewriteKind {
        RewriteKind::RangeToWhile
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let sites: Vec<(&StmtFor, &[Expr])> = suites(f.def())
            .iter()
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_for_stmt)
            .filter_map(|l| range_bounds(f, l).map(|bounds| (l, bounds)))
            .collect();
        let (l, bounds) = pick(sites, rng, "no `for i in range(...)` loop")?;
        let colon_end = header_colon_end(f, l.iter.end()).expect("checked by range_bounds");
        let mut taken = Taken::from_source(f.source);
        let counter = if taken.claim("k") {
            "k".to_string()
        } else {
            taken.fresh("k")
        };
        let (start, stop) = match bounds {
            [stop] => ("0".to_string(), stop),
            [start, stop] => (operand(f, start, OperatorPrecedence::Lambda), stop),
            _ => unreachable!("range_bounds gives one or two"),
        };
        // `k < a < b` would chain: the bound must bind tighter than `<`.
        let stop = operand(f, stop, OperatorPrecedence::BitOr);
        let indent = f.indent_at(l.start());
        let header = format!("{counter} = {start}\n{indent}while {counter} < {stop}");
        let target = f.text(l.target.as_ref());
        let (first, last) = (&l.body[0], l.body.last().expect("a body"));
        let mut edits = vec![TextEdit::replace(
            TextRange::new(l.start(), colon_end - TextSize::from(1)),
            header,
        )];
        if f.line_start(first.start()) < colon_end {
            // A one-line loop: its simple statements take the two additions.
            edits.push(TextEdit::insert(
                first.start(),
                format!("{target} = {counter}; "),
            ));
            edits.push(TextEdit::insert(last.end(), format!("; {counter} += 1")));
        } else {
            let body_indent = f.indent_at(first.start());
            let body_end = f.line_range(last).end();
            let newline = if f.source[..body_end.to_usize()].ends_with('\n') {
                ""
            } else {
                "\n"
            };
            edits.push(TextEdit::insert(
                next_line_start(f, colon_end),
                format!("{body_indent}{target} = {counter}\n"),
            ));
            edits.push(TextEdit::insert(
                body_end,
                format!("{newline}{body_indent}{counter} += 1\n"),
            ));
        }
        let code = apply_edits(f.source, edits)?;
        let note = format!(
            "line {}: for {target} in range(...) → while loop over {counter}",
            f.line_number(l.start())
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The one or two positional arguments of the loop's `range(...)`, when the
/// loop has the pattern's shape.
fn range_bounds<'a>(f: &ParsedFunction, l: &'a StmtFor) -> Option<&'a [Expr]> {
    let call = l.iter.as_call_expr()?;
    let args = &*call.arguments.args;
    let suspends = |e: &Expr| {
        matches!(
            e,
            Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Starred(_)
        )
    };
    let colon_end = header_colon_end(f, l.iter.end())?;
    let shaped = !l.is_async
        && l.orelse.is_empty()
        && l.target.is_name_expr()
        && call
            .func
            .as_name_expr()
            .is_some_and(|n| n.id.as_str() == "range")
        && matches!(args.len(), 1 | 2)
        && call.arguments.keywords.is_empty()
        && !args.iter().any(|a| any_over_expr(a, suspends))
        && f.owns_lines(l)
        && !f.has_comment_in(TextRange::new(l.start(), colon_end));
    shaped.then_some(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rewrite(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        RangeToWhile
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn counts_with_a_fresh_counter_keeping_comments() {
        let src = "def squares(n):\n    out = []\n    for i in range(1, n + 1):  # from one\n        # square it\n        if i % 2:\n            out.append(i * i)  # odd only\n    return out\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def squares(n):\n    out = []\n    k = 1\n    while k < n + 1:  # from one\n        i = k\n        # square it\n        if i % 2:\n            out.append(i * i)  # odd only\n        k += 1\n    return out\n"
        );
    }

    #[test]
    fn handles_tabs_one_liners_and_a_missing_final_newline() {
        assert_eq!(
            rewrite("def f(k, xs):\n\tfor j in range(len(xs)):\n\t\tprint(xs[j], k)").unwrap(),
            "def f(k, xs):\n\tk0 = 0\n\twhile k0 < len(xs):\n\t\tj = k0\n\t\tprint(xs[j], k)\n\t\tk0 += 1\n"
        );
        assert_eq!(
            rewrite("def f(n):\n    s = 0\n    for i in range(n): s += i  # sum\n    return s\n").unwrap(),
            "def f(n):\n    s = 0\n    k = 0\n    while k < n: i = k; s += i; k += 1  # sum\n    return s\n"
        );
        // Bounds are parenthesized where their text would bind otherwise.
        assert_eq!(
            rewrite("def f(a, b, c):\n    for i in range(a if c else b, a < b):\n        print(i)\n").unwrap(),
            "def f(a, b, c):\n    k = a if c else b\n    while k < (a < b):\n        i = k\n        print(i)\n        k += 1\n"
        );
    }

    #[test]
    fn rewrites_loops_the_traces_then_reject() {
        // `continue` skips the increment: the variant never ends.
        assert_eq!(
            rewrite("def f(n):\n    for i in range(n):\n        if i == 1:\n            continue\n        print(i)\n").unwrap(),
            "def f(n):\n    k = 0\n    while k < n:\n        i = k\n        if i == 1:\n            continue\n        print(i)\n        k += 1\n"
        );
        // The bound grows with the list: the original runs len(xs) times,
        // the variant never stops.
        assert_eq!(
            rewrite("def f(xs):\n    for i in range(len(xs)):\n        xs.append(i)\n").unwrap(),
            "def f(xs):\n    k = 0\n    while k < len(xs):\n        i = k\n        xs.append(i)\n        k += 1\n"
        );
    }

    #[test]
    fn refuses_other_loops() {
        for src in [
            "def f(n):\n    for i in range(0, n, 2):\n        print(i)\n",
            "def f(n):\n    for i in range(n, step=1):\n        print(i)\n",
            "def f(xs):\n    for i in range(*xs):\n        print(i)\n",
            "def f(xs):\n    for i in xs:\n        print(i)\n",
            "def f(xs):\n    for i, j in range(3):\n        print(i)\n",
            "def f(n):\n    for i in range(n):\n        pass\n    else:\n        print(n)\n",
            "async def f(n):\n    for i in range(await n):\n        print(i)\n",
            // A comment inside the rebuilt header.
            "def f(a, b):\n    for i in range(a,  # from\n                   b):\n        print(i)\n",
        ] {
            assert!(
                matches!(rewrite(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
