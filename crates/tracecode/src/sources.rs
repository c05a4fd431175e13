//! Corpus sources: what the user names (files, directories, JSONL datasets,
//! installed or PyPI packages, the stdlib) turned into units of extraction
//! work — one `.py` file or one JSONL row each — that run in parallel.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;
use tracecode_data::FunctionRecord;
use tracecode_py::extract::{
    decode_source, extract_module, extract_snippet, input_error, Origin, Snippet, SnippetTests,
};

use crate::env::{cache_dir, python_output};

/// One unit of extraction work.
pub enum Unit {
    /// A Python file on disk.
    File { path: PathBuf, origin: Origin },
    /// One row of a JSONL dataset (already read: rows are small).
    Row { row: String, origin: Origin },
    /// An input that could not even be read: becomes an error row.
    Broken {
        origin: Origin,
        reason: &'static str,
        detail: String,
    },
}

impl Unit {
    /// Extracts the unit's records. Never fails: problems become error rows.
    pub fn extract(&self, max_file_bytes: u64) -> Vec<FunctionRecord> {
        match self {
            Unit::File { path, origin } => extract_file(path, origin, max_file_bytes),
            Unit::Row { row, origin } => vec![extract_row(row, origin)],
            Unit::Broken {
                origin,
                reason,
                detail,
            } => vec![origin.error(reason, detail.clone())],
        }
    }
}

fn extract_file(path: &Path, origin: &Origin, max_bytes: u64) -> Vec<FunctionRecord> {
    // Check the size before reading, so a huge file costs nothing.
    match std::fs::metadata(path) {
        Ok(m) if m.len() > max_bytes => {
            return vec![origin.error(
                input_error::TOO_LARGE,
                format!("{} bytes exceeds the {max_bytes}-byte limit", m.len()),
            )]
        }
        Err(e) => return vec![origin.error(input_error::IO_ERROR, e.to_string())],
        Ok(_) => {}
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return vec![origin.error(input_error::IO_ERROR, e.to_string())],
    };
    match decode_source(&bytes, max_bytes as usize) {
        Ok(text) => extract_module(text, origin),
        Err((reason, detail)) => vec![origin.error(reason, detail)],
    }
}

/// A JSONL row: CodeSearchNet, MBPP or HumanEval, told apart by their fields.
fn extract_row(row: &str, origin: &Origin) -> FunctionRecord {
    let value: Value = match serde_json::from_str(row) {
        Ok(v) => v,
        Err(e) => return origin.error(input_error::BAD_ROW, format!("not JSON: {e}")),
    };
    let text = |k: &str| value.get(k).and_then(Value::as_str);
    let mut origin = origin.clone();
    if let Some(id) = value.get("task_id") {
        origin.task_id = Some(id.as_str().map_or_else(|| id.to_string(), str::to_string));
    }
    if let (Some(prompt), Some(solution)) = (text("prompt"), text("canonical_solution")) {
        origin.source = "humaneval".into();
        let code = format!("{prompt}{solution}");
        let tests = text("test").map_or(SnippetTests::None, SnippetTests::Check);
        return extract_snippet(&Snippet {
            code: &code,
            origin,
            entry: text("entry_point"),
            qualname: None,
            tests,
            description: None,
        });
    }
    if let (Some(code), Some(tests)) = (
        text("code"),
        value.get("test_list").and_then(Value::as_array),
    ) {
        origin.source = "mbpp".into();
        let tests: Vec<String> = tests
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        return extract_snippet(&Snippet {
            code,
            origin,
            entry: None,
            qualname: None,
            tests: SnippetTests::Asserts(&tests),
            description: text("text"),
        });
    }
    if let Some(code) = text("original_string").or_else(|| text("code")) {
        origin.source = "codesearchnet".into();
        if let Some(lang) = text("language") {
            if lang != "python" {
                return origin.error(
                    input_error::BAD_ROW,
                    format!("language is {lang:?}, not python"),
                );
            }
        }
        origin.repo = text("repo").map(str::to_string);
        origin.partition = text("partition").map(str::to_string);
        if let Some(p) = text("path") {
            origin.path = p.to_string();
        }
        let mut row = extract_snippet(&Snippet {
            code,
            origin,
            entry: None,
            qualname: text("func_name"),
            tests: SnippetTests::None,
            description: None,
        });
        // CodeSearchNet ships the docstring separately; use it when the code has none.
        if row.is_ok() && row.docstring.is_none() {
            if let Some(doc) = text("docstring").filter(|d| !d.trim().is_empty()) {
                row.docstring = Some(tracecode_py::extract::cleandoc(doc));
                row.summary = row
                    .docstring
                    .as_deref()
                    .and_then(tracecode_py::extract::summary);
            }
        }
        return row;
    }
    origin.error(
        input_error::BAD_ROW,
        "row has neither CodeSearchNet, MBPP nor HumanEval fields",
    )
}

