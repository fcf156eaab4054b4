//! Azure Verified Modules read without downloading them: Bicep
//! `br/public:avm/…` and Terraform `Azure/avm-res-network-…/azurerm` calls
//! of route tables, NSGs and virtual networks are judged from their inputs;
//! versions kmsguard does not know, and modules it cannot read, are KG901
//! notes; modules that deploy nothing it models are silent.
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

mod common;
use common::{found, messages};

fn check(path: &Path) -> (Value, i32) {
    common::check_report(path, &[])
}

fn related_lines(f: &Value) -> Vec<u64> {
    f["related"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["line"].as_u64()).collect())
        .unwrap_or_default()
}

fn want(list: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    list.iter().map(|(r, f, l)| (r.to_string(), f.to_string(), *l)).collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::write(dir.join(name), text).expect("write");
}

const BICEP_ROUTE_TABLE: &str = "module rt 'REF' = {
  name: 'rt'
  params: {
    name: 'rt-spoke'
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: '10.0.1.4'
        }
      }
    ]
  }
}
";

fn bicep_route_table(reference: &str) -> (Value, i32) {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.bicep", &BICEP_ROUTE_TABLE.replace("REF", reference));
    check(d.path())
}

#[test]
fn bicep_example_broken_points_at_the_route_and_the_rule_in_the_call() {
    let (doc, code) = check(Path::new("examples/29-avm-bicep-route-table/broken"));
    assert_eq!(
        found(&doc),
        want(&[("KG101", "main.bicep", 14), ("KG202", "main.bicep", 37)]),
        "{doc:#}"
    );
    assert_eq!(code, 1);
    let kg101 = &doc["findings"][0];
    assert_eq!(kg101["resource"], "routeTable");
    // The module call and the subnet of the AVM virtual network that uses the
    // table through routeTable.outputs.resourceId.
    let related = related_lines(kg101);
    assert!(related.contains(&6) && related.contains(&51), "{kg101:#}");
    // The NSG named with the br:mcr.microsoft.com/bicep/ form.
    assert_eq!(doc["findings"][1]["resource"], "nsg");
}

#[test]
fn bicep_example_fixed_is_clean_and_silent() {
    let (doc, code) = check(Path::new("examples/29-avm-bicep-route-table/fixed"));
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    assert_eq!(code, 0);
}

#[test]
fn terraform_example_broken_points_at_the_route_and_the_rule_in_the_call() {
    let (doc, code) = check(Path::new("examples/30-avm-terraform-route-table/broken"));
    assert_eq!(found(&doc), want(&[("KG101", "main.tf", 18), ("KG202", "main.tf", 41)]), "{doc:#}");
    assert_eq!(code, 1);
    let kg101 = &doc["findings"][0];
    assert_eq!(kg101["resource"], "module.rt");
    // The module call, and the subnet of module.vnet linked through module.rt.resource_id.
    let related = related_lines(kg101);
    assert!(related.contains(&8) && related.contains(&56), "{kg101:#}");
    // The fix is written as entries of the routes map.
    let fix = kg101["fix"].to_string();
    assert!(fix.contains("azure_kms_1 = {"), "{fix}");
}

#[test]
fn terraform_example_fixed_is_clean() {
    let (doc, code) = check(Path::new("examples/30-avm-terraform-route-table/fixed"));
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    assert_eq!(code, 0);
}

#[test]
fn every_known_route_table_version_and_both_reference_forms_are_read() {
    for reference in [
        "br/public:avm/res/network/route-table:0.1.0",
        "br/public:avm/res/network/route-table:0.2.3",
        "br/public:avm/res/network/route-table:0.4.0",
        "br/public:avm/res/network/route-table:0.5.0",
        "br:mcr.microsoft.com/bicep/avm/res/network/route-table:0.4.1",
        "BR/PUBLIC:avm/res/network/route-table:0.3.0",
    ] {
        let (doc, _) = bicep_route_table(reference);
        assert_eq!(found(&doc), want(&[("KG101", "main.bicep", 9)]), "{reference}: {doc:#}");
    }
}

