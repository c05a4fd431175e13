//! What a module binds at top level, and the execution context of a function:
//! the imports, constants, helpers and classes it uses, found transitively,
//! so that `context + code` runs on its own.

use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use super::names::{is_builtin, is_stdlib_module};
use super::scope::{stmt_uses, NameUses};

#[derive(Debug, Clone)]
enum Binding {
    /// The local name refers to this module or module attribute (`os.path`, `math.sqrt`, `.sibling.f`).
    Import { module: String, relative: bool },
    /// A def, class or assignment: the statement travels as context.
    Definition,
}

/// Top-level bindings of one module; binding sites inside top-level `if`/`try`/`with`
/// blocks map to the whole block.
pub(crate) struct ModuleIndex<'a> {
    stmts: &'a [Stmt],
    bindings: HashMap<String, (Binding, usize)>,
    uses: Vec<OnceCell<NameUses>>,
    /// Top-level relative imports rewritten as absolute ones, so the context runs
    /// in a fresh namespace (`from .util import f` → `from email.util import f`).
    absolute_imports: HashMap<usize, String>,
}

/// A function's free names resolved against its module.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    pub imports: BTreeSet<String>,
    pub globals: BTreeSet<String>,
    pub builtins: BTreeSet<String>,
    pub undefined: BTreeSet<String>,
    /// Builtins and undefined names of the function *and* its context.
    pub all_builtins: BTreeSet<String>,
    pub all_undefined: BTreeSet<String>,
    /// Dotted chains through imports, resolved to module paths (function and context).
    pub chains: BTreeSet<String>,
    pub non_stdlib_imports: bool,
    pub relative_imports: bool,
    /// Indices of the top-level statements that form the context.
    pub context_stmts: BTreeSet<usize>,
}

impl<'a> ModuleIndex<'a> {
    /// `package` is the dotted package relative imports start from, when known.
    pub fn new(stmts: &'a [Stmt], source: &str, package: Option<String>) -> Self {
        let mut bindings = HashMap::new();
        let mut absolute_imports = HashMap::new();
        for (i, stmt) in stmts.iter().enumerate() {
            if let (Stmt::ImportFrom(import), Some(package)) = (stmt, &package) {
                if let Some(base) = absolute_module(import, package) {
                    index_import_from(import, &base, false, i, &mut bindings);
                    absolute_imports.insert(i, absolute_import_text(import, &base, source));
                    continue;
                }
            }
            index_stmt(stmt, i, &mut bindings);
        }
        ModuleIndex {
            stmts,
            bindings,
            uses: (0..stmts.len()).map(|_| OnceCell::new()).collect(),
            absolute_imports,
        }
    }

    fn uses_of(&self, i: usize) -> &NameUses {
        self.uses[i].get_or_init(|| stmt_uses(&self.stmts[i]))
    }

    /// Resolves `uses` (a function's free names) and gathers its context.
    /// `own_def` is the index of the function's own statement, so recursion
    /// does not put the function into its own context.
    pub fn resolve(&self, uses: &NameUses, own_def: Option<usize>) -> Resolved {
        let mut r = Resolved::default();
        let mut pending: Vec<(&NameUses, bool)> = vec![(uses, true)];
        while let Some((u, is_function)) = pending.pop() {
            for name in &u.free {
                match self.bindings.get(name.as_str()) {
                    Some((Binding::Import { module, relative }, i)) => {
                        if is_function {
                            r.imports.insert(name.clone());
                        }
                        r.context_stmts.insert(*i);
                        r.relative_imports |= *relative;
                        r.non_stdlib_imports |= !*relative && !is_stdlib_module(module);
                        for chain in u.chains.iter().filter(|c| root_of(c) == name) {
                            r.chains.insert(format!("{module}{}", &chain[name.len()..]));
                        }
                    }
                    Some((Binding::Definition, i)) => {
                        if is_function {
                            r.globals.insert(name.clone());
                        }
                        if Some(*i) != own_def && r.context_stmts.insert(*i) {
                            pending.push((self.uses_of(*i), false));
                        }
                    }
                    None if is_builtin(name) => {
                        if is_function {
                            r.builtins.insert(name.clone());
                        }
                        r.all_builtins.insert(name.clone());
                    }
                    None => {
                        if is_function {
                            r.undefined.insert(name.clone());
                        }
                        r.all_undefined.insert(name.clone());
                    }
                }
            }
        }
        r
    }

