use super::*;

fn origin() -> Origin {
    Origin {
        source: "files".into(),
        source_name: "demo".into(),
        path: "demo.py".into(),
        ..Default::default()
    }
}

fn by_name<'a>(rows: &'a [FunctionRecord], qualname: &str) -> &'a FunctionRecord {
    rows.iter()
        .find(|r| r.qualname == qualname)
        .unwrap_or_else(|| {
            panic!(
                "no {qualname} in {:?}",
                rows.iter().map(|r| &r.qualname).collect::<Vec<_>>()
            )
        })
}

const MODULE: &str = r#"import os
import random
from functools import lru_cache

LIMIT = 3


def add(a: int, b: int = LIMIT) -> int:
    """Add two integers together quickly.

    >>> add(1, 2)
    3
    """
    # a comment survives
    return a + b


class Box:
    """A box."""

    def __init__(self, items):
        self.items = items

    @staticmethod
    def size_of(xs, *rest, key=None, **kw):
        "Count the items in a list."
        return len(xs)

    class Inner:
        def deep(self):
            return 1


@lru_cache(maxsize=None)
def roll(n):
    return random.randint(1, n)


def listing(path):
    def inner():
        return os.listdir(path)
    return inner()


async def fetch(x, /, y):
    return x
"#;

#[test]
fn extracts_functions_and_methods_but_not_nested_defs() {
    let rows = extract_module(MODULE, &origin());
    let names: Vec<&str> = rows.iter().map(|r| r.qualname.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "add",
            "Box.__init__",
            "Box.size_of",
            "Box.Inner.deep",
            "roll",
            "listing",
            "fetch"
        ]
    );
    assert!(rows.iter().all(|r| r.is_ok() && r.id.len() == 16));
}

#[test]
fn top_level_function_fields() {
    let rows = extract_module(MODULE, &origin());
    let add = by_name(&rows, "add");
    assert_eq!(add.line, 8);
    assert!(add
        .code
        .starts_with("def add(a: int, b: int = LIMIT) -> int:\n    \"\"\"Add two"));
    assert!(add.code.ends_with("    return a + b"));
    assert_eq!(
        add.code_no_docstring,
        "def add(a: int, b: int = LIMIT) -> int:\n    # a comment survives\n    return a + b"
    );
    assert_eq!(
        add.docstring.as_deref(),
        Some("Add two integers together quickly.\n\n>>> add(1, 2)\n3")
    );
    assert_eq!(
        add.summary.as_deref(),
        Some("Add two integers together quickly.")
    );
    assert_eq!(add.signature, "def add(a: int, b: int = LIMIT) -> int");
    assert_eq!(
        add.params[1],
        Param {
            name: "b".into(),
            kind: ParamKind::PositionalOrKeyword,
            annotation: Some("int".into()),
            default: Some("LIMIT".into())
        }
    );
    assert_eq!(add.return_annotation.as_deref(), Some("int"));
    assert_eq!(add.examples.len(), 1);
    assert_eq!(add.examples[0].expected.as_deref(), Some("3"));
    assert_eq!(add.context, "LIMIT = 3\n");
    assert_eq!(add.uses_globals, vec!["LIMIT"]);
    assert!(add.standalone, "{:?}", add.standalone_reasons);
    assert_eq!(add.lines, 8);
    // def add ( a : int , b : int = LIMIT ) -> int : STRING return a + b
    assert_eq!(add.tokens, 21);
}

#[test]
fn methods_are_dedented_and_classified() {
    let rows = extract_module(MODULE, &origin());
    let init = by_name(&rows, "Box.__init__");
    assert!(init.is_method);
    assert_eq!(
        init.code,
        "def __init__(self, items):\n    self.items = items"
    );
    assert_eq!(init.standalone_reasons, vec!["uses_self"]);

    let size = by_name(&rows, "Box.size_of");
    assert_eq!(size.code, "@staticmethod\ndef size_of(xs, *rest, key=None, **kw):\n    \"Count the items in a list.\"\n    return len(xs)");
    assert_eq!(
        size.code_no_docstring,
        "@staticmethod\ndef size_of(xs, *rest, key=None, **kw):\n    return len(xs)"
    );
    assert_eq!(size.decorators, vec!["staticmethod"]);
    let kinds: Vec<ParamKind> = size.params.iter().map(|p| p.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ParamKind::PositionalOrKeyword,
            ParamKind::VarPositional,
            ParamKind::KeywordOnly,
            ParamKind::VarKeyword
        ]
    );
    assert!(size.standalone, "{:?}", size.standalone_reasons);
    assert_eq!(
        size.uses_builtins,
        vec!["len", "staticmethod"],
        "decorators are evaluated too"
    );
}

