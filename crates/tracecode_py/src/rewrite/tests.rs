//! Every rewrite on realistic functions: results parse, keep their comments,
//! and depend only on the seed. An ignored test also runs original and
//! rewritten code under Python 3.13 and compares what they do.

use std::collections::HashMap;

use ruff_python_ast::token::TokenKind;
use ruff_text_size::Ranged;

use super::*;

/// A fixture: its code, a preamble defining what it uses, and argument
/// tuples (Python expressions) to call it with.
struct Fixture {
    code: &'static str,
    preamble: &'static str,
    calls: &'static [&'static str],
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        code: r#"def parse_header(line, sep=':', strip=True):
    """Split a header line into (name, value).

    >>> parse_header('Host: x')
    ('Host', 'x')
    """
    # Find the separator; missing means a malformed line.
    idx = line.find(sep)
    if idx < 0:
        raise ValueError(f"no {sep!r} in {line!r}")
    else:
        name = line[:idx]
    value = line[idx + 1:]
    if strip:
        name, value = name.strip(), value.strip()
    return name, value
"#,
        preamble: "",
        calls: &["('Host: x',)", "('a=b', '=', False)", "('nothing',)", "(3,)"],
    },
    Fixture {
        code: r#"def max_path_sum(grid):
    """Largest sum of a path moving right or down."""
    rows = len(grid)
    cols = len(grid[0]) if rows else 0
    best = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        for j in range(cols):
            up = best[i - 1][j] if i > 0 else 0
            left = best[i][j - 1] if j > 0 else 0
            best[i][j] = grid[i][j] + max(up, left)  # extend the better path
    return best[rows - 1][cols - 1] if rows and cols else 0
"#,
        preamble: "",
        calls: &["([[1, 2], [3, 4]],)", "([],)", "([[5]],)", "([[1, 'a']],)"],
    },
    Fixture {
        code: r#"def flatten(items, depth=0, out=None):
    # Collect leaves in order.
    if out is None:
        out = []
    for item in items:
        if isinstance(item, (list, tuple)) and depth < 10:
            flatten(item, depth + 1, out)
        else:
            out.append(item)
    return out
"#,
        preamble: "",
        calls: &["([1, [2, (3, 4)], 5],)", "([],)", "([[[]]], 9)", "(5,)"],
    },
    Fixture {
        code: r#"def count_digits(n, base=10):
    """Number of digits of n in the given base."""
    if not (n > 0 and base > 1):
        return 1
    count = 0
    total = 0
    while n:
        n //= base
        count += 1  # one more digit
        total = total + count
    return count, total
"#,
        preamble: "",
        calls: &["(12345,)", "(0,)", "(255, 16)", "(7, 1)", "('x',)"],
    },
    Fixture {
        code: r#"def summarize(words, min_len=3):
    """Count words of at least min_len letters; report them as text."""
    counts = {w: len(w) for w in words if len(w) >= min_len}
    seen = set()
    for w in words:
        if not w or w in seen:
            continue
        seen.add(w)
    lines = []
    for w, n in sorted(counts.items()):
        lines.append(f"{w}: {n:>4}")
    return "\n".join(lines), len(seen)
"#,
        preamble: "",
        calls: &["(['apple', 'an', 'apple', '', 'kiwi'],)", "([], 0)", "(['x'], 1)"],
    },
    Fixture {
        code: r#"@functools.lru_cache(maxsize=None)
def scale_all(values, factor, offset=0.0):
    """Scale and shift every value; also rank them."""
    def scale(x):
        # Scaled and shifted.
        return x * factor + offset
    pairs = [(x, scale(x)) for x in values]
    key = lambda p: -p[1]
    return tuple(sorted(pairs, key=key))
"#,
        preamble: "import functools",
        calls: &["((1, 2, 3), 2)", "((), 1, 5)", "((1.5,), -1, 0.5)"],
    },
    Fixture {
        code: "def safe_div(a, b):\n\t\"\"\"Divide, returning None on error.\"\"\"\n\tresult = None; ok = False\n\ttry:\n\t\tresult = a / b\n\t\tok = True\n\texcept (ZeroDivisionError, TypeError) as exc:\n\t\tprint(f\"error: {exc}\")  # report\n\tfinally:\n\t\tpass\n\tif ok and result is not None:\n\t\treturn result\n\telse:\n\t\treturn None\n",
        preamble: "",
        calls: &["(1, 2)", "(1, 0)", "('a', 1)"],
    },
    Fixture {
        code: r#"async def fetch_all(urls, limit=5):
    results = {}
    for i, url in enumerate(urls):
        if i >= limit:
            break
        results[url] = await get(url)
    return [results[u] for u in urls if u in results]
"#,
        preamble: "async def get(u):\n    return u.upper()\n",
        calls: &["(['a', 'b', 'c'],)", "(['a', 'b'], 1)", "([],)"],
    },
    Fixture {
        code: r#"def binary_search(arr, target):
    lo = 0
    hi = len(arr) - 1
    # Invariant: target, if present, lies in arr[lo..hi].
    while lo <= hi:
        mid = (lo + hi) // 2
        if arr[mid] == target:
            return mid
        elif arr[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1
"#,
        preamble: "",
        calls: &["([1, 3, 5, 7], 5)", "([1, 3, 5, 7], 4)", "([], 1)", "([1, 'a'], 2)"],
    },
    Fixture {
        code: r#"def histogram(values, bins=4):
    lo = min(values)
    width = (max(values) - lo) / bins or 1
    counts = []
    for _ in range(bins):
        counts.append(0)
    for v in values:
        k = int((v - lo) / width)
        if k >= bins:
            k = bins - 1
        counts[k] += 1
    labels = []
    for i in range(bins):
        if counts[i] > 0:
            labels.append(f"{lo + i * width:.1f}")
    total = 0
    for c in counts:
        total += c
    return counts, labels, total
"#,
        preamble: "",
        calls: &["([1, 2, 2, 3, 9],)", "([5, 5], 2)", "([],)", "([0.5, 1.5, 2.5], 3)"],
    },
    Fixture {
        code: r#"@decorator("tag")
async def weird(a, *args, b=1, **kw):
    """One-liners, semicolons, async, match and except* together."""
    x = 1; y = 2
    if not a: y = 3
    for i in args: x += i
    while x < 10 and not b: x += 1
    z = [i for i in args] if b else {k: v for k, v in kw.items()}
    async with ctx() as c:
        await c.send(f"{x!r:>{y}} {a=}")  # debug f-string
    lam = lambda q, *r: (q, r, x)
    try:
        if a == 'boom':
            raise ExceptionGroup('g', [ValueError(a)])
    except* ValueError as eg:
        z = len(eg.exceptions)
    match a:
        case [1, *rest]:
            return rest, z
        case {"k": v, **others}:
            return v, others
        case Point(x=0) | None:
            return lam(x, y)
    return (x +
            y), z, c.sent
"#,
        preamble: r#"import contextlib
def decorator(tag):
    return lambda f: f
class Conn:
    def __init__(self):
        self.sent = []
    async def send(self, m):
        self.sent.append(m)
@contextlib.asynccontextmanager
async def ctx():
    yield Conn()
class Point:
    __match_args__ = ('x',)
    def __init__(self, x):
        self.x = x
"#,
        calls: &[
            "(0,)",
            "([1, 2, 3],)",
            "({'k': 5, 'j': 1},)",
            "(Point(0),)",
            "(None, 4, 5)",
            "('boom',)",
            "('x', 1, 2, 0)",
        ],
    },
    Fixture {
        code: r#"def running_max(nums):
    # Positions where a new maximum appears.
    best = None
    where = []
    for i in range(len(nums)):
        if best is None or nums[i] > best:
            best = nums[i]  # new maximum
            where.append(i)
    return best, where
"#,
        preamble: "",
        calls: &["([3, 1, 4, 1, 5],)", "([],)", "([2, 'a'],)"],
    },
    Fixture {
        code: r#"def top_words(text, k=3):
    # Count words; ties keep first-seen order.
    counts = {}
    for w in text.split():
        counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts, key=counts.get, reverse=True)
    top = ranked[:k]
    top.sort()
    if 'the' in counts:
        n = counts['the']
    else:
        n = 0
    return top, n
"#,
        preamble: "",
        calls: &["('b a b c a b',)", "('', 1)", "('the cat the end', 2)", "(5,)"],
    },
    Fixture {
        code: r#"def gcd(a, b):
    """Greatest common divisor, by Euclid's tail recursion."""
    if b == 0:
        return abs(a)
    return gcd(b, a % b)  # b shrinks every call
"#,
        preamble: "",
        calls: &["(12, 18)", "(7, 0)", "(0, 0)", "(-4, 6)", "('a', 1)"],
    },
];

