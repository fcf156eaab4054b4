//! Azure Verified Modules for Azure Firewall, firewall policies and virtual
//! network gateways, read without downloading them: a route whose next hop
//! reads an AVM firewall's output is judged by the firewall's (policy's)
//! network rules (KG301, KG101), and an AVM gateway that brings a default
//! route in exposes the subnets it reaches (KG104). Facts that decide and
//! are not known are KG901 notes, never guesses.
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

fn check(path: &Path) -> (Value, i32) {
    common::check_report(path, &[])
}

fn rules(doc: &Value) -> Vec<String> {
    found(doc).into_iter().map(|(r, _, _)| r).collect()
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

fn one_file(name: &str, text: &str) -> (Value, i32) {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join(name), text).expect("write");
    check(d.path())
}

/// The line (1-based) of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).map(|i| i as u64 + 1).expect("needle")
}

#[test]
fn bicep_example_points_at_the_next_hop_and_the_subnet_with_the_calls_related() {
    let (doc, code) = check(Path::new("examples/32-avm-bicep-firewall-gateway/broken"));
    assert_eq!(
        found(&doc),
        want(&[("KG104", "main.bicep", 13), ("KG301", "main.bicep", 78)]),
        "{doc:#}"
    );
    assert_eq!(code, 1);
    let kg104 = &doc["findings"][0];
    // The gateway's cluster mode is what makes it bring routes in.
    assert_eq!(related_lines(kg104), vec![63], "{kg104:#}");
    let kg301 = &doc["findings"][1];
    assert_eq!(kg301["resource"], "routeTable");
    // The firewall call and the route table call.
    let related = related_lines(kg301);
    assert!(related.contains(&49) && related.contains(&68), "{kg301:#}");
    assert!(messages(&doc, "KG301")[0].contains("afw-hub"), "{doc:#}");
}

#[test]
fn terraform_example_points_at_the_next_hop_and_the_subnet_with_the_calls_related() {
    let (doc, code) = check(Path::new("examples/33-avm-terraform-firewall-gateway/broken"));
    assert_eq!(found(&doc), want(&[("KG104", "main.tf", 13), ("KG301", "main.tf", 90)]), "{doc:#}");
    assert_eq!(code, 1);
    assert_eq!(related_lines(&doc["findings"][0]), vec![72], "{doc:#}");
    let kg301 = &doc["findings"][1];
    assert_eq!(kg301["resource"], "module.rt");
    let related = related_lines(kg301);
    assert!(related.contains(&54) && related.contains(&78), "{kg301:#}");
}

#[test]
fn fixed_examples_are_clean_and_without_notes() {
    for dir in [
        "examples/32-avm-bicep-firewall-gateway/fixed",
        "examples/33-avm-terraform-firewall-gateway/fixed",
    ] {
        let (doc, code) = check(Path::new(dir));
        assert_eq!(found(&doc), want(&[]), "{dir}: {doc:#}");
        assert_eq!(code, 0, "{dir}");
    }
}

/// A spoke table whose default route reads the firewall call's output, and
/// the firewall with `FW` in its params.
fn bicep_firewall(version: &str, fw: &str, next_hop: &str) -> String {
    format!(
        "param fwName string = 'afw-hub'

module firewall 'br/public:avm/res/network/azure-firewall:{version}' = {{
  name: 'firewall'
  params: {{
    name: fwName
    virtualNetworkResourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet-hub'
{fw}
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
          nextHopIpAddress: {next_hop}
        }}
      }}
    ]
  }}
}}
"
    )
}

const CLASSIC_RULES: &str = "    networkRuleCollections: [
      {
        name: 'egress'
        properties: {
          priority: 100
          action: { type: 'Allow' }
          rules: [
            {
              name: 'PORTS'
              protocols: [ 'TCP' ]
              sourceAddresses: [ '10.0.0.0/8' ]
              destinationAddresses: [ '20.118.99.224', '40.83.235.53' ]
              destinationPorts: [ 'PORT' ]
            }
          ]
        }
      }
    ]";

