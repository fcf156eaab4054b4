//! Terraform's "Variable definition precedence": defaults, then
//! `terraform.tfvars`, `terraform.tfvars.json`, `*.auto.tfvars` and
//! `*.auto.tfvars.json` in lexical order of file name, then `-var-file` and
//! `-var` in command-line order; the later wins. Each case is tested in
//! both orders, so that a wrong order gives a false positive in one and a
//! missed finding in the other.
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
use serde_json::Value;

const TABLE: &str = r#"variable "next_hop" {
  type    = string
  default = "Internet"
}

resource "azurerm_route_table" "rt" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = var.next_hop
    next_hop_in_ip_address = "10.0.0.4"
  }
}
"#;

fn check(dir: &Path, extra: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(dir)
        .args(["check", "."])
        .args(extra)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    (
        serde_json::from_slice(&out.stdout).expect("a JSON report"),
        out.status.code().unwrap_or(-1),
    )
}

fn hcl(hop: &str) -> String {
    format!("next_hop = \"{hop}\"\n")
}

fn json(hop: &str) -> String {
    format!("{{\"next_hop\": \"{hop}\"}}\n")
}

/// Writes the table and `files`, checks, and says whether the tunnel is reported.
fn tunnel(files: &[(&str, String)], extra: &[&str]) -> bool {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join("main.tf"), TABLE).expect("write");
    for (name, text) in files {
        fs::write(d.path().join(name), text).expect("write");
    }
    let (doc, code) = check(d.path(), extra);
    assert!(code == 0 || code == 1, "{doc:#}");
    code == 1
}

const FORCED: &str = "VirtualAppliance";
const OPEN: &str = "Internet";

#[test]
fn auto_tfvars_win_over_terraform_tfvars_whatever_their_names() {
    assert!(tunnel(&[("terraform.tfvars", hcl(OPEN)), ("a.auto.tfvars", hcl(FORCED))], &[]));
    assert!(!tunnel(&[("terraform.tfvars", hcl(FORCED)), ("a.auto.tfvars", hcl(OPEN))], &[]));
    assert!(tunnel(&[("terraform.tfvars", hcl(OPEN)), ("z.auto.tfvars", hcl(FORCED))], &[]));
}

#[test]
fn terraform_tfvars_json_wins_over_terraform_tfvars() {
    assert!(tunnel(
        &[("terraform.tfvars", hcl(OPEN)), ("terraform.tfvars.json", json(FORCED))],
        &[]
    ));
    assert!(!tunnel(
        &[("terraform.tfvars", hcl(FORCED)), ("terraform.tfvars.json", json(OPEN))],
        &[]
    ));
    // …and loses to any auto file.
    assert!(!tunnel(
        &[("terraform.tfvars.json", json(FORCED)), ("a.auto.tfvars", hcl(OPEN))],
        &[]
    ));
}

#[test]
fn auto_files_apply_in_lexical_order_whether_hcl_or_json() {
    assert!(tunnel(&[("a.auto.tfvars.json", json(OPEN)), ("b.auto.tfvars", hcl(FORCED))], &[]));
    assert!(!tunnel(&[("a.auto.tfvars.json", json(FORCED)), ("b.auto.tfvars", hcl(OPEN))], &[]));
    assert!(tunnel(&[("a.auto.tfvars", hcl(OPEN)), ("b.auto.tfvars.json", json(FORCED))], &[]));
    assert!(!tunnel(&[("a.auto.tfvars", hcl(FORCED)), ("b.auto.tfvars.json", json(OPEN))], &[]));
}

#[test]
fn var_files_and_vars_apply_in_command_line_order_after_auto_files() {
    let files = [("x.tfvars", hcl(FORCED)), ("a.auto.tfvars", hcl(OPEN))];
    assert!(tunnel(&files, &["--var", "next_hop=Internet", "--var-file", "x.tfvars"]));
    assert!(!tunnel(&files, &["--var-file", "x.tfvars", "--var", "next_hop=Internet"]));
    let files = [("x.tfvars.json", json(OPEN)), ("a.auto.tfvars", hcl(OPEN))];
    assert!(tunnel(
        &files,
        &["--var-file", "x.tfvars.json", "--var", "next_hop=VirtualAppliance"]
    ));
    assert!(!tunnel(
        &files,
        &["--var", "next_hop=VirtualAppliance", "--var-file", "x.tfvars.json"]
    ));
}

#[test]
fn a_called_module_beside_json_files_keeps_its_terraform() {
    // The module's directory is read again when its caller is lowered; a
    // JSON file sorting before main.tf must not change what main.tf is.
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(d.path().join("env")).expect("mkdir");
    fs::create_dir_all(d.path().join("spoke")).expect("mkdir");
    fs::write(
        d.path().join("env/main.tf"),
        "module \"spoke\" {\n  source = \"../spoke\"\n  next_hop = \"VirtualAppliance\"\n}\n",
    )
    .expect("write");
    fs::write(d.path().join("spoke/main.tf"), TABLE).expect("write");
    fs::write(d.path().join("spoke/a-notes.json"), "{\"notes\": 1}\n").expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["resource"], "module.spoke.azurerm_route_table.rt", "{doc:#}");
}
