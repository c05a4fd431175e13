//! The trace-equivalence rule: when do two programs behave the same on an input?
//!
//! A variant is compared with its original input by input. For one input the
//! two runs agree when, checked in this order:
//!
//! 1. **status** — both returned or both raised (any other ending, such as a
//!    timeout, event cap or crash, is a difference unless both ended that way);
//! 2. **return value** — both returned reprs are equal, after normalisation;
//! 3. **exception** — both raised exceptions of the same type, with the same
//!    message unless the variant renamed variables (messages quote names);
//! 4. **stdout** — printed output is equal;
//! 5. **values** — for every variable of the called function's own frame
//!    present on both sides (original names mapped through the variant's
//!    renames), its *value sequence* (the reprs it takes, consecutive repeats
//!    collapsed) ends on the same value on both sides, and one side's sequence
//!    is a subsequence of the other's. Comprehension variables are left out
//!    (Python scopes them to the comprehension; CPython 3.12+ only inlines
//!    them into the frame), and so are all values of an input on which either
//!    run's value log reached its cap (its end is missing, not different).
//!
//! Step 5 is what makes this a trace check and not only an output check: a
//! mutant that returns the right answer through a different intermediate
//! state (an off-by-one loop bound whose extra iteration adds zero, a dead
//! store of a wrong constant) is *different*. The subsequence allowance lets
//! rewrites that change how often a variable is rebound — a comprehension
//! turned into an accumulating loop shows `[]`, `[1]`, `[1, 4]` where the
//! comprehension showed only `[1, 4]` — still count as equivalent. Variables
//! present on one side only (a fresh loop iterator, dead code, a loop variable
//! that a comprehension scopes away) are ignored: their absence shows up in
//! the steps above whenever it matters.
//!
//! Normalisation: memory addresses (`0x7f…`) in reprs become `0x?`, and
//! function and generator reprs (`<function f.<locals>.g at …>`) lose their
//! names, which renaming legitimately changes.
//!
//! Inputs whose original run did not return or raise (it hit a limit on this
//! re-run) are skipped; a variant with no comparable input is undetermined.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;

use crate::schema::serde_name;
use crate::trace::{RunResult, RunStatus};
use crate::variant::{EquivalenceCheck, Rename};

/// The first difference between two runs of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub check: EquivalenceCheck,
    pub detail: String,
}

/// Outcome of comparing all inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Equivalent {
        inputs_compared: usize,
    },
    Different {
        input: usize,
        difference: Difference,
    },
    /// No input was comparable.
    Undetermined,
}

/// What the rule needs to know besides the runs.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    /// Original name → variant name of renamed parameters and locals.
    pub renames: Vec<Rename>,
    /// Names (original and variant side) whose values are not compared:
    /// comprehension variables.
    pub unscoped: HashSet<String>,
    /// The tracer's cap on value-log entries (`Limits::max_values`); a log this
    /// long was cut and its values are not compared.
    pub value_cap: usize,
}

impl Rule {
    pub fn new(renames: Vec<Rename>, unscoped: HashSet<String>, value_cap: usize) -> Self {
        Rule {
            renames,
            unscoped,
            value_cap,
        }
    }
}

/// Compares a variant's runs with the original's, input by input (`original[i]`
/// and `variant[i]` ran the same call).
pub fn judge<'a>(
    original: impl IntoIterator<Item = &'a RunResult>,
    variant: impl IntoIterator<Item = &'a RunResult>,
    rule: &Rule,
) -> Verdict {
    let mut compared = 0;
    for (i, (o, v)) in original.into_iter().zip(variant).enumerate() {
        if !matches!(o.status, RunStatus::Returned | RunStatus::Raised) {
            continue;
        }
        compared += 1;
        if let Err(difference) = compare_runs(o, v, rule) {
            return Verdict::Different {
                input: i,
                difference,
            };
        }
    }
    if compared == 0 {
        Verdict::Undetermined
    } else {
        Verdict::Equivalent {
            inputs_compared: compared,
        }
    }
}