#[test]
fn an_unknown_patch_of_a_stable_minor_is_read_like_it() {
    let (doc, _) = bicep_route_table("br/public:avm/res/network/route-table:0.2.7");
    assert_eq!(found(&doc), want(&[("KG101", "main.bicep", 9)]), "{doc:#}");
}

#[test]
fn an_unknown_minor_is_a_note_naming_the_module_version_and_known_versions() {
    let (doc, code) = bicep_route_table("br/public:avm/res/network/route-table:0.9.0");
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 1)]), "{doc:#}");
    let m = &messages(&doc, "KG901")[0];
    assert!(
        m.contains("avm/res/network/route-table") && m.contains("0.9.0") && m.contains("0.4.0, 0.4.1, 0.5.0"),
        "{m}"
    );
    assert_eq!(code, 0);
}

#[test]
fn an_unknown_patch_passing_an_input_its_minor_does_not_declare_is_a_note() {
    let d = tempfile::tempdir().expect("tempdir");
    let text = BICEP_ROUTE_TABLE
        .replace("REF", "br/public:avm/res/network/route-table:0.2.9")
        .replace("    name: 'rt-spoke'\n", "    name: 'rt-spoke'\n    routeServerPeering: true\n");
    write(d.path(), "main.bicep", &text);
    let (doc, _) = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 1)]), "{doc:#}");
    assert!(messages(&doc, "KG901")[0].contains("routeServerPeering"), "{doc:#}");
}

#[test]
fn registry_modules_that_deploy_no_networking_are_silent_and_others_keep_one_note() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.bicep",
        "module dns 'br/public:avm/res/network/private-dns-zone:0.6.0' = {
  name: 'dns'
  params: { name: 'privatelink.azurecr.io' }
}
module id 'br:mcr.microsoft.com/bicep/avm/res/managed-identity/user-assigned-identity:0.4.0' = {
  name: 'id'
  params: { name: 'id' }
}
module vm 'br/public:avm/res/compute/virtual-machine:0.10.0' = {
  name: 'vm'
  params: { name: 'vm' }
}
module hub 'br:contoso.azurecr.io/bicep/modules/hub:1.0.0' = {
  name: 'hub'
}
",
    );
    let (doc, _) = check(d.path());
    assert_eq!(
        found(&doc),
        want(&[("KG901", "main.bicep", 9), ("KG901", "main.bicep", 13)]),
        "{doc:#}"
    );
}

#[test]
fn the_route_table_of_a_bicep_module_loop_is_judged_per_instance() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.bicep",
        "param spokes array = [
  { name: 'a', hop: 'Internet' }
  { name: 'b', hop: 'VirtualAppliance' }
]
module rts 'br/public:avm/res/network/route-table:0.4.0' = [for s in spokes: {
  name: 'rt-${s.name}'
  params: {
    name: 'rt-${s.name}'
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: s.hop
          nextHopIpAddress: '10.0.1.4'
        }
      }
    ]
  }
}]
",
    );
    let (doc, _) = check(d.path());
    assert_eq!(found(&doc), want(&[("KG101", "main.bicep", 13)]), "{doc:#}");
    assert_eq!(doc["findings"][0]["resource"], "rts[1]", "{doc:#}");
}

#[test]
fn routes_from_an_unknown_parameter_are_a_note_not_a_guess() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.bicep",
        "param routes array
module rt 'br/public:avm/res/network/route-table:0.4.0' = {
  name: 'rt'
  params: {
    name: 'rt-spoke'
    routes: routes
  }
}
",
    );
    let (doc, _) = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 6)]), "{doc:#}");
    let m = &messages(&doc, "KG901")[0];
    assert!(
        m.contains("route table rt-spoke") && m.contains("parameter routes has no default"),
        "{m}"
    );
}

