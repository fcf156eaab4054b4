//! Scope: what one deployment unit can affect. Checking independent
//! directories together gives each exactly the findings of checking it
//! alone (the composition property), links resolve only inside a unit, and
//! children of parents declared elsewhere are judged on what they prove.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

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
    assert!(found[&roots[1]]
        .iter()
        .any(|f| f.starts_with("KG104") && f.contains("snet-exposed")));
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
    let default = if i.is_multiple_of(2) { "VirtualAppliance" } else { "Internet" };
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
        off = i.is_multiple_of(2),
    )
}

/// An ARM template with a table and an NSG named like the others.
fn arm_root(i: usize) -> String {
    let access = if i.is_multiple_of(2) { "Deny" } else { "Allow" };
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

/// Checks `files` written into a fresh directory; returns "CODE message" lines.
fn check_files(files: &[(&str, &str)]) -> Vec<String> {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), &files.iter().map(|(n, t)| (*n, t.to_string())).collect::<Vec<_>>());
    let map = by_root(&[tmp.path().to_path_buf()], false);
    map.into_values()
        .flatten()
        .map(|l| {
            // "CODE path:line message | related": keep the code and the message.
            let mut parts = l.splitn(3, ' ');
            let code = parts.next().unwrap_or_default();
            let _place = parts.next();
            let rest = parts.next().unwrap_or_default();
            format!("{code} {}", rest.split(" | ").next().unwrap_or_default())
        })
        .collect()
}

fn codes(found: &[String]) -> Vec<&str> {
    found.iter().map(|f| f.split(' ').next().unwrap_or_default()).collect()
}

const KMS_ROUTES_TF: &str = r#"
resource "azurerm_route" "kms1" {
  name                = "kms1"
  resource_group_name = "rg-hub"
  route_table_name    = "rt-spoke"
  address_prefix      = "20.118.99.224/32"
  next_hop_type       = "Internet"
}
resource "azurerm_route" "kms2" {
  name                = "kms2"
  resource_group_name = "rg-hub"
  route_table_name    = "rt-spoke"
  address_prefix      = "40.83.235.53/32"
  next_hop_type       = "Internet"
}
"#;

fn two_tables(net_group: &str) -> String {
    format!(
        r#"resource "azurerm_route_table" "hub" {{
  name                = "rt-spoke"
  resource_group_name = "rg-hub"
  route {{
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }}
}}
resource "azurerm_route_table" "net" {{
  name                = "rt-spoke"
  resource_group_name = {net_group}
  route {{
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.1.0.4"
  }}
}}
"#
    )
}

/// §2: routes written for rt-spoke in rg-hub fix that table, not the
/// rt-spoke of rg-net, whose forced tunnel stays reported.
#[test]
fn standalone_routes_join_their_table_by_resource_group_and_name() {
    let found = check_files(&[("main.tf", &(two_tables("\"rg-net\"") + KMS_ROUTES_TF))]);
    assert_eq!(codes(&found), ["KG101"], "{found:?}");
    assert!(found[0].contains("route table rt-spoke"), "{found:?}");
}

/// §2: when a table's resource group is unknown and two tables share the
/// name, the routes join neither: both tables become undecided, none is
/// made to look fixed.
#[test]
fn two_tables_of_one_name_are_never_merged() {
    let routes = KMS_ROUTES_TF.replace("\"rg-hub\"", "var.route_group");
    let found = check_files(&[
        ("main.tf", &(two_tables("\"rg-net\"") + &routes)),
        ("variables.tf", "variable \"route_group\" {}\n"),
    ]);
    assert!(!found.is_empty() && codes(&found).iter().all(|c| *c == "KG901"), "{found:?}");
    assert!(found.iter().any(|f| f.contains("2 of them are named rt-spoke")), "{found:?}");
}

