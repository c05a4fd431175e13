//! Swaps two adjacent simple statements with no dependence analysis at all:
//! assignments, augmented assignments and expression statements (calls), in
//! any block. The sound [`ReorderStatements`](crate::rewrite::ReorderStatements)
//! swaps only what it can prove independent; this one swaps `x = f()` and
//! `y = g(x)` too, and the traces reject it.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::Stmt;

use crate::edit::{EditError, ParsedFunction};
use crate::rewrite::support::swap_adjacent;
use crate::rewrite::{Rewrite, RewriteKind, Rewritten};

pub struct ReorderUnchecked;

impl Rewrite for ReorderUnchecked {
    fn kind(&self) -> RewriteKind {
        RewriteKind::ReorderUnchecked
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let simple = |s: &Stmt| {
            matches!(
                s,
                Stmt::Assign(_) | Stmt::AugAssign(_) | Stmt::AnnAssign(_) | Stmt::Expr(_)
            ) && f.owns_lines(s)
        };
        swap_adjacent(
            f,
            rng,
            |_| true,
            |a, b| simple(a) && simple(b) && f.text(a) != f.text(b),
            "no two adjacent simple statements",
            " unchecked",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn reorder(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        ReorderUnchecked
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn swaps_dependent_statements_that_the_sound_reorder_refuses() {
        // `b` reads `a`: the swap changes behaviour, and only a run shows it.
        assert_eq!(
            reorder("def h():\n    a = 1  # one\n    b = a\n    return b\n").unwrap(),
            "def h():\n    b = a\n    a = 1  # one\n    return b\n"
        );
        // Calls with effects, inside a loop body.
        assert_eq!(
            reorder("def h(xs, out):\n    for x in xs:\n        out.append(x)\n        print(x)\n")
                .unwrap(),
            "def h(xs, out):\n    for x in xs:\n        print(x)\n        out.append(x)\n"
        );
    }

    #[test]
    fn keeps_the_docstring_first_and_refuses_without_a_pair() {
        assert!(reorder("def h(a):\n    \"\"\"Doc.\"\"\"\n    x = a\n    return x\n").is_err());
        assert!(reorder("def h(a):\n    x = 0; y = 1\n    return x, y\n").is_err());
        // Identical statements would swap to the same text.
        assert!(reorder("def h(a):\n    a.pop()\n    a.pop()\n").is_err());
    }
}
