//! `if c: A else: B` becomes `if not c: B else: A`.
//!
//! Both blocks keep their lines (comments included) and simply trade places,
//! so no re-indentation is needed. The test is evaluated once either way and
//! only its truth matters, so `if not x` may become `if x`. Chains with
//! `elif`, and blocks written on their header's line, are left alone.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{ElifElseClause, Stmt, StmtIf};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::support::{header_colon_end, negate, next_line_start, pick, suites, swap_regions};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct SwapIfElse;

impl Rewrite for SwapIfElse {
    fn kind(&self) -> RewriteKind {
        RewriteKind::SwapIfElse
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let sites: Vec<(&StmtIf, TextRange, TextRange)> = suites(f.def())
            .iter()
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_if_stmt)
            .filter_map(|s| blocks(f, s).map(|(a, b)| (s, a, b)))
            .collect();
        let (s, then_lines, else_lines) = pick(sites, rng, "no if/else to swap")?;
        let mut edits = swap_regions(f, then_lines, else_lines);
        edits.push(TextEdit::replace(s.test.range(), negate(f, &s.test, true)));
        let code = apply_edits(f.source, edits)?;
        let note = format!(
            "line {}: swapped if/else branches",
            f.line_number(s.start())
        );
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

/// The line ranges of the `if` block (up to the `else` line) and of the
/// `else` block, when `s` is a plain if/else laid out one statement per line.
fn blocks(f: &ParsedFunction, s: &StmtIf) -> Option<(TextRange, TextRange)> {
    let [ElifElseClause {
        test: None,
        body: orelse,
        range: else_range,
        ..
    }] = s.elif_else_clauses.as_slice()
    else {
        return None;
    };
    let then_start = next_line_start(f, header_colon_end(f, s.test.end())?);
    let else_line = f.line_start(else_range.start());
    let else_keyword_end = else_range.start() + TextSize::from(4);
    let else_start = next_line_start(f, header_colon_end(f, else_keyword_end)?);
    let layout_ok = f.owns_lines(s)
        && f.source[else_line.to_usize()..else_range.start().to_usize()]
            .trim()
            .is_empty()
        && f.line_start(s.body[0].start()) >= then_start
        && f.line_start(orelse[0].start()) >= else_start
        && !f.source[s.test.range()].contains('\n');
    let else_end = f.line_range(orelse.last()?).end();
    layout_ok.then(|| {
        (
            TextRange::new(then_start, else_line),
            TextRange::new(else_start, else_end),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn swap(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        SwapIfElse
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn swaps_blocks_and_negates_the_test() {
        let src = "def f(a, b):\n    if a < b or a:  # compare\n        x = 1\n        # then-comment\n    else:\n        # else-comment\n        for i in b:\n            x = i\n    return x\n";
        assert_eq!(
            swap(src).unwrap(),
            "def f(a, b):\n    if not (a < b or a):  # compare\n        # else-comment\n        for i in b:\n            x = i\n    else:\n        x = 1\n        # then-comment\n    return x\n"
        );
    }

    #[test]
    fn double_negation_cancels_at_the_end_of_the_file() {
        let src = "def f(a):\n    if not a:\n        return 1\n    else:\n        return 2";
        assert_eq!(
            swap(src).unwrap(),
            "def f(a):\n    if a:\n        return 2\n    else:\n        return 1"
        );
    }

    #[test]
    fn refuses_elif_missing_else_and_one_liners() {
        for src in [
            "def f(a):\n    if a:\n        x = 1\n    elif a > 1:\n        x = 2\n    else:\n        x = 3\n",
            "def f(a):\n    if a:\n        return 1\n    return 2\n",
            "def f(a):\n    if a: return 1\n    else: return 2\n",
        ] {
            assert!(matches!(swap(src), Err(EditError::NotApplicable(_))), "{src}");
        }
    }
}