fn comments(code: &str) -> Vec<String> {
    let parsed = ruff_python_parser::parse_module(code).expect("parses");
    let mut out: Vec<String> = parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == TokenKind::Comment)
        .map(|t| code[t.range()].to_string())
        .collect();
    out.sort();
    out
}

fn check_variant(original: &str, v: &Variant) {
    assert!(
        ruff_python_parser::parse_module(&v.code).is_ok(),
        "does not parse:\n{}",
        v.code
    );
    assert_eq!(
        comments(original),
        comments(&v.code),
        "comments changed:\n{}",
        v.code
    );
}

#[test]
fn every_kind_on_every_fixture_parses_keeps_comments_and_is_deterministic() {
    let mut applied: HashMap<RewriteKind, usize> = HashMap::new();
    for fixture in FIXTURES {
        let original = Variant::original(fixture.code);
        for &kind in RewriteKind::ALL {
            for seed in 0..50 {
                match apply_rewrite(kind, &original, seed) {
                    Ok(v) => {
                        check_variant(fixture.code, &v);
                        assert_ne!(v.code, fixture.code, "{kind:?} changed nothing");
                        assert_eq!(v, apply_rewrite(kind, &original, seed).unwrap());
                        *applied.entry(kind).or_default() += 1;
                    }
                    Err(EditError::NotApplicable(_)) => {}
                    Err(e) => panic!("{kind:?} seed {seed} on\n{}\n{e}", fixture.code),
                }
            }
        }
    }
    for kind in RewriteKind::ALL {
        assert!(
            applied.contains_key(kind),
            "{kind:?} never applied to a fixture"
        );
    }
}

