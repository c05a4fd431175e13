//! Function extraction: Python source text → [`FunctionRecord`]s.
//!
//! Works on text already read by the caller (files, JSONL rows, archives), so
//! it is pure and parallelisable. Every input yields rows: functions, or one
//! error row that says why there are none.

mod classify;
mod docstring;
mod module_index;
mod names;
mod scope;
pub use scope::comprehension_variables;
mod snippet;

use std::collections::BTreeSet;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_python_parser::{parse_module, Parsed};
use ruff_source_file::LineIndex;
use ruff_text_size::{Ranged, TextRange, TextSize};
use tracecode_data::schema::content_id;
use tracecode_data::{FunctionRecord, Param, ParamKind, RecordStatus};

pub use classify::reason;
pub use docstring::{cleandoc, doctest_calls, summary};
use module_index::ModuleIndex;
pub use names::{is_builtin, is_stdlib_module, BUILTINS};
pub use scope::{dotted_chain, function_uses, NameUses};
pub use snippet::{extract_snippet, Snippet, SnippetTests};

/// Where a piece of source came from; copied onto every row it yields.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub source: String,
    pub source_name: String,
    pub path: String,
    pub repo: Option<String>,
    pub task_id: Option<String>,
    pub partition: Option<String>,
}

impl Origin {
    /// An error row for this origin.
    pub fn error(&self, reason: &str, detail: impl Into<String>) -> FunctionRecord {
        let mut row =
            FunctionRecord::error(&self.source, &self.source_name, &self.path, reason, detail);
        row.repo = self.repo.clone();
        row.task_id = self.task_id.clone();
        row.partition = self.partition.clone();
        row
    }

    /// A skipped row: the input was fine but holds nothing to extract.
    pub fn skipped(&self, reason: &str, detail: impl Into<String>) -> FunctionRecord {
        FunctionRecord {
            status: RecordStatus::Skipped,
            ..self.error(reason, detail)
        }
    }

    /// The dotted module this source file is, when its path says so:
    /// `email/utils.py` → `email.utils`, `pkg/__init__.py` → `pkg`.
    /// Relative imports are resolved against it.
    pub fn module_name(&self) -> Option<String> {
        let stem = self.path.strip_suffix(".py")?;
        let mut parts: Vec<&str> = stem.split('/').filter(|p| !p.is_empty()).collect();
        if parts.last() == Some(&"__init__") {
            parts.pop();
        }
        if self.source == "package" {
            parts.insert(0, self.source_name.as_str());
        }
        let valid = |p: &&str| {
            p.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        };
        (!parts.is_empty() && parts.iter().all(valid)).then(|| parts.join("."))
    }

    /// The package relative imports start from: the module itself for `__init__.py`, else its parent.
    fn package(&self) -> Option<String> {
        let module = self.module_name()?;
        if self.path.ends_with("__init__.py") {
            Some(module)
        } else {
            Some(
                module
                    .rsplit_once('.')
                    .map_or(String::new(), |(p, _)| p.to_string()),
            )
        }
    }
}

/// Reasons an input yields no functions. Stable strings: they are dataset values.
pub mod input_error {
    pub const BINARY: &str = "binary";
    pub const NOT_UTF8: &str = "not_utf8";
    pub const TOO_LARGE: &str = "too_large";
    pub const SYNTAX_ERROR: &str = "syntax_error";
    pub const PYTHON2: &str = "python2";
    pub const NO_FUNCTION: &str = "no_function";
    pub const IO_ERROR: &str = "io_error";
    pub const BAD_ROW: &str = "bad_row";
}

/// Decodes file bytes as Python source, or says why it cannot be: too large,
/// binary (a NUL byte), or not UTF-8. Returns `(reason, detail)` on failure.
pub fn decode_source(bytes: &[u8], max_bytes: usize) -> Result<&str, (&'static str, String)> {
    if bytes.len() > max_bytes {
        return Err((
            input_error::TOO_LARGE,
            format!("{} bytes exceeds the {max_bytes}-byte limit", bytes.len()),
        ));
    }
    if let Some(pos) = bytes.iter().position(|&b| b == 0) {
        return Err((input_error::BINARY, format!("NUL byte at offset {pos}")));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        (
            input_error::NOT_UTF8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })
}