#[test]
fn impure_functions_say_why() {
    let rows = extract_module(MODULE, &origin());
    let roll = by_name(&rows, "roll");
    assert_eq!(roll.standalone_reasons, vec!["randomness_time"]);
    assert_eq!(
        roll.context,
        "import random\nfrom functools import lru_cache\n"
    );
    assert_eq!(by_name(&rows, "listing").standalone_reasons, vec!["io"]);
    let fetch = by_name(&rows, "fetch");
    assert!(fetch.is_async);
    assert_eq!(fetch.signature, "async def fetch(x, /, y)");
    assert_eq!(fetch.params[0].kind, ParamKind::PositionalOnly);
    assert_eq!(fetch.standalone_reasons, vec!["async"]);
}

#[test]
fn docstring_only_body_becomes_pass() {
    let rows = extract_module(
        "def stub():\n    \"\"\"Nothing to see here.\"\"\"\n\ndef one(): 'doc'; return 1\n",
        &origin(),
    );
    assert_eq!(rows[0].code_no_docstring, "def stub():\n    pass");
    assert_eq!(rows[1].code_no_docstring, "def one(): pass; return 1");
    for r in &rows {
        ruff_python_parser::parse_module(&r.code_no_docstring).expect("still valid Python");
    }
}

#[test]
fn methods_that_never_touch_self_are_standalone() {
    let src = "class K:\n    def pure(self, x):\n        return x * 2\n\n    def sup(self):\n        return super().f()\n\n    @classmethod\n    def make(cls):\n        return cls()\n";
    let rows = extract_module(src, &origin());
    assert!(by_name(&rows, "K.pure").standalone);
    assert_eq!(
        by_name(&rows, "K.sup").standalone_reasons,
        vec!["uses_self"]
    );
    assert_eq!(
        by_name(&rows, "K.make").standalone_reasons,
        vec!["decorated", "uses_self"]
    );
}

#[test]
fn origin_names_the_module_for_relative_imports() {
    let o = |source: &str, name: &str, path: &str| Origin {
        source: source.into(),
        source_name: name.into(),
        path: path.into(),
        ..Default::default()
    };
    assert_eq!(
        o("stdlib", "stdlib-3.13", "email/mime/text.py")
            .module_name()
            .as_deref(),
        Some("email.mime.text")
    );
    assert_eq!(
        o("stdlib", "stdlib-3.13", "email/__init__.py")
            .package()
            .as_deref(),
        Some("email")
    );
    assert_eq!(
        o("package", "toolz", "curried/__init__.py")
            .module_name()
            .as_deref(),
        Some("toolz.curried")
    );
    assert_eq!(o("files", "x", "my-scripts/run.py").module_name(), None);
    let rows = extract_module(
        "from .util import twice\n\ndef f(x):\n    return twice(x)\n",
        &o("stdlib", "s", "json/tool.py"),
    );
    assert_eq!(rows[0].context, "from json.util import twice\n");
    assert!(rows[0].standalone, "{:?}", rows[0].standalone_reasons);
}

#[test]
fn generator_and_undefined_names() {
    let rows = extract_module(
        "def gen(n):\n    for i in range(n):\n        yield i * SCALE\n",
        &origin(),
    );
    assert!(rows[0].is_generator);
    assert_eq!(rows[0].uses_undefined, vec!["SCALE"]);
    assert_eq!(rows[0].standalone_reasons, vec!["undefined_name"]);
}

#[test]
fn bad_inputs_become_error_rows() {
    let o = origin();
    assert_eq!(
        extract_module("def f(:\n    pass\n", &o)[0]
            .error
            .as_deref(),
        Some("syntax_error")
    );
    assert_eq!(
        extract_module("def f():\n    print 'hi'\n", &o)[0]
            .error
            .as_deref(),
        Some("python2")
    );
    let empty = &extract_module("x = 1\n", &o)[0];
    assert_eq!(
        (empty.status, empty.error.as_deref()),
        (RecordStatus::Skipped, Some("no_function"))
    );
    assert_eq!(decode_source(b"a\0b", 100).unwrap_err().0, "binary");
    assert_eq!(
        decode_source(b"caf\xe9 = 1", 100).unwrap_err().0,
        "not_utf8"
    );
    assert_eq!(decode_source(&[b'#'; 101], 100).unwrap_err().0, "too_large");
    assert_eq!(decode_source(b"\xef\xbb\xbfx = 1", 100).unwrap(), "x = 1");
    let err = &extract_module("def f(:\n", &o)[0];
    assert!(
        err.error_detail.as_deref().unwrap().starts_with("line 1:"),
        "{:?}",
        err.error_detail
    );
}

