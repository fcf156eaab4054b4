//! The Bicep front end: `.bicep` templates (params, vars, resources with
//! conditions, loops, nested children and `parent:`, local modules) and
//! `.bicepparam` files, evaluated natively — no Bicep CLI — and lowered
//! through the REST-shape lowering shared with ARM.

mod eval;

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kmsguard_bicep_syntax::{
    ArrayItemKind, Expr, ExprKind, ImportDecl, ObjectMemberKind, Program, ResourceDecl, StatementKind, UsingTarget,
};
use std::rc::Rc;

use eval::{Evaluator, Func, Scope, Symbol};

use crate::ingest::azure::{self, ChildResource, Node, NodeKind, Resource};
use crate::ingest::registry::{self, Resolution};
use crate::ingest::value::Val;
use crate::ingest::FileError;
use crate::limits::{Budget, Limits};
use crate::model::{Dialect, Field, Link, Model, Unresolved};
use crate::source::{indent_at, line_start, normalise, FileId, Origin};

/// Modules nested deeper than this are not followed (and a module that
/// calls itself stops here).
const MAX_MODULE_DEPTH: usize = 8;

/// A parsed `.bicep` or `.bicepparam` file.
pub struct BicepFile {
    pub file: FileId,
    pub text: Arc<str>,
    pub path: PathBuf,
    pub program: Program,
}

pub fn parse(file: FileId, text: Arc<str>, path: &Path) -> Result<BicepFile, FileError> {
    match kmsguard_bicep_syntax::parse(&text) {
        Ok(program) => Ok(BicepFile {
            file,
            text,
            path: path.to_path_buf(),
            program,
        }),
        Err(e) => {
            let start = e.span.start.min(text.len());
            Err(FileError::at(
                Origin::new(file, start..e.span.end.clamp(start, text.len())),
                format!("could not parse Bicep: {}", e.message),
            ))
        }
    }
}

fn relative_to(file: &Path, target: &str) -> PathBuf {
    normalise(&file.parent().unwrap_or(Path::new("")).join(target))
}

/// A local module path, or `None` for a registry / template-spec reference.
fn local_module(path: &str) -> Option<&str> {
    let lower = path.to_ascii_lowercase();
    if lower.starts_with("br:") || lower.starts_with("br/") || lower.starts_with("ts:") || lower.starts_with("ts/") {
        None
    } else {
        Some(path)
    }
}

/// Lowers every Bicep template that is not used as a module by another one:
/// under each `.bicepparam` that targets it, or under its defaults.
///
/// A file that other files name as a module but that no root deploys (its
/// only callers say `if (false)`, loop over nothing, call themselves or
/// form a cycle) is lowered as a root of its own in a later round: every
/// file is judged at least once.
/// Files in `context` are read only because a checked file deploys them:
/// they are lowered through their callers, never as roots.
pub fn lower_all(files: &[BicepFile], context: &std::collections::HashSet<PathBuf>, limits: Limits) -> Vec<Model> {
    let by_path: HashMap<PathBuf, &BicepFile> = files
        .iter()
        .filter(|f| !is_param_file(f))
        .map(|f| (normalise(&f.path), f))
        .collect();
    // Which file each file uses as a module, leaving out calls to itself.
    let mut uses: HashMap<PathBuf, std::collections::HashSet<PathBuf>> = HashMap::new();
    for (me, f) in &by_path {
        for s in &f.program.statements {
            if let StatementKind::Module(m) = &s.kind {
                if let Some(p) = m.path.as_literal_string().as_deref().and_then(local_module) {
                    let target = relative_to(&f.path, p);
                    if target != *me {
                        uses.entry(me.clone()).or_default().insert(target);
                    }
                }
            }
        }
    }
    let mut param_sets: HashMap<PathBuf, Vec<&BicepFile>> = HashMap::new();
    for f in files.iter().filter(|f| is_param_file(f)) {
        for s in &f.program.statements {
            if let StatementKind::Using(u) = &s.kind {
                if let UsingTarget::Path(p) = &u.target {
                    if let Some(p) = p.as_literal_string() {
                        param_sets.entry(relative_to(&f.path, &p)).or_default().push(f);
                    }
                }
            }
        }
    }
    let mut pending: Vec<&PathBuf> = by_path.keys().filter(|p| !context.contains(*p)).collect();
    pending.sort_by_key(|p| by_path.get(*p).map(|f| f.file));
    let uncalled_among = |candidates: &[&PathBuf]| -> Vec<PathBuf> {
        candidates
            .iter()
            .filter(|me| !candidates.iter().any(|c| uses.get(*c).is_some_and(|u| u.contains(**me))))
            .map(|p| (*p).clone())
            .collect()
    };
    let ctx = Ctx {
        by_path: &by_path,
        deployed: std::sync::Mutex::new(std::collections::HashSet::new()),
    };
    // One budget per deployment: a root file under one parameters file, with
    // every module it calls.
    let deployment = || Budget::new(limits, "Bicep deployment");
    let mut models = Vec::new();
    loop {
        let mut round = uncalled_among(&pending);
        // Only cycles are left: judge the first file of one as a root.
        if round.is_empty() {
            match pending.first() {
                Some(first) => round.push((*first).clone()),
                None => break,
            }
        }
        let roots: Vec<&BicepFile> = round.iter().filter_map(|p| by_path.get(p).copied()).collect();
        models.par_extend(roots.par_iter().flat_map_iter(|root| {
            let chain = [normalise(&root.path)];
            match param_sets.get(&normalise(&root.path)) {
                Some(sets) => sets
                    .iter()
                    .map(|set| {
                        let budget = deployment();
                        ctx.lower(root, bicepparam_values(set, &budget), "", None, &chain, &budget).0
                    })
                    .collect(),
                None => vec![ctx.lower(root, BTreeMap::new(), "", None, &chain, &deployment()).0],
            }
        }));
        let deployed = match ctx.deployed.lock() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        pending.retain(|p| !round.contains(p) && !deployed.contains(*p));
    }
    models
}

fn is_param_file(f: &BicepFile) -> bool {
    f.path.extension().is_some_and(|e| e == "bicepparam")
}

/// The `var` declarations of a file, by name.
fn var_decls(program: &Program) -> HashMap<String, &Expr> {
    program
        .statements
        .iter()
        .filter_map(|s| match &s.kind {
            StatementKind::Var(v) => Some((v.name.name.clone(), &v.value)),
            _ => None,
        })
        .collect()
}

