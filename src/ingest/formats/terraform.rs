//! Terraform: `.tf` and `.tf.json` configuration with its automatic
//! variable files, lowered root module by root module; and plans
//! (`terraform show -json`), whose variable values feed the configuration
//! beside them, or whose planned values are lowered when it is absent.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::{Claim, DirRead, FileRead, Format, Run, Unit};
use crate::discover::Kind;
use crate::ingest::load::guarded;
use crate::ingest::terraform::{self, json::TfJsonFile, plan::Plan, AutoVars, HclFile, TfModule, VarInputs, VarValues};
use crate::ingest::value::Val;
use crate::ingest::FileError;
use crate::model::Model;
use crate::source::{self, FileId, Origin, SourceMap};
use crate::{CheckOptions, VarArg};

pub struct Terraform;

/// A parsed Terraform file.
pub enum TfFile {
    /// A `.tf` file.
    Config(HclFile),
    /// A `.tf.json` file.
    Json(TfJsonFile),
    /// `terraform.tfvars`, `*.auto.tfvars` and their `.json` forms.
    Vars(AutoVars),
    Plan(Plan),
}

/// What a directory leaves for the root rounds.
#[derive(Default)]
pub struct TfDir {
    /// Whether the directory holds Terraform configuration.
    terraform: bool,
    /// Whether it is read only as a module some checked file calls: then it
    /// is lowered through its callers and never judged as a root.
    context: bool,
    /// The directories it calls as modules.
    calls: Vec<PathBuf>,
    /// Its model as a root module when it calls no module; kept only if no
    /// other directory turns out to call it.
    standalone: Option<Model>,
    /// A plan's variable values, for a root that calls modules.
    plan_vars: Option<BTreeMap<String, Val>>,
    /// Plans without their configuration, lowered from planned values.
    plan_models: Vec<Model>,
}

impl Format for Terraform {
    type File = TfFile;
    type Dir = TfDir;
    type Inputs = VarInputs;

    fn claims(&self, kind: Kind) -> Claim {
        match kind {
            Kind::Terraform | Kind::TerraformJson | Kind::AutoTfVars | Kind::AutoTfVarsJson => Claim::Owns,
            Kind::Json => Claim::Fallback,
            Kind::Bicep | Kind::BicepParam => Claim::No,
        }
    }

