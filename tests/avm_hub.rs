//! Hub networking through Azure Verified Modules: virtual network peerings
//! and subnets (Bicep and Terraform, with the Terraform submodules), route
//! tables associated by subnet id, the hub-networking patterns, and routes
//! or rules that exist only under a condition kmsguard cannot decide (an
//! unknown count, for_each, `if`, loop or copy count), which make their
//! table's or NSG's verdict unknown instead of being counted as present.
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

use serde_json::Value;

mod common;
use common::{found, messages};

fn check_args(path: &Path, args: &[&str]) -> Value {
    common::check_report(path, args).0
}

fn check(path: &Path) -> Value {
    check_args(path, &[])
}

fn want(list: &[(&str, &str, u64)]) -> Vec<(String, String, u64)> {
    list.iter().map(|(r, f, l)| (r.to_string(), f.to_string(), *l)).collect()
}

fn write(dir: &Path, name: &str, text: &str) {
    if let Some(parent) = dir.join(name).parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(dir.join(name), text).expect("write");
}

// ---------------------------------------------------------------------------
// Routes and rules that exist only under an undecidable condition.

const TF_TABLE: &str = r#"resource "azurerm_route_table" "hub" {
  name                = "rt-hub"
  location            = "westeurope"
  resource_group_name = "rg"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
}
"#;

const TF_GATED_KMS_ROUTES: &str = r#"variable "enabled" { type = bool }
resource "azurerm_route" "kms" {
  count               = var.enabled ? 1 : 0
  name                = "kms-1"
  resource_group_name = "rg"
  route_table_name    = azurerm_route_table.hub.name
  address_prefix      = "20.118.99.224/32"
  next_hop_type       = "Internet"
}
resource "azurerm_route" "kms2" {
  count               = var.enabled ? 1 : 0
  name                = "kms-2"
  resource_group_name = "rg"
  route_table_name    = azurerm_route_table.hub.name
  address_prefix      = "40.83.235.53/32"
  next_hop_type       = "Internet"
}
"#;

#[test]
fn kms_routes_under_an_unknown_count_are_a_note_not_counted_as_present() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.tf", &format!("{TF_TABLE}{TF_GATED_KMS_ROUTES}"));
    // Unknown: the routes may not exist.
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 14)]), "{doc:#}");
    assert!(
        messages(&doc, "KG901")[0].contains("whether azurerm_route.kms exists is unknown: count ="),
        "{doc:#}"
    );
    // True: they exist, and the table is fixed.
    assert_eq!(found(&check_args(d.path(), &["--var", "enabled=true"])), want(&[]));
    // False: they do not, and the forced tunnel breaks activation.
    assert_eq!(
        found(&check_args(d.path(), &["--var", "enabled=false"])),
        want(&[("KG101", "main.tf", 7)])
    );
}

