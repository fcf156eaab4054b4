//! Semantics real code uses: Terraform's JSON syntax (`locals`, `dynamic`),
//! HCL that Terraform accepts and hcl-edit refuses, Bicep imports and
//! module outputs, and messages that say exactly what happened.
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

// ---- Bicep imports ----

/// Checks `path` (relative to a fresh repository holding `files`).
fn check_in_repo(files: &[(&str, &str)], path: &str) -> Report {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(d.path().join(".git")).expect("mkdir");
    for (name, text) in files {
        let p = d.path().join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(p, text).expect("write");
    }
    check_dir(&d.path().join(path))
}

const SHARED: &str = r#"@export()
var firewallIp = '10.0.1.4'

@export()
var kmsAddresses = ['20.118.99.224', '40.83.235.53']

var notExported = 'x'

@export()
func kmsRoute(ip string) object => {
  name: 'kms-${ip}'
  properties: {
    addressPrefix: '${ip}/32'
    nextHopType: 'Internet'
  }
}

@export()
type routeList = object[]
"#;

/// A forced tunnel whose KMS routes and firewall address come from `shared`.
fn spoke_table(import: &str, ip: &str, kms_routes: &str) -> String {
    format!(
        r#"{import}

resource rt 'Microsoft.Network/routeTables@2023-04-01' = {{
  name: 'rt-spoke'
  location: 'westeurope'
  properties: {{
    routes: [
      {{
        name: 'default'
        properties: {{
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: {ip}
        }}
      }}
      {kms_routes}
    ]
  }}
}}
"#
    )
}

#[test]
fn bicep_imported_variables_are_evaluated() {
    let main = spoke_table("import {firewallIp, kmsAddresses as kms} from 'shared.bicep'", "firewallIp", "");
    let r = check(&[("main.bicep", &main), ("shared.bicep", SHARED)]);
    assert_eq!(r.rules(), ["KG101"], "{:?}", r.findings);
    assert!(r.messages("KG101")[0].contains("VirtualAppliance 10.0.1.4"), "{:?}", r.findings);
}

#[test]
fn bicep_imported_functions_and_loops_over_imported_lists_are_evaluated() {
    let by_function = spoke_table(
        "import {firewallIp, kmsRoute as route} from 'shared.bicep'",
        "firewallIp",
        "route('20.118.99.224')\n      route('40.83.235.53')",
    );
    let r = check(&[("main.bicep", &by_function), ("shared.bicep", SHARED)]);
    assert_eq!(r.rules(), Vec::<&str>::new(), "{:?}", r.findings);

    let by_loop = spoke_table("import * as shared from 'lib/shared.bicep'", "shared.firewallIp", "")
        .replace(
            "routes: [",
            "routes: concat([for ip in shared.kmsAddresses: shared.kmsRoute(ip)], [",
        )
        .replace("      \n    ]\n", "      \n    ])\n");
    assert!(by_loop.contains("])\n"), "{by_loop}");
    let r = check(&[("main.bicep", &by_loop), ("lib/shared.bicep", SHARED)]);
    assert_eq!(r.rules(), Vec::<&str>::new(), "{:?}", r.findings);
}

#[test]
fn bicep_an_imported_file_outside_the_named_path_is_read_as_context() {
    let main = spoke_table(
        "import {firewallIp, kmsRoute} from '../shared/shared.bicep'",
        "firewallIp",
        "kmsRoute('20.118.99.224')",
    );
    let r = check_in_repo(&[("app/main.bicep", &main), ("shared/shared.bicep", SHARED)], "app");
    // One KMS address is routed, the other is not: the tunnel is proven.
    assert_eq!(r.rules(), ["KG101"], "{:?}", r.findings);
    assert!(
        r.messages("KG101")[0].contains("(40.83.235.53) to VirtualAppliance 10.0.1.4"),
        "{:?}",
        r.findings
    );
}

#[test]
fn bicep_imports_that_cannot_be_read_are_unknown_with_the_reason() {
    for (import, reason) in [
        ("import {firewallIp} from 'br/public:avm/utl/net:0.1.0'", "registry"),
        ("import {firewallIp} from 'missing.bicep'", "not among the files checked"),
        (
            "import {notExported as firewallIp} from 'shared.bicep'",
            "exports no variable or function named notExported",
        ),
    ] {
        let main = spoke_table(import, "firewallIp", "");
        let r = check(&[("main.bicep", &main), ("shared.bicep", SHARED)]);
        // The tunnel is proven whatever the firewall's address; the address
        // is what stays unknown.
        assert_eq!(r.rules(), ["KG101"], "{import}: {:?}", r.findings);
        let unknown_hop = spoke_table(import, "'10.0.1.4'", "").replace("'VirtualAppliance'", "firewallIp");
        let r = check(&[("main.bicep", &unknown_hop), ("shared.bicep", SHARED)]);
        assert_eq!(r.rules(), ["KG901"], "{import}: {:?}", r.findings);
        assert!(r.messages("KG901")[0].contains(reason), "{import}: {:?}", r.findings);
    }
}

// ---- Bicep module outputs ----

const HUB: &str = r#"param prefix string = 'hub'

output firewallIp string = '10.0.1.4'
output nextHop string = 'VirtualAppliance'
output kms array = ['20.118.99.224', '40.83.235.53']
output name string = '${prefix}-fw'
"#;

const SPOKE: &str = r#"param firewallIp string
param nextHop string

resource rt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: nextHop
          nextHopIpAddress: firewallIp
        }
      }
    ]
  }
}

