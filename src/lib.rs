//! kmsguard checks Azure networking code — Terraform, Bicep and ARM — for
//! forced tunnels and NSG rules that break Windows KMS activation, platform
//! DNS and IMDS, before anything is deployed.
//!
//! Data flows one way (docs/ARCHITECTURE.md):
//! [`discover`] → parse ([`ingest`]) → lower → [`model`] → [`analysis`] →
//! [`rules`] → [`report`].

// Nothing derived from input may panic: the workspace lints (Cargo.toml)
// keep the panicking shortcuts out of the library; its tests may use them.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]

pub mod config;
pub mod context;
pub mod discover;
pub mod fix;
pub mod fold;
pub mod graph;
pub mod ingest;
pub mod load;
pub mod policy;
pub mod report;
pub mod rules;
pub mod suppress;
pub mod trace;
mod triage;

// The ground layer lives in its own crate; its modules keep their paths here.
pub use kmsguard_core::{analysis, diagnostic, limits, model, read, source};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use discover::Kind;
use ingest::arm::ArmDoc;
use ingest::bicep::BicepFile;
use ingest::terraform::{self, AutoVars, HclFile, TfModule, VarInputs, VarValues};
use ingest::FileError;
use limits::Limits;
use model::Model;
use policy::Policy;
use report::Summary;
use rules::Finding;
use source::{FileId, Origin, SourceFile, SourceMap};

/// A Terraform variable value from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarArg {
    /// `--var-file FILE`: HCL, or JSON when named `*.json`.
    File(PathBuf),
    /// `--var NAME=VALUE`.
    Value(String, String),
}

/// What `kmsguard check` was asked to do.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    /// The cloud whose KMS addresses apply (`public`, `usgov`, `china`,
    /// `germany`) everywhere; `None` lets a provider's `environment` decide,
    /// defaulting to `public`.
    pub cloud: Option<String>,
    /// `--var-file` and `--var`, in command-line order (the later wins).
    pub var_args: Vec<VarArg>,
    /// ARM parameters files (`--parameters`), applied to every template.
    pub parameters: Vec<PathBuf>,
    /// Treat every subnet as able to learn a 0.0.0.0/0 over BGP (on-premises
    /// advertises one over ExpressRoute or VPN).
    pub assume_bgp_default_route: bool,
    /// Only these rules (codes); empty means all.
    pub select: Vec<String>,
    /// Never these rules (codes).
    pub ignore: Vec<String>,
    /// Fingerprints of findings accepted in a baseline.
    pub baseline: Option<std::collections::HashSet<String>>,
    /// Glob patterns of files not to check, relative to `exclude_base`.
    pub exclude: Vec<String>,
    pub exclude_base: PathBuf,
    /// Bounds on file size, parse time and evaluation.
    pub limits: Limits,
    /// Whether `kmsguard:ignore` comments and ARM `metadata.kmsguard.ignore`
    /// may accept a finding. A repository's owner turns them off
    /// (`--no-inline-suppressions`) so that a pull request cannot silence
    /// the check it is judged by.
    pub inline_suppressions: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            paths: vec![PathBuf::from(".")],
            cloud: None,
            var_args: Vec::new(),
            parameters: Vec::new(),
            assume_bgp_default_route: false,
            select: Vec::new(),
            ignore: Vec::new(),
            baseline: None,
            exclude: Vec::new(),
            exclude_base: PathBuf::from("."),
            limits: Limits::default(),
            inline_suppressions: true,
        }
    }
}

/// The result of a check: the files read, the model, the findings, and the
/// files that could not be checked.
pub struct Outcome {
    pub sources: SourceMap,
    pub model: Model,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
    /// Links and special files discovery did not follow or read.
    pub skipped: Vec<discover::Skipped>,
    pub summary: Summary,
}

/// One directory's files as parsed.
#[derive(Default)]
struct DirFiles {
    terraform: TfModule,
    /// ARM templates and parameters files.
    arm: Vec<ArmDoc>,
    /// Terraform plans (`terraform show -json`).
    plans: Vec<terraform::plan::Plan>,
    bicep: Vec<BicepFile>,
}

/// A file found by discovery, with the id reserved for it.
struct Entry {
    id: FileId,
    path: PathBuf,
    kind: Kind,
    /// Read only because a checked file calls it as a module.
    context: bool,
}

