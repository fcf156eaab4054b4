//! The `kmsguard` command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use kmsguard::limits::Limits;
use kmsguard::policy::{Policy, Severity};
use kmsguard::report::{self, Report};
use kmsguard::{CheckOptions, VarArg};

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
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
struct CheckArgs {
    /// Files or directories to check.
    #[arg(value_name = "PATH", default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'f', long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Whether --format was given (a format name as --output's value is then a file name).
    #[arg(skip)]
    format_given: bool,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// List every KG901 note in the human and compact formats, instead of one line per reason.
    #[arg(long)]
    verbose: bool,
    /// Print only findings and errors: no summary line, and nothing on a clean run (human, compact and annotation formats).
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Also write a report in FORMAT to FILE (repeatable), e.g. --report sarif=kmsguard.sarif.
    #[arg(long = "report", value_name = "FORMAT=FILE", value_parser = parse_report)]
    reports: Vec<(Format, PathBuf)>,
    /// The Azure cloud whose KMS addresses apply [default: the azurerm provider's environment, else public].
    #[arg(long, value_enum)]
    cloud: Option<Cloud>,
    /// A Terraform variables file (HCL, or JSON when named *.json); repeatable.
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    /// A Terraform variable value, NAME=VALUE; repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    #[arg(skip)]
    var_file_indices: Vec<usize>,
    #[arg(skip)]
    var_indices: Vec<usize>,
    /// An ARM parameters file applied to the templates checked (default: X.parameters.json beside X.json).
    #[arg(long = "parameters", value_name = "FILE")]
    parameters: Vec<PathBuf>,
    /// Treat every subnet as able to learn 0.0.0.0/0 over BGP (on-premises advertises a default route).
    #[arg(long = "assume-bgp-default-route")]
    assume_bgp_default_route: bool,
    /// Check only these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',', alias = "check")]
    select: Vec<String>,
    /// Skip these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',', alias = "skip-check")]
    ignore: Vec<String>,
    /// Findings whose fingerprint is in this baseline file do not count.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the fingerprints of the findings that count to FILE (a baseline).
    #[arg(long = "write-baseline", value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Let --write-baseline replace an existing file.
    #[arg(long)]
    force: bool,
    /// Exit 1 when a finding at or above this severity is reported [default: the config file's, else error].
    #[arg(long = "fail-on", value_enum)]
    fail_on: Option<FailOn>,
    /// checkov's --soft-fail: the same as --fail-on never.
    #[arg(long = "soft-fail", hide = true, conflicts_with = "fail_on")]
    soft_fail: bool,
    /// tflint's --recursive: kmsguard always walks directories, so it changes nothing.
    #[arg(long, hide = true)]
    recursive: bool,
    /// Flags of other checkers with no kmsguard equivalent of the same
    /// meaning: taken (with or without a value) so that the run stops
    /// with what to use instead, not clap's guess at a similar name.
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "", value_name = "X")]
    severity: Option<String>,
    #[arg(long = "exit-code", hide = true, num_args = 0..=1, default_missing_value = "", value_name = "X")]
    exit_code: Option<String>,
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "", value_name = "X")]
    framework: Option<String>,
    /// Read settings from this file instead of the nearest .kmsguard.hcl (pin it where a pull request cannot change it).
    #[arg(short = 'c', long, value_name = "FILE", conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Ignore any .kmsguard.hcl in the checked tree: built-in settings and flags only.
    #[arg(long = "no-config")]
    no_config: bool,
    /// Refuse `kmsguard:ignore` comments and ARM `metadata.kmsguard.ignore`: only a baseline or a pinned config can accept a finding.
    #[arg(long = "no-inline-suppressions")]
    no_inline_suppressions: bool,
    /// Load a replacement policy pack (the *.hcl files of DIR) instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    policy: Option<PathBuf>,
    /// Refuse files larger than this many bytes [default: the config file's, else 16 MiB].
    #[arg(long = "max-file-size", value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Give up on a Terraform file the HCL parser has not finished in this many seconds [default: 10].
    #[arg(long = "parse-timeout", value_name = "SECONDS", value_parser = parse_seconds)]
    parse_timeout: Option<std::time::Duration>,
    /// Evaluation steps per root module, Bicep deployment or ARM template; past them, values are unknown (KG901) [default: 4000000].
    #[arg(long = "max-eval-steps", value_name = "STEPS")]
    max_eval_steps: Option<u64>,
    /// Elements a list, loop, count or for_each may have; past them, values are unknown (KG901) [default: 100000].
    #[arg(long = "max-collection-size", value_name = "N")]
    max_collection_size: Option<usize>,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
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
enum Cloud {
    Public,
    Usgov,
    China,
    Germany,
}