    fn inputs(&self, opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> VarInputs {
        var_inputs(opts, sources, errors)
    }

    fn parse(&self, file: &mut FileRead<'_>) -> Result<Option<TfFile>, FileError> {
        let (id, text) = (file.id, file.text.clone());
        let parsed = match file.kind {
            Kind::Terraform | Kind::AutoTfVars => {
                let h = terraform::parse_within(id, text, file.opts.limits.parse_timeout)?;
                file.source.keep_directives(&h.text, &h.comments, || terraform::constructs(&h.body));
                if file.kind == Kind::Terraform {
                    TfFile::Config(h)
                } else {
                    TfFile::Vars(AutoVars::new(&file_name(&file.source.path), VarValues::Hcl(h)))
                }
            }
            Kind::AutoTfVarsJson => TfFile::Vars(AutoVars::new(
                &file_name(&file.source.path),
                VarValues::Json(id, parse_json(id, &text)?),
            )),
            Kind::TerraformJson => TfFile::Json(terraform::json::parse(id, &text)?),
            // JSON that is neither a template nor a plan is no one's.
            Kind::Json => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) if terraform::plan::is_plan(&json) => TfFile::Plan(Plan { file: id, text, json }),
                _ => return Ok(None),
            },
            Kind::Bicep | Kind::BicepParam => return Ok(None),
        };
        Ok(Some(parsed))
    }

    fn lower_dir(&self, dir: &DirRead<'_>, files: Vec<TfFile>, inputs: &VarInputs) -> TfDir {
        let (module, plans) = module_of(files);
        let mut out = TfDir {
            context: dir.context,
            ..TfDir::default()
        };
        let plan_vars = plans.first().map(terraform::plan::variables);
        if !module.is_configuration() {
            // A plan beside no configuration is lowered from its planned values.
            out.plan_models = plans.iter().map(terraform::plan::lower).collect();
            return out;
        }
        out.terraform = true;
        out.calls = terraform::modules::calls(dir.dir, &module);
        if terraform::modules::calls_modules(&module) {
            out.plan_vars = plan_vars;
        } else {
            let no_modules = |_: &Path| None;
            out.standalone = Some(terraform::ModuleSet::empty(&no_modules).with_limits(dir.opts.limits).lower_root(
                dir.dir,
                &module,
                inputs,
                plan_vars.as_ref(),
                dir.namespace,
            ));
        }
        out
    }

    fn lower_all(&self, mut dirs: Vec<Box<TfDir>>, run: &Run<'_>, inputs: &VarInputs) -> (Vec<Unit>, Vec<FileError>) {
        // A module is read again for the roots that call it: its syntax
        // trees were dropped with its directory's.
        let load = |dir: &Path| {
            let (module, _) = module_of(run.reread(self, dir));
            module.is_configuration().then_some(module)
        };
        let configured = run
            .dirs
            .iter()
            .zip(&dirs)
            .filter(|(_, d)| d.terraform)
            .map(|((p, _), _)| (*p).clone());
        let modules = terraform::ModuleSet::new(configured, &load).with_limits(run.opts.limits);
        let (roots, errors) = lower_roots(&mut dirs, run, &modules, &load, inputs);
        let plans = dirs.into_iter().flat_map(|d| d.plan_models).map(Unit::Own);
        (roots.into_iter().map(Unit::InDirectory).chain(plans).collect(), errors)
    }
}

/// A directory's module (its configuration and automatic variable files, in
/// directory order) and its plans.
fn module_of(files: Vec<TfFile>) -> (TfModule, Vec<Plan>) {
    let mut module = TfModule::default();
    let mut plans = Vec::new();
    for f in files {
        match f {
            TfFile::Config(h) => module.files.push(h),
            TfFile::Json(j) => module.json_files.push(j),
            TfFile::Vars(v) => module.auto_vars.push(v),
            TfFile::Plan(p) => plans.push(p),
        }
    }
    (module, plans)
}

/// Lowers every Terraform directory that must be judged as a root module,
/// in rounds, and returns their models in directory order.
///
/// The first round takes the directories no other directory calls. A call
/// alone does not make a directory a module, though: one that no root
/// actually instantiates (`count = 0`, a false condition, a call that
/// cannot be followed, a call to itself or a cycle of calls) is judged as a
/// root of its own in a later round, so that every file is checked at least
/// once and a few lines in a pull request cannot hide a directory.
fn lower_roots(
    dirs: &mut [Box<TfDir>],
    run: &Run<'_>,
    modules: &terraform::ModuleSet,
    load: &(dyn Fn(&Path) -> Option<TfModule> + Sync),
    inputs: &VarInputs,
) -> (Vec<Model>, Vec<FileError>) {
    let normalised: Vec<PathBuf> = run.dirs.iter().map(|(d, _)| source::normalise(d)).collect();
    let candidates: Vec<usize> = (0..dirs.len())
        .filter(|i| dirs.get(*i).is_some_and(|d| d.terraform && !d.context))
        .collect();
    // Who calls whom, leaving out a directory's calls to itself.
    let calls: Vec<HashSet<PathBuf>> = dirs
        .iter()
        .zip(&normalised)
        .map(|(d, me)| d.calls.iter().filter(|c| *c != me).cloned().collect())
        .collect();
    // `terraform init` state is read only through the roots that installed it.
    let installed = |i: usize| {
        normalised
            .get(i)
            .is_some_and(|p| p.components().any(|c| c.as_os_str() == ".terraform"))
    };
    let uncalled_among = |candidates: &[usize]| -> Vec<usize> {
        candidates
            .iter()
            .copied()
            .filter(|i| {
                let Some(me) = normalised.get(*i) else { return false };
                !candidates.iter().any(|j| calls.get(*j).is_some_and(|c| c.contains(me)))
            })
            .collect()
    };
    let mut covered: HashSet<usize> = HashSet::new();
    let mut models: BTreeMap<usize, Model> = BTreeMap::new();
    let mut errors = Vec::new();
    loop {
        let instantiated = modules.instantiated();
        let remaining: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|i| !covered.contains(i) && !installed(*i))
            .filter(|i| normalised.get(*i).is_none_or(|p| !instantiated.contains(p)))
            .collect();
        let mut round = uncalled_among(&remaining);
        // Only cycles are left: judge the first directory of one as a root.
        if round.is_empty() {
            match remaining.first() {
                Some(first) => round.push(*first),
                None => break,
            }
        }
        for (i, m) in lower_round(&round, dirs, run, modules, load, inputs) {
            covered.insert(i);
            match m {
                Ok(m) => {
                    models.insert(i, m);
                }
                Err(e) => errors.push(e),
            }
        }
    }
    (models.into_values().collect(), errors)
}