/// What checking one directory leaves once its syntax trees are dropped.
#[derive(Default)]
struct DirOutcome {
    sources: Vec<(FileId, SourceFile)>,
    errors: Vec<FileError>,
    checked: usize,
    /// Bicep modules cross directories, so Bicep files are lowered together.
    bicep: Vec<BicepFile>,
    /// Whether the directory holds Terraform configuration.
    terraform: bool,
    /// Whether it is read only as a module some checked file calls: then it
    /// is lowered through its callers and never judged as a root.
    context: bool,
    /// The directories it calls as Terraform modules.
    calls: Vec<PathBuf>,
    /// Its model as a root module when it calls no module; kept only if no
    /// other directory turns out to call it.
    standalone: Option<Model>,
    /// A plan's variable values, for a root that calls modules.
    plan_vars: Option<BTreeMap<String, ingest::value::Val>>,
    /// Plans without their configuration, lowered from planned values.
    plan_models: Vec<Model>,
    arm_models: Vec<Model>,
}

enum Parsed {
    Hcl(HclFile),
    Json(FileId, serde_json::Value),
    Arm(ArmDoc),
    Plan(terraform::plan::Plan),
    TfJson(terraform::json::TfJsonFile),
    Bicep(BicepFile),
    /// Valid JSON that is not ARM: skipped silently.
    Skipped,
}

/// Runs discovery, parsing, lowering, analysis and the rules.
///
/// Directories are read, parsed and lowered in parallel, and each one's
/// syntax trees are dropped as soon as it is lowered, so memory stays flat on
/// a large monorepo. A Terraform directory that calls modules is lowered
/// after every directory is known (its modules are read again then), since
/// only then is it known which directories are roots.
pub fn check(opts: &CheckOptions, policy: &Policy) -> Outcome {
    let Gathered {
        dirs,
        mut sources,
        mut errors,
        skipped,
        context_paths,
        named_units,
    } = gather(opts);
    let (model, files_checked) = lower(opts, &dirs, &context_paths, &mut sources, &mut errors);
    let ctx = rules::Context {
        model: &model,
        policy,
        cloud: opts.cloud.as_deref().unwrap_or("public"),
        cloud_forced: opts.cloud.is_some(),
        assume_bgp_default_route: opts.assume_bgp_default_route,
    };
    let findings = guarded(Path::new("."), || rules::check(&ctx)).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let findings = triage::triage(opts, policy, &sources, &model, &named_units, findings);
    report::sort_errors(&sources, &mut errors);
    let mut summary = Summary {
        files: files_checked,
        named: Some(opts.paths.iter().filter(|p| p.is_file()).count()).filter(|_| opts.paths.iter().all(|p| p.is_file())),
        route_tables: model.route_tables.len(),
        nsgs: model.nsgs.len(),
        subnets: model.subnets.len(),
        skipped: skipped.len(),
        ..Summary::default()
    };
    report::count(&findings, &mut summary);
    Outcome {
        sources,
        model,
        findings,
        errors,
        skipped,
        summary,
    }
}

/// What discovery hands to lowering: the files by directory, with their
/// reserved ids, and what was refused on the way.
struct Gathered {
    dirs: BTreeMap<PathBuf, Vec<Entry>>,
    sources: SourceMap,
    errors: Vec<FileError>,
    skipped: Vec<discover::Skipped>,
    /// Files read only because a checked file calls them as modules.
    context_paths: std::collections::HashSet<PathBuf>,
    named_units: context::NamedUnits,
}

