//! Scope resolution for the renamers: which name occurrences refer to a
//! variable the function itself binds (in its own scope or a nested function,
//! lambda or comprehension), as opposed to a global or builtin.
//!
//! Renaming works per name, not per variable: every occurrence that resolves
//! to *some* binding inside the function gets the same new name. Since the
//! new name is fresh and bindings stay in the same scopes, each occurrence
//! still resolves to the same scope afterwards, and occurrences left alone
//! (globals) still find no binding in between.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{
    self as ast, Comprehension, Expr, ExprContext, Identifier, InterpolatedStringElement, Pattern,
    Stmt,
};
use ruff_text_size::{Ranged, TextRange};

use super::names::{words, Taken, CONVENTIONAL, FRAME_ACCESS, INTROSPECTION};
use crate::edit::{EditError, ParsedFunction};

/// The names a renamer may change, where they occur, and what to avoid.
pub(super) struct Renamable {
    /// Renamable names in order of first appearance, each with whether a
    /// nested `def` binds it (so obfuscation can call it `f<n>`).
    pub names: Vec<(String, bool)>,
    /// Every range to rewrite, with the name it holds now.
    pub sites: Vec<(TextRange, String)>,
    /// Names a new name must not be: everything that stays, builtins, keywords.
    pub taken: Taken,
}

impl Renamable {
    /// The edits renaming by `new_name`, which must map every name in `names`.
    pub fn edits(&self, new_name: &HashMap<String, String>) -> Vec<crate::edit::TextEdit> {
        self.sites
            .iter()
            .map(|(range, name)| crate::edit::TextEdit::replace(*range, new_name[name].clone()))
            .collect()
    }
}

/// Finds the renamable names of the function, or refuses when names are
/// observable (`locals()`, frames, `f"{x=}"` only excludes the names shown)
/// or scoping is beyond this analysis (classes, type parameters).
pub(super) fn renamable(pf: &ParsedFunction) -> Result<Renamable, EditError> {
    let def = pf.def();
    let mut r = Resolver {
        function_name: def.name.as_str(),
        scopes: vec![Scope::default()],
        current: 0,
        occurrences: Vec::new(),
        recursive_keywords: Vec::new(),
        keyword_names: HashSet::new(),
        nested_params: HashSet::new(),
        def_names: HashSet::new(),
        excluded: HashSet::new(),
        refusal: None,
    };
    if def.type_params.is_some() {
        r.refuse("type parameters");
    }
    for p in def.parameters.iter() {
        r.bind(0, p.name());
    }
    r.visit_body(&def.body);
    if let Some(reason) = r.refusal {
        return Err(EditError::NotApplicable(reason));
    }
    Ok(r.finish(pf))
}

#[derive(Default)]
struct Scope {
    parent: Option<usize>,
    is_comprehension: bool,
    bound: HashSet<String>,
}

struct Occurrence {
    scope: usize,
    name: String,
    range: TextRange,
}

struct Resolver<'a> {
    function_name: &'a str,
    scopes: Vec<Scope>,
    current: usize,
    occurrences: Vec<Occurrence>,
    /// Keyword arguments of calls to the function itself: renamed with its parameters.
    recursive_keywords: Vec<Occurrence>,
    /// Keyword arguments of every other call.
    keyword_names: HashSet<String>,
    /// Parameters of nested functions and lambdas.
    nested_params: HashSet<String>,
    def_names: HashSet<String>,
    /// Names that must keep their spelling wherever they occur.
    excluded: HashSet<String>,
    refusal: Option<String>,
}

