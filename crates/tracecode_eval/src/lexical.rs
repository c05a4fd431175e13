//! Lexical baselines: a code-aware tokenizer, Okapi BM25 and TF-IDF.
//!
//! BM25 and TF-IDF are hand-written rather than taken from a crate: the
//! crates found (e.g. `bm25`) bundle their own natural-language tokenizer,
//! stemming and hashed term ids, while a baseline here must score *our*
//! token lists with a documented formula. Each is a few dozen lines and tested
//! against hand-computed values.

use std::collections::HashMap;

/// Splits source code into lower-cased sub-word tokens.
///
/// Identifiers are split so that `maxRetries`, `max_retries` and
/// `MAX_RETRIES` share the tokens `max`, `retries`: runs of alphanumeric
/// characters are cut at lower→upper case changes (`getValue`), at the end of
/// an acronym (`HTTPServer` → `http`, `server`) and between letters and digits
/// (`v2` → `v`, `2`); everything else (underscores, operators, whitespace,
/// quotes) separates tokens and is dropped. Words inside strings and comments
/// are kept, as they carry much of the natural-language signal.
///
/// Python keywords are *kept*: BM25's and TF-IDF's idf already discount
/// ubiquitous ones (`def`, `return`), while rarer ones (`yield`, `lambda`,
/// `async`, `with`) do distinguish programs.
pub fn code_tokens(source: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for run in source
        .split(|c: char| !c.is_alphanumeric())
        .filter(|r| !r.is_empty())
    {
        let chars: Vec<char> = run.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, cur) = (chars[i - 1], chars[i]);
            let digit_change = prev.is_numeric() != cur.is_numeric();
            let camel = !prev.is_uppercase() && !prev.is_numeric() && cur.is_uppercase();
            let acronym_end = prev.is_uppercase()
                && cur.is_uppercase()
                && chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if digit_change || camel || acronym_end {
                tokens.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        tokens.push(chars[start..].iter().collect::<String>().to_lowercase());
    }
    tokens
}

/// Interns terms as dense ids.
fn term_ids(docs: &[Vec<String>]) -> (HashMap<&str, usize>, Vec<Vec<usize>>) {
    let mut vocab: HashMap<&str, usize> = HashMap::new();
    let ids = docs
        .iter()
        .map(|d| {
            d.iter()
                .map(|t| {
                    let next = vocab.len();
                    *vocab.entry(t.as_str()).or_insert(next)
                })
                .collect()
        })
        .collect();
    (vocab, ids)
}

/// Okapi BM25 over a fixed document collection.
#[derive(Debug, Clone)]
pub struct Bm25 {
    vocab: HashMap<String, usize>,
    /// Per term: (document, term frequency) for documents containing it.
    postings: Vec<Vec<(usize, f64)>>,
    idf: Vec<f64>,
    /// Per document: `k1 · (1 − b + b · |D| / avgdl)`, the length-normalised
    /// saturation constant.
    norm: Vec<f64>,
    k1: f64,
}