#[test]
fn a_default_route_under_an_unknown_for_each_is_a_note_not_an_error() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        r#"variable "hubs" { type = map(string) }
resource "azurerm_route_table" "spoke" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg"
}
resource "azurerm_route" "default" {
  for_each               = var.hubs
  name                   = "default-${each.key}"
  resource_group_name    = "rg"
  route_table_name       = azurerm_route_table.spoke.name
  address_prefix         = "0.0.0.0/0"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.1.4"
}
"#,
    );
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 8)]), "{doc:#}");
    assert_eq!(
        found(&check_args(d.path(), &["--var", r#"hubs={a="x"}"#])),
        want(&[("KG101", "main.tf", 12)])
    );
    assert_eq!(found(&check_args(d.path(), &["--var", "hubs={}"])), want(&[]));
}

#[test]
fn routes_of_a_module_instance_under_an_unknown_for_each_are_a_note() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        &format!(
            r#"{TF_TABLE}variable "kms" {{ type = map(string) }}
module "kms" {{
  source   = "./kms"
  for_each = var.kms
  table    = "rt-hub"
}}
"#
        ),
    );
    write(
        d.path(),
        "kms/main.tf",
        r#"variable "table" { type = string }
resource "azurerm_route" "kms" {
  name                = "kms-1"
  resource_group_name = "rg"
  route_table_name    = var.table
  address_prefix      = "20.118.99.224/32"
  next_hop_type       = "Internet"
}
resource "azurerm_route" "kms2" {
  name                = "kms-2"
  resource_group_name = "rg"
  route_table_name    = var.table
  address_prefix      = "40.83.235.53/32"
  next_hop_type       = "Internet"
}
"#,
    );
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 15)]), "{doc:#}");
    assert!(
        messages(&doc, "KG901")[0].contains("module.kms.azurerm_route.kms exists is unknown"),
        "{doc:#}"
    );
    assert_eq!(found(&check_args(d.path(), &["--var", r#"kms={a="x"}"#])), want(&[]));
    assert_eq!(found(&check_args(d.path(), &["--var", "kms={}"])), want(&[("KG101", "main.tf", 7)]));
}

#[test]
fn routes_naming_a_registry_table_by_an_unknown_instance_make_it_undecidable() {
    // The shape of avm-ptn-hubnetworking's main.routing.tf: AVM route tables
    // per hub, and azurerm_route resources over a for_each kmsguard cannot
    // evaluate, naming the table by module.rt[each.value.hub].name.
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        r#"variable "routes" { type = map(any) }
module "rt" {
  source   = "Azure/avm-res-network-routetable/azurerm"
  version  = "0.3.1"
  for_each = toset(["hub1", "hub2"])

  name                = "rt-${each.key}"
  location            = "westeurope"
  resource_group_name = "rg"
}
resource "azurerm_route" "default" {
  for_each               = var.routes
  name                   = each.key
  resource_group_name    = "rg"
  route_table_name       = module.rt[each.value.hub].name
  address_prefix         = each.value.prefix
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.1.4"
}
"#,
    );
    let doc = check(d.path());
    let notes = messages(&doc, "KG901");
    assert_eq!(notes.len(), 2, "{doc:#}");
    for (note, hub) in notes.iter().zip(["hub1", "hub2"]) {
        assert!(note.contains(&format!("route table rt-{hub} ")), "{note}");
        assert!(note.contains("a module output kmsguard could not follow"), "{note}");
    }
    // Known: each route joins its table.
    let doc = check_args(
        d.path(),
        &[
            "--var",
            r#"routes={d1={hub="hub1",prefix="0.0.0.0/0"},d2={hub="hub2",prefix="10.0.0.0/8"}}"#,
        ],
    );
    assert_eq!(found(&doc), want(&[("KG101", "main.tf", 16)]), "{doc:#}");
    assert!(messages(&doc, "KG101")[0].contains("rt-hub1"), "{doc:#}");
}

#[test]
fn an_nsg_rule_under_an_unknown_count_is_a_note() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        r#"variable "strict" { type = bool }
resource "azurerm_network_security_group" "app" {
  name                = "nsg-app"
  location            = "westeurope"
  resource_group_name = "rg"
}
resource "azurerm_network_security_rule" "deny_kms" {
  count                       = var.strict ? 1 : 0
  name                        = "deny-kms"
  priority                    = 100
  direction                   = "Outbound"
  access                      = "Deny"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "1688"
  source_address_prefix       = "*"
  destination_address_prefix  = "AzurePlatformLKM"
  resource_group_name         = "rg"
  network_security_group_name = azurerm_network_security_group.app.name
}
"#,
    );
    assert_eq!(
        found(&check_args(d.path(), &["--var", "strict=true"])),
        want(&[("KG201", "main.tf", 17)])
    );
    assert_eq!(found(&check_args(d.path(), &["--var", "strict=false"])), want(&[]));
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 8)]), "{doc:#}");
    assert!(
        messages(&doc, "KG901")[0].contains("whether azurerm_network_security_rule.deny_kms exists is unknown"),
        "{doc:#}"
    );
}

const BICEP_GATED: &str = "param kmsRoutes array
param withSecond bool
resource rt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-hub'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: { addressPrefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.0.1.4' }
      }
    ]
  }
}
resource kms 'Microsoft.Network/routeTables/routes@2023-04-01' = [for (r, i) in kmsRoutes: {
  parent: rt
  name: 'kms-${i}'
  properties: { addressPrefix: '20.118.99.224/32', nextHopType: 'Internet' }
}]
resource kms2 'Microsoft.Network/routeTables/routes@2023-04-01' = if (withSecond) {
  parent: rt
  name: 'kms-second'
  properties: { addressPrefix: '40.83.235.53/32', nextHopType: 'Internet' }
}
";

#[test]
fn bicep_child_routes_over_an_unknown_loop_or_condition_are_a_note() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.bicep", BICEP_GATED);
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 15)]), "{doc:#}");
    let note = &messages(&doc, "KG901")[0];
    assert!(note.contains("whether kms exists is unknown"), "{note}");
    // Known both ways.
    write(
        d.path(),
        "main.bicepparam",
        "using 'main.bicep'\nparam kmsRoutes = ['a']\nparam withSecond = true\n",
    );
    assert_eq!(found(&check(d.path())), want(&[]));
    write(
        d.path(),
        "main.bicepparam",
        "using 'main.bicep'\nparam kmsRoutes = []\nparam withSecond = false\n",
    );
    assert_eq!(found(&check(d.path())), want(&[("KG101", "main.bicep", 10)]));
}

