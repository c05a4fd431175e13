//! `for x in it:` becomes a `while True:` loop over an explicit iterator:
//!
//! ```python
//! _it0 = iter(it)
//! while True:
//!     try:
//!         x = next(_it0)
//!     except StopIteration:
//!         break
//!     <body, unchanged>
//! ```
//!
//! The body keeps its lines and indentation, and stays outside the `try`, so
//! a `StopIteration` it raises still escapes as before; `continue` and
//! `break` mean what they meant. Loops with an `else`, `async for`, and
//! targets other than names (or tuples of names) are refused, as are
//! functions that rebind `iter`, `next` or `StopIteration`.

use rand_chacha::ChaCha8Rng;
use ruff_python_ast::{Expr, OperatorPrecedence, Stmt, StmtFor};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::names::{Facts, Taken};
use super::support::{header_colon_end, indent_unit, operand, pick, suites};
use super::{Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction, TextEdit};

pub struct ForToWhile;

impl Rewrite for ForToWhile {
    fn kind(&self) -> RewriteKind {
        RewriteKind::ForToWhile
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let facts = Facts::new(f);
        if !["iter", "next", "StopIteration"]
            .iter()
            .all(|b| facts.is_builtin(b))
        {
            return Err(EditError::NotApplicable(
                "iter/next/StopIteration are rebound".into(),
            ));
        }
        if facts.introspects {
            return Err(EditError::NotApplicable(
                "a new local would be visible to introspection".into(),
            ));
        }
        let loops: Vec<&StmtFor> = suites(f.def())
            .iter()
            .flat_map(|s| s.stmts)
            .filter_map(Stmt::as_for_stmt)
            .filter(|l| convertible(f, l))
            .collect();
        let l = pick(loops, rng, "no plain for loop")?;
        let colon_end = header_colon_end(f, l.iter.end()).expect("checked by convertible");
        let indent = f.indent_at(l.start());
        let body_indent = f.indent_at(l.body[0].start());
        let unit = indent_unit(f);
        let iterator = Taken::from_source(f.source).fresh("_it");
        let header = format!(
            "{iterator} = iter({iter})\n{indent}while True",
            iter = operand(f, &l.iter, OperatorPrecedence::Lambda)
        );
        let fetch = format!(
            "{body_indent}try:\n{body_indent}{unit}{target} = next({iterator})\n{body_indent}except StopIteration:\n{body_indent}{unit}break\n",
            target = f.text(l.target.as_ref())
        );
        let edits = vec![
            TextEdit::replace(
                TextRange::new(l.start(), colon_end - TextSize::from(1)),
                header,
            ),
            TextEdit::insert(f.line_start(l.body[0].start()), fetch),
        ];
        let code = apply_edits(f.source, edits)?;
        let note = format!("line {}: for loop → while loop", f.line_number(l.start()));
        Ok(Rewritten {
            code,
            renames: vec![],
            note,
        })
    }
}

fn convertible(f: &ParsedFunction, l: &StmtFor) -> bool {
    let simple_target = match l.target.as_ref() {
        Expr::Name(_) => true,
        Expr::Tuple(t) => t.elts.iter().all(Expr::is_name_expr),
        _ => false,
    };
    let colon = header_colon_end(f, l.iter.end());
    !l.is_async
        && l.orelse.is_empty()
        && simple_target
        && f.owns_lines(l)
        && colon.is_some_and(|c| f.line_start(l.body[0].start()) >= c)
        && !f.text(l.iter.as_ref()).contains('\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn convert(src: &str) -> Result<String, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        ForToWhile
            .apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
            .map(|r| r.code)
    }

    #[test]
    fn converts_with_comments_and_continue() {
        let src = "def f(xs):\n    total = 0\n    for i, x in enumerate(xs):  # each\n        # skip odd\n        if x % 2:\n            continue\n        total += i\n    return total\n";
        assert_eq!(
            convert(src).unwrap(),
            "def f(xs):\n    total = 0\n    _it0 = iter(enumerate(xs))\n    while True:  # each\n        # skip odd\n        try:\n            i, x = next(_it0)\n        except StopIteration:\n            break\n        if x % 2:\n            continue\n        total += i\n    return total\n"
        );
    }

    #[test]
    fn keeps_tabs_and_avoids_taken_names() {
        let src = "def f(_it0):\n\tfor c in _it0:\n\t\tprint(c)\n";
        assert_eq!(
            convert(src).unwrap(),
            "def f(_it0):\n\t_it1 = iter(_it0)\n\twhile True:\n\t\ttry:\n\t\t\tc = next(_it1)\n\t\texcept StopIteration:\n\t\t\tbreak\n\t\tprint(c)\n"
        );
    }

    #[test]
    fn refuses_else_one_liners_and_complex_targets() {
        for src in [
            "def f(xs):\n    for x in xs:\n        pass\n    else:\n        return 1\n",
            "def f(xs):\n    for x in xs: print(x)\n",
            "def f(xs, d):\n    for d['k'] in xs:\n        pass\n",
            "async def f(xs):\n    async for x in xs:\n        pass\n",
            "def f(xs, next):\n    for x in xs:\n        pass\n",
        ] {
            assert!(
                matches!(convert(src), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
    }
}