/// Applies steps 1–5 of the rule to one input.
pub fn compare_runs(o: &RunResult, v: &RunResult, rule: &Rule) -> Result<(), Difference> {
    let differ = |check, detail: String| Err(Difference { check, detail });
    if o.status != v.status {
        return differ(
            EquivalenceCheck::Status,
            format!("{} vs {}", outcome(o), outcome(v)),
        );
    }
    match o.status {
        RunStatus::Returned => {
            let (a, b) = (
                normalize_repr(o.return_repr.as_deref().unwrap_or("")),
                normalize_repr(v.return_repr.as_deref().unwrap_or("")),
            );
            if !same_repr(&a, &b) {
                return differ(EquivalenceCheck::ReturnValue, format!("return {a} vs {b}"));
            }
        }
        RunStatus::Raised if o.exception_type != v.exception_type => {
            return differ(
                EquivalenceCheck::Exception,
                format!("{} vs {}", outcome(o), outcome(v)),
            );
        }
        // Messages quote variable names, so they are comparable only when the
        // variant renamed nothing (mutants, and rewrites without renaming).
        RunStatus::Raised
            if rule.renames.is_empty() && o.exception_message != v.exception_message =>
        {
            return differ(
                EquivalenceCheck::Exception,
                format!(
                    "{}: {:?} vs {:?}",
                    o.exception_type.as_deref().unwrap_or("?"),
                    clip(o.exception_message.as_deref().unwrap_or("")),
                    clip(v.exception_message.as_deref().unwrap_or(""))
                ),
            );
        }
        _ => {}
    }
    if o.stdout != v.stdout {
        return differ(
            EquivalenceCheck::Stdout,
            format!("stdout {:?} vs {:?}", clip(&o.stdout), clip(&v.stdout)),
        );
    }
    let capped = |r: &RunResult| rule.value_cap > 0 && r.values.len() >= rule.value_cap;
    if capped(o) || capped(v) {
        return Ok(());
    }
    let (ov, vv) = (value_sequences(o), value_sequences(v));
    let mut names: Vec<&String> = ov.keys().collect();
    names.sort();
    for name in names {
        let renamed = rule
            .renames
            .iter()
            .find(|r| &r.from == name)
            .map_or(name.as_str(), |r| r.to.as_str());
        if rule.unscoped.contains(name) || rule.unscoped.contains(renamed) {
            continue;
        }
        // Logs are keyed by name, and frames the call reaches at the same
        // depth (a context class' methods) keep their names: when the new
        // name is one the original already logs, the variant's log under it
        // mixes two variables and says nothing about this one.
        // Likewise when the variant still logs the old name: the original's
        // log under it mixed this variable with another frame's.
        if renamed != name.as_str() && (ov.contains_key(renamed) || vv.contains_key(name)) {
            continue;
        }
        let (Some(a), Some(b)) = (ov.get(name), vv.get(renamed)) else {
            continue;
        };
        let last_agrees = match (a.last(), b.last()) {
            (Some(x), Some(y)) => same_repr(x, y),
            (x, y) => x == y,
        };
        let agree = last_agrees && (is_subsequence(a, b) || is_subsequence(b, a));
        if !agree {
            return differ(
                EquivalenceCheck::Values,
                format!(
                    "{name}: {} vs {renamed}: {}",
                    show_sequence(a),
                    show_sequence(b)
                ),
            );
        }
    }
    Ok(())
}

fn outcome(r: &RunResult) -> String {
    match r.status {
        RunStatus::Returned => format!("return {}", r.return_repr.as_deref().unwrap_or("")),
        RunStatus::Raised => format!("raise {}", r.exception_type.as_deref().unwrap_or("?")),
        other => serde_name(&other),
    }
}