/// Finds the files to read: the paths named, the deployment units named
/// files belong to, and the local modules they call, less the excluded.
fn gather(opts: &CheckOptions) -> Gathered {
    // A named file (pre-commit names the changed ones) is judged through the
    // deployment units it belongs to, checked whole.
    let named_units = context::named_units(&opts.paths, opts.limits.max_file_size);
    let mut paths = opts.paths.clone();
    paths.extend(named_units.extra_paths.iter().cloned());
    let (mut found, errors, mut skipped) = discover::discover(&paths);
    let excluded = exclusions(opts);
    found.retain(|f| !excluded(&f.path));
    // Local modules the checked files call, wherever they are in the
    // repository, are read too: as context, judged through their callers.
    let (mut context, refused) = context::follow_module_sources(&found, opts.limits.max_file_size);
    context.retain(|f| !excluded(&f.path));
    skipped.extend(refused);
    let context_paths: std::collections::HashSet<PathBuf> = context.iter().map(|f| source::normalise(&f.path)).collect();
    found.extend(context);
    found.sort();
    found.dedup();

    // File ids follow discovery's path order, so every output is the same on
    // every run whatever order the threads finish in.
    let mut sources = SourceMap::default();
    let mut dirs: BTreeMap<PathBuf, Vec<Entry>> = BTreeMap::new();
    for f in found {
        let id = sources.reserve(f.path.clone());
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let normalised = source::normalise(&f.path);
        let unit = match f.kind {
            Kind::Bicep => normalised.clone(),
            _ => source::normalise(&dir),
        };
        let context = context_paths.contains(&normalised) || named_units.called.contains(&unit);
        dirs.entry(dir).or_default().push(Entry {
            id,
            path: f.path,
            kind: f.kind,
            context,
        });
    }
    Gathered {
        dirs,
        sources,
        errors,
        skipped,
        context_paths,
        named_units,
    }
}

/// Reads, parses and lowers every deployment unit into one model, each unit
/// in a namespace of its own; returns it with the number of files checked.
fn lower(
    opts: &CheckOptions,
    dirs: &BTreeMap<PathBuf, Vec<Entry>>,
    context_paths: &std::collections::HashSet<PathBuf>,
    sources: &mut SourceMap,
    errors: &mut Vec<FileError>,
) -> (Model, usize) {
    let inputs = load_var_inputs(opts, sources, errors);
    let arm_params = load_arm_parameters(opts, sources, errors);

    let no_modules = |_: &Path| None;
    let dir_list: Vec<(&PathBuf, &Vec<Entry>)> = dirs.iter().collect();
    let outcomes: Vec<(&PathBuf, DirOutcome)> = dir_list
        .par_iter()
        .enumerate()
        .map(|(i, (dir, entries))| {
            let outcome = guarded(dir, || {
                check_dir(dir, entries, namespace(i), opts, &inputs, &arm_params, &no_modules)
            })
            .unwrap_or_else(|e| DirOutcome {
                errors: vec![e],
                ..DirOutcome::default()
            });
            (*dir, outcome)
        })
        .collect();

    let mut outcomes = outcomes;
    let by_normalised: std::collections::HashMap<PathBuf, &Vec<Entry>> = dirs.iter().map(|(d, e)| (source::normalise(d), e)).collect();
    let load = |dir: &Path| {
        let entries = by_normalised.get(&source::normalise(dir))?;
        let module = read_dir(entries, opts, true).0.terraform;
        module.is_configuration().then_some(module)
    };
    let tf_modules =
        terraform::ModuleSet::new(outcomes.iter().filter(|(_, o)| o.terraform).map(|(d, _)| (*d).clone()), &load).with_limits(opts.limits);
    let (tf_models, root_errors) = lower_terraform_roots(&mut outcomes, &tf_modules, &load, &inputs);
    errors.extend(root_errors);
    drop(tf_modules);

    let mut files_checked = 0;
    let mut bicep_files: Vec<BicepFile> = Vec::new();
    let mut models: Vec<Model> = tf_models;
    let mut plan_models = Vec::new();
    let mut arm_models = Vec::new();
    for (_, o) in outcomes {
        for (id, f) in o.sources {
            sources.set(id, f);
        }
        errors.extend(o.errors);
        files_checked += o.checked;
        bicep_files.extend(o.bicep);
        plan_models.extend(o.plan_models);
        arm_models.extend(o.arm_models);
    }
    let plan_arm = plan_models.len() + arm_models.len();
    models.extend(plan_models);
    models.extend(arm_models);
    let mut model = Model::default();
    let bicep_dir = bicep_files.first().and_then(|f| f.path.parent()).unwrap_or(Path::new("."));
    let bicep_models = guarded(bicep_dir, || ingest::bicep::lower_all(&bicep_files, context_paths, opts.limits)).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    // Each deployment unit keeps to itself: Terraform roots were given the
    // namespace of their directory; every plan, ARM template and Bicep
    // deployment gets one of its own after those.
    let tf_units = models.len() - plan_arm;
    let mut next = namespace(dirs.len());
    for (i, mut m) in models.into_iter().chain(bicep_models).enumerate() {
        if i >= tf_units {
            m.set_namespace(next);
            next = next.saturating_add(1);
        }
        model.absorb(m);
    }
    (model, files_checked)
}

