//! The pair dataset as the trainer reads it: every program (original,
//! rewrite, mutant) tokenized once and its trace reduced to features, and the
//! examples of `tracecode pairs` as indices into them.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use tracecode_data::variant::{PairExample, Split, VariantRecord};

use crate::features::TraceFeatures;
use crate::model::HeadsConfig;
use crate::tokenizer::CodeTokenizer;

/// One program: its code tokens and trace features.
pub struct Item {
    pub id: String,
    pub code: Vec<i64>,
    pub trace: TraceFeatures,
}

/// One training example, by item index.
pub struct Example {
    pub function_id: String,
    pub anchor: usize,
    pub positives: Vec<usize>,
    pub negatives: Vec<usize>,
    /// Docstring summary tokens and the anchor's body without signature,
    /// docstring and returns (the text–code objective), when there is a summary.
    pub text: Option<(Vec<i64>, Vec<i64>)>,
}

#[derive(Default)]
pub struct PairData {
    pub items: Vec<Item>,
    pub train: Vec<Example>,
    pub validation: Vec<Example>,
    pub test: Vec<Example>,
    /// Examples dropped because no positive had a trace row.
    pub dropped: usize,
}

impl PairData {
    /// Reads `pairs` (rows of `tracecode pairs`) and the rows of `variants`
    /// they name. The variants file is streamed: only the needed rows are kept,
    /// as features.
    pub fn load(
        pairs: &Path,
        variants: &Path,
        tokenizer: &CodeTokenizer,
        heads: &HeadsConfig,
    ) -> Result<Self> {
        Self::load_where(pairs, variants, tokenizer, heads, |_| true)
    }

    /// Like [`PairData::load`], for the examples `keep` accepts (offered in
    /// file order) only: both files are streamed, so memory holds those
    /// examples and their programs, whatever the size of the files.
    pub fn load_where(
        pairs: &Path,
        variants: &Path,
        tokenizer: &CodeTokenizer,
        heads: &HeadsConfig,
        mut keep: impl FnMut(&PairExample) -> bool,
    ) -> Result<Self> {
        let mut examples: Vec<PairExample> = Vec::new();
        tracecode_data::io::for_each_row(pairs, |e: PairExample| {
            if keep(&e) {
                examples.push(e);
            }
            Ok(())
        })
        .with_context(|| format!("reading pairs {}", pairs.display()))?;
        let mut wanted: HashMap<String, Option<usize>> = HashMap::new();
        for e in &examples {
            for id in std::iter::once(&e.anchor_id)
                .chain(&e.positive_ids)
                .chain(&e.negative_ids)
            {
                wanted.insert(id.clone(), None);
            }
        }
        let mut data = PairData::default();
        let wanted_ids: std::collections::HashSet<String> = wanted.keys().cloned().collect();
        let keep = |id: &str| wanted_ids.contains(id);
        tracecode_data::io::for_each_parquet_row_keyed(
            variants,
            "id",
            keep,
            |row: VariantRecord| {
                if let Some(slot) = wanted.get_mut(&row.id) {
                    if slot.is_none() {
                        let code = tokenizer.ids(&row.trace.code)?;
                        let trace = TraceFeatures::from_record(
                            &row.trace,
                            heads.trace_encoding,
                            heads.max_runs,
                            heads.max_steps,
                        );
                        *slot = Some(data.items.len());
                        data.items.push(Item {
                            id: row.id,
                            code,
                            trace,
                        });
                    }
                }
                Ok(())
            },
        )
        .with_context(|| format!("reading variants {}", variants.display()))?;
        for e in examples {
            let find = |id: &String| wanted.get(id).copied().flatten();
            let (Some(anchor), positives) = (
                find(&e.anchor_id),
                e.positive_ids.iter().filter_map(find).collect::<Vec<_>>(),
            ) else {
                data.dropped += 1;
                continue;
            };
            if positives.is_empty() {
                data.dropped += 1;
                continue;
            }
            let negatives = e.negative_ids.iter().filter_map(find).collect();
            let text = match &e.summary {
                Some(s) if !s.trim().is_empty() => {
                    tracecode_py::edit::body_for_text_pair(&e.anchor_code)
                        .map(|body| {
                            Ok::<_, anyhow::Error>((tokenizer.ids(s)?, tokenizer.ids(&body)?))
                        })
                        .transpose()?
                }
                _ => None,
            };
            let example = Example {
                function_id: e.function_id,
                anchor,
                positives,
                negatives,
                text,
            };
            match e.split {
                Split::Train => data.train.push(example),
                Split::Validation => data.validation.push(example),
                Split::Test => data.test.push(example),
            }
        }
        Ok(data)
    }

    /// Examples per split in `pairs` (streamed): (train, validation).
    pub fn count(pairs: &Path) -> Result<(usize, usize)> {
        let (mut train, mut validation) = (0, 0);
        tracecode_data::io::for_each_row(pairs, |e: PairExample| {
            match e.split {
                Split::Train => train += 1,
                Split::Validation => validation += 1,
                Split::Test => {}
            }
            Ok(())
        })
        .with_context(|| format!("reading pairs {}", pairs.display()))?;
        Ok((train, validation))
    }
}
