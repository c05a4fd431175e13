//! Docstring handling: `inspect.cleandoc`, CodeSage-style summaries, doctest calls.

use std::sync::LazyLock;

use regex::Regex;
use tracecode_data::ExampleCall;

/// `inspect.cleandoc`: strip the first line, dedent the rest by their common
/// indentation, and drop blank lines at both ends.
pub fn cleandoc(doc: &str) -> String {
    let expanded = doc.replace('\t', "        ");
    let mut lines: Vec<&str> = expanded.lines().collect();
    if lines.is_empty() {
        return String::new();
    }
    let indent = lines[1..]
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let first = lines[0].trim_start().to_string();
    let mut out: Vec<String> = vec![first];
    for l in lines.drain(1..) {
        out.push(if l.len() >= indent {
            l[indent..].trim_end().to_string()
        } else {
            l.trim().to_string()
        });
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

static URL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(https?|ftp)://\S+|www\.\S+").unwrap());
static HTML_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"</?[A-Za-z][^<>]*>").unwrap());
/// Field lists and tags that mark the end of the prose (Sphinx, Epytext, Google, NumPy styles).
static DOC_TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(:(param|parameter|arg|argument|key|keyword|type|raises?|returns?|rtype|yields?|var|ivar|cvar)\b|@(param|return|rtype|raise|type)\b|(Args|Arguments|Parameters|Returns|Yields|Raises|Examples?|Notes?|Attributes|See Also)\s*:?\s*$|-{3,}\s*$|>>>)").unwrap()
});
static SENTENCE_END: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[.!?](\s|$)").unwrap());
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").unwrap());

/// Smallest and largest summary length in whitespace tokens (CodeSage's filter).
const MIN_SUMMARY_TOKENS: usize = 3;
const MAX_SUMMARY_TOKENS: usize = 256;

/// The first sentence of a cleaned docstring, or `None` when it fails the
/// filters: not English-looking, fewer than 3 or more than 256 tokens, or only
/// tags/doctests. URLs and HTML tags are removed first.
pub fn summary(doc: &str) -> Option<String> {
    // Prose ends at the first blank line or the first tag line.
    let mut para = String::new();
    for line in doc.lines() {
        if line.trim().is_empty() || DOC_TAG.is_match(line) {
            break;
        }
        para.push_str(line.trim());
        para.push(' ');
    }
    let para = HTML_TAG
        .replace_all(&URL.replace_all(&para, ""), "")
        .to_string();
    let para = SPACES.replace_all(para.trim(), " ").to_string();
    let sentence = match SENTENCE_END.find(&para) {
        Some(m) => para[..m.start() + 1].to_string(),
        None => para,
    };
    let sentence = sentence.trim().to_string();
    let tokens = sentence.split_whitespace().count();
    if !(MIN_SUMMARY_TOKENS..=MAX_SUMMARY_TOKENS).contains(&tokens) || !looks_english(&sentence) {
        return None;
    }
    Some(sentence)
}

/// At least 90% of the letters are ASCII and at least half the characters are letters or spaces.
fn looks_english(text: &str) -> bool {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return false;
    }
    let ascii = letters.iter().filter(|c| c.is_ascii()).count();
    let wordy = text
        .chars()
        .filter(|c| c.is_alphabetic() || *c == ' ')
        .count();
    ascii * 10 >= letters.len() * 9 && wordy * 2 >= text.chars().count()
}

/// Doctest examples (`>>>` with `...` continuations) that mention `name(`, with
/// their expected output when one is given.
pub fn doctest_calls(doc: &str, name: &str) -> Vec<ExampleCall> {
    let needle = format!("{name}(");
    let mut out = Vec::new();
    let lines: Vec<&str> = doc.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let Some(first) = lines[i].trim_start().strip_prefix(">>>") else {
            i += 1;
            continue;
        };
        let indent = lines[i].len() - lines[i].trim_start().len();
        let mut source = first.strip_prefix(' ').unwrap_or(first).to_string();
        i += 1;
        while i < lines.len() {
            match lines[i].trim_start().strip_prefix("...") {
                Some(rest) if lines[i].len() - lines[i].trim_start().len() == indent => {
                    source.push('\n');
                    source.push_str(rest.strip_prefix(' ').unwrap_or(rest));
                    i += 1;
                }
                _ => break,
            }
        }
        let mut expected: Vec<&str> = Vec::new();
        while i < lines.len()
            && !lines[i].trim().is_empty()
            && !lines[i].trim_start().starts_with(">>>")
        {
            let line = lines[i];
            expected.push(if line.len() >= indent {
                &line[indent..]
            } else {
                line.trim_start()
            });
            i += 1;
        }
        let source = source.trim_end().to_string();
        if source.contains(&needle) {
            let expected = (!expected.is_empty()).then(|| expected.join("\n"));
            out.push(ExampleCall {
                call: source,
                expected,
                origin: "doctest".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleandoc_matches_inspect() {
        // inspect.cleandoc('''Sum two.\n\n    Longer text\n      indented\n    ''')
        assert_eq!(
            cleandoc("Sum two.\n\n    Longer text\n      indented\n    "),
            "Sum two.\n\nLonger text\n  indented"
        );
        assert_eq!(cleandoc("\n    Only body.\n    "), "Only body.");
    }

    #[test]
    fn summary_takes_first_sentence_and_strips_noise() {
        assert_eq!(
            summary("Return the <b>sum</b> of two numbers. See https://x.org for more.\n\nArgs:\n  a: first").as_deref(),
            Some("Return the sum of two numbers.")
        );
        assert_eq!(
            summary("Split a string\ninto words on whitespace").as_deref(),
            Some("Split a string into words on whitespace")
        );
    }

    #[test]
    fn summary_filters_short_tagged_and_non_english() {
        assert_eq!(summary("Helper."), None, "fewer than 3 tokens");
        assert_eq!(
            summary(":param x: the value\n:returns: y"),
            None,
            "only tags"
        );
        assert_eq!(summary(">>> f(1)\n2"), None, "only doctest");
        assert_eq!(
            summary("Вычислить сумму двух чисел быстро."),
            None,
            "not English"
        );
        let long = "word ".repeat(300);
        assert_eq!(summary(&long), None, "over 256 tokens");
    }

    #[test]
    fn doctest_calls_with_continuations_and_outputs() {
        let doc = "Add.\n\n>>> add(1, 2)\n3\n>>> add([1],\n...     [2])\n[1, 2]\n>>> x = 5\n>>> add(x, 1); print('done')\ndone\n\n>>> add(0, 0)\n";
        let calls = doctest_calls(doc, "add");
        assert_eq!(calls.len(), 4);
        assert_eq!(
            calls[0],
            ExampleCall {
                call: "add(1, 2)".into(),
                expected: Some("3".into()),
                origin: "doctest".into()
            }
        );
        assert_eq!(calls[1].call, "add([1],\n    [2])");
        assert_eq!(calls[1].expected.as_deref(), Some("[1, 2]"));
        assert_eq!(calls[3].expected, None);
    }

    #[test]
    fn doctest_keeps_relative_indentation_of_output() {
        let doc = "    >>> show(1)\n    a\n      b\n";
        let calls = doctest_calls(doc, "show");
        assert_eq!(calls[0].expected.as_deref(), Some("a\n  b"));
    }
}
