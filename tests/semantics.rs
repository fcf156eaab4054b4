//! Semantics real code uses: Terraform's JSON syntax (`locals`, `dynamic`),
//! HCL that Terraform accepts and hcl-edit refuses, Bicep imports and
//! module outputs, and messages that say exactly what happened.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// A finding as `RULE file:line message`.
struct Report {
    findings: Vec<(String, String, u64, String)>,
    errors: Vec<String>,
    code: i32,
}

impl Report {
    fn rules(&self) -> Vec<&str> {
        self.findings.iter().map(|(r, ..)| r.as_str()).collect()
    }

    fn messages(&self, rule: &str) -> Vec<&str> {
        self.findings.iter().filter(|(r, ..)| r == rule).map(|(.., m)| m.as_str()).collect()
    }
}

fn check_dir(dir: &Path) -> Report {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(dir)
        .args(["check", ".", "--no-config", "--format", "json"])
        .output()
        .expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let findings = report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["rule"].as_str().unwrap_or_default().to_string(),
                        f["file"].as_str().unwrap_or_default().to_string(),
                        f["line"].as_u64().unwrap_or(0),
                        f["message"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let errors = report["errors"]
        .as_array()
        .map(|a| a.iter().map(|e| e.to_string()).collect())
        .unwrap_or_default();
    Report {
        findings,
        errors,
        code: out.status.code().unwrap_or(-1),
    }
}

/// Writes `files` (path, text) into a fresh directory and checks it.
fn check(files: &[(&str, &str)]) -> Report {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let path = d.path().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(path, text).expect("write");
    }
    check_dir(d.path())
}

// ---- Terraform JSON syntax: locals and dynamic blocks ----

/// A forced tunnel whose next hop comes from `locals`, as in example 06's HCL.
const TF_JSON_LOCALS: &str = r#"{
  "locals": [
    { "firewall_ip": "10.0.1.4" },
    { "hop": "VirtualAppliance", "gateway": "${local.firewall_ip}" }
  ],
  "resource": {
    "azurerm_route_table": {
      "spoke": {
        "name": "rt-spoke",
        "location": "westeurope",
        "resource_group_name": "rg-net",
        "route": [
          {
            "name": "default",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "${local.hop}",
            "next_hop_in_ip_address": "${local.gateway}"
          }
        ]
      }
    }
  }
}
"#;

#[test]
fn tf_json_locals_are_evaluated() {
    let r = check(&[("main.tf.json", TF_JSON_LOCALS)]);
    assert_eq!(r.rules(), ["KG101"], "{:?}", r.findings);
    assert!(r.messages("KG101")[0].contains("VirtualAppliance 10.0.1.4"), "{:?}", r.findings);
}

#[test]
fn tf_json_locals_as_one_object_are_evaluated_too() {
    let text = TF_JSON_LOCALS.replace(
        "[\n    { \"firewall_ip\": \"10.0.1.4\" },\n    { \"hop\": \"VirtualAppliance\", \"gateway\": \"${local.firewall_ip}\" }\n  ]",
        "{ \"firewall_ip\": \"10.0.1.4\", \"hop\": \"Internet\", \"gateway\": null }",
    );
    assert!(text.contains("\"hop\": \"Internet\""));
    let r = check(&[("main.tf.json", &text)]);
    assert_eq!(r.rules(), Vec::<&str>::new(), "{:?}", r.findings);
}

/// The KMS routes of a forced tunnel written by a `dynamic` block, as in
/// example 08's HCL.
const TF_JSON_DYNAMIC: &str = r#"{
  "variable": { "kms": { "default": ["20.118.99.224", "40.83.235.53"] } },
  "resource": {
    "azurerm_route_table": {
      "spoke": {
        "name": "rt-spoke",
        "location": "westeurope",
        "resource_group_name": "rg-net",
        "route": [
          {
            "name": "default",
            "address_prefix": "0.0.0.0/0",
            "next_hop_type": "VirtualAppliance",
            "next_hop_in_ip_address": "10.0.1.4"
          }
        ],
        "dynamic": {
          "route": {
            "for_each": "FOR_EACH",
            "iterator": "kms",
            "content": {
              "name": "kms-${kms.key}",
              "address_prefix": "${kms.value}/32",
              "next_hop_type": "Internet"
            }
          }
        }
      }
    }
  }
}
"#;

