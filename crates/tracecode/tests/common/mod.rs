//! Helpers shared by the end-to-end tests: they run the built binary as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `tracecode args…` in `cwd` and fails the test, with its output, if it fails.
pub fn tracecode(args: &[&str], cwd: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_tracecode"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run tracecode");
    assert!(
        out.status.success(),
        "tracecode {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The benchmark data shipped in the repository (`data/`: MBPP, SVEN).
#[allow(dead_code)] // not every test crate reads it
pub fn repo_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data")
}