/// §2: one table of that name, resource group unknown on one side: the name decides.
#[test]
fn a_unique_name_joins_when_a_resource_group_is_unknown() {
    let tables = r#"resource "azurerm_route_table" "hub" {
  name                = "rt-spoke"
  resource_group_name = var.group
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }
}
variable "group" {}
"#;
    let found = check_files(&[("main.tf", &(tables.to_string() + KMS_ROUTES_TF))]);
    assert_eq!(found, Vec::<String>::new());
}

/// §3 (Terraform): routes on a table read by a data source are judged on
/// what they prove alone.
#[test]
fn routes_on_a_data_source_table_are_judged_alone() {
    let text = r#"data "azurerm_route_table" "hub" {
  name                = "rt-hub"
  resource_group_name = "rg-hub"
}
resource "azurerm_route" "kms" {
  name                   = "kms"
  resource_group_name    = "rg-hub"
  route_table_name       = data.azurerm_route_table.hub.name
  address_prefix         = "20.118.99.224/32"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.0.4"
}
resource "azurerm_route" "default" {
  name                   = "default"
  resource_group_name    = "rg-hub"
  route_table_name       = data.azurerm_route_table.hub.name
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.0.4"
}
"#;
    let found = check_files(&[("main.tf", text)]);
    // The /32 decides whatever the table holds; the default route depends on routes not seen.
    assert!(codes(&found).contains(&"KG102"), "{found:?}");
    assert!(
        found.iter().any(|f| f.starts_with("KG901")
            && f.contains("data.azurerm_route_table.hub")
            && f.contains("the table's other routes are not in this code")),
        "{found:?}"
    );
    assert!(!codes(&found).contains(&"KG101"), "{found:?}");
}

/// §3 (Terraform): a rule added to an NSG from a data source that denies
/// AzurePlatformLKM is KG201, saying the NSG's other rules are not seen.
#[test]
fn a_platform_deny_on_a_data_source_nsg_is_reported_with_the_caveat() {
    let text = r#"data "azurerm_network_security_group" "app" {
  name                = "nsg-app"
  resource_group_name = "rg-app"
}
resource "azurerm_network_security_rule" "deny_lkm" {
  name                        = "deny-lkm"
  resource_group_name         = "rg-app"
  network_security_group_name = data.azurerm_network_security_group.app.name
  priority                    = 100
  direction                   = "Outbound"
  access                      = "Deny"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "1688"
  source_address_prefix       = "*"
  destination_address_prefix  = "AzurePlatformLKM"
}
resource "azurerm_network_security_rule" "retired" {
  name                        = "allow-kms-old"
  resource_group_name         = "rg-app"
  network_security_group_name = data.azurerm_network_security_group.app.name
  priority                    = 200
  direction                   = "Outbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "1688"
  source_address_prefix       = "*"
  destination_address_prefix  = "23.102.135.246"
}
"#;
    let found = check_files(&[("main.tf", text)]);
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("KG201") && f.contains("declared outside this code")),
        "{found:?}"
    );
    assert!(codes(&found).contains(&"KG103"), "{found:?}");
}

/// §3 (Bicep): child routes and rules of `existing` parents.
#[test]
fn children_of_existing_bicep_parents_are_judged_alone() {
    let text = r#"resource rt 'Microsoft.Network/routeTables@2023-04-01' existing = {
  name: 'rt-hub'
}
resource kms 'Microsoft.Network/routeTables/routes@2023-04-01' = {
  parent: rt
  name: 'kms'
  properties: {
    addressPrefix: '20.118.99.224/32'
    nextHopType: 'VirtualAppliance'
    nextHopIpAddress: '10.0.0.4'
  }
}
resource def 'Microsoft.Network/routeTables/routes@2023-04-01' = {
  parent: rt
  name: 'default'
  properties: {
    addressPrefix: '0.0.0.0/0'
    nextHopType: 'VirtualAppliance'
    nextHopIpAddress: '10.0.0.4'
  }
}
resource nsg 'Microsoft.Network/networkSecurityGroups@2023-04-01' existing = {
  name: 'nsg-app'
  resource denyLkm 'securityRules' = {
    name: 'deny-lkm'
    properties: {
      priority: 100
      direction: 'Outbound'
      access: 'Deny'
      protocol: 'Tcp'
      sourceAddressPrefix: '*'
      sourcePortRange: '*'
      destinationAddressPrefix: 'AzurePlatformLKM'
      destinationPortRange: '1688'
    }
  }
}
"#;
    let found = check_files(&[("main.bicep", text)]);
    assert!(codes(&found).contains(&"KG102"), "{found:?}");
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("KG901") && f.contains("rt-hub") && f.contains("the table's other routes are not in this code")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("KG201") && f.contains("nsg-app") && f.contains("declared outside this code")),
        "{found:?}"
    );
}

