//! Return value replacement: `return x` → `return None`, a returned number
//! becomes `0` (or `1` if it was zero), a returned bool flips, `return None`
//! and a bare `return` become `return 0`.
//!
//! Values holding a comment are left alone, so the comment survives. A bare
//! `return` in an `async def` is left alone: an async generator may
//! not return a value, and telling generators apart is not worth it here.

use ruff_python_ast::{Expr, Number, Stmt, UnaryOp};
use ruff_text_size::Ranged;

use super::body::{comments, snippet, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator};
use crate::edit::ParsedFunction;

pub struct ReturnValue;

/// Whether `expr` is a number literal, possibly signed, that equals zero.
fn number_is_zero(expr: &Expr) -> Option<bool> {
    match expr {
        Expr::NumberLiteral(n) => Some(match &n.value {
            Number::Int(i) => i.as_u64() == Some(0),
            Number::Float(x) => *x == 0.0,
            Number::Complex { real, imag } => *real == 0.0 && *imag == 0.0,
        }),
        Expr::UnaryOp(u) if matches!(u.op, UnaryOp::USub | UnaryOp::UAdd) => {
            number_is_zero(&u.operand)
        }
        _ => None,
    }
}

impl MutationOperator for ReturnValue {
    fn kind(&self) -> MutantKind {
        MutantKind::ReturnValue
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let body = Body::of(f);
        let comments = comments(f);
        let mut out = Vec::new();
        for stmt in &body.stmts {
            let Stmt::Return(ret) = stmt else { continue };
            let Some(value) = ret.value.as_deref() else {
                if !body.enclosing_def(ret).is_async {
                    out.push(Mutation::replace(
                        f,
                        ret.range(),
                        "return 0",
                        "return → return 0",
                    ));
                }
                continue;
            };
            if comments.iter().any(|c| value.range().contains_range(*c)) {
                continue;
            }
            let new = match value {
                Expr::BooleanLiteral(b) => {
                    if b.value {
                        "False"
                    } else {
                        "True"
                    }
                }
                Expr::NoneLiteral(_) => "0",
                _ => match number_is_zero(value) {
                    Some(true) => "1",
                    Some(false) => "0",
                    None => "None",
                },
            };
            let what = format!("return {} → return {new}", snippet(f.text(value)));
            out.push(Mutation::replace(f, value.range(), new, what));
        }
        in_source_order(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutant::apply_all;

    #[test]
    fn values_literals_and_bare() {
        let code = "def f(a):\n    if a:\n        return a, 1\n    if a is None:\n        return\n    def g():\n        return -2.5\n    return (0) if a else True\n";
        let got = apply_all(&ReturnValue, code);
        let expect = [
            (
                "return a, 1",
                "return None",
                "line 3: return a, 1 → return None",
            ),
            (
                "        return\n",
                "        return 0\n",
                "line 5: return → return 0",
            ),
            ("return -2.5", "return 0", "line 7: return -2.5 → return 0"),
            (
                "return (0) if a else True",
                "return None",
                "line 8: return (0) if a else True → return None",
            ),
        ];
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((code_out, note), (from, to, want)) in got.iter().zip(expect) {
            assert_eq!(code_out, &code.replacen(from, to, 1));
            assert_eq!(note, want);
        }
        let lits = "def f(a):\n    if a:\n        return (0)\n    if a > 1:\n        return None\n    return False\n";
        let got: Vec<_> = apply_all(&ReturnValue, lits)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(
            got,
            [
                "line 3: return 0 → return 1",
                "line 5: return None → return 0",
                "line 6: return False → return True"
            ]
        );
    }

    #[test]
    fn no_site_for_bare_return_in_async_def_or_commented_value() {
        assert!(apply_all(&ReturnValue, "async def f(a):\n    yield a\n    return\n").is_empty());
        assert!(apply_all(
            &ReturnValue,
            "def f(a):\n    return (a +  # one\n            1)\n"
        )
        .is_empty());
    }
}
