//! `x += e` ↔ `x = x + (e)`, for the other arithmetic operators too.
//!
//! The two differ in general: on a list `+=` extends in place (visible
//! through every alias) where `+` builds a new list, and a failing `+=`
//! says `+=` in its message. So both `x` and `e` must be certainly numeric
//! (see [`Numeric`]), where the forms agree exactly.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{Expr, Operator, OperatorPrecedence, Stmt};
use ruff_text_size::Ranged;

use super::effects::{is_arithmetic, Numeric};
use super::names::Facts;
use super::support::{operand, pick, precedence, suites};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct AugmentedAssignment;

impl Rewrite for AugmentedAssignment {
    fn kind(&self) -> RewriteKind {
        RewriteKind::AugmentedAssignment
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let facts = Facts::new(f);
        let numeric = Numeric::new(f.def(), &facts);
        let sites: Vec<(&Stmt, (String, String))> = suites(f.def())
            .iter()
            .flat_map(|s| s.stmts)
            .filter(|s| !f.has_comment_in(s.range()))
            .filter_map(|s| rewritten(f, s, &numeric).map(|r| (s, r)))
            .collect();
        let (stmt, (text, what)) = pick(sites, rng, "no numeric update to rewrite")?;
        let note = format!("line {}: {what}", f.line_number(stmt.start()));
        let code = apply_edits(f.source, vec![TextEdit::replace(stmt.range(), text)])?;
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The other form of `stmt` and a note, when it is a numeric update of a local.
fn rewritten(f: &ParsedFunction, stmt: &Stmt, numeric: &Numeric) -> Option<(String, String)> {
    match stmt {
        Stmt::AugAssign(a) => {
            let target = a.target.as_name_expr()?;
            let ok = is_arithmetic(a.op)
                && numeric.is_numeric(&a.target)
                && numeric.is_numeric(&a.value);
            ok.then(|| {
                let (x, op) = (&target.id, a.op.as_str());
                let right = right_operand(f, a.op, &a.value);
                let note = format!("{x} {op}= … → {x} = {x} {op} …");
                (format!("{x} = {x} {op} {right}"), note)
            })
        }
        Stmt::Assign(a) => {
            let [Expr::Name(target)] = a.targets.as_slice() else {
                return None;
            };
            let b = a.value.as_bin_op_expr()?;
            let same = b.left.as_name_expr().is_some_and(|l| l.id == target.id);
            let ok = same
                && is_arithmetic(b.op)
                && numeric.is_numeric(&b.left)
                && numeric.is_numeric(&b.right);
            ok.then(|| {
                let (x, op) = (&target.id, b.op.as_str());
                let value = operand(f, &b.right, OperatorPrecedence::Lambda);
                let note = format!("{x} = {x} {op} … → {x} {op}= …");
                (format!("{x} {op}= {value}"), note)
            })
        }
        _ => None,
    }
}

/// `e` as the right operand of `x op e`, parenthesized unless it binds
/// tighter than `op` (for right-associative `**`, at least as tight as a
/// unary minus, which `**` accepts on its right).
fn right_operand(f: &ParsedFunction, op: Operator, e: &Expr) -> String {
    let level = OperatorPrecedence::from(op);
    let tight_enough = match op {
        Operator::Pow => precedence(e) >= OperatorPrecedence::PosNegBitNot,
        _ => precedence(e) > level,
    };
    if tight_enough {
        operand(f, e, level)
    } else {
        format!("({})", f.text(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rewrite(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        AugmentedAssignment
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn expands_and_contracts_numeric_updates() {
        assert_eq!(
            rewrite("def f(xs):\n    total = 0\n    for i in range(len(xs)):\n        total *= i - 1  # c\n    return total\n").unwrap(),
            "def f(xs):\n    total = 0\n    for i in range(len(xs)):\n        total = total * (i - 1)  # c\n    return total\n"
        );
        assert_eq!(
            rewrite("def f():\n    n = 1.5\n    n = n ** (-2 + n)\n    return n\n").unwrap(),
            "def f():\n    n = 1.5\n    n **= -2 + n\n    return n\n"
        );
    }

    #[test]
    fn refuses_unknown_types() {
        for src in [
            // `acc` could be a list aliased by the caller: `+=` mutates it.
            "def f(acc, x):\n    acc += [x]\n    return acc\n",
            // `total` is numeric but `x` is not known to be.
            "def f(xs):\n    total = 0\n    for x in xs:\n        total += x\n    return total\n",
            // Rebinding makes `n` a string sometimes.
            "def f(c):\n    n = 0\n    if c:\n        n = 'a'\n    n += 1\n    return n\n",
            // Not `x = x op e`.
            "def f():\n    n = 1\n    n = 2 - n\n    return n\n",
        ] {
            assert!(
                matches!(rewrite(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
