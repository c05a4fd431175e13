//! Usage inference for unannotated parameters: how the body uses a name
//! (`x.append`, `x + 1`, `len(x)`, `x.split()`) votes for a type.
//!
//! Votes carry a weight by how specific the evidence is (a `str`-only method
//! beats `x + 1`, which beats "it is iterated"), and the heaviest category
//! wins; ties go to the more specific category. Only names that are
//! parameters are tracked, and a rebinding in the body is not noticed: this is
//! a guess that the tracer will confirm or refute.

use std::collections::BTreeMap;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, CmpOp, Expr, Number, Operator, Stmt};

use super::ValueType;

/// What a use suggests, most specific first (the order breaks ties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hint {
    Dict,
    Str,
    List,
    Float,
    Int,
    /// Iterated, indexed or measured: a sequence of some kind.
    Sequence,
}

impl Hint {
    fn to_type(self) -> ValueType {
        match self {
            Hint::Dict => ValueType::Dict(Box::new(ValueType::Str), Box::new(ValueType::Int)),
            Hint::Str => ValueType::Str,
            Hint::List | Hint::Sequence => ValueType::List(Box::new(ValueType::Int)),
            Hint::Float => ValueType::Float,
            Hint::Int => ValueType::Int,
        }
    }
}

/// Methods of `str` that the other generated builtins lack: calling one on
/// a parameter votes str, and type adaptation reads it as "wanted a str".
pub(super) const STR_METHODS: &[&str] = &[
    "split",
    "rsplit",
    "lower",
    "upper",
    "strip",
    "lstrip",
    "rstrip",
    "startswith",
    "endswith",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "isupper",
    "islower",
    "replace",
    "find",
    "rfind",
    "format",
    "encode",
    "title",
    "capitalize",
    "swapcase",
    "splitlines",
    "zfill",
    "casefold",
    "partition",
    "join",
    "center",
    "ljust",
    "rjust",
    "expandtabs",
    "format_map",
    "isdecimal",
    "isnumeric",
    "isidentifier",
    "isprintable",
    "istitle",
    "isascii",
    "rpartition",
    "rindex",
    "translate",
    "maketrans",
    "removeprefix",
    "removesuffix",
];
pub(super) const LIST_METHODS: &[&str] = &[
    "append", "extend", "pop", "sort", "insert", "remove", "reverse", "clear",
];
pub(super) const DICT_METHODS: &[&str] =
    &["keys", "values", "items", "get", "setdefault", "update"];
const ITER_BUILTINS: &[&str] = &[
    "len",
    "sorted",
    "sum",
    "max",
    "min",
    "enumerate",
    "zip",
    "set",
    "list",
    "tuple",
    "reversed",
    "any",
    "all",
    "iter",
    "map",
    "filter",
];

/// Infers a type for every non-variadic parameter of the first function in
/// `code`, in signature order; parameters with no evidence are `Any`.
pub fn infer_param_types(code: &str) -> Vec<(String, ValueType)> {
    let Ok(parsed) = ruff_python_parser::parse_module(code) else {
        return Vec::new();
    };
    let Some(def) = parsed.syntax().body.iter().find_map(|s| match s {
        Stmt::FunctionDef(d) => Some(d),
        _ => None,
    }) else {
        return Vec::new();
    };
    let names: Vec<String> = def
        .parameters
        .iter_non_variadic_params()
        .map(|p| p.name().to_string())
        .collect();
    let mut v = Votes {
        params: names.clone(),
        votes: BTreeMap::new(),
    };
    v.visit_body(&def.body);
    names
        .into_iter()
        .map(|n| {
            let ty = v.resolve(&n);
            (n, ty)
        })
        .collect()
}

struct Votes {
    params: Vec<String>,
    votes: BTreeMap<String, BTreeMap<Hint, u32>>,
}