#[test]
fn arm_child_routes_under_an_unknown_copy_count_are_a_note() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "azuredeploy.json",
        r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": { "n": { "type": "int" } },
  "resources": [
    { "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "rt-hub", "location": "westeurope",
      "properties": { "routes": [ { "name": "default", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4" } } ] } },
    { "type": "Microsoft.Network/routeTables/routes", "apiVersion": "2023-04-01", "name": "rt-hub/kms-1",
      "copy": { "name": "k1", "count": "[parameters('n')]" },
      "properties": { "addressPrefix": "20.118.99.224/32", "nextHopType": "Internet" } },
    { "type": "Microsoft.Network/routeTables/routes", "apiVersion": "2023-04-01", "name": "rt-hub/kms-2",
      "copy": { "name": "k2", "count": "[parameters('n')]" },
      "properties": { "addressPrefix": "40.83.235.53/32", "nextHopType": "Internet" } }
  ]
}
"#,
    );
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "azuredeploy.json", 9)]), "{doc:#}");
    assert!(messages(&doc, "KG901")[0].contains("the copy count is unknown"), "{doc:#}");
    let params = |n: u32| {
        format!(
            r#"{{"$schema":"https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#","contentVersion":"1.0.0.0","parameters":{{"n":{{"value":{n}}}}}}}"#
        )
    };
    write(d.path(), "azuredeploy.parameters.json", &params(1));
    assert_eq!(found(&check(d.path())), want(&[]));
    write(d.path(), "azuredeploy.parameters.json", &params(0));
    assert_eq!(found(&check(d.path())), want(&[("KG101", "azuredeploy.json", 7)]));
}

// ---------------------------------------------------------------------------
// Virtual network peerings through AVM modules (KG104).

const BICEP_PEERED: &str = "param useHubGateway bool
param hubTransit bool = true
param reverse bool = true

module hub 'br/public:avm/res/network/virtual-network:0.5.1' = {
  name: 'hub'
  params: {
    name: 'vnet-hub'
    addressPrefixes: ['10.0.0.0/16']
    subnets: [
      { name: 'GatewaySubnet', addressPrefix: '10.0.255.0/27' }
    ]
  }
}

resource ergw 'Microsoft.Network/virtualNetworkGateways@2023-04-01' = {
  name: 'ergw-hub'
  location: 'westeurope'
  properties: {
    gatewayType: 'ExpressRoute'
    ipConfigurations: [
      {
        name: 'default'
        properties: { subnet: { id: '${hub.outputs.resourceId}/subnets/GatewaySubnet' } }
      }
    ]
  }
}

module spoke 'br/public:avm/res/network/virtual-network:0.5.1' = {
  name: 'spoke'
  params: {
    name: 'vnet-spoke'
    addressPrefixes: ['10.1.0.0/16']
    subnets: [
      { name: 'snet-workload', addressPrefix: '10.1.1.0/24' }
    ]
    peerings: [
      {
        remoteVirtualNetworkResourceId: hub.outputs.resourceId
        useRemoteGateways: useHubGateway
        remotePeeringEnabled: reverse
        remotePeeringAllowGatewayTransit: hubTransit
      }
    ]
  }
}
";

fn bicep_peered(params: &str) -> Value {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.bicep", BICEP_PEERED);
    if !params.is_empty() {
        write(d.path(), "main.bicepparam", &format!("using 'main.bicep'\n{params}"));
    }
    check(d.path())
}

#[test]
fn bicep_avm_peering_that_uses_the_hub_gateway_exposes_the_spoke() {
    let doc = bicep_peered("param useHubGateway = true\n");
    assert_eq!(found(&doc), want(&[("KG104", "main.bicep", 36)]), "{doc:#}");
    assert!(messages(&doc, "KG104")[0].contains("ergw-hub"), "{doc:#}");
    // Not using the gateway, or the hub side (the module's reverse peering)
    // not allowing transit: nothing is learned.
    assert_eq!(found(&bicep_peered("param useHubGateway = false\n")), want(&[]));
    assert_eq!(
        found(&bicep_peered("param useHubGateway = true\nparam hubTransit = false\n")),
        want(&[])
    );
    // No reverse peering in the code: the hub side may allow transit (as for
    // a peering written as a resource).
    assert_eq!(
        found(&bicep_peered(
            "param useHubGateway = true\nparam hubTransit = false\nparam reverse = false\n"
        )),
        want(&[("KG104", "main.bicep", 36)])
    );
}

#[test]
fn bicep_avm_peering_with_unknown_flags_is_a_note() {
    let doc = bicep_peered("");
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 41)]), "{doc:#}");
    assert!(messages(&doc, "KG901")[0].contains("useRemoteGateways is unknown"), "{doc:#}");
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.bicep",
        &BICEP_PEERED.replace("param reverse bool = true", "param reverse bool"),
    );
    write(d.path(), "main.bicepparam", "using 'main.bicep'\nparam useHubGateway = true\n");
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 42)]), "{doc:#}");
    assert!(
        messages(&doc, "KG901")[0].contains("whether the reverse peering is created is unknown"),
        "{doc:#}"
    );
}

