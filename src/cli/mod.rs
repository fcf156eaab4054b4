//! The `kmsguard` command line: its flags ([`args`]) and what each
//! subcommand does with them.

use std::process::ExitCode;

pub(crate) mod args;
mod check;
mod commands;
mod output;

use args::{Cli, Command};
use output::{fail, print_out};

/// Runs the subcommand the command line names; the process's exit code.
pub(crate) fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check::check(*args),
        Command::Fix(args) => with_code(kmsguard::fix::run(&args)),
        Command::Graph(args) => match kmsguard::graph::run(&args) {
            Ok(text) => print_out(&text),
            Err(e) => fail(&e.to_string()),
        },
        Command::Trace(args) => with_code(kmsguard::trace::run(&args)),
        Command::Init { dir, force } => commands::init(&dir, force),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "kmsguard", &mut out);
            print_out(&String::from_utf8_lossy(&out))
        }
        Command::Rules { policy } => commands::rules(policy.as_ref()),
        Command::Explain { rule, policy } => commands::explain(&rule, policy.as_ref()),
    }
}

/// Prints a subcommand's text and exits with its code (`fix`, `trace`); a
/// failure to print wins over the code.
fn with_code<E: std::fmt::Display>(result: Result<(String, u8), E>) -> ExitCode {
    match result {
        Ok((text, code)) => match print_out(&text) {
            ExitCode::SUCCESS => ExitCode::from(code),
            other => other,
        },
        Err(e) => fail(&e.to_string()),
    }
}