/// All `.py` files under `root` (or `root` itself), sorted, as units labelled
/// with `source`/`source_name` and paths relative to `root`.
pub fn python_files(
    root: &Path,
    source: &str,
    source_name: &str,
    skip_dir: impl Fn(&str) -> bool,
) -> Vec<Unit> {
    let mut units = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter();
    let walker = walker.filter_entry(|e| {
        !(e.file_type().is_dir() && e.depth() > 0 && skip_dir(&e.file_name().to_string_lossy()))
    });
    for entry in walker {
        let rel_of = |p: &Path| {
            p.strip_prefix(root)
                .ok()
                .filter(|r| !r.as_os_str().is_empty())
                .unwrap_or(p)
                .to_string_lossy()
                .into_owned()
        };
        match entry {
            Ok(e) if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "py") => {
                let origin = Origin {
                    source: source.into(),
                    source_name: source_name.into(),
                    path: rel_of(e.path()),
                    ..Default::default()
                };
                units.push(Unit::File {
                    path: e.path().to_path_buf(),
                    origin,
                });
            }
            Ok(_) => {}
            Err(err) => {
                let path = err.path().map(rel_of).unwrap_or_default();
                let origin = Origin {
                    source: source.into(),
                    source_name: source_name.into(),
                    path,
                    ..Default::default()
                };
                units.push(Unit::Broken {
                    origin,
                    reason: input_error::IO_ERROR,
                    detail: err.to_string(),
                });
            }
        }
    }
    units
}

/// Directories never worth walking: caches and virtual environments.
fn default_skip(name: &str) -> bool {
    matches!(
        name,
        "__pycache__" | ".git" | ".hg" | ".tox" | ".venv" | "venv" | "node_modules" | ".mypy_cache"
    )
}

/// Units for a path given on the command line: a `.py` file, a directory, or a JSONL(.gz) dataset.
pub fn path_units(path: &Path) -> Result<Vec<Unit>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    if path.is_dir() {
        return Ok(python_files(path, "files", &name, default_skip));
    }
    if !path.exists() {
        bail!("input {} does not exist", path.display());
    }
    if name.ends_with(".jsonl") || name.ends_with(".jsonl.gz") || name.ends_with(".json.gz") {
        return jsonl_units(path, &name);
    }
    let origin = Origin {
        source: "files".into(),
        source_name: name.clone(),
        path: name,
        ..Default::default()
    };
    Ok(vec![Unit::File {
        path: path.to_path_buf(),
        origin,
    }])
}

fn jsonl_units(path: &Path, name: &str) -> Result<Vec<Unit>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut units = Vec::new();
    for (i, line) in BufReader::new(reader).split(b'\n').enumerate() {
        let origin = Origin {
            source: "jsonl".into(),
            source_name: name.to_string(),
            path: name.to_string(),
            task_id: Some(format!("row{}", i + 1)),
            ..Default::default()
        };
        match line {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {}
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(row) => units.push(Unit::Row { row, origin }),
                Err(_) => units.push(Unit::Broken {
                    origin,
                    reason: input_error::NOT_UTF8,
                    detail: format!("row {} is not UTF-8", i + 1),
                }),
            },
            Err(e) => {
                units.push(Unit::Broken {
                    origin,
                    reason: input_error::IO_ERROR,
                    detail: e.to_string(),
                });
                break;
            }
        }
    }
    Ok(units)
}

