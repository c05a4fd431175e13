//! Running the Python side of the parity tests: scripts next to the tests,
//! under the project venv that `scripts/env.sh` sets up (TRACECODE_VENV).

use std::path::Path;
use std::process::Command;

/// Runs `tests/<script> args…` offline (no HuggingFace Hub access) and fails
/// the test, with the script's stderr, if it fails.
pub fn run_python(script: &str, args: &[&str]) {
    let venv = std::env::var("TRACECODE_VENV").expect(
        "TRACECODE_VENV is not set: run the tests after `source scripts/env.sh`, which sets up the venv with transformers and sentence-transformers",
    );
    let python = Path::new(&venv).join("bin/python");
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(script);
    let out = Command::new(&python)
        .arg(&path)
        .args(args)
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{script} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
