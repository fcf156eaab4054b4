//! The `kmsguard` command line.

use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    // A panic inside a check is caught and reported as an error against the
    // directory it happened in (see `kmsguard::check`); one line on stderr
    // keeps where it happened, for the bug report.
    std::panic::set_hook(Box::new(|info| eprintln!("kmsguard: internal error: {info}")));
    cli::run(cli::args::parse())
}
