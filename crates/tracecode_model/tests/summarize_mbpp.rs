//! The summarization head on real MBPP functions (task text as the summary),
//! split by task, over a freshly initialised encoder: the decoder must learn
//! summaries beyond word frequencies, generate one for every function in
//! order, and reproduce itself exactly from the same seed.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use tch::Device;
use tracecode_model::config::EncoderConfig;
use tracecode_model::model::{HeadsConfig, TraceCodeModel};
use tracecode_model::summarize::{
    train_summarizer, SummarizerConfig, SummaryExample, SummaryMetrics, Vocab, EOS,
};
use tracecode_model::tokenizer::{train_bpe, CodeTokenizer};

/// MBPP (shipped in the repository's data/) as summary examples.
fn mbpp() -> Vec<SummaryExample> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/search/mbpp.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            SummaryExample {
                id: row["task_id"].to_string(),
                code: row["code"].as_str().unwrap().to_string(),
                summary: row["text"].as_str().unwrap().to_string(),
                trace: None,
            }
        })
        .collect()
}

/// Split by function: every tenth task is a validation function.
fn split(all: &[SummaryExample]) -> (Vec<SummaryExample>, Vec<SummaryExample>) {
    all.iter()
        .cloned()
        .partition(|e| e.id.parse::<u64>().unwrap() % 10 != 0)
}

/// An untrained encoder of the given preset with a BPE tokenizer trained on
/// the training code: its states still identify the code tokens, which is
/// all the decoder needs to beat a frequency baseline.
fn model(train: &[SummaryExample], preset: &str) -> TraceCodeModel {
    tch::manual_seed(0);
    let texts = train.iter().map(|e| e.code.clone());
    let tokenizer = CodeTokenizer::from_tokenizer(train_bpe(texts, 1000, 2, false).unwrap(), 256);
    let config = EncoderConfig::preset(preset, tokenizer.vocab_size() as i64).unwrap();
    let heads = HeadsConfig {
        use_traces: false,
        ..Default::default()
    };
    TraceCodeModel::new(&config, heads, tokenizer, Device::Cpu)
}

/// Mean NLL per validation target token (words then `<eos>`, cut as the
/// trainer cuts them) under the training targets' add-one-smoothed unigram
/// frequencies: what a decoder ignoring both code and context would reach.
fn unigram_loss(
    vocab: &Vocab,
    train: &[SummaryExample],
    val: &[SummaryExample],
    max: usize,
) -> f64 {
    let targets = |e: &SummaryExample| {
        let mut ids = vocab.encode(&e.summary);
        ids.truncate(max - 1);
        ids.push(EOS);
        ids
    };
    let mut counts: HashMap<i64, f64> = HashMap::new();
    let mut total = 0.0;
    for id in train.iter().flat_map(targets) {
        *counts.entry(id).or_default() += 1.0;
        total += 1.0;
    }
    let v = vocab.size() as f64;
    let nll: Vec<f64> = val
        .iter()
        .flat_map(targets)
        .map(|id| -((counts.get(&id).unwrap_or(&0.0) + 1.0) / (total + v)).ln())
        .collect();
    nll.iter().sum::<f64>() / nll.len() as f64
}

fn best(metrics: &[SummaryMetrics]) -> f64 {
    metrics
        .iter()
        .map(|m| m.val_loss)
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn mbpp_summaries_beat_unigram_generate_in_order_and_reproduce() {
    let all = mbpp();
    // One intra-op thread: this test runs beside other test binaries and
    // builds, where libtorch's spinning worker threads slow tiny ops tenfold.
    tch::set_num_threads(1);
    let (train, val) = split(&all);
    assert!(train.len() > 800 && val.len() > 90);
    let model = model(&train, "tiny");
    let config = SummarizerConfig {
        layers: 2,
        heads: 2,
        d_model: 64,
        ffn: 128,
        max_code_tokens: 128,
        steps: 300,
        batch_size: 16,
        lr: 2e-3,
        warmup: 30,
        eval_every: 100,
        patience: 0,
        vocab_size: 1000,
        ..Default::default()
    };
    let started = Instant::now();
    let (summarizer, metrics) = train_summarizer(&model, &train, &val, &config, false).unwrap();
    eprintln!(
        "tiny: {} steps in {:.1}s; metrics {metrics:?}",
        config.steps,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        metrics.iter().map(|m| m.step).collect::<Vec<_>>(),
        vec![0, 100, 200, 300]
    );
    let initial = metrics[0].val_loss;
    let unigram = unigram_loss(summarizer.vocab(), &train, &val, config.max_summary_tokens);
    let best_loss = best(&metrics);
    eprintln!("validation loss: initial {initial:.3}, unigram {unigram:.3}, best {best_loss:.3}");
    assert!(
        best_loss < 0.6 * initial,
        "{best_loss} vs initial {initial}"
    );
    assert!(
        best_loss < unigram - 0.5,
        "{best_loss} vs unigram {unigram}"
    );

    let sample = &val[..40];
    let summaries = summarizer.generate(&model, sample, 16).unwrap();
    assert_eq!(summaries.len(), sample.len());
    assert!(
        summaries.iter().all(|s| !s.trim().is_empty()),
        "{summaries:?}"
    );
    eprintln!("e.g. {:?} for {:?}", summaries[0], sample[0].summary);
    // In input order: a reordered subset gets the same summaries.
    let picked = [sample[7].clone(), sample[2].clone(), sample[30].clone()];
    assert_eq!(
        summarizer.generate(&model, &picked, 2).unwrap(),
        vec![
            summaries[7].clone(),
            summaries[2].clone(),
            summaries[30].clone()
        ]
    );

    let (again, again_metrics) = train_summarizer(&model, &train, &val, &config, false).unwrap();
    assert_eq!(again_metrics, metrics);
    assert_eq!(again.generate(&model, sample, 16).unwrap(), summaries);
}

/// The default recipe on the `small` encoder, as the evaluation runs it:
/// reports the time per step (`cargo test --release -p tracecode_model
/// --test summarize_mbpp -- --ignored --nocapture`).
#[test]
#[ignore = "minutes of CPU: the default configuration on the small encoder"]
fn default_recipe_on_the_small_encoder() {
    let all = mbpp();
    let (train, val) = split(&all);
    let model = model(&train, "small");
    let config = SummarizerConfig::default();
    let started = Instant::now();
    let (summarizer, metrics) = train_summarizer(&model, &train, &val, &config, true).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let unigram = unigram_loss(summarizer.vocab(), &train, &val, config.max_summary_tokens);
    let steps = metrics.last().unwrap().step;
    eprintln!(
        "small: {steps} steps of {} in {seconds:.1}s ({:.1} ms/step incl. caching); unigram {unigram:.3}; {metrics:?}",
        config.batch_size,
        1000.0 * seconds / steps as f64
    );
    let started = Instant::now();
    let summaries = summarizer.generate(&model, &val, 32).unwrap();
    eprintln!(
        "generated {} summaries in {:.1}s, e.g. {:?} for {:?}",
        summaries.len(),
        started.elapsed().as_secs_f64(),
        summaries[0],
        val[0].summary
    );
    assert!(best(&metrics) < unigram - 0.5);
}
