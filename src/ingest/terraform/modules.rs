//! Terraform module calls: a `module` block is lowered as its source
//! directory with the inputs it passes, under the address prefix
//! `module.NAME[KEY].`, and its outputs become `module.NAME.x` in the caller.
//!
//! Local sources (`./…`, `../…`) are directories among the files checked.
//! Registry and git sources are read where `terraform init` installed them
//! (`.terraform/modules/modules.json` of the root module); otherwise the call
//! is reported as not checked (KG901), never guessed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use hcl::edit::expr::Expression;
use hcl::edit::Span;

use super::eval::{Evaluator, LocalDef, Scope};
use super::fields::eval_or_unknown;
use super::lower::{self, expand_instances, ResourceBlock};
use super::{resolve_variables, TfModule, VarInputs};
use crate::ingest::registry::Resolution;
use crate::ingest::value::Val;
use crate::limits::{Budget, Limits};
use crate::model::{Link, Model, Unresolved};
use crate::source::{normalise, Origin};

/// Module calls nested deeper than this are not followed.
const MAX_DEPTH: usize = 8;

/// Arguments of a module block that are not inputs.
const META: &[&str] = &["source", "version", "count", "for_each", "providers", "depends_on"];

/// Reads a Terraform directory's files again, parsed; `None` when it holds
/// no Terraform configuration. Modules are read on demand so that a large
/// tree never holds every directory's syntax tree at once.
pub type ModuleLoader<'l> = dyn Fn(&Path) -> Option<TfModule> + Sync + 'l;

/// Every Terraform directory checked, by normalised path, loaded on demand.
pub struct ModuleSet<'l> {
    /// Each directory's module, read the first time a call needs it.
    modules: BTreeMap<PathBuf, OnceLock<Option<Arc<TfModule>>>>,
    load: &'l ModuleLoader<'l>,
    limits: Limits,
    /// The directories lowered as a module instance by some root so far: a
    /// directory that is only called but never instantiated (`count = 0`, a
    /// false condition, a call that cannot be followed) must still be
    /// checked as a root, or a few lines of a pull request could hide it.
    instantiated: Mutex<BTreeSet<PathBuf>>,
    /// Each directory by its real path, built the first time a call is not
    /// found under the path it names.
    by_real: OnceLock<HashMap<PathBuf, PathBuf>>,
}

/// The directories a Terraform directory calls as modules: local sources,
/// and whatever `terraform init` installed for it.
pub fn calls(dir: &Path, m: &TfModule) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = module_blocks(m)
        .into_iter()
        .filter(|(_, source, _)| is_local(source))
        .map(|(_, source, _)| normalise(&dir.join(source)))
        .collect();
    out.extend(crate::discover::installed_modules(dir).into_iter().map(|(_, d)| normalise(&d)));
    out
}

/// Whether a directory calls any module; one that does not can be lowered
/// on its own, without the rest of the tree.
pub fn calls_modules(m: &TfModule) -> bool {
    m.files.iter().any(|f| f.body.get_blocks("module").next().is_some())
}

impl<'l> ModuleSet<'l> {
    /// `dirs` are the directories holding Terraform configuration.
    pub fn new(dirs: impl IntoIterator<Item = PathBuf>, load: &'l ModuleLoader<'l>) -> Self {
        ModuleSet {
            modules: dirs.into_iter().map(|d| (normalise(&d), OnceLock::new())).collect(),
            load,
            limits: Limits::default(),
            instantiated: Mutex::new(BTreeSet::new()),
            by_real: OnceLock::new(),
        }
    }

    /// Evaluates every module under `limits` instead of the defaults.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// A set with no modules to call, for a directory that calls none.
    pub fn empty(load: &'l ModuleLoader<'l>) -> Self {
        ModuleSet {
            modules: BTreeMap::new(),
            load,
            limits: Limits::default(),
            instantiated: Mutex::new(BTreeSet::new()),
            by_real: OnceLock::new(),
        }
    }

