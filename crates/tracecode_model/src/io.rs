//! Atomic writes of safetensors files (temp file + rename), so an interrupted
//! save never leaves a half-written checkpoint behind.

use std::path::Path;

use anyhow::{Context, Result};
use tch::Tensor;

pub fn write_safetensors_atomic(named: &[(String, Tensor)], path: &Path) -> Result<()> {
    let tmp = path.with_extension("safetensors.tmp");
    Tensor::write_safetensors(named, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// Writes `text` to `path` atomically (the project's temp file + rename).
pub fn write_text_atomic(path: &Path, text: &str) -> Result<()> {
    tracecode_data::io::atomic_write(path, |mut file| {
        use std::io::Write;
        file.write_all(text.as_bytes())?;
        Ok(())
    })
}
