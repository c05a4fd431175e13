//! Constant replacement: integer and float literals + 1, `True` ↔ `False`,
//! and an `X` appended to string and bytes literals.
//!
//! `+ 1` rather than `- 1` never turns a literal into `0`, so it rarely makes
//! a mere `ZeroDivisionError`. Integers are written back in decimal (`0xff` →
//! `256`). `X` is safe after any escape sequence (it is neither an octal nor a
//! hex digit). Docstrings, defaults and annotations are not part of [`Body`].

use ruff_python_ast::{Expr, Number, StringFlags};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::body::{snippet, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator};
use crate::edit::ParsedFunction;

pub struct Constant;

impl MutationOperator for Constant {
    fn kind(&self) -> MutantKind {
        MutantKind::Constant
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let mut out = Vec::new();
        for expr in Body::of(f).exprs {
            let (range, new) = match expr {
                Expr::NumberLiteral(n) => match &n.value {
                    Number::Int(i) => match i.as_u64().and_then(|v| v.checked_add(1)) {
                        Some(v) => (n.range(), v.to_string()),
                        None => continue,
                    },
                    Number::Float(x) if x.is_finite() && x + 1.0 != *x => {
                        (n.range(), format!("{:?}", x + 1.0))
                    }
                    _ => continue,
                },
                Expr::BooleanLiteral(b) => {
                    (b.range(), if b.value { "False" } else { "True" }.into())
                }
                Expr::StringLiteral(s) => {
                    let last = s.value.as_slice().last().expect("at least one part");
                    with_x(f, last.range(), last.flags.closer_len())
                }
                Expr::BytesLiteral(s) => {
                    let last = s.value.as_slice().last().expect("at least one part");
                    with_x(f, last.range(), last.flags.closer_len())
                }
                _ => continue,
            };
            let what = format!("{} → {}", snippet(&f.source[range]), snippet(&new));
            out.push(Mutation::replace(f, range, new, what));
        }
        in_source_order(out)
    }
}

/// The string literal at `range` with `X` inserted before its closing
/// quote(s). Of an implicit concatenation only the last part is passed in.
fn with_x(f: &ParsedFunction, range: TextRange, closer: TextSize) -> (TextRange, String) {
    let literal = f.text(&range);
    let (body, close) = literal.split_at(literal.len() - closer.to_usize());
    (range, format!("{body}X{close}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutant::apply_all;

    #[test]
    fn numbers_bools_strings() {
        let code = "def f(s, n: int = 3):\n    \"\"\"Doc 1.\"\"\"\n    s = s + 'a' \"\" + '''x\\\\'''\n    return (n - 0x10, 2.5, True, b'', -1, 1j)\n";
        let got = apply_all(&Constant, code);
        // `'a' ""` is one literal: only its last part changes.
        let expect = [
            (
                "s = s + 'a' \"X\" + '''x\\\\'''",
                "(n - 0x10, 2.5, True, b'', -1, 1j)",
                "line 3: \"\" → \"X\"",
            ),
            (
                "s = s + 'a' \"\" + '''x\\\\X'''",
                "(n - 0x10, 2.5, True, b'', -1, 1j)",
                "line 3: '''x\\\\''' → '''x\\\\X'''",
            ),
            (
                "s = s + 'a' \"\" + '''x\\\\'''",
                "(n - 17, 2.5, True, b'', -1, 1j)",
                "line 4: 0x10 → 17",
            ),
            (
                "s = s + 'a' \"\" + '''x\\\\'''",
                "(n - 0x10, 3.5, True, b'', -1, 1j)",
                "line 4: 2.5 → 3.5",
            ),
            (
                "s = s + 'a' \"\" + '''x\\\\'''",
                "(n - 0x10, 2.5, False, b'', -1, 1j)",
                "line 4: True → False",
            ),
            (
                "s = s + 'a' \"\" + '''x\\\\'''",
                "(n - 0x10, 2.5, True, b'X', -1, 1j)",
                "line 4: b'' → b'X'",
            ),
            (
                "s = s + 'a' \"\" + '''x\\\\'''",
                "(n - 0x10, 2.5, True, b'', -2, 1j)",
                "line 4: 1 → 2",
            ),
        ];
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((code, note), (line3, ret, want)) in got.iter().zip(expect) {
            let full = format!(
                "def f(s, n: int = 3):\n    \"\"\"Doc 1.\"\"\"\n    {line3}\n    return {ret}\n"
            );
            assert_eq!(code, &full);
            assert_eq!(note, want);
        }
    }

    #[test]
    fn no_site_in_docstring_default_or_annotation() {
        let code = "def f(a: 'int' = 1):\n    'doc 2'\n    return a\n";
        assert!(apply_all(&Constant, code).is_empty());
    }
}