/// §3 (ARM): a route whose parent the template does not declare.
#[test]
fn an_arm_route_whose_table_is_elsewhere_is_judged_alone() {
    let text = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {
      "type": "Microsoft.Network/routeTables/routes",
      "apiVersion": "2023-04-01",
      "name": "rt-hub/kms",
      "properties": { "addressPrefix": "20.118.99.224/32", "nextHopType": "None" }
    }
  ]
}
"#;
    let found = check_files(&[("azuredeploy.json", text)]);
    // The /32 decides; the other address depends on routes not in the code.
    assert_eq!(codes(&found), ["KG901", "KG102"], "{found:?}");
    assert!(found[0].contains("rt-hub is declared outside this code"), "{found:?}");
}

const GATEWAY_TF: &str = r#"resource "azurerm_virtual_network" "hub" {
  name = "vnet-hub"
}
resource "azurerm_subnet" "gateway" {
  name                 = "GatewaySubnet"
  virtual_network_name = azurerm_virtual_network.hub.name
}
resource "azurerm_virtual_network_gateway" "vpn" {
  name        = "vgw-hub"
  type        = "Vpn"
  bgp_enabled = true
  ip_configuration {
    subnet_id = azurerm_subnet.gateway.id
  }
}
resource "azurerm_virtual_network" "spoke" {
  name = "vnet-spoke"
}
resource "azurerm_virtual_network" "other" {
  name = "vnet-other"
}
resource "azurerm_subnet" "spoke" {
  name                 = "snet-spoke"
  virtual_network_name = azurerm_virtual_network.spoke.name
}
resource "azurerm_subnet" "other" {
  name                 = "snet-other"
  virtual_network_name = "vnet-other"
}
resource "azurerm_subnet" "hub_app" {
  name                 = "snet-hub-app"
  virtual_network_name = azurerm_virtual_network.hub.name
}
resource "azurerm_virtual_network_peering" "spoke_to_hub" {
  name                      = "spoke-to-hub"
  virtual_network_name      = azurerm_virtual_network.spoke.name
  remote_virtual_network_id = azurerm_virtual_network.hub.id
  use_remote_gateways       = true
}
resource "azurerm_virtual_network_peering" "hub_to_spoke" {
  name                      = "hub-to-spoke"
  virtual_network_name      = azurerm_virtual_network.hub.name
  remote_virtual_network_id = azurerm_virtual_network.spoke.id
  allow_gateway_transit     = true
}
resource "azurerm_virtual_network_peering" "other_to_hub" {
  name                      = "other-to-hub"
  virtual_network_name      = "vnet-other"
  remote_virtual_network_id = azurerm_virtual_network.hub.id
}
"#;

fn subnets_flagged(found: &[String]) -> Vec<String> {
    let mut v: Vec<String> = found
        .iter()
        .filter(|f| f.starts_with("KG104"))
        .filter_map(|f| f.split(' ').nth(2).map(str::to_string))
        .collect();
    v.sort();
    v
}

/// §1 (Terraform): the gateway reaches its own network's subnets and the
/// spoke that uses it over a peering, not a peer that does not.
#[test]
fn terraform_gateway_reaches_its_network_and_peers_using_it() {
    let found = check_files(&[("main.tf", GATEWAY_TF)]);
    assert_eq!(subnets_flagged(&found), ["snet-hub-app", "snet-spoke"], "{found:?}");
    assert!(found.iter().all(|f| !f.starts_with("KG901")), "{found:?}");
}