/// Runs one unit of the check so that a bug in kmsguard (a panic) costs that
/// unit, reported as an error against `path`, and not the whole run: the
/// other directories are still checked, and the exit code says the run is
/// incomplete.
fn guarded<T>(path: &Path, work: impl FnOnce() -> T) -> Result<T, FileError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        FileError::path(
            path,
            format!(
                "kmsguard failed on an internal error while checking this ({what}); the rest was checked. Please report it with the input at https://github.com/kmsguard/kmsguard/issues"
            ),
        )
    })
}

/// Whether a path matches the config file's `exclude` globs, relative to
/// the config file's directory.
fn exclusions(opts: &CheckOptions) -> impl Fn(&Path) -> bool {
    let mut set = globset::GlobSetBuilder::new();
    for g in &opts.exclude {
        if let Ok(glob) = globset::Glob::new(g) {
            set.add(glob);
        }
    }
    let set = set.build().ok().filter(|_| !opts.exclude.is_empty());
    let base = std::fs::canonicalize(&opts.exclude_base).unwrap_or_else(|_| opts.exclude_base.clone());
    move |path: &Path| {
        let Some(set) = &set else { return false };
        let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let rel = full.strip_prefix(&base).map(Path::to_path_buf).unwrap_or(full);
        set.is_match(&rel)
    }
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
fn lower_terraform_roots(
    outcomes: &mut [(&PathBuf, DirOutcome)],
    tf_modules: &terraform::ModuleSet,
    load: &(dyn Fn(&Path) -> Option<TfModule> + Sync),
    inputs: &VarInputs,
) -> (Vec<Model>, Vec<FileError>) {
    let normalised: Vec<PathBuf> = outcomes.iter().map(|(d, _)| source::normalise(d)).collect();
    let terraform: Vec<usize> = (0..outcomes.len())
        .filter(|i| outcomes.get(*i).is_some_and(|(_, o)| o.terraform && !o.context))
        .collect();
    // Who calls whom, leaving out a directory's calls to itself.
    let calls: Vec<std::collections::HashSet<PathBuf>> = outcomes
        .iter()
        .zip(&normalised)
        .map(|((_, o), me)| o.calls.iter().filter(|c| *c != me).cloned().collect())
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
    let mut covered: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut models: BTreeMap<usize, Model> = BTreeMap::new();
    let mut errors = Vec::new();
    loop {
        let instantiated = tf_modules.instantiated();
        let remaining: Vec<usize> = terraform
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
        let lowered: Vec<(usize, Result<Model, FileError>)> = round
            .iter()
            .map(|i| (*i, outcomes.get_mut(*i).and_then(|(_, o)| o.standalone.take())))
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(i, standalone)| {
                let Some((dir, o)) = outcomes.get(i) else {
                    return (i, Ok(Model::default()));
                };
                if let Some(m) = standalone {
                    return (i, Ok(m));
                }
                let lowered = guarded(dir, || match load(dir) {
                    Some(m) => tf_modules.lower_root(dir, &m, inputs, o.plan_vars.as_ref(), namespace(i)),
                    None => Model::default(),
                });
                (i, lowered)
            })
            .collect();
        for (i, m) in lowered {
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

/// Namespaces keep deployment units apart: a Terraform root takes its
/// directory's; Bicep and ARM units are numbered after every directory.
fn namespace(dir_index: usize) -> u32 {
    u32::try_from(dir_index + 1).unwrap_or(u32::MAX)
}

/// Reads, parses and lowers one directory; returns what outlives its syntax.
fn check_dir(
    dir: &Path,
    entries: &[Entry],
    namespace: u32,
    opts: &CheckOptions,
    inputs: &VarInputs,
    arm_params: &[ArmDoc],
    no_modules: &terraform::ModuleLoader,
) -> DirOutcome {
    let (files, sources, errors, checked) = read_dir(entries, opts, false);
    let mut out = DirOutcome {
        sources,
        errors,
        checked,
        context: !entries.is_empty() && entries.iter().all(|e| e.context),
        ..DirOutcome::default()
    };
    let tf = &files.terraform;
    let plan_vars = files.plans.first().map(terraform::plan::variables);
    if tf.is_configuration() {
        out.terraform = true;
        out.calls = terraform::modules::calls(dir, tf);
        if terraform::modules::calls_modules(tf) {
            out.plan_vars = plan_vars;
        } else {
            out.standalone = Some(terraform::ModuleSet::empty(no_modules).with_limits(opts.limits).lower_root(
                dir,
                tf,
                inputs,
                plan_vars.as_ref(),
                namespace,
            ));
        }
    } else {
        // A plan beside no configuration is lowered from its planned values.
        out.plan_models = files.plans.iter().map(terraform::plan::lower).collect();
    }
    let beside = ArmParametersBeside::new(&files.arm, &out.sources);
    out.arm_models = files
        .arm
        .iter()
        .filter(|t| t.is_template)
        .map(|t| ingest::arm::lower(t, arm_params.last().or(beside.of(t)), opts.limits))
        .collect();
    out.bicep = files.bicep;
    out
}

/// Reads and parses a directory's files (only Terraform's when
/// `terraform_only`), in parallel; returns them with their entries for the
/// source map, the files that could not be read or parsed, and how many were checked.
fn read_dir(entries: &[Entry], opts: &CheckOptions, terraform_only: bool) -> (DirFiles, Vec<(FileId, SourceFile)>, Vec<FileError>, usize) {
    let parsed: Vec<(&Entry, Option<SourceFile>, Result<Parsed, FileError>)> = entries
        .par_iter()
        .filter(|e| {
            !terraform_only
                || matches!(
                    e.kind,
                    Kind::Terraform | Kind::TerraformJson | Kind::AutoTfVars | Kind::AutoTfVarsJson
                )
        })
        .map(
            |e| match discover::read_text(&e.path, opts.limits.max_file_size.min(source::MAX_INDEXED_LEN)) {
                Ok(text) => {
                    let mut file = SourceFile::released(e.path.clone(), &text);
                    let parsed = parse_one(e.kind, e.id, Arc::from(text), &file, opts.limits.parse_timeout);
                    match &parsed {
                        Ok(Parsed::Hcl(h)) => file.keep_directives(&h.text, &h.comments, || terraform::constructs(&h.body)),
                        Ok(Parsed::Bicep(b)) => {
                            file.keep_directives(&b.text, &b.program.comments, || ingest::bicep::constructs(&b.program))
                        }
                        _ => {}
                    }
                    (e, Some(file), parsed)
                }
                Err(message) => (e, None, Err(FileError::path(&e.path, message.to_string()))),
            },
        )
        .collect();
    let mut files = DirFiles::default();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut checked = 0;
    // Each result keeps its own entry: with `terraform_only` the results are
    // fewer than the entries, and pairing them by position would give a
    // `.tf` file the kind of the file before it.
    for (e, file, p) in parsed {
        if let Some(f) = file {
            sources.push((e.id, f));
        }
        if !matches!(p, Ok(Parsed::Skipped)) {
            checked += 1;
        }
        match (p, e.kind) {
            (Ok(Parsed::Hcl(h)), Kind::Terraform) => files.terraform.files.push(h),
            (Ok(Parsed::Hcl(h)), _) => files
                .terraform
                .auto_vars
                .push(AutoVars::new(&file_name(&e.path), VarValues::Hcl(h))),
            (Ok(Parsed::Json(id, v)), _) => files
                .terraform
                .auto_vars
                .push(AutoVars::new(&file_name(&e.path), VarValues::Json(id, v))),
            (Ok(Parsed::TfJson(j)), _) => files.terraform.json_files.push(j),
            (Ok(Parsed::Arm(doc)), _) => files.arm.push(doc),
            (Ok(Parsed::Plan(p)), _) => files.plans.push(p),
            (Ok(Parsed::Bicep(b)), _) => files.bicep.push(b),
            (Ok(Parsed::Skipped), _) => {}
            (Err(e), _) => errors.push(e),
        }
    }
    (files, sources, errors, checked)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn parse_one(kind: Kind, id: FileId, text: Arc<str>, file: &SourceFile, timeout: std::time::Duration) -> Result<Parsed, FileError> {
    match kind {
        Kind::AutoTfVarsJson => parse_json(id, &text).map(|v| Parsed::Json(id, v)),
        Kind::TerraformJson => terraform::json::parse(id, &text).map(Parsed::TfJson),
        Kind::Json => match ingest::arm::parse(id, text.clone())? {
            Some(doc) => Ok(Parsed::Arm(doc)),
            None => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) if terraform::plan::is_plan(&json) => Ok(Parsed::Plan(terraform::plan::Plan { file: id, text, json })),
                _ => Ok(Parsed::Skipped),
            },
        },
        Kind::Bicep | Kind::BicepParam => ingest::bicep::parse(id, text, &file.path).map(Parsed::Bicep),
        Kind::Terraform | Kind::AutoTfVars => terraform::parse_within(id, text, timeout).map(Parsed::Hcl),
    }
}

/// The parameters files of one directory by lower-case file name, so that
/// pairing each template with `X.parameters.json` beside it is a lookup,
/// not a scan of every file (8,000 files took 43 s that way).
struct ArmParametersBeside<'a> {
    paths: std::collections::HashMap<FileId, &'a Path>,
    by_name: std::collections::HashMap<String, &'a ArmDoc>,
}

impl<'a> ArmParametersBeside<'a> {
    fn new(docs: &'a [ArmDoc], sources: &'a [(FileId, SourceFile)]) -> Self {
        let paths: std::collections::HashMap<FileId, &Path> = sources.iter().map(|(id, f)| (*id, f.path.as_path())).collect();
        let mut by_name = std::collections::HashMap::new();
        for d in docs.iter().filter(|d| !d.is_template) {
            if let Some(name) = paths.get(&d.file).and_then(|p| p.file_name()).and_then(|n| n.to_str()) {
                by_name.entry(name.to_ascii_lowercase()).or_insert(d);
            }
        }
        ArmParametersBeside { paths, by_name }
    }

    /// `X.parameters.json` beside the template `X.json`.
    fn of(&self, template: &ArmDoc) -> Option<&'a ArmDoc> {
        let stem = self.paths.get(&template.file)?.file_stem()?.to_str()?.to_ascii_lowercase();
        self.by_name.get(&format!("{stem}.parameters.json")).copied()
    }
}