const TF_HUB: &str = r#"module "hub" {
  source  = "Azure/avm-res-network-virtualnetwork/azurerm"
  version = "0.8.1"

  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  address_space       = ["10.0.0.0/16"]
  subnets = {
    gateway = { name = "GatewaySubnet", address_prefixes = ["10.0.255.0/27"] }
  }
}

resource "azurerm_virtual_network_gateway" "er" {
  name                = "ergw-hub"
  location            = "westeurope"
  resource_group_name = "rg-hub"
  type                = "ExpressRoute"
  sku                 = "Standard"

  ip_configuration {
    public_ip_address_id = "pip"
    subnet_id            = "${module.hub.resource_id}/subnets/GatewaySubnet"
  }
}
"#;

#[test]
fn terraform_avm_vnet_peerings_and_their_reverse_decide_kg104() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        &format!(
            r#"{TF_HUB}variable "use_gateway" {{ type = bool }}
module "spoke" {{
  source  = "Azure/avm-res-network-virtualnetwork/azurerm"
  version = "0.8.1"

  name                = "vnet-spoke"
  location            = "westeurope"
  resource_group_name = "rg-spoke"
  address_space       = ["10.1.0.0/16"]
  subnets = {{
    app = {{ name = "snet-app", address_prefixes = ["10.1.1.0/24"] }}
  }}
  peerings = {{
    to_hub = {{
      name                               = "spoke-to-hub"
      remote_virtual_network_resource_id = module.hub.resource_id
      use_remote_gateways                = var.use_gateway
      create_reverse_peering             = true
      reverse_name                       = "hub-to-spoke"
      reverse_allow_gateway_transit      = true
    }}
  }}
}}
"#
        ),
    );
    let doc = check_args(d.path(), &["--var", "use_gateway=true"]);
    assert_eq!(found(&doc), want(&[("KG104", "main.tf", 36)]), "{doc:#}");
    assert_eq!(found(&check_args(d.path(), &["--var", "use_gateway=false"])), want(&[]));
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 42)]), "{doc:#}");
}

#[test]
fn terraform_subnet_and_peering_submodules_in_both_interfaces() {
    for (version, parent, remote) in [
        (
            "0.12.0",
            "parent_id = module.spoke.resource_id",
            "remote_virtual_network_id = module.hub.resource_id",
        ),
        (
            "0.8.1",
            "virtual_network = { resource_id = module.spoke.resource_id }",
            "remote_virtual_network = { resource_id = module.hub.resource_id }",
        ),
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        let text = format!(
            r#"{TF_HUB}variable "use_gateway" {{ type = bool }}
module "spoke" {{
  source              = "Azure/avm-res-network-virtualnetwork/azurerm"
  version             = "0.8.1"
  name                = "vnet-spoke"
  location            = "westeurope"
  resource_group_name = "rg-spoke"
  address_space       = ["10.1.0.0/16"]
}}
module "app" {{
  source           = "Azure/avm-res-network-virtualnetwork/azurerm//modules/subnet"
  version          = "{version}"
  name             = "snet-app"
  address_prefixes = ["10.1.1.0/24"]
  {parent}
}}
module "to_hub" {{
  source                        = "Azure/avm-res-network-virtualnetwork/azurerm//modules/peering"
  version                       = "{version}"
  name                          = "spoke-to-hub"
  use_remote_gateways           = var.use_gateway
  create_reverse_peering        = true
  reverse_name                  = "hub-to-spoke"
  reverse_allow_gateway_transit = true
  {parent}
  {remote}
}}
"#
        );
        write(d.path(), "main.tf", &text);
        let doc = check_args(d.path(), &["--var", "use_gateway=true"]);
        assert_eq!(found(&doc), want(&[("KG104", "main.tf", 35)]), "{version}: {doc:#}");
        assert_eq!(
            found(&check_args(d.path(), &["--var", "use_gateway=false"])),
            want(&[]),
            "{version}"
        );
        let doc = check(d.path());
        assert_eq!(found(&doc), want(&[("KG901", "main.tf", 46)]), "{version}: {doc:#}");
        // The hub side refusing transit: the spoke learns nothing.
        write(
            d.path(),
            "main.tf",
            &text.replace("reverse_allow_gateway_transit = true", "reverse_allow_gateway_transit = false"),
        );
        assert_eq!(found(&check_args(d.path(), &["--var", "use_gateway=true"])), want(&[]), "{version}");
    }
}