/// §1 (Terraform): a subnet whose network is unknown is a note naming that.
#[test]
fn a_subnet_of_an_unknown_network_is_a_note() {
    let text = GATEWAY_TF.replace("virtual_network_name = \"vnet-other\"", "virtual_network_name = var.vnet") + "variable \"vnet\" {}\n";
    let found = check_files(&[("main.tf", &text)]);
    assert_eq!(subnets_flagged(&found), ["snet-hub-app", "snet-spoke"], "{found:?}");
    assert!(
        found.iter().any(|f| f.starts_with("KG901") && f.contains("snet-other")),
        "{found:?}"
    );
}

/// §1 (Bicep): gateway subnet by id, subnets inline and as children,
/// a peering child resource that uses the remote gateway.
#[test]
fn bicep_gateway_reaches_its_network_and_peers_using_it() {
    let text = r#"resource hub 'Microsoft.Network/virtualNetworks@2023-04-01' = {
  name: 'vnet-hub'
  properties: {
    subnets: [
      { name: 'GatewaySubnet', properties: { addressPrefix: '10.0.255.0/27' } }
      { name: 'snet-hub-app', properties: { addressPrefix: '10.0.1.0/24' } }
    ]
  }
}
resource vgw 'Microsoft.Network/virtualNetworkGateways@2023-04-01' = {
  name: 'vgw-hub'
  properties: {
    gatewayType: 'ExpressRoute'
    ipConfigurations: [
      {
        name: 'ipconfig'
        properties: { subnet: { id: '${hub.id}/subnets/GatewaySubnet' } }
      }
    ]
  }
}
resource spoke 'Microsoft.Network/virtualNetworks@2023-04-01' = {
  name: 'vnet-spoke'
  resource app 'subnets' = {
    name: 'snet-spoke'
    properties: { addressPrefix: '10.1.1.0/24' }
  }
  resource toHub 'virtualNetworkPeerings' = {
    name: 'spoke-to-hub'
    properties: {
      remoteVirtualNetwork: { id: hub.id }
      useRemoteGateways: true
    }
  }
}
resource other 'Microsoft.Network/virtualNetworks@2023-04-01' = {
  name: 'vnet-other'
  properties: {
    subnets: [
      { name: 'snet-other', properties: { addressPrefix: '10.2.1.0/24' } }
    ]
  }
}
"#;
    let found = check_files(&[("main.bicep", text)]);
    assert_eq!(subnets_flagged(&found), ["snet-hub-app", "snet-spoke"], "{found:?}");
    assert!(found.iter().any(|f| f.contains("ExpressRoute gateway vgw-hub")), "{found:?}");
}