/// The local CPython standard library (site-packages and caches excluded).
pub fn stdlib_units(python: &Path) -> Result<(Vec<Unit>, String)> {
    let out = python_output(python, "import sys, sysconfig; print(sysconfig.get_paths()['stdlib']); print('%d.%d' % sys.version_info[:2])", &[])?;
    let mut lines = out.lines();
    let (Some(dir), Some(version)) = (lines.next(), lines.next()) else {
        bail!("could not locate the stdlib with {}", python.display())
    };
    let name = format!("stdlib-{version}");
    let units = python_files(Path::new(dir), "stdlib", &name, |d| {
        default_skip(d) || d == "site-packages" || d == "dist-packages"
    });
    Ok((units, name))
}

/// An installed package, by import name, as the interpreter would import it.
pub fn package_units(python: &Path, import_name: &str) -> Result<Vec<Unit>> {
    let code = "import importlib.util, sys\ns = importlib.util.find_spec(sys.argv[1])\nif s is None: sys.exit('no module named ' + sys.argv[1])\nprint(s.submodule_search_locations[0] if s.submodule_search_locations else s.origin)";
    let location = python_output(python, code, &[import_name])
        .with_context(|| format!("locating package {import_name:?}"))?;
    let path = PathBuf::from(location);
    if path.is_dir() {
        Ok(python_files(&path, "package", import_name, default_skip))
    } else {
        let origin = Origin {
            source: "package".into(),
            source_name: import_name.into(),
            path: path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into(),
            ..Default::default()
        };
        Ok(vec![Unit::File { path, origin }])
    }
}

/// Errors unless `spec` pins one version (`NAME==VERSION`), so corpora are reproducible.
pub fn check_pin(spec: &str) -> Result<()> {
    if !spec.contains("==") {
        bail!("--pypi takes NAME==VERSION (pinned, so corpora are reproducible), got {spec:?}");
    }
    Ok(())
}

/// The Python files of the PyPI distribution `spec` unpacked at `root`
/// (see [`pypi_root`]).
pub fn pypi_units(root: &Path, spec: &str) -> Vec<Unit> {
    python_files(root, "pypi", spec, default_skip)
}

/// The importable modules at the top of an unpacked wheel: packages
/// (directories with `__init__.py`) and single-file modules.
pub fn top_level_modules(root: &Path) -> Vec<String> {
    let mut modules: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let module = if p.is_dir() && p.join("__init__.py").is_file() {
                name
            } else {
                name.strip_suffix(".py")?.to_string()
            };
            let identifier = !module.is_empty()
                && !module.starts_with(|c: char| c.is_ascii_digit())
                && module.chars().all(|c| c.is_alphanumeric() || c == '_');
            identifier.then_some(module)
        })
        .collect();
    modules.sort();
    modules
}

/// The unpacked tree of the pinned distribution `spec` in the cache (wheel
/// or sdist), downloaded with pip and unpacked on first use; later runs reuse
/// it. For a wheel this is the directory that goes on `sys.path`.
pub fn pypi_root(python: &Path, spec: &str) -> Result<PathBuf> {
    check_pin(spec)?;
    let slug: String = spec
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = cache_dir().join("pypi").join(&slug);
    let unpacked = dir.join("src");
    if !unpacked.join(".complete").exists() {
        let download = dir.join("download");
        std::fs::create_dir_all(&download)?;
        let status = Command::new(python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "-q",
                "-d",
            ])
            .arg(&download)
            .arg(spec)
            .status()
            .with_context(|| format!("running pip to download {spec}"))?;
        if !status.success() {
            bail!("pip could not download {spec}");
        }
        let archive = std::fs::read_dir(&download)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.is_file())
            .with_context(|| format!("pip downloaded nothing for {spec}"))?;
        if unpacked.exists() {
            std::fs::remove_dir_all(&unpacked)?;
        }
        unpack(&archive, &unpacked).with_context(|| format!("unpacking {}", archive.display()))?;
        File::create(unpacked.join(".complete"))?;
    }
    Ok(unpacked)
}