#[test]
fn crlf_sources_are_normalised() {
    let rows = extract_module("def f(x):\r\n    return x\r\n", &origin());
    assert_eq!(rows[0].code, "def f(x):\n    return x");
}

#[test]
fn dedup_removes_exact_and_renamed_copies() {
    let src = "def a(x):\n    return x + 1\n\ndef b(y):\n    return y + 1\n\ndef c(x):\n    return x * 2\n";
    let mut rows = extract_module(src, &origin());
    rows.extend(extract_module(src, &origin()));
    rows.push(origin().error("binary", "x"));
    let stats = dedup(&mut rows);
    assert_eq!(stats, DedupStats { exact: 3, near: 1 });
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["a", "c", ""]);

    let mut tasks = extract_module(src, &origin());
    tasks.iter_mut().for_each(|r| r.source = "mbpp".into());
    assert_eq!(
        dedup(&mut tasks),
        DedupStats { exact: 0, near: 0 },
        "renamed solutions of distinct tasks are kept"
    );
}

#[test]
fn ids_are_stable_content_hashes() {
    let a = extract_module("def f():\n    return 1\n", &origin());
    let mut other = origin();
    other.path = "elsewhere.py".into();
    let b = extract_module("\n\ndef f():\n    return 1\n", &other);
    assert_eq!(a[0].id, b[0].id);
    assert_eq!(a[0].id, content_id("def f():\n    return 1"));
}

#[test]
fn shape_hash_ignores_names_literals_and_layout_but_not_structure() {
    let a = shape_hash("def getregentry():\n    return codecs.CodecInfo(name='cp850', n=1)\n");
    let b = shape_hash(
        "def getregentry():  # ascii\n    return codecs.CodecInfo(\n        name=\"ascii\", n=2.5\n    )\n",
    );
    let f = shape_hash("def f(x):\n    return f'{x}!'\n");
    let g = shape_hash("def g(y):\n    return f'{y}?'\n");
    let other = shape_hash("def getregentry():\n    return codecs.CodecInfo(name='cp850', n=-1)\n");
    assert!(a.is_some());
    assert_eq!(a, b);
    assert_eq!(f, g);
    assert_ne!(a, other, "an operator is structure");
    assert_eq!(shape_hash("def broken(:\n"), None);
}

#[test]
fn methods_of_classes_made_without_arguments_run_on_an_instance() {
    let source = "import heapq\n\n\nclass Solution(object):\n    def kth(self, nums, k):\n        return self._pick(sorted(nums), k)\n\n    def _pick(self, xs, k):\n        return heapq.nlargest(k, xs)[-1]\n\n\nclass Needs:\n    def __init__(self, size):\n        self.size = size\n\n    def get(self):\n        return self.size\n";
    let rows = extract_module(source, &origin());
    let kth = by_name(&rows, "Solution.kth");
    assert!(kth.standalone, "{:?}", kth.standalone_reasons);
    assert!(
        kth.context.contains("class Solution(object):"),
        "{}",
        kth.context
    );
    assert!(
        kth.context.contains("import heapq"),
        "the class's own needs come along"
    );
    assert_eq!(
        crate::inputs::FunctionSpec::from(kth).receiver.as_deref(),
        Some("Solution()")
    );
    // A class that needs constructor arguments cannot be made for it.
    let get = by_name(&rows, "Needs.get");
    assert_eq!(get.standalone_reasons, vec!["uses_self"]);
    assert_eq!(
        crate::inputs::FunctionSpec::from(get).receiver.as_deref(),
        Some("None")
    );
}

#[test]
fn dedent_snippet_makes_cut_out_methods_top_level() {
    assert_eq!(
        dedent_snippet("    def f(self):\r\n      return 1\r\n\r\n"),
        "def f(self):\n  return 1\n"
    );
}

#[test]
fn third_party_imports_are_the_unguarded_non_stdlib_modules_of_a_context() {
    let context = "from __future__ import annotations\nimport os.path, sympy.core as sc\nfrom networkx.utils import arbitrary_element\nfrom collections import deque\ntry:\n    import numpy\nexcept ImportError:\n    numpy = None\nLIMIT = 3\n";
    let modules = third_party_imports(context).unwrap();
    assert_eq!(
        modules.into_iter().collect::<Vec<_>>(),
        vec!["networkx".to_string(), "sympy".to_string()]
    );
    assert!(third_party_imports("import math\n").unwrap().is_empty());
    assert_eq!(third_party_imports("def (:\n"), None);
}
