//! Swaps two adjacent assignments that do not interfere. Whole lines move, so
//! trailing comments travel with their statement.
//!
//! Independence is judged by [`Effects::commutes_with`]: no name written by
//! one is read or written by the other, neither calls anything but a pure
//! builtin or stores into an object, and at most one can raise. The last rule
//! keeps the first exception the same; it would not keep half-done work
//! unobservable where an exception can be caught and execution go on, so
//! statements inside `try`, `with` or nested functions are left alone.

use rand_chacha::ChaCha8Rng;

use super::effects::Effects;
use super::names::Facts;
use super::support::swap_adjacent;
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{EditError, ParsedFunction};

pub struct ReorderStatements;

impl Rewrite for ReorderStatements {
    fn kind(&self) -> RewriteKind {
        RewriteKind::ReorderStatements
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let facts = Facts::new(f);
        swap_adjacent(
            f,
            rng,
            |suite| !suite.guarded,
            |a, b| {
                if !f.owns_lines(a) || !f.owns_lines(b) {
                    return false;
                }
                match (
                    Effects::of_assignment(a, &facts),
                    Effects::of_assignment(b, &facts),
                ) {
                    (Some(ea), Some(eb)) => ea.commutes_with(&eb),
                    _ => false,
                }
            },
            "no two adjacent independent assignments",
            "",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn reorder(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        ReorderStatements
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    fn refused(src: &str) -> bool {
        matches!(reorder(src), Err(EditError::NotApplicable(_)))
    }

    #[test]
    fn swaps_independent_assignments_with_their_comments() {
        let src = "def f(items):\n    \"\"\"Doc.\"\"\"\n    count = 0  # how many\n    # blank-line comment stays\n    n = len(items)\n    return count, n\n";
        assert_eq!(
            reorder(src).unwrap(),
            "def f(items):\n    \"\"\"Doc.\"\"\"\n    n = len(items)\n    # blank-line comment stays\n    count = 0  # how many\n    return count, n\n"
        );
    }

    #[test]
    fn swaps_at_the_end_of_a_file_without_newline() {
        let src = "def f(a):\n    while a:\n        x = []\n        y = a";
        assert_eq!(
            reorder(src).unwrap(),
            "def f(a):\n    while a:\n        y = a\n        x = []"
        );
    }

    #[test]
    fn refuses_interfering_statements() {
        // Calls may have side effects.
        assert!(refused(
            "def h():\n    x = f()\n    y = g()\n    return x, y\n"
        ));
        // `b` reads what `a` writes.
        assert!(refused("def h():\n    a = 1\n    b = a\n    return b\n"));
        // A mutation and a read of the same list.
        assert!(refused(
            "def h(l):\n    l.append(1)\n    n = len(l)\n    return n\n"
        ));
        // Both may raise: the first exception could change.
        assert!(refused(
            "def h(a, b):\n    x = a[0]\n    y = b[0]\n    return x, y\n"
        ));
        // `list(it)` uses up an iterator that `len(it)` also reads.
        assert!(refused(
            "def h(it):\n    a = list(it)\n    b = len(it)\n    return a, b\n"
        ));
        // Inside `try`, a half-done pair is observable from the handler.
        assert!(refused("def h(a):\n    try:\n        x = 0\n        y = a[0]\n    except IndexError:\n        return x\n"));
        // Statements sharing a line.
        assert!(refused("def h(a):\n    x = 0; y = 1\n    return x, y\n"));
    }
}
