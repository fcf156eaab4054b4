//! Bad input never crashes the tool: a clear, located error, exit code 2,
//! and every other file still checked.
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

const BROKEN_TABLE: &str = r#"resource "azurerm_route_table" "t" {
  name = "rt-good"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
}
"#;

fn run(dir: &std::path::Path, extra: &[&str]) -> (Value, i32, String) {
    let out = Command::cargo_bin("kmsguard")
        .expect("binary builds")
        .arg("check")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON report even on errors");
    (
        doc,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn errors(doc: &Value) -> Vec<(String, Option<u64>, String)> {
    doc["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| {
            (
                e["file"]
                    .as_str()
                    .unwrap_or_default()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                e["line"].as_u64(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_syntax_error_is_located_and_other_files_are_still_checked() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join("good")).expect("mkdir");
    fs::write(d.path().join("good/main.tf"), BROKEN_TABLE).expect("write");
    fs::create_dir(d.path().join("bad")).expect("mkdir");
    fs::write(
        d.path().join("bad/main.tf"),
        "resource \"azurerm_route_table\" \"x\" {\n  name = \n}\n",
    )
    .expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 2);
    let errs = errors(&doc);
    assert_eq!(errs.len(), 1, "{doc:#}");
    assert_eq!((errs[0].0.as_str(), errs[0].1), ("main.tf", Some(2)), "{doc:#}");
    assert!(doc["errors"][0]["file"].as_str().unwrap_or_default().ends_with("bad/main.tf"));
    assert_eq!(doc["findings"][0]["rule"], "KG101", "the good file is still checked: {doc:#}");
}

#[test]
fn invalid_utf8_binary_and_empty_files() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join("latin1.tf"), b"# caf\xe9\nresource \"a\" \"b\" {}\n").expect("write");
    fs::write(d.path().join("binary.tf"), b"\x7fELF\x00\x00\x01").expect("write");
    fs::write(d.path().join("empty.tf"), b"").expect("write");
    fs::write(d.path().join("ok.tf"), BROKEN_TABLE).expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 2);
    let errs = errors(&doc);
    assert_eq!(errs.len(), 2, "{doc:#}");
    assert!(errs.iter().any(|(f, _, m)| f == "binary.tf" && m.contains("binary")), "{errs:?}");
    assert!(
        errs.iter()
            .any(|(f, _, m)| f == "latin1.tf" && m.contains("UTF-8") && m.contains("line 1")),
        "{errs:?}"
    );
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn a_file_over_the_size_limit_is_refused_with_the_flag_to_raise_it() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join("big.tf"), format!("# {}\n", "x".repeat(5000))).expect("write");
    let (doc, code, _) = run(d.path(), &["--max-file-size", "1000"]);
    assert_eq!(code, 2);
    assert!(errors(&doc)[0].2.contains("--max-file-size"), "{doc:#}");
}

#[test]
fn a_missing_path_is_an_error_and_an_empty_one_is_not() {
    let d = tempfile::tempdir().expect("tempdir");
    let (doc, code, _) = run(&d.path().join("nope"), &[]);
    assert_eq!(code, 2);
    assert!(errors(&doc)[0].2.contains("no such file"), "{doc:#}");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["summary"]["files"], 0);
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_reported_not_followed_forever() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join("a")).expect("mkdir");
    fs::write(d.path().join("a/main.tf"), BROKEN_TABLE).expect("write");
    std::os::unix::fs::symlink("..", d.path().join("a/loop")).expect("symlink");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(errors(&doc).iter().any(|(_, _, m)| m.contains("loop")), "{doc:#}");
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("deep.tf"),
        format!("locals {{ x = {}1{} }}\n", "[".repeat(10_000), "]".repeat(10_000)),
    )
    .expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(errors(&doc)[0].2.contains("nested"), "{doc:#}");
}

#[test]
fn unknown_resource_shapes_are_no_error() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("odd.tf"),
        r#"resource "azurerm_route_table" "t" {
  name  = 42
  route = "not a list"
  route {
    address_prefix = ["a", "list"]
    next_hop_type  = { an = "object" }
  }
}
resource "azurerm_network_security_group" "n" {
  security_rule {
    priority = "high"
  }
}
resource "something_else" "x" {
  route {
    name = "ignored"
  }
}
"#,
    )
    .expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0));
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .args(["check", "--cloud", "mars"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .args(["check", "--var", "novalue"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn invalid_bicep_and_json_are_located_errors_and_other_files_are_still_checked() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("bad.bicep"),
        "param x string\nresource rt 'Microsoft.Network/routeTables@2023-04-01' = {\n  name: 'rt'\n  properties: {\n",
    )
    .expect("write");
    fs::write(
        d.path().join("bad.json"),
        "{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n  \"resources\": [\n",
    )
    .expect("write");
    fs::write(d.path().join("ok.tf"), BROKEN_TABLE).expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 2);
    let errs = errors(&doc);
    assert_eq!(errs.len(), 2, "{doc:#}");
    assert!(
        errs.iter()
            .any(|(f, l, m)| f == "bad.bicep" && l.is_some() && m.starts_with("could not parse Bicep")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(f, l, m)| f == "bad.json" && l.is_some() && m.starts_with("could not parse JSON")),
        "{errs:?}"
    );
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn json_that_is_not_arm_is_skipped_silently() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("package.json"),
        "{ \"name\": \"x\", // comment\n \"version\": \"1.0.0\" }",
    )
    .expect("write");
    fs::write(d.path().join("settings.json"), "[1, 2, 3]").expect("write");
    fs::write(d.path().join("envoy.log.json"), "{\"a\": 1}\n{\"a\": 2}\n").expect("write");
    fs::write(d.path().join("broken.json"), "{ \"not\": ").expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["files"], 0);
}

#[test]
fn deep_nesting_in_bicep_and_json_is_refused_not_a_stack_overflow() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("deep.bicep"),
        format!("var x = {}1{}\n", "[".repeat(10_000), "]".repeat(10_000)),
    )
    .expect("write");
    fs::write(
        d.path().join("deep.json"),
        format!(
            "{{\"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\", \"x\": {}1{}}}",
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    )
    .expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(errors(&doc).len(), 2, "{doc:#}");
}

#[test]
fn a_bicep_module_that_calls_itself_stops() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("loop.bicep"),
        "param depth int = 0\nmodule again './loop.bicep' = {\n  name: 'again'\n  params: { depth: depth + 1 }\n}\n",
    )
    .expect("write");
    fs::write(d.path().join("main.bicep"), "module first './loop.bicep' = {\n  name: 'first'\n}\n").expect("write");
    let (doc, code, _) = run(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["message"].as_str().unwrap_or_default().contains("deploys its own file (")),
        "{doc:#}"
    );
}