/// The `param x = …` values of a `.bicepparam` file.
fn bicepparam_values(f: &BicepFile, budget: &Budget) -> BTreeMap<String, Val> {
    let vars = var_decls(&f.program);
    let ev = Evaluator::new(BTreeMap::new(), vars).within(budget.clone());
    let mut out = BTreeMap::new();
    for s in &f.program.statements {
        if let StatementKind::Param(p) = &s.kind {
            if let Some(d) = &p.default {
                out.insert(p.name.name.clone(), ev.eval(d, &Scope::default()));
            }
        }
    }
    out
}

struct Ctx<'a> {
    by_path: &'a HashMap<PathBuf, &'a BicepFile>,
    /// The files some root deployed as a module instance so far.
    deployed: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
}

/// One instance of a resource or module declaration: its body, the scope its
/// loop binds, its address suffix, and whether it may not be deployed.
struct Instance<'e> {
    body: &'e Expr,
    scope: Scope,
    suffix: String,
    conditional: Option<Unresolved>,
}

/// What a file imports (`import {…} from '…'`, `import * as ns from '…'`).
#[derive(Default)]
struct Imports<'a> {
    values: BTreeMap<String, Val>,
    funcs: HashMap<String, Func<'a>>,
    namespaces: HashMap<String, Rc<Evaluator<'a>>>,
}

impl<'a> Imports<'a> {
    fn apply(&self, mut ev: Evaluator<'a>) -> Evaluator<'a> {
        ev.imported.extend(self.values.clone());
        ev.funcs.extend(self.funcs.iter().map(|(k, v)| (k.clone(), v.clone())));
        ev.namespaces.extend(self.namespaces.iter().map(|(k, v)| (k.clone(), v.clone())));
        ev
    }
}

/// Whether a statement carries `@export()` (or `@sys.export()`).
fn exported(s: &kmsguard_bicep_syntax::Statement) -> bool {
    s.decorators.iter().any(|d| d.name.name == "export")
}

/// A module's symbolic value for the expressions of its caller.
fn module_value(name: Val, outputs: Val) -> Val {
    Val::Object([("name".to_string(), name), ("outputs".to_string(), outputs)].into_iter().collect())
}

/// The names an expression refers to, through the variables it reads.
fn references(e: &Expr, vars: &HashMap<String, &Expr>, out: &mut std::collections::HashSet<String>, depth: usize) {
    use kmsguard_bicep_syntax::StringPart;
    if depth > 128 {
        return;
    }
    if let ExprKind::Ident(i) = &e.kind {
        // A variable is followed once, the first time it is met.
        if let (true, Some(v)) = (out.insert(i.name.clone()), vars.get(&i.name)) {
            references(v, vars, out, depth + 1);
        }
        return;
    }
    let mut go = |x: &Expr| references(x, vars, out, depth + 1);
    match &e.kind {
        ExprKind::String(parts) => parts.iter().for_each(|p| {
            if let StringPart::Interpolation(x) = p {
                go(x)
            }
        }),
        ExprKind::Array(items) => items.iter().for_each(|i| match &i.kind {
            ArrayItemKind::Value(v) | ArrayItemKind::Spread(v) => go(v),
        }),
        ExprKind::Object(members) => members.iter().for_each(|m| match &m.kind {
            ObjectMemberKind::Property { value, .. } => go(value),
            ObjectMemberKind::Spread(v) => go(v),
            ObjectMemberKind::Resource { .. } => {}
        }),
        ExprKind::Property { base, .. } | ExprKind::ResourceAccess { base, .. } => go(base),
        ExprKind::Index { base, index, .. } => {
            go(base);
            go(index);
        }
        ExprKind::Call { target, args, .. } => {
            target.iter().for_each(|t| go(t));
            args.iter().for_each(&mut go);
        }
        ExprKind::Unary { operand: x, .. } | ExprKind::NonNull(x) | ExprKind::Paren(x) | ExprKind::Lambda { body: x, .. } => go(x),
        ExprKind::Binary { lhs, rhs, .. } => {
            go(lhs);
            go(rhs);
        }
        ExprKind::Ternary { cond, then, otherwise } => {
            go(cond);
            go(then);
            go(otherwise);
        }
        ExprKind::For { iterable, body, .. } => {
            go(iterable);
            go(body);
        }
        ExprKind::If { cond, body } => {
            go(cond);
            go(body);
        }
        _ => {}
    }
}

impl<'a> Ctx<'a> {
    /// Lowers one deployment of `f` (a root, or a module instance); returns
    /// its model, the children whose parents may be declared elsewhere in
    /// the deployment (attached at its root), and its outputs (an object by
    /// output name).
    fn lower(
        &self,
        f: &'a BicepFile,
        given: BTreeMap<String, Val>,
        prefix: &str,
        conditional: Option<Unresolved>,
        chain: &[PathBuf],
        budget: &Budget,
    ) -> (Model, azure::Deferred, Val) {
        let mut w = Walker {
            f,
            model: Model::default(),
            deferred: azure::Deferred::default(),
            prefix: prefix.to_string(),
            conditional,
        };
        let mut ev = self.evaluator(f, given, budget, &[normalise(&f.path)]);
        // Modules first: a resource may read a module's outputs, wherever
        // the module is declared (Bicep has no declaration order).
        let modules = self.modules(&mut w, &mut ev, chain);
        ev.forget_cached_vars();
        set_resource_symbols(f, &mut ev);
        w.resources(&ev);
        w.model.absorb(modules);
        // A module's routes and rules may name a parent another file of the
        // deployment declares: children are attached once, at its root.
        if chain.len() <= 1 {
            azure::finish(&mut w.model, std::mem::take(&mut w.deferred));
        }
        let outputs = f
            .program
            .statements
            .iter()
            .filter_map(|s| match &s.kind {
                StatementKind::Output(o) => Some((o.name.name.clone(), ev.eval(&o.value, &Scope::default()))),
                _ => None,
            })
            .collect();
        (w.model, w.deferred, Val::Object(outputs))
    }

