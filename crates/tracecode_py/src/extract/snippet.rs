//! Snippet sources (CodeSearchNet, MBPP, HumanEval rows): one entry function
//! per row, with the row's imports and helpers as context and its tests turned
//! into example calls.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt};
use ruff_python_parser::parse_module;
use ruff_text_size::Ranged;
use tracecode_data::{ExampleCall, FunctionRecord};

use super::{function_record, input_error, summary, syntax_error_row, Module, Origin};

/// How a snippet's tests are written.
#[derive(Debug, Clone, Copy)]
pub enum SnippetTests<'a> {
    None,
    /// MBPP `test_list`: statements like `assert f(1) == 2`.
    Asserts(&'a [String]),
    /// HumanEval `test`: `def check(candidate): assert candidate(1) == 2`.
    Check(&'a str),
}

/// One row of a snippet source.
#[derive(Debug, Clone)]
pub struct Snippet<'a> {
    pub code: &'a str,
    pub origin: Origin,
    /// The function to extract. `None`: the function the tests call, else the last def.
    pub entry: Option<&'a str>,
    /// Dotted name (CodeSearchNet `func_name`, e.g. `Parser.parse`), for qualname and method detection.
    pub qualname: Option<&'a str>,
    pub tests: SnippetTests<'a>,
    /// Natural-language description of the task (MBPP `text`): becomes the summary.
    pub description: Option<&'a str>,
}

/// Extracts the entry function of a snippet, or an error row.
pub fn extract_snippet(s: &Snippet) -> FunctionRecord {
    let normalized = s.code.replace("\r\n", "\n").replace('\t', "    ");
    let source = normalized.as_str();
    let parsed = match parse_module(source) {
        Ok(p) => p,
        Err(err) => return syntax_error_row(source, &s.origin, &err),
    };
    let body = &parsed.syntax().body;
    let defs: Vec<(usize, &ast::StmtFunctionDef)> = body
        .iter()
        .enumerate()
        .filter_map(|(i, st)| match st {
            Stmt::FunctionDef(d) => Some((i, d)),
            _ => None,
        })
        .collect();
    let wanted = s
        .entry
        .map(str::to_string)
        .or_else(|| {
            s.qualname
                .map(|q| q.rsplit('.').next().unwrap_or(q).to_string())
        })
        .or_else(|| tested_name(&s.tests, &defs));
    let chosen = match &wanted {
        Some(name) => defs.iter().find(|(_, d)| d.name.as_str() == name),
        None => defs.last(),
    };
    let Some(&(index, def)) = chosen else {
        let what = wanted.map_or("no function definition".to_string(), |n| {
            format!("no top-level def named {n:?}")
        });
        return s.origin.skipped(input_error::NO_FUNCTION, what);
    };
    let module = Module::new(source, &parsed, None);
    let qualname = s.qualname.unwrap_or(def.name.as_str());
    let is_method = qualname.contains('.')
        && def
            .parameters
            .args
            .first()
            .is_some_and(|p| matches!(p.parameter.name.as_str(), "self" | "cls"));
    let mut row = function_record(&module, def, qualname, is_method, &s.origin, Some(index));
    row.examples.extend(test_calls(&s.tests, def.name.as_str()));
    if let Some(text) = s.description {
        row.summary = summary(text);
    }
    row
}

/// The first top-level function that the tests call.
fn tested_name(tests: &SnippetTests, defs: &[(usize, &ast::StmtFunctionDef)]) -> Option<String> {
    let SnippetTests::Asserts(asserts) = tests else {
        return None;
    };
    asserts.iter().find_map(|t| {
        let parsed = parse_module(t).ok()?;
        let mut calls = CalledNames::default();
        calls.visit_body(&parsed.syntax().body);
        calls
            .names
            .into_iter()
            .find(|n| defs.iter().any(|(_, d)| d.name.as_str() == n))
    })
}

