//! `for i in range(len(xs)):` whose body reads `xs[i]` becomes a loop over
//! `enumerate(xs)`, every read of `xs[i]` in the body becoming the element:
//!
//! ```python
//! for i in range(len(nums)):          for i, num in enumerate(nums):
//!     if nums[i] > best:        →         if num > best:
//!         best = nums[i]                      best = num
//! ```
//!
//! `i` stays the loop's index, so its values are unchanged; the element gets
//! a fresh name (the singular of `xs` when free). Stores and deletions
//! (`xs[i] = v`, `xs[i] += 1`, `del xs[i]`) keep their subscript. Reads inside
//! nested functions and classes, and inside lambdas or comprehensions that
//! bind `xs` or `i` themselves, are other variables and stay as they are.
//! Loops with an `else` and `async for` are refused, as are reads with a
//! comment inside.
//!
//! Speculative: it is right when nothing changes `xs[i]` during an
//! iteration, and wrong when the body assigns `xs[i]` (or rebinds `xs` or
//! `i`) and reads `xs[i]` afterwards, which then sees the old element, or
//! when the body grows or shrinks `xs` (`enumerate` walks the list as it
//! changes, `range(len(xs))` fixed its length up front). The traces reject
//! those.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::helpers::any_over_expr;
use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Comprehension, Expr, ExprContext, Stmt, StmtFor};
use ruff_text_size::{Ranged, TextRange};

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::names::Taken;
use crate::rewrite::support::{pick, suites};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct IndexToElementLoop;

impl Rewrite for IndexToElementLoop {
    fn kind(&self) -> RewriteKind {
        RewriteKind::IndexToElementLoop
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let sites: Vec<Site> = suites(f.def())
            .iter()
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_for_stmt)
            .filter_map(|l| site(f, l))
            .collect();
        let s = pick(
            sites,
            rng,
            "no `for i in range(len(xs))` loop reading `xs[i]`",
        )?;
        let element = element_name(s.seq, &mut Taken::from_source(f.source));
        let mut edits = vec![
            TextEdit::replace(s.l.target.range(), format!("{}, {element}", s.index)),
            TextEdit::replace(s.l.iter.range(), format!("enumerate({})", s.seq)),
        ];
        edits.extend(
            s.reads
                .iter()
                .map(|r| TextEdit::replace(*r, element.clone())),
        );
        let code = apply_edits(f.source, edits)?;
        let note = format!(
            "line {}: for {i} in range(len({xs})) → for {i}, {element} in enumerate({xs})",
            f.line_number(s.l.start()),
            i = s.index,
            xs = s.seq
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// A matching loop: its index and sequence names, and where the body reads
/// `seq[index]`.
struct Site<'a> {
    l: &'a StmtFor,
    index: &'a str,
    seq: &'a str,
    reads: Vec<TextRange>,
}

fn site<'a>(f: &ParsedFunction, l: &'a StmtFor) -> Option<Site<'a>> {
    if l.is_async || !l.orelse.is_empty() || f.has_comment_in(l.iter.range()) {
        return None;
    }
    let index = l.target.as_name_expr()?.id.as_str();
    let len = single_argument(&l.iter, "range")?;
    let seq = single_argument(len, "len")?.as_name_expr()?.id.as_str();
    let mut reads = Reads {
        seq,
        index,
        sites: Vec::new(),
    };
    reads.visit_body(&l.body);
    let reads = reads.sites;
    let clean = !reads.is_empty() && !reads.iter().any(|r| f.has_comment_in(*r));
    clean.then_some(Site {
        l,
        index,
        seq,
        reads,
    })
}

/// The one positional argument of a call `name(arg)`.
fn single_argument<'a>(expr: &'a Expr, name: &str) -> Option<&'a Expr> {
    let call = expr.as_call_expr()?;
    let callee = call.func.as_name_expr()?;
    match &*call.arguments.args {
        [arg]
            if callee.id.as_str() == name
                && call.arguments.keywords.is_empty()
                && !arg.is_starred_expr() =>
        {
            Some(arg)
        }
        _ => None,
    }
}

/// The singular of `seq` (`nums` → `num`) when free, else a fresh name.
fn element_name(seq: &str, taken: &mut Taken) -> String {
    let stem = match seq.strip_suffix('s') {
        Some(s) if s.chars().count() >= 2 && !s.ends_with('s') => s,
        _ => "x",
    };
    if taken.claim(stem) {
        stem.to_string()
    } else {
        taken.fresh(stem)
    }
}

/// The reads of `seq[index]` that mean the loop's variables.
struct Reads<'a> {
    seq: &'a str,
    index: &'a str,
    sites: Vec<TextRange>,
}