/// Extracts every module-level function and every method (through nested
/// classes) of a module. Functions nested inside functions are not extracted:
/// they close over their parent's locals and cannot run alone.
pub fn extract_module(source: &str, origin: &Origin) -> Vec<FunctionRecord> {
    let normalized;
    let source = if source.contains('\r') {
        normalized = source.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        source
    };
    let parsed = match parse_module(source) {
        Ok(parsed) => parsed,
        Err(err) => return vec![syntax_error_row(source, origin, &err)],
    };
    let module = Module::new(source, &parsed, origin.package());
    let mut out = Vec::new();
    collect_defs(&module, &parsed.syntax().body, "", false, origin, &mut out);
    if out.is_empty() {
        out.push(origin.skipped(input_error::NO_FUNCTION, "the source defines no function"));
    }
    out
}

/// The error row for source that failed to parse, telling Python 2 apart.
fn syntax_error_row(
    source: &str,
    origin: &Origin,
    err: &ruff_python_parser::ParseError,
) -> FunctionRecord {
    let line = LineIndex::from_source_text(source).line_index(err.location.start());
    let detail = format!("line {line}: {}", err.error);
    if looks_like_python2(source) {
        origin.error(input_error::PYTHON2, format!("Python 2 syntax ({detail})"))
    } else {
        origin.error(input_error::SYNTAX_ERROR, detail)
    }
}

/// Python 2 constructs that are syntax errors in Python 3.
fn looks_like_python2(source: &str) -> bool {
    use regex::Regex;
    use std::sync::LazyLock;
    static PY2: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^\s*(print\s+[^\s(=.,)\]]|print\s*$|exec\s+["'\w]|except\s+[\w.]+\s*,\s*\w+\s*:|raise\s+\w+\s*,\s*)|\bur["']|`[^`\n]+`|<>|\b0[0-7]+\b[^.]"#).unwrap()
    });
    PY2.is_match(source)
}

/// A parsed module with the lookups extraction needs.
pub(crate) struct Module<'a> {
    pub source: &'a str,
    pub parsed: &'a Parsed<ast::ModModule>,
    pub lines: LineIndex,
    pub index: ModuleIndex<'a>,
}

impl<'a> Module<'a> {
    /// `package` resolves relative imports (see [`Origin::package`]).
    pub fn new(
        source: &'a str,
        parsed: &'a Parsed<ast::ModModule>,
        package: Option<String>,
    ) -> Self {
        Module {
            source,
            parsed,
            lines: LineIndex::from_source_text(source),
            index: ModuleIndex::new(&parsed.syntax().body, source, package),
        }
    }

    pub fn text(&self, range: TextRange) -> &'a str {
        &self.source[range]
    }

    pub fn line_of(&self, offset: TextSize) -> u32 {
        self.lines.line_index(offset).get() as u32
    }
}

fn collect_defs(
    module: &Module,
    body: &[Stmt],
    prefix: &str,
    in_class: bool,
    origin: &Origin,
    out: &mut Vec<FunctionRecord>,
) {
    for (i, stmt) in body.iter().enumerate() {
        match stmt {
            Stmt::FunctionDef(def) => {
                let qualname = format!("{prefix}{}", def.name.as_str());
                let own_def = (!in_class).then_some(i);
                out.push(function_record(
                    module, def, &qualname, in_class, origin, own_def,
                ));
            }
            Stmt::ClassDef(class) => {
                let prefix = format!("{prefix}{}.", class.name.as_str());
                collect_defs(module, &class.body, &prefix, true, origin, out);
            }
            _ => {}
        }
    }
}