/// `--parameters FILE`: an ARM parameters file applied to every template checked.
fn load_arm_parameters(opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> Vec<ArmDoc> {
    let mut out = Vec::new();
    for path in &opts.parameters {
        let text = match discover::read_text(path, opts.limits.max_file_size) {
            Ok(t) => Arc::<str>::from(t),
            Err(m) => {
                errors.push(FileError::path(path, m.to_string()));
                continue;
            }
        };
        let id = sources.add(path.clone(), text.clone());
        match ingest::arm::parse(id, text) {
            Ok(Some(doc)) if !doc.is_template => out.push(doc),
            Ok(_) => errors.push(FileError::path(
                path,
                "is not an ARM parameters file (its $schema must be deploymentParameters.json)".into(),
            )),
            Err(e) => errors.push(e),
        }
    }
    out
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
fn load_var_inputs(opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> VarInputs {
    let mut inputs = VarInputs::default();
    for arg in &opts.var_args {
        let path = match arg {
            VarArg::Value(name, value) => {
                inputs.values.push(terraform::VarValues::Flag(name.clone(), value.clone()));
                continue;
            }
            VarArg::File(path) => path,
        };
        let text = match discover::read_text(path, opts.limits.max_file_size) {
            Ok(t) => Arc::<str>::from(t),
            Err(m) => {
                errors.push(FileError::path(path, m.to_string()));
                continue;
            }
        };
        let id = sources.add(path.clone(), text.clone());
        if path.extension().is_some_and(|e| e == "json") {
            match parse_json(id, &text) {
                Ok(v) => inputs.values.push(terraform::VarValues::Json(id, v)),
                Err(e) => errors.push(e),
            }
        } else {
            match terraform::parse_within(id, text, opts.limits.parse_timeout) {
                Ok(h) => inputs.values.push(terraform::VarValues::Hcl(h)),
                Err(e) => errors.push(e),
            }
        }
    }
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_costs_its_unit_not_the_run() {
        assert_eq!(guarded(Path::new("ok"), || 7).ok(), Some(7));
        let e = guarded(Path::new("infra/hub"), || -> u32 { panic!("index out of bounds") }).err();
        let e = e.expect("the panic is an error");
        assert_eq!(e.file_path(), Some(Path::new("infra/hub")));
        assert!(
            e.message().contains("index out of bounds") && e.message().contains("report"),
            "{}",
            e.message()
        );
    }
}
