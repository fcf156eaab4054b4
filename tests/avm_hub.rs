//! Hub networking through Azure Verified Modules: virtual network peerings
//! and subnets (Bicep and Terraform, with the Terraform submodules), route
//! tables associated by subnet id, the hub-networking patterns, and routes
//! or rules that exist only under a condition kmsguard cannot decide (an
//! unknown count, for_each, `if`, loop or copy count), which make their
//! table's or NSG's verdict unknown instead of being counted as present.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn check_args(path: &Path, args: &[&str]) -> Value {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("check")
        .arg(path)
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    serde_json::from_slice(&out.stdout).expect("stdout is the JSON report")
}

fn check(path: &Path) -> Value {
    check_args(path, &[])
}

/// (rule, file name, line) of every finding.
fn found(doc: &Value) -> Vec<(String, String, u64)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            let name = Path::new(file).file_name().and_then(|n| n.to_str()).unwrap_or_default();
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                name.to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn messages(doc: &Value, rule: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect()
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