impl Cloud {
    fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::Usgov => "usgov",
            Cloud::China => "china",
            Cloud::Germany => "germany",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got \"{s}\"")),
    }
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

/// Why a run with flags other checkers use cannot go on, and what to use
/// instead; `None` when nothing stands in the way.
fn foreign_flags(args: &CheckArgs) -> Option<String> {
    if args.severity.is_some() {
        return Some(
            "kmsguard has no --severity: every finding is reported, and `--fail-on error|warning|note|never` sets the lowest severity that fails the run (`--select`/`--ignore` choose rules)".into(),
        );
    }
    if args.exit_code.is_some() {
        return Some(
            "kmsguard has no --exit-code: it exits 1 when a finding at or above --fail-on (default error) is reported, 2 when the run fails; use `--fail-on never` to exit 0 on findings".into(),
        );
    }
    if args.framework.is_some() {
        return Some(
            "kmsguard has no --framework: it reads Terraform, Bicep and ARM wherever they are; name the files or directories to check, or exclude some in .kmsguard.hcl".into(),
        );
    }
    // `-o sarif` is checkov's way of choosing the format; here it would
    // write a human report into a file named `sarif`.
    let output = args.output.as_ref()?.to_str()?;
    if args.format_given {
        return None;
    }
    let format = Format::value_variants()
        .iter()
        .filter_map(|f| f.to_possible_value())
        .find(|v| v.matches(output, true))?;
    Some(format!(
        "--output names the file to write the report to; did you mean `--format {}`? (to write that format to a file: `--format {} --output kmsguard.{}`; to write a file named {output}, add --format or write ./{output})",
        format.get_name(),
        format.get_name(),
        match format.get_name() {
            "human" | "compact" => "txt",
            "github" | "azure-pipelines" => "log",
            "junit" => "xml",
            "markdown" => "md",
            other => other,
        }
    ))
}

fn load_policy(dir: Option<&PathBuf>) -> Result<Policy, String> {
    let policy = match dir {
        Some(d) => Policy::from_dir(d),
        None => Policy::embedded(),
    };
    // Every rule this version checks takes its name and severity from the pack.
    policy
        .and_then(|p| p.require_docs(kmsguard::rules::codes()).map(|()| p))
        .map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    // A panic inside a check is caught and reported as an error against the
    // directory it happened in (see `kmsguard::check`); one line on stderr
    // keeps where it happened, for the bug report.
    std::panic::set_hook(Box::new(|info| eprintln!("kmsguard: internal error: {info}")));
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
    let model_args = match &mut cli.command {
        Command::Fix(a) => Some(&mut a.model),
        Command::Trace(a) => Some(&mut a.model),
        Command::Graph(a) => Some(&mut a.model),
        _ => None,
    };
    if let (Some(a), Some((_, m))) = (model_args, matches.subcommand()) {
        a.record_order(m);
    }
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Fix(args) => match kmsguard::fix::run(&args) {
            Ok((text, code)) => match print_out(&text) {
                ExitCode::SUCCESS => ExitCode::from(code),
                other => other,
            },
            Err(e) => fail(&e),
        },
        Command::Graph(args) => match kmsguard::graph::run(&args) {
            Ok(text) => print_out(&text),
            Err(e) => fail(&e),
        },
        Command::Trace(args) => match kmsguard::trace::run(&args) {
            Ok((text, code)) => match print_out(&text) {
                ExitCode::SUCCESS => ExitCode::from(code),
                other => other,
            },
            Err(e) => fail(&e),
        },
        Command::Init { dir, force } => {
            let path = dir.join(kmsguard::config::FILE_NAME);
            let written = if force {
                write_all(&[Output {
                    what: "the starter config",
                    path: path.clone(),
                    text: kmsguard::config::STARTER.to_string(),
                }])
            } else {
                create_new(&path, kmsguard::config::STARTER)
            };
            match written {
                Ok(()) => print_out(&format!("wrote {}\n", path.display())),
                Err(e) => fail(&e),
            }
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "kmsguard", &mut out);
            print_out(&String::from_utf8_lossy(&out))
        }
        Command::Rules { policy } => match load_policy(policy.as_ref()) {
            Ok(p) => {
                let mut out = String::new();
                for r in &p.rules {
                    let status = if kmsguard::rules::is_checked(&r.code) {
                        ""
                    } else {
                        "  (documented, not checked yet)"
                    };
                    out.push_str(&format!(
                        "{}  {:<36} {:<8} {}{status}\n",
                        r.code,
                        r.name,
                        r.severity.as_str(),
                        r.summary
                    ));
                }
                print_out(&out)
            }
            Err(e) => fail(&e),
        },
        Command::Explain { rule, policy } => match load_policy(policy.as_ref()) {
            Ok(p) => match p.rule(&rule) {
                Some(r) => print_out(&explain(r)),
                None => fail(&format!("no rule named \"{rule}\"; `kmsguard rules` lists them")),
            },
            Err(e) => fail(&e),
        },
    }
}

