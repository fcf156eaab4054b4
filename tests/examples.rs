//! Runs the binary on every shipped example and asserts the exact findings
//! (rule, file, line) and exit code.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn kmsguard() -> Command {
    let mut c = Command::cargo_bin("kmsguard").expect("binary builds");
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    c
}

/// (rule, file, line) of every finding, in report order, and the exit code.
fn findings(args: &[&str]) -> (Vec<(String, String, u64)>, i32, Value) {
    let out = kmsguard()
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report and nothing else");
    let list = doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    (list, out.status.code().unwrap_or(-1), doc)
}

fn expect(dir: &str, want: &[(&str, &str, u64)], exit: i32) {
    let path = format!("examples/{dir}");
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(&path).join("README.md").exists(),
        "{dir} has a README line"
    );
    let (got, code, doc) = findings(&[&path]);
    let want: Vec<(String, String, u64)> = want.iter().map(|(r, f, l)| (r.to_string(), format!("{path}/{f}"), *l)).collect();
    assert_eq!(got, want, "{dir}: {doc:#}");
    assert_eq!(code, exit, "{dir} exit code");
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0), "{dir}: {doc:#}");
}

#[test]
fn broken_forced_tunnel() {
    expect("01-forced-tunnel-broken", &[("KG101", "main.tf", 8)], 1);
}

#[test]
fn fixed_forced_tunnel() {
    expect("02-forced-tunnel-fixed", &[], 0);
}

#[test]
fn split_default_route() {
    expect("03-split-default-route", &[("KG101", "main.tf", 8)], 1);
}

#[test]
fn next_hop_none() {
    expect("04-next-hop-none", &[("KG101", "main.tf", 8)], 1);
}

#[test]
fn standalone_routes_merge_into_their_table() {
    expect("05-standalone-routes", &[("KG101", "main.tf", 12)], 1);
    let (_, _, doc) = findings(&["examples/05-standalone-routes"]);
    let f = &doc["findings"][0];
    assert!(f["message"].as_str().unwrap_or_default().contains("(40.83.235.53)"), "{f:#}");
    let snippet = f["fix"]["snippet"].as_str().unwrap_or_default();
    assert!(
        snippet.starts_with("resource \"azurerm_route\""),
        "fix is written as a separate resource: {snippet}"
    );
}

#[test]
fn variables_come_from_tfvars_and_locals() {
    expect("06-variables-and-tfvars", &[("KG101", "main.tf", 17)], 1);
    let (_, _, doc) = findings(&["examples/06-variables-and-tfvars"]);
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("route table rt-prod-spoke "),
        "{doc:#}"
    );
}

#[test]
fn var_flag_overrides_tfvars() {
    let (got, code, _) = findings(&["examples/06-variables-and-tfvars", "--var", "egress_next_hop=Internet"]);
    assert_eq!((got, code), (vec![], 0));
}

#[test]
fn unresolved_variable_is_a_note() {
    expect("07-unresolved-variable", &[("KG901", "main.tf", 14)], 0);
    let (got, code, _) = findings(&["examples/07-unresolved-variable", "--fail-on", "note"]);
    assert_eq!((got.len(), code), (1, 1));
}

#[test]
fn var_supplies_the_missing_value() {
    let (got, _, _) = findings(&["examples/07-unresolved-variable", "--var", "next_hop_type=VirtualNetworkGateway"]);
    assert_eq!(
        got,
        vec![("KG101".to_string(), "examples/07-unresolved-variable/main.tf".to_string(), 13)]
    );
}

#[test]
fn dynamic_routes() {
    expect("08-dynamic-routes", &[("KG102", "main.tf", 21)], 1);
}

#[test]
fn nsg_denies_platform_tags() {
    expect(
        "09-nsg-denies-platform-tags",
        &[("KG201", "main.tf", 15), ("KG202", "main.tf", 27), ("KG203", "main.tf", 39)],
        1,
    );
}

#[test]
fn deny_internet_does_not_block_kms() {
    expect("10-nsg-denies-internet-kms-still-works", &[], 0);
}

#[test]
fn retired_and_typo_addresses() {
    expect(
        "11-retired-and-typo-kms-addresses",
        &[("KG103", "main.tf", 15), ("KG101", "main.tf", 26), ("KG103", "main.tf", 33)],
        1,
    );
}

#[test]
fn attribute_form() {
    expect("12-attribute-form", &[("KG202", "main.tf", 53)], 0);
    let (_, code, _) = findings(&["examples/12-attribute-form", "--fail-on", "warning"]);
    assert_eq!(code, 1);
}

#[test]
fn commented_out_routes_do_not_count() {
    expect("13-commented-out-fix", &[("KG101", "main.tf", 8)], 1);
}

#[test]
fn whole_examples_directory_fails_the_check() {
    let (got, code, doc) = findings(&["examples"]);
    assert_eq!(code, 1);
    assert!(got.len() >= 15, "{doc:#}");
    assert_eq!(doc["summary"]["files"].as_u64(), Some(15));
}

#[test]
fn other_clouds_use_their_own_addresses() {
    let out = kmsguard()
        .args([
            "check",
            "examples/02-forced-tunnel-fixed",
            "--cloud",
            "usgov",
            "--format",
            "compact",
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("52.126.105.2, 23.97.0.13"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn output_is_byte_identical_across_runs() {
    for format in ["human", "compact", "json"] {
        let a = kmsguard().args(["check", "examples", "--format", format]).output().expect("runs");
        let b = kmsguard().args(["check", "examples", "--format", format]).output().expect("runs");
        assert_eq!(a.stdout, b.stdout, "{format}");
    }
}
