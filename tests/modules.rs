//! Registry and git modules are read where `terraform init` installed them.
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

#[test]
fn an_installed_registry_module_is_followed() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    fs::write(
        root.join("main.tf"),
        "module \"hub\" {\n  source  = \"example/hub/azurerm\"\n  version = \"1.0.0\"\n  firewall_ip = \"10.9.0.4\"\n}\n",
    )
    .expect("write");
    let installed = root.join(".terraform/modules/hub");
    fs::create_dir_all(&installed).expect("mkdir");
    fs::write(
        root.join(".terraform/modules/modules.json"),
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"hub","Source":"registry.terraform.io/example/hub/azurerm","Version":"1.0.0","Dir":".terraform/modules/hub"}]}"#,
    )
    .expect("write");
    fs::write(
        installed.join("main.tf"),
        "variable \"firewall_ip\" { type = string }\nresource \"azurerm_route_table\" \"hub\" {\n  name = \"rt-hub-installed\"\n  route {\n    name = \"default\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type = \"VirtualAppliance\"\n    next_hop_in_ip_address = var.firewall_ip\n  }\n}\n",
    )
    .expect("write");
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("check")
        .arg(root)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(1), "{doc:#}");
    let f = &doc["findings"][0];
    assert_eq!(f["resource"], "module.hub.azurerm_route_table.hub", "{doc:#}");
    assert!(
        f["message"].as_str().unwrap_or_default().ends_with("VirtualAppliance 10.9.0.4"),
        "{doc:#}"
    );
    assert_eq!(
        doc["findings"].as_array().map(Vec::len),
        Some(1),
        "the installed module is not also checked as a root: {doc:#}"
    );
}
