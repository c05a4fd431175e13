//! Mutation of known-good arguments: values *near* an example call exercise
//! the same code paths with small differences, which random draws rarely hit.
//!
//! Only literals are touched (ints, floats, bools, strings and containers of
//! them); a mutation keeps the Python type, so the call stays well-typed.
//! Unmutated sub-expressions are copied verbatim from the source.

use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{self as ast, Expr, Number};
use ruff_text_size::Ranged;

use super::random::{float_repr, py_str_repr, tuple_src};

/// A nearby value for a literal argument's source, or `None` when it is not a
/// mutable literal (names, calls, `None`, bytes) or the mutation was a no-op.
pub fn mutate_arg(src: &str, rng: &mut ChaCha8Rng) -> Option<String> {
    let parsed = ruff_python_parser::parse_expression(src.trim()).ok()?;
    let src = src.trim();
    let out = mutate_expr(parsed.expr(), src, rng)?;
    (out != src).then_some(out)
}

fn int_value(e: &Expr) -> Option<i64> {
    match e {
        Expr::NumberLiteral(ast::ExprNumberLiteral {
            value: Number::Int(i),
            ..
        }) => i.as_i64(),
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => int_value(&u.operand).map(|v| -v),
        _ => None,
    }
}

fn float_value(e: &Expr) -> Option<f64> {
    match e {
        Expr::NumberLiteral(ast::ExprNumberLiteral {
            value: Number::Float(f),
            ..
        }) => Some(*f),
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => float_value(&u.operand).map(|v| -v),
        _ => None,
    }
}

fn mutate_expr(e: &Expr, src: &str, rng: &mut ChaCha8Rng) -> Option<String> {
    if let Some(v) = int_value(e) {
        let delta: i64 = match rng.gen_range(0..4) {
            0 => 1,
            1 => -1,
            2 => rng.gen_range(2..=10) * if rng.gen_bool(0.5) { 1 } else { -1 },
            _ => v.saturating_mul(-2), // negate (0 stays 0; caught below)
        };
        let new = v.saturating_add(delta);
        return Some(if new == v { v + 1 } else { new }.to_string());
    }
    if let Some(v) = float_value(e) {
        let new = match rng.gen_range(0..3) {
            0 => v + 1.0,
            1 => v - 0.5,
            _ => -v * 2.0 + 0.25,
        };
        return new.is_finite().then(|| float_repr(new));
    }
    let text = |x: &Expr| src[x.range()].to_string();
    match e {
        Expr::BooleanLiteral(b) => Some(if b.value { "False" } else { "True" }.into()),
        Expr::StringLiteral(s) => Some(py_str_repr(&mutate_str(s.value.to_str(), rng))),
        Expr::List(l) => Some(format!("[{}]", mutate_seq(&l.elts, src, rng).join(", "))),
        Expr::Tuple(t) => Some(tuple_src(mutate_seq(&t.elts, src, rng))),
        Expr::Set(s) => {
            let items = mutate_seq(&s.elts, src, rng);
            Some(if items.is_empty() {
                "set()".into()
            } else {
                format!("{{{}}}", items.join(", "))
            })
        }
        Expr::Dict(d) if !d.items.is_empty() && d.items.iter().all(|i| i.key.is_some()) => {
            let mut items: Vec<(String, String)> = d
                .items
                .iter()
                .map(|i| (text(i.key.as_ref().unwrap()), text(&i.value)))
                .collect();
            let i = rng.gen_range(0..items.len());
            match mutate_expr(&d.items[i].value, src, rng) {
                Some(v) if rng.gen_bool(0.7) => items[i].1 = v,
                _ => {
                    items.remove(i);
                }
            }
            let body: Vec<String> = items
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            Some(format!("{{{}}}", body.join(", ")))
        }
        _ => None,
    }
}

/// Changes, inserts or deletes one character.
fn mutate_str(s: &str, rng: &mut ChaCha8Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let pick = *['a', 'z', 'A', '0', ' ', 'é'].choose(rng).unwrap();
    if chars.is_empty() {
        return pick.to_string();
    }
    let i = rng.gen_range(0..chars.len());
    match rng.gen_range(0..3) {
        0 if chars[i] != pick => chars[i] = pick,
        1 => chars.insert(i, pick),
        _ => {
            chars.remove(i);
        }
    }
    chars.into_iter().collect()
}

/// Mutates one element, or drops, duplicates or appends one.
fn mutate_seq(elts: &[Expr], src: &str, rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut items: Vec<String> = elts.iter().map(|x| src[x.range()].to_string()).collect();
    if items.is_empty() {
        items.push("0".into());
        return items;
    }
    let i = rng.gen_range(0..items.len());
    match rng.gen_range(0..4) {
        0 => match mutate_expr(&elts[i], src, rng) {
            Some(v) => items[i] = v,
            None => items.push(items[i].clone()),
        },
        1 => {
            items.remove(i);
        }
        2 => items.insert(i, items[i].clone()),
        _ => {
            let extra = mutate_expr(&elts[i], src, rng).unwrap_or_else(|| items[i].clone());
            items.push(extra);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::ValueType;
    use rand::SeedableRng;

    #[test]
    fn mutations_change_value_but_keep_type() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for src in [
            "3",
            "-7",
            "0",
            "2.5",
            "True",
            "'abc'",
            "''",
            "[1, 2, 3]",
            "[]",
            "(1, 'a')",
            "{'a': 1, 'b': 2}",
            "{1, 2}",
            "[[1], [2, 3]]",
        ] {
            let want = ValueType::of_literal(src);
            for _ in 0..50 {
                let out = mutate_arg(src, &mut rng).unwrap_or_else(|| panic!("{src} not mutated"));
                assert_ne!(out, src);
                assert!(
                    ruff_python_parser::parse_expression(&out).is_ok(),
                    "{src} -> {out}"
                );
                let got = ValueType::of_literal(&out);
                // Containers may become empty, which loses the element type.
                let same_kind = std::mem::discriminant(&got) == std::mem::discriminant(&want);
                assert!(same_kind, "{src} -> {out}: {got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn non_literals_are_left_alone() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for src in ["x", "foo(1)", "None", "b'ab'", "a + 1"] {
            assert_eq!(mutate_arg(src, &mut rng), None, "{src}");
        }
    }

    #[test]
    fn deterministic() {
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..20)
                .map(|_| mutate_arg("[1, 'ab', 2.0]", &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
    }
}
