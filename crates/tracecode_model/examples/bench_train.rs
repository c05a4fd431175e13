//! The Rust side of `bench/train`: median time of one static-only training
//! step (encoder forward, code head, symmetric InfoNCE, backward, AdamW) on
//! random token batches. bench/train/peer.py does the same step in PyTorch.
//!
//!   bench_train PRESET BATCH TOKENS STEPS THREADS
//!
//! Prints one JSON line: {"median_s", "tokens_per_s"}.

use std::time::Instant;

use tch::{Device, Kind, Tensor};
use tracecode_model::config::EncoderConfig;
use tracecode_model::loss::info_nce;
use tracecode_model::model::{normalize, HeadsConfig, TraceCodeModel};
use tracecode_model::optim::AdamW;
use tracecode_model::tokenizer::{train_bpe, CodeTokenizer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [preset, batch, tokens, steps, threads] = args.as_slice() else {
        panic!("usage: bench_train PRESET BATCH TOKENS STEPS THREADS")
    };
    let (batch, tokens, steps): (i64, i64, usize) = (
        batch.parse().unwrap(),
        tokens.parse().unwrap(),
        steps.parse().unwrap(),
    );
    tch::set_num_threads(threads.parse().unwrap());
    tch::manual_seed(0);
    let vocab = 8000;
    let tokenizer = CodeTokenizer::from_tokenizer(
        train_bpe(["x = 1".to_string()].into_iter(), 300, 1, false).unwrap(),
        512,
    );
    let config = EncoderConfig::preset(preset, vocab).unwrap();
    let heads = HeadsConfig {
        use_traces: false,
        ..Default::default()
    };
    let model = TraceCodeModel::new(&config, heads, tokenizer, Device::Cpu);
    let mut opt = AdamW::new(&model.vs, 0.01);
    let mut times = Vec::new();
    for step in 0..steps {
        // Token ids from 5 (past the specials), all positions real.
        let ids = Tensor::randint_low(5, vocab, [2 * batch, tokens], (Kind::Int64, Device::Cpu));
        let mask = ids.ones_like();
        let started = Instant::now();
        opt.zero_grad();
        let hidden = model.encoder.forward(&ids, &mask, true);
        let pooled = tracecode_model::encoder::mean_pool(&hidden, &mask);
        let emb = normalize(&model.code_embedding(&pooled));
        let loss = info_nce(
            &emb.narrow(0, 0, batch),
            &emb.narrow(0, batch, batch),
            None,
            0.05,
            0.0,
        );
        loss.backward();
        opt.clip_grad_norm(1.0);
        opt.step(1e-4);
        if step >= 2 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "{{\"median_s\": {median}, \"tokens_per_s\": {}}}",
        (2 * batch * tokens) as f64 / median
    );
}
