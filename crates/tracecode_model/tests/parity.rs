//! Parity with HuggingFace `transformers`, both ways: a RoBERTa saved by
//! transformers loads here with the same hidden states, and a TraceCode export
//! loads in transformers with the same embeddings. Python comes from the
//! project venv that `scripts/test` sets up (TRACECODE_VENV).

mod common;

use tch::nn::OptimizerConfig;
use tch::{nn, Device, Kind, Tensor};
use tracecode_model::config::EncoderConfig;
use tracecode_model::encoder::{load_hf_weights, mean_pool, Encoder};
use tracecode_model::model::{HeadsConfig, TraceCodeModel};
use tracecode_model::pretrain::MaskedLm;
use tracecode_model::tokenizer::{train_bpe, CodeTokenizer};

fn helper(args: &[&str]) {
    common::run_python("hf_parity.py", args);
}

fn tensor(v: &serde_json::Value, kind: Kind) -> Tensor {
    fn flat(v: &serde_json::Value, out: &mut Vec<f64>, shape: &mut Vec<i64>, depth: usize) {
        match v {
            serde_json::Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len() as i64);
                }
                for i in items {
                    flat(i, out, shape, depth + 1);
                }
            }
            n => out.push(n.as_f64().unwrap()),
        }
    }
    let (mut data, mut shape) = (Vec::new(), Vec::new());
    flat(v, &mut data, &mut shape, 0);
    Tensor::from_slice(&data)
        .view(shape.as_slice())
        .to_kind(kind)
}

#[test]
fn roberta_saved_by_transformers_loads_with_equal_hidden_states() {
    let dir = tempfile::tempdir().unwrap();
    helper(&["make", dir.path().to_str().unwrap()]);
    let config = EncoderConfig::load(dir.path()).unwrap();
    assert_eq!(config.model_type, "roberta");
    let vs = nn::VarStore::new(Device::Cpu);
    let encoder = Encoder::new(&vs.root(), &config);
    load_hf_weights(&vs, "", dir.path(), None).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    let ids = tensor(&expected["ids"], Kind::Int64);
    let mask = tensor(&expected["mask"], Kind::Int64);
    let want = tensor(&expected["hidden"], Kind::Float);
    let got = tch::no_grad(|| encoder.forward(&ids, &mask, false));
    // Padding positions are not compared: their states are unspecified.
    let m = mask.unsqueeze(-1).to_kind(Kind::Float);
    let diff = ((got - want) * m).abs().max().double_value(&[]);
    assert!(diff < 1e-4, "max abs difference {diff}");
}

#[test]
fn tracecode_export_loads_in_transformers_with_equal_embeddings() {
    let texts: Vec<String> = (0..60)
        .map(|i| format!("def f_{i}(xs):\n    total = 0\n    for x in xs:\n        total += x * {i}\n    return total\n"))
        .collect();
    let tokenizer = CodeTokenizer::from_tokenizer(
        train_bpe(texts.clone().into_iter(), 500, 2, false).unwrap(),
        64,
    );
    let mut config = EncoderConfig::preset("tiny", tokenizer.vocab_size() as i64).unwrap();
    config.max_position_embeddings = 66;
    let model = TraceCodeModel::new(&config, HeadsConfig::default(), tokenizer, Device::Cpu);
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();

    let sample: Vec<&String> = texts.iter().step_by(7).collect();
    let input = dir.path().join("texts.json");
    std::fs::write(&input, serde_json::to_string(&sample).unwrap()).unwrap();
    let output = dir.path().join("hf.json");
    helper(&[
        "embed",
        dir.path().to_str().unwrap(),
        input.to_str().unwrap(),
        output.to_str().unwrap(),
    ]);
    let hf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();

    // Same token ids from the exported tokenizer.json...
    let reloaded = TraceCodeModel::load(dir.path(), Device::Cpu, None).unwrap();
    let ids: Vec<Vec<i64>> = sample
        .iter()
        .map(|t| reloaded.tokenizer.ids(t).unwrap())
        .collect();
    for (row, want) in ids.iter().zip(hf["ids"].as_array().unwrap()) {
        let want: Vec<i64> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .filter(|&i| i != 1)
            .collect();
        assert_eq!(row, &want);
    }
    // ...and the same mean-pooled states from the exported weights.
    let seqs: Vec<&[i64]> = ids.iter().map(|v| v.as_slice()).collect();
    let (t_ids, t_mask) = reloaded.tokenizer.batch(&seqs, Device::Cpu);
    let ours =
        tch::no_grad(|| mean_pool(&reloaded.encoder.forward(&t_ids, &t_mask, false), &t_mask));
    let theirs = tensor(&hf["pooled"], Kind::Float);
    let diff = (ours - theirs).abs().max().double_value(&[]);
    assert!(diff < 1e-4, "max abs difference {diff}");
}