/// §1 (ARM): inline peerings, a VPN default site (named as such).
#[test]
fn arm_gateway_reaches_its_network_and_peers_using_it() {
    let text = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {
      "type": "Microsoft.Network/virtualNetworks",
      "apiVersion": "2023-04-01",
      "name": "vnet-hub",
      "properties": {
        "subnets": [
          { "name": "GatewaySubnet", "properties": { "addressPrefix": "10.0.255.0/27" } },
          { "name": "snet-hub-app", "properties": { "addressPrefix": "10.0.1.0/24" } }
        ]
      }
    },
    {
      "type": "Microsoft.Network/virtualNetworkGateways",
      "apiVersion": "2023-04-01",
      "name": "vgw-hub",
      "properties": {
        "gatewayType": "Vpn",
        "gatewayDefaultSite": { "id": "[resourceId('Microsoft.Network/localNetworkGateways', 'onprem')]" },
        "ipConfigurations": [
          { "name": "ipconfig", "properties": { "subnet": { "id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet-hub', 'GatewaySubnet')]" } } }
        ]
      }
    },
    {
      "type": "Microsoft.Network/virtualNetworks",
      "apiVersion": "2023-04-01",
      "name": "vnet-spoke",
      "properties": {
        "subnets": [ { "name": "snet-spoke", "properties": { "addressPrefix": "10.1.1.0/24" } } ],
        "virtualNetworkPeerings": [
          {
            "name": "spoke-to-hub",
            "properties": {
              "remoteVirtualNetwork": { "id": "[resourceId('Microsoft.Network/virtualNetworks', 'vnet-hub')]" },
              "useRemoteGateways": true
            }
          }
        ]
      }
    },
    {
      "type": "Microsoft.Network/virtualNetworks",
      "apiVersion": "2023-04-01",
      "name": "vnet-other",
      "properties": {
        "subnets": [ { "name": "snet-other", "properties": { "addressPrefix": "10.2.1.0/24" } } ],
        "virtualNetworkPeerings": [
          {
            "name": "other-to-hub",
            "properties": {
              "remoteVirtualNetwork": { "id": "[resourceId('Microsoft.Network/virtualNetworks', 'vnet-hub')]" },
              "useRemoteGateways": false
            }
          }
        ]
      }
    }
  ]
}
"#;
    let found = check_files(&[("azuredeploy.json", text)]);
    assert_eq!(subnets_flagged(&found), ["snet-hub-app", "snet-spoke"], "{found:?}");
    assert!(found.iter().any(|f| f.contains("default site forces")), "{found:?}");
}

fn bicep_firewall(allow_kms: bool) -> String {
    let (ports, addresses) = if allow_kms {
        ("'1688'", "'20.118.99.224', '40.83.235.53'")
    } else {
        ("'443'", "'*'")
    };
    format!(
        r#"resource policy 'Microsoft.Network/firewallPolicies@2023-04-01' = {{
  name: 'afwp-hub'
  location: 'westeurope'
  properties: {{}}
}}
resource egress 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2023-04-01' = {{
  parent: policy
  name: 'egress'
  properties: {{
    priority: 200
    ruleCollections: [
      {{
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        name: 'allow'
        priority: 100
        action: {{ type: 'Allow' }}
        rules: [
          {{
            ruleType: 'NetworkRule'
            name: 'out'
            ipProtocols: [ 'TCP' ]
            sourceAddresses: [ '10.20.0.0/16' ]
            destinationAddresses: [ {addresses} ]
            destinationPorts: [ {ports} ]
          }}
        ]
      }}
    ]
  }}
}}
resource fw 'Microsoft.Network/azureFirewalls@2023-04-01' = {{
  name: 'afw-hub'
  location: 'westeurope'
  properties: {{
    firewallPolicy: {{ id: policy.id }}
  }}
}}
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
          nextHopIpAddress: fw.properties.ipConfigurations[0].properties.privateIPAddress
        }}
      }}
    ]
  }}
}}
"#
    )
}

/// §2 (KG301 in Bicep): a forced tunnel through an Azure Firewall declared
/// in the deployment is judged by the firewall's policy, as in Terraform.
#[test]
fn bicep_firewalls_and_policies_decide_kg301() {
    let blocked = check_files(&[("main.bicep", &bicep_firewall(false))]);
    assert_eq!(codes(&blocked), ["KG301"], "{blocked:?}");
    assert!(blocked[0].contains("afw-hub"), "{blocked:?}");
    let allowed = check_files(&[("main.bicep", &bicep_firewall(true))]);
    assert_eq!(allowed, Vec::<String>::new());
}

fn arm_firewall(next_hop: &str, private_ip: &str) -> String {
    format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {{
      "type": "Microsoft.Network/azureFirewalls",
      "apiVersion": "2023-04-01",
      "name": "afw-hub",
      "properties": {{
        "ipConfigurations": [ {{ "name": "c", "properties": {{ {private_ip} }} }} ],
        "networkRuleCollections": [
          {{
            "name": "allow-https",
            "properties": {{
              "priority": 100,
              "action": {{ "type": "Allow" }},
              "rules": [ {{ "name": "https", "protocols": [ "TCP" ], "destinationAddresses": [ "*" ], "destinationPorts": [ "443" ] }} ]
            }}
          }}
        ]
      }}
    }},
    {{
      "type": "Microsoft.Network/routeTables",
      "apiVersion": "2023-04-01",
      "name": "rt-spoke",
      "properties": {{
        "routes": [
          {{ "name": "default", "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "{next_hop}" }} }}
        ]
      }}
    }}
  ]
}}
"#
    )
}

