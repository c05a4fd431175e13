//! Statement deletion: one simple statement removed, or replaced by `pass`
//! when it is alone in its block.
//!
//! Compound statements are not deleted (that is many mutations at once), nor
//! `pass`, `global`/`nonlocal`, docstrings or bare annotations (no behaviour,
//! or a scope change that breaks compilation), nor an enclosing binding of a
//! name a nested function declares `nonlocal` (the `nonlocal` would have
//! nothing to bind: a compile error the parser does not report). A statement
//! holding a comment is skipped so every comment survives; a comment trailing
//! the statement's line stays in place.

use ruff_python_ast::{Expr, ExprContext, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::body::{comments, is_bare_string, note, offset, snippet, Body};
use super::{in_source_order, MutantKind, Mutation, MutationOperator, Site};
use crate::edit::{ParsedFunction, TextEdit};

pub struct DeleteStatement;

fn deletable(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Expr(_) => !is_bare_string(stmt),
        Stmt::AnnAssign(a) => a.value.is_some(),
        Stmt::Assign(_)
        | Stmt::AugAssign(_)
        | Stmt::Return(_)
        | Stmt::Raise(_)
        | Stmt::Assert(_)
        | Stmt::Delete(_)
        | Stmt::Break(_)
        | Stmt::Continue(_)
        | Stmt::Import(_)
        | Stmt::ImportFrom(_) => true,
        _ => false,
    }
}

impl MutationOperator for DeleteStatement {
    fn kind(&self) -> MutantKind {
        MutantKind::DeleteStatement
    }

    fn mutations(&self, f: &ParsedFunction) -> Vec<Mutation> {
        let comments = comments(f);
        let body = Body::of(f);
        // (name, the function declaring it nonlocal)
        let nonlocals: Vec<(&str, TextRange)> = body
            .stmts
            .iter()
            .filter_map(|s| s.as_nonlocal_stmt())
            .flat_map(|n| {
                let scope = body.enclosing_def(n).range();
                n.names.iter().map(move |id| (id.as_str(), scope))
            })
            .collect();
        let binds_nonlocal = |stmt: &Stmt| {
            body.exprs.iter().any(|e| match e {
                Expr::Name(name) if name.ctx == ExprContext::Store => {
                    stmt.range().contains_range(name.range())
                        && nonlocals.iter().any(|(id, scope)| {
                            *id == name.id.as_str() && !scope.contains_range(stmt.range())
                        })
                }
                _ => false,
            })
        };
        let mut out = Vec::new();
        for block in &body.blocks {
            for (i, stmt) in block.iter().enumerate() {
                if !deletable(stmt)
                    || comments.iter().any(|c| stmt.range().contains_range(*c))
                    || binds_nonlocal(stmt)
                {
                    continue;
                }
                let text = snippet(f.text(stmt));
                let (range, replacement, what) = if block.len() == 1 {
                    (stmt.range(), "pass", format!("{text} → pass"))
                } else {
                    (deletion(f, block, i), "", format!("deleted {text}"))
                };
                out.push(Mutation {
                    site: Site {
                        range: stmt.range(),
                    },
                    edits: vec![TextEdit::replace(range, replacement)],
                    note: note(f, stmt.start(), what),
                });
            }
        }
        in_source_order(out)
    }
}

/// What to delete to remove `block[i]` (not alone in its block) cleanly:
/// with a `;` neighbour on its line, the statement and one separator; alone on
/// its lines, the whole lines, except a trailing comment (kept, indented).
fn deletion(f: &ParsedFunction, block: &[Stmt], i: usize) -> TextRange {
    let stmt = &block[i];
    let same_line = |a: TextSize, b: TextSize| !f.source[TextRange::new(a, b)].contains('\n');
    if let Some(prev) = i.checked_sub(1).map(|j| &block[j]) {
        if same_line(prev.end(), stmt.start()) {
            return TextRange::new(prev.end(), stmt.end());
        }
    }
    if let Some(next) = block.get(i + 1) {
        if same_line(stmt.end(), next.start()) {
            return TextRange::new(stmt.start(), next.start());
        }
    }
    let lines = f.line_range(stmt);
    match f.source[TextRange::new(stmt.end(), lines.end())].find('#') {
        Some(at) => TextRange::new(stmt.start(), stmt.end() + offset(at)),
        None => lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutant::apply_all;

    #[test]
    fn lines_semicolons_comments_and_pass() {
        let code = "def f(a):\n    \"\"\"Doc.\"\"\"\n    global g\n    x = a; y = 2\n    z = [\n        1,  # one\n    ]\n    a += 1  # bump\n    if a:\n        return x\n    return y\n";
        let got = apply_all(&DeleteStatement, code);
        let expect = [
            ("    x = a; y = 2\n", "    y = 2\n", "line 4: deleted x = a"),
            ("    x = a; y = 2\n", "    x = a\n", "line 4: deleted y = 2"),
            (
                "    a += 1  # bump\n",
                "    # bump\n",
                "line 8: deleted a += 1",
            ),
            (
                "        return x\n",
                "        pass\n",
                "line 10: return x → pass",
            ),
            ("    return y\n", "", "line 11: deleted return y"),
        ];
        assert_eq!(got.len(), expect.len(), "{got:?}");
        for ((code_out, note), (from, to, want)) in got.iter().zip(expect) {
            assert_eq!(code_out, &code.replace(from, to));
            assert_eq!(note, want);
        }
    }

    #[test]
    fn keeps_bindings_of_nonlocals() {
        let code = "def f():\n    n = 0\n    def g():\n        nonlocal n\n        n += 1\n    g()\n    return n\n";
        let notes: Vec<_> = apply_all(&DeleteStatement, code)
            .into_iter()
            .map(|(_, n)| n)
            .collect();
        assert_eq!(
            notes,
            [
                "line 5: deleted n += 1",
                "line 6: deleted g()",
                "line 7: deleted return n"
            ]
        );
    }

    #[test]
    fn no_site_in_trivial_body() {
        let code = "def f():\n    \"\"\"Doc.\"\"\"\n    pass\n";
        assert!(apply_all(&DeleteStatement, code).is_empty());
    }
}