const TF_ROUTE_TABLE: &str = r#"module "rt" {
  source  = "Azure/avm-res-network-routetable/azurerm"
  VERSION
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg"
  routes = {
    default = {
      name                   = "default"
      address_prefix         = "0.0.0.0/0"
      next_hop_type          = "VirtualAppliance"
      next_hop_in_ip_address = "10.0.1.4"
    }
  }
}
"#;

fn tf_route_table(version: &str) -> (Value, i32) {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.tf", &TF_ROUTE_TABLE.replace("VERSION", version));
    check(d.path())
}

#[test]
fn terraform_pins_and_constraints_inside_one_stable_minor_are_read() {
    for version in [
        r#"version = "0.4.1""#,
        r#"version = "0.2.0""#,
        r#"version = "~> 0.2.0""#,
        r#"version = ">= 0.3.0, < 0.4.0""#,
    ] {
        let (doc, _) = tf_route_table(version);
        assert_eq!(found(&doc), want(&[("KG101", "main.tf", 10)]), "{version}: {doc:#}");
    }
}

#[test]
fn terraform_calls_without_a_pin_kmsguard_can_trust_are_notes() {
    for (version, says) in [
        ("", "no version constraint"),
        (r#"version = "~> 0.4""#, "newer than kmsguard knows"),
        (r#"version = "0.9.0""#, "0.9.0"),
    ] {
        let (doc, _) = tf_route_table(version);
        assert_eq!(found(&doc), want(&[("KG901", "main.tf", 2)]), "{version}: {doc:#}");
        let m = &messages(&doc, "KG901")[0];
        assert!(m.contains(says) && m.contains("0.4.1"), "{version}: {m}");
    }
}

#[test]
fn terraform_for_each_over_avm_route_tables_judges_each_instance() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        r#"locals {
  hops = { a = "Internet", b = "VirtualAppliance" }
}
module "rt" {
  source   = "Azure/avm-res-network-routetable/azurerm"
  version  = "0.4.1"
  for_each = local.hops
  name                = "rt-${each.key}"
  location            = "westeurope"
  resource_group_name = "rg"
  routes = {
    default = {
      name                   = "default"
      address_prefix         = "0.0.0.0/0"
      next_hop_type          = each.value
      next_hop_in_ip_address = "10.0.1.4"
    }
  }
}
"#,
    );
    let (doc, _) = check(d.path());
    assert_eq!(found(&doc), want(&[("KG101", "main.tf", 14)]), "{doc:#}");
    assert_eq!(doc["findings"][0]["resource"], r#"module.rt["b"]"#, "{doc:#}");
}

#[test]
fn terraform_nsg_rules_of_the_first_interface_are_named_by_their_key() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        r#"module "nsg" {
  source              = "Azure/avm-res-network-networksecuritygroup/azurerm"
  version             = "0.1.1"
  name                = "nsg-spoke"
  location            = "westeurope"
  resource_group_name = "rg"
  nsgrules = {
    "deny-dns" = {
      nsg_rule_priority                   = 100
      nsg_rule_direction                  = "Outbound"
      nsg_rule_access                     = "Deny"
      nsg_rule_protocol                   = "*"
      nsg_rule_source_port_range          = "*"
      nsg_rule_destination_port_range     = "*"
      nsg_rule_source_address_prefix      = "*"
      nsg_rule_destination_address_prefix = "AzurePlatformDNS"
    }
  }
}
"#,
    );
    let (doc, _) = check(d.path());
    assert_eq!(found(&doc), want(&[("KG202", "main.tf", 16)]), "{doc:#}");
    assert!(messages(&doc, "KG202")[0].contains("rule deny-dns"), "{doc:#}");
}

