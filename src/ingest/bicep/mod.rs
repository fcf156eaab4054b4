//! The Bicep front end: `.bicep` templates (params, vars, resources with
//! conditions, loops, nested children and `parent:`, local modules) and
//! `.bicepparam` files, evaluated natively — no Bicep CLI — and lowered
//! through the REST-shape lowering shared with ARM.

mod deploy;
mod eval;
mod resources;

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kmsguard_bicep_syntax::{ArrayItemKind, Expr, ExprKind, ObjectMemberKind, Program, StatementKind, UsingTarget};

use deploy::Ctx;
use eval::{Evaluator, Scope};

use crate::ingest::value::Val;
use crate::ingest::FileError;
use crate::limits::{Budget, Limits};
use crate::model::{Model, Unresolved};
use crate::source::{normalise, FileId, Origin};

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

/// One instance of a resource or module declaration: its body, the scope its
/// loop binds, its address suffix, and whether it may not be deployed.
struct Instance<'e> {
    body: &'e Expr,
    scope: Scope,
    suffix: String,
    conditional: Option<Unresolved>,
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