/// Example calls from the tests, calling the function by `name`.
fn test_calls(tests: &SnippetTests, name: &str) -> Vec<ExampleCall> {
    match tests {
        SnippetTests::None => vec![],
        SnippetTests::Asserts(asserts) => asserts
            .iter()
            .filter_map(|t| parse_module(t).ok().map(|p| (t, p)))
            .flat_map(|(t, p)| assert_calls(t, &p.syntax().body, name, name))
            .collect(),
        SnippetTests::Check(test) => {
            let Ok(parsed) = parse_module(test) else {
                return vec![];
            };
            let mut out = Vec::new();
            for stmt in &parsed.syntax().body {
                if let Stmt::FunctionDef(check) = stmt {
                    if let Some(param) = check.parameters.args.first() {
                        out.extend(assert_calls(
                            test,
                            &check.body,
                            param.parameter.name.as_str(),
                            name,
                        ));
                    }
                }
            }
            out
        }
    }
}

/// Calls to `callee` in the `assert` statements of `body` (searched recursively),
/// rewritten to call `name`. `assert callee(x) == y` also yields `y` as expected.
fn assert_calls(source: &str, body: &[Stmt], callee: &str, name: &str) -> Vec<ExampleCall> {
    let mut finder = AssertFinder { asserts: vec![] };
    finder.visit_body(body);
    let rename = |text: &str| rename_callee(text, callee, name);
    finder
        .asserts
        .into_iter()
        .filter_map(|test| {
            if let Expr::Compare(cmp) = test {
                if cmp.ops.len() == 1 && matches!(cmp.ops[0], CmpOp::Eq | CmpOp::Is) {
                    let (left, right) = (cmp.left.as_ref(), &cmp.comparators[0]);
                    for (call, expected) in [(left, right), (right, left)] {
                        if is_call_to(call, callee) {
                            return Some(ExampleCall {
                                call: rename(&source[call.range()]),
                                expected: Some(source[expected.range()].to_string()),
                                origin: "test".into(),
                            });
                        }
                    }
                }
            }
            let mut calls = CallsTo {
                callee,
                found: None,
            };
            calls.visit_expr(test);
            calls.found.map(|c| ExampleCall {
                call: rename(&source[c.range()]),
                expected: None,
                origin: "test".into(),
            })
        })
        .collect()
}

/// Replaces whole-word occurrences of `from` with `to`.
fn rename_callee(text: &str, from: &str, to: &str) -> String {
    if from == to {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    while let Some(pos) = rest.find(from) {
        out.push_str(&rest[..pos]);
        let before_ok = !out.chars().next_back().is_some_and(is_ident);
        let after_ok = !rest[pos + from.len()..]
            .chars()
            .next()
            .is_some_and(is_ident);
        out.push_str(if before_ok && after_ok { to } else { from });
        rest = &rest[pos + from.len()..];
    }
    out.push_str(rest);
    out
}

fn is_call_to(expr: &Expr, callee: &str) -> bool {
    matches!(expr, Expr::Call(c) if matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == callee))
}

struct AssertFinder<'a> {
    asserts: Vec<&'a Expr>,
}

impl<'a> Visitor<'a> for AssertFinder<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Assert(a) = stmt {
            self.asserts.push(&a.test);
        }
        visitor::walk_stmt(self, stmt);
    }
}

struct CallsTo<'a, 'b> {
    callee: &'b str,
    found: Option<&'a Expr>,
}

impl<'a> Visitor<'a> for CallsTo<'a, '_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found.is_none() && is_call_to(expr, self.callee) {
            self.found = Some(expr);
            return;
        }
        visitor::walk_expr(self, expr);
    }
}

#[derive(Default)]
struct CalledNames {
    names: Vec<String>,
}