/// The literal kind of an expression, for `x + 1` / `x == 'a'` evidence.
fn literal_hint(e: &Expr) -> Option<Hint> {
    match e {
        Expr::NumberLiteral(n) => match n.value {
            Number::Int(_) => Some(Hint::Int),
            Number::Float(_) => Some(Hint::Float),
            Number::Complex { .. } => None,
        },
        Expr::UnaryOp(u) => literal_hint(&u.operand),
        Expr::StringLiteral(_) | Expr::FString(_) => Some(Hint::Str),
        _ => None,
    }
}

impl Votes {
    fn param<'e>(&self, e: &'e Expr) -> Option<&'e str> {
        match e {
            Expr::Name(n) if self.params.iter().any(|p| p == n.id.as_str()) => Some(n.id.as_str()),
            _ => None,
        }
    }

    fn vote(&mut self, e: &Expr, hint: Hint, weight: u32) {
        if let Some(name) = self.param(e) {
            *self
                .votes
                .entry(name.to_string())
                .or_default()
                .entry(hint)
                .or_default() += weight;
        }
    }

    fn resolve(&self, name: &str) -> ValueType {
        let Some(votes) = self.votes.get(name) else {
            return ValueType::Any;
        };
        // Highest weight wins; on a tie, the smaller (more specific) hint.
        let best = votes.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
        best.map_or(ValueType::Any, |(h, _)| h.to_type())
    }

    fn binop(&mut self, b: &ast::ExprBinOp) {
        for (is_right, this, other) in [(false, &*b.left, &*b.right), (true, &*b.right, &*b.left)] {
            let lit = literal_hint(other);
            let hint = match (b.op, lit) {
                (_, Some(Hint::Float)) => Some((Hint::Float, 2)),
                (Operator::Add, Some(Hint::Str)) => Some((Hint::Str, 2)),
                (Operator::Mod, Some(Hint::Str)) => None, // `'%s' % x` says nothing about x
                // `a % k`: the divisor is a number (the left side could be a format string).
                (Operator::Mod, None) if is_right => Some((Hint::Int, 1)),
                (Operator::Mult, Some(Hint::Int)) => Some((Hint::Int, 1)),
                (Operator::Div, Some(Hint::Int)) => Some((Hint::Int, 1)),
                (
                    Operator::Add
                    | Operator::Sub
                    | Operator::Mod
                    | Operator::FloorDiv
                    | Operator::Pow
                    | Operator::BitAnd
                    | Operator::BitOr
                    | Operator::BitXor
                    | Operator::LShift
                    | Operator::RShift,
                    Some(Hint::Int),
                ) => Some((Hint::Int, 2)),
                (
                    Operator::Sub
                    | Operator::FloorDiv
                    | Operator::Pow
                    | Operator::LShift
                    | Operator::RShift,
                    None,
                ) => Some((Hint::Int, 1)),
                _ => None,
            };
            if let Some((h, w)) = hint {
                self.vote(this, h, w);
            }
        }
    }
}

