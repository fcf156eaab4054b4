//! kmsguard checks Azure networking code — Terraform today; Bicep and ARM
//! next — for forced tunnels and NSG rules that break Windows KMS
//! activation, platform DNS and IMDS, before anything is deployed.
//!
//! Data flows one way (DESIGN.md §3):
//! [`discover`] → parse ([`ingest`]) → lower → [`model`] → [`analysis`] →
//! [`rules`] → [`report`].

pub mod analysis;
pub mod config;
pub mod discover;
pub mod ingest;
pub mod model;
pub mod policy;
pub mod report;
pub mod rules;
pub mod source;
pub mod suppress;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use discover::Kind;
use ingest::arm::ArmDoc;
use ingest::bicep::BicepFile;
use ingest::terraform::{self, HclFile, TfModule, VarInputs};
use ingest::FileError;
use model::Model;
use policy::Policy;
use report::Summary;
use rules::Finding;
use source::{FileId, Origin, SourceMap};

/// Files larger than this are refused unless `--max-file-size` says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// What `kmsguard check` was asked to do.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    /// The cloud whose KMS addresses apply (`public`, `usgov`, `china`,
    /// `germany`) everywhere; `None` lets a provider's `environment` decide,
    /// defaulting to `public`.
    pub cloud: Option<String>,
    pub var_files: Vec<PathBuf>,
    pub vars: Vec<(String, String)>,
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
    pub max_file_size: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            paths: vec![PathBuf::from(".")],
            cloud: None,
            var_files: Vec::new(),
            vars: Vec::new(),
            parameters: Vec::new(),
            assume_bgp_default_route: false,
            select: Vec::new(),
            ignore: Vec::new(),
            baseline: None,
            exclude: Vec::new(),
            exclude_base: PathBuf::from("."),
            max_file_size: DEFAULT_MAX_FILE_SIZE,
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
    pub summary: Summary,
}

/// One directory's parsed inputs.
#[derive(Default)]
struct DirFiles {
    tf: Vec<HclFile>,
    /// `terraform.tfvars` and `*.auto.tfvars`.
    auto_vars: Vec<HclFile>,
    auto_vars_json: Vec<(FileId, serde_json::Value)>,
    /// ARM templates and parameters files.
    arm: Vec<ArmDoc>,
    /// Terraform plans (`terraform show -json`).
    plans: Vec<terraform::plan::Plan>,
    /// `.tf.json` files.
    tf_json: Vec<terraform::json::TfJsonFile>,
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
pub fn check(opts: &CheckOptions, policy: &Policy) -> Outcome {
    let (mut found, mut errors) = discover::discover(&opts.paths);
    if !opts.exclude.is_empty() {
        let mut set = globset::GlobSetBuilder::new();
        for g in &opts.exclude {
            if let Ok(glob) = globset::Glob::new(g) {
                set.add(glob);
            }
        }
        if let Ok(set) = set.build() {
            let base = std::fs::canonicalize(&opts.exclude_base).unwrap_or_else(|_| opts.exclude_base.clone());
            found.retain(|f| {
                let full = std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone());
                let rel = full.strip_prefix(&base).map(Path::to_path_buf).unwrap_or(full);
                !set.is_match(&rel)
            });
        }
    }

    // Read and parse in parallel; register sources in path order so that
    // file ids, and so every output, are the same on every run.
    let texts: Vec<Result<String, String>> = found.par_iter().map(|f| discover::read_text(&f.path, opts.max_file_size)).collect();
    let mut sources = SourceMap::default();
    let mut to_parse: Vec<(usize, FileId, Arc<str>)> = Vec::new();
    for (i, (f, text)) in found.iter().zip(texts).enumerate() {
        match text {
            Ok(t) => {
                let text: Arc<str> = Arc::from(t);
                let id = sources.add(f.path.clone(), text.clone());
                to_parse.push((i, id, text));
            }
            Err(message) => errors.push(FileError::path(&f.path, message)),
        }
    }
    let parsed: Vec<(usize, Result<Parsed, FileError>)> = to_parse
        .into_par_iter()
        .map(|(i, id, text)| {
            let kind = found.get(i).map(|f| f.kind);
            (i, parse_one(kind, id, text, &sources))
        })
        .collect();

