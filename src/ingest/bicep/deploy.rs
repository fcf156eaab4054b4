//! A Bicep deployment: one file under its parameters, with the files it
//! imports from and the modules it deploys, each module instance lowered as
//! a deployment of its own file under the caller's address.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;

use kmsguard_bicep_syntax::{ArrayItemKind, Expr, ExprKind, ImportDecl, ObjectMemberKind, StatementKind};

use super::eval::{Evaluator, Func, Scope, Symbol};
use super::resources::{registry_call, Walker};
use super::{instances, local_module, property, relative_to, resource_body, split_type, var_decls, BicepFile, MAX_MODULE_DEPTH};
use crate::ingest::azure::{self, Node};
use crate::ingest::registry::{self, Resolution};
use crate::ingest::value::Val;
use crate::limits::Budget;
use crate::model::{Model, Unresolved};
use crate::source::{normalise, Origin};

/// Where a module declaration leads.
enum Target<'a> {
    /// A local file, with its normalised path.
    File(&'a BicepFile, PathBuf),
    /// Nowhere kmsguard follows, with the module's value for its caller
    /// (`None` leaves the reason already set).
    Read(Option<Val>),
    /// Nowhere kmsguard follows, for this reason.
    Unchecked(String),
}

pub(super) struct Ctx<'a> {
    pub(super) by_path: &'a HashMap<PathBuf, &'a BicepFile>,
    /// The files some root deployed as a module instance so far.
    pub(super) deployed: std::sync::Mutex<std::collections::HashSet<PathBuf>>,
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
    pub(super) fn lower(
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
        let (target, target_path) = match self.module_target(w, ev, s, m, chain, &address) {
            Target::File(target, path) => (target, path),
            Target::Read(value) => return (out, value),
            Target::Unchecked(reason) => {
                let v = unchecked(&mut out, reason);
                return (out, v);
            }
        };
        let looped = matches!(resource_loop(&m.value), Some(true));
        let mut values = Vec::new();
        for inst in instances(ev, &m.value, w.f.file, &w.conditional) {
            if let Err(reason) = ev.budget.expand_instance(inst.body.span.len()).map_err(|spent| spent.to_string()) {
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

    /// The file a module declaration deploys; or, for a registry module
    /// kmsguard reads from its inputs (lowered here into `w`) or one it does
    /// not read, its value for the caller; or why it is not followed.
    fn module_target(
        &self,
        w: &mut Walker<'a>,
        ev: &Evaluator<'a>,
        s: &kmsguard_bicep_syntax::Statement,
        m: &kmsguard_bicep_syntax::ModuleDecl,
        chain: &[PathBuf],
        address: &str,
    ) -> Target<'a> {
        let Some(path) = m.path.as_literal_string() else {
            return Target::Read(None);
        };
        let Some(local) = local_module(&path) else {
            let reason = match registry::catalogue().bicep(&path) {
                Some(Resolution::Silent) => {
                    return Target::Read(Some(Val::unknown(format!("the outputs of registry module {path} are not read"))))
                }
                Some(Resolution::Mapped { module, version, exact }) => {
                    registry_call(w, ev, s, m, module, version, exact, address);
                    return Target::Read(Some(registry_outputs(ev, w.f, m, module, version)));
                }
                Some(Resolution::Unchecked(reason)) => reason,
                None => format!("the module {path} comes from a registry or template spec, which kmsguard does not fetch"),
            };
            return Target::Unchecked(reason);
        };
        let Some(target) = self.by_path.get(&relative_to(&w.f.path, local)).copied() else {
            return Target::Unchecked(format!("the module {path} is not among the files checked; include its directory"));
        };
        let target_path = normalise(&target.path);
        if let Some(cycle) = crate::context::call_cycle(chain, &target_path) {
            let what = if cycle.len() == 2 {
                "the module deploys its own file"
            } else {
                "module references form a cycle"
            };
            return Target::Unchecked(format!(
                "{what} ({}); the reference is not followed, and the file is checked as a deployment of its own",
                cycle.join(" → ")
            ));
        }
        if chain.len() > MAX_MODULE_DEPTH {
            return Target::Unchecked(format!("modules nested deeper than {MAX_MODULE_DEPTH} levels are not followed"));
        }
        Target::File(target, target_path)
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
pub(super) fn resource_loop(value: &Expr) -> Option<bool> {
    match &value.kind {
        ExprKind::For { .. } => Some(true),
        ExprKind::Paren(inner) => resource_loop(inner),
        ExprKind::Object(_) | ExprKind::If { .. } => Some(false),
        _ => None,
    }
}

/// Resource symbols, so that `rt.name` and `parent: rt` resolve.
pub(super) fn set_resource_symbols(f: &BicepFile, ev: &mut Evaluator) {
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
