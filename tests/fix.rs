//! `kmsguard fix` on every shipped example with KG101, KG102 or KG103, in
//! Terraform, Bicep and ARM: each is copied, fixed, checked again, fixed a
//! second time; the diff accounts for every byte that changed.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{all_files as files, copy_dir, kmsguard, patched};

fn route_findings(dir: &Path) -> BTreeSet<(String, String)> {
    common::route_findings(dir, &[])
}

fn fix(dir: &Path, diff: bool) -> (String, i32) {
    common::fix(dir, diff, &[])
}

fn check_example(name: &str) -> Option<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join(name);
    copy_dir(&src, &dir);
    let before = route_findings(&dir);
    if before.is_empty() {
        return None;
    }
    let old: Vec<(PathBuf, Vec<u8>)> = files(&dir)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
        .collect();

    let (diff, code) = fix(&dir, true);
    let expected = patched(&dir, &diff);
    let changed = !expected.is_empty();
    assert_eq!(
        code,
        i32::from(changed),
        "{name}: --diff exits 1 when there is something to fix\n{diff}"
    );
    for (p, bytes) in &old {
        assert_eq!(&std::fs::read(p).expect("read"), bytes, "{name}: --diff writes nothing");
    }

    let (summary, code) = fix(&dir, false);
    assert_eq!(code, 0, "{name}: {summary}");
    for (p, text) in &expected {
        assert_eq!(
            &std::fs::read_to_string(p).expect("read"),
            text,
            "{name}: {} is the diff applied",
            p.display()
        );
    }
    for (p, bytes) in &old {
        if !expected.iter().any(|(e, _)| e == p) {
            assert_eq!(&std::fs::read(p).expect("read"), bytes, "{name}: {} untouched", p.display());
        }
    }
    // What was fixed is gone; what remains was printed as not fixed.
    let after = route_findings(&dir);
    for (rule, file) in &after {
        assert!(
            summary
                .lines()
                .any(|l| l.starts_with(&format!("not fixed {}", file.trim_start_matches("./"))) && l.contains(rule.as_str())),
            "{name}: {rule} in {file} remains but was not reported as not fixed:\n{summary}"
        );
    }
    assert!(after.len() < before.len() || !changed, "{name}: {before:?} -> {after:?}");

    // A second run changes nothing.
    let (again, code) = fix(&dir, true);
    assert_eq!(code, 0, "{name}: second run\n{again}");
    assert!(!again.contains("--- a/"), "{name}: {again}");
    Some(format!("{name}: {} -> {}", before.len(), after.len()))
}

#[test]
fn every_example_with_route_findings_is_fixed_idempotently_and_only_where_it_says() {
    let mut examples: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
        .expect("examples")
        .flatten()
        .filter(|e| e.path().is_dir() && e.file_name() != "ci")
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    examples.sort();
    let done: Vec<String> = examples.iter().filter_map(|e| check_example(e)).collect();
    // KG101 in all three languages, KG102 and KG103 included.
    for must in [
        "01-forced-tunnel-broken: 3 -> 0",
        "06-variables-and-tfvars: 3 -> 0",
        "08-dynamic-routes: 3 -> 0",
        "11-retired-and-typo-kms-addresses: 4 -> 0",
        "23-terraform-module: 1 -> 0",
        "29-avm-bicep-route-table: 1 -> 0",
        "30-avm-terraform-route-table: 1 -> 0",
        "40-avm-bicep-hub-networking: 1 -> 0",
        "41-avm-terraform-hub-networking: 1 -> 0",
    ] {
        assert!(done.iter().any(|d| d == must), "{must} in {done:#?}");
    }
}

const KG102_TABLES: &[(&str, &str)] = &[
    (
        "main.tf",
        r#"resource "azurerm_route_table" "hub" {
  name = "rt-hub"
  # the firewall was meant to see KMS too
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
  route {
    name                   = "kms-1"
    address_prefix         = "20.118.99.224/32"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
  route = []
}
"#,
    ),
    (
        "main.bicep",
        r#"resource rt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-hub'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'kms-1'
        properties: {
          addressPrefix: '20.118.99.224/32'
          nextHopType: 'VirtualNetworkGateway'
        }
      }
      {
        name: 'kms-2'
        properties: {
          addressPrefix: '40.83.235.53/32'
          nextHopType: 'VirtualAppliance' // to the NVA
          nextHopIpAddress: '10.0.1.4'
        }
      }
    ]
  }
}
"#,
    ),
    (
        "azuredeploy.json",
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {
      "type": "Microsoft.Network/routeTables",
      "apiVersion": "2023-04-01",
      "name": "rt-arm",
      "location": "westeurope",
      "properties": {
        "routes": [
          {
            "name": "kms-1",
            "properties": {
              "addressPrefix": "20.118.99.224/32",
              "nextHopType": "VirtualAppliance",
              "nextHopIpAddress": "10.0.1.4"
            }
          },
          {
            "name": "kms-2",
            "properties": {
              "addressPrefix": "40.83.235.53/32",
              "nextHopIpAddress": "10.0.1.4",
              "nextHopType": "VirtualAppliance"
            }
          }
        ]
      }
    }
  ]
}
"#,
    ),
];