    // Group by directory: a directory is a Terraform module, and the place
    // where an ARM template finds its parameters file.
    let mut files_checked = 0;
    let mut dirs: BTreeMap<PathBuf, DirFiles> = BTreeMap::new();
    // Bicep modules cross directories, so Bicep files are lowered together.
    let mut bicep_files: Vec<BicepFile> = Vec::new();
    for (i, p) in parsed {
        let Some(f) = found.get(i) else { continue };
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let entry = dirs.entry(dir).or_default();
        if !matches!(p, Ok(Parsed::Skipped)) {
            files_checked += 1;
        }
        match (p, f.kind) {
            (Ok(Parsed::Hcl(h)), Kind::Terraform) => entry.tf.push(h),
            (Ok(Parsed::Hcl(h)), _) => entry.auto_vars.push(h),
            (Ok(Parsed::Json(id, v)), _) => entry.auto_vars_json.push((id, v)),
            (Ok(Parsed::Arm(doc)), _) => entry.arm.push(doc),
            (Ok(Parsed::Plan(p)), _) => entry.plans.push(p),
            (Ok(Parsed::TfJson(j)), _) => entry.tf_json.push(j),
            (Ok(Parsed::Bicep(b)), _) => bicep_files.push(b),
            (Ok(Parsed::Skipped), _) => {}
            (Err(e), _) => errors.push(e),
        }
    }

    let inputs = load_var_inputs(opts, &mut sources, &mut errors);
    let arm_params = load_arm_parameters(opts, &mut sources, &mut errors);

    // Terraform: each directory is a module; the ones no other directory
    // calls are roots, lowered with the modules they call.
    let tf_modules = terraform::ModuleSet::new(
        dirs.iter()
            .filter(|(_, d)| !d.tf.is_empty() || !d.tf_json.is_empty())
            .map(|(dir, d)| {
                (
                    dir.clone(),
                    TfModule {
                        files: d.tf.iter().collect(),
                        json_files: d.tf_json.iter().collect(),
                        auto_vars: d.auto_vars.iter().collect(),
                        auto_vars_json: d.auto_vars_json.iter().map(|(id, v)| (*id, v)).collect(),
                    },
                )
            })
            .collect(),
    );
    let roots = tf_modules.roots();
    // A plan beside its configuration: check the configuration (so findings
    // point at .tf lines) under the plan's variable values.
    let mut models: Vec<Model> = roots
        .par_iter()
        .map(|dir| {
            let plan_vars = dirs.get(*dir).and_then(|d| d.plans.first()).map(terraform::plan::variables);
            tf_modules.lower_root(dir, &inputs, plan_vars.as_ref())
        })
        .collect();
    // A plan alone is lowered from its planned values.
    models.extend(
        dirs.values()
            .filter(|d| d.tf.is_empty() && d.tf_json.is_empty())
            .flat_map(|d| d.plans.iter().map(terraform::plan::lower)),
    );
    models.extend(
        dirs.par_iter()
            .flat_map_iter(|(_, d)| {
                d.arm
                    .iter()
                    .filter(|t| t.is_template)
                    .map(|t| ingest::arm::lower(t, arm_params.last().or(arm_parameters_beside(t, &d.arm, &sources))))
                    .collect::<Vec<_>>()
            })
            .collect::<Vec<_>>(),
    );
    let mut model = Model::default();
    for m in models.into_iter().chain(ingest::bicep::lower_all(&bicep_files)) {
        model.route_tables.extend(m.route_tables);
        model.nsgs.extend(m.nsgs);
        model.subnets.extend(m.subnets);
        model.nics.extend(m.nics);
        model.gateways.extend(m.gateways);
        model.firewalls.extend(m.firewalls);
        model.unchecked.extend(m.unchecked);
        model.resource_suppressions.extend(m.resource_suppressions);
    }

    let ctx = rules::Context {
        model: &model,
        policy,
        cloud: opts.cloud.as_deref().unwrap_or("public"),
        cloud_forced: opts.cloud.is_some(),
        assume_bgp_default_route: opts.assume_bgp_default_route,
    };
    let mut findings = rules::check(&ctx);
    report::sort(&sources, &mut findings);
    // The same code deployed several times (one template under several
    // .bicepparam files, a module called twice alike) is one finding.
    findings
        .dedup_by(|a, b| a.code == b.code && a.primary.origin == b.primary.origin && a.message == b.message && a.resource == b.resource);

