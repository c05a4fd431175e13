//! What a run did, comparably across programs: canonical runs (inputs drawn
//! from a type signature alone, shared by every function with that
//! signature) keyed by their arguments, each with its outcome. Mining
//! (`tracecode mine`), the behaviour-only evaluation row and the trace
//! encoder's behaviour tokens all read them from here.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::equivalence::normalize_repr;
use crate::trace::{RunResult, RunStatus, TraceRecord};

/// The stored strategy of runs on canonical inputs.
pub const CANONICAL: &str = "canonical";

/// Input key (a canonical call's arguments) → outcome, for every canonical
/// run of `r` whose call parses.
pub fn canonical_outcomes(r: &TraceRecord) -> BTreeMap<String, String> {
    let method = is_method_def(&r.code);
    r.runs
        .iter()
        .filter(|run| run.strategy == CANONICAL)
        .filter_map(|run| Some((input_key(&run.call, method)?, outcome(&run.result))))
        .collect()
}

/// Whether `code` is a def whose first parameter is `self` or `cls` (its
/// canonical calls pass `None` or a fresh `Class()` there, which is no part
/// of the input).
fn is_method_def(code: &str) -> bool {
    static DEF: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^\s*(?:async\s+)?def\s+\w+\s*\(\s*(?:self|cls)\b").expect("valid regex")
    });
    DEF.is_match(code)
}

/// The arguments of a canonical call, which every function with the same
/// signature shares: the text inside `name(...)`, without a method's
/// receiver (`None` or `Class()`).
fn input_key(call: &str, method: bool) -> Option<String> {
    let open = call.find('(')?;
    let args = call[open + 1..].strip_suffix(')')?;
    if !method {
        return Some(args.to_string());
    }
    let end = if args.starts_with("None") {
        4
    } else {
        let class_end = args.find("()")?;
        if !args[..class_end]
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_')
        {
            return None;
        }
        class_end + 2
    };
    match &args[end..] {
        "" => Some(String::new()),
        rest => rest.strip_prefix(", ").map(str::to_string),
    }
}

/// How a run ended, comparably across programs: the normalised return value
/// or the exception type; for a call that returns `None`, also the final
/// value of each container argument (by position) it changed — its result
/// (an in-place sort, a reversed list). A call that returns a value is
/// judged by it: sorting an argument on the way is a side effect.
pub fn outcome(r: &RunResult) -> String {
    let mut out = match r.status {
        RunStatus::Returned => format!(
            "return {}",
            normalize_repr(r.return_repr.as_deref().unwrap_or(""))
        ),
        RunStatus::Raised => format!("raise {}", r.exception_type.as_deref().unwrap_or("?")),
        other => crate::serde_name(&other),
    };
    if out == "return None" {
        for (position, changed) in mutated_arguments(r) {
            out.push_str(&format!("; arg{position} -> {changed}"));
        }
    }
    out
}

/// Container arguments whose value at the end of the call differs from their
/// value on entry, by position. Arguments are the first values the called
/// frame writes (all on its first line event), in parameter order.
fn mutated_arguments(r: &RunResult) -> Vec<(usize, String)> {
    let depth = |step: u32| r.depths.get(step as usize).copied().unwrap_or(0);
    let own: Vec<_> = r.values.iter().filter(|w| depth(w.step) == 0).collect();
    let Some(first) = own.first().map(|w| w.step) else {
        return vec![];
    };
    let arguments: Vec<_> = own.iter().take_while(|w| w.step == first).collect();
    arguments
        .iter()
        .enumerate()
        .filter(|(_, a)| matches!(a.type_name.as_str(), "list" | "dict" | "set" | "bytearray"))
        .filter_map(|(position, a)| {
            let last = own.iter().rev().find(|w| w.name == a.name)?;
            (last.type_name == a.type_name && last.repr != a.repr)
                .then(|| (position, normalize_repr(&last.repr)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValueWrite;

    #[test]
    fn input_keys_drop_the_method_self() {
        assert_eq!(
            input_key("f([1, 2], 3)", false).as_deref(),
            Some("[1, 2], 3")
        );
        assert_eq!(
            input_key("twoSum(None, [1, 2], 3)", true).as_deref(),
            Some("[1, 2], 3")
        );
        assert_eq!(input_key("g(None)", true).as_deref(), Some(""));
        assert_eq!(
            input_key("twoSum(Solution(), [1, 2], 3)", true).as_deref(),
            Some("[1, 2], 3")
        );
        assert!(is_method_def("def twoSum(self, nums, target):\n    pass\n"));
        assert!(!is_method_def("def two_sum(nums, target):\n    pass\n"));
    }

    #[test]
    fn outcomes_include_changed_container_arguments() {
        let w = |step, name: &str, repr: &str, ty: &str| ValueWrite {
            step,
            name: name.into(),
            repr: repr.into(),
            type_name: ty.into(),
        };
        // def f(xs, k): xs.append(k)  — called f([1], 2)
        let r = RunResult {
            status: RunStatus::Returned,
            return_repr: Some("None".into()),
            lines: vec![2, 2],
            depths: vec![0, 0],
            values: vec![
                w(0, "xs", "[1]", "list"),
                w(0, "k", "2", "int"),
                w(1, "xs", "[1, 2]", "list"),
            ],
            ..Default::default()
        };
        assert_eq!(outcome(&r), "return None; arg0 -> [1, 2]");
        let raised = RunResult {
            status: RunStatus::Raised,
            exception_type: Some("IndexError".into()),
            ..Default::default()
        };
        assert_eq!(outcome(&raised), "raise IndexError");
    }
}