    /// Lowers the root module `m` (read from `dir`) and every module it calls;
    /// `plan_vars` are the values of a plan made from this root, which win
    /// over every other source. Addresses are unique within `namespace`.
    pub fn lower_root(
        &self,
        dir: &Path,
        m: &TfModule,
        inputs: &VarInputs,
        plan_vars: Option<&BTreeMap<String, Val>>,
        namespace: u32,
    ) -> Model {
        let dir = normalise(dir);
        let mut stack = vec![dir.clone()];
        let call = Call {
            prefix: String::new(),
            key: String::new(),
            dir: dir.clone(),
            installed: Arc::new(crate::discover::installed_modules(&dir)),
            sites: Vec::new(),
            plan_vars: plan_vars.cloned(),
            budget: Budget::new(self.limits, "root module and the modules it calls"),
        };
        let mut model = self.lower_call(m, None, inputs, &call, &mut stack).0;
        // Children whose parent another module of the unit declares find it
        // now; the rest get a stand-in for the parent declared elsewhere.
        model.adopt_orphans();
        crate::ingest::registry::join_associated_subnets(&mut model);
        model.set_namespace(namespace);
        model
    }

    /// The directories some root lowered so far lowered as a module instance.
    pub fn instantiated(&self) -> BTreeSet<PathBuf> {
        match self.instantiated.lock() {
            Ok(set) => set.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The module in `dir`, with the directory it was checked as. A call
    /// through a symbolic link inside the repository (`vm -> ../other/vm`)
    /// finds the directory the walk checked under its own path: discovery
    /// walks each real directory once.
    fn find(&self, dir: &Path) -> Option<(PathBuf, Arc<TfModule>)> {
        let (path, slot) = match self.modules.get_key_value(&normalise(dir)) {
            Some(found) => found,
            None => {
                let real = std::fs::canonicalize(dir).ok()?;
                let by_real = self.by_real.get_or_init(|| {
                    let mut m = HashMap::new();
                    for d in self.modules.keys() {
                        if let Ok(c) = std::fs::canonicalize(d) {
                            m.entry(c).or_insert_with(|| d.clone());
                        }
                    }
                    m
                });
                self.modules.get_key_value(by_real.get(&real)?)?
            }
        };
        let module = slot.get_or_init(|| (self.load)(path).map(Arc::new)).clone()?;
        Some((path.clone(), module))
    }

    /// Lowers one module instance; returns its model and its outputs.
    fn lower_call(
        &self,
        m: &TfModule,
        given: Option<BTreeMap<String, Val>>,
        inputs: &VarInputs,
        call: &Call,
        stack: &mut Vec<PathBuf>,
    ) -> (Model, Val) {
        let variables = module_variables(m, given, inputs, call);
        let mut ev = module_evaluator(m, variables, call);
        let mut model = Model::default();
        // AVM firewalls, policies and rule collection groups of this
        // directory's calls, joined once every call is read.
        let mut avm_deferred = crate::ingest::azure::Deferred::default();
        // Module calls first: the module's own resources may read their outputs.
        for (block, source, file) in module_blocks(m) {
            let name = block.labels.first().map(|l| l.as_str()).unwrap_or_default();
            let site = ModuleBlock {
                name,
                block,
                file,
                address: format!("{}module.{name}", call.prefix),
                key: if call.key.is_empty() {
                    name.to_string()
                } else {
                    format!("{}.{name}", call.key)
                },
                source_origin: Origin::new(
                    file.file,
                    block
                        .body
                        .get_attribute("source")
                        .and_then(|a| a.value.span())
                        .unwrap_or_else(|| super::header_span(block)),
                ),
            };
            match self.call_target(&ev, &site, &source, call, stack, (&mut model, &mut avm_deferred)) {
                Target::Directory(dir, checked_as, child) => {
                    let value = self.instantiate(&ev, m, &site, (dir, checked_as, &child), inputs, call, stack, &mut model);
                    ev.modules.insert(name.to_string(), value);
                }
                Target::Read(Some(value)) => {
                    ev.modules.insert(name.to_string(), value);
                }
                Target::Read(None) => {}
                Target::Unchecked(reason) => model.unchecked.push(site.unchecked(reason)),
            }
        }

        crate::ingest::azure::finish(&mut model, avm_deferred);
        let mut own = lower::lower(&ev, m);
        prefix_addresses(&mut own, &call.prefix);
        for t in &mut own.route_tables {
            t.called_from = call.sites.clone();
        }
        for n in &mut own.nsgs {
            n.called_from = call.sites.clone();
        }
        merge(&mut model, own);
        (model, module_outputs(&ev, m))
    }

    /// The directory a module block calls, or why it is not followed; an
    /// AVM module kmsguard knows is lowered here from the call's inputs.
    fn call_target(
        &self,
        ev: &Evaluator,
        site: &ModuleBlock,
        source: &str,
        call: &Call,
        stack: &[PathBuf],
        (model, deferred): (&mut Model, &mut crate::ingest::azure::Deferred),
    ) -> Target {
        let dir = if is_local(source) {
            Some(normalise(&call.dir.join(source)))
        } else {
            call.installed.iter().find(|(k, _)| *k == site.key).map(|(_, d)| normalise(d))
        };
        let Some(dir) = dir else {
            // Not installed: an AVM module kmsguard knows is read from the
            // call's inputs; one that deploys nothing it models is silent.
            let version = match site.block.body.get_attribute("version").map(|a| &a.value) {
                Some(Expression::String(s)) => Some(s.value().clone()),
                _ => None,
            };
            return match crate::ingest::registry::catalogue().terraform(source, version.as_deref()) {
                Some(Resolution::Silent) => Target::Read(None),
                Some(Resolution::Mapped { module, version, exact }) => Target::Read(Some(super::avm::lower_call(
                    ev,
                    site.block,
                    site.file,
                    site.name,
                    &call.prefix,
                    &call.sites,
                    META,
                    module,
                    version,
                    exact,
                    model,
                    deferred,
                ))),
                Some(Resolution::Unchecked(reason)) => Target::Unchecked(reason),
                None => Target::Unchecked(format!(
                    "the module source {source} is not a local path and .terraform/modules/modules.json does not list it; run terraform init so kmsguard can read it"
                )),
            };
        };
        let Some((checked_as, child)) = self.find(&dir) else {
            return Target::Unchecked(format!(
                "the module directory {} is not among the files checked",
                crate::source::display_path(&dir)
            ));
        };
        if let Some(cycle) = crate::context::call_cycle(stack, &dir) {
            let what = if cycle.len() == 2 {
                format!("the module calls its own directory ({})", cycle.join(" → "))
            } else {
                format!("module calls form a cycle ({})", cycle.join(" → "))
            };
            return Target::Unchecked(format!(
                "{what}; the call is not followed, and the directory is checked as a root module"
            ));
        }
        if stack.len() > MAX_DEPTH {
            return Target::Unchecked(format!(
                "module calls are nested more than {MAX_DEPTH} deep; this call is not followed"
            ));
        }
        Target::Directory(dir, checked_as, child)
    }

    /// Lowers every instance (`count`, `for_each`) of a call to a local or
    /// installed module into `model`; returns `module.x`: an object, a list
    /// (count) or a map (for_each) of outputs.
    #[allow(clippy::too_many_arguments)]
    fn instantiate(
        &self,
        ev: &Evaluator,
        m: &TfModule,
        site: &ModuleBlock,
        (dir, checked_as, child): (PathBuf, PathBuf, &TfModule),
        inputs: &VarInputs,
        call: &Call,
        stack: &mut Vec<PathBuf>,
        model: &mut Model,
    ) -> Val {
        let (block, file) = (site.block, site.file);
        let rb = ResourceBlock {
            ty: "module",
            name: site.name,
            block,
            file,
        };
        let mut outputs: Vec<(Option<Val>, Val)> = Vec::new();
        // Charged here rather than by `instances`: a call cut short
        // is reported as unchecked, not lowered once more.
        for inst in expand_instances(ev, &rb) {
            if let Err(reason) = ev
                .budget
                .expand_instance(block.span().map_or(0, |s| s.len()))
                .map_err(|spent| spent.to_string())
            {
                model.unchecked.push(site.unchecked(reason));
                break;
            }
            let mut given = BTreeMap::new();
            for attr in block.body.attributes() {
                let k = attr.key.as_str();
                if !META.contains(&k) {
                    given.insert(k.to_string(), eval_or_unknown(ev, &attr.value, &file.text, &inst.scope));
                }
            }
            let mut sites = call.sites.clone();
            sites.push(Origin::new(file.file, super::header_span(block)));
            // A root's `for_each = var.x` over a map written in a var
            // file: that entry is what makes this instance.
            if call.prefix.is_empty() {
                if let Some(input) = instance_input(m, inputs, block, &inst, &format!("{}.", inst.address)) {
                    model.instance_inputs.push(input);
                }
            }
            let child_call = Call {
                prefix: format!("{}{}.", call.prefix, inst.address),
                key: site.key.clone(),
                dir: dir.clone(),
                installed: call.installed.clone(),
                sites,
                plan_vars: None,
                budget: call.budget.clone(),
            };
            if let Ok(mut set) = self.instantiated.lock() {
                set.insert(checked_as.clone());
            }
            stack.push(dir.clone());
            let (mut child_model, out) = self.lower_call(child, Some(given), inputs, &child_call, stack);
            stack.pop();
            if let Some(c) = &inst.conditional {
                for t in &mut child_model.route_tables {
                    t.conditional.get_or_insert_with(|| c.clone());
                }
                for n in &mut child_model.nsgs {
                    n.conditional.get_or_insert_with(|| c.clone());
                }
                orphans_exist_only_if(&mut child_model.orphans, c);
            }
            merge(model, child_model);
            outputs.push((inst.key, out));
        }
        match outputs.as_slice() {
            [(None, out)] => out.clone(),
            _ if outputs.iter().all(|(k, _)| matches!(k, Some(Val::Number(_)))) => Val::List(outputs.into_iter().map(|(_, o)| o).collect()),
            _ => Val::Object(outputs.into_iter().filter_map(|(k, o)| Some((k?.to_tf_string()?, o))).collect()),
        }
    }
}

/// A `module` block being lowered, with where its findings point.
struct ModuleBlock<'m> {
    name: &'m str,
    block: &'m hcl::edit::structure::Block,
    file: &'m super::HclFile,
    address: String,
    /// Its key in `.terraform/modules/modules.json`.
    key: String,
    source_origin: Origin,
}

impl ModuleBlock<'_> {
    fn unchecked(&self, reason: String) -> (String, Unresolved) {
        (
            self.address.clone(),
            Unresolved {
                reason,
                origin: self.source_origin.clone(),
            },
        )
    }
}

