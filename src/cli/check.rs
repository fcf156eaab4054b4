//! `kmsguard check`: settings (flags over the config file over the
//! defaults), the check, then the reports and the exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use kmsguard::config::Config;
use kmsguard::limits::Limits;
use kmsguard::policy::{Policy, Severity};
use kmsguard::report::{self, Report};
use kmsguard::{CheckOptions, VarArg};

use super::args::{CheckArgs, Cloud, Color, FailOn, Format};
use super::output::{fail, onto_input, print_out, resolved, same_file, write_all, Output};
use kmsguard::load::load_policy;

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

/// `kmsguard check`: exits 0 when nothing at or above --fail-on counts, 1
/// when something does, 2 when the run failed.
pub(super) fn check(mut args: CheckArgs) -> ExitCode {
    if let Some(msg) = foreign_flags(&args) {
        return fail(&msg);
    }
    if args.soft_fail {
        args.fail_on = Some(FailOn::Never);
    }
    let settings = match settings(&mut args) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let opts = match options(&args, &settings.policy, settings.config.as_ref()) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    let policy = &settings.policy;
    let outcome = kmsguard::check(&opts, policy);
    let run = Checked {
        report: Report {
            sources: &outcome.sources,
            policy,
            findings: &outcome.findings,
            errors: &outcome.errors,
            skipped: &outcome.skipped,
            // Every summary names the settings file, so that a pull request that
            // adds or changes one is visible wherever the report is read.
            summary: kmsguard::report::Summary {
                config: Some(
                    settings
                        .config_path
                        .as_deref()
                        .map(kmsguard::source::display_path)
                        .unwrap_or_else(|| "none".into()),
                ),
                ..outcome.summary.clone()
            },
            verbose: args.verbose,
        },
        outcome: &outcome,
        policy,
        opts: &opts,
    };
    let outputs = match outputs(&args, &run, settings.config.as_ref()) {
        Ok(o) => o,
        Err(e) => return fail(&e),
    };
    if let Err(e) = write_all(&outputs) {
        return fail(&e);
    }
    if args.output.is_none() && print_report(&args, &run) != ExitCode::SUCCESS {
        return ExitCode::from(2);
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
            report::escape::log_text(&format!("{file}{place}: {}{more}", first.message()))
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

/// The policy pack and the config file, with the config's settings applied
/// where no flag gave them.
struct Settings {
    policy: Policy,
    config: Option<Config>,
    config_path: Option<PathBuf>,
}

fn settings(args: &mut CheckArgs) -> Result<Settings, String> {
    let mut policy = load_policy(args.policy.as_deref()).map_err(|e| e.to_string())?;
    // The config file: named, or the nearest one; flags win over it.
    let config_path = kmsguard::config::locate(args.config.as_deref(), args.no_config, &args.paths);
    // The config file is input like any other: parsed under the same time limit.
    let parse_timeout = args.parse_timeout.unwrap_or(Limits::default().parse_timeout);
    let config = match &config_path {
        Some(path) => Some(kmsguard::config::load(path, &policy, parse_timeout).map_err(|e| e.to_string())?),
        None => None,
    };
    if let Some(c) = &config {
        kmsguard::config::apply_to_policy(c, &mut policy).map_err(|e| e.to_string())?;
        if args.cloud.is_none() {
            args.cloud = c.cloud.as_deref().and_then(|s| Cloud::from_str(s, true).ok());
        }
        if args.fail_on.is_none() {
            args.fail_on = c.fail_on.as_deref().and_then(|s| FailOn::from_str(s, true).ok());
        }

        args.assume_bgp_default_route |= c.assume_bgp_default_route.unwrap_or(false);
        args.ignore.extend(c.disabled.iter().cloned());
    }
    Ok(Settings {
        policy,
        config,
        config_path,
    })
}

/// What the library's check is asked to do: the rules, the baseline, the
/// limits and the variables, from the flags over the config file.
fn options(args: &CheckArgs, policy: &Policy, config: Option<&Config>) -> Result<CheckOptions, String> {
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
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let baseline = match &args.baseline {
        Some(path) => Some(kmsguard::suppress::read_baseline(path).map_err(|e| e.to_string())?),
        None => None,
    };
    Ok(CheckOptions {
        paths: args.paths.clone(),
        cloud: args.cloud.map(|c| c.as_str().to_string()),
        var_args: var_args(args, config),
        parameters: args.parameters.clone(),
        assume_bgp_default_route: args.assume_bgp_default_route,
        select,
        ignore,
        baseline,
        exclude: config.map(|c| c.exclude.clone()).unwrap_or_default(),
        exclude_base: config.map_or_else(|| PathBuf::from("."), |c| c.exclude_base()),
        limits: limits(args, config),
        inline_suppressions: !args.no_inline_suppressions,
    })
}

/// Flags win over the config file, which wins over the defaults.
fn limits(args: &CheckArgs, config: Option<&Config>) -> Limits {
    let file = kmsguard::config::limits(config);
    Limits {
        max_file_size: args.max_file_size.unwrap_or(file.max_file_size),
        parse_timeout: args.parse_timeout.unwrap_or(file.parse_timeout),
        eval_steps: args.max_eval_steps.unwrap_or(file.eval_steps),
        collection_size: args.max_collection_size.unwrap_or(file.collection_size),
    }
}

/// Terraform applies -var and -var-file in command-line order, after
/// the config file's var_files.
fn var_args(args: &CheckArgs, config: Option<&Config>) -> Vec<VarArg> {
    let mut var_args: Vec<VarArg> = config
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
    var_args
}

/// A finished check, with what its reports are rendered from.
struct Checked<'a> {
    report: Report<'a>,
    outcome: &'a kmsguard::Outcome,
    policy: &'a Policy,
    opts: &'a CheckOptions,
}

impl Checked<'_> {
    fn render(&self, format: Format, color: bool) -> String {
        let r = &self.report;
        match format {
            Format::Human => report::human::render(r, color),
            Format::Compact => report::compact::render(r),
            Format::Json => report::json::render(r),
            Format::Sarif => report::sarif::render(r),
            Format::Github => report::annotations::github(r),
            Format::AzurePipelines => report::annotations::azure_pipelines(r),
            Format::Junit => report::annotations::junit(r),
            Format::Markdown => with_graph(report::annotations::markdown(r), self.outcome, self.policy, self.opts),
        }
    }
}

