//! Byte-level BPE over code and docstrings (HuggingFace `tokenizers`), with
//! RoBERTa's special tokens at RoBERTa's ids; the WordPiece tokenizer of
//! pretrained BERT checkpoints that ship only `vocab.txt`; batch encoding to
//! tensors.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use tch::{Device, Tensor};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, Tokenizer, TokenizerImpl, TruncationParams};

/// RoBERTa's special tokens, in id order: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, `<mask>`=4.
pub const SPECIAL_TOKENS: [&str; 5] = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"];

/// Trains a byte-level BPE tokenizer of `vocab_size` tokens on `texts`.
pub fn train_bpe<I>(
    texts: I,
    vocab_size: usize,
    min_frequency: u64,
    show_progress: bool,
) -> Result<Tokenizer>
where
    I: Iterator<Item = String> + Send,
{
    let specials = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(*t, true))
        .collect();
    let mut trainer = BpeTrainerBuilder::new()
        .show_progress(show_progress)
        .vocab_size(vocab_size)
        .min_frequency(min_frequency)
        .special_tokens(specials)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build();
    let mut tokenizer: TokenizerImpl<
        BPE,
        NormalizerWrapper,
        PreTokenizerWrapper,
        PostProcessorWrapper,
        DecoderWrapper,
    > = TokenizerImpl::new(BPE::default());
    tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::ByteLevel(ByteLevel::new(
        false, true, true,
    ))));
    tokenizer.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevel::default())));
    tokenizer.with_post_processor(Some(PostProcessorWrapper::Roberta(
        RobertaProcessing::new(("</s>".into(), 2), ("<s>".into(), 0))
            .trim_offsets(false)
            .add_prefix_space(false),
    )));
    tokenizer
        .train(&mut trainer, texts)
        .map_err(|e| anyhow!("training the tokenizer: {e}"))?;
    Ok(tokenizer.into())
}

/// The `tokenizer_config.json` keys of a BERT tokenizer that shape the
/// WordPiece pipeline, with `transformers`' `BertTokenizer` defaults.
#[derive(Deserialize)]
#[serde(default)]
struct BertTokenizerConfig {
    do_lower_case: bool,
    tokenize_chinese_chars: bool,
    strip_accents: Option<bool>,
    unk_token: String,
    sep_token: String,
    pad_token: String,
    cls_token: String,
    mask_token: String,
}

impl Default for BertTokenizerConfig {
    fn default() -> Self {
        BertTokenizerConfig {
            do_lower_case: true,
            tokenize_chinese_chars: true,
            strip_accents: None,
            unk_token: "[UNK]".into(),
            sep_token: "[SEP]".into(),
            pad_token: "[PAD]".into(),
            cls_token: "[CLS]".into(),
            mask_token: "[MASK]".into(),
        }
    }
}

/// The WordPiece tokenizer of a BERT checkpoint directory that has
/// `vocab.txt` but no `tokenizer.json`, built as `transformers` converts a
/// `BertTokenizer`: BERT normalisation (lowercasing per `do_lower_case` of
/// `tokenizer_config.json`), BERT pre-tokenization, WordPiece with `##`
/// continuations, `[CLS] … [SEP]` around each sequence.
pub fn wordpiece_from_vocab(dir: &Path) -> Result<Tokenizer> {
    let config_path = dir.join("tokenizer_config.json");
    let config: BertTokenizerConfig = if config_path.exists() {
        let text = std::fs::read_to_string(&config_path)
            .with_context(|| format!("reading {}", config_path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", config_path.display()))?
    } else {
        BertTokenizerConfig::default()
    };
    let vocab_path = dir.join("vocab.txt");
    let vocab = WordPiece::read_file(&vocab_path.to_string_lossy())
        .map_err(|e| anyhow!("reading {}: {e}", vocab_path.display()))?;
    let id = |token: &str| {
        vocab
            .get(token)
            .copied()
            .with_context(|| format!("{} lacks the token {token}", vocab_path.display()))
    };
    let (cls, sep) = (id(&config.cls_token)?, id(&config.sep_token)?);
    id(&config.unk_token)?;
    let specials: Vec<AddedToken> = [
        &config.pad_token,
        &config.unk_token,
        &config.cls_token,
        &config.sep_token,
        &config.mask_token,
    ]
    .into_iter()
    .filter(|t| vocab.contains_key(t.as_str()))
    .map(|t| AddedToken::from(t.clone(), true))
    .collect();
    let model = WordPiece::builder()
        .vocab(vocab)
        .unk_token(config.unk_token.clone())
        .build()
        .map_err(|e| anyhow!("building WordPiece from {}: {e}", vocab_path.display()))?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(
            true,
            config.tokenize_chinese_chars,
            config.strip_accents,
            config.do_lower_case,
        )))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(BertProcessing::new(
            (config.sep_token, sep),
            (config.cls_token, cls),
        )))
        .with_decoder(Some(WordPieceDecoder::default()));
    tokenizer.add_special_tokens(&specials);
    Ok(tokenizer)
}

