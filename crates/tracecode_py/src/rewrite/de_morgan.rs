//! De Morgan's laws, in forms that keep both the value and the order and
//! number of evaluations:
//!
//! * `not (a and b)` → `not a or not b` (and `or` ↔ `and`) anywhere: both
//!   sides are `bool`s that short-circuit on the same operand.
//! * `a and not b` → `not (not a or b)` only where just the truth of the
//!   result is used (an `if`/`while`/`assert` test, a conditional or
//!   comprehension filter), since `and`/`or` otherwise return an operand.
//!   It is applied when some operand is a `not`, so `if not a and not b`
//!   reads `if not (a or b)`.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{BoolOp, Expr, ExprBoolOp, UnaryOp};
use ruff_text_size::Ranged;

use super::support::{negate, pick, Expressions};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct DeMorgan;

impl Rewrite for DeMorgan {
    fn kind(&self) -> RewriteKind {
        RewriteKind::DeMorgan
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let exprs = Expressions::of(f.def());
        let sites: Vec<(&Expr, String)> = exprs
            .all
            .iter()
            .filter(|e| !f.has_comment_in(e.range()))
            .filter_map(|e| {
                let truth_only = exprs.tests.contains(&e.range());
                rewritten(f, e, truth_only).map(|text| (*e, text))
            })
            .collect();
        let (e, text) = pick(sites, rng, "no negated and/or to rewrite")?;
        let code = apply_edits(f.source, vec![TextEdit::replace(e.range(), text)])?;
        let note = format!("line {}: De Morgan", f.line_number(e.start()));
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The De Morgan dual of `e`, if it has a form handled here.
fn rewritten(f: &ParsedFunction, e: &Expr, truth_only: bool) -> Option<String> {
    match e {
        Expr::UnaryOp(u) if u.op == UnaryOp::Not => {
            // `not not x` may only shrink to `x` where the result's truth
            // is all that counts: `x` is not a bool.
            let text = dual(f, u.operand.as_bool_op_expr()?, truth_only);
            Some(if truth_only {
                text
            } else {
                format!("({text})")
            })
        }
        Expr::BoolOp(b) if truth_only && b.values.iter().any(is_not) => {
            Some(format!("not ({})", dual(f, b, true)))
        }
        _ => None,
    }
}

/// `x and y` → `not x or not y`: the operands negated, the operator swapped.
fn dual(f: &ParsedFunction, b: &ExprBoolOp, truth_only: bool) -> String {
    let op = match b.op {
        BoolOp::And => " or ",
        BoolOp::Or => " and ",
    };
    let operands: Vec<String> = b.values.iter().map(|v| negate(f, v, truth_only)).collect();
    operands.join(op)
}

fn is_not(e: &Expr) -> bool {
    matches!(e, Expr::UnaryOp(u) if u.op == UnaryOp::Not)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn de_morgan(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        DeMorgan
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn pushes_not_inside_anywhere() {
        assert_eq!(
            de_morgan("def f(a, b):\n    return x and not (a and b > 1)\n").unwrap(),
            "def f(a, b):\n    return x and (not a or not b > 1)\n"
        );
        assert_eq!(
            de_morgan("def f(a, b):\n    while not (a or not b):\n        a = g(a)\n").unwrap(),
            "def f(a, b):\n    while not a and b:\n        a = g(a)\n"
        );
    }

    #[test]
    fn pulls_not_out_of_tests_only() {
        let pf = ParsedFunction::parse(
            "def f(a, b):\n    if not a and not (b or a):\n        return 1\n",
        )
        .unwrap();
        let outs: Vec<String> = (0..8)
            .map(|seed| {
                DeMorgan
                    .apply(&pf, &mut ChaCha8Rng::seed_from_u64(seed))
                    .unwrap()
                    .code
            })
            .collect();
        assert!(outs.contains(
            &"def f(a, b):\n    if not (a or (b or a)):\n        return 1\n".to_string()
        ));
        // The inner `not (b or a)` is an operand: pushed inside, in parentheses.
        assert!(outs.contains(
            &"def f(a, b):\n    if not a and (not b and not a):\n        return 1\n".to_string()
        ));
        // As a value, `not a and b` may be `b` itself: no rewrite.
        assert!(matches!(
            de_morgan("def f(a, b):\n    return not a and b\n"),
            Err(EditError::NotApplicable(_))
        ));
    }
}