/// Where a module block leads.
enum Target {
    /// A directory checked, as called and as it was checked, with its module.
    Directory(PathBuf, PathBuf, Arc<TfModule>),
    /// Nowhere kmsguard follows, with `module.x`'s value when it has one.
    Read(Option<Val>),
    Unchecked(String),
}

/// A module's variables: a root's from its tfvars, `--var` and its plan;
/// a called module's from its call. tfvars and `--var` apply to the root
/// module only.
fn module_variables(m: &TfModule, given: Option<BTreeMap<String, Val>>, inputs: &VarInputs, call: &Call) -> BTreeMap<String, Val> {
    match given {
        None => {
            let mut v = resolve_variables(m, inputs, &call.budget);
            for (k, pv) in call.plan_vars.iter().flatten() {
                if let Some(slot) = v.get_mut(k) {
                    *slot = pv.clone();
                }
            }
            v
        }
        Some(given) => {
            let mut v = resolve_variables(m, &VarInputs::default(), &call.budget);
            for (k, val) in &mut v {
                match given.get(k) {
                    Some(g) => *val = g.clone(),
                    None if matches!(val, Val::Unknown(_)) => {
                        *val = Val::unknown(format!("the module call passes no value for var.{k}, which has no default"))
                    }
                    None => {}
                }
            }
            v
        }
    }
}

