//! Scope: what one deployment unit can affect. Checking independent
//! directories together gives each exactly the findings of checking it
//! alone (the composition property), links resolve only inside a unit, and
//! children of parents declared elsewhere are judged on what they prove.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kmsguard::policy::Policy;
use kmsguard::CheckOptions;

/// Every finding of a run, as (rule, file, line, message) with its related
/// places, grouped by which of `roots` holds its file.
fn by_root(roots: &[PathBuf], assume_bgp: bool) -> BTreeMap<PathBuf, Vec<String>> {
    let policy = Policy::embedded().expect("embedded policy");
    let opts = CheckOptions {
        paths: roots.to_vec(),
        assume_bgp_default_route: assume_bgp,
        ..CheckOptions::default()
    };
    let out = kmsguard::check(&opts, &policy);
    assert!(out.errors.is_empty(), "{roots:?}: {:?}", out.errors);
    let place = |l: &kmsguard::rules::Label| {
        format!(
            "{}:{}",
            out.sources.path(l.origin.file).display(),
            out.sources.line_col(&l.origin).line
        )
    };
    let mut map: BTreeMap<PathBuf, Vec<String>> = roots.iter().map(|r| (r.clone(), Vec::new())).collect();
    for f in &out.findings {
        let path = out.sources.path(f.primary.origin.file).to_path_buf();
        let related: Vec<String> = f.related.iter().map(|r| format!("{} ({})", place(r), r.message)).collect();
        let line = format!("{} {} {} | {}", f.code, place(&f.primary), f.message, related.join("; "));
        let root = roots
            .iter()
            .find(|r| path.starts_with(r))
            .unwrap_or_else(|| panic!("{} is under none of {roots:?}", path.display()));
        map.entry(root.clone()).or_default().push(line);
    }
    map
}

fn assert_composes(roots: &[PathBuf], alone: &BTreeMap<PathBuf, Vec<String>>, assume_bgp: bool) {
    let together = by_root(roots, assume_bgp);
    for r in roots {
        assert_eq!(
            together.get(r),
            alone.get(r),
            "{} checked with {roots:?} differs from checked alone",
            r.display()
        );
    }
}

fn examples() -> Vec<PathBuf> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&base)
        .expect("examples/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "ci"))
        .collect();
    dirs.sort();
    dirs
}

/// Every pair of examples, checked together, gives each example its own
/// findings. All pairs (about 380 in-process checks) run in a few seconds.
#[test]
fn every_pair_of_examples_composes() {
    let dirs = examples();
    assert!(dirs.len() >= 28, "{dirs:?}");
    let alone: BTreeMap<PathBuf, Vec<String>> = dirs
        .iter()
        .map(|d| {
            let m = by_root(std::slice::from_ref(d), false);
            (d.clone(), m.get(d).cloned().unwrap_or_default())
        })
        .collect();
    for (i, a) in dirs.iter().enumerate() {
        for b in dirs.iter().skip(i + 1) {
            assert_composes(&[a.clone(), b.clone()], &alone, false);
        }
    }
    // And all of them at once.
    assert_composes(&dirs, &alone, false);
}

/// The user's `--assume-bgp-default-route` is about every subnet: it
/// composes too, and still reaches each example's subnets.
#[test]
fn all_examples_compose_under_the_bgp_assumption() {
    let dirs = examples();
    let alone: BTreeMap<PathBuf, Vec<String>> = dirs
        .iter()
        .map(|d| {
            let m = by_root(std::slice::from_ref(d), true);
            (d.clone(), m.get(d).cloned().unwrap_or_default())
        })
        .collect();
    assert_composes(&dirs, &alone, true);
}

/// Example 24's Terraform gateway no longer reaches example 15's Bicep
/// subnet `snet-free`: they are different deployments.
#[test]
fn a_terraform_gateway_does_not_reach_a_bicep_subnet_of_another_directory() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let roots = [base.join("15-vnet-subnets"), base.join("24-vpn-default-site")];
    let found = by_root(&roots, false);
    let free: Vec<&String> = found.values().flatten().filter(|f| f.contains("snet-free")).collect();
    assert!(free.is_empty(), "{free:?}");
    assert!(found[&roots[1]].iter().any(|f| f.starts_with("KG104") && f.contains("snet-exposed")));
}