impl Reads<'_> {
    fn is_ours(&self, name: &str) -> bool {
        name == self.seq || name == self.index
    }

    fn binds_ours(&self, generators: &[Comprehension]) -> bool {
        generators.iter().any(|g| {
            any_over_expr(&g.target, |e| {
                e.as_name_expr()
                    .is_some_and(|n| self.is_ours(n.id.as_str()))
            })
        })
    }
}

impl<'b> Visitor<'b> for Reads<'_> {
    fn visit_stmt(&mut self, stmt: &'b Stmt) {
        // Nested scopes see the variables later, or not at all.
        if !matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
            visitor::walk_stmt(self, stmt);
        }
    }

    fn visit_expr(&mut self, expr: &'b Expr) {
        let shadowed = match expr {
            Expr::Subscript(s) if s.ctx == ExprContext::Load => {
                let name_is =
                    |e: &Expr, name: &str| e.as_name_expr().is_some_and(|n| n.id.as_str() == name);
                if name_is(&s.value, self.seq) && name_is(&s.slice, self.index) {
                    self.sites.push(s.range);
                    return;
                }
                false
            }
            Expr::Lambda(l) => l
                .parameters
                .iter()
                .flat_map(|p| p.iter())
                .any(|p| self.is_ours(p.name().as_str())),
            Expr::ListComp(c) => self.binds_ours(&c.generators),
            Expr::SetComp(c) => self.binds_ours(&c.generators),
            Expr::DictComp(c) => self.binds_ours(&c.generators),
            Expr::Generator(c) => self.binds_ours(&c.generators),
            _ => false,
        };
        if !shadowed {
            visitor::walk_expr(self, expr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rewrite(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        IndexToElementLoop
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn reads_become_the_element_and_stores_stay() {
        let src = "def clamp(nums, hi):\n    # Cap every value, counting the changes.\n    changed = 0\n    for i in range(len(nums)):  # by position\n        print(i, f\"{nums[i]!r}\", [nums[i] for _ in (0,)])\n        if nums[i] > hi:\n            nums[i] = hi  # cap\n            changed += 1\n    return changed\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def clamp(nums, hi):\n    # Cap every value, counting the changes.\n    changed = 0\n    for i, num in enumerate(nums):  # by position\n        print(i, f\"{num!r}\", [num for _ in (0,)])\n        if num > hi:\n            nums[i] = hi  # cap\n            changed += 1\n    return changed\n"
        );
    }

    #[test]
    fn leaves_shadowed_reads_and_avoids_taken_names() {
        let src = "def f(xs, x):\n    for i in range(len(xs)):\n        y = xs[i] + x\n        g = lambda i: xs[i]\n        z = [xs[i] for i in (0, 1)]\n        xs[i] += xs[i]\n        def h():\n            return xs[i]\n";
        assert_eq!(
            rewrite(src).unwrap(),
            "def f(xs, x):\n    for i, x0 in enumerate(xs):\n        y = x0 + x\n        g = lambda i: xs[i]\n        z = [xs[i] for i in (0, 1)]\n        xs[i] += x0\n        def h():\n            return xs[i]\n"
        );
    }

    #[test]
    fn rewrites_loops_the_traces_then_reject() {
        // `xs[i]` is read after being assigned: the variant prints the old
        // element, the original the doubled one.
        assert_eq!(
            rewrite("def f(xs):\n    for i in range(len(xs)):\n        xs[i] = xs[i] * 2\n        print(xs[i])\n").unwrap(),
            "def f(xs):\n    for i, x in enumerate(xs):\n        xs[i] = x * 2\n        print(x)\n"
        );
        // Removing while iterating: `enumerate` sees the shrinking list, the
        // original indexes past its end and raises IndexError.
        assert_eq!(
            rewrite("def f(items):\n    for i in range(len(items)):\n        if items[i]:\n            items.pop()\n").unwrap(),
            "def f(items):\n    for i, item in enumerate(items):\n        if item:\n            items.pop()\n"
        );
    }

    #[test]
    fn refuses_other_loops() {
        for src in [
            // No read of `xs[i]`.
            "def f(xs):\n    for i in range(len(xs)):\n        xs[i] = 0\n",
            "def f(xs, ys):\n    for i in range(len(xs)):\n        print(ys[i], xs[i + 1])\n",
            "def f(xs):\n    for i in range(1, len(xs)):\n        print(xs[i])\n",
            "def f(xs):\n    for i in range(len(xs.a)):\n        print(xs.a[i])\n",
            "def f(xs):\n    for i in range(len(xs)):\n        print(xs[i])\n    else:\n        pass\n",
            "async def f(xs):\n    async for i in range(len(xs)):\n        print(xs[i])\n",
            // Comments inside rebuilt text.
            "def f(xs):\n    for i in range(len(xs)):\n        print(xs[  # which\n            i])\n",
            "def f(xs):\n    for i in range(len(  # all\n            xs)):\n        print(xs[i])\n",
        ] {
            assert!(
                matches!(rewrite(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
