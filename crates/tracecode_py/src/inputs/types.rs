//! The small type language inputs are generated from, and how annotation
//! source text maps onto it.
//!
//! The language is deliberately coarse: it only has to say *which literal to
//! write*, so every container ABC collapses to the concrete builtin a caller
//! would most plausibly pass (`Sequence[int]` → `list[int]`).

use ruff_python_ast::{self as ast, Expr, Number, Operator};

/// A Python value type, as far as input generation cares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueType {
    Int,
    Float,
    Bool,
    Str,
    Bytes,
    None,
    List(Box<ValueType>),
    /// Fixed-shape tuple, `Tuple[int, str]`.
    Tuple(Vec<ValueType>),
    /// Homogeneous tuple of any length, `Tuple[int, ...]` or bare `tuple`.
    TupleOf(Box<ValueType>),
    Dict(Box<ValueType>, Box<ValueType>),
    Set(Box<ValueType>),
    FrozenSet(Box<ValueType>),
    Optional(Box<ValueType>),
    Union(Vec<ValueType>),
    /// Nothing known: the generator picks a plausible concrete type.
    Any,
}

impl ValueType {
    /// Parses annotation source (`List[int]`, `int | None`, `"Dict[str, int]"`).
    /// Anything unparseable or unknown (user classes, callables) is `Any`.
    pub fn from_annotation(text: &str) -> ValueType {
        match ruff_python_parser::parse_expression(text.trim()) {
            Ok(parsed) => from_expr(parsed.expr()),
            Err(_) => ValueType::Any,
        }
    }

    /// The type of a literal expression's source (used for defaults), `Any` if not a literal.
    pub fn of_literal(src: &str) -> ValueType {
        match ruff_python_parser::parse_expression(src.trim()) {
            Ok(parsed) => literal_type(parsed.expr()),
            Err(_) => ValueType::Any,
        }
    }

    /// The type's normalised name (`list[int]`, `dict[str, any]`,
    /// `optional[int]`): the part of a canonical signature one parameter adds.
    pub fn canonical_name(&self) -> String {
        let join = |ts: &[ValueType]| {
            ts.iter()
                .map(ValueType::canonical_name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            ValueType::Int => "int".into(),
            ValueType::Float => "float".into(),
            ValueType::Bool => "bool".into(),
            ValueType::Str => "str".into(),
            ValueType::Bytes => "bytes".into(),
            ValueType::None => "None".into(),
            ValueType::Any => "any".into(),
            ValueType::List(t) => format!("list[{}]", t.canonical_name()),
            ValueType::Tuple(ts) => format!("tuple[{}]", join(ts)),
            ValueType::TupleOf(t) => format!("tuple[{}, ...]", t.canonical_name()),
            ValueType::Dict(k, v) => {
                format!("dict[{}, {}]", k.canonical_name(), v.canonical_name())
            }
            ValueType::Set(t) => format!("set[{}]", t.canonical_name()),
            ValueType::FrozenSet(t) => format!("frozenset[{}]", t.canonical_name()),
            ValueType::Optional(t) => format!("optional[{}]", t.canonical_name()),
            ValueType::Union(ts) => format!("union[{}]", join(ts)),
        }
    }

    /// Whether values of this type can be dict keys / set members.
    pub fn is_hashable(&self) -> bool {
        match self {
            ValueType::List(_) | ValueType::Dict(..) | ValueType::Set(_) | ValueType::Any => false,
            ValueType::Tuple(ts) => ts.iter().all(ValueType::is_hashable),
            ValueType::TupleOf(t) | ValueType::Optional(t) | ValueType::FrozenSet(t) => {
                t.is_hashable()
            }
            ValueType::Union(ts) => ts.iter().all(ValueType::is_hashable),
            _ => true,
        }
    }
}

/// The trailing identifier of `List`, `typing.List`, `collections.abc.Sequence`.
fn base_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => Some(a.attr.as_str()),
        _ => None,
    }
}

fn boxed(args: &[ValueType], i: usize) -> Box<ValueType> {
    Box::new(args.get(i).cloned().unwrap_or(ValueType::Any))
}

