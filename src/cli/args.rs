//! The command line's flags: what each subcommand takes.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use kmsguard::policy::Policy;

/// Shown after `--help`: the three runs most users start from.
const EXAMPLES: &str = "\
Examples:
  kmsguard check infra                                  # check a directory; exit 1 on errors
  kmsguard check -f sarif -o kmsguard.sarif infra       # a SARIF report for code scanning
  kmsguard check --var-file prod.tfvars --fail-on warning envs/prod";

#[derive(Parser)]
#[command(
    name = "kmsguard",
    version,
    about = "Checks Azure networking code for forced tunnels and NSG rules that break Windows KMS activation, platform DNS and IMDS",
    long_about = None,
    after_help = EXAMPLES
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Check Terraform, Bicep and ARM files and directories (default: the current directory).
    #[command(after_help = EXAMPLES)]
    Check(Box<CheckArgs>),
    /// List the rules: code, name, severity and what each checks.
    Rules {
        /// Load a replacement policy pack from this directory.
        #[arg(long, value_name = "DIR")]
        policy: Option<PathBuf>,
    },
    /// Write a commented starter .kmsguard.hcl (in DIR, default the current directory).
    Init {
        /// The directory to write .kmsguard.hcl in.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Replace an existing .kmsguard.hcl (a symbolic link is replaced, never written through).
        #[arg(long)]
        force: bool,
    },
    /// Print a completion script for a shell (bash, zsh, fish, powershell).
    Completions {
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Follow one flow from a subnet through routes, firewall and NSGs, offline.
    Trace(Box<kmsguard::trace::TraceArgs>),
    /// Fix KG101, KG102 and KG103 in place (--diff shows the change and writes nothing).
    Fix(Box<kmsguard::fix::FixArgs>),
    /// Draw subnets, route tables and NSGs with each path to KMS (mermaid, dot, svg, html).
    Graph(Box<kmsguard::graph::GraphArgs>),
    /// Print a rule's documentation, with a bad and a good example.
    Explain {
        /// A rule code (KG101) or name (forced-tunnel-blocks-kms).
        rule: String,
        /// Load a replacement policy pack from this directory.
        #[arg(long, value_name = "DIR")]
        policy: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
pub(crate) struct CheckArgs {
    /// Files or directories to check.
    #[arg(value_name = "PATH", default_value = ".")]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,
    /// Whether --format was given (a format name as --output's value is then a file name).
    #[arg(skip)]
    pub(crate) format_given: bool,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// List every KG901 note in the human and compact formats, instead of one line per reason.
    #[arg(long)]
    pub(crate) verbose: bool,
    /// Print only findings and errors: no summary line, and nothing on a clean run (human, compact and annotation formats).
    #[arg(short = 'q', long)]
    pub(crate) quiet: bool,
    /// Also write a report in FORMAT to FILE (repeatable), e.g. --report sarif=kmsguard.sarif.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report)]
    pub(crate) reports: Vec<(Format, PathBuf)>,
    /// The Azure cloud whose KMS addresses apply [default: the azurerm provider's environment, else public].
    #[arg(long, value_enum)]
    pub(crate) cloud: Option<Cloud>,
    /// A Terraform variables file (HCL, or JSON when named *.json); repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    pub(crate) var_files: Vec<PathBuf>,
    /// A Terraform variable value, NAME=VALUE; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = kmsguard::load::parse_var)]
    pub(crate) vars: Vec<(String, String)>,
    #[arg(skip)]
    pub(crate) var_file_indices: Vec<usize>,
    #[arg(skip)]
    pub(crate) var_indices: Vec<usize>,
    /// An ARM parameters file applied to the templates checked (default: X.parameters.json beside X.json).
    #[arg(long = "parameters", value_name = "FILE")]
    pub(crate) parameters: Vec<PathBuf>,
    /// Treat every subnet as able to learn 0.0.0.0/0 over BGP (on-premises advertises a default route).
    #[arg(long = "assume-bgp-default-route")]
    pub(crate) assume_bgp_default_route: bool,
    /// Check only these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',', alias = "check")]
    pub(crate) select: Vec<String>,
    /// Skip these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',', alias = "skip-check")]
    pub(crate) ignore: Vec<String>,
    /// Findings whose fingerprint is in this baseline file do not count.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Write the fingerprints of the findings that count to FILE (a baseline).
    #[arg(long = "write-baseline", value_name = "FILE")]
    pub(crate) write_baseline: Option<PathBuf>,
    /// Let --write-baseline replace an existing file.
    #[arg(long)]
    pub(crate) force: bool,
    /// Exit 1 when a finding at or above this severity is reported [default: the config file's, else error].
    #[arg(long = "fail-on", value_enum)]
    pub(crate) fail_on: Option<FailOn>,
    /// checkov's --soft-fail: the same as --fail-on never.
    #[arg(long = "soft-fail", hide = true, conflicts_with = "fail_on")]
    pub(crate) soft_fail: bool,
    /// tflint's --recursive: kmsguard always walks directories, so it changes nothing.
    #[arg(long, hide = true)]
    pub(crate) recursive: bool,
    /// Flags of other checkers with no kmsguard equivalent of the same
    /// meaning: taken (with or without a value) so that the run stops
    /// with what to use instead, not clap's guess at a similar name.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "", value_name = "X")]
    pub(crate) severity: Option<String>,
    #[arg(long = "exit-code", hide = true, num_args = 0..=1, default_missing_value = "", value_name = "X")]
    pub(crate) exit_code: Option<String>,
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "", value_name = "X")]
    pub(crate) framework: Option<String>,
    /// Read settings from this file instead of the nearest .kmsguard.hcl (pin it where a pull request cannot change it).
    #[arg(short = 'c', long, value_name = "FILE", conflicts_with = "no_config")]
    pub(crate) config: Option<PathBuf>,
    /// Ignore any .kmsguard.hcl in the checked tree: built-in settings and flags only.
    #[arg(long = "no-config")]
    pub(crate) no_config: bool,
    /// Refuse `kmsguard:ignore` comments and ARM `metadata.kmsguard.ignore`: only a baseline or a pinned config can accept a finding.
    #[arg(long = "no-inline-suppressions")]
    pub(crate) no_inline_suppressions: bool,
    /// Load a replacement policy pack (the *.hcl files of DIR) instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub(crate) policy: Option<PathBuf>,
    /// Refuse files larger than this many bytes [default: the config file's, else 16 MiB].
    #[arg(long = "max-file-size", value_name = "BYTES")]
    pub(crate) max_file_size: Option<u64>,
    /// Give up on a Terraform file the HCL parser has not finished in this many seconds [default: 10].
    #[arg(long = "parse-timeout", value_name = "SECONDS", value_parser = parse_seconds)]
    pub(crate) parse_timeout: Option<std::time::Duration>,
    /// Evaluation steps per root module, Bicep deployment or ARM template; past them, values are unknown (KG901) [default: 4000000].
    #[arg(long = "max-eval-steps", value_name = "STEPS")]
    pub(crate) max_eval_steps: Option<u64>,
    /// Elements a list, loop, count or for_each may have; past them, values are unknown (KG901) [default: 100000].
    #[arg(long = "max-collection-size", value_name = "N")]
    pub(crate) max_collection_size: Option<usize>,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub(crate) color: Color,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Human,
    Compact,
    Json,
    Sarif,
    Github,
    AzurePipelines,
    Junit,
    Markdown,
}

