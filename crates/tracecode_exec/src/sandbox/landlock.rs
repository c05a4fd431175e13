//! Landlock: the worker may read (and map) the interpreter's files and the
//! system's shared libraries, and nothing else; no file may be written,
//! created or removed anywhere; no TCP bind/connect (ABI v4+); no signals or
//! abstract-socket connections outside the worker's domain (ABI v6+).
//! Best effort: on kernels without Landlock the worker records that and goes on.

use std::path::PathBuf;

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr,
    RulesetStatus, Scope, ABI,
};

/// Restrict the calling process (and its future children) to read-only
/// access beneath `read_paths`. Returns `full`, `partial` or `not_enforced`.
pub fn apply(read_paths: &[PathBuf]) -> Result<String, String> {
    let abi = ABI::V6;
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.handle_access(AccessNet::from_all(abi)))
        .and_then(|r| r.scope(Scope::from_all(abi)))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rules(path_beneath_rules(read_paths, AccessFs::from_read(abi))))
        .and_then(|r| r.restrict_self())
        .map_err(|e| format!("landlock error: {e}"))?;
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => "full",
        RulesetStatus::PartiallyEnforced => "partial",
        RulesetStatus::NotEnforced => "not_enforced",
    }
    .to_string())
}
