//! The README is tested like code, so that it cannot drift from what
//! kmsguard does: every `hcl` block loads as a `.kmsguard.hcl` or checks as
//! Terraform without an input error, every `kmsguard` command of an `sh`
//! block parses its flags (and runs to a verdict when its paths exist),
//! every flag of the usage block exists, and the sample output is what
//! kmsguard prints. Blocks not meant to be pasted say so in their info
//! string (`hcl fragment`, `text`).
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Block {
    info: String,
    text: String,
    line: usize,
}

fn blocks() -> Vec<Block> {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (n, line) in readme.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    text: String::new(),
                    line: n + 1,
                })
            }
            (Some(_), Some(rest)) if rest.trim().is_empty() => out.extend(open.take()),
            (Some(b), _) => {
                b.text.push_str(line);
                b.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "an unclosed fence in README.md");
    out
}

fn kmsguard() -> Command {
    Command::cargo_bin("kmsguard").expect("binary builds")
}

/// A scratch repository holding the examples, where commands may write.
fn scratch() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join(".git")).expect("mkdir .git");
    copy_dir(&Path::new(ROOT).join("examples"), &d.path().join("examples"));
    d
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).expect("copy");
        }
    }
}

#[test]
fn every_hcl_block_is_a_config_file_or_terraform() {
    let hcl: Vec<Block> = blocks().into_iter().filter(|b| b.info == "hcl").collect();
    assert!(hcl.len() >= 3, "the README's hcl blocks were not found");
    for b in hcl {
        let d = scratch();
        let empty = d.path().join("empty");
        fs::create_dir(&empty).expect("mkdir");
        let config = d.path().join(".kmsguard.hcl");
        fs::write(&config, &b.text).expect("write");
        let as_config = kmsguard()
            .current_dir(d.path())
            .args(["check", "empty", "--config", ".kmsguard.hcl"])
            .output()
            .expect("runs");
        // Terraform declares resources; anything else is a settings file,
        // which must load and run as pasted.
        let terraform = ["resource \"", "module \"", "variable \"", "data \""]
            .iter()
            .any(|k| b.text.lines().any(|l| l.trim_start().starts_with(k)));
        if !terraform {
            assert_eq!(
                as_config.status.code(),
                Some(0),
                "README.md:{}: the config block does not load as pasted: {}",
                b.line,
                String::from_utf8_lossy(&as_config.stderr).trim()
            );
            continue;
        }
        fs::remove_file(&config).expect("rm");
        fs::write(empty.join("main.tf"), &b.text).expect("write");
        let as_terraform = kmsguard()
            .current_dir(d.path())
            .args(["check", "empty", "--format", "json"])
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&as_terraform.stdout).unwrap_or_default();
        assert!(
            matches!(as_terraform.status.code(), Some(0 | 1)) && doc["errors"].as_array().is_some_and(Vec::is_empty),
            "README.md:{}: the hcl block is neither a config file ({}) nor Terraform ({}); mark it `hcl fragment` if it is not meant to be pasted",
            b.line,
            String::from_utf8_lossy(&as_config.stderr).trim(),
            doc["errors"]
        );
    }
}

/// The words of a command line; quotes are not supported (a README command
/// that needs them is not a one-liner to paste).
fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

#[test]
fn every_kmsguard_command_of_an_sh_block_parses_and_runs() {
    let mut ran = 0;
    for b in blocks().into_iter().filter(|b| b.info == "sh") {
        for line in b.text.lines() {
            // A comment starts at " #" (a `#` inside a word is not one).
            let command = line.split(" #").next().unwrap_or_default().trim();
            let args = match command.strip_prefix("kmsguard ").or_else(|| command.strip_prefix("cargo run -- ")) {
                Some(rest) => words(rest),
                None => continue,
            };
            assert!(
                !command.contains(['"', '\'', '$', '|', '>']),
                "README.md:{}: {command}: not a plain command",
                b.line
            );
            let d = scratch();
            let out = kmsguard().current_dir(d.path()).args(&args).output().expect("runs");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("Usage:"), "README.md:{}: `{command}` does not parse: {err}", b.line);
            // Its paths exist: it must come to a verdict.
            let paths_exist = args
                .iter()
                .filter(|a| !a.starts_with('-') && a.contains('/'))
                .all(|a| d.path().join(a).exists());
            if paths_exist {
                assert!(
                    matches!(out.status.code(), Some(0 | 1)),
                    "README.md:{}: `{command}` failed: {err}",
                    b.line
                );
            }
            ran += 1;
        }
    }
    assert!(ran >= 3, "only {ran} kmsguard commands found in sh blocks");
}

/// Every `--flag` the usage block lists is one `kmsguard check --help`
/// (or the top-level help) knows.
#[test]
fn every_flag_of_the_usage_block_exists() {
    let usage = blocks()
        .into_iter()
        .find(|b| b.info == "text" && b.text.starts_with("kmsguard check [PATH...]"))
        .expect("the usage block");
    let help = |args: &[&str]| String::from_utf8_lossy(&kmsguard().args(args).output().expect("runs").stdout).into_owned();
    let known = ["check", "init", "trace", "fix", "graph"]
        .iter()
        .map(|c| help(&[c, "--help"]))
        .chain([help(&["--help"])])
        .collect::<String>();
    let mut flags = 0;
    for word in usage
        .text
        .split(|c: char| c.is_whitespace() || c == '/' || c == '[' || c == ']' || c == ',')
    {
        let flag: String = word.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        if flag.starts_with('-') && flag.len() > 1 {
            assert!(
                known.contains(&format!("{flag} ")) || known.contains(&format!("{flag}\n")) || known.contains(&format!("{flag},")),
                "the README's usage block lists {flag}, which kmsguard does not know"
            );
            flags += 1;
        }
    }
    assert!(flags > 20, "{flags}");
}

/// The sample after "What the first command prints" is kmsguard's output:
/// its diagnostic appears verbatim, and its summary line is the summary.
#[test]
fn the_sample_output_is_what_kmsguard_prints() {
    let sample = blocks()
        .into_iter()
        .find(|b| b.info == "text" && b.text.contains("KG101 forced-tunnel-blocks-kms"))
        .expect("the sample output block");
    let out = kmsguard()
        .current_dir(ROOT)
        .args(["check", "examples/01-forced-tunnel-broken", "--color", "never"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let actual = String::from_utf8_lossy(&out.stdout);
    let (diagnostic, summary) = sample.text.trim_end().rsplit_once("\n\n").expect("a summary after a blank line");
    assert_eq!(Some(summary), actual.trim_end().lines().last(), "the README's summary line");
    // Trailing blanks aside: an editor strips them from the README.
    let trimmed = |s: &str| s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    assert!(
        trimmed(&actual).contains(&trimmed(diagnostic)),
        "README.md:{}: the sample differs from:\n{actual}",
        sample.line
    );
}
