//! Boolean operator replacement: `and` ↔ `or` (one operator of a chain at a
//! time), and dropping a `not`, which inverts a test without touching its
//! operand.

use ruff_python_ast::{BoolOp, Expr, UnaryOp};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::body::{operator_range, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator};
use crate::edit::ParsedFunction;

pub struct BooleanOperator;

impl MutationOperator for BooleanOperator {
    fn kind(&self) -> MutantKind {
        MutantKind::BooleanOperator
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let mut out = Vec::new();
        for expr in Body::of(f).exprs {
            match expr {
                Expr::BoolOp(b) => {
                    let (old, new) = match b.op {
                        BoolOp::And => ("and", "or"),
                        BoolOp::Or => ("or", "and"),
                    };
                    for pair in b.values.windows(2) {
                        let gap = TextRange::new(pair[0].end(), pair[1].start());
                        if let Some(range) = operator_range(f.source, gap, old) {
                            out.push(Mutation::replace(f, range, new, format!("{old} → {new}")));
                        }
                    }
                }
                Expr::UnaryOp(u) if u.op == UnaryOp::Not => {
                    // `not` and the blanks after it; the operand binds at least
                    // as tightly as `not`, so it stands alone unchanged.
                    let rest = &f.source[u.start().to_usize() + 3..u.operand.start().to_usize()];
                    let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
                    let len = TextSize::try_from(3 + blanks).expect("short");
                    let range = TextRange::at(u.start(), len);
                    out.push(Mutation::replace(f, range, "", "removed not"));
                }
                _ => {}
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
    fn and_or_and_not() {
        let code = "def f(a, b, c):\n    return a and not(b) or not  c\n";
        let got = apply_all(&BooleanOperator, code);
        let expect = [
            ("a or not(b) or not  c", "line 2: and → or"),
            ("a and (b) or not  c", "line 2: removed not"),
            ("a and not(b) and not  c", "line 2: or → and"),
            ("a and not(b) or c", "line 2: removed not"),
        ];
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((code, note), (ret, want)) in got.iter().zip(expect) {
            assert_eq!(code, &format!("def f(a, b, c):\n    return {ret}\n"));
            assert_eq!(note, want);
        }
    }

    #[test]
    fn no_site_without_boolean_operators() {
        assert!(apply_all(&BooleanOperator, "def f(a=not 1):\n    return -a\n").is_empty());
    }
}
