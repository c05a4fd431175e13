//! `sorted` ↔ `list.sort`, in both directions, one statement at a time:
//!
//! ```python
//! order = sorted(scores, reverse=True)     order = scores
//!                                      →   order.sort(reverse=True)
//! xs = sorted(xs, key=len)             →   xs.sort(key=len)
//! words.sort()                         →   words = sorted(words)
//! ```
//!
//! Speculative: `sorted` copies and accepts any iterable, `.sort` mutates a
//! list in place. The rewrite is wrong when `X` is a tuple, string, dict or
//! generator (no `.sort`), when `order = scores; order.sort()` now mutates
//! the caller's list (or one used again afterwards), and when
//! `words = sorted(words)` rebinds a name whose old list another alias
//! still expects sorted. Each shows in the traces (an `AttributeError`, or
//! a variable or returned list ending differently), and only there: whether
//! `scores` is a fresh local list is a property of the run.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{Expr, ExprCall, Keyword, Stmt};
use ruff_text_size::Ranged;

use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};
use crate::rewrite::support::{pick, suites};
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct SortInPlace;

impl Rewrite for SortInPlace {
    fn kind(&self) -> RewriteKind {
        RewriteKind::SortInPlace
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let sites: Vec<(&Stmt, String)> = suites(f.def())
            .iter()
            .flat_map(|s| s.stmts)
            .filter(|s| !f.has_comment_in(s.range()))
            .filter_map(|s| rewritten(f, s).map(|text| (s, text)))
            .collect();
        let (stmt, text) = pick(sites, rng, "no sorted(x) assignment or x.sort() call")?;
        let note = format!(
            "line {}: {} → {}",
            f.line_number(stmt.start()),
            f.text(stmt),
            text.lines().map(str::trim).collect::<Vec<_>>().join("; ")
        );
        let code = apply_edits(f.source, vec![TextEdit::replace(stmt.range(), text)])?;
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The other form of `stmt`, when it is `y = sorted(x, ...)` or `x.sort(...)`.
fn rewritten(f: &ParsedFunction, stmt: &Stmt) -> Option<String> {
    match stmt {
        Stmt::Assign(a) => {
            let [Expr::Name(y)] = a.targets.as_slice() else {
                return None;
            };
            let call = a.value.as_call_expr()?;
            let [Expr::Name(x)] = &*call.arguments.args else {
                return None;
            };
            if call.func.as_name_expr()?.id != "sorted" {
                return None;
            }
            let kw = sort_keywords(f, call)?;
            if y.id == x.id {
                return Some(format!("{}.sort({kw})", x.id));
            }
            // Two statements: on their own lines where the original had its
            // line to itself, else joined by `;` (a one-line `if c: y = ...`).
            let sep = if f.owns_lines(stmt) {
                let eol = if f.source[f.line_range(stmt)].ends_with("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                format!("{eol}{}", f.indent_at(stmt.start()))
            } else {
                "; ".to_string()
            };
            Some(format!("{y} = {x}{sep}{y}.sort({kw})", y = y.id, x = x.id))
        }
        Stmt::Expr(e) => {
            let call = e.value.as_call_expr()?;
            let method = call.func.as_attribute_expr()?;
            let x = method.value.as_name_expr()?;
            if method.attr.as_str() != "sort" || !call.arguments.args.is_empty() {
                return None;
            }
            let kw = sort_keywords(f, call)?;
            let sep = if kw.is_empty() { "" } else { ", " };
            Some(format!("{x} = sorted({x}{sep}{kw})", x = x.id))
        }
        _ => None,
    }
}

/// The keyword arguments of `call` as text, when they are only the `key=`
/// and `reverse=` that `sorted` and `list.sort` share.
fn sort_keywords(f: &ParsedFunction, call: &ExprCall) -> Option<String> {
    let shared = |k: &Keyword| {
        k.arg
            .as_ref()
            .is_some_and(|a| matches!(a.as_str(), "key" | "reverse"))
    };
    let keywords = &call.arguments.keywords;
    keywords.iter().all(shared).then(|| {
        let texts: Vec<&str> = keywords.iter().map(|k| f.text(k)).collect();
        texts.join(", ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn sort(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        SortInPlace
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn sorted_copy_becomes_an_alias_sorted_in_place() {
        // Changes behaviour: `order = scores` aliases the caller's list, which
        // `order.sort` then reorders; the parameter `scores` ends sorted,
        // which its trace shows (and any later read of `scores`).
        assert_eq!(
            sort("def ranks(scores):\n    # highest first\n    order = sorted(scores, reverse=True)  # copy\n    return order\n")
                .unwrap(),
            "def ranks(scores):\n    # highest first\n    order = scores\n    order.sort(reverse=True)  # copy\n    return order\n"
        );
        // On a one-line body the two statements share the line.
        assert_eq!(
            sort("def f(x, c):\n    y = None\n    if c: y = sorted(x)\n    return y\n").unwrap(),
            "def f(x, c):\n    y = None\n    if c: y = x; y.sort()\n    return y\n"
        );
    }

    #[test]
    fn sorted_onto_the_same_name_becomes_sort() {
        // Right for a local list; a tuple or string argument now raises
        // AttributeError (`'tuple' object has no attribute 'sort'`).
        assert_eq!(
            sort("def longest(words):\n    words = sorted(words, key=len, reverse=True)  # by length\n    return words[0]\n")
                .unwrap(),
            "def longest(words):\n    words.sort(key=len, reverse=True)  # by length\n    return words[0]\n"
        );
    }

    #[test]
    fn sort_becomes_a_sorted_copy() {
        assert_eq!(
            sort("def median(items):\n    # middle element\n    items.sort(key=abs)\n    return items[len(items) // 2]\n")
                .unwrap(),
            "def median(items):\n    # middle element\n    items = sorted(items, key=abs)\n    return items[len(items) // 2]\n"
        );
        // Changes behaviour: `alias` still names the old list, which is no
        // longer sorted, so the returned value differs.
        assert_eq!(
            sort("def f(items):\n    alias = items\n    items.sort()\n    return alias\n").unwrap(),
            "def f(items):\n    alias = items\n    items = sorted(items)\n    return alias\n"
        );
        assert_eq!(
            sort("def f(xs):\n    for x in xs:\n        x.sort()\n").unwrap(),
            "def f(xs):\n    for x in xs:\n        x = sorted(x)\n"
        );
    }

    #[test]
    fn every_site_is_a_candidate() {
        let outs = crate::rewrite::distinct_outputs(
            &SortInPlace,
            "def f(a, b):\n    a.sort()\n    c = sorted(b)\n    return a, c\n",
        );
        assert_eq!(
            outs,
            [
                "def f(a, b):\n    a = sorted(a)\n    c = sorted(b)\n    return a, c\n",
                "def f(a, b):\n    a.sort()\n    c = b\n    c.sort()\n    return a, c\n",
            ]
        );
    }

    #[test]
    fn refuses_other_shapes_and_comments_inside() {
        for src in [
            // Not a plain name, or not a statement of its own.
            "def f(a, b):\n    c = sorted(a + b)\n    return c\n",
            "def f(a):\n    return sorted(a)\n",
            "def f(a):\n    print(sorted(a))\n",
            "def f(a):\n    a.b.sort()\n",
            "def f(a):\n    c = sorted(x for x in a)\n    return c\n",
            // Arguments that `sort` or `sorted` would not take alike.
            "def f(a, kw):\n    c = sorted(a, **kw)\n    return c\n",
            "def f(a, k):\n    a.sort(k)\n",
            // Another function named `sort` or `sorted`.
            "def f(a):\n    c = ordered(a)\n    a.sorted()\n    return c\n",
            // The comment would be lost.
            "def f(a):\n    c = sorted(a,  # newest first\n               reverse=True)\n    return c\n",
        ] {
            assert!(
                matches!(sort(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
