//! The Rust side of `bench/embed`: embeddings per second of a model directory
//! over the texts of a JSON list file (batched by length, batch 32), after one
//! warm-up pass. bench/embed/peer.py does the same with `transformers`.
//!
//!   bench_embed MODEL_DIR TEXTS_JSON THREADS REPEATS
//!   bench_embed --export-random PRESET TOKENIZER_JSON MODEL_DIR

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use tch::Device;
use tracecode_model::config::EncoderConfig;
use tracecode_model::embed::embed_texts;
use tracecode_model::model::{HeadsConfig, TraceCodeModel};
use tracecode_model::tokenizer::CodeTokenizer;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args[0] == "--export-random" {
        tch::manual_seed(0);
        let tokenizer = CodeTokenizer::load(Path::new(&args[2]), 256).unwrap();
        let config = EncoderConfig::preset(&args[1], tokenizer.vocab_size() as i64).unwrap();
        let heads = HeadsConfig {
            use_traces: false,
            ..Default::default()
        };
        TraceCodeModel::new(&config, heads, tokenizer, Device::Cpu)
            .save(Path::new(&args[3]))
            .unwrap();
        return;
    }
    let [dir, texts, threads, repeats] = args.as_slice() else {
        panic!("usage: bench_embed MODEL_DIR TEXTS_JSON THREADS REPEATS")
    };
    tch::set_num_threads(threads.parse().unwrap());
    let model = TraceCodeModel::load(Path::new(dir), Device::Cpu, None).unwrap();
    let texts: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(texts).unwrap()).unwrap();
    let none = HashMap::new();
    embed_texts(&model, &texts, &none, 32).unwrap();
    let mut times = Vec::new();
    for _ in 0..repeats.parse::<usize>().unwrap() {
        let started = Instant::now();
        embed_texts(&model, &texts, &none, 32).unwrap();
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"median_s\": {median}, \"per_s\": {}}}",
        texts.len() as f64 / median
    );
}
