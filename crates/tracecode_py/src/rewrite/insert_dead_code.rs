//! Inserts a statement without effect at a statement boundary: `pass`, an
//! assignment to a fresh name, or an `if False:` block that never runs.
//! Never before a docstring, and never between statements sharing a line.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use ruff_text_size::{Ranged, TextSize};

use super::names::{Facts, Taken};
use super::support::{indent_unit, pick, suites};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct InsertDeadCode;

impl Rewrite for InsertDeadCode {
    fn kind(&self) -> RewriteKind {
        RewriteKind::InsertDeadCode
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let mut points: Vec<(TextSize, &str)> = Vec::new();
        for suite in suites(f.def()) {
            let stmts = suite.stmts;
            if !f.starts_line(&stmts[0]) {
                continue; // the block sits on its header's line
            }
            let indent = f.indent_at(stmts[0].start());
            for (i, stmt) in stmts.iter().enumerate().skip(suite.fixed_prefix()) {
                let line = f.line_start(stmt.start());
                let shares_line = i > 0 && f.line_start(stmts[i - 1].end()) == line;
                if !shares_line {
                    points.push((line, indent));
                }
            }
            points.push((f.line_range(stmts.last().unwrap()).end(), indent));
        }
        let (at, indent) = pick(points, rng, "no statement boundary")?;
        let unit = indent_unit(f);
        let mut taken = Taken::from_source(f.source);
        // With introspection a new local would be visible: only `pass` then.
        let variants = if Facts::new(f).introspects { 1 } else { 3 };
        let statement = match rng.gen_range(0..variants) {
            0 => "pass".to_string(),
            1 => format!("{} = 0", taken.fresh("_unused")),
            _ => format!("if False:\n{indent}{unit}{} = 0", taken.fresh("_unused")),
        };
        let newline_before = if f.source[..at.to_usize()].ends_with('\n') {
            ""
        } else {
            "\n"
        };
        let text = format!("{newline_before}{indent}{statement}\n");
        let code = apply_edits(f.source, vec![TextEdit::insert(at, text)])?;
        let line = f.line_number(at) + newline_before.len();
        let note = format!(
            "line {line}: inserted `{}`",
            statement.lines().next().unwrap()
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

    fn insert_all(src: &str) -> Vec<String> {
        crate::rewrite::distinct_outputs(&InsertDeadCode, src)
    }

    #[test]
    fn inserts_after_the_docstring_at_block_indentation() {
        let src = "def f(x):\n    \"\"\"Doc.\"\"\"\n    if x:\n        return 1\n    return 0";
        let outs = insert_all(src);
        assert!(outs.contains(
            &"def f(x):\n    \"\"\"Doc.\"\"\"\n    pass\n    if x:\n        return 1\n    return 0"
                .to_string()
        ));
        assert!(outs.contains(&"def f(x):\n    \"\"\"Doc.\"\"\"\n    if x:\n        return 1\n        _unused0 = 0\n    return 0".to_string()));
        assert!(outs.contains(&"def f(x):\n    \"\"\"Doc.\"\"\"\n    if x:\n        return 1\n    return 0\n    if False:\n        _unused0 = 0\n".to_string()));
        assert!(outs
            .iter()
            .all(|o| o.starts_with("def f(x):\n    \"\"\"Doc.\"\"\"\n")));
    }

    #[test]
    fn refuses_one_line_functions() {
        let pf = ParsedFunction::parse("def f(x): return x\n").unwrap();
        let out = InsertDeadCode.apply(&pf, &mut ChaCha8Rng::seed_from_u64(0));
        assert!(matches!(out, Err(EditError::NotApplicable(_))));
    }
}