#[test]
fn classic_rule_collections_of_every_era_decide_for_a_resource_route_table() {
    // 0.1.1 typed the collections `array`, 0.6.1 and 0.10.0 changed the type:
    // the REST shape is the same.
    for version in ["0.1.1", "0.5.0", "0.6.1", "0.9.2", "0.11.1"] {
        let allows = bicep_firewall(version, &CLASSIC_RULES.replace("PORT", "1688"), "firewall.outputs.privateIp");
        let (doc, code) = one_file("main.bicep", &allows);
        assert_eq!(found(&doc), want(&[]), "{version}: {doc:#}");
        assert_eq!(code, 0);
        let https = bicep_firewall(version, &CLASSIC_RULES.replace("PORT", "443"), "firewall.outputs.privateIp");
        let (doc, _) = one_file("main.bicep", &https);
        assert_eq!(
            found(&doc),
            want(&[("KG301", "main.bicep", line_of(&https, "nextHopIpAddress"))]),
            "{version}: {doc:#}"
        );
    }
}

#[test]
fn a_pinned_private_address_links_a_literal_next_hop_and_another_output_does_not() {
    // 0.11 takes the private address; a literal next hop equal to it goes
    // through the firewall, which allows only HTTPS here.
    let fw = format!(
        "    firewallPrivateIpAddress: '10.0.254.4'\n{}",
        CLASSIC_RULES.replace("PORT", "443")
    );
    let text = bicep_firewall("0.11.1", &fw, "'10.0.254.4'");
    let (doc, _) = one_file("main.bicep", &text);
    assert_eq!(rules(&doc), vec!["KG301"], "{doc:#}");
    // Before 0.11 the address is Azure's: a literal next hop is an appliance
    // kmsguard cannot see into (KG101), not this firewall.
    let text = bicep_firewall("0.9.2", &CLASSIC_RULES.replace("PORT", "443"), "'10.0.254.4'");
    let (doc, _) = one_file("main.bicep", &text);
    assert_eq!(rules(&doc), vec!["KG101"], "{doc:#}");
    // An output that is not the private address is not a firewall link.
    let text = bicep_firewall("0.9.2", &CLASSIC_RULES.replace("PORT", "443"), "firewall.outputs.name");
    let (doc, _) = one_file("main.bicep", &text);
    assert_eq!(rules(&doc), vec!["KG101"], "{doc:#}");
}

fn bicep_policy(groups: &str, proxy: &str) -> String {
    format!(
        "param groups array = []

module policy 'br/public:avm/res/network/firewall-policy:0.3.4' = {{
  name: 'policy'
  params: {{
    name: 'afwp-hub'
    enableProxy: {proxy}
    ruleCollectionGroups: {groups}
  }}
}}

module firewall 'br/public:avm/res/network/azure-firewall:0.9.2' = {{
  name: 'firewall'
  params: {{
    name: 'afw-hub'
    firewallPolicyId: policy.outputs.resourceId
  }}
}}

module rt 'br/public:avm/res/network/route-table:0.4.1' = {{
  name: 'rt'
  params: {{
    name: 'rt-spoke'
    routes: [
      {{
        name: 'default'
        properties: {{
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: firewall.outputs.privateIp
        }}
      }}
    ]
  }}
}}
"
    )
}

const FQDN_GROUP: &str = "[
      {
        name: 'egress'
        priority: 100
        ruleCollections: [
          {
            name: 'kms'
            priority: 100
            ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
            action: { type: 'Allow' }
            rules: [
              {
                name: 'kms'
                ruleType: 'NetworkRule'
                ipProtocols: [ 'TCP' ]
                sourceAddresses: [ '*' ]
                destinationFqdns: [ 'azkms.core.windows.net' ]
                destinationPorts: [ '1688' ]
              }
            ]
          }
        ]
      }
    ]";

#[test]
fn policy_fqdn_rules_count_only_with_the_policys_dns_proxy() {
    let (doc, code) = one_file("main.bicep", &bicep_policy(FQDN_GROUP, "true"));
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    assert_eq!(code, 0);
    let text = bicep_policy(FQDN_GROUP, "false");
    let (doc, _) = one_file("main.bicep", &text);
    assert_eq!(rules(&doc), vec!["KG301"], "{doc:#}");
}