/// Per variable of the called function's own frame: its values in order,
/// consecutive repeats collapsed, reprs normalised.
pub fn value_sequences(r: &RunResult) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for w in &r.values {
        let depth = r.depths.get(w.step as usize).copied().unwrap_or(0);
        if depth != 0 {
            continue;
        }
        let value = normalize_repr(&w.repr);
        let seq = out.entry(w.name.clone()).or_default();
        if seq.last() != Some(&value) {
            seq.push(value);
        }
    }
    out
}

/// Removes what differs between equivalent programs but says nothing about
/// behaviour: object addresses and the names inside function/class reprs.
pub fn normalize_repr(repr: &str) -> String {
    static CALLABLE: LazyLock<Regex> = LazyLock::new(|| {
        // The tracer bounds reprs (`...` ends a cut one), so the cut may
        // fall anywhere in the name or in ` at 0x…>`.
        Regex::new(
            r"<(function|generator object|coroutine object|code object) \S+(?: a(?:t(?: [0-9a-fA-Fx]*)?)?)?>?",
        )
        .unwrap()
    });
    static ADDRESS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"0x[0-9a-fA-F]+").unwrap());
    // A cut repr keeps its `...`: `same_repr` then compares it as a prefix.
    let (body, cut) = match repr.strip_suffix("...") {
        Some(body) => (body.trim_end(), true),
        None => (repr, false),
    };
    let body = CALLABLE.replace_all(body, "<$1>");
    let mut out = ADDRESS.replace_all(&body, "0x?").into_owned();
    if cut {
        out.push_str("...");
    }
    out
}

fn is_subsequence(short: &[String], long: &[String]) -> bool {
    let mut it = long.iter();
    short.iter().all(|s| it.any(|l| same_repr(l, s)))
}

/// Whether two normalised reprs may show the same value: equal, or, when the
/// tracer cut one short (it then ends with `...`, at a width that depends on
/// the names inside), the cut text starts the other.
fn same_repr(a: &str, b: &str) -> bool {
    let cut = |s: &str| s.strip_suffix("...").map(str::to_owned);
    a == b
        || match (cut(a), cut(b)) {
            (Some(x), Some(y)) => x.starts_with(&y) || y.starts_with(&x),
            (Some(x), None) => b.starts_with(&x),
            (None, Some(y)) => a.starts_with(&y),
            (None, None) => false,
        }
}

