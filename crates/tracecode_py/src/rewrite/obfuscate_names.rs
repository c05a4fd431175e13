//! DOBF-style obfuscation: parameters and locals become `v0, v1, ...` and
//! nested functions `f0, f1, ...`, in order of first appearance. The result
//! depends only on the code, so identical code always obfuscates alike.

use std::collections::HashMap;

use rand_chacha::ChaCha8Rng;

use super::scope::renamable;
use super::{renaming_note, Rewrite, RewriteKind, Rewritten};
use crate::edit::{apply_edits, EditError, ParsedFunction};

pub struct ObfuscateNames;

impl Rewrite for ObfuscateNames {
    fn kind(&self) -> RewriteKind {
        RewriteKind::ObfuscateNames
    }

    fn apply(&self, f: &ParsedFunction, _rng: &mut ChaCha8Rng) -> Result<Rewritten, EditError> {
        let mut r = renamable(f)?;
        let mut renames = Vec::new();
        for (name, is_function) in &r.names {
            let new = r.taken.fresh(if *is_function { "f" } else { "v" });
            renames.push((name.clone(), new));
        }
        renames.retain(|(old, new)| old != new);
        if renames.is_empty() {
            return Err(EditError::NotApplicable(
                "no local names to obfuscate".into(),
            ));
        }
        let new_name: HashMap<String, String> = r
            .names
            .iter()
            .map(|(n, _)| (n.clone(), n.clone()))
            .chain(renames.iter().cloned())
            .collect();
        let code = apply_edits(f.source, r.edits(&new_name))?;
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

    fn obfuscate(src: &str) -> Result<Rewritten, EditError> {
        let pf = ParsedFunction::parse(src).unwrap();
        ObfuscateNames.apply(&pf, &mut ChaCha8Rng::seed_from_u64(0))
    }

    #[test]
    fn names_follow_first_appearance() {
        let src = "@cache\ndef fib(n, memo=None):\n    \"\"\"Doc mentions n.\"\"\"\n    def helper(k):  # inner\n        return memo.get(k, k)\n    total = sum(helper(i) for i in range(n))\n    return f\"{total:>{n}}\" + fib(n=n - 1, memo=memo).attr\n";
        let out = obfuscate(src).unwrap();
        assert_eq!(
            out.code,
            "@cache\ndef fib(v0, v1=None):\n    \"\"\"Doc mentions n.\"\"\"\n    def f0(v2):  # inner\n        return v1.get(v2, v2)\n    v3 = sum(f0(v4) for v4 in range(v0))\n    return f\"{v3:>{v0}}\" + fib(v0=v0 - 1, v1=v1).attr\n"
        );
        assert_eq!(out.renames[0], ("n".to_string(), "v0".to_string()));
        assert_eq!(out.renames[2], ("helper".to_string(), "f0".to_string()));
    }

    #[test]
    fn existing_v_names_are_renumbered_without_clashes() {
        let src = "def f(a, v0):\n    v1 = a + v0 + v2\n    return v1\n";
        let out = obfuscate(src).unwrap();
        // `v2` is a global: it keeps its name, and nothing new may take it.
        assert_eq!(
            out.code,
            "def f(v0, v1):\n    v3 = v0 + v1 + v2\n    return v3\n"
        );
    }

    #[test]
    fn refuses_without_locals_or_with_exec() {
        assert!(matches!(
            obfuscate("def f():\n    return G\n"),
            Err(EditError::NotApplicable(_))
        ));
        assert!(matches!(
            obfuscate("def f(a):\n    exec('a = 1')\n    return a\n"),
            Err(EditError::NotApplicable(_))
        ));
    }
}