/// Builds the record of one `def`; `own_def` is its index when it is a
/// top-level statement (so recursion does not copy it into its own context).
pub(crate) fn function_record(
    module: &Module,
    def: &ast::StmtFunctionDef,
    qualname: &str,
    is_method: bool,
    origin: &Origin,
    own_def: Option<usize>,
) -> FunctionRecord {
    let range = def.range();
    let start_line = module.line_of(range.start());
    let line_start = module
        .lines
        .line_start(module.lines.line_index(range.start()), module.source);
    let indent = &module.source[TextRange::new(line_start, range.start())];
    // Only whitespace may precede the def on its line (`class C: def f(): ...` has more).
    let indent = if indent.chars().all(char::is_whitespace) {
        indent
    } else {
        ""
    };
    let raw = &module.source[TextRange::new(line_start, range.end())];
    let code = dedent(raw, indent);

    let docstring_stmt = docstring_of(&def.body);
    let docstring = docstring_stmt.as_ref().map(|(_, text)| cleandoc(text));
    let code_no_docstring = match &docstring_stmt {
        Some((doc_range, _)) => {
            let without =
                remove_docstring(module, line_start, range, *doc_range, def.body.len() == 1);
            dedent(&without, indent)
        }
        None => code.clone(),
    };
    let decorators: Vec<String> = def
        .decorator_list
        .iter()
        .map(|d| module.text(d.expression.range()).to_string())
        .collect();
    let is_staticmethod = decorators.iter().any(|d| d == "staticmethod");

    let uses = function_uses(def);
    let uses_self = is_method
        && !is_staticmethod
        && (def
            .parameters
            .posonlyargs
            .iter()
            .chain(&def.parameters.args)
            .next()
            .is_none_or(|p| uses.reads.contains(p.parameter.name.as_str()))
            || uses.reads.contains("super")
            || uses.reads.contains("__class__"));
    // A method that uses `self`, of a top-level class made with `Class()`,
    // runs on a fresh instance: the class joins its context, and the inputs
    // pass `Class()` for `self` (see `inputs::FunctionSpec`). Not with
    // zero-argument `super()`, which needs the def inside its class.
    let instance_class = qualname
        .split_once('.')
        .map(|(class, _)| class)
        .filter(|class| {
            uses_self
                && decorators.is_empty()
                && !uses.reads.contains("super")
                && !uses.reads.contains("__class__")
                && !qualname[class.len() + 1..].contains('.')
                && module.index.is_constructible_class(class)
        });
    let uses = match instance_class {
        Some(class) => {
            let mut uses = uses;
            uses.free.insert(class.to_string());
            uses
        }
        None => uses,
    };
    let uses_self = uses_self && instance_class.is_none();
    let resolved = module.index.resolve(&uses, own_def);
    let context = module
        .index
        .context_text(module.source, &resolved.context_stmts);

    let reasons = classify::standalone_reasons(&classify::Facts {
        uses_self,
        is_async: def.is_async,
        decorators: &decorators,
        resolved_chains: &resolved.chains,
        builtins: &resolved.all_builtins,
        undefined: &resolved.all_undefined,
        non_stdlib_imports: resolved.non_stdlib_imports,
        relative_imports: resolved.relative_imports,
        declares_global: !uses.globals_declared.is_empty(),
    });

    let examples = docstring
        .as_deref()
        .map(|d| doctest_calls(d, def.name.as_str()))
        .unwrap_or_default();
    let (tokens, norm_hash) = token_stats(module, range, docstring_stmt.as_ref().map(|(r, _)| *r));
    let params = params_of(module, &def.parameters);
    let return_annotation = def
        .returns
        .as_ref()
        .map(|r| module.text(r.range()).to_string());
    let signature = signature_of(module, def);

    FunctionRecord {
        packages: vec![],
        id: content_id(&code),
        status: RecordStatus::Ok,
        error: None,
        error_detail: None,
        source: origin.source.clone(),
        source_name: origin.source_name.clone(),
        path: origin.path.clone(),
        line: start_line,
        repo: origin.repo.clone(),
        task_id: origin.task_id.clone(),
        partition: origin.partition.clone(),
        name: def.name.to_string(),
        qualname: qualname.to_string(),
        is_method,
        is_async: def.is_async,
        is_generator: uses.yields,
        decorators,
        lines: code.lines().count() as u32,
        summary: docstring.as_deref().and_then(summary),
        docstring,
        code,
        code_no_docstring,
        signature,
        params,
        return_annotation,
        context,
        examples,
        uses_imports: resolved.imports.into_iter().collect(),
        uses_globals: resolved.globals.into_iter().collect(),
        uses_builtins: resolved.builtins.into_iter().collect(),
        uses_undefined: resolved.undefined.into_iter().collect(),
        standalone: reasons.is_empty(),
        standalone_reasons: reasons,
        tokens,
        norm_hash,
    }
}

/// The docstring statement of a body: its range and the string's value.
fn docstring_of(body: &[Stmt]) -> Option<(TextRange, String)> {
    match body.first()? {
        Stmt::Expr(ast::StmtExpr { value, range, .. }) => match value.as_ref() {
            Expr::StringLiteral(s) => Some((*range, s.value.to_str().to_string())),
            _ => None,
        },
        _ => None,
    }
}