impl Bm25 {
    /// Indexes `docs` (token lists, e.g. from [`code_tokens`]). Usual
    /// parameters are `k1 = 1.2`, `b = 0.75`.
    ///
    /// idf is Lucene's non-negative variant `ln(1 + (N − df + 0.5)/(df + 0.5))`,
    /// so a term present in most documents still scores ≥ 0.
    pub fn new(docs: &[Vec<String>], k1: f64, b: f64) -> Self {
        let (vocab, ids) = term_ids(docs);
        let n = docs.len() as f64;
        let total_len: usize = docs.iter().map(Vec::len).sum();
        let avgdl = total_len as f64 / n.max(1.0);
        let mut postings: Vec<Vec<(usize, f64)>> = vec![Vec::new(); vocab.len()];
        for (d, doc) in ids.iter().enumerate() {
            let mut tf: HashMap<usize, f64> = HashMap::new();
            for &t in doc {
                *tf.entry(t).or_insert(0.0) += 1.0;
            }
            for (t, f) in tf {
                postings[t].push((d, f));
            }
        }
        let idf = postings
            .iter()
            .map(|p| {
                let df = p.len() as f64;
                (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
            })
            .collect();
        // A document of length 0 has no postings, so avgdl = 0 never divides
        // anything that is used.
        let norm = docs
            .iter()
            .map(|d| k1 * (1.0 - b + b * d.len() as f64 / avgdl))
            .collect();
        let vocab = vocab.into_iter().map(|(t, i)| (t.to_owned(), i)).collect();
        Bm25 {
            vocab,
            postings,
            idf,
            norm,
            k1,
        }
    }

    /// BM25 score of every document for `query`:
    /// Σ_{q ∈ query} idf(q) · tf·(k1 + 1) / (tf + k1·(1 − b + b·|D|/avgdl)).
    /// A repeated query term counts once per occurrence (as in Lucene and
    /// `rank_bm25`); terms unseen in the collection contribute nothing.
    pub fn scores(&self, query: &[String]) -> Vec<f64> {
        let mut scores = vec![0.0; self.norm.len()];
        for term in query {
            let Some(&t) = self.vocab.get(term) else {
                continue;
            };
            for &(d, tf) in &self.postings[t] {
                scores[d] += self.idf[t] * tf * (self.k1 + 1.0) / (tf + self.norm[d]);
            }
        }
        scores
    }
}

/// A sparse, L2-normalised TF-IDF vector: `(term id, weight)` sorted by id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseVec(Vec<(u32, f32)>);

/// TF-IDF weighting fitted on a document collection.
///
/// Weights follow scikit-learn's `TfidfVectorizer` defaults: raw term count
/// times smoothed idf `ln((1 + N)/(1 + df)) + 1`, then L2 normalisation.
/// Term ids are assigned by descending document frequency (ties in term
/// order), so the first `dim` ids are the `dim` most common terms and
/// [`to_dense`] keeps exactly those: a vocabulary capped to the top-N terms,
/// which keeps the probe's baseline features interpretable (unlike feature
/// hashing, no two terms share a column).
#[derive(Debug, Clone)]
pub struct TfIdf {
    vocab: HashMap<String, u32>,
    idf: Vec<f64>,
}

impl TfIdf {
    /// Learns the vocabulary and idf of `docs`.
    pub fn fit(docs: &[Vec<String>]) -> Self {
        let mut df: HashMap<&str, usize> = HashMap::new();
        for doc in docs {
            let mut seen: Vec<&str> = doc.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                *df.entry(t).or_insert(0) += 1;
            }
        }
        let mut terms: Vec<(&str, usize)> = df.into_iter().collect();
        terms.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let n = docs.len() as f64;
        let idf = terms
            .iter()
            .map(|&(_, d)| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0)
            .collect();
        let vocab = terms
            .iter()
            .enumerate()
            .map(|(i, &(t, _))| (t.to_owned(), i as u32))
            .collect();
        TfIdf { vocab, idf }
    }

    /// Number of distinct terms seen by [`TfIdf::fit`].
    pub fn vocab_len(&self) -> usize {
        self.idf.len()
    }

    /// The L2-normalised TF-IDF vector of `doc`; terms not seen in fitting
    /// are ignored (an all-unknown document gives the empty vector).
    pub fn transform(&self, doc: &[String]) -> SparseVec {
        let mut counts: HashMap<u32, f64> = HashMap::new();
        for t in doc {
            if let Some(&id) = self.vocab.get(t) {
                *counts.entry(id).or_insert(0.0) += 1.0;
            }
        }
        let mut entries: Vec<(u32, f64)> = counts
            .into_iter()
            .map(|(id, c)| (id, c * self.idf[id as usize]))
            .collect();
        entries.sort_unstable_by_key(|e| e.0);
        let norm = entries.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
        SparseVec(
            entries
                .into_iter()
                .map(|(id, w)| (id, (w / norm) as f32))
                .collect(),
        )
    }
}