impl<'a> Visitor<'a> for Votes {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::For(f) => self.vote(&f.iter, Hint::Sequence, 1),
            Stmt::AugAssign(a) => {
                let b = ast::ExprBinOp {
                    node_index: Default::default(),
                    range: a.range,
                    left: a.target.clone(),
                    op: a.op,
                    right: a.value.clone(),
                };
                self.binop(&b);
            }
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_comprehension(&mut self, c: &'a ast::Comprehension) {
        self.vote(&c.iter, Hint::Sequence, 1);
        visitor::walk_comprehension(self, c);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(call) => {
                match call.func.as_ref() {
                    Expr::Attribute(a) => {
                        let m = a.attr.as_str();
                        if STR_METHODS.contains(&m) {
                            // `sep.join(x)`: the receiver is the str, x is iterable.
                            self.vote(&a.value, Hint::Str, 3);
                        } else if LIST_METHODS.contains(&m) {
                            self.vote(&a.value, Hint::List, 3);
                        } else if DICT_METHODS.contains(&m) {
                            self.vote(&a.value, Hint::Dict, 3);
                        } else if m == "count" || m == "index" {
                            self.vote(&a.value, Hint::Sequence, 1);
                        }
                    }
                    Expr::Name(f) => {
                        let f = f.id.as_str();
                        for arg in call.arguments.args.iter() {
                            if f == "range" {
                                self.vote(arg, Hint::Int, 2);
                            } else if ITER_BUILTINS.contains(&f) && call.arguments.args.len() == 1
                                || f == "zip"
                                || f == "map"
                                || f == "filter"
                            {
                                self.vote(arg, Hint::Sequence, 1);
                            } else if matches!(f, "abs" | "bin" | "hex" | "chr" | "divmod") {
                                self.vote(arg, Hint::Int, 1);
                            } else if f == "ord" {
                                self.vote(arg, Hint::Str, 2);
                            }
                        }
                    }
                    _ => {}
                }
            }
            Expr::BinOp(b) => self.binop(b),
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => self.vote(&u.operand, Hint::Int, 1),
            Expr::Subscript(s) => match s.slice.as_ref() {
                Expr::StringLiteral(_) => self.vote(&s.value, Hint::Dict, 2),
                _ => self.vote(&s.value, Hint::Sequence, 1),
            },
            Expr::Compare(c) => {
                let mut left = &*c.left;
                for (op, right) in c.ops.iter().zip(c.comparators.iter()) {
                    if matches!(op, CmpOp::In | CmpOp::NotIn) {
                        // `x in 'aeiou'` makes x a str; `v in x` makes x a container.
                        if literal_hint(right) == Some(Hint::Str) {
                            self.vote(left, Hint::Str, 2);
                        }
                        self.vote(right, Hint::Sequence, 1);
                    } else {
                        if let Some(h) = literal_hint(right) {
                            self.vote(left, h, 2);
                        }
                        if let Some(h) = literal_hint(left) {
                            self.vote(right, h, 2);
                        }
                    }
                    left = right;
                }
            }
            _ => {}
        }
        visitor::walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(code: &str) -> Vec<ValueType> {
        infer_param_types(code)
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    fn list_int() -> ValueType {
        ValueType::List(Box::new(ValueType::Int))
    }

    #[test]
    fn single_uses() {
        assert_eq!(types("def f(x):\n    return x + 1\n"), vec![ValueType::Int]);
        assert_eq!(
            types("def f(n):\n    return [i for i in range(n)]\n"),
            vec![ValueType::Int]
        );
        assert_eq!(types("def f(x):\n    x.append(1)\n"), vec![list_int()]);
        assert_eq!(
            types("def f(s):\n    return s.split()\n"),
            vec![ValueType::Str]
        );
        assert_eq!(
            types("def f(d):\n    return list(d.items())\n")[0],
            Hint::Dict.to_type()
        );
        assert_eq!(
            types("def f(x):\n    return x / 2.0\n"),
            vec![ValueType::Float]
        );
        assert_eq!(
            types("def f(c):\n    return c == 'a'\n"),
            vec![ValueType::Str]
        );
        assert_eq!(
            types("def f(xs):\n    for v in xs:\n        pass\n"),
            vec![list_int()]
        );
        assert_eq!(
            types("def f(xs, i):\n    return xs[i] % 2\n"),
            vec![list_int(), ValueType::Any]
        );
        assert_eq!(types("def f(a):\n    return len(a)\n"), vec![list_int()]);
        assert_eq!(
            types("def f(a, b):\n    return a\n"),
            vec![ValueType::Any, ValueType::Any]
        );
    }

    #[test]
    fn votes_combine_and_specific_wins() {
        // Iterated and measured (weak), but `.lower()` is str-only.
        let code =
            "def f(s):\n    n = len(s)\n    for c in s:\n        pass\n    return s.lower()\n";
        assert_eq!(types(code), vec![ValueType::Str]);
        // Counter update on a local does not leak into the parameter.
        let code = "def f(nums, k):\n    total = 0\n    for x in nums:\n        total += x\n    return total % k == 0\n";
        assert_eq!(types(code), vec![list_int(), ValueType::Int]);
    }

    #[test]
    fn bad_code_yields_nothing() {
        assert!(infer_param_types("def f(:\n").is_empty());
    }
}
