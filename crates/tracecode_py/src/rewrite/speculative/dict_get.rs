//! `d.get(k, v)` ↔ an explicit membership test, in both directions:
//!
//! ```python
//! n = counts.get(w, 0)              →  n = (counts[w] if w in counts else 0)
//! memo.get((i, j))                  →  (memo[(i, j)] if (i, j) in memo else None)
//! d[k] if k in d else v             →  d.get(k, v)
//! v if k not in d else d[k]         →  d.get(k, v)
//! if k in d:                           x = d.get(k, v)
//!     x = d[k]                     →
//! else:
//!     x = v
//! ```
//!
//! `d` and `k` of a `.get` call to expand must be plain (names, attributes,
//! subscripts, literals and operators on them), since the expansion reads
//! them twice.
//!
//! Speculative: the forms agree for a plain `dict`, and differ when `d` is
//! a list or string (`in` works, `.get` raises `AttributeError`), a
//! `defaultdict` or `Counter` (`d[k]` on a missing key calls `__missing__`,
//! `.get` does not, and `k in d` may then turn true), when `v` has effects
//! or raises (`.get` evaluates it even when `k` is present), and when
//! reading `d` or `k` twice is observable. The traces reject those.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{CmpOp, Expr, ExprCall, ExprIf, OperatorPrecedence, Stmt, StmtIf};
use ruff_text_size::{Ranged, TextRange};

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::support::{operand, pick, suites, Expressions};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct DictGet;

impl Rewrite for DictGet {
    fn kind(&self) -> RewriteKind {
        RewriteKind::DictGet
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let exprs = Expressions::of(f.def());
        let expression_sites = exprs.all.iter().filter_map(|e| match e {
            Expr::Call(c) => expanded(f, c).map(|t| (c.range(), t, ".get → if/else")),
            Expr::If(c) => conditional_to_get(f, c).map(|t| (c.range(), t, "if/else → .get")),
            _ => None,
        });
        let suites = suites(f.def());
        let statement_sites = suites
            .iter()
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_if_stmt)
            .filter_map(|s| if_to_get(f, s).map(|t| (s.range(), t, "if/else → .get")));
        let sites: Vec<(TextRange, String, &str)> = expression_sites
            .chain(statement_sites)
            .filter(|(range, ..)| !f.has_comment_in(*range))
            .collect();
        let (range, text, what) = pick(sites, rng, "no .get call or membership test to rewrite")?;
        let note = format!("line {}: {what}", f.line_number(range.start()));
        let code = apply_edits(f.source, vec![TextEdit::replace(range, text)])?;
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// `d.get(k, v)` → `(d[k] if k in d else v)`, `d.get(k)` with `None`.
fn expanded(f: &ParsedFunction, call: &ExprCall) -> Option<String> {
    let method = call.func.as_attribute_expr()?;
    if method.attr.as_str() != "get" || !call.arguments.keywords.is_empty() {
        return None;
    }
    let (key, default) = match &*call.arguments.args {
        [k] => (k, "None".to_string()),
        [k, v] if !v.is_starred_expr() => (k, operand(f, v, OperatorPrecedence::Lambda)),
        _ => return None,
    };
    let d = &method.value;
    if !plain(d) || !plain(key) {
        return None;
    }
    let member = OperatorPrecedence::BitOr;
    Some(format!(
        "({}[{}] if {} in {} else {default})",
        operand(f, d, OperatorPrecedence::CallAttribute),
        f.text(key),
        operand(f, key, member),
        operand(f, d, member),
    ))
}

/// Whether `e` visibly has no effects: names, literals, attribute reads,
/// subscripts and operators on them (no calls, no comprehensions).
fn plain(e: &Expr) -> bool {
    match e {
        Expr::Name(_)
        | Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_) => true,
        Expr::Attribute(a) => plain(&a.value),
        Expr::Subscript(s) => plain(&s.value) && plain(&s.slice),
        Expr::Slice(s) => [&s.lower, &s.upper, &s.step]
            .into_iter()
            .all(|part| part.as_deref().is_none_or(plain)),
        Expr::Tuple(t) => t.elts.iter().all(plain),
        Expr::BinOp(b) => plain(&b.left) && plain(&b.right),
        Expr::UnaryOp(u) => plain(&u.operand),
        _ => false,
    }
}

