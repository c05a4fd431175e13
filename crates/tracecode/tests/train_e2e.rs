//! End-to-end test of the learner on real MBPP functions: corpus → trace →
//! variants → pairs → tokenizer → train (fused and static-only) → exact
//! resume → embed, and continued training from a pretrained BERT directory
//! (`--init`), through the built binary.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::tracecode;

fn metrics(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A tiny random BERT encoder directory as a sentence-transformers checkpoint
/// ships it: `config.json` + `model.safetensors` under BertModel names, only
/// `vocab.txt` for the tokenizer (WordPiece over single characters and a few
/// keywords, enough for any ASCII code), and CLS pooling in `1_Pooling`.
fn tiny_bert(dir: &Path) {
    use tracecode_model::config::EncoderConfig;
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    let mut vocab: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .chain(&["def", "return", "for", "in", "if", "else", "while"])
        .map(|t| t.to_string())
        .collect();
    for c in (b'!'..=b'~')
        .map(char::from)
        .filter(|c| !c.is_ascii_uppercase())
    {
        vocab.push(c.to_string());
        if c.is_ascii_alphanumeric() || c == '_' {
            vocab.push(format!("##{c}"));
        }
    }
    std::fs::write(dir.join("vocab.txt"), vocab.join("\n") + "\n").unwrap();
    let mut config = EncoderConfig::preset("tiny", vocab.len() as i64).unwrap();
    config.model_type = "bert".into();
    config.architectures = vec!["BertModel".into()];
    config.type_vocab_size = 2;
    config.pad_token_id = 0;
    config.max_position_embeddings = 128;
    config.hidden_size = 32;
    config.intermediate_size = 64;
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    tracecode_model::encoder::Encoder::new(&vs.root(), &config);
    tracecode_model::encoder::save_scope(&vs, "", &dir.join("model.safetensors"), None).unwrap();
    std::fs::write(dir.join("config.json"), config.to_hf_json().to_string()).unwrap();
    std::fs::write(
        dir.join("modules.json"),
        r#"[{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("1_Pooling/config.json"),
        r#"{"word_embedding_dimension": 32, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#,
    )
    .unwrap();
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs `tracecode embed --model MODEL` on `input`; returns its rows.
fn embed(
    model: &str,
    extra: &[String],
    input: &str,
    cwd: &Path,
) -> (Vec<serde_json::Value>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tracecode"))
        .args(["embed", "--model", model])
        .args(extra)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let rows = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (rows, stderr)
}

/// The parts of a metrics line that must be reproduced exactly (not timings).
fn curve(lines: &[serde_json::Value]) -> Vec<(i64, String, String)> {
    lines
        .iter()
        .map(|m| {
            (
                m["step"].as_i64().unwrap(),
                m["split"].as_str().unwrap().to_string(),
                format!("{:.9}", m["loss"].as_f64().unwrap()),
            )
        })
        .collect()
}

#[test]
fn mbpp_training_resumes_exactly_and_embeds() {
    let mbpp = common::repo_data().join("search/mbpp.jsonl");
    if !mbpp.exists() {
        eprintln!("skipping: {} not present", mbpp.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    tracecode(
        &[
            "corpus",
            mbpp.to_str().unwrap(),
            "--limit",
            "40",
            "--seed",
            "3",
            "-o",
            &p("corpus.parquet"),
        ],
        d,
    );
    tracecode(
        &[
            "trace",
            &p("corpus.parquet"),
            "-o",
            &p("traces.parquet"),
            "--inputs",
            "4",
        ],
        d,
    );
    tracecode(
        &[
            "variants",
            &p("traces.parquet"),
            "-o",
            &p("variants.parquet"),
            "--rewrites",
            "3",
            "--mutants",
            "2",
        ],
        d,
    );
    for mode in ["trace", "static"] {
        tracecode(
            &[
                "pairs",
                &p("variants.parquet"),
                "--positives",
                mode,
                "--corpus",
                &p("corpus.parquet"),
                "-o",
                &p(&format!("pairs-{mode}.parquet")),
            ],
            d,
        );
    }
    let out = tracecode(
        &[
            "tokenizer",
            "train",
            &p("corpus.parquet"),
            "--vocab-size",
            "600",
            "-o",
            &p("tokenizer.json"),
        ],
        d,
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("tokens"));
    std::fs::write(
        d.join("run.toml"),
        "[data]\npairs = \"pairs-trace.parquet\"\nvariants = \"variants.parquet\"\ntokenizer = \"tokenizer.json\"\n\
         [model]\npreset = \"tiny\"\ntrace_dim = 32\nembed_dim = 32\nmax_code_tokens = 96\nmax_runs = 3\nmax_steps = 40\n\
         [train]\nsteps = 6\nbatch_size = 6\nwarmup = 2\nlr = 1e-3\ncheckpoint_every = 3\neval_every = 3\nthreads = 1\n",
    )
    .unwrap();

    // Uninterrupted run.
    tracecode(&["train", "--config", &p("run.toml"), "-o", &p("full")], d);
    let full = metrics(&d.join("full/metrics.jsonl"));
    assert_eq!(full.iter().filter(|m| m["split"] == "train").count(), 6);
    assert!(full
        .iter()
        .any(|m| m["split"] == "validation" && m["positive_similarity"].is_f64()));
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tracecode.json",
        "heads.safetensors",
    ] {
        assert!(d.join("full/model").join(f).exists(), "{f}");
    }

    // Interrupted after step 3, then resumed: the same curve, value for value.
    tracecode(
        &[
            "train",
            "--config",
            &p("run.toml"),
            "-o",
            &p("resumed"),
            "--stop-after",
            "3",
        ],
        d,
    );
    assert_eq!(
        metrics(&d.join("resumed/metrics.jsonl"))
            .iter()
            .filter(|m| m["split"] == "train")
            .count(),
        3
    );
    let out = tracecode(
        &["train", "--config", &p("run.toml"), "-o", &p("resumed")],
        d,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("resumed from step 3"));
    assert_eq!(
        curve(&metrics(&d.join("resumed/metrics.jsonl"))),
        curve(&full)
    );

    // Streaming (`[data] window`): 12 train examples in memory at a time,
    // windows in turn; interrupted mid-window and resumed, the same curve.
    let windowed = std::fs::read_to_string(d.join("run.toml"))
        .unwrap()
        .replace("[data]\n", "[data]\nwindow = 12\n");
    std::fs::write(d.join("window.toml"), windowed).unwrap();
    tracecode(
        &["train", "--config", &p("window.toml"), "-o", &p("window")],
        d,
    );
    let window = metrics(&d.join("window/metrics.jsonl"));
    assert_eq!(window.iter().filter(|m| m["split"] == "train").count(), 6);
    tracecode(
        &[
            "train",
            "--config",
            &p("window.toml"),
            "-o",
            &p("window-resumed"),
            "--stop-after",
            "3",
        ],
        d,
    );
    tracecode(
        &[
            "train",
            "--config",
            &p("window.toml"),
            "-o",
            &p("window-resumed"),
        ],
        d,
    );
    assert_eq!(
        curve(&metrics(&d.join("window-resumed/metrics.jsonl"))),
        curve(&window)
    );
    // Other examples than the whole-file run's batches: another curve.
    assert_ne!(curve(&window), curve(&full));

    // Static-only baseline: same command, no trace branch.
    tracecode(
        &[
            "train",
            "--config",
            &p("run.toml"),
            "-o",
            &p("static"),
            "--static-only",
            "--pairs",
            &p("pairs-static.parquet"),
            "--steps",
            "3",
        ],
        d,
    );
    let heads = json(&d.join("static/model/tracecode.json"));
    assert_eq!(heads["use_traces"], false);

    // Continued training from a pretrained BERT directory, fused and static:
    // its WordPiece tokenizer (built from vocab.txt), BERT config and CLS
    // pooling carry over into a model that reloads with fresh TraceCode heads.
    tiny_bert(&d.join("bert"));
    for (out, extra) in [
        ("init-fused", vec![]),
        (
            "init-static",
            vec![
                "--static-only".to_string(),
                "--pairs".into(),
                p("pairs-static.parquet"),
            ],
        ),
    ] {
        let mut args: Vec<String> = ["train", "--config", &p("run.toml"), "-o", &p(out)]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend(["--init".into(), p("bert"), "--steps".into(), "2".into()]);
        args.extend(extra);
        let run = tracecode(&args.iter().map(String::as_str).collect::<Vec<_>>(), d);
        assert!(String::from_utf8_lossy(&run.stderr).contains("from "));
        let model = d.join(out).join("model");
        assert_eq!(json(&model.join("config.json"))["model_type"], "bert");
        assert_eq!(
            json(&model.join("tokenizer.json"))["model"]["type"],
            "WordPiece"
        );
        let heads = json(&model.join("tracecode.json"));
        assert_eq!(heads["pooling"], "cls");
        assert_eq!(heads["use_traces"], out == "init-fused");
        let train_steps = metrics(&d.join(out).join("metrics.jsonl"))
            .iter()
            .filter(|m| m["split"] == "train" && m["loss"].is_f64())
            .count();
        assert_eq!(train_steps, 2);
        let (rows, _) = embed(
            model.to_str().unwrap(),
            &[],
            "{\"id\": \"q\", \"text\": \"def f(x): return x + 1\"}\n",
            d,
        );
        assert_eq!(rows[0]["embedding"].as_array().unwrap().len(), 32);
    }

    // Stage 1 (MLM + DOBF): resumes exactly, writes a masked-LM directory
    // that contrastive training continues from, and from a BERT directory
    // keeps BERT's head names and the sentence-transformers pooling.
    std::fs::write(
        d.join("pretrain.toml"),
        "[data]\ncorpus = \"corpus.parquet\"\ntokenizer = \"tokenizer.json\"\nsplit = [0.9, 0.1]\n\
         [model]\npreset = \"tiny\"\nmax_tokens = 96\n\
         [train]\nsteps = 4\nbatch_size = 8\nwarmup = 1\nlr = 1e-3\ncheckpoint_every = 2\neval_every = 2\nthreads = 1\n",
    )
    .unwrap();
    let pretrain = |out: &str, extra: &[&str]| {
        let mut args = vec!["pretrain", "--config", "pretrain.toml", "-o", out];
        args.extend(extra);
        tracecode(&args, d)
    };
    let run = pretrain("pt-full", &[]);
    let stdout = String::from_utf8_lossy(&run.stdout).to_string();
    assert!(
        stdout.contains("MLM: loss") && stdout.contains("DOBF: loss"),
        "{stdout}"
    );
    pretrain("pt-resumed", &["--stop-after", "2"]);
    let resumed = pretrain("pt-resumed", &[]);
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("resumed from step 2"));
    let losses = |dir: &str| -> Vec<(i64, String, String)> {
        metrics(&d.join(dir).join("metrics.jsonl"))
            .iter()
            .map(|m| {
                (
                    m["step"].as_i64().unwrap(),
                    m["split"].as_str().unwrap().to_string(),
                    format!("{:.5}", m["loss"].as_f64().unwrap()),
                )
            })
            .collect()
    };
    assert_eq!(losses("pt-full"), losses("pt-resumed"), "exact resume");
    let train_lines: Vec<serde_json::Value> = metrics(&d.join("pt-full/metrics.jsonl"))
        .into_iter()
        .filter(|m| m["split"] == "train")
        .collect();
    assert_eq!(train_lines.len(), 4);
    // Both objectives occur in the mix.
    assert!(train_lines.iter().any(|m| m["mlm"].is_f64()));
    assert!(train_lines.iter().any(|m| m["dobf"].is_f64()));
    let config = json(&d.join("pt-full/model/config.json"));
    assert_eq!(config["architectures"][0], "RobertaForMaskedLM");
    tracecode(
        &[
            "train",
            "--config",
            &p("run.toml"),
            "-o",
            &p("from-pretrain"),
            "--init",
            &p("pt-full/model"),
            "--steps",
            "2",
        ],
        d,
    );
    assert!(d.join("from-pretrain/model/heads.safetensors").exists());
    pretrain("pt-bert", &["--init", "bert", "--steps", "2"]);
    let bert = d.join("pt-bert/model");
    assert_eq!(
        json(&bert.join("config.json"))["architectures"][0],
        "BertForMaskedLM"
    );
    assert!(
        json(&bert.join("1_Pooling/config.json"))["pooling_mode_cls_token"]
            .as_bool()
            .unwrap()
    );
    let names: Vec<String> = tch::Tensor::read_safetensors(bert.join("model.safetensors"))
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.iter().any(|n| n == "cls.predictions.bias"));
    assert!(names
        .iter()
        .any(|n| n == "bert.embeddings.word_embeddings.weight"));

    // Embedding: code and text, with and without traces; unit vectors in input order.
    let variants: Vec<tracecode_data::VariantRecord> =
        tracecode_data::read_rows(&d.join("variants.parquet")).unwrap();
    let mut input = String::new();
    for v in variants.iter().take(5) {
        input += &serde_json::json!({"id": v.id, "text": v.trace.code}).to_string();
        input += "\n";
    }
    input += &serde_json::json!({"id": "query", "text": "sum of a list of numbers"}).to_string();
    for extra in [
        vec![],
        vec!["--with-traces".to_string(), p("variants.parquet")],
    ] {
        let (rows, stderr) = embed(&p("full/model"), &extra, &input, d);
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[5]["id"], "query");
        for r in &rows {
            let e: Vec<f64> = r["embedding"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            assert_eq!(e.len(), 32);
            let norm: f64 = e.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{norm}");
        }
        if !extra.is_empty() {
            assert!(stderr.contains("5 of 6 rows have traces"));
        }
    }

    // Evaluation: every task for the lexical baseline and the fused model.
    // The split gives most of these 40 functions to `test` so every task has
    // held-out items; the scores only need to be well-formed here.
    tracecode(
        &[
            "bench-set",
            "clone",
            &p("variants.parquet"),
            "--fractions",
            "0.1,0.1",
            "-o",
            &p("clone-test.jsonl"),
        ],
        d,
    );
    let (eval_dir, data) = (p("eval"), common::repo_data());
    let eval = |extra: &[&str]| {
        let mut args = vec![
            "eval",
            "--run",
            d.to_str().unwrap(),
            "-o",
            &eval_dir,
            "--data",
            data.to_str().unwrap(),
            "--split",
            "0.1,0.1",
            "--seeds",
            "0,1",
            "--summarize-steps",
            "6",
            "--encoder",
            "bm25=lexical",
        ];
        args.extend_from_slice(extra);
        tracecode(&args, d)
    };
    let fused = format!("fused={}+traces", p("full/model"));
    eval(&["--encoder", &fused]);
    let results: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(d.join("eval/results.json")).unwrap())
            .unwrap();
    assert_eq!(results.len(), 10, "5 tasks × 2 encoders");
    for r in &results {
        let v = r["scores"][r["headline"].as_str().unwrap()]["value"]
            .as_f64()
            .unwrap();
        let top = if r["task"] == "summarize" { 100.0 } else { 1.0 };
        assert!((0.0..=top).contains(&v), "{r}");
        assert!(r["n"].as_u64().unwrap() > 0, "{r}");
    }
    let clone = results
        .iter()
        .find(|r| r["task"] == "clone" && r["encoder"] == "fused")
        .unwrap();
    assert!(clone["scores"]["auroc"]["se"].is_f64());
    assert!(
        clone["notes"][0]
            .as_str()
            .unwrap()
            .contains("embedded with their trace"),
        "{clone}"
    );
    let search = results
        .iter()
        .find(|r| r["task"] == "code-search" && r["encoder"] == "fused")
        .unwrap();
    let (plain, adversarial) = (
        &search["scores"]["map_at_r"],
        &search["scores"]["map_at_r_with_mutants"],
    );
    // Distractors only add candidates: no query's AP can rise.
    assert!(
        adversarial["value"].as_f64().unwrap() <= plain["value"].as_f64().unwrap() + 1e-12,
        "{search}"
    );
    assert!(
        plain["se"].is_f64() && adversarial["se"].is_f64(),
        "{search}"
    );
    let vuln = results
        .iter()
        .find(|r| r["task"] == "vuln" && r["encoder"] == "bm25")
        .unwrap();
    assert!(
        vuln["scores"]["macro_f1"]["std"].is_f64(),
        "two seeds give a spread"
    );
    // A rerun reuses every stored result.
    let again = eval(&["--encoder", &fused]);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("[eval] bm25 / clone"));

    // Ablation: the base setting and the raw trace encoding, retrained.
    tracecode(
        &[
            "ablate",
            "--run",
            d.to_str().unwrap(),
            "-o",
            &p("ablate"),
            "--axis",
            "encoding",
            "--steps",
            "2",
            "--config",
            &p("run.toml"),
            "--task",
            "clone",
        ],
        d,
    );
    let ablation: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(d.join("ablate/results.json")).unwrap())
            .unwrap();
    let settings: Vec<&str> = ablation
        .iter()
        .map(|r| r["encoder"].as_str().unwrap())
        .collect();
    assert_eq!(settings, ["base", "encoding-raw"]);

    // The report gathers it all.
    tracecode(&["report", "--run", d.to_str().unwrap()], d);
    let html = std::fs::read_to_string(d.join("report.html")).unwrap();
    for needle in [
        "<svg",
        "Task: clone",
        "Task: summarize",
        "Ablation grid",
        "Training",
    ] {
        assert!(html.contains(needle), "report.html lacks {needle}");
    }
    let md = std::fs::read_to_string(d.join("report.md")).unwrap();
    assert!(md.contains("| bm25 |") || md.contains("| bm25"), "{md}");
}
