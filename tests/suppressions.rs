//! Inline suppressions, rule selection and baselines.
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

const TABLE: &str = r#"resource "azurerm_route_table" "t" {
  name = "rt-t"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
}
"#;

fn run(dir: &std::path::Path, extra: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .env("KMSGUARD_TODAY", "2026-11-23")
        .arg("check")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    (serde_json::from_slice(&out.stdout).expect("json"), out.status.code().unwrap_or(-1))
}

/// (rule, suppressed kind or "") per finding.
fn summary(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().into(),
                f["suppressed"]["kind"].as_str().unwrap_or_default().into(),
            )
        })
        .collect()
}

fn with(tf: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join("main.tf"), tf).expect("write");
    d
}

#[test]
fn a_comment_above_the_resource_header_suppresses_with_its_reason() {
    let d = with(&format!("# kmsguard:ignore KG101 -- the firewall allows TCP 1688\n{TABLE}"));
    let (doc, code) = run(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(summary(&doc), vec![("KG101".into(), "inSource".into())]);
    assert_eq!(doc["findings"][0]["suppressed"]["justification"], "the firewall allows TCP 1688");
    assert_eq!(doc["summary"]["suppressed"], 1);
}

#[test]
fn an_end_of_line_comment_and_a_rule_name_work_too() {
    let d = with(&TABLE.replace(
        "\"0.0.0.0/0\"",
        "\"0.0.0.0/0\" # kmsguard:ignore forced-tunnel-blocks-kms -- accepted risk",
    ));
    let (doc, code) = run(d.path(), &[]);
    assert_eq!((summary(&doc), code), (vec![("KG101".into(), "inSource".into())], 0));
}

#[test]
fn text_in_a_string_is_not_a_suppression() {
    let d = with(&TABLE.replace("\"rt-t\"", "\"rt-t # kmsguard:ignore KG101 -- nope\""));
    let (doc, code) = run(d.path(), &[]);
    assert_eq!((summary(&doc), code), (vec![("KG101".into(), String::new())], 1));
}

#[test]
fn an_expired_suppression_reports_the_finding_and_says_so() {
    let d = with(&format!(
        "# kmsguard:ignore KG101 exp:2026-01-31 -- until the firewall rule lands\n{TABLE}"
    ));
    let (doc, code) = run(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        summary(&doc),
        vec![("KG002".into(), String::new()), ("KG101".into(), String::new())]
    );
    let d = with(&format!(
        "# kmsguard:ignore KG101 exp:2027-03-31 -- until the firewall rule lands\n{TABLE}"
    ));
    assert_eq!(run(d.path(), &[]).1, 0, "a future expiry still suppresses");
}

#[test]
fn a_suppression_without_reason_still_suppresses_but_warns() {
    let d = with(&format!("# kmsguard:ignore KG101\n{TABLE}"));
    let (doc, code) = run(d.path(), &[]);
    assert_eq!(code, 0, "warnings do not fail by default: {doc:#}");
    assert_eq!(
        summary(&doc),
        vec![("KG003".into(), String::new()), ("KG101".into(), "inSource".into())]
    );
}

#[test]
fn an_unused_suppression_is_reported() {
    let d = with(&format!("# kmsguard:ignore KG201 -- no NSG here\n{TABLE}"));
    let (doc, _) = run(d.path(), &[]);
    assert_eq!(
        summary(&doc),
        vec![("KG001".into(), String::new()), ("KG101".into(), String::new())]
    );
}

#[test]
fn ignore_file_covers_the_whole_file_and_bicep_comments_count() {
    let d = with(&format!("{TABLE}\n# kmsguard:ignore-file KG101 -- lab subscription\n"));
    assert_eq!(run(d.path(), &[]).1, 0);
    let b = tempfile::tempdir().expect("tempdir");
    fs::write(
        b.path().join("main.bicep"),
        "// kmsguard:ignore KG101 -- the firewall allows TCP 1688\nresource rt 'Microsoft.Network/routeTables@2023-04-01' = {\n  name: 'rt'\n  properties: {\n    routes: [\n      { name: 'd', properties: { addressPrefix: '0.0.0.0/0', nextHopType: 'None' } }\n    ]\n  }\n}\n",
    )
    .expect("write");
    let (doc, code) = run(b.path(), &[]);
    assert_eq!((summary(&doc), code), (vec![("KG101".into(), "inSource".into())], 0));
}

#[test]
fn select_and_ignore_take_codes_or_names() {
    let d = with(TABLE);
    assert_eq!(run(d.path(), &["--ignore", "KG101"]).1, 0);
    assert_eq!(run(d.path(), &["--select", "nsg-denies-platform-lkm"]).1, 0);
    assert_eq!(run(d.path(), &["--select", "KG201,forced-tunnel-blocks-kms"]).1, 1);
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("check")
        .arg(d.path())
        .args(["--ignore", "KG999"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_baseline_accepts_known_findings_but_not_new_ones() {
    let d = with(TABLE);
    let baseline = d.path().join("baseline.json");
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("check")
        .arg(d.path())
        .arg("--write-baseline")
        .arg(&baseline)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let b = baseline.to_str().expect("utf-8").to_string();
    let (doc, code) = run(d.path(), &["--baseline", &b]);
    assert_eq!((summary(&doc), code), (vec![("KG101".into(), "external".into())], 0));
    // Moving lines does not break the baseline; a new finding still fails.
    fs::write(
        d.path().join("main.tf"),
        format!("# moved\n\n{TABLE}{}", TABLE.replace("\"t\"", "\"u\"").replace("rt-t", "rt-u")),
    )
    .expect("write");
    let (doc, code) = run(d.path(), &["--baseline", &b]);
    assert_eq!(code, 1);
    assert_eq!(
        summary(&doc),
        vec![("KG101".into(), "external".into()), ("KG101".into(), String::new())]
    );
}

#[test]
fn arm_metadata_suppresses_on_the_resource() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("azuredeploy.json"),
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "resources": [
    {
      "type": "Microsoft.Network/routeTables",
      "apiVersion": "2023-04-01",
      "name": "rt-arm",
      "metadata": { "kmsguard": { "ignore": ["KG101 -- the firewall allows TCP 1688", "KG201 -- no NSG here"] } },
      "properties": {
        "routes": [
          { "name": "d", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4" } }
        ]
      }
    }
  ]
}"#,
    )
    .expect("write");
    let (doc, code) = run(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        summary(&doc),
        vec![("KG001".into(), String::new()), ("KG101".into(), "inSource".into())]
    );
    assert_eq!(doc["findings"][1]["suppressed"]["justification"], "the firewall allows TCP 1688");
}
