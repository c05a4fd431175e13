//! Where TraceCode keeps downloads, and which Python it asks about the machine.

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