    /// Whether `name` is a top-level class whose instances can be made with
    /// `name()`: no decorators, no base but `object`, and no `__init__` or
    /// one whose parameters after `self` all have defaults. Its methods that
    /// use `self` can then run on a fresh instance.
    pub fn is_constructible_class(&self, name: &str) -> bool {
        let Some((Binding::Definition, i)) = self.bindings.get(name) else {
            return false;
        };
        let Stmt::ClassDef(class) = &self.stmts[*i] else {
            return false;
        };
        let plain_bases = class.arguments.as_ref().is_none_or(|a| {
            a.keywords.is_empty()
                && a.args
                    .iter()
                    .all(|b| matches!(b, Expr::Name(n) if n.id.as_str() == "object"))
        });
        let init_takes_nothing = class.body.iter().all(|s| match s {
            Stmt::FunctionDef(f) if f.name.as_str() == "__init__" => {
                let p = &f.parameters;
                p.posonlyargs
                    .iter()
                    .chain(&p.args)
                    .skip(1)
                    .chain(&p.kwonlyargs)
                    .all(|a| a.default.is_some())
            }
            _ => true,
        });
        class.name.as_str() == name
            && class.decorator_list.is_empty()
            && plain_bases
            && init_takes_nothing
    }

    /// The context statements' source, in module order, one per line block.
    pub fn context_text(&self, source: &str, stmts: &BTreeSet<usize>) -> String {
        let mut out = String::new();
        for &i in stmts {
            let range = self.stmts[i].range();
            if !out.is_empty() {
                out.push('\n');
            }
            match self.absolute_imports.get(&i) {
                Some(text) => out.push_str(text),
                None => out.push_str(&source[range]),
            }
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }
}

fn root_of(chain: &str) -> &str {
    chain.split('.').next().unwrap_or(chain)
}

fn index_stmt(stmt: &Stmt, top: usize, bindings: &mut HashMap<String, (Binding, usize)>) {
    let mut bind = |name: &str, b: Binding| {
        bindings.insert(name.to_string(), (b, top));
    };
    match stmt {
        Stmt::Import(import) => {
            for alias in &import.names {
                let full = alias.name.as_str();
                match &alias.asname {
                    Some(local) => bind(
                        local.as_str(),
                        Binding::Import {
                            module: full.to_string(),
                            relative: false,
                        },
                    ),
                    None => {
                        let top_pkg = root_of(full);
                        bind(
                            top_pkg,
                            Binding::Import {
                                module: top_pkg.to_string(),
                                relative: false,
                            },
                        )
                    }
                }
            }
        }
        Stmt::ImportFrom(import) => {
            let base = format!(
                "{}{}",
                ".".repeat(import.level as usize),
                import.module.as_ref().map_or("", |m| m.as_str())
            );
            index_import_from(import, &base, import.level > 0, top, bindings);
        }
        Stmt::FunctionDef(def) => bind(def.name.as_str(), Binding::Definition),
        Stmt::ClassDef(class) => bind(class.name.as_str(), Binding::Definition),
        Stmt::Assign(assign) => {
            for target in &assign.targets {
                for name in target_names(target) {
                    bind(name, Binding::Definition);
                }
            }
        }
        Stmt::AnnAssign(assign) => {
            for name in target_names(&assign.target) {
                bind(name, Binding::Definition);
            }
        }
        Stmt::If(s) => {
            for b in std::iter::once(&s.body).chain(s.elif_else_clauses.iter().map(|c| &c.body)) {
                b.iter().for_each(|st| index_stmt(st, top, bindings));
            }
        }
        Stmt::Try(s) => {
            let handlers = s.handlers.iter().map(|h| {
                let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                &h.body
            });
            for b in [&s.body, &s.orelse, &s.finalbody]
                .into_iter()
                .chain(handlers)
            {
                b.iter().for_each(|st| index_stmt(st, top, bindings));
            }
        }
        Stmt::With(s) => s.body.iter().for_each(|st| index_stmt(st, top, bindings)),
        _ => {}
    }
}

fn index_import_from(
    import: &ast::StmtImportFrom,
    base: &str,
    relative: bool,
    top: usize,
    bindings: &mut HashMap<String, (Binding, usize)>,
) {
    for alias in &import.names {
        if alias.name.as_str() == "*" {
            continue;
        }
        let local = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
        let module = if base.ends_with('.') {
            format!("{base}{}", alias.name.as_str())
        } else {
            format!("{base}.{}", alias.name.as_str())
        };
        bindings.insert(
            local.to_string(),
            (Binding::Import { module, relative }, top),
        );
    }
}

/// The absolute module a relative `from … import` names, given the package it
/// sits in; `None` for absolute imports or when the dots climb above the top.
fn absolute_module(import: &ast::StmtImportFrom, package: &str) -> Option<String> {
    if import.level == 0 {
        return None;
    }
    let mut parts: Vec<&str> = package.split('.').filter(|p| !p.is_empty()).collect();
    let up = import.level as usize - 1;
    if up > parts.len() {
        return None;
    }
    parts.truncate(parts.len() - up);
    if let Some(m) = &import.module {
        parts.push(m.as_str());
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

/// `from <base> import <names as written>`, parenthesised so multi-line name lists stay valid.
fn absolute_import_text(import: &ast::StmtImportFrom, base: &str, source: &str) -> String {
    let (Some(first), Some(last)) = (import.names.first(), import.names.last()) else {
        return format!("import {base}");
    };
    let names = &source[TextRange::new(first.range().start(), last.range().end())];
    if names.contains('\n') {
        format!("from {base} import ({names})")
    } else {
        format!("from {base} import {names}")
    }
}

fn target_names(target: &Expr) -> Vec<&str> {
    match target {
        Expr::Name(n) => vec![n.id.as_str()],
        Expr::Tuple(t) => t.elts.iter().flat_map(target_names).collect(),
        Expr::List(l) => l.elts.iter().flat_map(target_names).collect(),
        Expr::Starred(s) => target_names(&s.value),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::scope::function_uses;

    fn resolve(src: &str, func: &str) -> (Resolved, String) {
        resolve_in(src, func, None)
    }

    fn resolve_in(src: &str, func: &str, package: Option<&str>) -> (Resolved, String) {
        let parsed = ruff_python_parser::parse_module(src).unwrap();
        let body = &parsed.syntax().body;
        let index = ModuleIndex::new(body, src, package.map(str::to_string));
        let (i, def) = body
            .iter()
            .enumerate()
            .find_map(|(i, s)| match s {
                Stmt::FunctionDef(d) if d.name.as_str() == func => Some((i, d)),
                _ => None,
            })
            .unwrap();
        let r = index.resolve(&function_uses(def), Some(i));
        let ctx = index.context_text(src, &r.context_stmts);
        (r, ctx)
    }

    #[test]
    fn context_is_transitive_and_in_source_order() {
        let src = "import os\nimport re\nfrom collections import Counter as C\nBASE = 10\nWORD = re.compile('w+')\n\ndef helper(s):\n    return WORD.findall(s)\n\ndef unused():\n    pass\n\ndef count(s):\n    return C(helper(s)).most_common(BASE)\n";
        let (r, ctx) = resolve(src, "count");
        assert_eq!(ctx, "import re\nfrom collections import Counter as C\nBASE = 10\nWORD = re.compile('w+')\ndef helper(s):\n    return WORD.findall(s)\n");
        assert_eq!(r.imports.iter().collect::<Vec<_>>(), vec!["C"]);
        assert_eq!(r.globals.iter().collect::<Vec<_>>(), vec!["BASE", "helper"]);
        assert!(r.chains.contains("re.compile") && r.chains.contains("collections.Counter"));
        assert!(!r.non_stdlib_imports);
    }

    #[test]
    fn recursion_does_not_pull_itself_and_undefined_is_reported() {
        let src = "import numpy as np\n\ndef fact(n):\n    return 1 if n < 2 else n * fact(n - 1) + missing + np.zeros(1)\n";
        let (r, ctx) = resolve(src, "fact");
        assert_eq!(ctx, "import numpy as np\n");
        assert_eq!(r.undefined.iter().collect::<Vec<_>>(), vec!["missing"]);
        assert!(r.non_stdlib_imports);
        assert!(r.chains.contains("numpy.zeros"));
    }

    #[test]
    fn relative_imports_become_absolute_in_context() {
        let src = "from .. import utils\nfrom .base import (\n    MIMEBase,  # the base\n)\n\ndef make(x):\n    return MIMEBase(utils.quote(x))\n";
        let (r, ctx) = resolve_in(src, "make", Some("email.mime"));
        assert_eq!(
            ctx,
            "from email import utils\nfrom email.mime.base import MIMEBase\n"
        );
        assert!(!r.relative_imports && !r.non_stdlib_imports);
        assert!(r.chains.contains("email.utils.quote"));
    }

    #[test]
    fn guarded_imports_travel_as_whole_blocks_and_relative_imports_are_flagged() {
        let src = "try:\n    import json\nexcept ImportError:\n    json = None\nfrom .sib import thing\nfrom os import path\n\ndef f(x):\n    return json.dumps(x), thing, path.join('a', x)\n";
        let (r, ctx) = resolve(src, "f");
        assert!(ctx.starts_with("try:\n    import json\nexcept ImportError:\n    json = None\n"));
        assert!(r.relative_imports);
        assert!(r.chains.contains("os.path.join"));
    }
}
