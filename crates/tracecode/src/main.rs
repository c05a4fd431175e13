//! The `tracecode` command line: one subcommand per pipeline stage.

mod commands;
mod env;
mod progress;
mod runner;
mod sources;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Contrastive pre-training of code encoders on static code and dynamic execution traces.
///
/// The pipeline, one command per stage:
///
///   corpus → trace → variants → pairs → [pretrain] → train → eval → report
///
/// `tracecode pipeline` runs every available stage on a default corpus
/// (the local Python standard library plus MBPP when present).
#[derive(Parser)]
#[command(
    name = "tracecode",
    version,
    about,
    long_about,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Corpus(commands::corpus::CorpusArgs),
    Trace(commands::trace::TraceArgs),
    Variants(commands::variants::VariantsArgs),
    Mine(commands::mine::MineArgs),
    Merge(commands::merge::MergeArgs),
    Pairs(commands::pairs::PairsArgs),
    Render(commands::render::RenderArgs),
    /// Build evaluation sets from held-out functions (adversarial clone detection).
    #[command(subcommand)]
    BenchSet(commands::bench_set::BenchSet),
    /// Train a byte-level BPE tokenizer on code and docstrings.
    #[command(subcommand)]
    Tokenizer(commands::tokenizer::TokenizerCommand),
    Pretrain(commands::pretrain::PretrainArgs),
    Train(commands::train::TrainArgs),
    Embed(commands::embed::EmbedArgs),
    Eval(commands::eval::EvalArgs),
    Report(commands::report::ReportArgs),
    Ablate(commands::ablate::AblateArgs),
    Pipeline(commands::pipeline::PipelineArgs),
    /// Internal: a sandboxed tracing worker, started by the supervisor on private fds.
    #[command(name = "__worker", hide = true)]
    Worker,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Worker => tracecode_exec::worker_main(),
        Command::Corpus(args) => commands::corpus::run(&args).map(|_| ()),
        Command::Trace(args) => commands::trace::run(&args).map(|_| ()),
        Command::Variants(args) => commands::variants::run(&args).map(|_| ()),
        Command::Mine(args) => commands::mine::run(&args).map(|_| ()),
        Command::Merge(args) => commands::merge::run(&args),
        Command::Pairs(args) => commands::pairs::run(&args).map(|_| ()),
        Command::Render(args) => commands::render::run(&args),
        Command::BenchSet(bench) => bench.run(),
        Command::Tokenizer(command) => command.run(),
        Command::Pretrain(args) => commands::pretrain::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Embed(args) => commands::embed::run(&args),
        Command::Eval(args) => commands::eval::run(&args).map(|_| ()),
        Command::Ablate(args) => commands::ablate::run(&args),
        Command::Report(args) => commands::report::run(&args)
            .map(|(html, md)| println!("report: {}\n        {}", html.display(), md.display())),
        Command::Pipeline(args) => commands::pipeline::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
