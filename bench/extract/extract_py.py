#!/usr/bin/env python3
"""Reference extractor for the `tracecode corpus` benchmark, in pure Python.

Computes the same per-function fields as `tracecode corpus --stdlib` (the
FunctionRecord in crates/tracecode_data/src/schema.rs) with the `ast` and
`tokenize` modules, on the same input (every *.py under the running
interpreter's stdlib, site-packages excluded), with the same number of worker
processes, then removes exact and near duplicates and writes JSONL.

    python3 bench/extract/extract_py.py [--jobs N] [--out FILE] [--stdlib-dir DIR]

Prints one JSON summary line on stdout; progress/summary text goes to stderr.

Scope (kept identical on both sides of the benchmark): functions defined
directly in a module body or a class body (recursively through nested
classes); functions nested in functions are part of their parent's code.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import hashlib
import io
import json
import keyword
import multiprocessing as mp
import os
import re
import sys
import sysconfig
import tempfile
import time
import tokenize
from collections import Counter

MAX_FILE_BYTES = 1 << 20  # files above this are error rows (`too_large`)

BUILTINS = frozenset(dir(builtins))
STDLIB_MODULES = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}

# Classification lists: the same as tracecode_py's extract/classify.rs, so both
# sides do the same work. A chain matches a prefix when equal to it or when it
# continues it after a dot.
HARMLESS_DECORATORS = frozenset({
    "staticmethod", "functools.cache", "functools.lru_cache", "functools.wraps",
    "cache", "lru_cache", "typing.overload", "overload",
})
IO_MODULES = (
    "os", "io", "shutil", "tempfile", "glob", "fileinput", "pathlib", "sqlite3", "dbm", "shelve", "mmap",
    "zipfile", "tarfile", "gzip.open", "bz2.open", "lzma.open", "sys.stdin", "sys.stdout", "sys.stderr",
    "sys.argv", "sys.path", "sys.modules", "sys.exit", "logging", "tkinter", "curses", "readline", "getpass",
    "pwd", "grp", "fcntl", "termios", "msvcrt", "winreg", "nturl2path", "posix", "nt", "resource", "syslog",
    "site", "importlib", "pkgutil", "runpy", "linecache", "tokenize.open", "codecs.open", "locale.setlocale",
    "atexit", "gc", "faulthandler", "tracemalloc", "builtins.open",
)
NETWORK_MODULES = (
    "socket", "ssl", "http", "urllib.request", "urllib.robotparser", "ftplib", "smtplib", "poplib", "imaplib",
    "telnetlib", "nntplib", "xmlrpc", "asyncio", "selectors", "select", "socketserver", "webbrowser", "wsgiref",
    "mailbox", "smtpd", "asyncore", "asynchat",
)
PROCESS_MODULES = (
    "subprocess", "multiprocessing", "threading", "_thread", "concurrent", "signal", "ctypes", "os.system",
    "os.fork", "os.kill", "os.exec", "os.spawn", "os.popen", "pty", "sched", "queue",
)
NONDETERMINISTIC = (
    "random", "secrets", "uuid.uuid1", "uuid.uuid4", "time", "os.urandom", "os.getpid", "datetime.datetime.now",
    "datetime.datetime.today", "datetime.datetime.utcnow", "datetime.date.today", "datetime.now", "datetime.today",
    "datetime.utcnow", "date.today",
)
PURE = (
    "os.path.join", "os.path.split", "os.path.splitext", "os.path.basename", "os.path.dirname", "os.path.normpath",
    "os.path.normcase", "os.path.isabs", "os.path.commonprefix", "os.path.commonpath", "os.path.splitdrive",
    "os.path.relpath", "os.sep", "os.linesep", "os.pathsep", "os.curdir", "os.pardir", "os.extsep", "os.altsep",
    "os.fspath", "os.fsencode", "os.fsdecode", "os.name", "io.StringIO", "io.BytesIO", "io.TextIOWrapper",
    "time.struct_time", "time.strftime", "time.gmtime", "random.Random", "sys.maxsize", "sys.version_info",
    "sys.byteorder", "sys.platform", "sys.intern", "sys.getrecursionlimit", "sys.float_info", "sys.int_info",
    "sys.hexversion", "sys.implementation", "sys.maxunicode", "sys.getsizeof", "sys.getdefaultencoding",
    "sys.getfilesystemencoding", "importlib.import_module",
)
DYNAMIC_BUILTINS = frozenset({"exec", "eval", "compile", "__import__", "globals", "breakpoint"})
PROCESS_BUILTINS = frozenset({"exit", "quit"})


def matches_prefix(chain: str, prefixes) -> bool:
    for p in prefixes:
        if chain == p or (chain.startswith(p) and chain[len(p)] == "."):
            return True
    return False

_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_URL_RE = re.compile(r"(?:https?|ftp)://\S+|www\.\S+")
_HTML_RE = re.compile(r"<[^>\n]+>")
_TAG_RE = re.compile(r"^\s*(?::\w+|@\w+)")
_SENT_RE = re.compile(r"(?<=[.!?])\s")
_PY2_RE = re.compile(
    r"^\s*(?:print\s+[^\s(=][^=]*$|exec\s+['\"\w]|except\s+[\w.]+\s*,\s*\w+\s*:|raise\s+\w+\s*,)"
    r"|`[^`\n]+`|\b0[0-7]+\b|\bur['\"]",
    re.M,
)
_NOISE = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
          tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}


def sha16(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class Source:
    """Source text with `ast`-compatible (UTF-8 byte column) slicing."""

    __slots__ = ("text", "lines")

    def __init__(self, text: str):
        self.text = text
        self.lines = _LINE_RE.findall(text)

    def _cut(self, line: str, col: int) -> int:
        # ast columns are UTF-8 byte offsets.
        if line.isascii():
            return col
        return len(line.encode("utf-8")[:col].decode("utf-8", "replace"))

    def segment(self, node, start=None) -> str:
        l0, c0 = start if start else (node.lineno, node.col_offset)
        l1, c1 = node.end_lineno, node.end_col_offset
        lines = self.lines
        if l0 == l1:
            line = lines[l0 - 1]
            return line[self._cut(line, c0):self._cut(line, c1)]
        first = lines[l0 - 1]
        last = lines[l1 - 1]
        parts = [first[self._cut(first, c0):]]
        parts.extend(lines[l0:l1 - 1])
        parts.append(last[:self._cut(last, c1)])
        return "".join(parts)

    def block(self, node, first_line: int) -> str:
        """Whole lines first_line..end of node (end cut at end_col_offset), dedented."""
        lines = self.lines
        l1 = node.end_lineno
        chunk = lines[first_line - 1:l1]
        last = chunk[-1]
        chunk[-1] = last[:self._cut(last, node.end_col_offset)]
        first = chunk[0]
        indent = first[:len(first) - len(first.lstrip(" \t"))]
        if indent:
            n = len(indent)
            chunk = [ln[n:] if ln.startswith(indent) else ln.lstrip(" \t") if not ln.strip() else ln
                     for ln in chunk]
        out = "".join(chunk)
        return out if out.endswith("\n") else out + "\n"


# ------------------------------------------------------------- name analysis ---

def _target_names(node, out: set):
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Starred) and isinstance(n.value, ast.Name):
            out.add(n.value.id)


def analyse_names(node):
    """(loaded names in first-use order, bound names, has global/nonlocal,
    dotted attribute chains rooted at a name)."""
    loads: dict[str, None] = {}
    bound: set[str] = set()
    chains: set[str] = set()
    has_global = False
    for n in ast.walk(node):
        t = type(n)
        if t is ast.Attribute:
            parts = [n.attr]
            v = n.value
            while type(v) is ast.Attribute:
                parts.append(v.attr)
                v = v.value
            if type(v) is ast.Name:
                parts.append(v.id)
                chains.add(".".join(reversed(parts)))
        elif t is ast.Name:
            if type(n.ctx) is ast.Load:
                loads.setdefault(n.id, None)
            else:
                bound.add(n.id)
        elif t is ast.arg:
            bound.add(n.arg)
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            if n is not node:
                bound.add(n.name)
        elif t is ast.alias:
            bound.add((n.asname or n.name).split(".")[0])
        elif t is ast.ExceptHandler:
            if n.name:
                bound.add(n.name)
        elif t is ast.Global or t is ast.Nonlocal:
            bound.update(n.names)
            has_global = True
        elif t is ast.MatchAs or t is ast.MatchStar:
            if n.name:
                bound.add(n.name)
        elif t is ast.MatchMapping:
            if n.rest:
                bound.add(n.rest)
    return loads, bound, has_global, chains


class ModuleInfo:
    """Module-level bindings and the statements that make them."""

    def __init__(self, tree: ast.Module, src: Source):
        self.src = src
        self.stmts = tree.body
        self.binders: dict[str, list[int]] = {}   # name -> indices of binding statements
        self.import_mod: dict[str, str | None] = {}  # local name -> module path (None: relative)
        self._uses: dict[int, tuple] = {}
        for i, st in enumerate(self.stmts):
            for name in self._bindings(st):
                self.binders.setdefault(name, []).append(i)

    def _bindings(self, st):
        names: set[str] = set()
        for n in self._walk_toplevel(st):
            t = type(n)
            if t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                names.add(n.name)
            elif t is ast.Import:
                for a in n.names:
                    local = a.asname or a.name.split(".")[0]
                    names.add(local)
                    self.import_mod[local] = a.name if a.asname else local
            elif t is ast.ImportFrom:
                for a in n.names:
                    local = a.asname or a.name
                    names.add(local)
                    self.import_mod[local] = None if n.level else f"{n.module}.{a.name}"
            elif t in (ast.Assign, ast.AnnAssign, ast.AugAssign):
                for target in (n.targets if t is ast.Assign else [n.target]):
                    _target_names(target, names)
            elif t in (ast.For, ast.AsyncFor):
                _target_names(n.target, names)
            elif t in (ast.With, ast.AsyncWith):
                for item in n.items:
                    if item.optional_vars is not None:
                        _target_names(item.optional_vars, names)
            elif t is ast.ExceptHandler and n.name:
                names.add(n.name)
        return names

    @staticmethod
    def _walk_toplevel(st):
        """Statements at module level, through if/try/with/for/while, not into def/class."""
        stack = [st]
        while stack:
            n = stack.pop()
            yield n
            t = type(n)
            if t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(n, field, ()) or ())

    def is_import(self, name: str) -> bool:
        return name in self.import_mod

    def _analyse(self, i: int):
        """(module names used, builtins used) by top-level statement i, cached."""
        r = self._uses.get(i)
        if r is None:
            st = self.stmts[i]
            loads, bound, _, chains = analyse_names(st)
            own = {st.name} if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else set()
            free = [n for n in loads if n not in bound or n in own]
            r = ([n for n in free if n in self.binders],
                 {n for n in free if n in BUILTINS and n not in self.binders},
                 chains)
            self._uses[i] = r
        return r

    def uses(self, i: int) -> list[str]:
        return self._analyse(i)[0]

    def builtins_used(self, i: int) -> set[str]:
        return self._analyse(i)[1]

    def chains_used(self, i: int) -> set[str]:
        return self._analyse(i)[2]

    def resolve(self, chain: str):
        """`p.join` with `from os import path as p` -> `os.path.join`; None if not via an import."""
        head, dot, rest = chain.partition(".")
        mod = self.import_mod.get(head)
        if not mod:
            return None
        return mod + dot + rest

    def closure(self, names, skip: int | None):
        """Indices of module statements needed for `names`, transitively."""
        seen: set[int] = set()
        todo = [i for n in names for i in self.binders.get(n, ())]
        while todo:
            i = todo.pop()
            if i in seen or i == skip:
                continue
            seen.add(i)
            for n in self.uses(i):
                todo.extend(self.binders.get(n, ()))
        return sorted(seen)


# ------------------------------------------------------------- text helpers ---

def summarize(doc: str | None) -> str | None:
    if not doc:
        return None
    kept = []
    for line in doc.split("\n"):
        s = line.strip()
        if not s:
            if kept:
                break          # first paragraph only
            continue
        if s.startswith((">>>", "...")) or _TAG_RE.match(s):
            break
        kept.append(s)
    text = " ".join(kept)
    text = _URL_RE.sub("", text)
    text = _HTML_RE.sub("", text)
    text = " ".join(text.split())
    if not text:
        return None
    text = _SENT_RE.split(text, 1)[0]
    toks = text.split()
    if not (3 <= len(toks) <= 256):
        return None
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    if ascii_chars < 0.9 * len(text):
        return None
    return text


def doctest_examples(doc: str | None, name: str):
    if not doc or ">>>" not in doc:
        return []
    out = []
    lines = doc.split("\n")
    i, n = 0, len(lines)
    while i < n:
        s = lines[i].strip()
        if not s.startswith(">>>"):
            i += 1
            continue
        src = [s[4:] if s.startswith(">>> ") else s[3:]]
        i += 1
        while i < n and lines[i].strip().startswith("..."):
            t = lines[i].strip()
            src.append(t[4:] if t.startswith("... ") else t[3:])
            i += 1
        want = []
        while i < n and lines[i].strip() and not lines[i].strip().startswith(">>>"):
            want.append(lines[i].strip())
            i += 1
        call = "\n".join(src).strip()
        try:
            expr = ast.parse(call, mode="eval")
        except SyntaxError:
            continue
        if any(isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id == name
               for c in ast.walk(expr)):
            out.append({"call": call, "expected": "\n".join(want) if want else None, "origin": "doctest"})
    return out


def token_stats(code: str):
    """(token count, identifier-normalised hash)."""
    count = 0
    ids: dict[str, str] = {}
    parts = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in _NOISE:
                continue
            count += 1
            s = tok.string
            if tok.type == tokenize.NAME and not keyword.iskeyword(s) and not keyword.issoftkeyword(s):
                s = ids.setdefault(s, "v%d" % len(ids))
            parts.append(s)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return count, sha16("\x00".join(parts))


def one_line_signature(header: str) -> str:
    header = header.rstrip()
    if header.endswith(":"):
        header = header[:-1].rstrip()
    if "\n" not in header and "#" not in header:
        return header
    try:
        toks = [t for t in tokenize.generate_tokens(io.StringIO(header + "\n").readline)
                if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
                                  tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)]
        out = []
        prev = None
        for t in toks:
            if prev is not None and not (t.string in ")],:" or prev.string in "([" or
                                         (t.string in "([" and prev.type == tokenize.NAME
                                          and not keyword.iskeyword(prev.string))):
                out.append(" ")
            out.append(t.string)
            prev = t
        return "".join(out)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return " ".join(header.split())


# ------------------------------------------------------------------ records ---

def error_row(source, source_name, path, reason, detail):
    return {
        "id": sha16(f"{source}\0{source_name}\0{path}\0{reason}\0{detail}"),
        "status": "error", "error": reason, "error_detail": detail,
        "source": source, "source_name": source_name, "path": path, "line": 0,
        "repo": None, "task_id": None, "partition": None, "name": "", "qualname": "",
        "is_method": False, "is_async": False, "is_generator": False, "decorators": [],
        "code": "", "code_no_docstring": "", "docstring": None, "summary": None,
        "signature": "", "params": [], "return_annotation": None, "context": "",
        "examples": [], "uses_imports": [], "uses_globals": [], "uses_builtins": [],
        "uses_undefined": [], "standalone": False, "standalone_reasons": [],
        "lines": 0, "tokens": 0, "norm_hash": "",
    }


def is_generator(fn) -> bool:
    stack = list(fn.body)
    while stack:
        n = stack.pop()
        t = type(n)
        if t is ast.Yield or t is ast.YieldFrom:
            return True
        if t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(n))
    return False


def params_of(fn, src: Source):
    a = fn.args
    seg = src.segment
    out = []
    positional = [(p, "positional_only") for p in a.posonlyargs] + [(p, "positional_or_keyword") for p in a.args]
    first_default = len(positional) - len(a.defaults)
    for i, (p, kind) in enumerate(positional):
        d = a.defaults[i - first_default] if i >= first_default else None
        out.append({"name": p.arg, "kind": kind,
                    "annotation": seg(p.annotation) if p.annotation else None,
                    "default": seg(d) if d is not None else None})
    if a.vararg:
        out.append({"name": a.vararg.arg, "kind": "var_positional",
                    "annotation": seg(a.vararg.annotation) if a.vararg.annotation else None, "default": None})
    for p, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append({"name": p.arg, "kind": "keyword_only",
                    "annotation": seg(p.annotation) if p.annotation else None,
                    "default": seg(d) if d is not None else None})
    if a.kwarg:
        out.append({"name": a.kwarg.arg, "kind": "var_keyword",
                    "annotation": seg(a.kwarg.annotation) if a.kwarg.annotation else None, "default": None})
    return out


def strip_docstring(fn, src: Source, code: str, first_line: int) -> str:
    body = fn.body
    ds = body[0]
    code_lines = code.splitlines(keepends=True)
    rel0 = ds.lineno - first_line
    rel1 = ds.end_lineno - first_line
    only = len(body) == 1
    first_ds_line = src.lines[ds.lineno - 1]
    starts_line = not first_ds_line[:src._cut(first_ds_line, ds.col_offset)].strip()
    if starts_line:
        indent = code_lines[rel0][:len(code_lines[rel0]) - len(code_lines[rel0].lstrip(" \t"))]
        repl = [indent + "pass\n"] if only else []
        if not only and len(body) > 1 and body[1].lineno == ds.end_lineno:
            # `"""doc"""; x = 1` — keep the rest of the line
            return "".join(code_lines[:rel0]) + indent + code_lines[rel1].split(";", 1)[-1].lstrip() + "".join(code_lines[rel1 + 1:])
        return "".join(code_lines[:rel0] + repl + code_lines[rel1 + 1:])
    # `def f(): "doc"` on one line
    doc_src = src.segment(ds)
    return code.replace(doc_src, "pass" if only else "", 1)


def extract_function(fn, qual, is_method, src: Source, mod: ModuleInfo, top_index, name_src, path):
    first_line = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
    code = src.block(fn, first_line)
    decorators = [src.segment(d) for d in fn.decorator_list]
    docstring = ast.get_docstring(fn, clean=True)
    if docstring is not None:
        code_nd = strip_docstring(fn, src, code, first_line)
    else:
        code_nd = code
    body0 = fn.body[0]
    header = src.segment(body0, start=(fn.lineno, fn.col_offset))
    b0 = src.segment(body0)
    header = header[: len(header) - len(b0)] if header.endswith(b0) else header
    signature = one_line_signature(header)

    loads, bound, has_global, chains = analyse_names(fn)
    imports, globals_, builtins_, undefined = [], [], [], []
    for n in loads:
        if n in bound:
            continue
        if n in mod.binders:
            (imports if mod.is_import(n) else globals_).append(n)
        elif n in BUILTINS:
            builtins_.append(n)
        else:
            undefined.append(n)

    used_module = imports + globals_
    skip = top_index if not is_method else None
    ctx_idx = mod.closure(used_module, skip)
    context = "\n".join(src.block(mod.stmts[i], mod.stmts[i].decorator_list[0].lineno
                                  if getattr(mod.stmts[i], "decorator_list", None) else mod.stmts[i].lineno)
                        for i in ctx_idx)

    # --- standalone classification: the function and its context closure ---
    all_imports = set(imports)
    all_builtins = set(builtins_)
    all_chains = {c for c in chains if c.partition(".")[0] not in bound}
    for i in ctx_idx:
        for n in mod.uses(i):
            if mod.is_import(n):
                all_imports.add(n)
        all_builtins.update(mod.builtins_used(i))
        all_chains.update(mod.chains_used(i))
    resolved = set()
    for n in all_imports:
        m = mod.import_mod.get(n)
        if m:
            resolved.add(m)
    for c in all_chains:
        r = mod.resolve(c)
        if r:
            resolved.add(r)
    reasons = set()
    if is_method and "staticmethod" not in decorators and (
            "super" in loads or "__class__" in loads
            or (fn.args.posonlyargs + fn.args.args and (fn.args.posonlyargs + fn.args.args)[0].arg in loads)):
        reasons.add("uses_self")
    if isinstance(fn, ast.AsyncFunctionDef):
        reasons.add("async")
    if any(d.split("(", 1)[0].strip() not in HARMLESS_DECORATORS for d in decorators):
        reasons.add("decorated")
    if undefined:
        reasons.add("undefined_name")
    if any(mod.import_mod.get(n) is None for n in all_imports):
        reasons.add("relative_import")
    if any(m.split(".")[0] not in STDLIB_MODULES for m in resolved):
        reasons.add("non_stdlib_import")
    if has_global:
        reasons.add("module_state")
    for b in all_builtins:
        if b == "open":
            reasons.add("io")
        elif b == "input":
            reasons.add("input")
        elif b in DYNAMIC_BUILTINS:
            reasons.add("dynamic_code")
        elif b in PROCESS_BUILTINS:
            reasons.add("process")
    for c in resolved:
        if matches_prefix(c, PURE):
            continue
        if any(o.startswith(c + ".") for o in resolved):
            continue  # only the longest chains matter
        if matches_prefix(c, NETWORK_MODULES):
            reasons.add("network")
        elif matches_prefix(c, PROCESS_MODULES):
            reasons.add("process")
        elif matches_prefix(c, NONDETERMINISTIC):
            reasons.add("randomness_time")
        elif matches_prefix(c, IO_MODULES):
            reasons.add("io")
    reasons = sorted(reasons)

    tokens, norm_hash = token_stats(code)
    return {
        "id": sha16(code), "status": "ok", "error": None, "error_detail": None,
        "source": "stdlib", "source_name": name_src, "path": path, "line": first_line,
        "repo": None, "task_id": None, "partition": None,
        "name": fn.name, "qualname": qual, "is_method": is_method,
        "is_async": isinstance(fn, ast.AsyncFunctionDef), "is_generator": is_generator(fn),
        "decorators": decorators, "code": code, "code_no_docstring": code_nd,
        "docstring": docstring, "summary": summarize(docstring), "signature": signature,
        "params": params_of(fn, src),
        "return_annotation": src.segment(fn.returns) if fn.returns else None,
        "context": context, "examples": doctest_examples(docstring, fn.name),
        "uses_imports": imports, "uses_globals": globals_, "uses_builtins": builtins_,
        "uses_undefined": undefined, "standalone": not reasons, "standalone_reasons": reasons,
        "lines": code.count("\n"), "tokens": tokens, "norm_hash": norm_hash,
    }


def process_file(job):
    root, rel, name_src, max_bytes = job
    path = os.path.join(root, rel)
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            return [error_row("stdlib", name_src, rel, "too_large", f"{size} bytes > {max_bytes}")]
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return [error_row("stdlib", name_src, rel, "io_error", str(e))]
    nul = data.find(b"\0")
    if nul >= 0:
        return [error_row("stdlib", name_src, rel, "binary", f"NUL byte at {nul}")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return [error_row("stdlib", name_src, rel, "not_utf8", str(e))]
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        tree = ast.parse(text, filename=rel)
    except (SyntaxError, ValueError) as e:
        reason = "python2" if _PY2_RE.search(text) else "syntax_error"
        return [error_row("stdlib", name_src, rel, reason, f"{type(e).__name__}: {e}")]
    src = Source(text)
    mod = ModuleInfo(tree, src)
    out = []
    FN = (ast.FunctionDef, ast.AsyncFunctionDef)

    def visit_class(cls, prefix):
        for st in cls.body:
            if isinstance(st, FN):
                out.append(extract_function(st, f"{prefix}.{st.name}", True, src, mod, None, name_src, rel))
            elif isinstance(st, ast.ClassDef):
                visit_class(st, f"{prefix}.{st.name}")

    for i, st in enumerate(tree.body):
        try:
            if isinstance(st, FN):
                out.append(extract_function(st, st.name, False, src, mod, i, name_src, rel))
            elif isinstance(st, ast.ClassDef):
                visit_class(st, st.name)
        except RecursionError as e:  # pathological nesting
            out.append(error_row("stdlib", name_src, rel, "syntax_error", f"RecursionError: {e}"))
    if not out:
        return [error_row("stdlib", name_src, rel, "no_function", "no function or method definitions")]
    return out


def stdlib_files(root: str):
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "dist-packages", "__pycache__"))
        for fn in sorted(filenames):
            if fn.endswith(".py"):
                files.append(os.path.relpath(os.path.join(dirpath, fn), root))
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPU count)")
    ap.add_argument("--out", help="JSONL output (default: a temporary file, deleted unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary output file")
    ap.add_argument("--stdlib-dir", default=sysconfig.get_paths()["stdlib"])
    ap.add_argument("--max-file-bytes", type=int, default=MAX_FILE_BYTES)
    ap.add_argument("--keep-duplicates", action="store_true")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    root = os.path.realpath(args.stdlib_dir)
    name_src = "stdlib-%d.%d" % sys.version_info[:2]
    jobs = [(root, rel, name_src, args.max_file_bytes) for rel in stdlib_files(root)]
    if args.jobs > 1:
        with mp.get_context("fork").Pool(args.jobs) as pool:
            per_file = pool.map(process_file, jobs, chunksize=8)
    else:
        per_file = [process_file(j) for j in jobs]

    seen_id, seen_norm = set(), set()
    ok = dup_exact = dup_near = 0
    errors: Counter = Counter()
    if args.out:
        out_path = args.out
        fh = open(out_path, "w", encoding="utf-8")
    else:
        fd, out_path = tempfile.mkstemp(prefix="extract_py.", suffix=".jsonl")
        fh = os.fdopen(fd, "w", encoding="utf-8")
    with fh:
        for rows in per_file:
            for r in rows:
                if r["status"] == "ok":
                    if not args.keep_duplicates:
                        if r["id"] in seen_id:
                            dup_exact += 1
                            continue
                        if r["norm_hash"] in seen_norm:
                            dup_near += 1
                            continue
                        seen_id.add(r["id"])
                        seen_norm.add(r["norm_hash"])
                    ok += 1
                else:
                    errors[r["error"]] += 1
                fh.write(json.dumps(r, ensure_ascii=False))
                fh.write("\n")
    secs = time.perf_counter() - t0
    summary = {
        "files": len(jobs), "functions": ok, "errors": dict(sorted(errors.items())),
        "duplicates_exact": dup_exact, "duplicates_near": dup_near,
        "jobs": args.jobs, "seconds": round(secs, 3), "out": out_path,
    }
    print(f"[extract_py] {len(jobs)} files, {ok} functions, errors {dict(errors)}, "
          f"duplicates removed {dup_exact} exact + {dup_near} near, {secs:.2f}s", file=sys.stderr)
    if not args.out and not args.keep:
        os.unlink(out_path)
        summary["out"] = None
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