/// §2 (KG301 in ARM): the firewall is found by `reference(resourceId(…))`
/// or by a literal next hop equal to its written private address; another
/// address is an appliance KG101 judges.
#[test]
fn arm_firewalls_are_found_by_reference_or_by_their_private_address() {
    let by_reference = arm_firewall(
        "[reference(resourceId('Microsoft.Network/azureFirewalls', 'afw-hub')).ipConfigurations[0].properties.privateIPAddress]",
        "",
    );
    assert_eq!(codes(&check_files(&[("azuredeploy.json", &by_reference)])), ["KG301"]);
    let by_address = arm_firewall("10.0.1.4", "\"privateIPAddress\": \"10.0.1.4\"");
    assert_eq!(codes(&check_files(&[("azuredeploy.json", &by_address)])), ["KG301"]);
    let other = arm_firewall("10.0.1.5", "\"privateIPAddress\": \"10.0.1.4\"");
    assert_eq!(codes(&check_files(&[("azuredeploy.json", &other)])), ["KG101"]);
}

/// §3 (Terraform): a route whose table is another module's output that
/// kmsguard cannot follow may belong to any table that module declares:
/// those become undecided, and nothing is invented.
#[test]
fn a_route_on_a_module_output_table_makes_that_modules_tables_undecided() {
    let root = r#"module "network" {
  source = "./network"
  suffix = var.suffix
}
variable "suffix" {}
resource "azurerm_route" "default" {
  name                   = "default"
  resource_group_name    = "rg-core"
  route_table_name       = module.network.route_table_name
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.0.4"
}
"#;
    let module = r#"variable "suffix" {}
resource "azurerm_route_table" "rt" {
  name                = "rt-${var.suffix}"
  resource_group_name = "rg-core"
}
output "route_table_name" {
  value = azurerm_route_table.rt.name
}
"#;
    let found = check_files(&[("main.tf", root), ("network/main.tf", module)]);
    assert!(
        found.iter().any(|f| f.starts_with("KG901")
            && f.contains("module.network.azurerm_route_table.rt")
            && f.contains("module.network.route_table_name, a module output kmsguard could not follow")),
        "{found:?}"
    );
    assert!(found.iter().all(|f| f.starts_with("KG901")), "{found:?}");
}

/// §2 (KG301 in Bicep): the policy is found by its symbol even when its
/// name is only known at deployment.
#[test]
fn a_bicep_policy_is_found_by_its_symbol_when_its_name_is_unknown() {
    let text = bicep_firewall(false).replace("name: 'afwp-hub'", "name: 'afwp-${resourceGroup().location}'");
    let found = check_files(&[("main.bicep", &text)]);
    assert_eq!(codes(&found), ["KG301"], "{found:?}");
}

/// §5/§3 (Bicep): a module adding routes to an `existing` table its caller
/// declares completes that table, once the whole deployment is known.
#[test]
fn a_bicep_module_adds_routes_to_a_table_its_caller_declares() {
    let root = r#"resource rt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-hub'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: { addressPrefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.0.0.4' }
      }
    ]
  }
}
module kms 'kms-routes.bicep' = {
  name: 'kms-routes'
  params: { tableName: rt.name }
}
"#;
    let module = r#"param tableName string
