//! Where TraceCode keeps downloads, where its checkout (configs, shipped
//! data) is, and which Python it asks about the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// The cache directory (`TRACECODE_CACHE`, else `~/.cache/tracecode`).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TRACECODE_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("tracecode")
}

/// The Python interpreter to query: the flag, else `TRACECODE_PYTHON`, else the
/// one this binary was built against (`PYO3_PYTHON` at build time), else `python3`.
pub fn python(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("TRACECODE_PYTHON") {
        return PathBuf::from(p);
    }
    if let Some(p) = option_env!("TRACECODE_BUILD_PYTHON") {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    PathBuf::from("python3")
}

/// Runs `python -c code args…` and returns its stdout, trimmed.
pub fn python_output(python: &Path, code: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Marks a TraceCode checkout: the file every checkout has and no other
/// directory is likely to.
const CHECKOUT_MARK: &str = "configs/small.toml";

/// The TraceCode checkout (configs/, data/): `TRACECODE_ROOT` (set by
/// `scripts/env.sh`), else the checkout this binary was built from, else the
/// nearest directory above the binary that holds one. Never the working
/// directory: a command must mean the same thing wherever it is started.
pub fn repo_root() -> Option<PathBuf> {
    let is_checkout = |dir: &Path| dir.join(CHECKOUT_MARK).is_file();
    if let Some(root) = std::env::var_os("TRACECODE_ROOT").map(PathBuf::from) {
        if is_checkout(&root) {
            return Some(root);
        }
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if is_checkout(&built_from) {
        return Some(built_from.canonicalize().unwrap_or(built_from));
    }
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .find(|d| is_checkout(d))
        .map(Path::to_path_buf)
}

/// The benchmark data directory: `explicit` (`--data`, which also reads
/// `TRACECODE_DATA`), else `data/` of the checkout (see [`repo_root`]).
/// `None` when neither exists; tasks that need a file from it are then skipped.
pub fn data_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(dir) => Some(dir.to_path_buf()),
        None => repo_root().map(|r| r.join("data")).filter(|d| d.is_dir()),
    }
}

/// A file of the configs/ folder of the checkout (`configs/NAME`), or the
/// bare relative path when no checkout is found (so the error names it).
pub fn config_file(name: &str) -> PathBuf {
    let rel = Path::new("configs").join(name);
    repo_root().map_or(rel.clone(), |r| r.join(&rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkout_is_found_without_the_working_directory() {
        let root = repo_root().expect("tests run inside a checkout");
        assert!(root.join(CHECKOUT_MARK).is_file());
        let data = data_dir(None).expect("the checkout ships data/");
        assert!(
            data.join("search/mbpp.jsonl").is_file(),
            "{}",
            data.display()
        );
        assert_eq!(data_dir(Some(Path::new("/x"))), Some(PathBuf::from("/x")));
        assert!(config_file("small.toml").is_file());
    }
}
