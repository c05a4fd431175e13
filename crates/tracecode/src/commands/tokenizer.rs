//! `tracecode tokenizer train`: a byte-level BPE tokenizer for the code encoder.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use tracecode_data::{read_rows, FunctionRecord};
use tracecode_model::tokenizer::{train_bpe, CodeTokenizer};

#[derive(Subcommand, Debug)]
pub enum TokenizerCommand {
    Train(TokenizerTrainArgs),
}

/// Train a byte-level BPE tokenizer (HuggingFace `tokenizers`) on code and docstrings.
///
/// Reads corpus files of `tracecode corpus` (Parquet or JSONL; functions with
/// status `ok`), learns merges over their code (docstrings included) and
/// writes `tokenizer.json` with RoBERTa's special tokens at RoBERTa's ids
/// (<s>=0, <pad>=1, </s>=2, <unk>=3, <mask>=4). The file loads in Python with
/// `tokenizers.Tokenizer.from_file` or `transformers.PreTrainedTokenizerFast`.
///
/// Example:
///
///   tracecode tokenizer train out/corpus.parquet --vocab-size 8000 -o out/tokenizer.json
#[derive(Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct TokenizerTrainArgs {
    /// Corpus files of `tracecode corpus`.
    #[arg(required = true)]
    pub corpus: Vec<PathBuf>,
    /// Vocabulary size, special tokens included.
    #[arg(long, default_value_t = 8000)]
    pub vocab_size: usize,
    /// Merges need a pair seen at least this often.
    #[arg(long, default_value_t = 2)]
    pub min_frequency: u64,
    /// Output `tokenizer.json`.
    #[arg(short, long)]
    pub output: PathBuf,
}

impl TokenizerCommand {
    pub fn run(&self) -> Result<()> {
        match self {
            TokenizerCommand::Train(args) => train(args),
        }
    }
}

pub fn train(args: &TokenizerTrainArgs) -> Result<()> {
    let mut texts = Vec::new();
    for path in &args.corpus {
        let rows: Vec<FunctionRecord> = read_rows(path)?;
        texts.extend(
            rows.into_iter()
                .filter(|r| r.error.is_none() && !r.code.is_empty())
                .map(|r| r.code),
        );
    }
    if texts.is_empty() {
        bail!("no functions with code in {:?}", args.corpus);
    }
    let n = texts.len();
    eprintln!(
        "tokenizer: training byte-level BPE ({} tokens) on {n} functions",
        args.vocab_size
    );
    let tokenizer = train_bpe(texts.into_iter(), args.vocab_size, args.min_frequency, true)?;
    let tokenizer = CodeTokenizer::from_tokenizer(tokenizer, usize::MAX);
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    tokenizer.save(&args.output)?;
    println!(
        "tokenizer: {} tokens → {}",
        tokenizer.vocab_size(),
        args.output.display()
    );
    Ok(())
}