#[test]
fn unknown_rule_collection_groups_are_a_note_not_a_verdict() {
    let (doc, code) = one_file("main.bicep", &bicep_policy("groups", "false"));
    let r = rules(&doc);
    assert!(!r.contains(&"KG301".to_string()) && !r.contains(&"KG101".to_string()), "{doc:#}");
    assert!(r.contains(&"KG901".to_string()), "{doc:#}");
    assert!(
        messages(&doc, "KG901").iter().any(|m| m.contains("rule collection groups")),
        "{doc:#}"
    );
    assert_eq!(code, 0);
}

const TF_SPOKE: &str = r#"
module "firewall" {
  source             = "Azure/avm-res-network-azurefirewall/azurerm"
  version            = "0.3.0"
  name               = "afw-hub"
  firewall_policy_id = module.policy.resource_id
}

resource "azurerm_route_table" "spoke" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-spoke"

  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = module.firewall.resource.ip_configuration[0].private_ip_address
  }
}
"#;

fn tf_policy(proxy: &str, policy_id: &str, collection: &str) -> String {
    format!(
        r#"variable "policy_id" {{
  type = string
}}

module "policy" {{
  source              = "Azure/avm-res-network-firewallpolicy/azurerm"
  version             = "0.2.3"
  name                = "afwp-hub"
  firewall_policy_dns = {{ proxy_enabled = {proxy} }}
}}

module "egress" {{
  source  = "Azure/avm-res-network-firewallpolicy/azurerm//modules/rule_collection_groups"
  version = "0.2.3"

  firewall_policy_rule_collection_group_name               = "egress"
  firewall_policy_rule_collection_group_firewall_policy_id = {policy_id}
  firewall_policy_rule_collection_group_priority           = 100
  firewall_policy_rule_collection_group_network_rule_collection = [{collection}]
}}
{TF_SPOKE}"#
    )
}

const TF_KMS_BY_NAME: &str = r#"{
    name     = "kms"
    priority = 100
    action   = "Allow"
    rule = [{
      name              = "kms"
      protocols         = ["TCP"]
      source_addresses  = ["*"]
      destination_fqdns = ["azkms.core.windows.net"]
      destination_ports = ["1688"]
    }]
  }"#;

const TF_DENY_KMS: &str = r#"{
    name     = "deny"
    priority = 100
    action   = "Deny"
    rule = [{
      name                  = "no-kms"
      protocols             = ["TCP"]
      source_addresses      = ["*"]
      destination_addresses = ["20.118.99.224", "40.83.235.53"]
      destination_ports     = ["1688"]
    }]
  }"#;

#[test]
fn terraform_rule_collection_group_calls_join_their_policy() {
    // By name, with the policy's DNS proxy on: allowed.
    let (doc, code) = one_file("main.tf", &tf_policy("true", "module.policy.resource_id", TF_KMS_BY_NAME));
    assert_eq!(found(&doc), want(&[]), "{doc:#}");
    assert_eq!(code, 0);
    // The same rule without DNS proxy does not match: the firewall denies.
    let text = tf_policy("false", "module.policy.resource_id", TF_KMS_BY_NAME);
    let (doc, _) = one_file("main.tf", &text);
    assert_eq!(
        found(&doc),
        want(&[("KG301", "main.tf", line_of(&text, "next_hop_in_ip_address"))]),
        "{doc:#}"
    );
    // An explicit deny.
    let (doc, _) = one_file("main.tf", &tf_policy("true", "module.policy.resource_id", TF_DENY_KMS));
    assert_eq!(rules(&doc), vec!["KG301"], "{doc:#}");
}

#[test]
fn a_rule_collection_group_of_an_unknown_policy_is_a_note() {
    let text = tf_policy("true", "var.policy_id", TF_KMS_BY_NAME);
    let (doc, _) = one_file("main.tf", &text);
    let r = rules(&doc);
    assert!(!r.contains(&"KG301".to_string()), "{doc:#}");
    assert!(
        found(&doc).contains(&(
            "KG901".to_string(),
            "main.tf".to_string(),
            line_of(&text, "firewall_policy_id = var.policy_id")
        )),
        "{doc:#}"
    );
}