fn from_expr(expr: &Expr) -> ValueType {
    match expr {
        Expr::NoneLiteral(_) => ValueType::None,
        // Forward references: `"List[int]"`.
        Expr::StringLiteral(s) => ValueType::from_annotation(s.value.to_str()),
        Expr::BinOp(b) if b.op == Operator::BitOr => {
            union(vec![from_expr(&b.left), from_expr(&b.right)])
        }
        Expr::Subscript(sub) => {
            let Some(base) = base_name(&sub.value) else {
                return ValueType::Any;
            };
            let items: Vec<&Expr> = match sub.slice.as_ref() {
                Expr::Tuple(t) => t.elts.iter().collect(),
                e => vec![e],
            };
            if base == "Literal" {
                return items.first().map_or(ValueType::Any, |e| literal_type(e));
            }
            if base == "Annotated" {
                return items.first().map_or(ValueType::Any, |e| from_expr(e));
            }
            let homogeneous_tuple =
                items.len() == 2 && matches!(items[1], Expr::EllipsisLiteral(_));
            let args: Vec<ValueType> = items.iter().map(|e| from_expr(e)).collect();
            match base {
                "Optional" => ValueType::Optional(boxed(&args, 0)),
                "Union" => union(args),
                "Tuple" | "tuple" if homogeneous_tuple => ValueType::TupleOf(boxed(&args, 0)),
                "Tuple" | "tuple" => ValueType::Tuple(args),
                "Dict" | "dict" | "Mapping" | "MutableMapping" | "DefaultDict" | "defaultdict"
                | "OrderedDict" => ValueType::Dict(boxed(&args, 0), boxed(&args, 1)),
                "Counter" => ValueType::Dict(boxed(&args, 0), Box::new(ValueType::Int)),
                "Set" | "set" | "AbstractSet" | "MutableSet" => ValueType::Set(boxed(&args, 0)),
                "FrozenSet" | "frozenset" => ValueType::FrozenSet(boxed(&args, 0)),
                "Type" | "type" | "Callable" => ValueType::Any,
                _ => match simple(base) {
                    // A generic container ABC: `Sequence[int]`, `Iterable[str]`, `Deque[int]`.
                    ValueType::List(_) => ValueType::List(boxed(&args, 0)),
                    other => other,
                },
            }
        }
        e => base_name(e).map_or(ValueType::Any, simple),
    }
}

/// Unsubscripted names.
fn simple(name: &str) -> ValueType {
    let any = || Box::new(ValueType::Any);
    match name {
        "int" | "SupportsInt" | "SupportsIndex" => ValueType::Int,
        "float" | "SupportsFloat" | "Real" | "Number" => ValueType::Float,
        "bool" => ValueType::Bool,
        "str" | "Text" | "AnyStr" | "LiteralString" => ValueType::Str,
        "bytes" | "bytearray" | "ByteString" => ValueType::Bytes,
        "None" | "NoneType" => ValueType::None,
        "list" | "List" | "Sequence" | "MutableSequence" | "Iterable" | "Iterator"
        | "Collection" | "Reversible" | "Sized" | "Container" | "Deque" | "deque" | "Generator" => {
            ValueType::List(any())
        }
        "tuple" | "Tuple" => ValueType::TupleOf(any()),
        "dict" | "Dict" | "Mapping" | "MutableMapping" | "DefaultDict" | "OrderedDict"
        | "Counter" => ValueType::Dict(any(), any()),
        "set" | "Set" | "AbstractSet" | "MutableSet" => ValueType::Set(any()),
        "frozenset" | "FrozenSet" => ValueType::FrozenSet(any()),
        _ => ValueType::Any,
    }
}

/// Flattens nested unions and turns a `None` member into `Optional`.
fn union(members: Vec<ValueType>) -> ValueType {
    let mut flat = Vec::new();
    let mut has_none = false;
    let mut stack = members;
    stack.reverse();
    while let Some(m) = stack.pop() {
        match m {
            ValueType::Union(inner) => stack.extend(inner.into_iter().rev()),
            ValueType::Optional(inner) => {
                has_none = true;
                stack.push(*inner);
            }
            ValueType::None => has_none = true,
            t if !flat.contains(&t) => flat.push(t),
            _ => {}
        }
    }
    let inner = match flat.len() {
        0 => return ValueType::None,
        1 => flat.pop().unwrap(),
        _ => ValueType::Union(flat),
    };
    if has_none {
        ValueType::Optional(Box::new(inner))
    } else {
        inner
    }
}