#[test]
fn random_rewrites_compose_deterministically() {
    for fixture in FIXTURES {
        for seed in 0..50 {
            for steps in 1..4 {
                let v = random_rewrites(fixture.code, steps, seed).unwrap();
                assert!(!v.kinds.is_empty() && v.kinds.len() <= steps);
                assert_eq!(v.kinds.len(), v.notes.len());
                check_variant(fixture.code, &v);
                assert_eq!(v, random_rewrites(fixture.code, steps, seed).unwrap());
            }
        }
    }
    let codes: std::collections::HashSet<String> = (0..10)
        .map(|seed| random_rewrites(FIXTURES[2].code, 3, seed).unwrap().code)
        .collect();
    assert!(codes.len() > 1, "seeds should differ");
}

#[test]
fn kinds_round_trip_through_their_names() {
    for kind in RewriteKind::ALL {
        assert_eq!(kind.name().parse::<RewriteKind>().unwrap(), *kind);
        let json = serde_json::to_string(kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.name()));
        assert_eq!(kind.kind(), *kind);
    }
    assert!("nope".parse::<RewriteKind>().is_err());
}

#[test]
fn nothing_applies_to_a_bare_pass() {
    let err = random_rewrites("def f(): pass\n", 2, 0).unwrap_err();
    assert!(matches!(err, EditError::NotApplicable(_)));
}

