//! Condition negation: the test of an `if`, `elif`, `while`, conditional
//! expression or comprehension filter becomes `not (test)`. The parentheses
//! keep any test (a walrus, a multi-line `or`) intact.

use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::Ranged;

use super::body::{snippet, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator};
use crate::edit::ParsedFunction;

pub struct NegateCondition;

impl MutationOperator for NegateCondition {
    fn kind(&self) -> MutantKind {
        MutantKind::NegateCondition
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let body = Body::of(f);
        let mut tests: Vec<(&str, &Expr)> = Vec::new();
        for stmt in &body.stmts {
            match stmt {
                Stmt::If(s) => {
                    tests.push(("if", &s.test));
                    let elifs = s.elif_else_clauses.iter().filter_map(|c| c.test.as_ref());
                    tests.extend(elifs.map(|t| ("elif", t)));
                }
                Stmt::While(s) => tests.push(("while", &s.test)),
                _ => {}
            }
        }
        for expr in &body.exprs {
            let generators = match expr {
                Expr::If(e) => {
                    tests.push(("if", &e.test));
                    continue;
                }
                Expr::ListComp(c) => &c.generators,
                Expr::SetComp(c) => &c.generators,
                Expr::DictComp(c) => &c.generators,
                Expr::Generator(c) => &c.generators,
                _ => continue,
            };
            tests.extend(generators.iter().flat_map(|g| &g.ifs).map(|t| ("if", t)));
        }
        let mutations = tests
            .into_iter()
            .map(|(keyword, test)| {
                let text = f.text(test);
                let what = format!("{keyword} {0} → {keyword} not ({0})", snippet(text));
                Mutation::replace(f, test.range(), format!("not ({text})"), what)
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
    fn statements_ternaries_and_filters() {
        let code = "def f(xs):\n    while (xs and\n           xs[0]):\n        xs = xs[1:]\n    if len(xs) > 2:\n        return [x for x in xs if x]\n    elif xs:\n        return 1 if xs else 2\n";
        let got = apply_all(&NegateCondition, code);
        let expect = [
            (
                "while (not (xs and\n           xs[0])):",
                "line 2: while xs and xs[0] → while not (xs and xs[0])",
            ),
            (
                "if not (len(xs) > 2):",
                "line 5: if len(xs) > 2 → if not (len(xs) > 2)",
            ),
            ("[x for x in xs if not (x)]", "line 6: if x → if not (x)"),
            ("elif not (xs):", "line 7: elif xs → elif not (xs)"),
            ("1 if not (xs) else 2", "line 8: if xs → if not (xs)"),
        ];
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((code, note), (part, want)) in got.iter().zip(expect) {
            assert!(code.contains(part), "{part} not in {code}");
            assert_eq!(note, want);
        }
        assert_eq!(
            got[1].0,
            code.replace("if len(xs) > 2:", "if not (len(xs) > 2):")
        );
    }

    #[test]
    fn no_site_without_conditions() {
        assert!(apply_all(&NegateCondition, "def f(x):\n    return [y for y in x]\n").is_empty());
    }
}