impl Resolver<'_> {
    fn refuse(&mut self, why: &str) {
        self.refusal
            .get_or_insert_with(|| format!("renaming is unsafe: {why}"));
    }

    fn bind(&mut self, scope: usize, name: &Identifier) {
        self.scopes[scope].bound.insert(name.to_string());
        self.occur(scope, name.as_str(), name.range());
    }

    fn occur(&mut self, scope: usize, name: &str, range: TextRange) {
        self.occurrences.push(Occurrence {
            scope,
            name: name.to_string(),
            range,
        });
    }

    /// Runs `walk` in a new scope nested in the current one.
    fn in_scope(&mut self, is_comprehension: bool, walk: impl FnOnce(&mut Self)) {
        self.scopes.push(Scope {
            parent: Some(self.current),
            is_comprehension,
            bound: HashSet::new(),
        });
        let outer = std::mem::replace(&mut self.current, self.scopes.len() - 1);
        walk(self);
        self.current = outer;
    }

    /// The innermost function (or lambda) scope: where `:=` binds.
    fn function_scope(&self) -> usize {
        let mut s = self.current;
        while self.scopes[s].is_comprehension {
            s = self.scopes[s].parent.expect("comprehensions are nested");
        }
        s
    }

    fn resolves_inside(&self, occurrence: &Occurrence) -> bool {
        let mut scope = Some(occurrence.scope);
        while let Some(s) = scope {
            if self.scopes[s].bound.contains(&occurrence.name) {
                return true;
            }
            scope = self.scopes[s].parent;
        }
        false
    }

    fn visit_parameter_defaults(&mut self, parameters: &ast::Parameters) {
        for p in parameters.iter() {
            if let Some(default) = p.default() {
                self.visit_expr(default);
            }
            if let Some(annotation) = p.annotation() {
                self.visit_expr(annotation);
            }
        }
    }

    fn bind_parameters(&mut self, parameters: &ast::Parameters) {
        for p in parameters.iter() {
            self.nested_params.insert(p.name().to_string());
            self.bind(self.current, p.name());
        }
    }

    fn visit_comprehension_expr(&mut self, generators: &[Comprehension], elts: &[&Expr]) {
        // The first iterable is evaluated in the enclosing scope.
        self.visit_expr(&generators[0].iter);
        self.in_scope(true, |r| {
            for (i, generator) in generators.iter().enumerate() {
                if i > 0 {
                    r.visit_expr(&generator.iter);
                }
                r.visit_expr(&generator.target);
                for condition in &generator.ifs {
                    r.visit_expr(condition);
                }
            }
            for elt in elts {
                r.visit_expr(elt);
            }
        });
    }

    fn finish(self, pf: &ParsedFunction) -> Renamable {
        let recursion_is_global = !self
            .scopes
            .iter()
            .any(|s| s.bound.contains(self.function_name));
        let mut keyword_names = self.keyword_names.clone();
        if !recursion_is_global {
            keyword_names.extend(self.recursive_keywords.iter().map(|o| o.name.clone()));
        }
        let params: HashSet<&str> = pf
            .def()
            .parameters
            .iter()
            .map(|p| p.name().as_str())
            .collect();
        let is_renamable = |name: &str| {
            let fixed = self.excluded.contains(name)
                || CONVENTIONAL.contains(&name)
                || name == self.function_name
                || name.starts_with("__");
            // A nested function's parameter passed by keyword is part of its signature.
            let keyword = self.nested_params.contains(name) && keyword_names.contains(name);
            !fixed && !keyword
        };
        let mut names: Vec<(String, bool)> = Vec::new();
        let mut sites = Vec::new();
        let mut kept: HashSet<String> = HashSet::from([self.function_name.to_string()]);
        let mut occurrences: Vec<&Occurrence> = self.occurrences.iter().collect();
        occurrences.sort_by_key(|o| o.range.start());
        for o in occurrences {
            if self.resolves_inside(o) && is_renamable(&o.name) {
                if !names.iter().any(|(n, _)| *n == o.name) {
                    names.push((o.name.clone(), self.def_names.contains(&o.name)));
                }
                sites.push((o.range, o.name.clone()));
            } else {
                kept.insert(o.name.clone());
            }
        }
        for o in &self.recursive_keywords {
            if recursion_is_global && params.contains(o.name.as_str()) && is_renamable(&o.name) {
                sites.push((o.range, o.name.clone()));
            }
        }
        kept.extend(keyword_names);
        kept.extend(self.excluded);
        let renamed: HashSet<&String> = names.iter().map(|(n, _)| n).collect();
        kept.extend(
            words(pf.source)
                .into_iter()
                .filter(|w| !renamed.contains(w)),
        );
        Renamable {
            names,
            sites,
            taken: Taken::from_set(kept),
        }
    }
}