// ---------------------------------------------------------------------------
// The hub-networking patterns.

fn related_lines(doc: &Value) -> Vec<u64> {
    doc["findings"][0]["related"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["line"].as_u64()).collect())
        .unwrap_or_default()
}

#[test]
fn example_40_bicep_hub_networking_broken_and_fixed() {
    let doc = check(Path::new("examples/40-avm-bicep-hub-networking/broken"));
    assert_eq!(found(&doc), want(&[("KG101", "main.bicep", 20)]), "{doc:#}");
    assert!(messages(&doc, "KG101")[0].contains("route table rt-hub-weu"), "{doc:#}");
    // The hub's entry, and the call.
    assert_eq!(related_lines(&doc), vec![8, 4]);
    assert_eq!(found(&check(Path::new("examples/40-avm-bicep-hub-networking/fixed"))), want(&[]));
}

#[test]
fn example_41_terraform_hub_networking_broken_and_fixed() {
    let doc = check(Path::new("examples/41-avm-terraform-hub-networking/broken"));
    // The pattern's own default route, at the input that makes it: the hub's router.
    assert_eq!(found(&doc), want(&[("KG101", "main.tf", 14)]), "{doc:#}");
    assert!(messages(&doc, "KG101")[0].contains("route table rt-user-subnets-weu"), "{doc:#}");
    // The hub, the subnet the pattern gives the table, and the call.
    assert_eq!(related_lines(&doc), vec![9, 17, 4]);
    assert_eq!(
        found(&check(Path::new("examples/41-avm-terraform-hub-networking/fixed"))),
        want(&[])
    );
}

const TF_PATTERN: &str = r#"variable "router" { type = string }
module "hubs" {
  source  = "Azure/avm-ptn-hubnetworking/azurerm"
  version = "VERSION"
  hub_virtual_networks = {
    weu = {
      name                  = "vnet-hub-weu"
      address_space         = ["10.0.0.0/16"]
      location              = "westeurope"
      parent_id             = "/subscriptions/x/resourceGroups/rg"
      hub_router_ip_address = var.router
      subnets = {
        shared = { name = "snet-shared", address_prefixes = ["10.0.1.0/24"] }
        own = {
          name             = "snet-own"
          address_prefixes = ["10.0.2.0/24"]
          route_table      = { assign_generated_route_table = false, id = azurerm_route_table.own.id }
        }
      }
    }
  }
}
resource "azurerm_route_table" "own" {
  name                = "rt-own"
  location            = "westeurope"
  resource_group_name = "rg"
}
"#;

fn tf_pattern(version: &str, args: &[&str]) -> Value {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.tf", &TF_PATTERN.replace("VERSION", version));
    check_args(d.path(), args)
}

#[test]
fn terraform_pattern_router_hub_true_false_and_unknown() {
    // A router: its default route, no KMS route.
    let doc = tf_pattern("0.13.2", &["--var", "router=10.0.0.4"]);
    assert_eq!(found(&doc), want(&[("KG101", "main.tf", 11)]), "{doc:#}");
    // The subnet that opted out keeps its own (empty) table: only the
    // pattern's table is flagged, and it names snet-shared alone.
    let related: Vec<String> = doc["findings"][0]["related"]
        .as_array()
        .expect("related")
        .iter()
        .filter_map(|r| r["message"].as_str().map(String::from))
        .collect();
    assert!(related.iter().any(|m| m.contains("snet-shared")), "{related:?}");
    assert!(!related.iter().any(|m| m.contains("snet-own")), "{related:?}");
    // No router and no firewall: the pattern writes no route table.
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        &TF_PATTERN
            .replace("VERSION", "0.13.2")
            .replace("      hub_router_ip_address = var.router\n", ""),
    );
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    // Unknown: the table exists only if the router is set, as for a count-gated table.
    let doc = tf_pattern("0.13.2", &[]);
    let msgs = messages(&doc, "KG101");
    assert_eq!(msgs.len(), 1, "{doc:#}");
    assert!(msgs[0].contains("if it is created"), "{}", msgs[0]);
    // Every version from 0.4.0 is read the same way; before, not at all.
    assert_eq!(
        found(&tf_pattern("0.4.0", &["--var", "router=10.0.0.4"])),
        want(&[("KG101", "main.tf", 11)])
    );
    let doc = tf_pattern("0.3.0", &["--var", "router=10.0.0.4"]);
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 3)]), "{doc:#}");
    assert!(
        messages(&doc, "KG901")[0].contains("not among the versions kmsguard reads"),
        "{doc:#}"
    );
}