/// An evaluator for a module instance: its variables and its locals, from
/// `locals` blocks and `.tf.json` files.
fn module_evaluator<'m>(m: &'m TfModule, variables: BTreeMap<String, Val>, call: &Call) -> Evaluator<'m> {
    let mut locals = HashMap::new();
    for f in &m.files {
        for block in f.body.get_blocks("locals") {
            for attr in block.body.attributes() {
                locals.insert(
                    attr.key.as_str().to_string(),
                    LocalDef {
                        expr: &attr.value,
                        text: f.text.clone(),
                    },
                );
            }
        }
    }
    let mut ev = Evaluator::new(variables, locals).within(call.budget.clone());
    // `"locals": {…}`, or a list of such objects, in `.tf.json` files.
    for jf in &m.json_files {
        for (key, blocks) in jf.root.members() {
            if key != "locals" {
                continue;
            }
            for block in blocks.blocks() {
                for (name, value) in block.members() {
                    ev.json_locals.insert(name.clone(), value);
                }
            }
        }
    }
    ev
}

/// A module instance's `output` values, by name.
fn module_outputs(ev: &Evaluator, m: &TfModule) -> Val {
    let mut outputs = BTreeMap::new();
    for f in &m.files {
        for block in f.body.get_blocks("output") {
            let (Some(label), Some(value)) = (block.labels.first(), block.body.get_attribute("value")) else {
                continue;
            };
            outputs.insert(
                label.as_str().to_string(),
                eval_or_unknown(ev, &value.value, &f.text, &Scope::default()),
            );
        }
    }
    Val::Object(outputs)
}