/// Runs every fixture and many of its sound rewrites (speculative ones may
/// legitimately differ) under Python 3.13 on the
/// fixture's calls and compares results, exceptions and argument states.
#[test]
#[ignore = "needs /root/.pyenv/versions/3.13.0/bin/python3.13"]
fn rewrites_behave_like_the_original_under_python() {
    let mut cases = Vec::new();
    for fixture in FIXTURES {
        let original = Variant::original(fixture.code);
        let mut variants = Vec::new();
        for seed in 0..30 {
            for kind in RewriteKind::sound() {
                if let Ok(v) = apply_rewrite(kind, &original, seed) {
                    variants.push(v);
                }
            }
            for steps in 1..5 {
                variants.push(random_rewrites(fixture.code, steps, seed).unwrap());
            }
        }
        variants.sort_by(|a, b| a.code.cmp(&b.code));
        variants.dedup_by(|a, b| a.code == b.code);
        for v in variants {
            cases.push(serde_json::json!({
                "original": fixture.code,
                "rewritten": v.code,
                "kinds": v.kinds,
                "preamble": fixture.preamble,
                "calls": fixture.calls,
            }));
        }
    }
    let dir = std::env::temp_dir().join(format!("tracecode-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases_path = dir.join("cases.json");
    std::fs::write(&cases_path, serde_json::to_string(&cases).unwrap()).unwrap();
    let out = std::process::Command::new("/root/.pyenv/versions/3.13.0/bin/python3.13")
        .arg("-c")
        .arg(COMPARE_PY)
        .arg(&cases_path)
        .output()
        .expect("python3.13 runs");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}");
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.starts_with("ok"), "{report}");
}

const COMPARE_PY: &str = r#"
import ast, asyncio, contextlib, io, json, sys

def run(code, preamble, calls):
    ns = {}
    exec(preamble, ns)
    exec(code, ns)
    defs = (ast.FunctionDef, ast.AsyncFunctionDef)
    fn = ns[next(n.name for n in ast.parse(code).body if isinstance(n, defs))]
    seen = []
    for call in calls:
        args = eval(call, ns)
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                r = fn(*args)
                if asyncio.iscoroutine(r):
                    r = asyncio.run(r)
            seen.append(('ok', repr(r), repr(args), out.getvalue()))
        except Exception as e:
            seen.append(('raise', type(e).__name__, str(e), repr(args), out.getvalue()))
    return seen

cases = json.load(open(sys.argv[1]))
bad = []
for case in cases:
    a = run(case['original'], case['preamble'], case['calls'])
    b = run(case['rewritten'], case['preamble'], case['calls'])
    if a != b:
        bad.append(f"{case['kinds']}\n{case['rewritten']}\n{a}\n{b}\n")
print('ok' if not bad else f"{len(bad)} of {len(cases)} differ:\n" + "\n".join(bad[:5]))
print(len(cases), 'cases')
"#;

#[test]
fn local_name_sites_cover_every_occurrence_of_locals_only() {
    let src = "def scale(xs, k=2):\n    out = []\n    for x in xs:\n        out.append(x * k + len(xs))\n    return scale.cache or out\n";
    let sites = local_name_sites(src).unwrap();
    let names: Vec<&str> = sites.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["xs", "k", "out", "x"]);
    for (name, ranges) in &sites {
        for r in ranges {
            assert_eq!(&src[r.clone()], name);
        }
    }
    let count = |n: &str| sites.iter().find(|(m, _)| m == n).unwrap().1.len();
    assert_eq!(
        (count("xs"), count("k"), count("out"), count("x")),
        (3, 2, 3, 2)
    );
    // Observable names: nothing may be hidden.
    assert!(local_name_sites("def f(a):\n    return locals()\n").is_err());
}