    /// An evaluator for `f`: its parameters (from `given`, else their
    /// defaults), variables, functions, imports and resource symbols.
    /// `imports_chain` holds the files whose imports led here.
    fn evaluator(&self, f: &'a BicepFile, given: BTreeMap<String, Val>, budget: &Budget, imports_chain: &[PathBuf]) -> Evaluator<'a> {
        let vars = var_decls(&f.program);
        let imports = self.imports(f, budget, imports_chain);
        let mut funcs = HashMap::new();
        for s in &f.program.statements {
            if let StatementKind::Func(decl) = &s.kind {
                funcs.insert(decl.name.name.clone(), Func { decl, home: None });
            }
        }
        let with_all = |params: BTreeMap<String, Val>| {
            let mut ev = imports.apply(Evaluator::new(params, vars.clone()).within(budget.clone()));
            ev.funcs
                .extend(funcs.iter().map(|(k, v): (&String, &Func<'a>)| (k.clone(), v.clone())));
            ev
        };
        let mut params = BTreeMap::new();
        for s in &f.program.statements {
            let StatementKind::Param(p) = &s.kind else { continue };
            let name = p.name.name.clone();
            let v = match (given.get(&name), &p.default) {
                (Some(v), _) => v.clone(),
                (None, Some(d)) => with_all(params.clone()).eval(d, &Scope::default()),
                // `param x type?` is optional: without a value it is null.
                (None, None)
                    if p.ty
                        .as_ref()
                        .is_some_and(|t| matches!(t.kind, kmsguard_bicep_syntax::TypeExprKind::Nullable(_))) =>
                {
                    Val::Null
                }
                (None, None) => Val::unknown(format!("parameter {name} has no default and no value in a .bicepparam file")),
            };
            params.insert(name, v);
        }
        let mut ev = with_all(params);
        set_resource_symbols(f, &mut ev);
        ev
    }

    /// Resolves `f`'s imports of exported variables and functions from
    /// local files (read as context when not among the named paths).
    fn imports(&self, f: &'a BicepFile, budget: &Budget, chain: &[PathBuf]) -> Imports<'a> {
        let mut out = Imports::default();
        for s in &f.program.statements {
            let StatementKind::Import(decl) = &s.kind else { continue };
            let (from, names): (&Expr, Vec<(String, String)>) = match decl {
                ImportDecl::Named { items, from } => (
                    from,
                    items
                        .iter()
                        .filter_map(|i| {
                            let name = i.name.literal_name()?;
                            let local = i.alias.as_ref().map(|a| a.name.clone()).unwrap_or_else(|| name.clone());
                            Some((name, local))
                        })
                        .collect(),
                ),
                ImportDecl::Wildcard { from, .. } => (from, Vec::new()),
                ImportDecl::Provider { .. } => continue,
            };
            let path = from.as_literal_string().unwrap_or_default();
            let target = match local_module(&path) {
                None => Err(format!("{path} is imported from a registry, which kmsguard does not fetch")),
                Some(p) => match self.by_path.get(&relative_to(&f.path, p)) {
                    None => Err(format!("the imported file {path} is not among the files checked")),
                    Some(t) if chain.contains(&normalise(&t.path)) => Err(format!("imports of {path} form a cycle")),
                    Some(_) if chain.len() > MAX_MODULE_DEPTH => Err(format!(
                        "imports nested deeper than {MAX_MODULE_DEPTH} levels are not followed ({path})"
                    )),
                    Some(t) => Ok(*t),
                },
            };
            let target = match target {
                Ok(t) => t,
                Err(reason) => {
                    match decl {
                        ImportDecl::Wildcard { alias, .. } => {
                            out.values.insert(alias.name.clone(), Val::unknown(reason));
                        }
                        _ => {
                            for (_, local) in names {
                                out.values.insert(local, Val::unknown(reason.clone()));
                            }
                        }
                    }
                    continue;
                }
            };
            let mut next = chain.to_vec();
            next.push(normalise(&target.path));
            let home = Rc::new(self.evaluator(target, BTreeMap::new(), budget, &next));
            let mut vars = BTreeMap::new();
            let mut funcs = HashMap::new();
            let mut types = std::collections::HashSet::new();
            for t in target.program.statements.iter().filter(|t| exported(t)) {
                match &t.kind {
                    StatementKind::Var(v) => {
                        vars.insert(v.name.name.clone(), home.eval(&v.value, &Scope::default()));
                    }
                    StatementKind::Func(decl) => {
                        funcs.insert(
                            decl.name.name.clone(),
                            Func {
                                decl,
                                home: Some(home.clone()),
                            },
                        );
                    }
                    StatementKind::Type(ty) => {
                        types.insert(ty.name.name.clone());
                    }
                    _ => {}
                }
            }
            match decl {
                ImportDecl::Wildcard { alias, .. } => {
                    out.values.insert(alias.name.clone(), Val::Object(vars));
                    out.namespaces.insert(alias.name.clone(), home);
                }
                _ => {
                    for (name, local) in names {
                        if let Some(v) = vars.get(&name) {
                            out.values.insert(local, v.clone());
                        } else if let Some(func) = funcs.get(&name) {
                            out.funcs.insert(local, func.clone());
                        } else if !types.contains(&name) {
                            out.values
                                .insert(local, Val::unknown(format!("{path} exports no variable or function named {name}")));
                        }
                    }
                }
            }
        }
        out
    }

    /// Lowers every module `w`'s file declares, in the order their outputs
    /// are needed (a module whose parameters read another's outputs comes
    /// after it), setting each module's outputs in `ev`; returns what they
    /// lowered, in the order they are declared.
    fn modules(&self, w: &mut Walker<'a>, ev: &mut Evaluator<'a>, chain: &[PathBuf]) -> Model {
        let decls: Vec<(usize, &kmsguard_bicep_syntax::Statement, &'a kmsguard_bicep_syntax::ModuleDecl)> =
            w.f.program
                .statements
                .iter()
                .enumerate()
                .filter_map(|(i, s)| match &s.kind {
                    StatementKind::Module(m) => Some((i, s, m)),
                    _ => None,
                })
                .collect();
        let names: std::collections::HashSet<String> = decls.iter().map(|(_, _, m)| m.name.name.clone()).collect();
        // Which modules each module's declaration reads.
        let mut deps: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
        for (_, _, m) in &decls {
            let mut seen = std::collections::HashSet::new();
            references(&m.value, &ev.vars, &mut seen, 0);
            seen.retain(|n| names.contains(n) && *n != m.name.name);
            deps.insert(m.name.name.clone(), seen);
        }
        for n in &names {
            ev.modules
                .insert(n.clone(), Val::unknown(format!("the outputs of module {n} are not evaluated yet")));
        }
        // Dependency order, ties in declaration order; what is left is a cycle.
        let mut order: Vec<usize> = Vec::new();
        let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
        loop {
            let next = decls.iter().position(|(_, _, m)| {
                !done.contains(&m.name.name) && deps.get(&m.name.name).is_none_or(|d| d.iter().all(|x| done.contains(x)))
            });
            let Some((i, (_, _, m))) = next.and_then(|i| Some((i, decls.get(i)?))) else {
                break;
            };
            done.insert(m.name.name.clone());
            order.push(i);
        }
        for (i, (_, _, m)) in decls.iter().enumerate() {
            if !done.contains(&m.name.name) {
                ev.modules.insert(
                    m.name.name.clone(),
                    Val::unknown(format!("module {} reads the outputs of modules that read its own", m.name.name)),
                );
                order.push(i);
            }
        }
        let mut lowered: Vec<(usize, Model)> = Vec::new();
        for i in order {
            let Some((index, s, m)) = decls.get(i) else { continue };
            let (model, value) = self.module(w, ev, s, m, chain);
            if let Some(v) = value {
                ev.modules.insert(m.name.name.clone(), v);
                ev.forget_cached_vars();
            }
            lowered.push((*index, model));
        }
        lowered.sort_by_key(|(i, _)| *i);
        let mut out = Model::default();
        for (_, model) in lowered {
            out.absorb(model);
        }
        out
    }

    /// Lowers one module declaration; returns what it lowered and the
    /// module's value for its caller (`None` leaves the reason already set).
    fn module(
        &self,
        w: &mut Walker<'a>,
        ev: &Evaluator<'a>,
        s: &kmsguard_bicep_syntax::Statement,
        m: &kmsguard_bicep_syntax::ModuleDecl,
        chain: &[PathBuf],
    ) -> (Model, Option<Val>) {
        let mut out = Model::default();
        let origin = Origin::new(w.f.file, m.path.span.clone());
        let address = format!("{}{}", w.prefix, m.name.name);
        let unchecked = |out: &mut Model, reason: String| {
            out.unchecked.push((
                address.clone(),
                Unresolved {
                    reason: reason.clone(),
                    origin: origin.clone(),
                },
            ));
            Some(Val::unknown(format!("the outputs of module {} are unknown: {reason}", m.name.name)))
        };
        let Some(path) = m.path.as_literal_string() else {
            return (out, None);
        };
        let Some(local) = local_module(&path) else {
            let reason = match registry::catalogue().bicep(&path) {
                Some(Resolution::Silent) => {
                    return (
                        out,
                        Some(Val::unknown(format!("the outputs of registry module {path} are not read"))),
                    )
                }
                Some(Resolution::Mapped { module, version, exact }) => {
                    registry_call(w, ev, s, m, module, version, exact, &address);
                    return (out, Some(registry_outputs(ev, w.f, m, module, version)));
                }
                Some(Resolution::Unchecked(reason)) => reason,
                None => format!("the module {path} comes from a registry or template spec, which kmsguard does not fetch"),
            };
            let v = unchecked(&mut out, reason);
            return (out, v);
        };
        let Some(target) = self.by_path.get(&relative_to(&w.f.path, local)).copied() else {
            let v = unchecked(
                &mut out,
                format!("the module {path} is not among the files checked; include its directory"),
            );
            return (out, v);
        };
        let target_path = normalise(&target.path);
        if let Some(at) = chain.iter().position(|p| *p == target_path) {
            let cycle: Vec<String> = chain
                .get(at..)
                .unwrap_or(&[])
                .iter()
                .chain([&target_path])
                .map(|p| crate::source::display_path(p))
                .collect();
            let what = if cycle.len() == 2 {
                "the module deploys its own file"
            } else {
                "module references form a cycle"
            };
            let v = unchecked(
                &mut out,
                format!(
                    "{what} ({}); the reference is not followed, and the file is checked as a deployment of its own",
                    cycle.join(" → ")
                ),
            );
            return (out, v);
        }
        if chain.len() > MAX_MODULE_DEPTH {
            let v = unchecked(
                &mut out,
                format!("modules nested deeper than {MAX_MODULE_DEPTH} levels are not followed"),
            );
            return (out, v);
        }
        let looped = matches!(resource_loop(&m.value), Some(true));
        let mut values = Vec::new();
        for inst in instances(ev, &m.value, w.f.file, &w.conditional) {
            if let Err(reason) = ev.budget.expand_instance(inst.body.span.len()) {
                let v = unchecked(&mut out, reason);
                return (out, v);
            }
            let given: BTreeMap<String, Val> = match property(inst.body, "params") {
                Some(p) => match ev.eval(p, &inst.scope) {
                    Val::Object(o) => o,
                    _ => BTreeMap::new(),
                },
                None => BTreeMap::new(),
            };
            let prefix = format!("{address}{}.", inst.suffix);
            if let Ok(mut deployed) = self.deployed.lock() {
                deployed.insert(target_path.clone());
            }
            let mut chain = chain.to_vec();
            chain.push(target_path.clone());
            let (mut model, deferred, outputs) = self.lower(target, given, &prefix, inst.conditional.clone(), &chain, &ev.budget);
            w.deferred.extend(deferred);
            let name = property(inst.body, "name").map(|n| ev.eval(n, &inst.scope)).unwrap_or(Val::Null);
            values.push(module_value(name, outputs));
            // The module statement is where this deployment of the file
            // is decided: findings inside name it, outermost call first.
            let site = Origin::new(w.f.file, s.span.clone());
            for t in &mut model.route_tables {
                t.called_from.insert(0, site.clone());
            }
            for n in &mut model.nsgs {
                n.called_from.insert(0, site.clone());
            }
            out.absorb(model);
        }
        let value = if looped {
            Val::List(values)
        } else {
            match values.pop() {
                Some(v) => v,
                None => Val::unknown(format!("module {} is not deployed: its condition is false", m.name.name)),
            }
        };
        (out, Some(value))
    }
}

/// The value a registry module kmsguard reads from its inputs gives back:
/// its resource's id and name, so `rt.outputs.resourceId` links like
/// `rt.id`. A module in a loop is a list of deployments and stays unknown.
fn registry_outputs(
    ev: &Evaluator,
    f: &BicepFile,
    m: &kmsguard_bicep_syntax::ModuleDecl,
    module: &registry::ModuleMap,
    version: &registry::Known,
) -> Val {
    let Some(body) = resource_body(&m.value).filter(|_| !matches!(resource_loop(&m.value), Some(true))) else {
        return Val::unknown(format!("module {} is a loop of registry module deployments", m.name.name));
    };
    let params = property(body, "params")
        .map(|p| ev.eval(p, &Scope::default()))
        .unwrap_or(Val::Object(BTreeMap::new()));
    let origin = Origin::new(f.file, m.name.span.clone());
    let rest = registry::reshape(module, version, &Node::value(params, origin));
    let outputs = registry::outputs(module, &rest);
    let name = rest.present("name").map(|n| n.to_val()).unwrap_or(Val::Null);
    Val::Object([("outputs".to_string(), outputs), ("name".to_string(), name)].into_iter().collect())
}

/// Whether a module or resource value is a loop (`[for …]`), looking
/// through parentheses; `None` when it is neither a loop nor a body.
fn resource_loop(value: &Expr) -> Option<bool> {
    match &value.kind {
        ExprKind::For { .. } => Some(true),
        ExprKind::Paren(inner) => resource_loop(inner),
        ExprKind::Object(_) | ExprKind::If { .. } => Some(false),
        _ => None,
    }
}

/// Resource symbols, so that `rt.name` and `parent: rt` resolve.
fn set_resource_symbols(f: &BicepFile, ev: &mut Evaluator) {
    for s in &f.program.statements {
        if let StatementKind::Resource(r) = &s.kind {
            let (ty, _) = split_type(&r.resource_type);
            let body = resource_body(&r.value);
            let name = body
                .and_then(|b| property(b, "name"))
                .map(|n| ev.eval(n, &Scope::default()))
                .unwrap_or(Val::Null);
            let properties = body
                .and_then(|b| property(b, "properties"))
                .map(|p| ev.eval(p, &Scope::default()))
                .unwrap_or(Val::Null);
            ev.resources.insert(r.name.name.clone(), Symbol { ty, name, properties });
        }
    }
}

struct Walker<'f> {
    f: &'f BicepFile,
    model: Model,
    deferred: azure::Deferred,
    prefix: String,
    conditional: Option<Unresolved>,
}

impl Walker<'_> {
    fn origin(&self, span: &std::ops::Range<usize>) -> Origin {
        Origin::new(self.f.file, span.clone())
    }

    fn resources(&mut self, ev: &Evaluator) {
        let f = self.f;
        for s in &f.program.statements {
            if let StatementKind::Resource(r) = &s.kind {
                self.resource(ev, r, s.span.clone(), None, &Scope::default());
            }
        }
    }

    /// `parent` is the enclosing resource's type, name and address.
    fn resource(
        &mut self,
        ev: &Evaluator,
        r: &ResourceDecl,
        span: std::ops::Range<usize>,
        parent: Option<(&str, &Val, &str)>,
        outer: &Scope,
    ) {
        let (ty, _) = split_type(&r.resource_type);
        let full_type = match parent {
            Some((pt, _, _)) if !ty.contains('.') => format!("{pt}/{ty}"),
            _ => ty.clone(),
        };
        let insts = instances_in(ev, &r.value, self.f.file, &self.conditional, outer);
        // A resource written once is bounded by the file's size and always
        // lowered, so that spending the budget on one loop cannot hide the
        // resources after it.
        let looped = matches!(r.value.kind, ExprKind::For { .. });
        for inst in insts {
            // Charged by the size of the body each instance copies: a loop
            // over a large literal body would otherwise cost one step a copy.
            if let Err(reason) = ev
                .budget
                .expand_instance(inst.body.span.len())
                .or_else(|r| if looped { Err(r) } else { Ok(()) })
            {
                self.model.unchecked.push((
                    format!("{}{}", self.prefix, r.name.name),
                    Unresolved {
                        reason,
                        origin: self.origin(&r.name.span),
                    },
                ));
                break;
            }
            let name = property(inst.body, "name").map(|n| ev.eval(n, &inst.scope)).unwrap_or(Val::Null);
            // `parent: sym` names the parent explicitly.
            let parent_name = match property(inst.body, "parent") {
                Some(p) => match ev.eval(p, &inst.scope) {
                    Val::Object(o) => o.get("name").cloned(),
                    _ => None,
                },
                None => parent.map(|(_, n, _)| n.clone()),
            };
            let parent_address = match property(inst.body, "parent") {
                Some(Expr {
                    kind: ExprKind::Ident(id), ..
                }) => Some(format!("{}{}", self.prefix, id.name)),
                Some(_) => None,
                None => parent.map(|(_, _, a)| a.to_string()),
            };
            // A child names its network by the parent's name, as a gateway's
            // subnet id does, so both find the same network.
            let parent_vnet = || match parent_name.as_ref().and_then(Val::to_tf_string) {
                Some(n) => Some(Link::Id(Field::Known(n, self.origin(&span)))),
                None => parent_address.clone().map(|a| Link::Address(a, self.origin(&span), 0)),
            };
            let address = format!("{}{}{}", self.prefix, r.name.name, inst.suffix);
            let lower = full_type.to_ascii_lowercase();
            let is_child_route = lower.ends_with("routetables/routes") || (parent_name.is_some() && lower == "routes");
            let is_child_rule =
                lower.ends_with("networksecuritygroups/securityrules") || (parent_name.is_some() && lower == "securityrules");
            if !r.existing {
                if lower == "microsoft.network/routetables" || lower == "microsoft.network/networksecuritygroups" {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    let name_field = self.name_field(inst.body, &name);
                    let res = Resource {
                        address: address.clone(),
                        name: name_field,
                        body,
                        origin: self.origin(&r.name.span),
                        conditional: inst.conditional.clone(),
                        dialect: Dialect::Bicep,
                        authoring: self.authoring(inst.body, &r.name.name),
                    };
                    if lower.ends_with("routetables") {
                        let mut table = azure::route_table(res);
                        for route in &mut table.routes {
                            route.next_hop_firewall = route.next_hop_ip.as_ref().and_then(|ip| self.firewall_ref(ev, ip.origin()));
                        }
                        self.model.route_tables.push(table);
                    } else {
                        self.model.nsgs.push(azure::nsg(res));
                    }
                } else if lower == "microsoft.network/virtualnetworkgateways" {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    let name_field = self.name_field(inst.body, &name);
                    if let Some(g) = azure::gateway(&body, address.clone(), name_field, self.origin(&r.name.span)) {
                        self.model.gateways.push(g);
                    }
                } else if lower == "microsoft.network/azurefirewalls" {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    let name_field = self.name_field(inst.body, &name);
                    let (fw, policy) = azure::firewall(&body, address.clone(), name_field, self.origin(&r.name.span));
                    // `firewallPolicy: { id: policy.id }` names the policy's symbol, whatever its name evaluates to.
                    let policy = match policy {
                        Some(Link::Id(id)) => Some(
                            self.symbol_in(ev, id.origin(), "Microsoft.Network/firewallPolicies", ".id")
                                .unwrap_or(Link::Id(id)),
                        ),
                        other => other,
                    };
                    if let Some(p) = policy {
                        self.deferred.firewall_policies.push((address.clone(), p));
                    }
                    self.model.firewalls.push(fw);
                } else if lower == "microsoft.network/firewallpolicies" {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    let name_field = self.name_field(inst.body, &name);
                    self.deferred
                        .policies
                        .push(azure::firewall_policy(&body, address.clone(), name_field));
                } else if lower.ends_with("firewallpolicies/rulecollectiongroups") || (parent.is_some() && lower == "rulecollectiongroups")
                {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    let parent_name = parent_name
                        .as_ref()
                        .and_then(Val::to_tf_string)
                        .or_else(|| name.to_tf_string().and_then(|n| n.split_once('/').map(|(p, _)| p.to_string())));
                    self.deferred.groups.push(azure::rule_collection_group(
                        &body,
                        parent_address.clone(),
                        parent_name,
                        self.origin(&span),
                    ));
                } else if lower == "microsoft.network/virtualnetworks" {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    let name_field = self.name_field(inst.body, &name);
                    self.model.subnets.extend(azure::vnet_subnets(&body, &address));
                    self.model.peerings.extend(azure::vnet_peerings(&body, &address));
                    self.model
                        .vnets
                        .push(azure::vnet(address.clone(), name_field, self.origin(&r.name.span)));
                } else if lower.ends_with("virtualnetworks/subnets") || (parent.is_some() && lower == "subnets") {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    self.model.subnets.push(azure::subnet(&body, address.clone(), parent_vnet()));
                } else if lower.ends_with("virtualnetworks/virtualnetworkpeerings")
                    || (parent.is_some() && lower == "virtualnetworkpeerings")
                {
                    let body = self.node(ev, inst.body, &inst.scope, 0);
                    let vnet = parent_vnet().or_else(|| {
                        name.to_tf_string().and_then(|n| {
                            n.split_once('/')
                                .map(|(v, _)| Link::Id(Field::Known(v.to_string(), self.origin(&span))))
                        })
                    });
                    self.model.peerings.push(azure::peering(&body, address.clone(), vnet));
                } else if is_child_route || is_child_rule {
                    let (parent_val, own) = match (&parent_name, name.to_tf_string()) {
                        (Some(p), Some(n)) => (p.clone(), Val::String(n)),
                        // The older form names the child "table/route".
                        (None, Some(n)) => match n.rsplit_once('/') {
                            Some((p, c)) => (Val::String(p.into()), Val::String(c.into())),
                            None => (Val::unknown(format!("{n} does not name its parent")), Val::String(n)),
                        },
                        (_, None) => (parent_name.clone().unwrap_or(Val::Null), name.clone()),
                    };
                    let mut node = self.node(ev, inst.body, &inst.scope, 0);
                    let next_hop_firewall = node
                        .get("properties")
                        .and_then(|p| p.present("nextHopIpAddress"))
                        .and_then(|ip| self.firewall_ref(ev, &ip.origin));
                    if let NodeKind::Object(props) = &mut node.kind {
                        props.retain(|(k, _)| !k.eq_ignore_ascii_case("name"));
                        let o = property(inst.body, "name")
                            .map(|e| self.origin(&e.span))
                            .unwrap_or_else(|| self.origin(&span));
                        props.push(("name".into(), Node::value(own, o)));
                    }
                    self.deferred.children.push(ChildResource {
                        parent_type: if is_child_route { "route table" } else { "NSG" },
                        parent_name: parent_val,
                        parent_address: parent_address.clone(),
                        is_route: is_child_route,
                        address: address.clone(),
                        node,
                        origin: self.origin(&span),
                        dialect: Dialect::Bicep,
                        next_hop_firewall,
                        conditional: inst.conditional.clone(),
                    });
                }
            }
            // Children declared inside the body.
            if let ExprKind::Object(members) = &inst.body.kind {
                for m in members {
                    if let ObjectMemberKind::Resource { decl, .. } = &m.kind {
                        self.resource(ev, decl, m.span.clone(), Some((&full_type, &name, &address)), &inst.scope);
                    }
                }
            }
        }
    }

    /// `fw.properties.ipConfigurations[0].properties.privateIPAddress`
    /// (possibly inside a condition): a next hop read from a firewall this
    /// file declares.
    fn firewall_ref(&self, ev: &Evaluator, at: &Origin) -> Option<Link> {
        let text = self.f.text.get(at.span())?;
        if text.contains(".outputs.privateIp") {
            return self.avm_firewall_in(at);
        }
        if !text.contains("privateIPAddress") {
            return None;
        }
        self.symbol_in(ev, at, "Microsoft.Network/azureFirewalls", ".properties.ipConfigurations")
    }

    /// `fw.outputs.privateIp` where `fw` is a call of the AVM firewall
    /// module in this file: the one firewall module symbol the expression reads.
    fn avm_firewall_in(&self, at: &Origin) -> Option<Link> {
        if at.file != self.f.file {
            return None;
        }
        let text = self.f.text.get(at.span())?;
        let cat = registry::catalogue();
        let mut found: Vec<&str> = Vec::new();
        for s in &self.f.program.statements {
            let StatementKind::Module(m) = &s.kind else { continue };
            let is_firewall = m.path.as_literal_string().is_some_and(
                |p| matches!(cat.bicep(&p), Some(Resolution::Mapped { module, .. }) if module.produces == registry::Produces::Firewall),
            );
            let name = m.name.name.as_str();
            let reads = text.match_indices(&format!("{name}.outputs.privateIp")).any(|(pos, _)| {
                text.get(..pos)
                    .and_then(|b| b.chars().last())
                    .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
            });
            if is_firewall && reads && !found.contains(&name) {
                found.push(name);
            }
        }
        match found.as_slice() {
            [one] => Some(Link::Address(format!("{}{one}", self.prefix), at.clone(), 0)),
            _ => None,
        }
    }

    /// The one resource symbol of type `ty` the expression at `at` reads as
    /// `symbol` + `suffix`, as a link to its address.
    fn symbol_in(&self, ev: &Evaluator, at: &Origin, ty: &str, suffix: &str) -> Option<Link> {
        if at.file != self.f.file {
            return None;
        }
        let text = self.f.text.get(at.span())?;
        let mut found: Vec<&str> = Vec::new();
        for (pos, _) in text.match_indices(suffix) {
            let before = text.get(..pos)?;
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map(|i| i + 1)
                .unwrap_or(0);
            let ident = before.get(start..)?;
            if ev.resources.get(ident).is_some_and(|s| s.ty.eq_ignore_ascii_case(ty)) && !found.contains(&ident) {
                found.push(ident);
            }
        }
        match found.as_slice() {
            [one] => Some(Link::Address(format!("{}{one}", self.prefix), at.clone(), 0)),
            _ => None,
        }
    }

    fn name_field(&self, body: &Expr, name: &Val) -> Field<String> {
        let o = property(body, "name")
            .map(|e| self.origin(&e.span))
            .unwrap_or_else(|| self.origin(&body.span));
        match name {
            Val::Unknown(r) => Field::unknown(Unresolved {
                reason: r.to_string(),
                origin: o,
            }),
            v => match v.to_tf_string() {
                Some(s) => Field::Known(s, o),
                None => Field::unknown(Unresolved {
                    reason: "the name is not a string".into(),
                    origin: o,
                }),
            },
        }
    }

    /// Evaluates a resource body into a [`Node`], keeping a place per property
    /// written out in the source and expanding `[for …]` loops element by element.
    fn node(&self, ev: &Evaluator, e: &Expr, scope: &Scope, depth: usize) -> Node {
        let origin = self.origin(&e.span);
        if depth > 64 {
            return Node::value(Val::unknown("the resource nests too deeply to evaluate"), origin);
        }
        match &e.kind {
            ExprKind::Object(members) => {
                let mut props = Vec::new();
                for m in members {
                    match &m.kind {
                        ObjectMemberKind::Property { key, value } => {
                            if let Some(k) = ev.key(key, scope, 0) {
                                props.push((k, self.node(ev, value, scope, depth + 1)));
                            }
                        }
                        ObjectMemberKind::Spread(v) => {
                            if let Val::Object(o) = ev.eval(v, scope) {
                                let so = self.origin(&v.span);
                                props.extend(o.into_iter().map(|(k, v)| (k, Node::value(v, so.clone()))));
                            }
                        }
                        ObjectMemberKind::Resource { .. } => {}
                    }
                }
                Node {
                    kind: NodeKind::Object(props),
                    origin,
                }
            }
            ExprKind::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    match &i.kind {
                        ArrayItemKind::Value(v) => out.push(self.node(ev, v, scope, depth + 1)),
                        ArrayItemKind::Spread(v) => match ev.eval(v, scope) {
                            Val::List(l) => out.extend(l.into_iter().map(|x| Node::value(x, self.origin(&v.span)))),
                            other => return Node::value(other, origin),
                        },
                    }
                }
                Node {
                    kind: NodeKind::List(out),
                    origin,
                }
            }
            ExprKind::For {
                item,
                index,
                iterable,
                body,
            } => {
                let items = match ev.eval(iterable, scope) {
                    Val::List(l) if l.len() <= ev.budget.limits.collection_size => l,
                    Val::Unknown(r) => return Node::value(Val::Unknown(r), origin),
                    _ => return Node::value(Val::unknown("the loop does not iterate over an array kmsguard can read"), origin),
                };
                let mut out = Vec::new();
                for (i, v) in items.into_iter().enumerate() {
                    if let Err(reason) = ev.budget.expand_instance(body.span.len()) {
                        return Node::value(Val::unknown(reason), origin);
                    }
                    let mut s = scope.with(&item.name, v);
                    if let Some(ix) = index {
                        s = s.with(&ix.name, Val::Number(i as f64));
                    }
                    match &body.kind {
                        ExprKind::If { cond, body } => match ev.eval(cond, &s) {
                            Val::Bool(true) => out.push(self.node(ev, body, &s, depth + 1)),
                            Val::Bool(false) => {}
                            other => {
                                return Node::value(
                                    if other.is_unknown() {
                                        other
                                    } else {
                                        Val::unknown("a loop filter is not a bool")
                                    },
                                    origin,
                                )
                            }
                        },
                        _ => out.push(self.node(ev, body, &s, depth + 1)),
                    }
                }
                Node {
                    kind: NodeKind::List(out),
                    origin,
                }
            }
            ExprKind::Paren(inner) => self.node(ev, inner, scope, depth + 1),
            ExprKind::Ternary { cond, then, otherwise } => match ev.eval(cond, scope) {
                Val::Bool(true) => self.node(ev, then, scope, depth + 1),
                Val::Bool(false) => self.node(ev, otherwise, scope, depth + 1),
                _ => Node::value(ev.eval(e, scope), origin),
            },
            _ => Node::value(ev.eval(e, scope), origin),
        }
    }

    /// A fix goes before the first route of a written-out `routes` array.
    fn authoring(&self, body: &Expr, symbol: &str) -> crate::model::Authoring {
        self.routes_authoring(property(body, "properties").and_then(|p| property(p, "routes")), body, symbol)
    }

    /// A fix goes before the first route of `routes` when it is written out.
    fn routes_authoring(&self, routes: Option<&Expr>, body: &Expr, symbol: &str) -> crate::model::Authoring {
        let first = routes.and_then(|r| match &r.kind {
            ExprKind::Array(items) => items.first(),
            _ => None,
        });
        let text = &self.f.text;
        let (indent, insert_at) = match first {
            Some(i) => {
                let start = line_start(text, i.span.start);
                (indent_at(text, i.span.start), Some(Origin::new(self.f.file, start..start)))
            }
            None => (indent_at(text, body.span.start) + "      ", None),
        };
        azure::inline_authoring(Dialect::Bicep, indent, symbol.to_string(), insert_at)
    }
}

/// Lowers a call of a registry module kmsguard reads from its inputs: each
/// instance's `params` reshaped into the resource the module deploys. Routes
/// and rules keep the places they are written in the call; the table or NSG
/// itself is at the module's symbol, and the call is named as related.
#[allow(clippy::too_many_arguments)]
fn registry_call(
    w: &mut Walker,
    ev: &Evaluator,
    s: &kmsguard_bicep_syntax::Statement,
    m: &kmsguard_bicep_syntax::ModuleDecl,
    module: &registry::ModuleMap,
    version: &registry::Known,
    exact: bool,
    address: &str,
) {
    for inst in instances(ev, &m.value, w.f.file, &w.conditional) {
        let origin = w.origin(&m.name.span);
        if let Err(reason) = ev.budget.expand_instance(inst.body.span.len()) {
            w.model.unchecked.push((address.to_string(), Unresolved { reason, origin }));
            break;
        }
        let params_expr = property(inst.body, "params");
        let params = match params_expr {
            Some(p) => w.node(ev, p, &inst.scope, 0),
            None => Node {
                kind: NodeKind::Object(Vec::new()),
                origin: origin.clone(),
            },
        };
        if !exact {
            let passed: Vec<String> = match &params.kind {
                NodeKind::Object(props) => props.iter().map(|(k, _)| k.clone()).collect(),
                NodeKind::Value(Val::Object(o)) => o.keys().cloned().collect(),
                _ => Vec::new(),
            };
            if let Some(why) = registry::undeclared_inputs(version, &passed) {
                let path = m.path.as_literal_string().unwrap_or_default();
                w.model.unchecked.push((
                    address.to_string(),
                    Unresolved {
                        reason: format!(
                            "{path} is not a version kmsguard knows, and the call {why}; the nearest known version is {}",
                            version.version
                        ),
                        origin: w.origin(&m.path.span),
                    },
                ));
                continue;
            }
        }
        let body = registry::reshape(module, version, &params);
        let routes = params_expr.and_then(|p| property(p, "routes"));
        let call = registry::Call {
            address: format!("{address}{}", inst.suffix),
            origin,
            conditional: inst.conditional.clone(),
            dialect: Dialect::Bicep,
            authoring: w.routes_authoring(routes, params_expr.unwrap_or(inst.body), &m.name.name),
            site: w.origin(&s.span),
        };
        let registry::Lowered { mut model, deferred } = registry::lower(module, body, call);
        // A route whose next hop reads an AVM firewall's `outputs.privateIp`
        // goes through that firewall, as with `fw.properties.ipConfigurations…`.
        // A pattern's routes to the firewall it deploys itself are linked already.
        for route in model.route_tables.iter_mut().flat_map(|t| t.routes.iter_mut()) {
            if route.next_hop_firewall.is_none() {
                route.next_hop_firewall = route.next_hop_ip.as_ref().and_then(|ip| w.firewall_ref(ev, ip.origin()));
            }
        }
        w.model.absorb(model);
        w.deferred.extend(deferred);
    }
}

/// The object body of a resource or module value (`{…}`, `if (…) {…}`, `[for …: {…}]`).
fn resource_body(value: &Expr) -> Option<&Expr> {
    match &value.kind {
        ExprKind::Object(_) => Some(value),
        ExprKind::If { body, .. } => resource_body(body),
        ExprKind::For { body, .. } => resource_body(body),
        ExprKind::Paren(inner) => resource_body(inner),
        _ => None,
    }
}

/// A property of an object literal, by name (case-insensitive).
fn property<'e>(obj: &'e Expr, name: &str) -> Option<&'e Expr> {
    let ExprKind::Object(members) = &obj.kind else { return None };
    members.iter().rev().find_map(|m| match &m.kind {
        ObjectMemberKind::Property { key, value } if key.literal_name().is_some_and(|k| k.eq_ignore_ascii_case(name)) => Some(value),
        _ => None,
    })
}

/// `'Microsoft.Network/routeTables@2023-04-01'` → (type, api version).
fn split_type(e: &Expr) -> (String, Option<String>) {
    let s = e.as_literal_string().unwrap_or_default();
    match s.split_once('@') {
        Some((t, v)) => (t.to_string(), Some(v.to_string())),
        None => (s, None),
    }
}

fn instances<'e>(ev: &Evaluator, value: &'e Expr, file: FileId, outer: &Option<Unresolved>) -> Vec<Instance<'e>> {
    instances_in(ev, value, file, outer, &Scope::default())
}