/// A token's `(start, end)` byte offsets in its text.
pub type ByteRange = (usize, usize);

/// A loaded `tokenizer.json` with the ids the encoder needs.
pub struct CodeTokenizer {
    inner: Tokenizer,
    pub pad_id: u32,
    pub max_tokens: usize,
}

impl CodeTokenizer {
    /// Loads `path` (a `tokenizer.json`); sequences are cut at `max_tokens`.
    pub fn load(path: &Path, max_tokens: usize) -> Result<Self> {
        let inner =
            Tokenizer::from_file(path).map_err(|e| anyhow!("loading {}: {e}", path.display()))?;
        Ok(Self::from_tokenizer(inner, max_tokens))
    }

    /// The tokenizer of an encoder directory: its `tokenizer.json`, else the
    /// WordPiece tokenizer of its `vocab.txt` (older BERT checkpoints).
    pub fn load_dir(dir: &Path, max_tokens: usize) -> Result<Self> {
        let json = dir.join("tokenizer.json");
        if json.exists() {
            Self::load(&json, max_tokens)
        } else if dir.join("vocab.txt").exists() {
            Ok(Self::from_tokenizer(wordpiece_from_vocab(dir)?, max_tokens))
        } else {
            bail!("{} has neither tokenizer.json nor vocab.txt", dir.display())
        }
    }

    pub fn from_tokenizer(mut inner: Tokenizer, max_tokens: usize) -> Self {
        let pad_id = ["<pad>", "[PAD]"]
            .iter()
            .find_map(|t| inner.token_to_id(t))
            .unwrap_or(0);
        // Truncation keeps the special tokens; padding is done by `batch`, so
        // a padding setting from the file would only pad `ids_batch` results.
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .expect("truncation params are valid");
        CodeTokenizer {
            inner,
            pad_id,
            max_tokens,
        }
    }

    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        // Saved without the encoder's truncation so other tools see a plain tokenizer.
        let mut plain = self.inner.clone();
        plain.with_truncation(None).map_err(|e| anyhow!("{e}"))?;
        let json = plain
            .to_string(false)
            .map_err(|e| anyhow!("serializing the tokenizer: {e}"))?;
        crate::io::write_text_atomic(path, &json)
    }

    /// Token ids of many texts, tokenized in parallel (same result as [`Self::ids`] on each).
    pub fn ids_batch(&self, texts: &[String]) -> Result<Vec<Vec<i64>>> {
        let encodings = self
            .inner
            .encode_batch(texts.iter().map(String::as_str).collect::<Vec<_>>(), true)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        Ok(encodings.iter().map(|e| to_ids(e.get_ids())).collect())
    }

    /// Token ids of one text (special tokens added, truncated).
    pub fn ids(&self, text: &str) -> Result<Vec<i64>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        Ok(to_ids(enc.get_ids()))
    }

    /// Token ids of one text with each token's byte range in `text` (special
    /// tokens get an empty range), for masking by source position.
    pub fn ids_with_offsets(&self, text: &str) -> Result<(Vec<i64>, Vec<ByteRange>)> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| anyhow!("tokenizing: {e}"))?;
        let offsets = enc
            .get_offsets()
            .iter()
            .zip(enc.get_special_tokens_mask())
            .map(|(&(a, b), &special)| if special == 1 { (0, 0) } else { (a, b) })
            .collect();
        Ok((to_ids(enc.get_ids()), offsets))
    }

    /// The id of the mask token (`<mask>` or `[MASK]`), if the vocabulary has one.
    pub fn mask_id(&self) -> Option<i64> {
        ["<mask>", "[MASK]"]
            .iter()
            .find_map(|t| self.inner.token_to_id(t))
            .map(i64::from)
    }

    /// Pads pre-tokenized sequences into `(input_ids, attention_mask)` [B, T].
    pub fn batch(&self, seqs: &[&[i64]], device: Device) -> (Tensor, Tensor) {
        let t = seqs.iter().map(|s| s.len()).max().unwrap_or(1).max(1);
        let mut ids = Vec::with_capacity(seqs.len() * t);
        let mut mask = Vec::with_capacity(seqs.len() * t);
        for s in seqs {
            ids.extend_from_slice(s);
            mask.extend(std::iter::repeat_n(1i64, s.len()));
            ids.extend(std::iter::repeat_n(self.pad_id as i64, t - s.len()));
            mask.extend(std::iter::repeat_n(0i64, t - s.len()));
        }
        let shape = [seqs.len() as i64, t as i64];
        (
            Tensor::from_slice(&ids).view(shape).to_device(device),
            Tensor::from_slice(&mask).view(shape).to_device(device),
        )
    }
}