resource rt 'Microsoft.Network/routeTables@2023-04-01' existing = {
  name: tableName
}
resource kms1 'Microsoft.Network/routeTables/routes@2023-04-01' = {
  parent: rt
  name: 'kms1'
  properties: { addressPrefix: '20.118.99.224/32', nextHopType: 'Internet' }
}
resource kms2 'Microsoft.Network/routeTables/routes@2023-04-01' = {
  parent: rt
  name: 'kms2'
  properties: { addressPrefix: '40.83.235.53/32', nextHopType: 'Internet' }
}
"#;
    let found = check_files(&[("main.bicep", root), ("kms-routes.bicep", module)]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_firewall_with_no_network_rules_in_the_code_is_undecided_not_blocking() {
    // ALZ-Bicep deploys the hub firewall and its policy; the policy's rule
    // collection groups come from another deployment. "Blocks TCP 1688"
    // cannot be proved: KG901, not KG301.
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("main.tf"),
        r#"resource "azurerm_firewall_policy" "p" {
  name                = "fwp-hub"
  resource_group_name = "rg-hub"
  location            = "westeurope"
}
resource "azurerm_firewall" "fw" {
  name                = "afw-hub"
  resource_group_name = "rg-hub"
  location            = "westeurope"
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.p.id
}
resource "azurerm_route_table" "rt" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = azurerm_firewall.fw.ip_configuration[0].private_ip_address
  }
}
"#,
    )
    .expect("write");
    let out = assert_cmd::Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("check")
        .arg(d.path())
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(!rules.contains(&"KG301"), "{doc:#}");
    assert!(
        doc["findings"].as_array().expect("findings").iter().any(|f| f["rule"] == "KG901"
            && f["message"]
                .as_str()
                .unwrap_or_default()
                .contains("none of the firewall's network rules")),
        "{doc:#}"
    );
}

#[test]
fn each_root_names_its_own_module_call_even_when_addresses_repeat() {
    // Two roots call one module: their tables share the address
    // `module.spoke.azurerm_route_table.this`, and each finding must name
    // the call of its own root, alone or checked together.
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(d.path().join(".git")).expect("mkdir");
    let module = r#"variable "name" {
  type = string
}
resource "azurerm_route_table" "this" {
  name                = "rt-${var.name}"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }
}
"#;
    std::fs::create_dir_all(d.path().join("modules/spoke")).expect("mkdir");
    std::fs::write(d.path().join("modules/spoke/main.tf"), module).expect("write");
    for env in ["a", "b"] {
        std::fs::create_dir_all(d.path().join(format!("envs/{env}"))).expect("mkdir");
        std::fs::write(
            d.path().join(format!("envs/{env}/main.tf")),
            format!("module \"spoke\" {{\n  source = \"../../modules/spoke\"\n  name   = \"{env}\"\n}}\n"),
        )
        .expect("write");
    }
    let calls = |paths: &[&str]| -> Vec<(String, Vec<String>)> {
        let out = assert_cmd::Command::cargo_bin("kmsguard")
            .expect("builds")
            .current_dir(d.path())
            .arg("check")
            .args(paths)
            .args(["--format", "json"])
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let mut out: Vec<(String, Vec<String>)> = doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "KG101")
            .map(|f| {
                let related = f["related"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|r| r["message"] == "deployed through this module call")
                    .filter_map(|r| r["file"].as_str().map(String::from))
                    .collect();
                (f["message"].as_str().unwrap_or_default().to_string(), related)
            })
            .collect();
        out.sort();
        out
    };
    let together = calls(&["envs/a", "envs/b"]);
    assert_eq!(
        together,
        vec![
            (
                "route table rt-a sends KMS traffic (20.118.99.224, 40.83.235.53) to VirtualAppliance 10.0.0.4".to_string(),
                vec!["envs/a/main.tf".to_string()]
            ),
            (
                "route table rt-b sends KMS traffic (20.118.99.224, 40.83.235.53) to VirtualAppliance 10.0.0.4".to_string(),
                vec!["envs/b/main.tf".to_string()]
            ),
        ]
    );
    let mut alone = calls(&["envs/a"]);
    alone.extend(calls(&["envs/b"]));
    alone.sort();
    assert_eq!(alone, together);
}
