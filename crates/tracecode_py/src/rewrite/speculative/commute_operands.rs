//! Swaps the two operands of an operator that is commutative on numbers or
//! booleans: `+`, `*`, `&`, `|`, `^`, a single `==` or `!=`, and a
//! two-operand `and`/`or`. Any such expression of the body may be picked,
//! nested ones included:
//!
//! ```python
//! total = price * qty + tax    →   total = tax + price * qty
//! if done or i == n:           →   if i == n or done:
//! ```
//!
//! Operands keep their own parentheses, and one moved to the right of a
//! left-associative operator gets new ones when it binds as loosely
//! (`a - b + c` → `c + (a - b)`), so the result groups as before.
//!
//! Speculative: the operands now evaluate in the other order (visible when
//! both have effects or raise), `+` and `*` on strings, lists and tuples
//! concatenate or repeat in the other order, `and`/`or` short-circuit on the
//! other operand and return an operand (`x or []` is not `[] or x`), and
//! `==` may dispatch to the other operand's `__eq__`. The traces reject the
//! variants where any of that shows.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{BoolOp, CmpOp, Expr, Operator, OperatorPrecedence};
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::support::{pick, precedence, Expressions};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct CommuteOperands;

impl Rewrite for CommuteOperands {
    fn kind(&self) -> RewriteKind {
        RewriteKind::CommuteOperands
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let exprs = Expressions::of(f.def());
        let sites: Vec<(&Expr, Site)> = exprs
            .all
            .iter()
            .filter(|e| !f.has_comment_in(e.range()))
            .filter_map(|e| site(e).map(|s| (*e, s)))
            // `x * x` would swap to the same text.
            .filter(|(_, s)| f.text(s.left) != f.text(s.right))
            .collect();
        let (e, s) = pick(sites, rng, "no commutative operator to swap")?;
        let left = left_extent(f, e.start(), s.left);
        let right = right_extent(f, e.end(), s.right);
        let mut between = f.source[TextRange::new(left.end(), right.start())].to_string();
        // The old right operand may move left unchanged (it bound tighter);
        // the old left one, unless parenthesized already, needs parentheses
        // when it binds only as tightly, since operators group to the left
        // (`a - b + c` → `c + (a - b)`).
        let new_left = f.source[right].to_string();
        let new_right = if left == s.left.range() && precedence(s.left) <= s.level {
            format!("({})", f.text(s.left))
        } else {
            f.source[left].to_string()
        };
        // `(a)and b` → `b and (a)`: keep keywords apart from names.
        if word_end(&new_left) && word_start(&between) {
            between.insert(0, ' ');
        }
        if word_end(&between) && word_start(&new_right) {
            between.push(' ');
        }
        let text = format!("{new_left}{between}{new_right}");
        let code = apply_edits(
            f.source,
            vec![TextEdit::replace(
                TextRange::new(left.start(), right.end()),
                text,
            )],
        )?;
        let note = format!(
            "line {}: swapped the operands of {}",
            f.line_number(e.start()),
            s.op
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// A binary expression whose operands can be swapped.
struct Site<'a> {
    left: &'a Expr,
    right: &'a Expr,
    op: &'static str,
    /// The operator's precedence.
    level: OperatorPrecedence,
}

fn site(e: &Expr) -> Option<Site<'_>> {
    match e {
        Expr::BinOp(b) => matches!(
            b.op,
            Operator::Add | Operator::Mult | Operator::BitAnd | Operator::BitOr | Operator::BitXor
        )
        .then(|| Site {
            left: &b.left,
            right: &b.right,
            op: b.op.as_str(),
            level: OperatorPrecedence::from(b.op),
        }),
        Expr::Compare(c) => match (&*c.ops, &*c.comparators) {
            ([op @ (CmpOp::Eq | CmpOp::NotEq)], [right]) => Some(Site {
                left: &c.left,
                right,
                op: op.as_str(),
                level: OperatorPrecedence::ComparisonsMembershipIdentity,
            }),
            _ => None,
        },
        Expr::BoolOp(b) => match &*b.values {
            [left, right] => Some(Site {
                left,
                right,
                op: match b.op {
                    BoolOp::And => "and",
                    BoolOp::Or => "or",
                },
                level: OperatorPrecedence::from(b.op),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// The range of the left operand `left` of an expression starting at
/// `start`, with the parentheses written around it (its own range leaves
/// them out): those opened between `start` and the operand, closed as many
/// `)` after it (only blanks lie between, comments being refused).
fn left_extent(f: &ParsedFunction, start: TextSize, left: &Expr) -> TextRange {
    let opened = f.source[TextRange::new(start, left.start())]
        .matches('(')
        .count();
    let after = &f.source[left.end().to_usize()..];
    match opened
        .checked_sub(1)
        .and_then(|n| after.match_indices(')').nth(n))
    {
        Some((i, _)) => TextRange::new(start, left.end() + TextSize::try_from(i + 1).unwrap()),
        None => left.range(),
    }
}

/// The mirror of [`left_extent`] for the right operand of an expression
/// ending at `end`.
fn right_extent(f: &ParsedFunction, end: TextSize, right: &Expr) -> TextRange {
    let closed = f.source[TextRange::new(right.end(), end)]
        .matches(')')
        .count();
    let before = &f.source[..right.start().to_usize()];
    match closed
        .checked_sub(1)
        .and_then(|n| before.rmatch_indices('(').nth(n))
    {
        Some((i, _)) => TextRange::new(TextSize::try_from(i).unwrap(), end),
        None => right.range(),
    }
}

fn word_end(text: &str) -> bool {
    text.chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

fn word_start(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every distinct result over a few seeds, sorted.
    fn commute_all(src: &str) -> Vec<String> {
        crate::rewrite::distinct_outputs(&CommuteOperands, src)
    }

    #[test]
    fn swaps_each_commutative_operator_nested_ones_included() {
        assert_eq!(
            commute_all("def total(price, qty, tax):\n    # before tax\n    return price * qty + tax  # sum\n"),
            [
                "def total(price, qty, tax):\n    # before tax\n    return qty * price + tax  # sum\n",
                "def total(price, qty, tax):\n    # before tax\n    return tax + price * qty  # sum\n",
            ]
        );
        assert_eq!(
            commute_all("def f(done, i, n):\n    if done or i == n:\n        return 1\n"),
            [
                "def f(done, i, n):\n    if done or n == i:\n        return 1\n",
                "def f(done, i, n):\n    if i == n or done:\n        return 1\n",
            ]
        );
        assert_eq!(
            commute_all("def f(a, b):\n    return a & b, a | b, a ^ b != 0\n"),
            [
                "def f(a, b):\n    return a & b, a | b, 0 != a ^ b\n",
                "def f(a, b):\n    return a & b, a | b, b ^ a != 0\n",
                "def f(a, b):\n    return a & b, b | a, a ^ b != 0\n",
                "def f(a, b):\n    return b & a, a | b, a ^ b != 0\n",
            ]
        );
    }

    #[test]
    fn keeps_the_grouping() {
        // The left operand moves right: same level needs parentheses.
        assert_eq!(
            commute_all("def f(a, b, c):\n    return a - b + c\n"),
            ["def f(a, b, c):\n    return c + (a - b)\n"]
        );
        // Written parentheses travel with their operand.
        assert_eq!(
            commute_all("def f(a, b, c):\n    return (a - b) * ( c )\n"),
            ["def f(a, b, c):\n    return ( c ) * (a - b)\n"]
        );
        assert_eq!(
            commute_all("def f(a, b):\n    return (a)and(b)\n"),
            ["def f(a, b):\n    return (b)and(a)\n"]
        );
        assert_eq!(
            commute_all("def f(a, b):\n    return (a)and b\n"),
            ["def f(a, b):\n    return b and (a)\n"]
        );
        assert_eq!(
            commute_all("def f(a, b):\n    return (a == b) == (not b)\n"),
            [
                "def f(a, b):\n    return (b == a) == (not b)\n",
                "def f(a, b):\n    return (not b) == (a == b)\n",
            ]
        );
        // Multi-line operands inside brackets stay inside them.
        assert_eq!(
            commute_all("def f(xs, ys):\n    return (xs +\n            ys)\n"),
            ["def f(xs, ys):\n    return (ys +\n            xs)\n"]
        );
    }

    #[test]
    fn swaps_operands_whose_order_matters() {
        // Each of these changes behaviour for some inputs, which only a run
        // shows: concatenation order, the operand `or` returns, and the
        // order of two calls with effects.
        assert_eq!(
            commute_all("def greet(name):\n    return 'hi ' + name\n"),
            ["def greet(name):\n    return name + 'hi '\n"]
        );
        assert_eq!(
            commute_all("def f(xs):\n    return xs or []\n"),
            ["def f(xs):\n    return [] or xs\n"]
        );
        assert_eq!(
            commute_all("def f(a):\n    return g(a) + h(a)\n"),
            ["def f(a):\n    return h(a) + g(a)\n"]
        );
    }

    #[test]
    fn refuses_other_operators_and_comments_inside() {
        for src in [
            "def f(a, b):\n    return a - b, a / b, a ** b, a < b, a in b, a is b\n",
            "def f(a, b, c):\n    return a == b == c, a and b and c\n",
            "def f(a, b):\n    return (a +  # left\n            b)\n",
            "def f(a):\n    return -a\n",
            "def f(it):\n    return next(it) * next(it)\n",
        ] {
            assert!(commute_all(src).is_empty(), "{src}");
        }
    }
}