#[test]
fn terraform_pattern_firewall_hub_and_unknown_hubs_are_notes() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        r#"variable "hubs" { type = any }
module "hubs" {
  source  = "Azure/avm-ptn-hubnetworking/azurerm"
  version = "0.13.2"
  hub_virtual_networks = {
    fw = {
      name          = "vnet-hub"
      address_space = ["10.2.0.0/16"]
      location      = "westeurope"
      parent_id     = "/subscriptions/x/resourceGroups/rg"
      firewall = {
        sku_name              = "AZFW_VNet"
        sku_tier              = "Standard"
        subnet_address_prefix = "10.2.0.0/26"
      }
      subnets = {
        app = { name = "snet-app", address_prefixes = ["10.2.1.0/24"] }
      }
    }
  }
}
module "from_a_variable" {
  source               = "Azure/avm-ptn-hubnetworking/azurerm"
  version              = "0.13.2"
  hub_virtual_networks = var.hubs
}
"#,
    );
    let doc = check(d.path());
    // The user subnets go through the firewall, whose rules live in a policy
    // the pattern does not take: undecidable. The unknown hubs: not checked.
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 11), ("KG901", "main.tf", 25)]), "{doc:#}");
    let notes = messages(&doc, "KG901");
    assert!(
        notes[0].contains("firewall fw-fw") && notes[0].contains("network rules"),
        "{notes:?}"
    );
    assert!(
        notes[1].contains("module.from_a_variable is not checked: its hubs are unknown"),
        "{notes:?}"
    );
}

#[test]
fn bicep_pattern_versions_name_the_table_and_unknown_routes_are_a_note() {
    let text = fs::read_to_string("examples/40-avm-bicep-hub-networking/broken/main.bicep").expect("example");
    // Before 0.3.0 the table is named by the hub's key (routeTableName is not an input then).
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.bicep",
        &text
            .replace("hub-networking:0.5.0", "hub-networking:0.2.4")
            .replace("        routeTableName: 'rt-hub-weu'\n", "")
            .replace("        routeTableName: 'rt-hub-neu'\n", ""),
    );
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG101", "main.bicep", 19)]), "{doc:#}");
    assert!(messages(&doc, "KG101")[0].contains("route table hub-weu "), "{doc:#}");
    // Routes from an unknown parameter: a note, not a guess.
    let d = tempfile::tempdir().expect("tempdir");
    let start = text.find("        routes: [").expect("routes");
    let end = start + text[start..].find("\n        ]\n").expect("end") + "\n        ]\n".len();
    write(
        d.path(),
        "main.bicep",
        &format!(
            "param hubRoutes array\n{}        routes: hubRoutes\n{}",
            &text[..start],
            &text[end..]
        ),
    );
    let doc = check(d.path());
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 17)]), "{doc:#}");
}

/// Whether a Bicep hub has an Azure Firewall decides where its routes go;
/// an unknown `enableAzureFirewall` is a note on that hub, never read as
/// "no firewall". A hub that says false, or leaves it out, is judged.
#[test]
fn bicep_pattern_hub_with_an_unknown_firewall_switch_is_a_note() {
    let text = fs::read_to_string("examples/40-avm-bicep-hub-networking/broken/main.bicep").expect("example");
    let d = tempfile::tempdir().expect("tempdir");
    let first = text.find("        enableAzureFirewall: false\n").expect("switch");
    let unknown = format!(
        "param weuFirewall bool\n{}        enableAzureFirewall: weuFirewall\n{}",
        &text[..first],
        &text[first + "        enableAzureFirewall: false\n".len()..]
    );
    write(d.path(), "main.bicep", &unknown);
    let doc = check(d.path());
    let notes = messages(&doc, "KG901");
    assert!(
        notes
            .iter()
            .any(|m| m.contains("whether hub hub-weu has an Azure Firewall is unknown")),
        "{doc:#}"
    );
    assert!(
        messages(&doc, "KG101").is_empty(),
        "no verdict on the hub with the unknown switch: {doc:#}"
    );
    // Left out: the pattern deploys no firewall, and the hub is judged.
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.bicep", &text.replace("        enableAzureFirewall: false\n", ""));
    assert_eq!(found(&check(d.path())), want(&[("KG101", "main.bicep", 19)]));
}

// ---------------------------------------------------------------------------
// Route table modules associating subnets by id (Terraform subnet_resource_ids).