/// Where a module instance sits: its address prefix, its key in
/// modules.json, its directory, what `terraform init` installed for its
/// root, and the chain of calls to it.
struct Call {
    prefix: String,
    key: String,
    dir: PathBuf,
    installed: Arc<Vec<(String, PathBuf)>>,
    sites: Vec<Origin>,
    /// A plan's variable values, for the root module only.
    plan_vars: Option<BTreeMap<String, Val>>,
    /// Evaluation steps of the root and every module it calls.
    budget: Budget,
}

/// Where the entry that makes `inst` is written, for a module call whose
/// `for_each` is a root variable (`var.spokes`) set in a var file: the last
/// file that sets it (auto var files in Terraform's order, then
/// `--var-file`), and in it the map entry named by the instance key.
fn instance_input(
    root: &TfModule,
    inputs: &VarInputs,
    block: &hcl::edit::structure::Block,
    inst: &lower::Instance,
    prefix: &str,
) -> Option<crate::model::InstanceInput> {
    use hcl::edit::expr::TraversalOperator as Op;
    let Some(Val::String(key)) = &inst.key else { return None };
    let Expression::Traversal(t) = &block.body.get_attribute("for_each")?.value else {
        return None;
    };
    let (Expression::Variable(root_name), [op]) = (&t.expr, t.operators.as_slice()) else {
        return None;
    };
    let Op::GetAttr(var) = op.value() else { return None };
    if root_name.as_str() != "var" {
        return None;
    }
    let var = var.as_str();
    let mut auto: Vec<&super::AutoVars> = root.auto_vars.iter().collect();
    auto.sort_by(|a, b| a.order.cmp(&b.order));
    // The last source that sets the variable is the one whose value counts;
    // only an HCL file has entries to point at.
    let mut winner = None;
    for values in auto.into_iter().map(|a| &a.values).chain(&inputs.values) {
        match values {
            super::VarValues::Hcl(f) => {
                if let Some(a) = f.body.get_attribute(var) {
                    winner = Some((f, &a.value));
                }
            }
            super::VarValues::Json(_, json) if json.get(var).is_some() => winner = None,
            super::VarValues::Flag(name, _) if name == var => winner = None,
            _ => {}
        }
    }
    let (file, value) = winner?;
    let Expression::Object(object) = value else { return None };
    let (k, v) = object.iter().find(|(k, _)| match k {
        hcl::edit::expr::ObjectKey::Ident(i) => i.as_str() == key,
        hcl::edit::expr::ObjectKey::Expression(Expression::String(s)) => s.value() == key,
        _ => false,
    })?;
    let start = k.span()?.start;
    let end = v.expr().span().map_or(start, |s| s.end);
    Some(crate::model::InstanceInput {
        namespace: 0,
        prefix: prefix.to_string(),
        origin: Origin::new(file.file, start..end),
        what: format!("the `{key}` entry of var.{var}"),
    })
}