/// The files the run writes (--output, --report, --write-baseline), or why
/// writing them would destroy something.
fn outputs(args: &CheckArgs, run: &Checked, config: Option<&Config>) -> Result<Vec<Output>, String> {
    let outcome = run.outcome;
    let max_file_size = run.opts.limits.max_file_size;
    let mut outputs: Vec<Output> = args
        .reports
        .iter()
        .chain(args.output.as_ref().map(|path| (args.format, path.clone())).as_slice())
        .map(|(format, path)| Output {
            what: format_name(*format),
            path: path.clone(),
            text: run.render(*format, false),
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
            .chain(config.map(|c| c.path.clone()));
        inputs.extend(read.map(|p| (resolved(&p), p)));
    }
    if let Some(path) = &args.write_baseline {
        if !args.force && std::fs::symlink_metadata(path).is_ok() {
            return Err(format!(
                "{} exists already; not overwritten (pass --force to replace it)",
                path.display()
            ));
        }
        // Rewriting the baseline that was read is how a baseline is updated.
        let updates_baseline = args.baseline.as_ref().is_some_and(|b| same_file(b, path));
        if let Some(clash) = onto_input(path, &inputs, max_file_size).filter(|_| !updates_baseline) {
            return Err(clash);
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
        if let Some(clash) = onto_input(&o.path, &inputs, max_file_size) {
            return Err(clash);
        }
        if outputs.iter().skip(i + 1).any(|other| same_file(&o.path, &other.path)) {
            return Err(format!("{} is named for two outputs; give each its own file", o.path.display()));
        }
    }
    Ok(outputs)
}

/// The report on stdout, in colour where asked or where a terminal shows it.
fn print_report(args: &CheckArgs, run: &Checked) -> ExitCode {
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    let mut text = run.render(args.format, color);
    if args.quiet
        && matches!(
            args.format,
            Format::Human | Format::Compact | Format::Github | Format::AzurePipelines
        )
    {
        text = without_summary(&text, &report::summary_line(&run.report));
    }
    print_out(&text)
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
    let trace = kmsguard::trace::TraceOptions::of_check(opts);
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