fn bicep_gateway(version: &str, params: &str) -> String {
    format!(
        "param gatewayType string

resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {{
  name: 'vnet-hub'
  location: 'westeurope'
  properties: {{
    addressSpace: {{ addressPrefixes: [ '10.0.0.0/16' ] }}
    subnets: [
      {{ name: 'GatewaySubnet', properties: {{ addressPrefix: '10.0.255.0/27' }} }}
      {{ name: 'snet-app', properties: {{ addressPrefix: '10.0.1.0/24' }} }}
    ]
  }}
}}

module gateway 'br/public:avm/res/network/virtual-network-gateway:{version}' = {{
  name: 'gateway'
  params: {{
    name: 'vgw-hub'
{params}
  }}
}}
"
    )
}

#[test]
fn bicep_gateways_of_both_interfaces_expose_subnets_only_when_they_bring_a_default_route() {
    let cases: &[(&str, &str, bool)] = &[
        // Before 0.4.0: the enableBgp flag and vNetResourceId.
        ("0.3.0", "    gatewayType: 'Vpn'\n    enableBgp: true\n    vNetResourceId: vnet.id", true),
        ("0.3.0", "    gatewayType: 'Vpn'\n    enableBgp: false\n    vNetResourceId: vnet.id", false),
        ("0.4.1", "    gatewayType: 'Vpn'\n    clusterSettings: { clusterMode: 'activePassiveBgp' }\n    vNetResourceId: vnet.id", true),
        ("0.5.1", "    gatewayType: 'Vpn'\n    clusterSettings: { clusterMode: 'activeActiveNoBgp' }\n    vNetResourceId: vnet.id", false),
        ("0.5.1", "    gatewayType: 'Vpn'\n    clusterSettings: { clusterMode: 'activePassiveNoBgp' }\n    gatewayDefaultSiteLocalNetworkGatewayId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/localNetworkGateways/onprem'\n    vNetResourceId: vnet.id", true),
        // An empty id is the module's "none".
        ("0.6.3", "    gatewayType: 'Vpn'\n    clusterSettings: { clusterMode: 'activePassiveNoBgp' }\n    gatewayDefaultSiteLocalNetworkGatewayResourceId: ''\n    virtualNetworkResourceId: vnet.id", false),
        ("0.12.0", "    gatewayType: 'ExpressRoute'\n    clusterSettings: { clusterMode: 'activePassiveNoBgp' }\n    virtualNetworkResourceId: vnet.id", true),
    ];
    for (version, params, exposed) in cases {
        let text = bicep_gateway(version, params);
        let (doc, _) = one_file("main.bicep", &text);
        let want_found = if *exposed {
            want(&[("KG104", "main.bicep", line_of(&text, "snet-app"))])
        } else {
            want(&[])
        };
        assert_eq!(found(&doc), want_found, "{version} {params}: {doc:#}");
    }
}

#[test]
fn an_unknown_gateway_type_is_a_note_at_the_input() {
    let text = bicep_gateway(
        "0.6.3",
        "    gatewayType: gatewayType\n    clusterSettings: { clusterMode: 'activePassiveNoBgp' }\n    virtualNetworkResourceId: vnet.id",
    );
    let (doc, _) = one_file("main.bicep", &text);
    assert_eq!(
        found(&doc),
        want(&[("KG901", "main.bicep", line_of(&text, "gatewayType: gatewayType"))]),
        "{doc:#}"
    );
    assert!(messages(&doc, "KG901")[0].contains("gateway type"), "{doc:#}");
}

const TF_GATEWAY: &str = r#"variable "bgp" {
  type = bool
}

resource "azurerm_virtual_network" "hub" {
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
  source             = "Azure/avm-ptn-vnetgateway/azurerm"
  version            = "VERSION"
  name               = "vgw-hub"
  location           = "westeurope"
  virtual_network_id = azurerm_virtual_network.hub.id
PARAMS
}
"#;