fn parse_report(s: &str) -> Result<(Format, PathBuf), String> {
    let (f, path) = s.split_once('=').ok_or_else(|| format!("expected FORMAT=FILE, got \"{s}\""))?;
    let format = Format::from_str(f, true).map_err(|_| format!("unknown format \"{f}\""))?;
    Ok((format, PathBuf::from(path)))
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Cloud {
    Public,
    Usgov,
    China,
    Germany,
}

impl Cloud {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::Usgov => "usgov",
            Cloud::China => "china",
            Cloud::Germany => "germany",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

/// "0.1.0 (policy pack 2026.12.0)": what a bug report needs, the binary's
/// version and the built-in pack's.
fn version() -> &'static str {
    let pack = Policy::embedded()
        .ok()
        .and_then(|p| p.version)
        .unwrap_or_else(|| "unversioned".to_string());
    // Built once per run, for clap, which wants a string that lives as long as the program.
    Box::leak(format!("{} (policy pack {pack})", env!("CARGO_PKG_VERSION")).into_boxed_str())
}

/// A positive number of seconds, fractions allowed.
fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s.parse().map_err(|_| format!("{s} is not a number of seconds"))?;
    if secs <= 0.0 {
        return Err("the timeout must be more than 0 seconds".to_string());
    }
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| format!("{s} seconds is too long a timeout"))
}

/// Reads the command line; exits with clap's message when it cannot.
pub(crate) fn parse() -> Cli {
    let mut command = <Cli as clap::CommandFactory>::command();
    // Reading the pack costs every run a parse; only --version needs it.
    if std::env::args_os().skip(1).any(|a| a == "--version" || a == "-V") {
        command = command.version(version());
    }
    let matches = command.get_matches();
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Where each --var-file and --var stood, so they apply in that order.
    if let (Command::Check(args), Some(m)) = (&mut cli.command, matches.subcommand_matches("check")) {
        args.var_file_indices = m.indices_of("var_files").map(Iterator::collect).unwrap_or_default();
        args.var_indices = m.indices_of("vars").map(Iterator::collect).unwrap_or_default();
        args.format_given = m.value_source("format") == Some(clap::parser::ValueSource::CommandLine);
    }
    cli
}