/// Writes `files` under `dir`.
fn write(dir: &Path, files: &[(&str, String)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
}

/// A Terraform root with a BGP gateway in `vnet-hub` and the given subnets,
/// a table `rt-spoke` whose routes depend on `i`, and a standalone route by name.
fn terraform_root(i: usize) -> String {
    let default = if i % 2 == 0 { "VirtualAppliance" } else { "Internet" };
    format!(
        r#"resource "azurerm_virtual_network" "hub" {{
  name                = "vnet-hub"
  resource_group_name = "rg-{i}"
}}
resource "azurerm_subnet" "gw" {{
  name                 = "GatewaySubnet"
  virtual_network_name = azurerm_virtual_network.hub.name
}}
resource "azurerm_subnet" "app" {{
  name                 = "snet-app"
  virtual_network_name = azurerm_virtual_network.hub.name
}}
resource "azurerm_virtual_network_gateway" "vpn" {{
  name        = "vgw-hub"
  type        = "Vpn"
  bgp_enabled = {bgp}
  ip_configuration {{
    subnet_id = azurerm_subnet.gw.id
  }}
}}
resource "azurerm_route_table" "spoke" {{
  name                = "rt-spoke"
  resource_group_name = "rg-{i}"
}}
resource "azurerm_route" "default" {{
  name                = "default"
  resource_group_name = "rg-{i}"
  route_table_name    = "rt-spoke"
  address_prefix      = "0.0.0.0/0"
  next_hop_type       = "{default}"
  next_hop_in_ip_address = {ip}
}}
resource "azurerm_subnet_route_table_association" "app" {{
  subnet_id      = azurerm_subnet.app.id
  route_table_id = azurerm_route_table.spoke.id
}}
"#,
        bgp = i % 3 != 1,
        ip = if default == "VirtualAppliance" { "\"10.0.0.4\"" } else { "null" },
    )
}

/// A Bicep deployment with subnets in a network of the same name as the
/// Terraform roots', linked by id to a table named like theirs.
fn bicep_root(i: usize) -> String {
    format!(
        r#"resource rt 'Microsoft.Network/routeTables@2023-04-01' = {{
  name: 'rt-spoke'
  location: 'westeurope'
  properties: {{
    disableBgpRoutePropagation: {off}
    routes: [
      {{
        name: 'default'
        properties: {{ addressPrefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.{i}.0.4' }}
      }}
    ]
  }}
}}
resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {{
  name: 'vnet-hub'
  location: 'westeurope'
  properties: {{
    addressSpace: {{ addressPrefixes: [ '10.{i}.0.0/16' ] }}
    subnets: [
      {{
        name: 'snet-free'
        properties: {{ addressPrefix: '10.{i}.1.0/24' }}
      }}
      {{
        name: 'snet-app'
        properties: {{
          addressPrefix: '10.{i}.2.0/24'
          routeTable: {{ id: rt.id }}
        }}
      }}
    ]
  }}
}}
"#,
        off = i % 2 == 0,
    )
}

/// An ARM template with a table and an NSG named like the others.
fn arm_root(i: usize) -> String {
    let access = if i % 2 == 0 { "Deny" } else { "Allow" };
    format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {{
      "type": "Microsoft.Network/networkSecurityGroups",
      "apiVersion": "2023-04-01",
      "name": "nsg-app",
      "properties": {{ "securityRules": [] }}
    }},
    {{
      "type": "Microsoft.Network/networkSecurityGroups/securityRules",
      "apiVersion": "2023-04-01",
      "name": "nsg-app/deny-lkm",
      "properties": {{
        "priority": 100, "direction": "Outbound", "access": "{access}", "protocol": "Tcp",
        "sourceAddressPrefix": "*", "sourcePortRange": "*",
        "destinationAddressPrefix": "AzurePlatformLKM", "destinationPortRange": "1688"
      }}
    }},
    {{
      "type": "Microsoft.Network/routeTables/routes",
      "apiVersion": "2023-04-01",
      "name": "rt-spoke/default",
      "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4" }}
    }},
    {{
      "type": "Microsoft.Network/virtualNetworks/subnets",
      "apiVersion": "2023-04-01",
      "name": "vnet-hub/snet-arm",
      "properties": {{
        "addressPrefix": "10.9.{i}.0/24",
        "networkSecurityGroup": {{ "id": "[resourceId('Microsoft.Network/networkSecurityGroups', 'nsg-app')]" }},
        "routeTable": {{ "id": "[resourceId('Microsoft.Network/routeTables', 'rt-spoke')]" }}
      }}
    }}
  ]
}}
"#
    )
}

/// A generated tree of roots in three languages that reuse the same names
/// (networks, tables, NSGs) with different contents: checked together, every
/// root gets exactly its findings alone, whatever subset is checked.
#[test]
fn a_generated_multi_root_tree_composes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut roots = Vec::new();
    for i in 0..9 {
        let dir = tmp.path().join(format!("root{i}"));
        match i % 3 {
            0 => write(&dir, &[("main.tf", terraform_root(i))]),
            1 => write(&dir, &[("main.bicep", bicep_root(i))]),
            _ => write(&dir, &[("azuredeploy.json", arm_root(i))]),
        }
        roots.push(dir);
    }
    let alone: BTreeMap<PathBuf, Vec<String>> = roots
        .iter()
        .map(|d| {
            let m = by_root(std::slice::from_ref(d), false);
            (d.clone(), m.get(d).cloned().unwrap_or_default())
        })
        .collect();
    // Something to compare: the generator makes findings in every language.
    for (i, r) in roots.iter().enumerate().take(3) {
        assert!(!alone[r].is_empty(), "root{i} has findings alone");
    }
    assert_composes(&roots, &alone, false);
    for (i, a) in roots.iter().enumerate() {
        for b in roots.iter().skip(i + 1) {
            assert_composes(&[a.clone(), b.clone()], &alone, false);
        }
    }
}