/// Cosine similarity of two TF-IDF vectors (their dot product, as both are
/// unit length); 0 when either is empty.
pub fn cosine(a: &SparseVec, b: &SparseVec) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.0.len() && j < b.0.len() {
        match a.0[i].0.cmp(&b.0[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += f64::from(a.0[i].1) * f64::from(b.0[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// Dense features from a TF-IDF vector: the weights of the `dim` most
/// document-frequent terms (ids `< dim`), zero elsewhere. Weights are not
/// re-normalised; the probe standardises its features anyway.
pub fn to_dense(v: &SparseVec, dim: usize) -> Vec<f32> {
    let mut dense = vec![0.0; dim];
    for &(id, w) in v.0.iter().take_while(|e| (e.0 as usize) < dim) {
        dense[id as usize] = w;
    }
    dense
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn code_tokens_split_identifiers() {
        let t =
            code_tokens("def getHTTPResponse2(self, max_retries=3): return parse_v2_JSON(x) # ok");
        assert_eq!(
            t,
            [
                "def", "get", "http", "response", "2", "self", "max", "retries", "3", "return",
                "parse", "v", "2", "json", "x", "ok"
            ]
        );
        assert_eq!(
            code_tokens("MAX_RETRIES maxRetries"),
            ["max", "retries", "max", "retries"]
        );
        assert!(code_tokens(" += ()").is_empty());
    }

    #[test]
    fn bm25_hand_computed() {
        // d0 = a b, d1 = a c c, d2 = d; N = 3, avgdl = 2, k1 = 1.2, b = 0.75.
        // idf(a) = ln(1 + 1.5/2.5) = ln 1.6 = 0.4700036; idf(c) = ln(1 + 2.5/1.5) = ln(8/3) = 0.9808293
        // d0: |D| = 2 -> K = 1.2;  a: 0.4700036 · 2.2/(1 + 1.2)            = 0.4700036
        // d1: |D| = 3 -> K = 1.2 · (0.25 + 0.75 · 1.5) = 1.65
        //     a: 0.4700036 · 2.2/2.65 = 0.3901917;  c: 0.9808293 · 4.4/3.65 = 1.1823695 -> 1.5725612
        // d2: 0
        let docs = [toks("a b"), toks("a c c"), toks("d")];
        let s = Bm25::new(&docs, 1.2, 0.75).scores(&toks("a c zzz"));
        let expected = [0.4700036, 1.5725612, 0.0];
        for (got, want) in s.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{s:?}");
        }
    }

    #[test]
    fn tfidf_cosine_identical_and_disjoint() {
        let docs = [toks("a b b c"), toks("a d"), toks("e f")];
        let m = TfIdf::fit(&docs);
        let v: Vec<SparseVec> = docs.iter().map(|d| m.transform(d)).collect();
        assert!((cosine(&v[0], &m.transform(&toks("c b a b"))) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&v[0], &v[2]), 0.0);
        assert_eq!(cosine(&v[0], &m.transform(&toks("unknown"))), 0.0);
    }

    #[test]
    fn tfidf_weights_hand_computed() {
        // N = 2; df(a) = 2, df(b) = 1. idf(a) = ln(3/3) + 1 = 1, idf(b) = ln(3/2) + 1 = 1.4054651.
        // doc "a b b": (1·1, 2·1.4054651) = (1, 2.8109302), norm 2.9835095
        // -> a: 0.3351757, b: 0.9421556. Ids by df: a = 0, b = 1.
        let docs = [toks("a b b"), toks("a")];
        let m = TfIdf::fit(&docs);
        assert_eq!(m.vocab_len(), 2);
        let v = m.transform(&docs[0]);
        let d = to_dense(&v, 2);
        assert!(
            (d[0] - 0.3351757).abs() < 1e-6 && (d[1] - 0.9421556).abs() < 1e-6,
            "{d:?}"
        );
        // Capping to the single most frequent term keeps only `a`.
        assert_eq!(to_dense(&v, 1), [d[0]]);
        assert_eq!(to_dense(&v, 3)[2], 0.0);
    }
}