/// The masked-LM head of `tracecode pretrain`, both ways: a
/// `RobertaForMaskedLM` saved by transformers gives the same logits here, and
/// a TraceCode masked LM loads in `AutoModelForMaskedLM` with no weight left
/// to initialise and the same logits.
#[test]
fn masked_lm_logits_match_transformers_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    helper(&["make_mlm", dir.path().to_str().unwrap()]);
    // transformers' tokenizer is not needed here: write a minimal one so the
    // directory loads (ids are given directly).
    let texts = ["def f(x):\n    return x + 1\n".to_string()];
    let tokenizer =
        CodeTokenizer::from_tokenizer(train_bpe(texts.into_iter(), 300, 1, false).unwrap(), 64);
    tokenizer.save(&dir.path().join("tokenizer.json")).unwrap();
    let model = MaskedLm::load(dir.path(), 64, Device::Cpu).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("expected.json")).unwrap())
            .unwrap();
    let ids = tensor(&expected["ids"], Kind::Int64);
    let mask = tensor(&expected["mask"], Kind::Int64);
    let want = tensor(&expected["logits"], Kind::Float);
    let (b, t) = ids.size2().unwrap();
    let all = Tensor::arange(b * t, (Kind::Int64, Device::Cpu));
    let got = tch::no_grad(|| model.logits(&ids, &mask, &all, false)).view([b, t, -1]);
    // Padding positions are not compared: their states are unspecified.
    let m = mask.unsqueeze(-1).to_kind(Kind::Float);
    let diff = ((&got - want) * m).abs().max().double_value(&[]);
    assert!(
        diff < 1e-4,
        "transformers → TraceCode: max abs difference {diff}"
    );

    // TraceCode → transformers, after one optimizer step so no parameter
    // (the head's bias included) is at its initial value.
    let mut opt = tch::nn::Sgd::default().build(&model.vs, 0.1).unwrap();
    let loss = model
        .logits(&ids, &mask, &all, true)
        .logsumexp([1], false)
        .mean(Kind::Float);
    opt.backward_step(&loss);
    let out = tempfile::tempdir().unwrap();
    model.save(out.path()).unwrap();
    let ids_path = out.path().join("ids.json");
    std::fs::write(&ids_path, serde_json::to_string(&expected["ids"]).unwrap()).unwrap();
    let hf_path = out.path().join("hf.json");
    helper(&[
        "mlm",
        out.path().to_str().unwrap(),
        ids_path.to_str().unwrap(),
        hf_path.to_str().unwrap(),
    ]);
    let hf: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&hf_path).unwrap()).unwrap();
    assert_eq!(
        hf["missing"],
        serde_json::json!([]),
        "every weight was saved"
    );
    let ones = ids.ones_like();
    let ours = tch::no_grad(|| model.logits(&ids, &ones, &all, false)).view([b, t, -1]);
    let theirs = tensor(&hf["logits"], Kind::Float);
    let diff = (ours - theirs).abs().max().double_value(&[]);
    assert!(
        diff < 1e-4,
        "TraceCode → transformers: max abs difference {diff}"
    );
}
