//! The `kmsguard` command line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use kmsguard::limits::Limits;
use kmsguard::policy::{Policy, Severity};
use kmsguard::report::{self, Report};
use kmsguard::CheckOptions;

#[derive(Parser)]
#[command(name = "kmsguard", version, about = "Checks Azure networking code for forced tunnels and NSG rules that break Windows KMS activation, platform DNS and IMDS", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check Terraform, Bicep and ARM files and directories (default: the current directory).
    Check(Box<CheckArgs>),
    /// List the rules: code, name, severity and what each checks.
    Rules {
        /// Load a replacement policy pack from this directory.
        #[arg(long, value_name = "DIR")]
        policy: Option<PathBuf>,
    },
    /// Write a commented starter .kmsguard.hcl (in DIR, default the current directory).
    Init {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print a completion script for a shell (bash, zsh, fish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a rule's documentation, with a bad and a good example.
    Explain {
        /// A rule code (KG101) or name (forced-tunnel-blocks-kms).
        rule: String,
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
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
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
    /// An ARM parameters file applied to the templates checked (default: X.parameters.json beside X.json).
    #[arg(long = "parameters", value_name = "FILE")]
    parameters: Vec<PathBuf>,
    /// Treat every subnet as able to learn 0.0.0.0/0 over BGP (on-premises advertises a default route).
    #[arg(long = "assume-bgp-default-route")]
    assume_bgp_default_route: bool,
    /// Check only these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    ignore: Vec<String>,
    /// Findings whose fingerprint is in this baseline file do not count.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Write the fingerprints of the findings that count to FILE (a baseline).
    #[arg(long = "write-baseline", value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Exit 1 when a finding at or above this severity is reported [default: the config file's, else error].
    #[arg(long = "fail-on", value_enum)]
    fail_on: Option<FailOn>,
    /// Read settings from this file instead of the nearest .kmsguard.hcl (pin it where a pull request cannot change it).
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
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
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Init { dir } => {
            let path = dir.join(kmsguard::config::FILE_NAME);
            if path.exists() {
                return fail(&format!("{} exists already; not overwritten", path.display()));
            }
            match std::fs::write(&path, kmsguard::config::STARTER) {
                Ok(()) => print_out(&format!("wrote {}\n", path.display())),
                Err(e) => fail(&format!("cannot write {}: {e}", path.display())),
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
        let mut var_files = c.var_files.clone();
        var_files.append(&mut args.var_files);
        args.var_files = var_files;
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
    let opts = CheckOptions {
        paths: args.paths,
        cloud: args.cloud.map(|c| c.as_str().to_string()),
        var_files: args.var_files,
        vars: args.vars,
        parameters: args.parameters,
        assume_bgp_default_route: args.assume_bgp_default_route,
        select,
        ignore,
        baseline,
        exclude: config.as_ref().map(|c| c.exclude.clone()).unwrap_or_default(),
        exclude_base: config
            .as_ref()
            .and_then(|c| c.path.parent().map(std::path::Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from(".")),
        limits,
        inline_suppressions: !args.no_inline_suppressions,
    };
    let outcome = kmsguard::check(&opts, &policy);
    if let Some(path) = &args.write_baseline {
        if let Err(e) = kmsguard::suppress::write_baseline(path, &outcome.sources, &outcome.findings) {
            return fail(&e);
        }
    }
    let r = Report {
        sources: &outcome.sources,
        policy: &policy,
        findings: &outcome.findings,
        errors: &outcome.errors,
        summary: outcome.summary.clone(),
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
        Format::Markdown => report::annotations::markdown(&r),
    };
    for (format, path) in &args.reports {
        if let Err(e) = std::fs::write(path, render(*format, false)) {
            return fail(&format!("cannot write {}: {e}", path.display()));
        }
    }
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, render(args.format, false)) {
                return fail(&format!("cannot write {}: {e}", path.display()));
            }
        }
        None => {
            if print_out(&render(args.format, color)) != ExitCode::SUCCESS {
                return ExitCode::from(2);
            }
        }
    }
    if !outcome.errors.is_empty() {
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
    eprintln!("error: {msg}");
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