/// Expands `if (…)` and `[for …]` on a resource or module declaration.
fn instances_in<'e>(ev: &Evaluator, value: &'e Expr, file: FileId, outer: &Option<Unresolved>, scope: &Scope) -> Vec<Instance<'e>> {
    let single = |body: &'e Expr, scope: Scope, conditional: Option<Unresolved>| Instance {
        body,
        scope,
        suffix: String::new(),
        conditional: conditional.or_else(|| outer.clone()),
    };
    match &value.kind {
        ExprKind::If { cond, body } => match ev.eval(cond, scope) {
            Val::Bool(false) => Vec::new(),
            Val::Bool(true) => instances_in(ev, body, file, outer, scope),
            v => {
                let reason = match v {
                    Val::Unknown(r) => format!("its condition is unknown ({r})"),
                    _ => "its condition is not a bool".into(),
                };
                let c = Some(Unresolved {
                    reason,
                    origin: Origin::new(file, cond.span.clone()),
                });
                instances_in(ev, body, file, &c, scope)
            }
        },
        ExprKind::For {
            item,
            index,
            iterable,
            body,
        } => match ev.eval(iterable, scope) {
            Val::List(l) if l.len() <= ev.budget.limits.collection_size => {
                let mut out = Vec::new();
                for (i, v) in l.into_iter().enumerate() {
                    let mut s = scope.with(&item.name, v);
                    if let Some(ix) = index {
                        s = s.with(&ix.name, Val::Number(i as f64));
                    }
                    for mut inst in instances_in(ev, body, file, outer, &s) {
                        inst.suffix = format!("[{i}]{}", inst.suffix);
                        out.push(inst);
                    }
                }
                out
            }
            v => {
                let reason = match v {
                    Val::Unknown(r) => format!("its loop is over an unknown collection ({r})"),
                    _ => "its loop is not over an array kmsguard can read".into(),
                };
                let c = Some(Unresolved {
                    reason,
                    origin: Origin::new(file, iterable.span.clone()),
                });
                let s = scope.with(&item.name, Val::unknown("the loop's collection is unknown"));
                match resource_body(body) {
                    Some(b) => vec![single(b, s, c)],
                    None => Vec::new(),
                }
            }
        },
        ExprKind::Object(_) => vec![single(value, scope.clone(), None)],
        ExprKind::Paren(inner) => instances_in(ev, inner, file, outer, scope),
        _ => Vec::new(),
    }
}

