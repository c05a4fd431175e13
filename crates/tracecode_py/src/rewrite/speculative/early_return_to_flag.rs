//! The `return`s of a loop become a result variable and a `break`, checked
//! right after the loop:
//!
//! ```python
//! while lo <= hi:                       _ret0 = None
//!     mid = (lo + hi) // 2              while lo <= hi:
//!     if a[mid] == t:                       mid = (lo + hi) // 2
//!         return mid            →           if a[mid] == t:
//!     ...                                       _ret0 = mid
//! return -1                                     break
//!                                           ...
//!                                       if _ret0 is not None:
//!                                           return _ret0
//!                                       return -1
//! ```
//!
//! Any `for` or `while` loop without `else` that is followed by another
//! statement of its block qualifies; every `return E` directly in its body
//! or in (nested) `if`s there is rewritten, so the loop has one exit style.
//! Returns inside nested loops, `try`, `with` or functions are left alone:
//! a `break` there would mean something else. The result variable is fresh.
//!
//! Speculative: a returned value of `None` no longer returns but falls
//! through to the code after the loop, which the traces catch whenever it
//! then does something else; the extra local is present on one side only.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{OperatorPrecedence, Stmt, StmtReturn};
use ruff_text_size::Ranged;

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::names::Taken;
use crate::rewrite::support::{indent_unit, next_line_start, operand, pick, suites};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct EarlyReturnToFlag;

impl Rewrite for EarlyReturnToFlag {
    fn kind(&self) -> RewriteKind {
        RewriteKind::EarlyReturnToFlag
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let mut sites = Vec::new();
        for suite in suites(f.def()) {
            // `windows(2)`: the loop must be followed by a statement.
            for pair in suite.stmts.windows(2) {
                let (body, orelse) = match &pair[0] {
                    Stmt::For(l) => (&l.body, &l.orelse),
                    Stmt::While(l) => (&l.body, &l.orelse),
                    _ => continue,
                };
                let mut returns = Vec::new();
                loop_returns(body, &mut returns);
                let rebuildable = returns.iter().all(|r| !f.has_comment_in(r.range()));
                if orelse.is_empty() && !returns.is_empty() && rebuildable {
                    sites.push((&pair[0], returns));
                }
            }
        }
        let (loop_, returns) = pick(sites, rng, "no loop with a return before more code")?;
        let result = Taken::from_source(f.source).fresh("_ret");
        let indent = f.indent_at(loop_.start());
        let unit = indent_unit(f);
        let mut edits = vec![
            TextEdit::insert(
                f.line_start(loop_.start()),
                format!("{indent}{result} = None\n"),
            ),
            TextEdit::insert(
                next_line_start(f, loop_.end()),
                format!("{indent}if {result} is not None:\n{indent}{unit}return {result}\n"),
            ),
        ];
        for r in &returns {
            let value = r.value.as_deref().expect("collected with a value");
            let assign = format!(
                "{result} = {}",
                operand(f, value, OperatorPrecedence::Lambda)
            );
            // A return sharing its line (`if c: return x`) stays on it.
            let text = if f.starts_line(*r) {
                format!("{assign}\n{}break", f.indent_at(r.start()))
            } else {
                format!("{assign}; break")
            };
            edits.push(TextEdit::replace(r.range(), text));
        }
        let code = apply_edits(f.source, edits)?;
        let note = format!(
            "line {}: loop returns → {result} and break",
            f.line_number(loop_.start())
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The `return E` statements that a `break` in the same place would leave
/// the loop from: directly in `stmts` or in `if` branches below them.
fn loop_returns<'a>(stmts: &'a [Stmt], out: &mut Vec<&'a StmtReturn>) {
    for stmt in stmts {
        match stmt {
            Stmt::Return(r) if r.value.is_some() => out.push(r),
            Stmt::If(s) => {
                loop_returns(&s.body, out);
                for clause in &s.elif_else_clauses {
                    loop_returns(&clause.body, out);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rewrite(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        EarlyReturnToFlag
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn every_return_of_the_loop_becomes_a_break() {
        let src = "def find(xs, key):\n    for i, x in enumerate(xs):\n        if x == key:\n            return i  # found\n        elif x is None: return -2\n        for y in x:\n            return y\n    # not there\n    return -1\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def find(xs, key):\n    _ret0 = None\n    for i, x in enumerate(xs):\n        if x == key:\n            _ret0 = i\n            break  # found\n        elif x is None: _ret0 = -2; break\n        for y in x:\n            return y\n    if _ret0 is not None:\n        return _ret0\n    # not there\n    return -1\n"
        );
    }

    #[test]
    fn nested_while_loop_with_tuple_result_and_fresh_name() {
        let src = "def pair(_ret0, n):\n    if n:\n        while n > 0:\n            n -= 1\n            return n, _ret0\n        print(n)\n    return None\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def pair(_ret0, n):\n    if n:\n        _ret1 = None\n        while n > 0:\n            n -= 1\n            _ret1 = (n, _ret0)\n            break\n        if _ret1 is not None:\n            return _ret1\n        print(n)\n    return None\n"
        );
    }

    #[test]
    fn applies_where_a_none_result_falls_through() {
        // `d.get(k)` may be None: the original returns None at once, the
        // variant goes on to raise KeyError. The traces reject it then.
        let src = "def lookup(d, ks):\n    for k in ks:\n        if k in d:\n            return d.get(k)\n    raise KeyError(ks)\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def lookup(d, ks):\n    _ret0 = None\n    for k in ks:\n        if k in d:\n            _ret0 = d.get(k)\n            break\n    if _ret0 is not None:\n        return _ret0\n    raise KeyError(ks)\n"
        );
    }

    #[test]
    fn refuses_without_the_pattern_or_with_comments_inside() {
        for src in [
            // The loop is last in its block.
            "def f(xs):\n    for x in xs:\n        if x:\n            return x\n",
            // An `else` clause.
            "def f(xs):\n    for x in xs:\n        if x:\n            return x\n    else:\n        pass\n    return 0\n",
            // Only a bare return, or returns only in a nested loop or `try`.
            "def f(xs):\n    for x in xs:\n        return\n    return 0\n",
            "def f(xs):\n    while xs:\n        for x in xs:\n            return x\n    return 0\n",
            "def f(xs):\n    for x in xs:\n        try:\n            return x\n        finally:\n            pass\n    return 0\n",
            // A comment inside the returned expression.
            "def f(xs):\n    for x in xs:\n        return (x +  # plus\n                1)\n    return 0\n",
        ] {
            assert!(
                matches!(rewrite(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