/// `d[k] if k in d else v` (or `v if k not in d else d[k]`) → `d.get(k, v)`.
fn conditional_to_get(f: &ParsedFunction, c: &ExprIf) -> Option<String> {
    let (d, k, v) = guarded_read(f, &c.test, &c.body, &c.orelse)?;
    Some(get_call(f, d, k, v))
}

/// `if k in d: x = d[k]` + `else: x = v` (or the `not in` mirror) →
/// `x = d.get(k, v)`.
fn if_to_get(f: &ParsedFunction, s: &StmtIf) -> Option<String> {
    let [else_clause] = s.elif_else_clauses.as_slice() else {
        return None;
    };
    let ([Stmt::Assign(then)], [Stmt::Assign(other)], None) = (
        s.body.as_slice(),
        else_clause.body.as_slice(),
        &else_clause.test,
    ) else {
        return None;
    };
    let ([target], [other_target]) = (then.targets.as_slice(), other.targets.as_slice()) else {
        return None;
    };
    if f.text(target) != f.text(other_target) {
        return None;
    }
    let (d, k, v) = guarded_read(f, &s.test, &then.value, &other.value)?;
    Some(format!("{} = {}", f.text(target), get_call(f, d, k, v)))
}

/// `(d, k, v)` when `test` is `k in d` and `present` is `d[k]` (the value
/// when the test holds), `absent` being `v`; or the `not in` mirror, where
/// `present` and `absent` trade places. `d` and `k` are matched by text.
fn guarded_read<'e>(
    f: &ParsedFunction,
    test: &'e Expr,
    present: &'e Expr,
    absent: &'e Expr,
) -> Option<(&'e Expr, &'e Expr, &'e Expr)> {
    let test = test.as_compare_expr()?;
    let ([op], [d]) = (&*test.ops, &*test.comparators) else {
        return None;
    };
    let (read, v) = match op {
        CmpOp::In => (present, absent),
        CmpOp::NotIn => (absent, present),
        _ => return None,
    };
    let read = read.as_subscript_expr()?;
    let k = test.left.as_ref();
    let same = f.text(read.value.as_ref()) == f.text(d) && f.text(read.slice.as_ref()) == f.text(k);
    (same && !k.is_starred_expr()).then_some((d, k, v))
}

