//! The flags `trace` and `fix` share with `check` to build the model: paths,
//! cloud, variables, parameters, the config file and the policy pack. They
//! read the same `.kmsguard.hcl` as `check`, so a trace or a fix sees the
//! network the check judged.

use std::path::{Path, PathBuf};

use crate::limits::Limits;
use crate::policy::Policy;
use crate::{CheckOptions, Outcome, VarArg};

#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// Files or directories to read (default: the current directory).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The Azure cloud whose KMS addresses apply (public, usgov, china, germany) [default: the code's, else public].
    #[arg(long, value_name = "CLOUD", value_parser = ["public", "usgov", "china", "germany"])]
    pub cloud: Option<String>,
    /// A Terraform variables file (HCL, or JSON when named *.json); repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
    /// A Terraform variable value, NAME=VALUE; repeatable (applied after the --var-file files).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// An ARM parameters file applied to the templates read.
    #[arg(long = "parameters", value_name = "FILE")]
    pub parameters: Vec<PathBuf>,
    /// Treat every subnet as able to learn 0.0.0.0/0 over BGP (on-premises advertises a default route).
    #[arg(long = "assume-bgp-default-route")]
    pub assume_bgp_default_route: bool,
    /// Read settings from this file instead of the nearest .kmsguard.hcl.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Ignore any .kmsguard.hcl in the tree.
    #[arg(long = "no-config")]
    pub no_config: bool,
    /// Load a replacement policy pack (the *.hcl files of DIR) instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
}

/// What a run read: the pack, the options the check ran with, and its outcome.
pub struct Loaded {
    pub policy: Policy,
    pub opts: CheckOptions,
    pub outcome: Outcome,
}

impl Loaded {
    /// Why the first input that could not be read was not, with where:
    /// `could not read FILE:LINE:COL: …`. A tool on top of the check
    /// refuses to work from a model with holes it cannot see.
    pub fn read_error(&self) -> Option<String> {
        let e = self.outcome.errors.first()?;
        let (file, lc) = crate::report::error_location(&self.outcome.sources, e);
        let at = lc.map(|lc| format!(":{}:{}", lc.line, lc.column)).unwrap_or_default();
        Some(format!("could not read {file}{at}: {}", e.message()))
    }
}

/// Reads the pack and the config file, then checks the paths.
pub fn load(args: &ModelArgs, select: Vec<String>) -> Result<Loaded, String> {
    let mut policy = load_policy(args.policy.as_deref())?;
    let config_path = crate::config::locate(args.config.as_deref(), args.no_config, &args.paths);
    let config = match &config_path {
        Some(path) => Some(crate::config::load(path, &policy, Limits::default().parse_timeout).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut var_args: Vec<VarArg> = Vec::new();
    let mut cloud = args.cloud.clone();
    let mut bgp = args.assume_bgp_default_route;
    let limits = crate::config::limits(config.as_ref());
    if let Some(c) = &config {
        crate::config::apply_to_policy(c, &mut policy).map_err(|e| e.to_string())?;
        cloud = cloud.or_else(|| c.cloud.clone());
        bgp |= c.assume_bgp_default_route.unwrap_or(false);
        var_args.extend(c.var_files.iter().cloned().map(VarArg::File));
    }
    var_args.extend(args.var_files.iter().cloned().map(VarArg::File));
    for v in &args.vars {
        let (k, val) = parse_var(v)?;
        var_args.push(VarArg::Value(k, val));
    }
    let opts = CheckOptions {
        paths: args.paths.clone(),
        cloud,
        var_args,
        parameters: args.parameters.clone(),
        assume_bgp_default_route: bgp,
        select,
        exclude: config.as_ref().map(|c| c.exclude.clone()).unwrap_or_default(),
        exclude_base: config.as_ref().map_or_else(|| PathBuf::from("."), |c| c.exclude_base()),
        limits,
        ..CheckOptions::default()
    };
    let outcome = crate::check(&opts, &policy);
    Ok(Loaded { policy, opts, outcome })
}

/// The policy pack: the built-in one, or the `*.hcl` files of `dir`. Every
/// rule this version checks takes its name and severity from the pack.
pub fn load_policy(dir: Option<&Path>) -> Result<Policy, String> {
    match dir {
        Some(d) => Policy::from_dir(d),
        None => Policy::embedded(),
    }
    .and_then(|p| p.require_docs(crate::rules::codes()).map(|()| p))
    .map_err(|e| e.to_string())
}

/// `--var NAME=VALUE`: the name trimmed, the value as written.
pub fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got \"{s}\"")),
    }
}