pub(crate) fn is_local(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../") || source.starts_with(".\\") || source.starts_with("..\\")
}

/// The module blocks of a directory with their literal `source`.
fn module_blocks(m: &TfModule) -> Vec<(&hcl::edit::structure::Block, String, &super::HclFile)> {
    let mut out = Vec::new();
    for f in &m.files {
        for block in f.body.get_blocks("module") {
            let source = match block.body.get_attribute("source").map(|a| &a.value) {
                Some(Expression::String(s)) => s.value().clone(),
                _ => continue,
            };
            out.push((block, source, f));
        }
    }
    out
}

fn merge(into: &mut Model, from: Model) {
    into.absorb(from);
}

/// Prefixes every address a module's resources carry with `module.NAME.`.
fn prefix_addresses(model: &mut Model, prefix: &str) {
    if prefix.is_empty() {
        return;
    }
    let p = |a: &mut String| a.insert_str(0, prefix);
    let pl_one = |l: &mut Link| {
        if let Link::Address(a, _, _) = l {
            a.insert_str(0, prefix);
        }
    };
    let pl = |l: &mut Option<Link>| l.iter_mut().for_each(pl_one);
    for t in &mut model.route_tables {
        p(&mut t.address);
        for r in &mut t.routes {
            if let Some(a) = &mut r.resource {
                p(a);
            }
        }
    }
    for n in &mut model.nsgs {
        p(&mut n.address);
        for r in &mut n.rules {
            if let Some(a) = &mut r.resource {
                p(a);
            }
        }
    }
    for s in &mut model.subnets {
        p(&mut s.address);
        pl(&mut s.route_table);
        pl(&mut s.nsg);
        pl(&mut s.vnet);
    }
    for n in &mut model.nics {
        p(&mut n.address);
        pl(&mut n.nsg);
        for l in &mut n.subnets {
            if let Link::Address(a, _, _) = l {
                a.insert_str(0, prefix);
            }
        }
    }
    for g in &mut model.gateways {
        p(&mut g.address);
        g.subnet.iter_mut().for_each(pl_one);
    }
    for v in &mut model.vnets {
        p(&mut v.address);
    }
    for pe in &mut model.peerings {
        p(&mut pe.address);
        pe.vnet.iter_mut().for_each(pl_one);
        pe.remote.iter_mut().for_each(pl_one);
    }
    for f in &mut model.firewalls {
        p(&mut f.address);
    }
    for t in &mut model.route_tables {
        for r in &mut t.routes {
            if let Some(Link::Address(a, _, _)) = &mut r.next_hop_firewall {
                a.insert_str(0, prefix);
            }
        }
    }
    for (a, _) in &mut model.unchecked {
        p(a);
    }
    for o in &mut model.orphans {
        let resource = match &mut o.child {
            crate::model::OrphanChild::Route(r) => &mut r.resource,
            crate::model::OrphanChild::Rule(r) => &mut r.resource,
        };
        if let Some(a) = resource {
            p(a);
        }
        // A data source or module output is named from inside its module.
        if o.parent_name.is_none() {
            p(&mut o.parent_label);
        }
    }
}

/// Routes and rules a conditional module instance declares for a parent
/// outside it exist only if the instance does: their parent's own
/// condition does not cover them.
fn orphans_exist_only_if(orphans: &mut [crate::model::Orphan], c: &Unresolved) {
    for o in orphans {
        match &mut o.child {
            crate::model::OrphanChild::Route(r) => {
                let child = r.resource.clone().unwrap_or_else(|| "a route".into());
                r.exists_only_if(&child, c);
            }
            crate::model::OrphanChild::Rule(r) => {
                let child = r.resource.clone().unwrap_or_else(|| "a rule".into());
                r.exists_only_if(&child, c);
            }
        }
    }
}