/// The def's source (from `line_start`) with the docstring statement cut out:
/// its whole lines when it has them to itself, else replaced by `pass` in place
/// (`def f(): "doc"; return 1` → `def f(): pass; return 1`). A body left empty gets `pass`.
fn remove_docstring(
    module: &Module,
    line_start: TextSize,
    def: TextRange,
    doc: TextRange,
    only_stmt: bool,
) -> String {
    let src = module.source;
    let doc_line_start = module
        .lines
        .line_start(module.lines.line_index(doc.start()), src);
    // Up to and including the newline that ends the docstring's last line.
    let doc_line_end = module
        .lines
        .line_end(module.lines.line_index(doc.end()), src);
    let before = &src[TextRange::new(doc_line_start, doc.start())];
    let alone = before.trim().is_empty()
        && src[TextRange::new(doc.end(), doc_line_end)]
            .trim()
            .is_empty();
    let mut out = String::with_capacity(def.end().to_usize() - line_start.to_usize());
    if alone {
        out.push_str(&src[TextRange::new(line_start, doc_line_start)]);
        if only_stmt {
            out.push_str(before);
            out.push_str("pass");
        }
        if doc_line_end < def.end() {
            out.push_str(&src[TextRange::new(doc_line_end, def.end())]);
        }
    } else {
        out.push_str(&src[TextRange::new(line_start, doc.start())]);
        out.push_str("pass");
        out.push_str(&src[TextRange::new(doc.end(), def.end())]);
    }
    out.trim_end_matches('\n').to_string()
}

/// Removes `indent` from the start of every line that has it. Lines without it
/// (continuation lines of multi-line strings, blank lines) are left alone.
fn dedent(text: &str, indent: &str) -> String {
    if indent.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line.strip_prefix(indent).unwrap_or(line));
    }
    out
}

fn params_of(module: &Module, params: &ast::Parameters) -> Vec<Param> {
    let text = |e: &Expr| module.text(e.range()).to_string();
    let mut out = Vec::new();
    let mut push = |p: &ast::ParameterWithDefault, kind| {
        out.push(Param {
            name: p.parameter.name.to_string(),
            kind,
            annotation: p.parameter.annotation.as_deref().map(text),
            default: p.default.as_deref().map(text),
        })
    };
    for p in &params.posonlyargs {
        push(p, ParamKind::PositionalOnly);
    }
    for p in &params.args {
        push(p, ParamKind::PositionalOrKeyword);
    }
    if let Some(v) = &params.vararg {
        out.push(Param {
            name: v.name.to_string(),
            kind: ParamKind::VarPositional,
            annotation: v.annotation.as_deref().map(text),
            default: None,
        });
    }
    for p in &params.kwonlyargs {
        out.push(Param {
            name: p.parameter.name.to_string(),
            kind: ParamKind::KeywordOnly,
            annotation: p.parameter.annotation.as_deref().map(text),
            default: p.default.as_deref().map(text),
        });
    }
    if let Some(k) = &params.kwarg {
        out.push(Param {
            name: k.name.to_string(),
            kind: ParamKind::VarKeyword,
            annotation: k.annotation.as_deref().map(text),
            default: None,
        });
    }
    out
}

/// `[async ]def name(params) -> ret` on one line, whitespace runs collapsed.
fn signature_of(module: &Module, def: &ast::StmtFunctionDef) -> String {
    let end = def
        .returns
        .as_ref()
        .map_or(def.parameters.range().end(), |r| r.range().end());
    let mut sig = String::new();
    if def.is_async {
        sig.push_str("async ");
    }
    sig.push_str("def ");
    sig.push_str(module.text(TextRange::new(def.name.range().start(), end)));
    sig.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(",)", ")")
}

/// Tokens of layout and comments, which near-duplicate keys ignore.
fn is_layout(kind: ruff_python_ast::token::TokenKind) -> bool {
    use ruff_python_ast::token::TokenKind;
    matches!(
        kind,
        TokenKind::Comment
            | TokenKind::NonLogicalNewline
            | TokenKind::Newline
            | TokenKind::Indent
            | TokenKind::Dedent
            | TokenKind::EndOfFile
    )
}