/// `d.get(k, v)`, with parentheses where a piece would bind differently.
fn get_call(f: &ParsedFunction, d: &Expr, k: &Expr, v: &Expr) -> String {
    let arg = OperatorPrecedence::Lambda;
    format!(
        "{}.get({}, {})",
        operand(f, d, OperatorPrecedence::CallAttribute),
        operand(f, k, arg),
        operand(f, v, arg)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn dict_get(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        DictGet
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn get_expands_to_a_membership_test() {
        assert_eq!(
            dict_get("def count(words, counts):\n    for w in words:\n        # one more\n        counts[w] = counts.get(w, 0) + 1  # tally\n    return counts\n")
                .unwrap(),
            "def count(words, counts):\n    for w in words:\n        # one more\n        counts[w] = (counts[w] if w in counts else 0) + 1  # tally\n    return counts\n"
        );
        assert_eq!(
            dict_get("def f(self, i, j):\n    return self.memo.get((i, j - 1))\n").unwrap(),
            "def f(self, i, j):\n    return (self.memo[(i, j - 1)] if (i, j - 1) in self.memo else None)\n"
        );
        // A default that binds looser than a conditional's branch keeps its parentheses.
        assert_eq!(
            dict_get("def f(d, k):\n    return d.get(k, (x := 1))\n").unwrap(),
            "def f(d, k):\n    return (d[k] if k in d else (x := 1))\n"
        );
    }

    #[test]
    fn expansion_changes_behaviour_on_a_defaultdict_and_with_effects() {
        // With `d = defaultdict(list)` the original returns `None` for a
        // missing key and the variant `[]` (and `d` gains the key); with a
        // string `d` only the variant succeeds. The traces tell.
        assert_eq!(
            dict_get("def f(d, k):\n    return d.get(k)\n").unwrap(),
            "def f(d, k):\n    return (d[k] if k in d else None)\n"
        );
        // `.get` always evaluated `log(k)`; the conditional only when missing.
        assert_eq!(
            dict_get("def f(d, k):\n    return d.get(k, log(k))\n").unwrap(),
            "def f(d, k):\n    return (d[k] if k in d else log(k))\n"
        );
    }

    #[test]
    fn membership_tests_become_get() {
        assert_eq!(
            dict_get("def f(seen, x):\n    # last index\n    return seen[x] if x in seen else -1  # or none\n").unwrap(),
            "def f(seen, x):\n    # last index\n    return seen.get(x, -1)  # or none\n"
        );
        assert_eq!(
            dict_get("def f(seen, x):\n    return [] if x not in seen else seen[x]\n").unwrap(),
            "def f(seen, x):\n    return seen.get(x, [])\n"
        );
        // Changes behaviour when `seen` is a list: `x in seen` works there,
        // `seen.get` raises AttributeError.
        assert_eq!(
            dict_get("def f(d, k):\n    # cached?\n    if k in d:\n        v = d[k]\n    else:\n        v = 0, 0  # empty\n    return v\n")
                .unwrap(),
            "def f(d, k):\n    # cached?\n    v = d.get(k, (0, 0))  # empty\n    return v\n"
        );
        assert_eq!(
            dict_get("def f(d, k, out):\n    if k not in d:\n        out[k] = None\n    else:\n        out[k] = d[k]\n")
                .unwrap(),
            "def f(d, k, out):\n    out[k] = d.get(k, None)\n"
        );
    }

    #[test]
    fn every_site_is_a_candidate() {
        let outs = crate::rewrite::distinct_outputs(
            &DictGet,
            "def f(d, k):\n    a = d.get(k, 1)\n    b = d[k] if k in d else 2\n    return a, b\n",
        );
        assert_eq!(
            outs,
            [
                "def f(d, k):\n    a = (d[k] if k in d else 1)\n    b = d[k] if k in d else 2\n    return a, b\n",
                "def f(d, k):\n    a = d.get(k, 1)\n    b = d.get(k, 2)\n    return a, b\n",
            ]
        );
    }

    #[test]
    fn refuses_other_shapes_and_comments_inside() {
        for src in [
            // Reading a call's value twice would call it twice.
            "def f(k):\n    return load().get(k, 0)\n",
            "def f(d):\n    return d.get(key(), 0)\n",
            // Not `.get(k[, v])`.
            "def f(d, k):\n    return d.get(k, default=0)\n",
            "def f(d, a):\n    return d.get(*a)\n",
            "def f(d, k):\n    return d.pop(k, 0)\n",
            // The test and the read disagree.
            "def f(d, e, k):\n    return d[k] if k in e else 0\n",
            "def f(d, k, j):\n    return d[k] if j in d else 0\n",
            "def f(d, k):\n    return d[k] if k not in d else 0\n",
            "def f(d, k):\n    if k in d:\n        x = d[k]\n    else:\n        y = 0\n    return x\n",
            "def f(d, k):\n    if k in d:\n        x = d[k]\n    elif k:\n        x = 0\n    return x\n",
            // A comment would be lost.
            "def f(d, k):\n    return d.get(k,  # key\n                 0)\n",
            "def f(d, k):\n    if k in d:\n        # hit\n        x = d[k]\n    else:\n        x = 0\n    return x\n",
        ] {
            assert!(
                matches!(dict_get(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
