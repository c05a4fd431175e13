//! Argument swapping: two adjacent positional arguments of a call trade
//! places (`range(lo, hi)` → `range(hi, lo)`), the wrong-order bug. Starred
//! arguments stay put (moving one past a keyword would not parse), and equal
//! texts are skipped since swapping them changes nothing.

use ruff_python_ast::Expr;
use ruff_text_size::{Ranged, TextRange};

use super::body::{note, snippet, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator, Site};
use crate::edit::{ParsedFunction, TextEdit};

pub struct SwapArguments;

impl MutationOperator for SwapArguments {
    fn kind(&self) -> MutantKind {
        MutantKind::SwapArguments
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let mut out = Vec::new();
        for expr in Body::of(f).exprs {
            let Expr::Call(call) = expr else { continue };
            for pair in call.arguments.args.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let (ta, tb) = (f.text(a), f.text(b));
                if a.is_starred_expr() || b.is_starred_expr() || ta == tb {
                    continue;
                }
                let what = format!(
                    "swapped {} and {} in call to {}",
                    snippet(ta),
                    snippet(tb),
                    snippet(f.text(&*call.func))
                );
                out.push(Mutation {
                    site: Site {
                        range: TextRange::new(a.start(), b.end()),
                    },
                    edits: vec![
                        TextEdit::replace(a.range(), tb),
                        TextEdit::replace(b.range(), ta),
                    ],
                    note: note(f, a.start(), what),
                });
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
    fn adjacent_positional_pairs() {
        let code = "def f(a, b):\n    return g(a, (b + 1), key=a)[h(x, x, *a, b)]\n";
        let got = apply_all(&SwapArguments, code);
        assert_eq!(
            got,
            vec![(
                "def f(a, b):\n    return g(b + 1, (a), key=a)[h(x, x, *a, b)]\n".to_string(),
                "line 2: swapped a and b + 1 in call to g".to_string()
            )]
        );
    }

    #[test]
    fn no_site_with_one_argument() {
        assert!(apply_all(&SwapArguments, "def f(a):\n    return print(a, sep='')\n").is_empty());
    }
}