/// The spans a suppression comment can stand above: every statement, and
/// every object member and array element at any depth (`routes: [ { … } ]`,
/// nested child resources).
pub fn constructs(program: &Program) -> Vec<std::ops::Range<usize>> {
    fn expr(e: &Expr, out: &mut Vec<std::ops::Range<usize>>) {
        match &e.kind {
            ExprKind::Object(members) => {
                for m in members {
                    out.push(m.span.clone());
                    match &m.kind {
                        ObjectMemberKind::Property { value, .. } => expr(value, out),
                        ObjectMemberKind::Spread(v) => expr(v, out),
                        ObjectMemberKind::Resource { decl, .. } => expr(&decl.value, out),
                    }
                }
            }
            ExprKind::Array(items) => {
                for i in items {
                    out.push(i.span.clone());
                    match &i.kind {
                        ArrayItemKind::Value(v) | ArrayItemKind::Spread(v) => expr(v, out),
                    }
                }
            }
            ExprKind::For { body, .. } | ExprKind::If { body, .. } => expr(body, out),
            ExprKind::Paren(inner) => expr(inner, out),
            ExprKind::Ternary { then, otherwise, .. } => {
                expr(then, out);
                expr(otherwise, out);
            }
            ExprKind::Call { args, .. } => args.iter().for_each(|a| expr(a, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for s in &program.statements {
        out.push(s.span.clone());
        match &s.kind {
            StatementKind::Resource(r) => expr(&r.value, &mut out),
            StatementKind::Module(m) => expr(&m.value, &mut out),
            StatementKind::Var(v) => expr(&v.value, &mut out),
            StatementKind::Param(p) => {
                if let Some(d) = &p.default {
                    expr(d, &mut out);
                }
            }
            _ => {}
        }
    }
    out
}
