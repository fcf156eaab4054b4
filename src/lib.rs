//! kmsguard checks Azure networking code — Terraform today; Bicep and ARM
//! next — for forced tunnels and NSG rules that break Windows KMS
//! activation, platform DNS and IMDS, before anything is deployed.
//!
//! Data flows one way (DESIGN.md §3):
//! [`discover`] → parse ([`ingest`]) → lower → [`model`] → [`analysis`] →
//! [`rules`] → [`report`].

pub mod analysis;
pub mod discover;
pub mod ingest;
pub mod model;
pub mod policy;
pub mod report;
pub mod rules;
pub mod source;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use discover::Kind;
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
    /// The cloud whose KMS addresses apply: `public`, `usgov`, `china`, `germany`.
    pub cloud: String,
    pub var_files: Vec<PathBuf>,
    pub vars: Vec<(String, String)>,
    pub max_file_size: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            paths: vec![PathBuf::from(".")],
            cloud: "public".into(),
            var_files: Vec::new(),
            vars: Vec::new(),
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

/// One directory's parsed files: `.tf`, auto-loaded HCL var files, auto-loaded JSON var files.
type ModuleFiles = (Vec<HclFile>, Vec<HclFile>, Vec<(FileId, serde_json::Value)>);

enum Parsed {
    Hcl(HclFile),
    Json(FileId, serde_json::Value),
}

/// Runs discovery, parsing, lowering, analysis and the rules.
pub fn check(opts: &CheckOptions, policy: &Policy) -> Outcome {
    let (found, mut errors) = discover::discover(&opts.paths);

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

    // Group by directory: a directory is a Terraform module.
    let mut dirs: BTreeMap<PathBuf, ModuleFiles> = BTreeMap::new();
    for (i, p) in parsed {
        let Some(f) = found.get(i) else { continue };
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let entry = dirs.entry(dir).or_default();
        match (p, f.kind) {
            (Ok(Parsed::Hcl(h)), Kind::Terraform) => entry.0.push(h),
            (Ok(Parsed::Hcl(h)), _) => entry.1.push(h),
            (Ok(Parsed::Json(id, v)), _) => entry.2.push((id, v)),
            (Err(e), _) => errors.push(e),
        }
    }

    let inputs = load_var_inputs(opts, &mut sources, &mut errors);

    let models: Vec<Model> = dirs
        .par_iter()
        .filter(|(_, (tf, _, _))| !tf.is_empty())
        .map(|(_, (tf, auto, auto_json))| {
            let module = TfModule {
                files: tf.iter().collect(),
                auto_vars: auto.iter().collect(),
                auto_vars_json: auto_json.iter().map(|(id, v)| (*id, v)).collect(),
            };
            terraform::lower_module(&module, &inputs)
        })
        .collect();
    let mut model = Model::default();
    for m in models {
        model.route_tables.extend(m.route_tables);
        model.nsgs.extend(m.nsgs);
        model.subnets.extend(m.subnets);
    }

    let ctx = rules::Context {
        model: &model,
        policy,
        cloud: &opts.cloud,
    };
    let mut findings = rules::check(&ctx);
    report::sort(&sources, &mut findings);
    report::sort_errors(&sources, &mut errors);
    let mut summary = Summary {
        files: sources.len(),
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
        _ => terraform::parse(id, text).map(Parsed::Hcl),
    }
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