#[test]
fn terraform_gateways_expose_subnets_only_when_they_bring_a_default_route() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        ("0.10.3", "  type = \"ExpressRoute\"", Some("KG104")),
        ("0.6.3", "  type = \"Vpn\"\n  vpn_bgp_enabled = true", Some("KG104")),
        ("0.6.3", "  type = \"Vpn\"", None),
        ("0.9.0", "  type = \"Vpn\"\n  vpn_default_local_network_gateway_id = \"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/localNetworkGateways/onprem\"", Some("KG104")),
        ("0.9.0", "  type = \"Vpn\"\n  vpn_bgp_enabled = var.bgp", Some("KG901")),
    ];
    for (version, params, rule) in cases {
        let text = TF_GATEWAY.replace("VERSION", version).replace("PARAMS", params);
        let (doc, _) = one_file("main.tf", &text);
        let want_found = match rule {
            Some("KG104") => want(&[("KG104", "main.tf", line_of(&text, "resource \"azurerm_subnet\""))]),
            Some(r) => want(&[(r, "main.tf", line_of(&text, "var.bgp"))]),
            None => want(&[]),
        };
        assert_eq!(found(&doc), want_found, "{version} {params}: {doc:#}");
    }
}

#[test]
fn versions_whose_interface_differs_are_notes_naming_the_known_ones() {
    // No 0.13.x of the gateway is known.
    let text = bicep_gateway("0.13.0", "    gatewayType: 'ExpressRoute'\n    virtualNetworkResourceId: vnet.id");
    let (doc, _) = one_file("main.bicep", &text);
    assert_eq!(rules(&doc), vec!["KG901"], "{doc:#}");
    let m = &messages(&doc, "KG901")[0];
    assert!(m.contains("0.13.0") && m.contains("0.12.0") && m.contains("0.6.3"), "{m}");
    // 0.6.x changed the cluster settings' type at 0.6.2: an unknown 0.6 patch
    // cannot be read like either.
    let text = bicep_gateway("0.6.9", "    gatewayType: 'ExpressRoute'\n    virtualNetworkResourceId: vnet.id");
    let (doc, _) = one_file("main.bicep", &text);
    assert_eq!(rules(&doc), vec!["KG901"], "{doc:#}");
    assert!(messages(&doc, "KG901")[0].contains("changed within 0.6"), "{doc:#}");
    // An unknown patch of a stable minor that passes an input its nearest
    // version does not declare.
    let text = bicep_firewall("0.9.7", "    firewallPrivateIpAddress: '10.0.254.4'", "firewall.outputs.privateIp");
    let (doc, _) = one_file("main.bicep", &text);
    assert!(rules(&doc).contains(&"KG901".to_string()), "{doc:#}");
    assert!(
        messages(&doc, "KG901")
            .iter()
            .any(|m| m.contains("firewallPrivateIpAddress") && m.contains("0.9.2")),
        "{doc:#}"
    );
    // Terraform: a constraint admitting versions newer than the data.
    let text = TF_SPOKE.replace("version            = \"0.3.0\"", "version            = \"~> 0.3\"");
    let (doc, _) = one_file("main.tf", &text);
    assert!(
        messages(&doc, "KG901").iter().any(|m| m.contains("newer") && m.contains("0.4.0")),
        "{doc:#}"
    );
}

const HTTPS_GROUP: &str = "{
        name: 'https'
        priority: 200
        ruleCollections: [
          {
            name: 'https'
            priority: 100
            ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
            action: { type: 'Allow' }
            rules: [
              {
                name: 'https'
                ruleType: 'NetworkRule'
                ipProtocols: [ 'TCP' ]
                sourceAddresses: [ '*' ]
                destinationAddresses: [ '*' ]
                destinationPorts: [ '443' ]
              }
            ]
          }
        ]
      }";

