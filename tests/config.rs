//! `.kmsguard.hcl`: found upwards from the checked path, flags win, bad
//! settings are located errors.
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

use assert_cmd::Command;
use serde_json::Value;

const TABLE: &str = "resource \"azurerm_route_table\" \"t\" {\n  name = \"rt-t\"\n  route {\n    name = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type = \"VirtualAppliance\"\n    next_hop_in_ip_address = \"10.0.1.4\"\n  }\n}\n";

fn repo(config: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join(".git")).expect("a repository root");
    fs::create_dir_all(d.path().join("infra/spoke")).expect("mkdir");
    fs::write(d.path().join("infra/spoke/main.tf"), TABLE).expect("write");
    fs::write(d.path().join(".kmsguard.hcl"), config).expect("write");
    d
}

fn run(dir: &std::path::Path, extra: &[&str]) -> (Value, i32, String) {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("check")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        doc,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn messages(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .map(|a| a.iter().map(|f| f["message"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn init_writes_a_starter_file_that_loads_and_never_overwrites() {
    let d = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("init")
        .arg(d.path())
        .output()
        .expect("runs");
    assert!(out.status.success());
    let (_, code, err) = run(d.path(), &[]);
    assert_eq!(code, 0, "{err}");
    let again = Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("init")
        .arg(d.path())
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn the_nearest_config_applies_to_a_subdirectory() {
    let d = repo("rule \"forced-tunnel-blocks-kms\" {\n  enabled = false\n}\n");
    let (doc, code, _) = run(&d.path().join("infra/spoke"), &[]);
    assert_eq!((messages(&doc), code), (vec![], 0));
}

#[test]
fn unknown_settings_and_bad_values_are_located_errors() {
    let d = repo("cloud = \"public\"\nfial_on = \"error\"\n");
    let (_, code, err) = run(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains(".kmsguard.hcl:2:1: unknown setting \"fial_on\""), "{err}");
    let d = repo("rule \"KG101\" {\n  severity = \"fatal\"\n}\n");
    let (_, code, err) = run(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains(".kmsguard.hcl:2:14: severity \"fatal\""), "{err}");
}

#[test]
fn cloud_and_fail_on_from_the_file_yield_to_flags() {
    let d = repo("cloud = \"usgov\"\nfail_on = \"never\"\n");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 0, "fail_on = never");
    assert!(messages(&doc)[0].contains("52.126.105.2"), "{doc:#}");
    let (doc, code, _) = run(d.path(), &["--cloud", "public", "--fail-on", "error"]);
    assert_eq!(code, 1);
    assert!(messages(&doc)[0].contains("20.118.99.224"), "{doc:#}");
}

#[test]
fn excludes_severities_and_endpoints() {
    let d = repo(
        "exclude = [\"infra/legacy/**\"]\nrule \"KG101\" {\n  severity = \"warning\"\n}\nendpoint \"licence\" {\n  title = \"licence server\"\n  protocol = \"Tcp\"\n  port = 27000\n  cloud \"*\" {\n    required = [\"203.0.113.10\"]\n  }\n}\n",
    );
    fs::create_dir_all(d.path().join("infra/legacy")).expect("mkdir");
    fs::write(d.path().join("infra/legacy/main.tf"), TABLE.replace("rt-t", "rt-legacy")).expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 0, "KG101 is a warning now: {doc:#}");
    let m = messages(&doc);
    assert_eq!(m.len(), 2, "{m:?}");
    assert!(m.iter().any(|x| x.contains("licence server traffic (203.0.113.10)")), "{m:?}");
    assert!(!m.iter().any(|x| x.contains("rt-legacy")), "{m:?}");
}

#[test]
fn limits_from_the_file_apply_and_yield_to_flags() {
    let d = repo("limits {\n  max_file_size = 100\n}\n");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 2, "the 100-byte limit refuses main.tf: {doc:#}");
    assert!(
        doc["errors"][0]["message"].as_str().unwrap_or_default().contains("--max-file-size"),
        "{doc:#}"
    );
    let (doc, code, _) = run(d.path(), &["--max-file-size", "100000"]);
    assert_eq!((messages(&doc).len(), code), (1, 1), "the flag wins: {doc:#}");
    let d = repo("limits {\n  max_eval_steps = 2\n}\n");
    let (doc, _, _) = run(d.path(), &[]);
    assert!(messages(&doc).iter().all(|m| m.contains("--max-eval-steps")), "{doc:#}");
    let d = repo("limits {\n  max_eval_step = 2\n}\n");
    let (_, code, err) = run(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains(".kmsguard.hcl:2:3: unknown limit \"max_eval_step\""), "{err}");
    let d = repo("limits {\n  parse_timeout = \"10s\"\n}\n");
    let (_, code, err) = run(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("parse_timeout must be a positive number"), "{err}");
}