/// Number of significant tokens in `range`, and the hash of the token stream
/// with identifiers replaced by a placeholder and the docstring left out
/// (near-duplicate key: renamed copies collide, different logic does not).
fn token_stats(module: &Module, range: TextRange, docstring: Option<TextRange>) -> (u32, String) {
    use ruff_python_ast::token::TokenKind;
    let tokens = module.parsed.tokens();
    let first = tokens.partition_point(|t| t.start() < range.start());
    let mut count = 0u32;
    let mut norm = String::new();
    for tok in tokens[first..]
        .iter()
        .take_while(|t| t.start() < range.end())
    {
        if is_layout(tok.kind()) {
            continue;
        }
        count += 1;
        if docstring.is_some_and(|d| d.contains_range(tok.range())) {
            continue;
        }
        match tok.kind() {
            TokenKind::Name => norm.push_str("ID"),
            _ => norm.push_str(module.text(tok.range())),
        }
        norm.push('\u{1f}');
    }
    (count, content_id(&norm))
}

/// Top-level modules outside the stdlib that `context` imports unguarded (by
/// a top-level `import` or absolute `from … import`), i.e. what must be
/// importable to run it; `None` when the context does not parse.
pub fn third_party_imports(context: &str) -> Option<BTreeSet<String>> {
    let parsed = parse_module(context).ok()?;
    let mut modules = BTreeSet::new();
    for stmt in &parsed.syntax().body {
        let names: Vec<&str> = match stmt {
            Stmt::Import(import) => import.names.iter().map(|a| a.name.as_str()).collect(),
            Stmt::ImportFrom(import) if import.level == 0 => {
                import.module.iter().map(|m| m.as_str()).collect()
            }
            _ => continue,
        };
        for name in names {
            let top = name.split('.').next().unwrap_or(name);
            if !is_stdlib_module(top) && top != "__future__" {
                modules.insert(top.to_string());
            }
        }
    }
    Some(modules)
}

/// `code` with the indentation common to its non-blank lines removed and
/// Windows line ends made plain: a method cut out of its class (as in SVEN's
/// snippets) becomes a top-level function that parses.
pub fn dedent_snippet(code: &str) -> String {
    let code = code.replace("\r\n", "\n");
    let indent = code
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    code.lines()
        .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The set of ids for `rows` that are duplicates of an earlier row, exact
/// (same code) or near (same identifier-normalised tokens).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DedupStats {
    pub exact: usize,
    pub near: usize,
}

/// Removes exact and near duplicates in place, keeping the first occurrence.
/// Error and skipped rows are always kept.
///
/// Exact copies always go: the content hash is the id every later stage joins on.
/// Near copies go too, except between rows of task datasets (MBPP, HumanEval),
/// where each row is a distinct task with its own text and tests even when the
/// reference solutions differ only in names.
pub fn dedup(rows: &mut Vec<FunctionRecord>) -> DedupStats {
    let mut ids = BTreeSet::new();
    let mut norms = BTreeSet::new();
    let mut stats = DedupStats::default();
    rows.retain(|r| {
        if !r.is_ok() {
            return true;
        }
        if !ids.insert(r.id.clone()) {
            stats.exact += 1;
            return false;
        }
        let is_task = matches!(r.source.as_str(), "mbpp" | "humaneval");
        if !is_task && !norms.insert(r.norm_hash.clone()) {
            stats.near += 1;
            return false;
        }
        true
    });
    stats
}

/// A function's shape: its tokens with every name, string and number replaced
/// by a placeholder (layout and comments ignored), hashed. Functions of one
/// shape differ only in names and literals, like the stdlib's
/// `getregentry()` of each codec module: near-dedup by names alone keeps
/// them apart, but as separate groups of a retrieval benchmark their right
/// answer is ambiguous. `None` when the code does not parse.
pub fn shape_hash(code: &str) -> Option<String> {
    use ruff_python_ast::token::TokenKind;
    let parsed = parse_module(code).ok()?;
    let mut shape = String::new();
    for tok in parsed.tokens().iter() {
        if is_layout(tok.kind()) {
            continue;
        }
        let text = match tok.kind() {
            TokenKind::Name => "ID",
            TokenKind::Int | TokenKind::Float | TokenKind::Complex => "NUM",
            TokenKind::String | TokenKind::FStringMiddle | TokenKind::TStringMiddle => "STR",
            _ => &code[tok.range()],
        };
        shape.push_str(text);
        shape.push('\u{1f}');
    }
    Some(content_id(&shape))
}

#[cfg(test)]
mod tests;
