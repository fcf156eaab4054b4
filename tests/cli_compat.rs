//! Flags and messages as users of checkov, tflint and trivy expect them:
//! short flags, `--version` with the policy pack's, a format name given to
//! `--output`, the other checkers' flags, config keys with "did you mean",
//! `--help` examples, `--quiet`, errors on stderr, and the summary of a run
//! on named files.
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
use std::process::Output;

use assert_cmd::Command;

fn kmsguard() -> Command {
    let mut c = Command::cargo_bin("kmsguard").expect("binary builds");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    kmsguard().args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const BROKEN: &str = "examples/01-forced-tunnel-broken";
const FIXED: &str = "examples/02-forced-tunnel-fixed";

#[test]
fn short_flags_mean_what_the_long_ones_mean() {
    let d = tempfile::tempdir().expect("tempdir");
    let config = d.path().join("settings.hcl");
    fs::write(&config, "fail_on = \"never\"\n").expect("write");
    let (short_out, long_out) = (d.path().join("short.json"), d.path().join("long.json"));
    let short = kmsguard()
        .args(["check", BROKEN, "-f", "json", "-o"])
        .arg(&short_out)
        .arg("-c")
        .arg(&config)
        .output()
        .expect("runs");
    let long = kmsguard()
        .args(["check", BROKEN, "--format", "json", "--output"])
        .arg(&long_out)
        .arg("--config")
        .arg(&config)
        .output()
        .expect("runs");
    // fail_on = "never" from the config named with -c: exit 0 despite the errors.
    assert_eq!(short.status.code(), Some(0), "{}", stderr(&short));
    assert_eq!(long.status.code(), Some(0));
    let (a, b) = (
        fs::read_to_string(&short_out).expect("short"),
        fs::read_to_string(&long_out).expect("long"),
    );
    assert_eq!(a, b);
    assert!(a.contains("\"KG101\""), "{a}");
}

#[test]
fn version_names_the_policy_pack_version() {
    let pack = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/rules.hcl")).expect("pack");
    let pack_version = pack
        .lines()
        .find_map(|l| l.strip_prefix("pack_version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("policies/rules.hcl declares pack_version");
    for flag in ["--version", "-V"] {
        let out = run(&[flag]);
        assert!(out.status.success());
        assert_eq!(
            stdout(&out).trim(),
            format!("kmsguard {} (policy pack {pack_version})", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn a_format_name_given_to_output_asks_for_format() {
    for (args, format) in [
        (vec!["--output", "sarif"], "sarif"),
        (vec!["-o", "sarif"], "sarif"),
        (vec!["-o", "JSON"], "json"),
        (vec!["--output=junit"], "junit"),
        (vec!["-o", "github"], "github"),
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        let out = kmsguard()
            .current_dir(d.path())
            .arg("check")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/01-forced-tunnel-broken"))
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains(&format!("did you mean `--format {format}`?")),
            "{args:?}: {}",
            stderr(&out)
        );
        assert_eq!(fs::read_dir(d.path()).expect("ls").count(), 0, "{args:?} wrote a file");
    }
}

#[test]
fn a_file_named_like_a_format_can_still_be_written() {
    let d = tempfile::tempdir().expect("tempdir");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/01-forced-tunnel-broken");
    // With --format given, or a path that is not a bare format name.
    for args in [vec!["--format", "compact", "-o", "sarif"], vec!["-o", "./json"]] {
        let out = kmsguard()
            .current_dir(d.path())
            .args(["check", dir])
            .args(&args)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    }
    assert!(fs::read_to_string(d.path().join("sarif")).expect("sarif").contains("error[KG101]"));
    assert!(fs::read_to_string(d.path().join("json")).expect("json").contains("KG101"));
}

#[test]
fn other_checkers_flags_say_what_to_use() {
    for (args, hint) in [
        (vec!["--severity", "HIGH,CRITICAL"], "--fail-on"),
        (vec!["--severity=warning"], "--fail-on"),
        (vec!["--exit-code", "1"], "--fail-on never"),
        (vec!["--exit-code"], "--fail-on never"),
        (vec!["--framework", "terraform"], "reads Terraform, Bicep and ARM"),
    ] {
        let out = kmsguard().args(["check", BROKEN]).args(&args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(hint), "{args:?}: {err}");
        assert!(!err.contains("similar argument"), "{args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{args:?} ran the check");
    }
}

#[test]
fn other_checkers_flags_with_the_same_meaning_are_accepted() {
    let compact = |extra: &[&str]| {
        let out = kmsguard()
            .args(["check", "examples", "-f", "compact"])
            .args(extra)
            .output()
            .expect("runs");
        (out.status.code(), stdout(&out))
    };
    assert_eq!(compact(&["--skip-check", "KG101,KG102"]), compact(&["--ignore", "KG101,KG102"]));
    assert_eq!(compact(&["--check", "KG201"]), compact(&["--select", "KG201"]));
    assert_eq!(compact(&["--recursive"]), compact(&[]));
    // --soft-fail: findings reported, exit 0.
    let (code, text) = compact(&["--soft-fail"]);
    assert_eq!(code, Some(0));
    assert!(text.contains("error[KG101]"), "{text}");
    assert_eq!((code, text), compact(&["--fail-on", "never"]));
    let both = run(&["check", BROKEN, "--soft-fail", "--fail-on", "error"]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn unknown_config_keys_suggest_and_list_every_key() {
    let d = tempfile::tempdir().expect("tempdir");
    let every = "(known: cloud, fail_on, exclude, var_files, assume_bgp_default_route, rule, limits, endpoint)";
    for (text, expected) in [
        ("fail-on = \"error\"\n", format!("unknown setting \"fail-on\"; did you mean \"fail_on\"? {every}")),
        ("var_file = []\n", format!("unknown setting \"var_file\"; did you mean \"var_files\"? {every}")),
        ("limit {\n}\n", format!("unknown block \"limit\"; did you mean \"limits\"? {every}")),
        ("limits = {}\n", format!("\"limits\" is a block, written limits {{ … }} {every}")),
        ("cloud {\n}\n", format!("\"cloud\" is a setting, written cloud = … {every}")),
        ("colour = \"red\"\n", format!("unknown setting \"colour\" {every}")),
        (
            "limits {\n  max_eval_step = 1\n}\n",
            "unknown limit \"max_eval_step\"; did you mean \"max_eval_steps\"? (known: max_file_size, parse_timeout, max_eval_steps, max_collection_size)".to_string(),
        ),
        (
            "rule \"KG101\" {\n  severty = \"note\"\n}\n",
            "unknown rule setting \"severty\"; did you mean \"severity\"? (known: enabled, severity)".to_string(),
        ),
    ] {
        let config = d.path().join("c.hcl");
        fs::write(&config, text).expect("write");
        let out = kmsguard().args(["check", FIXED, "-c"]).arg(&config).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(stderr(&out).contains(&expected), "{text}: {}", stderr(&out));
    }
}

#[test]
fn help_shows_three_examples() {
    for args in [vec!["--help"], vec!["check", "--help"]] {
        let text = stdout(&run(&args));
        let examples = text
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{args:?}: no examples:\n{text}"));
        let runs: Vec<&str> = examples.lines().filter(|l| l.starts_with("  kmsguard ")).collect();
        assert_eq!(runs.len(), 3, "{text}");
    }
}

/// Every subcommand, argument and option says what it is for in `--help`.
#[test]
fn every_subcommand_and_argument_is_described() {
    let top = stdout(&run(&["--help"]));
    let commands: Vec<String> = top
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next().unwrap_or_default().to_string();
            assert!(parts.next().is_some(), "subcommand {name} has no description");
            name
        })
        .collect();
    assert!(commands.len() >= 6, "{commands:?}");
    for command in commands.iter().filter(|c| *c != "help") {
        let help = stdout(&run(&[command, "--help"]));
        for section in ["Arguments:\n", "Options:\n"] {
            let Some(body) = help.split(section).nth(1) else { continue };
            for line in body.lines().take_while(|l| !l.is_empty()) {
                // Entries start two spaces in; continuation lines further.
                let entry = line.strip_prefix("  ").filter(|e| !e.starts_with(' '));
                if let Some(entry) = entry {
                    // What clap adds on its own ([default: .], [possible
                    // values: …]) is no description.
                    let description = entry.split_once("  ").map(|(_, d)| d).unwrap_or_default();
                    let own = description.split(" [default:").next().unwrap_or_default();
                    let own = own.split("[possible values:").next().unwrap_or_default().trim();
                    assert!(!own.is_empty(), "`kmsguard {command}`: `{entry}` has no description");
                }
            }
        }
    }
}

#[test]
fn quiet_prints_only_findings() {
    // A clean run prints nothing at all.
    for format in ["human", "compact", "github", "azure-pipelines"] {
        let out = run(&["check", FIXED, "-q", "-f", format]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), "", "{format}");
    }
    // Findings, without the summary line.
    let loud = stdout(&run(&["check", BROKEN, "-f", "compact"]));
    let quiet = run(&["check", BROKEN, "--quiet", "-f", "compact"]);
    assert_eq!(quiet.status.code(), Some(1));
    let text = stdout(&quiet);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().all(|l| l.contains("error[KG101]")), "{text}");
    assert_eq!(loud.lines().count(), 4, "{loud}");
    let human = stdout(&run(&["check", BROKEN, "-q", "--color", "never"]));
    assert!(human.contains("KG101 forced-tunnel-blocks-kms"), "{human}");
    assert!(!human.contains("checked "), "{human}");
    // Documents for tools keep their shape.
    for format in ["json", "sarif", "junit", "markdown"] {
        assert_eq!(
            stdout(&run(&["check", BROKEN, "-q", "-f", format])),
            stdout(&run(&["check", BROKEN, "-f", format])),
            "{format}"
        );
    }
}

/// An input that cannot be checked stays in the report (so that JSON and
/// SARIF readers see it) and is also named on stderr, where users of other
/// tools look for it.
#[test]
fn inputs_that_cannot_be_checked_are_named_on_stderr() {
    let d = tempfile::tempdir().expect("tempdir");
    let bad = d.path().join("bad");
    fs::create_dir(&bad).expect("mkdir");
    fs::write(bad.join("main.tf"), "resource \"azurerm_route_table\" \"x\" {\n  name = \n}\n").expect("write");
    let missing = d.path().join("missing");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![missing.display().to_string()], "missing"),
        (vec![bad.display().to_string()], "main.tf:2:"),
        (
            vec![
                FIXED.to_string(),
                "--var-file".to_string(),
                d.path().join("absent.tfvars").display().to_string(),
            ],
            "absent.tfvars",
        ),
    ];
    for (args, needle) in cases {
        let out = kmsguard().arg("check").args(&args).args(["-f", "json"]).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
        let errors = doc["errors"].as_array().expect("errors");
        assert!(!errors.is_empty(), "{args:?}: {doc}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(needle), "{args:?}: {err}");
    }
    // Two problems: the first, and how many more.
    let out = kmsguard().arg("check").arg(&missing).arg(&bad).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("(and 1 more, listed in the report)"), "{}", stderr(&out));
}

#[test]
fn a_named_file_is_counted_apart_from_those_read_for_context() {
    let named = stdout(&run(&["check", "examples/01-forced-tunnel-broken/main.tf", "-f", "compact"]));
    assert!(
        named.ends_with("checked 1 file named, 3 read for context (3 route tables, 0 NSGs): 1 error, 0 warnings, 0 notes; config: none\n"),
        "{named}"
    );
    let two = stdout(&run(&[
        "check",
        "examples/01-forced-tunnel-broken/main.tf",
        "examples/02-forced-tunnel-fixed/main.tf",
        "-f",
        "compact",
    ]));
    assert!(two.contains("\nchecked 2 files named, 6 read for context ("), "{two}");
    // A directory named: every file read is checked.
    let dir = stdout(&run(&["check", BROKEN, "-f", "compact"]));
    assert!(dir.contains("\nchecked 3 files (3 route tables"), "{dir}");
    // A file that is its own unit: nothing read for context.
    let d = tempfile::tempdir().expect("tempdir");
    fs::copy(format!("{BROKEN}/main.tf"), d.path().join("main.tf")).expect("copy");
    let alone = stdout(&kmsguard().arg("check").arg(d.path().join("main.tf")).output().expect("runs"));
    assert!(alone.contains("\nchecked 1 file (1 route table"), "{alone}");
}