fn show_sequence(seq: &[String]) -> String {
    let shown: Vec<&str> = seq.iter().take(4).map(|s| clip(s)).collect();
    let more = if seq.len() > 4 { ", …" } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::ValueWrite;

    fn run(ret: &str, values: &[(&str, &str)]) -> RunResult {
        RunResult {
            status: RunStatus::Returned,
            return_repr: Some(ret.into()),
            lines: vec![1; values.len().max(1)],
            depths: vec![0; values.len().max(1)],
            values: values
                .iter()
                .enumerate()
                .map(|(i, (n, r))| ValueWrite {
                    step: i as u32,
                    name: n.to_string(),
                    repr: r.to_string(),
                    type_name: "int".into(),
                })
                .collect(),
            ..Default::default()
        }
    }

    fn rename(from: &str, to: &str) -> Rename {
        Rename {
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn renamed_variables_with_the_same_values_are_equivalent() {
        let o = run("3", &[("xs", "[1, 2]"), ("s", "0"), ("s", "1"), ("s", "3")]);
        let v = run(
            "3",
            &[("v0", "[1, 2]"), ("v1", "0"), ("v1", "1"), ("v1", "3")],
        );
        let renames = [rename("xs", "v0"), rename("s", "v1")];
        assert_eq!(
            judge(&[o], &[v], &Rule::new(renames.to_vec(), HashSet::new(), 0)),
            Verdict::Equivalent { inputs_compared: 1 }
        );
    }

    #[test]
    fn a_new_name_the_original_already_logs_is_not_compared() {
        // `b -> seq`, `cruncher -> b`; a helper reached at the same depth
        // keeps its own parameter `b`, so the variant's `b` log mixes it
        // with the renamed `cruncher`.
        let o = run(
            "1",
            &[
                ("b", "[1]"),
                ("b", "[1]"),
                ("cruncher", "<M>"),
                ("b", "[1]"),
            ],
        );
        let v = run(
            "1",
            &[("seq", "[1]"), ("b", "[1]"), ("b", "<M>"), ("b", "[1]")],
        );
        let renames = vec![rename("b", "seq"), rename("cruncher", "b")];
        assert!(compare_runs(&o, &v, &Rule::new(renames, HashSet::new(), 0)).is_ok());
        // The mirror case: the original's `path` log mixes a helper's `path`,
        // which the variant still logs under that name.
        let o2 = run("1", &[("path", "'b/d'"), ("path", "'b'")]);
        let v2 = run("1", &[("v0", "'b/d'"), ("path", "'b'")]);
        let renames = vec![rename("path", "v0")];
        assert!(compare_runs(&o2, &v2, &Rule::new(renames, HashSet::new(), 0)).is_ok());
        // A fresh new name is still compared.
        let v = run("1", &[("seq", "[1]"), ("m", "<N>")]);
        let renames = vec![rename("b", "seq"), rename("cruncher", "m")];
        let diff = compare_runs(&o, &v, &Rule::new(renames, HashSet::new(), 0)).unwrap_err();
        assert_eq!(diff.check, EquivalenceCheck::Values);
    }

    #[test]
    fn same_output_through_different_state_is_different() {
        // An off-by-one bound whose extra step adds 0: same return, other states.
        let o = run("3", &[("s", "0"), ("s", "1"), ("s", "3")]);
        let v = run("3", &[("s", "0"), ("s", "2"), ("s", "3")]);
        match judge(&[o], &[v], &Rule::default()) {
            Verdict::Different { input, difference } => {
                assert_eq!(input, 0);
                assert_eq!(difference.check, EquivalenceCheck::Values);
                assert_eq!(difference.detail, "s: [0, 1, 3] vs s: [0, 2, 3]");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn intermediate_states_may_be_skipped_but_not_changed() {
        let loop_version = run("[1, 4]", &[("r", "[]"), ("r", "[1]"), ("r", "[1, 4]")]);
        let comprehension = run("[1, 4]", &[("r", "[1, 4]")]);
        assert!(compare_runs(&loop_version, &comprehension, &Rule::default()).is_ok());
        assert!(compare_runs(&comprehension, &loop_version, &Rule::default()).is_ok());
        let wrong_end = run("[1, 4]", &[("r", "[]"), ("r", "[1]")]);
        assert!(compare_runs(&loop_version, &wrong_end, &Rule::default()).is_err());
    }

    #[test]
    fn outcomes_are_checked_before_values() {
        let o = run("3", &[]);
        let v = run("4", &[]);
        let d = compare_runs(&o, &v, &Rule::default()).unwrap_err();
        assert_eq!(d.check, EquivalenceCheck::ReturnValue);
        assert_eq!(d.detail, "return 3 vs 4");
        let mut raised = run("", &[]);
        raised.status = RunStatus::Raised;
        raised.exception_type = Some("ZeroDivisionError".into());
        assert_eq!(
            compare_runs(&o, &raised, &Rule::default())
                .unwrap_err()
                .check,
            EquivalenceCheck::Status
        );
        let mut timeout = run("", &[]);
        timeout.status = RunStatus::Timeout;
        assert_eq!(
            compare_runs(&o, &timeout, &Rule::default())
                .unwrap_err()
                .detail,
            "return 3 vs timeout"
        );
        let mut printed = run("3", &[]);
        printed.stdout = "hi\n".into();
        assert_eq!(
            compare_runs(&o, &printed, &Rule::default())
                .unwrap_err()
                .check,
            EquivalenceCheck::Stdout
        );
    }

    #[test]
    fn exception_messages_count_unless_names_changed() {
        let mut a = run("", &[]);
        a.status = RunStatus::Raised;
        a.exception_type = Some("NameError".into());
        a.exception_message = Some("name 'x' is not defined".into());
        let mut b = a.clone();
        b.exception_message = Some("name 'v0' is not defined".into());
        let renamed = Rule::new(vec![rename("x", "v0")], HashSet::new(), 0);
        assert!(compare_runs(&a, &b, &renamed).is_ok());
        // Without renaming, a different message is a different behaviour.
        assert_eq!(
            compare_runs(&a, &b, &Rule::default()).unwrap_err().check,
            EquivalenceCheck::Exception
        );
        b.exception_type = Some("TypeError".into());
        assert_eq!(
            compare_runs(&a, &b, &renamed).unwrap_err().check,
            EquivalenceCheck::Exception
        );
    }

    #[test]
    fn nested_frames_and_incomparable_inputs_are_ignored() {
        let mut o = run("1", &[("x", "1")]);
        o.depths = vec![1];
        let v = run("1", &[("x", "2")]);
        assert!(compare_runs(&o, &v, &Rule::default()).is_ok());
        let mut limited = run("", &[]);
        limited.status = RunStatus::EventLimit;
        assert_eq!(
            judge(&[limited.clone()], &[limited], &Rule::default()),
            Verdict::Undetermined
        );
    }

    #[test]
    fn comprehension_variables_and_capped_logs_are_not_compared() {
        let o = run("[2]", &[("x", "1"), ("r", "[2]")]);
        let v = run("[2]", &[("x", "5"), ("r", "[2]")]);
        assert!(compare_runs(&o, &v, &Rule::default()).is_err());
        let unscoped = HashSet::from(["x".to_string()]);
        assert!(compare_runs(&o, &v, &Rule::new(vec![], unscoped, 0)).is_ok());
        // A log at the cap lost its end: no value verdict on it.
        assert!(compare_runs(&o, &v, &Rule::new(vec![], HashSet::new(), 2)).is_ok());
    }

    #[test]
    fn addresses_and_callable_names_are_normalised() {
        assert_eq!(
            normalize_repr("<function f.<locals>.helper at 0x7f3a2b>"),
            "<function>"
        );
        // Cut by the tracer's repr bound.
        assert_eq!(
            normalize_repr("<function modified_encode.<locals>.ctr_e..."),
            "<function>..."
        );
        assert_eq!(
            normalize_repr("[<function f.<locals>.factory at 0..."),
            "[<function>..."
        );
        // Reprs cut at widths that depend on the names inside.
        assert!(same_repr("(<function>,...", "(<function>, <function>)"));
        assert!(same_repr(
            "<code object>, file \"<t>\", li...",
            "<code object>, file \"<t>\", ..."
        ));
        assert!(!same_repr("[1, 2, 3...", "[1, 2, 4, 5]"));
        assert!(!same_repr("[1, 2]", "[1, 3]"));
        // Two names of different lengths cut at the same width.
        assert_eq!(
            normalize_repr("<function encode.<locals>.transform a..."),
            normalize_repr("<function encode.<locals>.replace at 0x7..."),
        );
        assert_eq!(
            normalize_repr("<function encode.<locals>.transform a..."),
            "<function>..."
        );
        assert_eq!(
            normalize_repr("<function f.<locals>.myreplace ..."),
            "<function>..."
        );
        assert_eq!(
            normalize_repr("<code object func at 0x7f1, file \"<tracecode>\", line 3>"),
            "<code object>, file \"<tracecode>\", line 3>"
        );
        assert_eq!(
            normalize_repr("[<object object at 0x7fAB12>]"),
            "[<object object at 0x?>]"
        );
    }
}
