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
use ruff_text_size::Ranged;

use super::effects::Effects;
use super::names::Facts;
use super::support::{pick, suites, swap_regions};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction};

pub struct ReorderStatements;

impl Rewrite for ReorderStatements {
    fn kind(&self) -> RewriteKind {
        RewriteKind::ReorderStatements
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let facts = Facts::new(f);
        let mut pairs = Vec::new();
        for suite in suites(f.def()).into_iter().filter(|s| !s.guarded) {
            let stmts = &suite.stmts[suite.fixed_prefix()..];
            for pair in stmts.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                if !f.owns_lines(a) || !f.owns_lines(b) {
                    continue;
                }
                let (Some(ea), Some(eb)) = (
                    Effects::of_assignment(a, &facts),
                    Effects::of_assignment(b, &facts),
                ) else {
                    continue;
                };
                if ea.commutes_with(&eb) {
                    pairs.push((a, b));
                }
            }
        }
        let (a, b) = pick(pairs, rng, "no two adjacent independent assignments")?;
        let code = apply_edits(f.source, swap_regions(f, f.line_range(a), f.line_range(b)))?;
        let note = format!(
            "swapped lines {} and {}",
            f.line_number(a.start()),
            f.line_number(b.start())
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
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
