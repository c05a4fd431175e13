//! Comparison operator replacement: each operator of a (possibly chained)
//! comparison flips to its boundary or negated partner, the classic source of
//! off-by-one and inverted-test bugs.

use ruff_python_ast::{CmpOp, Expr};
use ruff_text_size::{Ranged, TextRange};

use super::body::{operator_range, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator};
use crate::edit::ParsedFunction;

pub struct ComparisonOperator;

fn swapped(op: CmpOp) -> CmpOp {
    use CmpOp::*;
    match op {
        Lt => LtE,
        LtE => Lt,
        Gt => GtE,
        GtE => Gt,
        Eq => NotEq,
        NotEq => Eq,
        In => NotIn,
        NotIn => In,
        Is => IsNot,
        IsNot => Is,
    }
}

impl MutationOperator for ComparisonOperator {
    fn kind(&self) -> MutantKind {
        MutantKind::ComparisonOperator
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let mut out = Vec::new();
        for expr in Body::of(f).exprs {
            let Expr::Compare(cmp) = expr else { continue };
            let lefts = std::iter::once(&*cmp.left).chain(cmp.comparators.iter());
            for ((left, right), &op) in lefts.zip(cmp.comparators.iter()).zip(cmp.ops.iter()) {
                let gap = TextRange::new(left.end(), right.start());
                if let Some(range) = operator_range(f.source, gap, op.as_str()) {
                    let new = swapped(op).as_str();
                    out.push(Mutation::replace(
                        f,
                        range,
                        new,
                        format!("{} → {new}", op.as_str()),
                    ));
                }
            }
        }
        in_source_order(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutant::apply_all;

    #[test]
    fn chained_and_two_word_operators() {
        let code = "def f(a, b):\n    if 0 < a <= b:\n        return a is not None\n    return b not  in a\n";
        let got = apply_all(&ComparisonOperator, code);
        let notes: Vec<_> = got.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(
            notes,
            [
                "line 2: < → <=",
                "line 2: <= → <",
                "line 3: is not → is",
                "line 4: not in → in"
            ]
        );
        assert_eq!(got[1].0, code.replace("a <= b", "a < b"));
        assert_eq!(got[2].0, code.replace("is not None", "is None"));
        assert_eq!(got[3].0, code.replace("not  in", "in"));
    }

    #[test]
    fn no_site_without_comparisons() {
        assert!(apply_all(&ComparisonOperator, "def f(a=1 < 2):\n    return a\n").is_empty());
    }
}