fn to_ids(ids: &[u32]) -> Vec<i64> {
    ids.iter().map(|&i| i as i64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<String> {
        (0..200)
            .map(|i| {
                format!(
                    "def add_{i}(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b * {i}\n"
                )
            })
            .collect()
    }

    #[test]
    fn wordpiece_from_vocab_txt_lowercases_splits_and_wraps_in_cls_sep() {
        let dir = tempfile::tempdir().unwrap();
        let vocab = [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "def", "add", "##er", "(", ")", ":",
            "return", "a", "+", "b", ",",
        ];
        std::fs::write(dir.path().join("vocab.txt"), vocab.join("\n") + "\n").unwrap();
        let tok = CodeTokenizer::load_dir(dir.path(), 16).unwrap();
        assert_eq!(tok.pad_id, 0);
        // "Adder" lowercases to adder = add + ##er; "ü" loses its accent (as
        // BERT's uncased models do) and "u" has no piece: [UNK].
        assert_eq!(
            tok.ids("DEF Adder(a, b): ü").unwrap(),
            vec![2, 5, 6, 7, 8, 12, 15, 14, 9, 10, 1, 3]
        );
        assert_eq!(tok.ids("return a+b").unwrap(), vec![2, 11, 12, 13, 14, 3]);
        // Truncation keeps [SEP].
        let short = CodeTokenizer::load_dir(dir.path(), 5).unwrap();
        assert_eq!(short.ids("return a+b").unwrap(), vec![2, 11, 12, 13, 3]);
        // Special tokens in the text stay whole; do_lower_case = false keeps case.
        assert_eq!(tok.ids("[MASK] a").unwrap(), vec![2, 4, 12, 3]);
        std::fs::write(
            dir.path().join("tokenizer_config.json"),
            r#"{"do_lower_case": false}"#,
        )
        .unwrap();
        let cased = CodeTokenizer::load_dir(dir.path(), 16).unwrap();
        assert_eq!(cased.ids("Return a").unwrap(), vec![2, 1, 12, 3]);
        // A saved copy is a tokenizer.json that loads to the same ids.
        let json = dir.path().join("saved/tokenizer.json");
        std::fs::create_dir_all(json.parent().unwrap()).unwrap();
        tok.save(&json).unwrap();
        let back = CodeTokenizer::load_dir(json.parent().unwrap(), 16).unwrap();
        assert_eq!(back.ids("return a+b").unwrap(), vec![2, 11, 12, 13, 14, 3]);
    }

    #[test]
    fn trained_tokenizer_has_roberta_specials_and_round_trips_through_json() {
        let tok = train_bpe(corpus().into_iter(), 400, 2, false).unwrap();
        for (id, t) in SPECIAL_TOKENS.iter().enumerate() {
            assert_eq!(tok.token_to_id(t), Some(id as u32), "{t}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        let code = CodeTokenizer::from_tokenizer(tok, 16);
        code.save(&path).unwrap();
        let back = CodeTokenizer::load(&path, 16).unwrap();
        let ids = back.ids("def add_3(a, b):\n    return a + b").unwrap();
        assert_eq!(ids[0], 0, "starts with <s>");
        let texts: Vec<String> = corpus()
            .into_iter()
            .take(5)
            .chain(["x".to_string()])
            .collect();
        let batch = back.ids_batch(&texts).unwrap();
        for (t, b) in texts.iter().zip(&batch) {
            assert_eq!(
                &back.ids(t).unwrap(),
                b,
                "batch tokenization equals one by one"
            );
        }
        assert!(ids.len() <= 16);
        // Frequent code fragments became single tokens.
        assert!(back.vocab_size() > 300);
        let (ids, mask) = back.batch(&[&[0, 5, 2], &[0, 2]], Device::Cpu);
        assert_eq!(
            Vec::<i64>::try_from(ids.view([-1])).unwrap(),
            vec![0, 5, 2, 0, 2, 1]
        );
        assert_eq!(
            Vec::<i64>::try_from(mask.view([-1])).unwrap(),
            vec![1, 1, 1, 1, 1, 0]
        );
    }
}