fn unpack(archive: &Path, into: &Path) -> Result<()> {
    let name = archive
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(into)?;
    if name.ends_with(".whl") || name.ends_with(".zip") {
        let mut zip = zip::ZipArchive::new(File::open(archive)?)?;
        zip.extract(into)?;
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") {
        tar::Archive::new(flate2::read::GzDecoder::new(File::open(archive)?)).unpack(into)?;
    } else {
        bail!("unknown archive type {name}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            source: "jsonl".into(),
            source_name: "x.jsonl".into(),
            path: "x.jsonl".into(),
            ..Default::default()
        }
    }

    #[test]
    fn top_level_modules_are_packages_and_single_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (path, text) in [
            ("toolz/__init__.py", ""),
            ("tlz/__init__.py", ""),
            ("toolz-0.12.1.dist-info/METADATA", ""),
            ("inflection.py", ""),
            ("data/readme.txt", ""),
            ("setup.cfg", ""),
        ] {
            std::fs::create_dir_all(d.join(path).parent().unwrap()).unwrap();
            std::fs::write(d.join(path), text).unwrap();
        }
        assert_eq!(top_level_modules(d), vec!["inflection", "tlz", "toolz"]);
    }

    #[test]
    fn rows_are_told_apart_by_fields() {
        let mbpp = r#"{"text": "Write a function to add two numbers.", "code": "def add(a, b):\r\n  return a + b", "task_id": 7, "test_list": ["assert add(1, 2) == 3"]}"#;
        let r = extract_row(mbpp, &origin());
        assert_eq!(
            (r.source.as_str(), r.name.as_str(), r.task_id.as_deref()),
            ("mbpp", "add", Some("7"))
        );
        assert_eq!(r.examples[0].expected.as_deref(), Some("3"));

        let csn = r#"{"repo": "a/b", "path": "m.py", "func_name": "parse", "original_string": "def parse(s):\n    return s.split()", "docstring": "Split a string into words.", "language": "python", "partition": "train"}"#;
        let r = extract_row(csn, &origin());
        assert_eq!(
            (
                r.source.as_str(),
                r.repo.as_deref(),
                r.partition.as_deref(),
                r.path.as_str()
            ),
            ("codesearchnet", Some("a/b"), Some("train"), "m.py")
        );
        assert_eq!(r.summary.as_deref(), Some("Split a string into words."));

        let he = r#"{"task_id": "HumanEval/0", "prompt": "def inc(x):\n    \"\"\"Increment x by one.\"\"\"\n", "canonical_solution": "    return x + 1\n", "test": "def check(candidate):\n    assert candidate(1) == 2\n", "entry_point": "inc"}"#;
        let r = extract_row(he, &origin());
        assert_eq!(
            (r.source.as_str(), r.examples[0].call.as_str()),
            ("humaneval", "inc(1)")
        );

        assert_eq!(
            extract_row("{not json", &origin()).error.as_deref(),
            Some("bad_row")
        );
        assert_eq!(
            extract_row(r#"{"a": 1}"#, &origin()).error.as_deref(),
            Some("bad_row")
        );
        let java = r#"{"code": "int f() {}", "language": "java"}"#;
        assert_eq!(
            extract_row(java, &origin()).error.as_deref(),
            Some("bad_row")
        );
    }

    #[test]
    fn jsonl_gz_is_read_row_by_row() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl.gz");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        writeln!(
            gz,
            r#"{{"code": "def f(x):\n    return x", "func_name": "f"}}"#
        )
        .unwrap();
        writeln!(gz).unwrap();
        writeln!(gz, r#"{{"code": "def g(:", "func_name": "g"}}"#).unwrap();
        gz.finish().unwrap();
        let units = path_units(&path).unwrap();
        let rows: Vec<FunctionRecord> = units.iter().flat_map(|u| u.extract(1 << 20)).collect();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_ok());
        assert_eq!(rows[1].error.as_deref(), Some("syntax_error"));
        assert_eq!(rows[1].task_id.as_deref(), Some("row3"));
    }
}