#[test]
fn tf_json_dynamic_routes_to_kms_fix_the_tunnel() {
    for for_each in ["${var.kms}", "${toset(var.kms)}", "${{ for ip in var.kms : ip => ip }}"] {
        let r = check(&[("main.tf.json", &TF_JSON_DYNAMIC.replace("FOR_EACH", for_each))]);
        assert_eq!(r.rules(), Vec::<&str>::new(), "{for_each}: {:?}", r.findings);
    }
}

#[test]
fn tf_json_without_the_dynamic_routes_the_tunnel_is_reported() {
    // Only one address is routed: the other is still broken.
    let one = TF_JSON_DYNAMIC.replace("FOR_EACH", "${[\\\"20.118.99.224\\\"]}");
    let r = check(&[("main.tf.json", &one)]);
    assert_eq!(r.rules(), ["KG101"], "{:?}", r.findings);
    assert!(r.messages("KG101")[0].contains("40.83.235.53"), "{:?}", r.findings);
    assert!(!r.messages("KG101")[0].contains("20.118.99.224"), "{:?}", r.findings);
}

#[test]
fn tf_json_dynamic_over_an_unknown_collection_is_a_note_not_a_finding() {
    let text = TF_JSON_DYNAMIC
        .replace("FOR_EACH", "${var.routes}")
        .replace("\"variable\": {", "\"variable\": { \"routes\": {},");
    let r = check(&[("main.tf.json", &text)]);
    assert_eq!(r.rules(), ["KG901"], "{:?}", r.findings);
    assert!(r.messages("KG901")[0].contains("var.routes"), "{:?}", r.findings);
}

// ---- HCL that Terraform accepts and hcl-edit 0.10 refuses ----

/// KMS routes from an object `for` whose value continues over lines after
/// `&&`, as in caf-enterprise-scale's connectivity locals.
const FOR_NEWLINES: &str = r#"locals {
  enabled = ENABLED
  kms     = ["20.118.99.224", "40.83.235.53"]
  kms_routes = {
    for ip in local.kms :
    ip =>
    local.enabled &&
    ip != ""
  }
  zones = {
    a = 1
    b = 2
    a = 3
  }
}

resource "azurerm_route_table" "spoke" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-net"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }

  dynamic "route" {
    for_each = { for ip, on in local.kms_routes : ip => on
      if on }
    content {
      name           = "kms-${route.key}"
      address_prefix = "${route.key}/32"
      next_hop_type  = local.zones.a == 3 ? "Internet" : "None"
    }
  }
}
"#;

#[test]
fn newlines_inside_for_expressions_parse_and_evaluate() {
    let r = check(&[("main.tf", &FOR_NEWLINES.replace("ENABLED", "true"))]);
    assert_eq!(r.errors, Vec::<String>::new());
    assert_eq!(r.rules(), Vec::<&str>::new(), "{:?}", r.findings);
    assert_eq!(r.code, 0);
    let r = check(&[("main.tf", &FOR_NEWLINES.replace("ENABLED", "false"))]);
    assert_eq!(r.errors, Vec::<String>::new());
    assert_eq!(r.rules(), ["KG101"], "{:?}", r.findings);
    // The finding is on the default route's prefix, line 24 of the original
    // file (the joined copy has three lines fewer before it).
    assert_eq!(r.findings[0].2, 24, "{:?}", r.findings);
}

// ---- Messages ----

#[test]
fn kg102_names_each_address_with_its_own_next_hop() {
    let tf = r#"resource "azurerm_route_table" "rt" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name           = "kms-1"
    address_prefix = "20.118.99.224/32"
    next_hop_type  = "None"
  }
  route {
    name           = "kms-2"
    address_prefix = "40.83.235.53/32"
    next_hop_type  = "VirtualNetworkGateway"
  }
}
"#;
    let r = check(&[("main.tf", tf)]);
    assert_eq!(
        r.messages("KG102"),
        ["route table rt-spoke sends KMS traffic away from Internet through its own /32 routes: 20.118.99.224 to next hop None, which drops it; 40.83.235.53 to VirtualNetworkGateway"]
    );
}
