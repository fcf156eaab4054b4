//! The flags `trace` and `fix` share with `check` to build the model: paths,
//! cloud, variables, parameters, the config file and the policy pack. They
//! read the same `.kmsguard.hcl` as `check`, so a trace or a fix sees the
//! network the check judged.

use std::path::{Path, PathBuf};

use crate::config::ConfigError;
use crate::diagnostic::FileError;
use crate::limits::Limits;
use crate::policy::{Policy, PolicyError};
use crate::source::LineCol;
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
    /// A Terraform variable value, NAME=VALUE; repeatable (applied with --var-file in command-line order).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Where each --var-file stood on the command line (see [`ModelArgs::record_order`]).
    #[arg(skip)]
    pub var_file_indices: Vec<usize>,
    /// Where each --var stood on the command line.
    #[arg(skip)]
    pub var_indices: Vec<usize>,
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

impl ModelArgs {
    /// Notes where each --var-file and --var stood, so that they apply in
    /// that order, as in `check` and Terraform.
    pub fn record_order(&mut self, m: &clap::ArgMatches) {
        self.var_file_indices = m.indices_of("var_files").map(Iterator::collect).unwrap_or_default();
        self.var_indices = m.indices_of("vars").map(Iterator::collect).unwrap_or_default();
    }
}

/// `--var-file` files and `--var` values in the order they stood on the
/// command line (Terraform applies -var and -var-file in that order): each
/// comes with its index among the arguments. Without indices (a caller
/// that did not record them) the files come first, then the values.
pub fn in_command_line_order(
    files: impl IntoIterator<Item = (Option<usize>, PathBuf)>,
    values: impl IntoIterator<Item = (Option<usize>, String, String)>,
) -> Vec<VarArg> {
    let mut flags: Vec<(usize, usize, VarArg)> = files
        .into_iter()
        .map(|(i, f)| (i, VarArg::File(f)))
        .chain(values.into_iter().map(|(i, k, v)| (i, VarArg::Value(k, v))))
        .enumerate()
        .map(|(n, (i, a))| (i.unwrap_or(usize::MAX), n, a))
        .collect();
    flags.sort_by_key(|(i, n, _)| (*i, *n));
    flags.into_iter().map(|(_, _, a)| a).collect()
}

/// What `trace`, `graph` and `fix` could not load: the pack, the config
/// file, a `--var`, or an input whose hole the tool would work around blind.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Var(#[from] VarError),
    #[error(transparent)]
    Unread(#[from] Unread),
}

/// A `--var` that is not `NAME=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected NAME=VALUE, got \"{0}\"")]
pub struct VarError(pub String);

/// The first input the check could not read, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not read {file}{}: {error}", at(.line_col))]
pub struct Unread {
    pub file: String,
    pub line_col: Option<LineCol>,
    #[source]
    pub error: FileError,
}

fn at(lc: &Option<LineCol>) -> String {
    lc.map(|lc| format!(":{}:{}", lc.line, lc.column)).unwrap_or_default()
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
    pub fn read_error(&self) -> Option<Unread> {
        let e = self.outcome.errors.first()?;
        let (file, line_col) = crate::report::error_location(&self.outcome.sources, e);
        Some(Unread {
            file,
            line_col,
            error: e.clone(),
        })
    }

    /// [`Loaded::read_error`] as the run's failure.
    pub fn complete(self) -> Result<Loaded, LoadError> {
        match self.read_error() {
            Some(e) => Err(e.into()),
            None => Ok(self),
        }
    }
}

/// Reads the pack and the config file, then checks the paths.
pub fn load(args: &ModelArgs, select: Vec<String>) -> Result<Loaded, LoadError> {
    let mut policy = load_policy(args.policy.as_deref())?;
    let config_path = crate::config::locate(args.config.as_deref(), args.no_config, &args.paths);
    let config = match &config_path {
        Some(path) => Some(crate::config::load(path, &policy, Limits::default().parse_timeout)?),
        None => None,
    };
    let mut var_args: Vec<VarArg> = Vec::new();
    let mut cloud = args.cloud.clone();
    let mut bgp = args.assume_bgp_default_route;
    let limits = crate::config::limits(config.as_ref());
    if let Some(c) = &config {
        crate::config::apply_to_policy(c, &mut policy)?;
        cloud = cloud.or_else(|| c.cloud.clone());
        bgp |= c.assume_bgp_default_route.unwrap_or(false);
        var_args.extend(c.var_files.iter().cloned().map(VarArg::File));
    }
    let mut values = Vec::new();
    for (n, v) in args.vars.iter().enumerate() {
        let (k, val) = parse_var(v)?;
        values.push((args.var_indices.get(n).copied(), k, val));
    }
    let files = args
        .var_files
        .iter()
        .enumerate()
        .map(|(n, f)| (args.var_file_indices.get(n).copied(), f.clone()));
    var_args.extend(in_command_line_order(files, values));
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
pub fn load_policy(dir: Option<&Path>) -> Result<Policy, PolicyError> {
    match dir {
        Some(d) => Policy::from_dir(d),
        None => Policy::embedded(),
    }
    .and_then(|p| p.require_docs(crate::rules::codes()).map(|()| p))
}

/// `--var NAME=VALUE`: the name trimmed, the value as written.
pub fn parse_var(s: &str) -> Result<(String, String), VarError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(VarError(s.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_var_without_a_name_is_a_typed_error() {
        assert_eq!(parse_var(" a = b"), Ok(("a".to_string(), " b".to_string())));
        for bad in ["novalue", "=x", "  =x"] {
            let e = parse_var(bad).expect_err(bad);
            assert_eq!(e, VarError(bad.to_string()));
            assert_eq!(e.to_string(), format!("expected NAME=VALUE, got \"{bad}\""));
        }
    }
}