#[test]
fn kg102_host_routes_get_next_hop_internet_and_lose_their_ip_in_every_language() {
    for (name, text) in KG102_TABLES {
        let dir = tempfile::tempdir().expect("tempdir");
        let text = text.replace("  route = []\n", "");
        std::fs::write(dir.path().join(name), &text).expect("write");
        let before = route_findings(dir.path());
        assert!(before.contains(&("KG102".to_string(), name.to_string())), "{name}: {before:?}");
        let (summary, code) = fix(dir.path(), false);
        assert_eq!(code, 0, "{summary}");
        let after = std::fs::read_to_string(dir.path().join(name)).expect("read");
        assert_eq!(route_findings(dir.path()), BTreeSet::new(), "{name}:\n{after}\n{summary}");
        assert!(!after.contains("10.0.1.4") || name.ends_with(".tf"), "{name}:\n{after}");
        // Comments and the untouched default route stay as they were.
        for keep in ["# the firewall was meant to see KMS too", "// to the NVA"] {
            assert_eq!(text.contains(keep), after.contains(keep), "{name}: {keep}");
        }
        let (again, code) = fix(dir.path(), true);
        assert_eq!((again.as_str(), code), ("nothing to fix\n", 0), "{name}");
    }
}

#[test]
fn select_limits_what_is_fixed_and_unknown_rules_are_refused() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/11-retired-and-typo-kms-addresses");
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(&src, tmp.path());
    let out = kmsguard()
        .current_dir(tmp.path())
        .args(["fix", ".", "--no-config", "--diff", "--select", "stale-kms-address"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("KG103") && !text.contains("KG101"), "{text}");
    let out = kmsguard()
        .current_dir(tmp.path())
        .args(["fix", ".", "--no-config", "--select", "KG999"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_is_never_written_through() {
    let outside = tempfile::tempdir().expect("tempdir");
    let target = outside.path().join("real.tf");
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/01-forced-tunnel-broken/main.tf")).expect("read");
    std::fs::write(&target, &text).expect("write");
    let repo = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(&target, repo.path().join("main.tf")).expect("symlink");
    let out = kmsguard()
        .current_dir(repo.path())
        .args(["fix", "main.tf", "--no-config"])
        .output()
        .expect("runs");
    assert_eq!(
        std::fs::read_to_string(&target).expect("read"),
        text,
        "the link's target is untouched"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("fixed main.tf"));
}

#[test]
fn a_terraform_module_and_its_tfvars_caller_are_fixed_in_the_module() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("modules/spoke")).expect("mkdir");
    std::fs::write(
        root.join("modules/spoke/main.tf"),
        r#"variable "firewall_ip" { type = string }

resource "azurerm_route_table" "this" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = var.firewall_ip
  }
}
"#,
    )
    .expect("write");
    std::fs::write(
        root.join("main.tf"),
        "variable \"fw\" {}\n\nmodule \"spoke\" {\n  source      = \"./modules/spoke\"\n  firewall_ip = var.fw\n}\n",
    )
    .expect("write");
    std::fs::write(root.join("terraform.tfvars"), "fw = \"10.0.1.4\"\n").expect("write");
    let before = route_findings(root);
    assert_eq!(before.len(), 1, "{before:?}");
    let (summary, code) = fix(root, false);
    assert_eq!(code, 0);
    assert!(summary.contains("modules/spoke/main.tf"), "{summary}");
    assert_eq!(route_findings(root), BTreeSet::new(), "{summary}");
    assert_eq!(
        std::fs::read_to_string(root.join("terraform.tfvars")).expect("read"),
        "fw = \"10.0.1.4\"\n"
    );
}

#[test]
fn attribute_list_routes_get_new_elements_with_or_without_a_trailing_comma() {
    for comma in ["", ","] {
        let text = format!(
            r#"resource "azurerm_route_table" "a" {{
  name = "rt-attr"
  route = [
    {{
      name                   = "default"
      address_prefix         = "0.0.0.0/0"
      next_hop_type          = "VirtualAppliance"
      next_hop_in_ip_address = "10.0.1.4"
    }}{comma}
  ]
}}
"#
        );
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("main.tf"), &text).expect("write");
        assert_eq!(route_findings(dir.path()).len(), 1);
        let (summary, code) = fix(dir.path(), false);
        assert_eq!(code, 0, "{summary}");
        let after = std::fs::read_to_string(dir.path().join("main.tf")).expect("read");
        assert_eq!(route_findings(dir.path()), BTreeSet::new(), "{after}");
        assert!(
            after.contains("next_hop_in_ip_address = null"),
            "every attribute is set in the attribute form:\n{after}"
        );
        assert!(after.starts_with(text.split("    }").next().unwrap_or_default()), "{after}");
        let (again, _) = fix(dir.path(), true);
        assert_eq!(again, "nothing to fix\n");
    }
}

#[test]
fn a_crlf_file_gets_crlf_lines() {
    let src =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/01-forced-tunnel-broken/main.tf")).expect("read");
    let crlf = src.replace("\r\n", "\n").replace('\n', "\r\n");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), &crlf).expect("write");
    let (diff, code) = fix(dir.path(), true);
    assert_eq!(code, 1);
    let expected = patched(dir.path(), &diff);
    let (_, code) = fix(dir.path(), false);
    assert_eq!(code, 0);
    let after = std::fs::read_to_string(dir.path().join("main.tf")).expect("read");
    assert_eq!(expected.first().map(|(_, t)| t.as_str()), Some(after.as_str()));
    assert!(after.contains("azure-kms-1"));
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "every line ends in CRLF:\n{after:?}"
    );
    assert_eq!(route_findings(dir.path()), BTreeSet::new());
}