const TF_ASSOCIATED: &str = r#"variable "propagate" { type = bool }
module "vnet" {
  source              = "Azure/avm-res-network-virtualnetwork/azurerm"
  version             = "0.8.1"
  name                = "vnet-hub"
  location            = "westeurope"
  resource_group_name = "rg"
  address_space       = ["10.0.0.0/16"]
  subnets = {
    gw  = { name = "GatewaySubnet", address_prefixes = ["10.0.255.0/27"] }
    app = { name = "snet-app", address_prefixes = ["10.0.1.0/24"] }
  }
}
resource "azurerm_virtual_network_gateway" "er" {
  name                = "ergw-hub"
  location            = "westeurope"
  resource_group_name = "rg"
  type                = "ExpressRoute"
  sku                 = "Standard"
  ip_configuration {
    public_ip_address_id = "pip"
    subnet_id            = "${module.vnet.resource_id}/subnets/GatewaySubnet"
  }
}
module "rt" {
  source                        = "Azure/avm-res-network-routetable/azurerm"
  version                       = "VERSION"
  name                          = "rt-app"
  location                      = "westeurope"
  resource_group_name           = "rg"
  PROPAGATION
  subnet_resource_ids           = IDS
}
"#;

const APP_ID: &str = r#""/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/snet-app""#;

fn tf_associated(version: &str, propagation: &str, ids: &str, args: &[&str]) -> Value {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        &TF_ASSOCIATED
            .replace("VERSION", version)
            .replace("PROPAGATION", propagation)
            .replace("IDS", ids),
    );
    check_args(d.path(), args)
}

#[test]
fn a_subnet_associated_by_id_uses_the_module_table() {
    let map = format!("{{ app = {APP_ID} }}");
    let on = "bgp_route_propagation_enabled = var.propagate";
    // Propagation off in the associated table: the subnet learns nothing.
    assert_eq!(found(&tf_associated("0.4.1", on, &map, &["--var", "propagate=false"])), want(&[]));
    // On: the subnet is exposed, and the finding names its table.
    let doc = tf_associated("0.4.1", on, &map, &["--var", "propagate=true"]);
    assert_eq!(found(&doc), want(&[("KG104", "main.tf", 11)]), "{doc:#}");
    assert!(messages(&doc, "KG104")[0].contains("rt-app"), "{doc:#}");
    // Unknown: a note.
    let doc = tf_associated("0.4.1", on, &map, &[]);
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 31)]), "{doc:#}");
    // 0.1.0 took a list, and named propagation the other way round.
    let doc = tf_associated(
        "0.1.0",
        "disable_bgp_route_propagation = !var.propagate",
        &format!("[{APP_ID}]"),
        &["--var", "propagate=false"],
    );
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    // Another network's subnet of the same name is not this one.
    let other = format!("{{ app = {} }}", APP_ID.replace("vnet-hub", "vnet-other"));
    let doc = tf_associated("0.4.1", on, &other, &["--var", "propagate=false"]);
    assert_eq!(found(&doc), want(&[("KG104", "main.tf", 11)]), "{doc:#}");
    assert!(messages(&doc, "KG104")[0].contains("has no route table"), "{doc:#}");
}

// ---------------------------------------------------------------------------
// The hub patterns' firewalls and the AVM firewall policy modules: a hub
// firewall naming a policy is judged by that policy's network rules (KG301),
// as a firewall resource or AVM firewall call is.

const TF_HUB_POLICY: &str = r#"variable "policy_id" { type = string }
module "policy" {
  source              = "Azure/avm-res-network-firewallpolicy/azurerm"
  version             = "0.3.3"
  name                = "afwp-hub"
  location            = "westeurope"
  resource_group_name = "rg"
}
module "egress" {
  source                                                   = "Azure/avm-res-network-firewallpolicy/azurerm//modules/rule_collection_groups"
  version                                                  = "0.3.3"
  firewall_policy_rule_collection_group_name               = "egress"
  firewall_policy_rule_collection_group_firewall_policy_id = module.policy.resource_id
  firewall_policy_rule_collection_group_priority           = 200
  firewall_policy_rule_collection_group_network_rule_collection = [{
    name     = "egress"
    priority = 100
    action   = "Allow"
    rule = [{
      name                  = "out"
      protocols             = ["TCP"]
      source_addresses      = ["10.0.0.0/8"]
      destination_addresses = ["*"]
      destination_ports     = ["PORTS"]
    }]
  }]
}
module "hubs" {
  source  = "Azure/avm-ptn-hubnetworking/azurerm"
  version = "0.13.2"
  hub_virtual_networks = {
    weu = {
      name          = "vnet-hub"
      address_space = ["10.2.0.0/16"]
      location      = "westeurope"
      parent_id     = "/subscriptions/x/resourceGroups/rg"
      firewall = {
        sku_name              = "AZFW_VNet"
        sku_tier              = "Standard"
        subnet_address_prefix = "10.2.0.0/26"
        firewall_policy_id    = POLICY
      }
      subnets = {
        app = { name = "snet-app", address_prefixes = ["10.2.1.0/24"] }
      }
    }
  }
}
"#;

fn tf_hub_policy(ports: &str, policy: &str) -> Value {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.tf",
        &TF_HUB_POLICY.replace("PORTS", ports).replace("POLICY", policy),
    );
    check(d.path())
}