    // Suppression comments apply on a finding's line or its resource's header.
    let mut headers = std::collections::HashMap::new();
    for t in &model.route_tables {
        headers.entry(t.address.clone()).or_insert_with(|| t.origin.clone());
    }
    for n in &model.nsgs {
        headers.entry(n.address.clone()).or_insert_with(|| n.origin.clone());
    }
    for s in &model.subnets {
        headers.entry(s.address.clone()).or_insert_with(|| s.origin.clone());
    }
    let meta = suppress::apply(
        &sources,
        policy,
        &mut findings,
        &headers,
        &model.resource_suppressions,
        suppress::today(),
    );
    findings.extend(meta);
    // Files named on the command line (as pre-commit passes them) are checked in
    // their directory's context, but only their own findings are reported.
    let named: Vec<PathBuf> = opts.paths.iter().filter(|p| p.is_file()).map(|p| source::normalise(p)).collect();
    if !named.is_empty() {
        // A changed variable or parameter file affects its whole directory.
        let is_values = |p: &Path| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            n.ends_with(".tfvars") || n.ends_with(".tfvars.json") || n.ends_with(".bicepparam") || n.ends_with(".parameters.json")
        };
        let dirs: Vec<PathBuf> = opts
            .paths
            .iter()
            .filter_map(|p| {
                if p.is_dir() {
                    Some(source::normalise(p))
                } else if is_values(p) {
                    Some(source::normalise(p.parent().unwrap_or(Path::new("."))))
                } else {
                    None
                }
            })
            .collect();
        findings.retain(|f| {
            let file = source::normalise(sources.path(f.primary.origin.file));
            named.contains(&file) || dirs.iter().any(|d| file.starts_with(d))
        });
    }
    let selected = |code: &str| (opts.select.is_empty() || opts.select.iter().any(|s| s == code)) && !opts.ignore.iter().any(|s| s == code);
    findings.retain(|f| selected(f.code));
    if let Some(baseline) = &opts.baseline {
        suppress::apply_baseline(&sources, &mut findings, baseline);
    }
    report::sort(&sources, &mut findings);
    report::sort_errors(&sources, &mut errors);
    let mut summary = Summary {
        files: files_checked,
        route_tables: model.route_tables.len(),
        nsgs: model.nsgs.len(),
        subnets: model.subnets.len(),
        ..Summary::default()
    };
    report::count(&findings, &mut summary);
    Outcome {
        sources,
        model,
        findings,
        errors,
        summary,
    }
}

fn parse_one(kind: Option<Kind>, id: FileId, text: Arc<str>, sources: &SourceMap) -> Result<Parsed, FileError> {
    match kind {
        Some(Kind::AutoTfVarsJson) => parse_json(id, &text, sources).map(|v| Parsed::Json(id, v)),
        Some(Kind::TerraformJson) => terraform::json::parse(id, &text).map(Parsed::TfJson),
        Some(Kind::Json) => match ingest::arm::parse(id, text.clone())? {
            Some(doc) => Ok(Parsed::Arm(doc)),
            None => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(json) if terraform::plan::is_plan(&json) => Ok(Parsed::Plan(terraform::plan::Plan { file: id, text, json })),
                _ => Ok(Parsed::Skipped),
            },
        },
        Some(Kind::Bicep) | Some(Kind::BicepParam) => {
            let path = sources.path(id).to_path_buf();
            ingest::bicep::parse(id, text, &path).map(Parsed::Bicep)
        }
        _ => terraform::parse(id, text).map(Parsed::Hcl),
    }
}

/// `X.parameters.json` beside the template `X.json`.
fn arm_parameters_beside<'a>(template: &ArmDoc, docs: &'a [ArmDoc], sources: &SourceMap) -> Option<&'a ArmDoc> {
    let stem = sources.path(template.file).file_stem()?.to_str()?.to_ascii_lowercase();
    let want = format!("{stem}.parameters.json");
    docs.iter().find(|d| {
        !d.is_template
            && sources
                .path(d.file)
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.eq_ignore_ascii_case(&want))
    })
}

/// `--parameters FILE`: an ARM parameters file applied to every template checked.
fn load_arm_parameters(opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> Vec<ArmDoc> {
    let mut out = Vec::new();
    for path in &opts.parameters {
        let text = match discover::read_text(path, opts.max_file_size) {
            Ok(t) => Arc::<str>::from(t),
            Err(m) => {
                errors.push(FileError::path(path, m));
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

fn parse_json(id: FileId, text: &str, sources: &SourceMap) -> Result<serde_json::Value, FileError> {
    serde_json::from_str(text).map_err(|e| {
        let offset = sources
            .get(id)
            .and_then(|f| f.line_start(e.line()))
            .map(|s| s + e.column().saturating_sub(1))
            .unwrap_or(0)
            .min(text.len());
        FileError::at(Origin::new(id, offset..offset), format!("could not parse JSON: {e}"))
    })
}

/// Reads `--var-file` files (HCL, or JSON when named `*.json`) and `--var` flags.
fn load_var_inputs(opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> VarInputs {
    let mut inputs = VarInputs {
        cli: opts.vars.clone(),
        ..VarInputs::default()
    };
    for path in &opts.var_files {
        let text = match discover::read_text(path, opts.max_file_size) {
            Ok(t) => Arc::<str>::from(t),
            Err(m) => {
                errors.push(FileError::path(path, m));
                continue;
            }
        };
        let id = sources.add(path.clone(), text.clone());
        if path.extension().is_some_and(|e| e == "json") {
            match parse_json(id, &text, sources) {
                Ok(v) => inputs.json_files.push((id, v)),
                Err(e) => errors.push(e),
            }
        } else {
            match terraform::parse(id, text) {
                Ok(h) => inputs.files.push(h),
                Err(e) => errors.push(e),
            }
        }
    }
    inputs
}
