//! Snapshots of rendered output: what a person sees in a terminal, and the
//! JSON contract (the version 1 report the README describes).
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use assert_cmd::Command;

fn output(args: &[&str]) -> String {
    let out = Command::cargo_bin("kmsguard")
        .expect("binary builds")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("runs");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

#[test]
fn human_forced_tunnel() {
    insta::assert_snapshot!(output(&["check", "examples/01-forced-tunnel-broken"]));
}

#[test]
fn human_stale_addresses() {
    insta::assert_snapshot!(output(&["check", "examples/11-retired-and-typo-kms-addresses"]));
}

#[test]
fn human_unresolved_variable() {
    insta::assert_snapshot!(output(&["check", "examples/07-unresolved-variable"]));
}

#[test]
fn json_platform_tags() {
    insta::assert_snapshot!(output(&["check", "examples/09-nsg-denies-platform-tags", "--format", "json"]));
}

#[test]
fn compact_all_examples() {
    insta::assert_snapshot!(output(&["check", "examples", "--format", "compact"]));
}

#[test]
fn rules_catalogue() {
    insta::assert_snapshot!(output(&["rules"]));
}

#[test]
fn explain_kg101() {
    insta::assert_snapshot!(output(&["explain", "KG101"]));
}

#[test]
fn sarif_forced_tunnel() {
    insta::assert_snapshot!(output(&["check", "examples/01-forced-tunnel-broken/main.tf", "--format", "sarif"]));
}

#[test]
fn github_annotations() {
    insta::assert_snapshot!(output(&[
        "check",
        "examples/09-nsg-denies-platform-tags/main.tf",
        "examples/07-unresolved-variable/main.tf",
        "--format",
        "github"
    ]));
}

#[test]
fn azure_pipelines_annotations() {
    insta::assert_snapshot!(output(&[
        "check",
        "examples/09-nsg-denies-platform-tags/main.bicep",
        "--format",
        "azure-pipelines"
    ]));
}

#[test]
fn junit_report() {
    insta::assert_snapshot!(output(&[
        "check",
        "examples/11-retired-and-typo-kms-addresses",
        "--format",
        "junit"
    ]));
}

#[test]
fn markdown_summary() {
    insta::assert_snapshot!(output(&["check", "examples/05-standalone-routes", "--format", "markdown"]));
}

#[test]
fn markdown_when_clean() {
    insta::assert_snapshot!(output(&["check", "examples/02-forced-tunnel-fixed", "--format", "markdown"]));
}
