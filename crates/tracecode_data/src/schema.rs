//! The function record: one row per extracted function (or per input that
//! could not be turned into functions). Every later stage keys on `id`.

use serde::{Deserialize, Serialize};

/// Whether a row holds a usable function, or explains why an input yielded none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Ok,
    /// The input could not be read or parsed (`error` says why).
    Error,
    /// The input was fine but holds nothing to extract (e.g. a module without functions).
    Skipped,
}

/// How a parameter binds, mirroring Python's `inspect.Parameter.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    PositionalOnly,
    PositionalOrKeyword,
    VarPositional,
    KeywordOnly,
    VarKeyword,
}

/// One parameter of a function signature; annotation and default are source text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    pub annotation: Option<String>,
    pub default: Option<String>,
}

/// A known-good way to call the function, harvested from doctests or tests.
///
/// `call` is a Python expression that calls the function by its plain name
/// (e.g. `add(1, 2)`); `expected` is the expected result as source text when
/// the origin states one (doctest output, `assert f(x) == y`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleCall {
    pub call: String,
    pub expected: Option<String>,
    /// `doctest`, `test` (MBPP/HumanEval asserts).
    pub origin: String,
}

/// One extracted function with everything later stages need to run, rewrite,
/// tokenize and evaluate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRecord {
    /// First 16 hex digits of SHA-256 over `code` (error rows: over origin and reason).
    pub id: String,
    pub status: RecordStatus,
    /// Machine-readable reason for error rows (`syntax_error`, `python2`, `binary`,
    /// `not_utf8`, `too_large`, `io_error`, `no_function`, `bad_row`).
    pub error: Option<String>,
    /// Human-readable detail for error rows.
    pub error_detail: Option<String>,

    /// Kind of source: `files`, `codesearchnet`, `mbpp`, `humaneval`, `package`, `pypi`, `stdlib`.
    pub source: String,
    /// Name of the source: a file name, `pkg==version`, `stdlib-3.13`.
    pub source_name: String,
    /// Path of the file within the source (JSONL sources: the row's `path` or the file name).
    pub path: String,
    /// 1-based line of the `def` (or decorator) within `path`; 0 for error rows.
    pub line: u32,
    /// CodeSearchNet `repo`, when given.
    pub repo: Option<String>,
    /// MBPP/HumanEval task id, or the JSONL row number.
    pub task_id: Option<String>,
    /// CodeSearchNet `partition`, when given.
    pub partition: Option<String>,

    pub name: String,
    /// Dotted name within its module, e.g. `Parser.parse` or `helper`.
    pub qualname: String,
    pub is_method: bool,
    pub is_async: bool,
    pub is_generator: bool,
    /// Decorator expressions as source text, without the `@`.
    pub decorators: Vec<String>,

    /// The function's source, dedented to column 0, decorators included.
    pub code: String,
    /// `code` with the docstring statement removed (`pass` if the body would be empty).
    pub code_no_docstring: String,
    pub docstring: Option<String>,
    /// First sentence of the docstring after CodeSage-style filtering; `None` when
    /// the docstring is missing or fails the filters.
    pub summary: Option<String>,
    /// `def name(params) -> ret` as written, on one line.
    pub signature: String,
    pub params: Vec<Param>,
    pub return_annotation: Option<String>,
    /// Module-level imports, constants and helper functions the function uses,
    /// in source order: prepend to `code` to run it.
    pub context: String,
    pub examples: Vec<ExampleCall>,

    /// Free names bound by imports (the local name, e.g. `np`, `os`).
    pub uses_imports: Vec<String>,
    /// Free names bound at module level (functions, classes, constants).
    pub uses_globals: Vec<String>,
    /// Free names that are Python builtins.
    pub uses_builtins: Vec<String>,
    /// Free names defined nowhere in the module.
    pub uses_undefined: Vec<String>,

    /// Runnable in isolation (with `context`) and free of I/O, network, state
    /// and nondeterminism, as far as static analysis can tell.
    pub standalone: bool,
    /// Why the function is not standalone; empty when it is.
    pub standalone_reasons: Vec<String>,
    /// Pinned PyPI distributions (`NAME==VERSION`) the workers need on
    /// `sys.path` to run the function: its context imports their modules.
    /// Empty for code that needs the stdlib alone. (Absent in older files.)
    #[serde(default)]
    pub packages: Vec<String>,

    pub lines: u32,
    /// Python tokens in `code` (comments and layout tokens excluded).
    pub tokens: u32,
    /// SHA-256 prefix of the identifier-normalised token stream, for near-duplicate removal.
    pub norm_hash: String,
}

impl FunctionRecord {
    /// An error row: the input at `source`/`path` yielded no function, for `reason`.
    pub fn error(
        source: &str,
        source_name: &str,
        path: &str,
        reason: &str,
        detail: impl Into<String>,
    ) -> Self {
        let detail = detail.into();
        let id = crate::schema::content_id(&format!(
            "{source}\0{source_name}\0{path}\0{reason}\0{detail}"
        ));
        FunctionRecord {
            id,
            status: RecordStatus::Error,
            error: Some(reason.to_string()),
            error_detail: Some(detail),
            source: source.to_string(),
            source_name: source_name.to_string(),
            path: path.to_string(),
            line: 0,
            repo: None,
            task_id: None,
            partition: None,
            name: String::new(),
            qualname: String::new(),
            is_method: false,
            is_async: false,
            is_generator: false,
            decorators: vec![],
            code: String::new(),
            code_no_docstring: String::new(),
            docstring: None,
            summary: None,
            signature: String::new(),
            params: vec![],
            return_annotation: None,
            context: String::new(),
            examples: vec![],
            uses_imports: vec![],
            uses_globals: vec![],
            uses_builtins: vec![],
            uses_undefined: vec![],
            standalone: false,
            standalone_reasons: vec![],
            packages: vec![],
            lines: 0,
            tokens: 0,
            norm_hash: String::new(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status == RecordStatus::Ok
    }
}

/// The stable content id used across the pipeline: 16 hex digits of SHA-256.
///
/// SHA-256 rather than a faster hash so that Python users can recompute ids
/// with `hashlib.sha256(code.encode()).hexdigest()[:16]`.
/// The serde name of a unit enum variant (`RunStatus::SandboxDenied` →
/// `sandbox_denied`): how statuses, labels and kinds are spelled in files,
/// summaries and reports. Empty for values that do not serialise to a string.
pub fn serde_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn content_id(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_id_matches_hashlib() {
        // python3 -c "import hashlib;print(hashlib.sha256(b'def f(): pass').hexdigest()[:16])"
        assert_eq!(content_id("def f(): pass"), "3c70e0681767dfd3");
    }

    #[test]
    fn error_rows_carry_reason_and_distinct_ids() {
        let a = FunctionRecord::error("files", "x", "a.py", "binary", "NUL byte at 3");
        let b = FunctionRecord::error("files", "x", "b.py", "binary", "NUL byte at 3");
        assert_eq!(a.error.as_deref(), Some("binary"));
        assert!(!a.is_ok());
        assert_ne!(a.id, b.id);
    }
}