fn explain(r: &kmsguard::policy::RuleDoc) -> String {
    let indent = |s: &str| {
        s.trim_end()
            .lines()
            .map(|l| if l.is_empty() { String::new() } else { format!("  {l}") })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut out = format!("{} {} ({})\n", r.code, r.name, r.severity.as_str());
    if !kmsguard::rules::is_checked(&r.code) {
        out.push_str("\nNot checked yet by this version of kmsguard.\n");
    }
    out.push_str(&format!(
        "\nWhat it checks\n{}\n\nWhy it matters\n{}\n\nExample\n{}\n\nFix\n{}\n",
        indent(&r.what),
        indent(&r.why),
        indent(&r.example),
        indent(&r.fix)
    ));
    if !r.references.is_empty() {
        out.push_str("\nReferences\n");
        for x in &r.references {
            out.push_str(&format!("  {x}\n"));
        }
    }
    out
}

fn check(mut args: CheckArgs) -> ExitCode {
    if let Some(msg) = foreign_flags(&args) {
        return fail(&msg);
    }
    if args.soft_fail {
        args.fail_on = Some(FailOn::Never);
    }
    let mut policy = match load_policy(args.policy.as_ref()) {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    // The config file: named, or the nearest one; flags win over it.
    let config_path = if args.no_config {
        None
    } else {
        args.config
            .clone()
            .or_else(|| args.paths.first().and_then(|p| kmsguard::config::find(p)))
    };
    // The config file is input like any other: parsed under the same time limit.
    let parse_timeout = args.parse_timeout.unwrap_or(Limits::default().parse_timeout);
    let config = match &config_path {
        Some(path) => match kmsguard::config::load(path, &policy, parse_timeout) {
            Ok(c) => Some(c),
            Err(e) => return fail(&e),
        },
        None => None,
    };
    if let Some(c) = &config {
        if let Err(e) = kmsguard::config::apply_to_policy(c, &mut policy) {
            return fail(&e);
        }
        if args.cloud.is_none() {
            args.cloud = c.cloud.as_deref().and_then(|s| Cloud::from_str(s, true).ok());
        }
        if args.fail_on.is_none() {
            args.fail_on = c.fail_on.as_deref().and_then(|s| FailOn::from_str(s, true).ok());
        }

        args.assume_bgp_default_route |= c.assume_bgp_default_route.unwrap_or(false);
        args.ignore.extend(c.disabled.iter().cloned());
    }
    let resolve = |names: &[String]| -> Result<Vec<String>, String> {
        names
            .iter()
            .map(|n| {
                policy
                    .rule(n.trim())
                    .map(|r| r.code.clone())
                    .ok_or_else(|| format!("no rule named \"{n}\"; `kmsguard rules` lists them"))
            })
            .collect()
    };
    let (select, ignore) = match (resolve(&args.select), resolve(&args.ignore)) {
        (Ok(s), Ok(i)) => (s, i),
        (Err(e), _) | (_, Err(e)) => return fail(&e),
    };
    let baseline = match &args.baseline {
        Some(path) => match kmsguard::suppress::read_baseline(path) {
            Ok(b) => Some(b),
            Err(e) => return fail(&e),
        },
        None => None,
    };
    // Flags win over the config file, which wins over the defaults.
    let (defaults, file) = (Limits::default(), config.as_ref());
    let limits = Limits {
        max_file_size: layered(args.max_file_size, file.and_then(|c| c.max_file_size), defaults.max_file_size),
        parse_timeout: layered(args.parse_timeout, file.and_then(|c| c.parse_timeout), defaults.parse_timeout),
        eval_steps: layered(args.max_eval_steps, file.and_then(|c| c.max_eval_steps), defaults.eval_steps),
        collection_size: layered(
            args.max_collection_size,
            file.and_then(|c| c.max_collection_size),
            defaults.collection_size,
        ),
    };
    // Terraform applies -var and -var-file in command-line order, after
    // the config file's var_files.
    let mut var_args: Vec<VarArg> = config
        .as_ref()
        .map(|c| c.var_files.iter().cloned().map(VarArg::File).collect())
        .unwrap_or_default();
    let files = args
        .var_files
        .iter()
        .enumerate()
        .map(|(n, f)| (args.var_file_indices.get(n).copied(), f.clone()));
    let values = args
        .vars
        .iter()
        .enumerate()
        .map(|(n, (k, v))| (args.var_indices.get(n).copied(), k.clone(), v.clone()));
    var_args.extend(kmsguard::load::in_command_line_order(files, values));
    let opts = CheckOptions {
        paths: args.paths,
        cloud: args.cloud.map(|c| c.as_str().to_string()),
        var_args,
        parameters: args.parameters,
        assume_bgp_default_route: args.assume_bgp_default_route,
        select,
        ignore,
        baseline,
        exclude: config.as_ref().map(|c| c.exclude.clone()).unwrap_or_default(),
        exclude_base: config.as_ref().map_or_else(|| PathBuf::from("."), |c| c.exclude_base()),
        limits,
        inline_suppressions: !args.no_inline_suppressions,
    };
    let outcome = kmsguard::check(&opts, &policy);
    let r = Report {
        sources: &outcome.sources,
        policy: &policy,
        findings: &outcome.findings,
        errors: &outcome.errors,
        skipped: &outcome.skipped,
        // Every summary names the settings file, so that a pull request that
        // adds or changes one is visible wherever the report is read.
        summary: kmsguard::report::Summary {
            config: Some(
                config_path
                    .as_deref()
                    .map(kmsguard::source::display_path)
                    .unwrap_or_else(|| "none".into()),
            ),
            ..outcome.summary.clone()
        },
        verbose: args.verbose,
    };
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let render = |format: Format, color: bool| match format {
        Format::Human => report::human::render(&r, color),
        Format::Compact => report::compact::render(&r),
        Format::Json => report::json::render(&r),
        Format::Sarif => report::sarif::render(&r),
        Format::Github => report::annotations::github(&r),
        Format::AzurePipelines => report::annotations::azure_pipelines(&r),
        Format::Junit => report::annotations::junit(&r),
        Format::Markdown => with_graph(report::annotations::markdown(&r), &outcome, &policy, &opts),
    };
    let mut outputs: Vec<Output> = args
        .reports
        .iter()
        .chain(args.output.as_ref().map(|path| (args.format, path.clone())).as_slice())
        .map(|(format, path)| Output {
            what: format_name(*format),
            path: path.clone(),
            text: render(*format, false),
        })
        .collect();
    // Every file this run read: a report written over one would destroy
    // the code under review (`--output main.tf`).
    let mut inputs: std::collections::HashMap<PathBuf, PathBuf> = std::collections::HashMap::new();
    if !outputs.is_empty() || args.write_baseline.is_some() {
        let read = (0..outcome.sources.len())
            .map(|i| {
                outcome
                    .sources
                    .path(kmsguard::source::FileId(u32::try_from(i).unwrap_or(u32::MAX)))
                    .to_path_buf()
            })
            .chain(config.as_ref().map(|c| c.path.clone()));
        inputs.extend(read.map(|p| (resolved(&p), p)));
    }
    if let Some(path) = &args.write_baseline {
        if !args.force && std::fs::symlink_metadata(path).is_ok() {
            return fail(&format!(
                "{} exists already; not overwritten (pass --force to replace it)",
                path.display()
            ));
        }
        // Rewriting the baseline that was read is how a baseline is updated.
        let updates_baseline = args.baseline.as_ref().is_some_and(|b| same_file(b, path));
        if let Some(clash) = onto_input(path, &inputs, opts.limits.max_file_size).filter(|_| !updates_baseline) {
            return fail(&clash);
        }
        outputs.push(Output {
            what: "baseline",
            path: path.clone(),
            text: kmsguard::suppress::baseline_text(&outcome.sources, &outcome.findings),
        });
    }
    // Writing a report over the baseline read is a mistake.
    inputs.extend(args.baseline.iter().map(|p| (resolved(p), p.clone())));
    for (i, o) in outputs.iter().enumerate() {
        if o.what == "baseline" {
            continue;
        }
        if let Some(clash) = onto_input(&o.path, &inputs, opts.limits.max_file_size) {
            return fail(&clash);
        }
        if outputs.iter().skip(i + 1).any(|other| same_file(&o.path, &other.path)) {
            return fail(&format!("{} is named for two outputs; give each its own file", o.path.display()));
        }
    }
    if let Err(e) = write_all(&outputs) {
        return fail(&e);
    }
    if args.output.is_none() {
        let mut text = render(args.format, color);
        if args.quiet
            && matches!(
                args.format,
                Format::Human | Format::Compact | Format::Github | Format::AzurePipelines
            )
        {
            text = without_summary(&text, &report::summary_line(&r));
        }
        if print_out(&text) != ExitCode::SUCCESS {
            return ExitCode::from(2);
        }
    }
    if let Some(first) = outcome.errors.first() {
        // The report holds every input that could not be checked (so that
        // JSON and SARIF readers see them); the console, and a log that
        // keeps only stderr, get the first on a line of its own, as other
        // tools print theirs.
        let (file, lc) = report::error_location(&outcome.sources, first);
        let place = lc.map(|lc| format!(":{}:{}", lc.line, lc.column)).unwrap_or_default();
        let more = match outcome.errors.len() - 1 {
            0 => String::new(),
            n => format!(" (and {n} more, listed in the report)"),
        };
        eprintln!(
            "error: {}",
            report::escape::log_text(&format!("{file}{place}: {}{more}", first.message))
        );
        return ExitCode::from(2);
    }
    let threshold = match args.fail_on.unwrap_or(FailOn::Error) {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Note => Some(Severity::Note),
        FailOn::Never => None,
    };
    match threshold {
        Some(t) if outcome.findings.iter().any(|f| f.suppressed.is_none() && f.severity >= t) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// `text` without its summary line, for --quiet; a report left with no line
/// at all prints nothing.
fn without_summary(text: &str, summary: &str) -> String {
    text.split_inclusive('\n')
        .filter(|line| line.trim_end_matches(['\n', '\r']) != summary)
        .collect()
}

/// The markdown report with a picture of the paths to KMS when it is small.
fn with_graph(markdown: String, outcome: &kmsguard::Outcome, policy: &Policy, opts: &CheckOptions) -> String {
    let trace = kmsguard::trace::TraceOptions {
        cloud: opts.cloud.clone(),
        assume_bgp_default_route: opts.assume_bgp_default_route,
        named_files: Vec::new(),
    };
    match kmsguard::graph::markdown_section(&outcome.model, policy, &outcome.sources, &trace, &outcome.findings) {
        Some(g) if markdown.len() + g.len() < report::annotations::MARKDOWN_LIMIT => format!("{markdown}\n{g}"),
        _ => markdown,
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Human => "human report",
        Format::Compact => "compact report",
        Format::Json => "JSON report",
        Format::Sarif => "SARIF report",
        Format::Github => "github report",
        Format::AzurePipelines => "azure-pipelines report",
        Format::Junit => "JUnit report",
        Format::Markdown => "markdown report",
    }
}

/// A file the run writes: a report, the baseline, the starter config.
struct Output {
    what: &'static str,
    path: PathBuf,
    text: String,
}

/// The file `path` names once links are resolved, whether it exists or not.
fn resolved(path: &std::path::Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => kmsguard::source::normalise(path),
    }
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    resolved(a) == resolved(b)
}

/// Why writing to `path` would overwrite one of `inputs` (by resolved
/// path), if it would.
fn onto_input(path: &std::path::Path, inputs: &std::collections::HashMap<PathBuf, PathBuf>, max_bytes: u64) -> Option<String> {
    let input = inputs.get(&resolved(path))?;
    if is_kmsguard_output(path, max_bytes) {
        return None;
    }
    let what = if input.as_path() == path {
        String::new()
    } else {
        format!(" (as {})", input.display())
    };
    Some(format!(
        "refusing to write to {}: it is an input of this check{what}; choose another file",
        path.display()
    ))
}

/// Whether `path` holds a report or a baseline kmsguard wrote. A checked
/// tree holding one has it read as JSON (and skipped, being no template), yet
/// replacing it is how a run is repeated.
fn is_kmsguard_output(path: &std::path::Path, max_bytes: u64) -> bool {
    use kmsguard::discover::{classify, Kind};
    if !matches!(classify(path), None | Some(Kind::Json)) {
        return false;
    }
    let Ok(text) = kmsguard::discover::read_text(path, max_bytes) else {
        return false;
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    // An ARM template or parameters file is code, whatever else it holds.
    let arm = doc["$schema"]
        .as_str()
        .is_some_and(|s| s.to_ascii_lowercase().contains("deployment"));
    !arm && (doc["tool"]["name"] == "kmsguard" || doc["tool"] == "kmsguard" || doc["runs"][0]["tool"]["driver"]["name"] == "kmsguard")
}

/// Writes every output or none: each goes to a temporary file beside its
/// target, and only when all are written are they renamed into place. A
/// full disk or a bad path therefore never leaves a truncated report, and a
/// link at a target is replaced, never written through.
fn write_all(outputs: &[Output]) -> Result<(), String> {
    let mut temps: Vec<PathBuf> = Vec::new();
    let cleanup = |temps: &[PathBuf]| {
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    // A directory in the way would only fail at the rename, after others are in place.
    if let Some(o) = outputs
        .iter()
        .find(|o| std::fs::symlink_metadata(&o.path).is_ok_and(|m| m.is_dir()))
    {
        return Err(format!(
            "cannot write the {} to {}: it is a directory; no report was written",
            o.what,
            o.path.display()
        ));
    }
    for (n, o) in outputs.iter().enumerate() {
        match write_temp(&o.path, n, &o.text) {
            Ok(t) => temps.push(t),
            Err(e) => {
                cleanup(&temps);
                return Err(format!(
                    "cannot write the {} to {}: {e}; no report was written",
                    o.what,
                    o.path.display()
                ));
            }
        }
    }
    for (i, (o, t)) in outputs.iter().zip(&temps).enumerate() {
        if let Err(e) = std::fs::rename(t, &o.path) {
            cleanup(temps.get(i..).unwrap_or_default());
            let done: Vec<String> = outputs.iter().take(i).map(|o| o.path.display().to_string()).collect();
            let done = if done.is_empty() {
                "no report was written".to_string()
            } else {
                format!("written before the failure: {}", done.join(", "))
            };
            return Err(format!("cannot write the {} to {}: {e}; {done}", o.what, o.path.display()));
        }
    }
    Ok(())
}

/// A new temporary file beside `target` holding `text`, flushed to disk.
fn write_temp(target: &std::path::Path, n: usize, text: &str) -> std::io::Result<PathBuf> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let pid = std::process::id();
    let mut attempt = 0;
    loop {
        let temp = dir.join(format!(".kmsguard-tmp-{pid}-{n}-{attempt}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(mut file) => {
                let written = file.write_all(text.as_bytes()).and_then(|_| file.sync_all());
                return match written {
                    Ok(()) => Ok(temp),
                    Err(e) => {
                        let _ = std::fs::remove_file(&temp);
                        Err(e)
                    }
                };
            }
            // A leftover of a killed run with the same pid: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Creates `path` with `text`; refuses if anything is there, a dangling
/// symbolic link included (it would be written through).
fn create_new(path: &std::path::Path, text: &str) -> Result<(), String> {
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(format!(
                "{} exists already (or is a symbolic link); not overwritten (pass --force to replace it)",
                path.display()
            ))
        }
        Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
    };
    file.write_all(text.as_bytes()).map_err(|e| {
        let _ = std::fs::remove_file(path);
        format!("cannot write {}: {e}", path.display())
    })
}

fn print_out(s: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`kmsguard check | head`) is not worth a panic.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

fn fail(msg: &str) -> ExitCode {
    // Messages quote config values and paths from the checked tree; stderr
    // lands in the same CI log as stdout.
    eprintln!("error: {}", report::escape::log_text(msg));
    ExitCode::from(2)
}

/// A flag's value, else the config file's, else the default.
fn layered<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

/// A positive number of seconds, fractions allowed.
fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    let secs: f64 = s.parse().map_err(|_| format!("{s} is not a number of seconds"))?;
    if secs <= 0.0 {
        return Err("the timeout must be more than 0 seconds".to_string());
    }
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| format!("{s} seconds is too long a timeout"))
}