/// A group whose collections are not known may hold the KMS rule: the
/// firewall's verdict is open (KG901), not "blocks" from the groups that are
/// known. The same for a policy's group declared as a resource.
#[test]
fn a_group_with_unknown_collections_leaves_the_firewall_open() {
    let groups = format!("[\n      {{\n        name: 'kms'\n        priority: 100\n        ruleCollections: collections\n      }}\n      {HTTPS_GROUP}\n    ]");
    let text = bicep_policy(&groups, "false").replace("param groups array = []", "param collections array");
    let (doc, code) = one_file("main.bicep", &text);
    assert_eq!(rules(&doc), vec!["KG901"], "{doc:#}");
    assert_eq!(code, 0);

    let resource = "param collections array

resource policy 'Microsoft.Network/firewallPolicies@2023-04-01' = {
  name: 'afwp-hub'
  location: 'westeurope'
}

resource kms 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2023-04-01' = {
  parent: policy
  name: 'kms'
  properties: {
    priority: 100
    ruleCollections: collections
  }
}

resource https 'Microsoft.Network/firewallPolicies/ruleCollectionGroups@2023-04-01' = {
  parent: policy
  name: 'https'
  properties: {
    priority: 200
    ruleCollections: [
      {
        name: 'https'
        priority: 100
        ruleCollectionType: 'FirewallPolicyFilterRuleCollection'
        action: { type: 'Allow' }
        rules: [
          {
            name: 'https'
            ruleType: 'NetworkRule'
            ipProtocols: [ 'TCP' ]
            sourceAddresses: [ '*' ]
            destinationAddresses: [ '*' ]
            destinationPorts: [ '443' ]
          }
        ]
      }
    ]
  }
}

resource fw 'Microsoft.Network/azureFirewalls@2023-04-01' = {
  name: 'afw-hub'
  location: 'westeurope'
  properties: {
    firewallPolicy: { id: policy.id }
  }
}

resource rt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: fw.properties.ipConfigurations[0].properties.privateIPAddress
        }
      }
    ]
  }
}
";
    let (doc, _) = one_file("main.bicep", resource);
    assert_eq!(rules(&doc), vec!["KG901"], "{doc:#}");
    // With the unknown group's collections known and empty, the HTTPS group decides.
    let (doc, _) = one_file(
        "main.bicep",
        &resource.replace("ruleCollections: collections", "ruleCollections: []"),
    );
    assert_eq!(rules(&doc), vec!["KG301"], "{doc:#}");
}

/// The most common hub: the gateway names the AVM virtual network by its
/// output; the network's subnets and the gateway resolve to one network.
#[test]
fn a_gateway_in_an_avm_virtual_network_reaches_its_subnets() {
    let bicep = "module vnet 'br/public:avm/res/network/virtual-network:0.5.1' = {
  name: 'vnet'
  params: {
    name: 'vnet-hub'
    addressPrefixes: [ '10.0.0.0/16' ]
    subnets: [
      { name: 'GatewaySubnet', addressPrefix: '10.0.255.0/27' }
      { name: 'snet-app', addressPrefix: '10.0.1.0/24' }
    ]
  }
}

module gateway 'br/public:avm/res/network/virtual-network-gateway:0.6.3' = {
  name: 'gateway'
  params: {
    name: 'vgw-hub'
    gatewayType: 'ExpressRoute'
    clusterSettings: { clusterMode: 'activePassiveNoBgp' }
    virtualNetworkResourceId: vnet.outputs.resourceId
  }
}
";
    let (doc, _) = one_file("main.bicep", bicep);
    assert_eq!(found(&doc), want(&[("KG104", "main.bicep", line_of(bicep, "snet-app"))]), "{doc:#}");

    let tf = r#"module "vnet" {
  source        = "Azure/avm-res-network-virtualnetwork/azurerm"
  version       = "0.7.1"
  name          = "vnet-hub"
  address_space = ["10.0.0.0/16"]
  subnets = {
    app = {
      name             = "snet-app"
      address_prefixes = ["10.0.1.0/24"]
    }
  }
}

module "gateway" {
  source             = "Azure/avm-ptn-vnetgateway/azurerm"
  version            = "0.10.3"
  name               = "vgw-hub"
  type               = "ExpressRoute"
  virtual_network_id = module.vnet.resource_id
}
"#;
    let (doc, _) = one_file("main.tf", tf);
    assert_eq!(found(&doc), want(&[("KG104", "main.tf", line_of(tf, "app = {"))]), "{doc:#}");
}
