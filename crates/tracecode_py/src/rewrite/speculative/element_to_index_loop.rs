//! `for x in SEQ:` becomes a loop over the indices of `SEQ` that reads each
//! element by subscript:
//!
//! ```python
//! for x in xs:              for i in range(len(xs)):
//!     total += x       →        x = xs[i]
//!                               total += x
//! ```
//!
//! The target must be a plain name and `SEQ` a name, attribute or subscript
//! chain without calls (it is evaluated once per iteration afterwards, so a
//! call would repeat its effects). The index is a fresh name; the body keeps
//! its text. Loops with an `else`, `async for` and headers without their own
//! line are refused.
//!
//! Speculative: it is right for lists, tuples and strings left alone by the
//! body, and wrong when `SEQ` is a set, dict, generator or other iterator (no
//! `len` or indexing: an exception, or dict keys read as values), when the
//! body appends to or removes from `SEQ` (the indices no longer walk the
//! elements it would have met), or when the body rebinds `SEQ` or the target
//! is part of `SEQ` (`for node in node.children`). The traces reject those.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::helpers::any_over_expr;
use ruff_python_ast::{Expr, Stmt, StmtFor};
use ruff_text_size::Ranged;

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::names::Taken;
use crate::rewrite::support::{
    header_colon_end, next_line_start, pick, scopes_or_suspends, suites,
};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct ElementToIndexLoop;

impl Rewrite for ElementToIndexLoop {
    fn kind(&self) -> RewriteKind {
        RewriteKind::ElementToIndexLoop
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let loops: Vec<&StmtFor> = suites(f.def())
            .iter()
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_for_stmt)
            .filter(|l| convertible(f, l))
            .collect();
        let l = pick(
            loops,
            rng,
            "no `for x in seq` loop over a name or attribute",
        )?;
        let colon_end = header_colon_end(f, l.iter.end()).expect("checked by convertible");
        let mut taken = Taken::from_source(f.source);
        // `i` reads most naturally; a numbered one when the function uses it.
        let index = if taken.claim("i") {
            "i".to_string()
        } else {
            taken.fresh("i")
        };
        let (target, seq) = (f.text(l.target.as_ref()), f.text(l.iter.as_ref()));
        let read = format!("{target} = {seq}[{index}]");
        let first = &l.body[0];
        let fetch = if f.line_start(first.start()) < colon_end {
            // A one-line loop: the read joins the body's simple statements.
            TextEdit::insert(first.start(), format!("{read}; "))
        } else {
            let body_indent = f.indent_at(first.start());
            TextEdit::insert(
                next_line_start(f, colon_end),
                format!("{body_indent}{read}\n"),
            )
        };
        let edits = vec![
            TextEdit::replace(l.target.range(), index),
            TextEdit::replace(l.iter.range(), format!("range(len({seq}))")),
            fetch,
        ];
        let code = apply_edits(f.source, edits)?;
        let note = format!(
            "line {}: for {target} in {seq} → loop over its indices",
            f.line_number(l.start())
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

fn convertible(f: &ParsedFunction, l: &StmtFor) -> bool {
    let seq = l.iter.as_ref();
    let plain_seq = matches!(seq, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_))
        && !any_over_expr(seq, |e| e.is_call_expr() || scopes_or_suspends(e));
    !l.is_async
        && l.orelse.is_empty()
        && l.target.is_name_expr()
        && plain_seq
        // Copied into the body, so it must not rely on brackets or hold comments.
        && !f.text(seq).contains('\n')
        && f.owns_lines(l)
        && header_colon_end(f, seq.end()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rewrite(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        ElementToIndexLoop
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn reads_each_element_by_index_keeping_comments() {
        let src = "def total(order):\n    s = 0\n    for item in order.items:  # each line\n        # price times quantity\n        s += item.price * item.qty\n    return s\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def total(order):\n    s = 0\n    for i in range(len(order.items)):  # each line\n        item = order.items[i]\n        # price times quantity\n        s += item.price * item.qty\n    return s\n"
        );
    }

    #[test]
    fn avoids_taken_names_and_handles_one_line_loops() {
        let src = "def f(rows, i):\n\tfor r in rows[i]: print(r)\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def f(rows, i):\n\tfor i0 in range(len(rows[i])): r = rows[i][i0]; print(r)\n"
        );
    }

    #[test]
    fn rewrites_loops_the_traces_then_reject() {
        // Sets have a length but no indexing: the variant raises TypeError.
        assert_eq!(
            rewrite("def f(xs):\n    for x in xs:\n        print(x)\n").unwrap(),
            "def f(xs):\n    for i in range(len(xs)):\n        x = xs[i]\n        print(x)\n"
        );
        // Appending while iterating: the original never ends (or meets the
        // new elements), the variant stops after the initial length.
        assert_eq!(
            rewrite("def f(q):\n    for x in q:\n        if x > 0:\n            q.append(x - 1)\n").unwrap(),
            "def f(q):\n    for i in range(len(q)):\n        x = q[i]\n        if x > 0:\n            q.append(x - 1)\n"
        );
    }

    #[test]
    fn refuses_other_loops() {
        for src in [
            "def f(xs):\n    for x in sorted(xs):\n        print(x)\n",
            "def f(xs):\n    for x in xs.values():\n        print(x)\n",
            "def f(d):\n    for d[0] in range(3):\n        pass\n",
            "def f(xs):\n    for a, b in xs:\n        print(a)\n",
            "def f(xs):\n    for x in xs:\n        pass\n    else:\n        return 1\n",
            "async def f(xs):\n    async for x in xs:\n        pass\n",
            // A comment inside the sequence expression would be copied away from it.
            "def f(xs):\n    for x in xs[  # first row\n            0]:\n        pass\n",
            "def f(xs):\n    while xs:\n        xs.pop()\n",
        ] {
            assert!(
                matches!(rewrite(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