impl<'a> Visitor<'a> for CalledNames {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(c) = expr {
            if let Expr::Name(n) = c.func.as_ref() {
                self.names.push(n.id.to_string());
            }
        }
        visitor::walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            source: "mbpp".into(),
            source_name: "mbpp.jsonl".into(),
            path: "mbpp.jsonl".into(),
            task_id: Some("2".into()),
            ..Default::default()
        }
    }

    #[test]
    fn mbpp_row_picks_tested_function_with_helpers_and_examples() {
        let code = "import math\r\ndef helper(x):\r\n\treturn math.sqrt(x)\r\ndef similar(a, b):\r\n\treturn tuple(set(a) & set(b)) if helper(4) else ()\r\ndef other():\r\n\tpass";
        let tests = vec![
            "assert set(similar((3, 4), (4, 5))) == set((4,))".to_string(),
            "assert similar((1, 2), (1, 2)) == (1, 2)".to_string(),
            "assert math.isclose(similar((1,), (1,))[0], 1)".to_string(),
        ];
        let row = extract_snippet(&Snippet {
            code,
            origin: origin(),
            entry: None,
            qualname: None,
            tests: SnippetTests::Asserts(&tests),
            description: Some(
                "Write a function to find the shared elements from the given two lists.",
            ),
        });
        assert!(row.is_ok(), "{:?}", row.error_detail);
        assert_eq!(row.name, "similar");
        assert_eq!(
            row.context,
            "import math\ndef helper(x):\n    return math.sqrt(x)\n"
        );
        assert_eq!(
            row.code,
            "def similar(a, b):\n    return tuple(set(a) & set(b)) if helper(4) else ()"
        );
        assert_eq!(
            row.summary.as_deref(),
            Some("Write a function to find the shared elements from the given two lists.")
        );
        let calls: Vec<(&str, Option<&str>)> = row
            .examples
            .iter()
            .map(|e| (e.call.as_str(), e.expected.as_deref()))
            .collect();
        assert_eq!(
            calls,
            vec![
                ("similar((3, 4), (4, 5))", None),
                ("similar((1, 2), (1, 2))", Some("(1, 2)")),
                ("similar((1,), (1,))", None)
            ]
        );
        assert!(row.standalone, "{:?}", row.standalone_reasons);
    }

    #[test]
    fn humaneval_check_calls_are_renamed_to_the_entry_point() {
        let code = "from typing import List\n\ndef has_close(numbers: List[float], t: float) -> bool:\n    \"\"\"Check if two numbers are closer than the threshold.\n    >>> has_close([1.0, 2.0], 0.5)\n    False\n    \"\"\"\n    return any(abs(a - b) < t for a in numbers for b in numbers if a is not b)\n";
        let test = "METADATA = {}\n\ndef check(candidate):\n    assert candidate([1.0, 2.8], 0.3) == True\n    assert not candidate([1.0], 0.5)\n";
        let row = extract_snippet(&Snippet {
            code,
            origin: origin(),
            entry: Some("has_close"),
            qualname: None,
            tests: SnippetTests::Check(test),
            description: None,
        });
        let calls: Vec<&str> = row.examples.iter().map(|e| e.call.as_str()).collect();
        assert_eq!(
            calls,
            vec![
                "has_close([1.0, 2.0], 0.5)",
                "has_close([1.0, 2.8], 0.3)",
                "has_close([1.0], 0.5)"
            ]
        );
        assert_eq!(row.examples[1].expected.as_deref(), Some("True"));
        assert_eq!(
            row.summary.as_deref(),
            Some("Check if two numbers are closer than the threshold.")
        );
        assert_eq!(row.context, "from typing import List\n");
    }

    #[test]
    fn codesearchnet_method_and_missing_entry() {
        let code = "def parse(self, text):\n    return self.grammar.parse(text)\n";
        let mut o = origin();
        o.source = "codesearchnet".into();
        let row = extract_snippet(&Snippet {
            code,
            origin: o.clone(),
            entry: None,
            qualname: Some("Parser.parse"),
            tests: SnippetTests::None,
            description: None,
        });
        assert!(row.is_method && !row.standalone);
        assert_eq!(row.qualname, "Parser.parse");
        let missing = extract_snippet(&Snippet {
            code: "x = 1\n",
            origin: o,
            entry: Some("f"),
            qualname: None,
            tests: SnippetTests::None,
            description: None,
        });
        assert_eq!(missing.error.as_deref(), Some("no_function"));
    }

    #[test]
    fn rename_callee_is_whole_word() {
        assert_eq!(
            rename_callee("candidate(candidates, x_candidate)", "candidate", "f"),
            "f(candidates, x_candidate)"
        );
    }
}
