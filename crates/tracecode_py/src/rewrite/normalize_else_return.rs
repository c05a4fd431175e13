//! Removes or adds an `else` that only follows a block ending in `return`,
//! `raise`, `continue` or `break`:
//!
//! ```python
//! if c:                 if c:
//!     return a    ↔         return a
//! else:                 return b
//!     return b
//! ```
//!
//! When the `if` block cannot fall through, what follows it runs exactly when
//! the `else` would. Removing the `else` dedents its block; adding one
//! indents everything after the `if` in the same block. Lines inside a
//! string spanning lines cannot be re-indented, so such blocks are refused,
//! as is a comment on the `else:` line (it would be lost).

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{ElifElseClause, Stmt, StmtIf};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::support::{header_colon_end, indent_unit, next_line_start, pick, reindent, suites};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct NormalizeElseReturn;

impl Rewrite for NormalizeElseReturn {
    fn kind(&self) -> RewriteKind {
        RewriteKind::NormalizeElseReturn
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let unit = indent_unit(f);
        let mut sites: Vec<(TextEdit, &str, TextSize)> = Vec::new();
        for suite in suites(f.def()) {
            for (i, stmt) in suite.stmts.iter().enumerate() {
                let Stmt::If(s) = stmt else { continue };
                if !s.body.last().is_some_and(never_falls_through) {
                    continue;
                }
                let edit = match s.elif_else_clauses.as_slice() {
                    [clause @ ElifElseClause { test: None, .. }] => remove_else(f, s, clause),
                    [] => add_else(f, s, &suite.stmts[i + 1..], &unit),
                    _ => None,
                };
                if let Some((edit, what)) = edit {
                    sites.push((edit, what, s.start()));
                }
            }
        }
        let (edit, what, at) = pick(sites, rng, "no if block ending in return/raise")?;
        let code = apply_edits(f.source, vec![edit])?;
        let note = format!("line {}: {what}", f.line_number(at));
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

fn never_falls_through(stmt: &Stmt) -> bool {
    matches!(
        stmt,
        Stmt::Return(_) | Stmt::Raise(_) | Stmt::Continue(_) | Stmt::Break(_)
    )
}

/// `else:` and its block → the block, one level out.
fn remove_else(
    f: &ParsedFunction,
    s: &StmtIf,
    clause: &ElifElseClause,
) -> Option<(TextEdit, &'static str)> {
    let else_line = f.line_start(clause.start());
    let indent = f.indent_at(s.start());
    let (first, last) = (clause.body.first()?, clause.body.last()?);
    let body_start = next_line_start(f, header_colon_end(f, clause.start() + TextSize::from(4))?);
    let one_line = first.start() < body_start;
    let header = TextRange::new(clause.start(), first.start().min(body_start));
    let header_ok = f.owns_lines(s)
        && f.source[else_line.to_usize()..clause.start().to_usize()] == *indent
        && !f.has_comment_in(header);
    if !header_ok {
        return None;
    }
    let text = if one_line {
        // `else: x` on one line: `x` moves to the `else`'s place.
        format!(
            "{indent}{}",
            &f.source[TextRange::new(first.start(), last.end())]
        )
    } else {
        let block = TextRange::new(body_start, last.end());
        reindent(f, block, f.indent_at(first.start()), indent)?
    };
    let edit = TextEdit::replace(TextRange::new(else_line, last.end()), text);
    Some((edit, "removed redundant else"))
}

/// The rest of the block after `s` → an `else:` block holding it.
fn add_else(
    f: &ParsedFunction,
    s: &StmtIf,
    rest: &[Stmt],
    unit: &str,
) -> Option<(TextEdit, &'static str)> {
    let (first, last) = (rest.first()?, rest.last()?);
    let indent = f.indent_at(s.start());
    let block = TextRange::new(f.line_start(first.start()), last.end());
    let layout_ok = f.owns_lines(s) && f.owns_lines(first) && f.source[block].starts_with(indent);
    if !layout_ok {
        return None;
    }
    let deeper = format!("{indent}{unit}");
    let body = reindent(f, block, indent, &deeper)?;
    let edit = TextEdit::replace(block, format!("{indent}else:\n{body}"));
    Some((edit, "added else after return"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn normalize(src: &str, seed: u64) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        NormalizeElseReturn
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(seed))
            .map(|r| r.code)
    }

    #[test]
    fn removes_else_after_return() {
        let src = "def f(x):\n    if x < 0:\n        raise ValueError(x)\n    else:\n        # positive\n        y = [1,\n             2]\n        return y\n";
        assert_eq!(
            normalize(src, 0).unwrap(),
            "def f(x):\n    if x < 0:\n        raise ValueError(x)\n    # positive\n    y = [1,\n         2]\n    return y\n"
        );
        let src = "def f(x):\n    if x: return 1\n    else: return 2\n";
        assert_eq!(
            normalize(src, 0).unwrap(),
            "def f(x):\n    if x: return 1\n    return 2\n"
        );
    }

    #[test]
    fn adds_else_around_the_rest_of_the_block() {
        let src = "def f(xs):\n\tfor x in xs:\n\t\tif not x:\n\t\t\tcontinue\n\t\tprint(x)  # shown\n\n\t\tprint(-x)\n\treturn xs";
        assert_eq!(
            normalize(src, 0).unwrap(),
            "def f(xs):\n\tfor x in xs:\n\t\tif not x:\n\t\t\tcontinue\n\t\telse:\n\t\t\tprint(x)  # shown\n\n\t\t\tprint(-x)\n\treturn xs"
        );
    }

    #[test]
    fn refuses_fall_through_multiline_strings_and_else_comments() {
        for src in [
            "def f(x):\n    if x:\n        y = 1\n    else:\n        y = 2\n    return y\n",
            "def f(x):\n    if x:\n        return 1\n    s = '''a\n    b'''\n    return s\n",
            "def f(x):\n    if x:\n        return 1\n    else:  # otherwise\n        return 2\n",
            "def f(x):\n    if x:\n        return 1\n",
        ] {
            assert!(
                matches!(normalize(src, 0), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
