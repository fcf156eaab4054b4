//! kmsguard checks Azure networking code — Terraform, Bicep and ARM — for
//! forced tunnels and NSG rules that break Windows KMS activation, platform
//! DNS and IMDS, before anything is deployed.
//!
//! Data flows one way (docs/ARCHITECTURE.md):
//! [`discover`] → parse and lower ([`ingest`], one front end per format) →
//! [`model`] → [`analysis`] →
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

use std::path::{Path, PathBuf};

use ingest::FileError;
use limits::Limits;
use model::Model;
use policy::Policy;
use report::Summary;
use rules::Finding;
use source::SourceMap;

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

/// Runs discovery, parsing, lowering, analysis and the rules: gathers the
/// files ([`ingest::gather`]), lowers them into one model through every
/// format ([`ingest::load`]), runs the rules and triages their findings.
pub fn check(opts: &CheckOptions, policy: &Policy) -> Outcome {
    let ingest::Gathered {
        entries,
        skipped,
        named_units,
    } = ingest::gather(opts);
    let ingest::Ingested {
        model,
        sources,
        mut errors,
        files_checked,
    } = ingest::load(entries, opts);
    let ctx = rules::Context {
        model: &model,
        policy,
        cloud: opts.cloud.as_deref().unwrap_or("public"),
        cloud_forced: opts.cloud.is_some(),
        assume_bgp_default_route: opts.assume_bgp_default_route,
    };
    let findings = ingest::guarded(Path::new("."), || rules::check(&ctx)).unwrap_or_else(|e| {
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
