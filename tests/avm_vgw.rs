//! The azapi-based Terraform AVM virtual network gateway
//! (`Azure/avm-res-network-virtualnetworkgateway/azapi`). Its repository has
//! no release (policies/modules/versions.hcl lists it with no versions), so
//! kmsguard has no interface to map: a call that `terraform init` has not
//! installed is a KG901 note at the call's source, never a KG104 or a silence guessed
//! from inputs whose meaning no release has fixed.
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

fn check(path: &Path) -> Value {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(path)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    serde_json::from_slice(&out.stdout).expect("stdout is the JSON report")
}

/// (rule, line, message) of every finding.
fn found(doc: &Value) -> Vec<(String, u64, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).map(|i| i as u64 + 1).expect("needle")
}

const TF: &str = r#"resource "azurerm_virtual_network" "hub" {
  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  address_space       = ["10.0.0.0/16"]
}

resource "azurerm_subnet" "app" {
  name                 = "snet-app"
  resource_group_name  = "rg-hub"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.0.1.0/24"]
}

module "gateway" {
  source = "Azure/avm-res-network-virtualnetworkgateway/azapi"
VERSION  name   = "vgw-hub"
  location = "westeurope"
  PARAMS
}
"#;

#[test]
fn an_uninstalled_call_of_the_unreleased_azapi_gateway_is_a_note_never_a_guess() {
    let versions = ["", "  version = \"0.1.0\"\n", "  version = \"~> 0.1\"\n"];
    // What would make a gateway bring a default route in, what would not,
    // and what is unknown: none is read without a released interface.
    let params = [
        "gateway_type = \"ExpressRoute\"",
        "gateway_type = \"Vpn\"\n  enable_bgp   = true",
        "gateway_type = \"Vpn\"\n  enable_bgp   = false",
        "gateway_type = var.type",
    ];
    for version in versions {
        for p in params {
            let text = TF.replace("VERSION", version).replace("PARAMS", p);
            let d = tempfile::tempdir().expect("tempdir");
            fs::write(d.path().join("main.tf"), &text).expect("write");
            let doc = check(d.path());
            let f = found(&doc);
            assert_eq!(f.len(), 1, "{version}{p}: {doc:#}");
            let (rule, line, message) = &f[0];
            assert_eq!((rule.as_str(), *line), ("KG901", line_of(&text, "source = ")), "{doc:#}");
            assert!(
                message.contains("Azure/avm-res-network-virtualnetworkgateway/azapi") && message.contains("terraform init"),
                "{message}"
            );
        }
    }
}