#[test]
fn terraform_hub_firewall_is_judged_by_the_avm_policy_it_names() {
    // The policy lets only HTTPS out: the pattern's 0.0.0.0/0 to the hub
    // firewall drops KMS traffic.
    let doc = tf_hub_policy("443", "module.policy.resource_id");
    assert_eq!(found(&doc), want(&[("KG301", "main.tf", 37)]), "{doc:#}");
    assert!(messages(&doc, "KG301")[0].contains("Azure Firewall fw-weu"), "{doc:#}");
    // It lets TCP 1688 out: nothing to report.
    let doc = tf_hub_policy("1688", "module.policy.resource_id");
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    // A policy that is not in the code checked: a note, never a guess.
    let doc = tf_hub_policy(
        "1688",
        "\"/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/other\"",
    );
    // The note points at the policy the firewall names.
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 41)]), "{doc:#}");
    assert!(messages(&doc, "KG901")[0].contains("policy is not in the code checked"), "{doc:#}");
    // A policy id kmsguard cannot evaluate: a note too.
    let doc = tf_hub_policy("1688", "var.policy_id");
    assert_eq!(found(&doc), want(&[("KG901", "main.tf", 41)]), "{doc:#}");
    assert!(messages(&doc, "KG901")[0].contains("policy is unknown"), "{doc:#}");
}

const BICEP_HUB_POLICY: &str = r#"module policy 'br/public:avm/res/network/firewall-policy:0.3.1' = {
  name: 'policy'
  params: {
    name: 'afwp-hub'
    ruleCollectionGroups: [
      {
        name: 'egress'
        priority: 200
        ruleCollections: [
          {
            name: 'egress'
            priority: 100
            ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
            action: { type: 'Allow' }
            rules: [
              {
                name: 'out'
                ruleType: 'NetworkRule'
                ipProtocols: [ 'TCP' ]
                sourceAddresses: [ '10.0.0.0/8' ]
                destinationAddresses: [ '*' ]
                destinationPorts: [ 'PORTS' ]
              }
            ]
          }
        ]
      }
    ]
  }
}
module hubs 'br/public:avm/ptn/network/hub-networking:0.5.0' = {
  name: 'hub-networking'
  params: {
    hubVirtualNetworks: {
      'hub-weu': {
        addressPrefixes: [ '10.0.0.0/16' ]
        enableAzureFirewall: true
        azureFirewallSettings: {
          azureFirewallName: 'afw-weu'
          firewallPolicyId: POLICY
        }
        enablePeering: true
        peeringSettings: [
          { remoteVirtualNetworkName: 'hub-pub', allowForwardedTraffic: true }
        ]
        routeTableName: 'rt-hub-weu'
        subnets: [
          { name: 'AzureFirewallSubnet', addressPrefix: '10.0.0.0/26' }
        ]
      }
      'hub-pub': {
        addressPrefixes: [ '20.0.0.0/8' ]
        enableAzureFirewall: false
        routeTableName: 'rt-hub-pub'
      }
    }
  }
}
"#;

fn bicep_hub_policy(ports: &str, policy: &str) -> Value {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "main.bicep",
        &BICEP_HUB_POLICY.replace("PORTS", ports).replace("POLICY", policy),
    );
    check(d.path())
}

#[test]
fn bicep_hub_firewall_is_judged_by_the_avm_policy_it_names() {
    // The route the pattern writes to the peered hub (20.0.0.0/8, which
    // holds a KMS address) goes through the hub's firewall, whose policy
    // lets only HTTPS out.
    let doc = bicep_hub_policy("443", "policy.outputs.resourceId");
    assert_eq!(found(&doc), want(&[("KG301", "main.bicep", 44)]), "{doc:#}");
    assert!(messages(&doc, "KG301")[0].contains("Azure Firewall afw-weu"), "{doc:#}");
    let doc = bicep_hub_policy("1688", "policy.outputs.resourceId");
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    let doc = bicep_hub_policy(
        "1688",
        "'/subscriptions/x/resourceGroups/rg/providers/Microsoft.Network/firewallPolicies/other'",
    );
    // The note points at the policy the firewall names.
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 40)]), "{doc:#}");
    assert!(messages(&doc, "KG901")[0].contains("policy is not in the code checked"), "{doc:#}");
    // '' is the module's "no policy": a firewall with no rules at all is a
    // note at its settings, as for any firewall whose rules are elsewhere.
    let doc = bicep_hub_policy("1688", "''");
    assert_eq!(found(&doc), want(&[("KG901", "main.bicep", 38)]), "{doc:#}");
    assert!(
        messages(&doc, "KG901")[0].contains("none of the firewall's network rules"),
        "{doc:#}"
    );
}
