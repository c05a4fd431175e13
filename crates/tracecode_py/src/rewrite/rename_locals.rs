//! Consistent renaming of parameters and locals to other natural names, so
//! that an encoder cannot lean on the original identifiers.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::scope::renamable;
use super::{renaming_note, Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction};

/// Plausible variable names, the pool new names are drawn from.
const VARIABLE_NAMES: &[&str] = &[
    "value", "items", "count", "result", "total", "idx", "acc", "buf", "node", "text", "data",
    "key", "item", "elem", "num", "val", "res", "out", "tmp", "cur", "prev", "left", "right", "lo",
    "hi", "mid", "size", "length", "seq", "arr", "parts", "line", "word", "chars", "pos", "start",
    "end", "step", "flag", "found", "best", "score", "entry", "record", "obj", "arg", "src", "dst",
    "target", "source", "mapping", "table", "cache", "seen", "queue", "stack", "head", "tail",
    "first", "last", "offset", "limit", "width", "height", "label", "token", "pair", "counter",
    "index", "state", "current", "output", "values", "elements", "number", "amount", "memo", "row",
    "col", "x", "y", "z", "n", "m", "k", "i", "j", "s", "t", "a", "b",
];

/// Plausible names for nested functions.
const FUNCTION_NAMES: &[&str] = &[
    "helper",
    "inner",
    "visit",
    "walk",
    "process",
    "handle",
    "compute",
    "check",
    "build",
    "make",
    "recurse",
    "worker",
    "transform",
    "convert",
    "collect",
    "update",
    "score_of",
    "key_of",
];

pub struct RenameLocals;

impl Rewrite for RenameLocals {
    fn kind(&self) -> RewriteKind {
        RewriteKind::RenameLocals
    }

    fn apply(&self, f: &ParsedFunction, rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let mut r = renamable(f)?;
        if r.names.is_empty() {
            return Err(EditError::NotApplicable("no local names to rename".into()));
        }
        let mut variable_pool = VARIABLE_NAMES.to_vec();
        let mut function_pool = FUNCTION_NAMES.to_vec();
        variable_pool.shuffle(rng);
        function_pool.shuffle(rng);
        let mut renames = Vec::new();
        for (name, is_function) in &r.names {
            let pool = if *is_function {
                &function_pool
            } else {
                &variable_pool
            };
            let new = match pool.iter().find(|candidate| r.taken.claim(candidate)) {
                Some(free) => free.to_string(),
                // Pool used up: suffix a pool name instead.
                None => r.taken.fresh(&format!("{}_", pool[0])),
            };
            renames.push((name.clone(), new));
        }
        let new_name: HashMap<String, String> = renames.iter().cloned().collect();
        let code = apply_edits(f.source, r.edits(&new_name))?;
        renames.retain(|(old, new)| old != new);
        let note = renaming_note(&renames);
        Ok(Rewritten {
            code,
            renames,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rename(src: &str, seed: u64) -> Result<Rewritten, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        RenameLocals.apply(&pf, &mut ChaCha8Rng::seed_from_u64(seed))
    }

    #[test]
    fn renames_consistently_and_deterministically() {
        let src = "def area(width, height=2):\n    # width * height\n    size = width * height\n    return {'size': size, 'w': width.real}\n";
        let out = rename(src, 7).unwrap();
        assert_eq!(out, rename(src, 7).unwrap());
        let new: HashMap<&str, &str> = out
            .renames
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let expected = format!(
            "def area({w}, {h}=2):\n    # width * height\n    {s} = {w} * {h}\n    return {{'size': {s}, 'w': {w}.real}}\n",
            w = new["width"],
            h = new["height"],
            s = new["size"]
        );
        assert_eq!(out.code, expected);
        // New names avoid every word already in the code, builtins included.
        for fresh in new.values() {
            assert!(!["width", "height", "size", "w", "real", "area"].contains(fresh));
        }
        assert_ne!(rename(src, 8).unwrap().code, out.code);
    }

    #[test]
    fn nested_shadowing_keeps_scopes_apart() {
        let src = "def f(x):\n    g = lambda x: x + 1\n    return g(x) + y\n";
        let out = rename(src, 1).unwrap();
        let new: HashMap<&str, &str> = out
            .renames
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let (x, g) = (new["x"], new["g"]);
        assert_eq!(
            out.code,
            format!("def f({x}):\n    {g} = lambda {x}: {x} + 1\n    return {g}({x}) + y\n")
        );
    }

    #[test]
    fn refuses_when_names_are_observable() {
        let src = "def f(a):\n    b = a\n    return vars()\n";
        assert!(matches!(rename(src, 0), Err(EditError::NotApplicable(_))));
    }
}