#[test]
fn terraform_registry_modules_that_deploy_no_networking_are_silent() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        r#"module "kv" {
  source  = "Azure/avm-res-keyvault-vault/azurerm"
  version = "0.9.1"
}
module "naming" {
  source  = "Azure/naming/azurerm"
  version = "0.4.0"
}
module "other" {
  source  = "example/hub/azurerm"
  version = "1.0.0"
}
"#,
    );
    let (doc, _) = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 10)]), "{doc:#}");
}

/// An installed copy of the module wins over reading its inputs.
#[test]
fn an_installed_avm_module_is_read_from_its_files() {
    let d = tempfile::tempdir().expect("tempdir");
    let root = d.path();
    write(root, "main.tf", &TF_ROUTE_TABLE.replace("VERSION", r#"version = "0.4.1""#));
    let installed = root.join(".terraform/modules/rt");
    fs::create_dir_all(&installed).expect("mkdir");
    write(
        &root.join(".terraform/modules"),
        "modules.json",
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"rt","Source":"registry.terraform.io/Azure/avm-res-network-routetable/azurerm","Version":"0.4.1","Dir":".terraform/modules/rt"}]}"#,
    );
    write(
        &installed,
        "main.tf",
        "variable \"name\" { type = string }\nvariable \"routes\" { type = any }\nvariable \"location\" { type = string }\nvariable \"resource_group_name\" { type = string }\nresource \"azurerm_route_table\" \"this\" {\n  name = var.name\n  location = var.location\n  resource_group_name = var.resource_group_name\n}\nresource \"azurerm_route\" \"this\" {\n  for_each = var.routes\n  name = each.value.name\n  resource_group_name = var.resource_group_name\n  route_table_name = azurerm_route_table.this.name\n  address_prefix = each.value.address_prefix\n  next_hop_type = each.value.next_hop_type\n  next_hop_in_ip_address = each.value.next_hop_in_ip_address\n}\n",
    );
    let (doc, code) = check(root);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["findings"][0]["resource"], "module.rt.azurerm_route_table.this", "{doc:#}");
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(dir)
        .args(args)
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Notes with the same reason are one line with a count in the human and
/// compact formats; `--verbose` and the machine formats list each.
#[test]
fn not_checked_notes_with_one_reason_fold_into_one_line() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for name in ["vm1", "vm2", "vm3"] {
        text.push_str(&format!(
            "module \"{name}\" {{\n  source  = \"Azure/avm-res-compute-virtualmachine/azurerm\"\n  version = \"0.18.0\"\n}}\n"
        ));
    }
    text.push_str("module \"other\" {\n  source = \"example/hub/azurerm\"\n}\n");
    write(d.path(), "main.tf", &text);

    let compact = run(d.path(), &["--format", "compact"]);
    let notes: Vec<&str> = compact.lines().filter(|l| l.contains("note[KG901]")).collect();
    assert_eq!(notes.len(), 2, "{compact}");
    assert!(
        notes
            .iter()
            .any(|l| l.contains(":2:") && l.contains("3 are not checked (module.vm1, module.vm2, module.vm3)") && l.contains("--verbose")),
        "{compact}"
    );
    assert!(notes.iter().any(|l| l.contains("module.other is not checked")), "{compact}");
    assert!(compact.contains("4 notes"), "the summary still counts each: {compact}");

    let verbose = run(d.path(), &["--format", "compact", "--verbose"]);
    assert_eq!(verbose.lines().filter(|l| l.contains("note[KG901]")).count(), 4, "{verbose}");

    let human = run(d.path(), &[]);
    assert!(human.contains("note[KG901] 3 are not checked"), "{human}");
    assert!(human.contains("first at"), "{human}");
    assert!(!human.contains("module.vm2 is not checked"), "{human}");
    let human = run(d.path(), &["--verbose"]);
    assert!(human.contains("module.vm2 is not checked"), "{human}");

    let (doc, _) = check(d.path());
    assert_eq!(doc["findings"].as_array().map(Vec::len), Some(4), "JSON lists each: {doc:#}");
}