/// Lowers one round of roots in parallel: a root that calls no module was
/// lowered with its directory; the others are read again and lowered with
/// the modules they call.
fn lower_round(
    round: &[usize],
    dirs: &mut [Box<TfDir>],
    run: &Run<'_>,
    modules: &terraform::ModuleSet,
    load: &(dyn Fn(&Path) -> Option<TfModule> + Sync),
    inputs: &VarInputs,
) -> Vec<(usize, Result<Model, FileError>)> {
    let standalone: Vec<(usize, Option<Model>)> = round
        .iter()
        .map(|i| (*i, dirs.get_mut(*i).and_then(|d| d.standalone.take())))
        .collect();
    let dirs: &[Box<TfDir>] = dirs;
    standalone
        .into_par_iter()
        .map(|(i, standalone)| {
            let (Some((dir, _)), Some(d)) = (run.dirs.get(i), dirs.get(i)) else {
                return (i, Ok(Model::default()));
            };
            if let Some(m) = standalone {
                return (i, Ok(m));
            }
            let lowered = guarded(dir, || match load(dir) {
                Some(m) => modules.lower_root(dir, &m, inputs, d.plan_vars.as_ref(), run.namespace(i)),
                None => Model::default(),
            });
            (i, lowered)
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn parse_json(id: FileId, text: &str) -> Result<serde_json::Value, FileError> {
    serde_json::from_str(text).map_err(|e| {
        // serde_json counts lines from 1 and columns from 1, in bytes.
        let line_start = match e.line() {
            0 | 1 => 0,
            n => text.match_indices('\n').nth(n - 2).map(|(i, _)| i + 1).unwrap_or(text.len()),
        };
        let offset = (line_start + e.column().saturating_sub(1)).min(text.len());
        FileError::at(Origin::new(id, offset..offset), format!("could not parse JSON: {e}"))
    })
}

/// Reads `--var-file` files (HCL, or JSON when named `*.json`) and `--var`
/// flags, keeping their command-line order.
fn var_inputs(opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> VarInputs {
    let mut inputs = VarInputs::default();
    for arg in &opts.var_args {
        let path = match arg {
            VarArg::Value(name, value) => {
                inputs.values.push(VarValues::Flag(name.clone(), value.clone()));
                continue;
            }
            VarArg::File(path) => path,
        };
        let Some((id, text)) = super::read_named(path, opts, sources, errors) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "json") {
            match parse_json(id, &text) {
                Ok(v) => inputs.values.push(VarValues::Json(id, v)),
                Err(e) => errors.push(e),
            }
        } else {
            match terraform::parse_within(id, text, opts.limits.parse_timeout) {
                Ok(h) => inputs.values.push(VarValues::Hcl(h)),
                Err(e) => errors.push(e),
            }
        }
    }
    inputs
}