impl<'a> Visitor<'a> for Resolver<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                if def.type_params.is_some() {
                    self.refuse("type parameters");
                }
                self.visit_parameter_defaults(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_expr(returns);
                }
                self.def_names.insert(def.name.to_string());
                self.bind(self.current, &def.name);
                self.in_scope(false, |r| {
                    r.bind_parameters(&def.parameters);
                    r.visit_body(&def.body);
                });
            }
            Stmt::ClassDef(_) => self.refuse("defines a class"),
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                for alias in names {
                    let local = alias.asname.as_ref().unwrap_or(&alias.name);
                    let local = local.split('.').next().unwrap_or_default().to_string();
                    self.scopes[self.current].bound.insert(local.clone());
                    self.excluded.insert(local);
                }
            }
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                self.excluded.extend(names.iter().map(|n| n.to_string()));
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => {
                if name.ctx == ExprContext::Load && INTROSPECTION.contains(&name.id.as_str()) {
                    self.refuse(&format!("uses {}", name.id));
                }
                if matches!(name.ctx, ExprContext::Store | ExprContext::Del) {
                    self.scopes[self.current].bound.insert(name.id.to_string());
                }
                self.occur(self.current, &name.id, name.range);
            }
            Expr::Named(named) => {
                self.visit_expr(&named.value);
                if let Expr::Name(target) = named.target.as_ref() {
                    let scope = self.function_scope();
                    self.scopes[scope].bound.insert(target.id.to_string());
                    self.occur(scope, &target.id, target.range);
                }
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameter_defaults(parameters);
                }
                self.in_scope(false, |r| {
                    if let Some(parameters) = &lambda.parameters {
                        r.bind_parameters(parameters);
                    }
                    r.visit_expr(&lambda.body);
                });
            }
            Expr::ListComp(c) => self.visit_comprehension_expr(&c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.visit_comprehension_expr(&c.generators, &[&c.elt]),
            Expr::Generator(c) => self.visit_comprehension_expr(&c.generators, &[&c.elt]),
            Expr::DictComp(c) => {
                let key = c.key.as_deref();
                let elts: Vec<&Expr> = key.into_iter().chain([c.value.as_ref()]).collect();
                self.visit_comprehension_expr(&c.generators, &elts);
            }
            Expr::Call(call) => {
                let func = call.func.as_name_expr().map(|f| f.id.as_str());
                for keyword in call.arguments.keywords.iter() {
                    if let Some(arg) = &keyword.arg {
                        if func == Some(self.function_name) {
                            self.recursive_keywords.push(Occurrence {
                                scope: self.current,
                                name: arg.to_string(),
                                range: arg.range(),
                            });
                        } else {
                            self.keyword_names.insert(arg.to_string());
                        }
                    }
                }
                visitor::walk_expr(self, expr);
            }
            Expr::Attribute(attribute) => {
                if FRAME_ACCESS.contains(&attribute.attr.as_str()) {
                    self.refuse("inspects frames");
                }
                visitor::walk_expr(self, expr);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.bind(self.current, name);
        }
        visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        let name = match pattern {
            Pattern::MatchAs(p) => p.name.as_ref(),
            Pattern::MatchStar(p) => p.name.as_ref(),
            Pattern::MatchMapping(p) => p.rest.as_ref(),
            _ => None,
        };
        if let Some(name) = name {
            self.bind(self.current, name);
        }
        visitor::walk_pattern(self, pattern);
    }

    fn visit_interpolated_string_element(&mut self, element: &'a InterpolatedStringElement) {
        // `f"{x=}"` prints the expression's source: its names must keep their spelling.
        if let InterpolatedStringElement::Interpolation(i) = element {
            if i.debug_text.is_some() {
                let mut names = NameCollector::default();
                names.visit_expr(&i.expression);
                self.excluded.extend(names.0);
            }
        }
        visitor::walk_interpolated_string_element(self, element);
    }

    fn visit_type_params(&mut self, _: &'a ast::TypeParams) {
        self.refuse("type parameters");
    }
}

#[derive(Default)]
struct NameCollector(HashSet<String>);

impl<'a> Visitor<'a> for NameCollector {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr {
            self.0.insert(n.id.to_string());
        }
        visitor::walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamable_names(src: &str) -> Vec<String> {
        let pf = ParsedFunction::parse(src).unwrap();
        renamable(&pf)
            .unwrap()
            .names
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn globals_attributes_keywords_and_imports_stay() {
        let src = "def f(a, b=C):\n    import os\n    x = os.path.join(a.x, sep=b)\n    return g(x, key=len)\n";
        assert_eq!(renamable_names(src), ["a", "b", "x"]);
    }

    #[test]
    fn scopes_resolve_through_nested_functions_and_comprehensions() {
        // `y` is global at the top but local in `inner`; `t` only in the comprehension.
        let src = "def f(xs):\n    def inner(y):\n        return y + z\n    w = [t * 2 for t in xs if (k := t)]\n    return inner(y), w, k\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let r = renamable(&pf).unwrap();
        let names: Vec<&str> = r.names.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["xs", "inner", "y", "w", "t", "k"]);
        let y_sites = r.sites.iter().filter(|(_, n)| n == "y").count();
        assert_eq!(y_sites, 2, "the global `y` in the last line is not a site");
        assert!(r.names.contains(&("inner".to_string(), true)));
    }

    #[test]
    fn introspection_and_classes_refuse_and_debug_fstrings_exclude() {
        for src in [
            "def f(a):\n    return locals()\n",
            "def f(a):\n    class C: pass\n    return a\n",
            "def f(a):\n    return sys._getframe().f_locals\n",
        ] {
            let pf = ParsedFunction::parse(src).unwrap();
            assert!(
                matches!(renamable(&pf), Err(EditError::NotApplicable(_))),
                "{src}"
            );
        }
        assert_eq!(
            renamable_names("def f(a, b):\n    return f'{a=} {b}'\n"),
            ["b"]
        );
    }

    #[test]
    fn nested_parameters_passed_by_keyword_stay() {
        let src =
            "def f(n):\n    def g(step):\n        return step\n    return g(step=n) + f(n=n - 1)\n";
        let pf = ParsedFunction::parse(src).unwrap();
        let r = renamable(&pf).unwrap();
        let names: Vec<&str> = r.names.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["n", "g"]);
        assert_eq!(
            r.sites.iter().filter(|(_, n)| n == "n").count(),
            4,
            "incl. f(n=...)"
        );
    }
}