/// The type of a literal value (`3` → Int, `[1]` → List[Int]); non-literals are `Any`.
pub(crate) fn literal_type(expr: &Expr) -> ValueType {
    let first = |elts: &[Expr]| Box::new(elts.first().map_or(ValueType::Any, literal_type));
    match expr {
        Expr::NumberLiteral(n) => match n.value {
            Number::Int(_) => ValueType::Int,
            Number::Float(_) => ValueType::Float,
            Number::Complex { .. } => ValueType::Any,
        },
        Expr::UnaryOp(u) if matches!(u.op, ast::UnaryOp::USub | ast::UnaryOp::UAdd) => {
            literal_type(&u.operand)
        }
        Expr::BooleanLiteral(_) => ValueType::Bool,
        Expr::StringLiteral(_) => ValueType::Str,
        Expr::BytesLiteral(_) => ValueType::Bytes,
        Expr::NoneLiteral(_) => ValueType::None,
        Expr::List(l) => ValueType::List(first(&l.elts)),
        Expr::Tuple(t) => ValueType::Tuple(t.elts.iter().map(literal_type).collect()),
        Expr::Set(s) => ValueType::Set(first(&s.elts)),
        Expr::Dict(d) => {
            let item = d.items.first();
            let k = item
                .and_then(|i| i.key.as_ref())
                .map_or(ValueType::Any, literal_type);
            let v = item.map_or(ValueType::Any, |i| literal_type(&i.value));
            ValueType::Dict(Box::new(k), Box::new(v))
        }
        _ => ValueType::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::ValueType::{self, *};

    fn b(t: ValueType) -> Box<ValueType> {
        Box::new(t)
    }

    #[test]
    fn annotations() {
        let cases = [
            ("int", Int),
            ("float", Float),
            ("str", Str),
            ("List[int]", List(b(Int))),
            ("list[str]", List(b(Str))),
            ("typing.List[int]", List(b(Int))),
            ("Sequence[int]", List(b(Int))),
            ("Iterable", List(b(Any))),
            (
                "Optional[Dict[str, int]]",
                Optional(b(Dict(b(Str), b(Int)))),
            ),
            ("Mapping[str, float]", Dict(b(Str), b(Float))),
            ("Union[int, str]", Union(vec![Int, Str])),
            ("int | None", Optional(b(Int))),
            ("Union[int, str, None]", Optional(b(Union(vec![Int, Str])))),
            ("Tuple[int, str]", Tuple(vec![Int, Str])),
            ("tuple[int, ...]", TupleOf(b(Int))),
            ("Set[int]", Set(b(Int))),
            ("FrozenSet[str]", FrozenSet(b(Str))),
            ("\"List[int]\"", List(b(Int))),
            ("Literal['a', 'b']", Str),
            ("MyClass", Any),
            ("Callable[[int], int]", Any),
            ("not valid (", Any),
        ];
        for (text, want) in cases {
            assert_eq!(ValueType::from_annotation(text), want, "{text}");
        }
    }

    #[test]
    fn canonical_names_are_spelling_independent() {
        for (a, b) in [
            ("List[int]", "list[int]"),
            ("typing.Optional[Dict[str, int]]", "Dict[str, int] | None"),
            ("Sequence[str]", "List[str]"),
        ] {
            assert_eq!(
                ValueType::from_annotation(a).canonical_name(),
                ValueType::from_annotation(b).canonical_name(),
                "{a} vs {b}"
            );
        }
        assert_eq!(
            ValueType::from_annotation("Optional[Dict[str, List[int]]]").canonical_name(),
            "optional[dict[str, list[int]]]"
        );
    }

    #[test]
    fn literal_types() {
        assert_eq!(ValueType::of_literal("-3"), Int);
        assert_eq!(ValueType::of_literal("[1.5]"), List(b(Float)));
        assert_eq!(ValueType::of_literal("{'a': 1}"), Dict(b(Str), b(Int)));
        assert_eq!(ValueType::of_literal("foo()"), Any);
    }
}
