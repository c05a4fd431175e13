//! Arithmetic operator replacement, in expressions and augmented assignments.
//!
//! `*` becomes `//`, not `/`, so integer code stays integer: `range(n * 2)`
//! → `range(n // 2)` runs and computes something else, where `/` would mostly
//! raise a `TypeError` and teach less.

use ruff_python_ast::{Expr, Operator, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::body::{operator_range, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator};
use crate::edit::ParsedFunction;

pub struct ArithmeticOperator;

/// The replacement for `op`; `None` for `@` (no sensible partner).
fn swapped(op: Operator) -> Option<Operator> {
    use Operator::*;
    Some(match op {
        Add => Sub,
        Sub => Add,
        Mult => FloorDiv,
        Div | FloorDiv | Pow => Mult,
        Mod => FloorDiv,
        LShift => RShift,
        RShift => LShift,
        BitOr => BitAnd,
        BitAnd | BitXor => BitOr,
        MatMult => return None,
    })
}

impl MutationOperator for ArithmeticOperator {
    fn kind(&self) -> MutantKind {
        MutantKind::ArithmeticOperator
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let body = Body::of(f);
        let binary = body.exprs.iter().filter_map(|e| match e {
            Expr::BinOp(b) => Some((b.left.end(), b.right.start(), b.op, "")),
            _ => None,
        });
        let augmented = body.stmts.iter().filter_map(|s| match s {
            Stmt::AugAssign(a) => Some((a.target.end(), a.value.start(), a.op, "=")),
            _ => None,
        });
        let mutations = binary
            .chain(augmented)
            .filter_map(|(from, to, op, suffix)| {
                let new = format!("{}{suffix}", swapped(op)?.as_str());
                let old = format!("{}{suffix}", op.as_str());
                let range = operator_range(f.source, TextRange::new(from, to), &old)?;
                Some(Mutation::replace(f, range, &new, format!("{old} → {new}")))
            })
            .collect();
        in_source_order(mutations)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutant::apply_all;

    #[test]
    fn operators_and_augmented_assignments() {
        let code =
            "def f(a, b):\n    c = (a) +(b * 2)  # sum\n    c -= a % 3\n    return c ** 2 @ m\n";
        let got = apply_all(&ArithmeticOperator, code);
        let expect = [
            (
                "c = (a) -(b * 2)  # sum\n    c -= a % 3\n    return c ** 2 @ m",
                "line 2: + → -",
            ),
            (
                "c = (a) +(b // 2)  # sum\n    c -= a % 3\n    return c ** 2 @ m",
                "line 2: * → //",
            ),
            (
                "c = (a) +(b * 2)  # sum\n    c += a % 3\n    return c ** 2 @ m",
                "line 3: -= → +=",
            ),
            (
                "c = (a) +(b * 2)  # sum\n    c -= a // 3\n    return c ** 2 @ m",
                "line 3: % → //",
            ),
            (
                "c = (a) +(b * 2)  # sum\n    c -= a % 3\n    return c * 2 @ m",
                "line 4: ** → *",
            ),
        ];
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((code, note), (body, want)) in got.iter().zip(expect) {
            assert_eq!(code, &format!("def f(a, b):\n    {body}\n"));
            assert_eq!(note, want);
        }
    }

    #[test]
    fn operator_after_comment_in_parentheses() {
        let code = "def f(a, b):\n    return (a  # first\n            - b)\n";
        let got = apply_all(&ArithmeticOperator, code);
        assert_eq!(
            got,
            vec![(
                "def f(a, b):\n    return (a  # first\n            + b)\n".to_string(),
                "line 3: - → +".to_string()
            )]
        );
    }

    #[test]
    fn no_site_outside_body() {
        let code = "@dec(1 + 2)\ndef f(a=1 + 2) -> int:\n    return -a\n";
        assert!(apply_all(&ArithmeticOperator, code).is_empty());
    }
}
