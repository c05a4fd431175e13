//! `a < b` becomes `b > a` (likewise `<=`/`>=`, and `==`/`!=` stay).
//!
//! Flipping swaps which operand is evaluated first, so the operands must
//! commute ([`Effects::commutes_with`]): no side effects, no iterator used up
//! by one and read by the other, at most one that may raise. For `<`, `<=`, `>`, `>=` both
//! operands must also be certainly numeric: on other types a failed
//! comparison's message names the operand types in order, and a user type
//! may order asymmetrically. Only single comparisons are flipped (`a < b < c`
//! is left alone).

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{CmpOp, ExprCompare, OperatorPrecedence};
use ruff_text_size::{Ranged, TextRange};

use super::effects::{Effects, Numeric};
use super::names::Facts;
use super::support::{operand, pick, Expressions};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct FlipComparison;

impl Rewrite for FlipComparison {
    fn kind(&self) -> RewriteKind {
        RewriteKind::FlipComparison
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let facts = Facts::new(f);
        let numeric = Numeric::new(f.def(), &facts);
        let exprs = Expressions::of(f.def());
        let sites: Vec<(&ExprCompare, CmpOp)> = exprs
            .all
            .iter()
            .filter_map(|e| e.as_compare_expr())
            .filter_map(|c| flippable(f, c, &facts, &numeric).map(|op| (c, op)))
            .collect();
        let (c, flipped) = pick(sites, rng, "no comparison that can be flipped safely")?;
        let (left, right) = (c.left.as_ref(), &c.comparators[0]);
        let between = TextRange::new(left.end(), right.start());
        let level = OperatorPrecedence::BitOr;
        let middle = f.source[between].replacen(c.ops[0].as_str(), flipped.as_str(), 1);
        let edits = vec![
            TextEdit::replace(left.range(), operand(f, right, level)),
            TextEdit::replace(between, middle),
            TextEdit::replace(right.range(), operand(f, left, level)),
        ];
        let code = apply_edits(f.source, edits)?;
        let note = format!(
            "line {}: {} → {}",
            f.line_number(c.start()),
            c.ops[0].as_str(),
            flipped.as_str()
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The flipped operator, when `c` can be flipped safely.
fn flippable(
    f: &ParsedFunction,
    c: &ExprCompare,
    facts: &Facts,
    numeric: &Numeric,
) -> Option<CmpOp> {
    let ([op], [right]) = (&*c.ops, &*c.comparators) else {
        return None;
    };
    let left = c.left.as_ref();
    let (flipped, ordering) = match op {
        CmpOp::Lt => (CmpOp::Gt, true),
        CmpOp::Gt => (CmpOp::Lt, true),
        CmpOp::LtE => (CmpOp::GtE, true),
        CmpOp::GtE => (CmpOp::LtE, true),
        CmpOp::Eq | CmpOp::NotEq => (*op, false),
        _ => return None,
    };
    let (l, r) = (
        Effects::of_expr(left, facts),
        Effects::of_expr(right, facts),
    );
    let independent = l.commutes_with(&r);
    let typed = !ordering || (numeric.is_numeric(left) && numeric.is_numeric(right));
    let between = &f.source[TextRange::new(left.end(), right.start())];
    let plain_layout = !between.contains('#') && !between.contains('\n');
    (independent && typed && plain_layout).then_some(flipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn flip(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        FlipComparison
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn flips_numeric_orderings_and_equalities() {
        assert_eq!(
            flip("def f(xs):\n    return len(xs) >= 2\n").unwrap(),
            "def f(xs):\n    return 2 <= len(xs)\n"
        );
        assert_eq!(
            flip("def f(a):\n    return (a or None) != 'x'  # c\n").unwrap(),
            "def f(a):\n    return ('x') != (a or None)  # c\n"
        );
        assert_eq!(
            flip("def f(xs):\n    n = len(xs)\n    return n - 1 < 0\n").unwrap(),
            "def f(xs):\n    n = len(xs)\n    return 0 > n - 1\n"
        );
    }

    #[test]
    fn refuses_unsafe_comparisons() {
        for src in [
            // Unknown types: `'<' not supported between 'str' and 'int'` would read differently.
            "def f(n):\n    return n < 2\n",
            // Side effects would run in another order.
            "def f(a):\n    return g(a) == h(a)\n",
            // Both operands may raise, e.g. two different KeyErrors.
            "def f(d, e):\n    return d['k'] == e['j']\n",
            // Chained.
            "def f(a):\n    return 0 == a == 1\n",
            // Membership is not symmetric.
            "def f(a):\n    return 1 in a\n",
        ] {
            assert!(
                matches!(flip(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