output routeTableName string = rt.name
"#;

#[test]
fn bicep_module_outputs_flow_into_resources_declared_before_the_module() {
    let main = r#"var hop = hub.outputs.nextHop

resource rt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-main'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: hop
          nextHopIpAddress: hub.outputs.firewallIp
        }
      }
    ]
  }
}

module hub 'hub.bicep' = {
  name: 'hub'
}
"#;
    let r = check(&[("main.bicep", main), ("hub.bicep", HUB)]);
    assert_eq!(r.rules(), ["KG101"], "{:?}", r.findings);
    assert!(r.messages("KG101")[0].contains("VirtualAppliance 10.0.1.4"), "{:?}", r.findings);
}

#[test]
fn bicep_module_outputs_flow_into_another_module_in_dependency_order() {
    // The spoke is declared first and reads the hub's outputs; the hub is
    // in a loop, read by index.
    let main = r#"module spoke 'spoke.bicep' = {
  name: 'spoke'
  params: {
    firewallIp: hubs[0].outputs.firewallIp
    nextHop: hubs[0].outputs.nextHop
  }
}

module hubs 'hub.bicep' = [for p in ['a', 'b']: {
  name: 'hub-${p}'
  params: {
    prefix: p
  }
}]

output tableName string = spoke.outputs.routeTableName
"#;
    let r = check(&[("main.bicep", main), ("hub.bicep", HUB), ("spoke.bicep", SPOKE)]);
    assert_eq!(r.rules(), ["KG101"], "{:?}", r.findings);
    assert!(r.messages("KG101")[0].contains("VirtualAppliance 10.0.1.4"), "{:?}", r.findings);
}

#[test]
fn bicep_modules_reading_each_others_outputs_are_unknown_not_guessed() {
    let main = r#"module a 'spoke.bicep' = {
  name: 'a'
  params: {
    firewallIp: b.outputs.routeTableName
    nextHop: b.outputs.routeTableName
  }
}

module b 'spoke.bicep' = {
  name: 'b'
  params: {
    firewallIp: a.outputs.routeTableName
    nextHop: a.outputs.routeTableName
  }
}
"#;
    let r = check(&[("main.bicep", main), ("spoke.bicep", SPOKE)]);
    assert!(r.rules().iter().all(|c| *c == "KG901"), "{:?}", r.findings);
    assert!(
        r.messages("KG901")
            .iter()
            .any(|m| m.contains("reads the outputs of modules that read its own")),
        "{:?}",
        r.findings
    );
}

#[test]
fn bicep_outputs_of_a_registry_module_are_unknown_with_the_reason() {
    let main = SPOKE
        .replace(
            "param firewallIp string\nparam nextHop string\n",
            // A private registry: never read (the public AVM firewall now is).
            "module hub 'br:contoso.azurecr.io/bicep/hub:1.0.0' = {\n  name: 'hub'\n}\n",
        )
        .replace("nextHopType: nextHop", "nextHopType: hub.outputs.nextHop")
        .replace("nextHopIpAddress: firewallIp", "nextHopIpAddress: '10.0.1.4'");
    let r = check(&[("main.bicep", &main)]);
    // The next hop says why it is unknown: the module's outputs, and why those are.
    assert!(
        r.messages("KG901")
            .iter()
            .any(|m| m.contains("the outputs of module hub are unknown") && m.contains("registry")),
        "{:?}",
        r.findings
    );
    assert!(!r.rules().contains(&"KG101"), "{:?}", r.findings);
}

#[test]
fn tf_json_dynamic_security_rules_are_lowered() {
    let text = r#"{
  "locals": { "denied": { "lkm": "AzurePlatformLKM" } },
  "resource": {
    "azurerm_network_security_group": {
      "nsg": {
        "name": "nsg-app",
        "location": "westeurope",
        "resource_group_name": "rg-net",
        "dynamic": {
          "security_rule": [
            {
              "for_each": "${local.denied}",
              "content": {
                "name": "deny-${security_rule.key}",
                "priority": 100,
                "direction": "Outbound",
                "access": "Deny",
                "protocol": "Tcp",
                "source_port_range": "*",
                "destination_port_range": "1688",
                "source_address_prefix": "*",
                "destination_address_prefix": "${security_rule.value}"
              }
            }
          ]
        }
      }
    }
  }
}
"#;
    let r = check(&[("main.tf.json", text)]);
    assert_eq!(r.rules(), ["KG201"], "{:?}", r.findings);
    assert!(r.messages("KG201")[0].contains("deny-lkm"), "{:?}", r.findings);
}

#[test]
fn bicep_user_defined_functions_of_the_file_itself_are_evaluated() {
    let main = spoke_table(
        "func kms(ip string) object => {\n  name: 'kms-${ip}'\n  properties: {\n    addressPrefix: '${ip}/32'\n    nextHopType: hop()\n  }\n}\n\nfunc hop() string => 'Internet'",
        "'10.0.1.4'",
        "kms('20.118.99.224')\n      kms('40.83.235.53')",
    );
    let r = check(&[("main.bicep", &main)]);
    assert_eq!(r.rules(), Vec::<&str>::new(), "{:?}", r.findings);
    // A wrong number of arguments is unknown, not a guess.
    let r = check(&[("main.bicep", &main.replace("kms('40.83.235.53')", "kms('40.83.235.53', 1)"))]);
    assert_eq!(r.rules(), ["KG901"], "{:?}", r.findings);
}
