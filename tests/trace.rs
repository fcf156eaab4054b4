//! `kmsguard trace`: one flow from a subnet followed through routes,
//! firewall and NSGs, on small Terraform and Bicep trees written here.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use assert_cmd::Command;
use serde_json::Value;

fn kmsguard() -> Command {
    let mut c = Command::cargo_bin("kmsguard").expect("binary builds");
    c.env("NO_COLOR", "1");
    c
}

/// A tree with one file of each `(name, text)`.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

/// The JSON trace and the exit code.
fn trace(dir: &tempfile::TempDir, from: &str, to: &str, extra: &[&str]) -> (Value, i32) {
    let out = kmsguard()
        .arg("trace")
        .arg(dir.path())
        .args(["--from", from, "--to", to, "--format", "json", "--no-config"])
        .args(extra)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON on stdout ({e}); stderr: {stderr}"));
    (doc, out.status.code().unwrap_or(-1))
}

fn verdicts(doc: &Value) -> Vec<(String, String)> {
    doc["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(|f| {
            (
                f["destination"].as_str().unwrap_or_default().to_string(),
                f["verdict"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The routes of the first flow as `prefix source next-hop status`.
fn routes(doc: &Value) -> Vec<String> {
    doc["flows"][0]["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["prefix"].as_str().unwrap_or_default(),
                r["source"].as_str().unwrap_or_default(),
                r["next_hop"].as_str().unwrap_or("-"),
                r["status"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

const SUBNET: &str = r#"
resource "azurerm_subnet" "app" {
  name                 = "snet-app"
  resource_group_name  = "rg"
  virtual_network_name = "vnet"
  address_prefixes     = ["10.20.1.0/24"]
}

resource "azurerm_subnet_route_table_association" "app" {
  subnet_id      = azurerm_subnet.app.id
  route_table_id = azurerm_route_table.spoke.id
}
"#;

const NSG_ASSOCIATION: &str = r#"
resource "azurerm_subnet_network_security_group_association" "app" {
  subnet_id                 = azurerm_subnet.app.id
  network_security_group_id = azurerm_network_security_group.app.id
}
"#;

fn table(routes: &str) -> String {
    format!(
        r#"
resource "azurerm_route_table" "spoke" {{
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg"
{routes}
}}
"#
    )
}

const DEFAULT_TO_NVA: &str = r#"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
"#;

const KMS_ROUTES: &str = r#"
  route {
    name           = "kms-1"
    address_prefix = "20.118.99.224/32"
    next_hop_type  = "Internet"
  }
  route {
    name           = "kms-2"
    address_prefix = "40.83.235.53/32"
    next_hop_type  = "Internet"
  }
"#;

fn nsg(rule: &str) -> String {
    format!(
        r#"
resource "azurerm_network_security_group" "app" {{
  name                = "nsg-app"
  location            = "westeurope"
  resource_group_name = "rg"
{rule}
}}
"#
    )
}

fn deny_rule(name: &str, destination: &str) -> String {
    format!(
        r#"
  security_rule {{
    name                       = "{name}"
    priority                   = 300
    direction                  = "Outbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "1688"
    source_address_prefix      = "*"
    destination_address_prefix = "{destination}"
  }}
"#
    )
}

#[test]
fn a_forced_tunnel_blocks_kms_and_says_which_route_wins_and_why() {
    let dir = tree(&[("main.tf", &format!("{}{SUBNET}", table(DEFAULT_TO_NVA)))]);
    let (doc, code) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(
        verdicts(&doc),
        [
            ("20.118.99.224".into(), "blocked".into()),
            ("40.83.235.53".into(), "blocked".into())
        ]
    );
    assert_eq!(code, 1);
    assert_eq!(
        routes(&doc),
        ["0.0.0.0/0 user VirtualAppliance wins", "0.0.0.0/0 system Internet loses"]
    );
    let lost = &doc["flows"][0]["routes"][1]["reason"];
    assert!(
        lost.as_str().is_some_and(|r| r.contains("user-defined beats BGP beats system")),
        "{lost}"
    );
    assert_eq!(doc["flows"][0]["next_hop"]["type"], "VirtualAppliance");
    assert_eq!(doc["flows"][0]["next_hop"]["ip"], "10.0.1.4");
    assert_eq!(doc["flows"][0]["routes"][0]["line"], 7);
    assert!(doc["flows"][0]["reason"].as_str().is_some_and(|r| r.contains("Azure public IP")));
    assert_eq!(doc["from"]["kind"], "subnet");
    assert_eq!(doc["version"], 1);
}

#[test]
fn a_forced_tunnel_fixed_by_host_routes_reaches_kms() {
    let dir = tree(&[("main.tf", &format!("{}{SUBNET}", table(&format!("{DEFAULT_TO_NVA}{KMS_ROUTES}"))))]);
    let (doc, code) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(
        verdicts(&doc),
        [
            ("20.118.99.224".into(), "reaches".into()),
            ("40.83.235.53".into(), "reaches".into())
        ]
    );
    assert_eq!(code, 0);
    assert_eq!(
        routes(&doc),
        [
            "0.0.0.0/0 user VirtualAppliance loses",
            "20.118.99.224/32 user Internet wins",
            "0.0.0.0/0 system Internet loses"
        ]
    );
    assert!(doc["flows"][0]["routes"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("/0 is shorter than the winning user route's /32")));
    // The custom default route turns the platform's NSG allowance off.
    assert_eq!(doc["flows"][0]["platform"]["applies"], false);
    assert_eq!(doc["flows"][0]["platform"]["tag"], "AzurePlatformLKM");
}

const FIREWALL: &str = r#"
resource "azurerm_firewall_policy" "hub" {
  name                = "afwp-hub"
  location            = "westeurope"
  resource_group_name = "rg"
}

resource "azurerm_firewall" "hub" {
  name                = "afw-hub"
  location            = "westeurope"
  resource_group_name = "rg"
  sku_name            = "AZFW_VNet"
  sku_tier            = "Standard"
  firewall_policy_id  = azurerm_firewall_policy.hub.id
  ip_configuration {
    name                 = "configuration"
    subnet_id            = "x"
    public_ip_address_id = "y"
  }
}
"#;

fn firewall_rules(port: &str) -> String {
    format!(
        r#"
resource "azurerm_firewall_policy_rule_collection_group" "egress" {{
  name               = "egress"
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 200
  network_rule_collection {{
    name     = "allow"
    priority = 100
    action   = "Allow"
    rule {{
      name                  = "allow-{port}"
      protocols             = ["TCP"]
      source_addresses      = ["10.20.0.0/16"]
      destination_addresses = ["*"]
      destination_ports     = ["{port}"]
    }}
  }}
}}
"#
    )
}

const DEFAULT_TO_FIREWALL: &str = r#"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = azurerm_firewall.hub.ip_configuration[0].private_ip_address
  }
"#;

#[test]
fn a_firewall_next_hop_without_a_1688_rule_blocks_and_with_one_reaches() {
    let base = format!("{}{SUBNET}{FIREWALL}", table(DEFAULT_TO_FIREWALL));
    let dir = tree(&[("main.tf", &format!("{base}{}", firewall_rules("443")))]);
    let (doc, code) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(verdicts(&doc)[0].1, "blocked");
    assert_eq!(code, 1);
    let fw = &doc["flows"][0]["firewall"];
    assert_eq!(fw["decision"], "deny");
    assert_eq!(fw["firewall"]["name"], "afw-hub");
    assert_eq!(fw["rule"], Value::Null, "the implicit deny decides: {fw}");
    assert!(fw["reason"].as_str().is_some_and(|r| r.contains("implicit deny")));

    let dir = tree(&[("main.tf", &format!("{base}{}", firewall_rules("1688")))]);
    let (doc, code) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(
        verdicts(&doc),
        [
            ("20.118.99.224".into(), "reaches".into()),
            ("40.83.235.53".into(), "reaches".into())
        ]
    );
    assert_eq!(code, 0);
    let fw = &doc["flows"][0]["firewall"];
    assert_eq!(fw["decision"], "allow");
    assert_eq!(fw["rule"], "allow-1688");
    assert!(fw["rule_line"].as_u64().is_some_and(|l| l > 0));
}

#[test]
fn an_nsg_deny_of_azure_platform_lkm_blocks_kms() {
    let dir = tree(&[(
        "main.tf",
        &format!(
            "{}{SUBNET}{NSG_ASSOCIATION}{}",
            table(""),
            nsg(&deny_rule("deny-lkm", "AzurePlatformLKM"))
        ),
    )]);
    let (doc, code) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(verdicts(&doc)[0].1, "blocked");
    assert_eq!(code, 1);
    let flow = &doc["flows"][0];
    assert_eq!(flow["platform"]["applies"], true);
    assert_eq!(flow["nsgs"][0]["decision"], "deny");
    assert_eq!(flow["nsgs"][0]["rules"][0]["status"], "decides");
    assert_eq!(flow["nsgs"][0]["rules"][0]["priority"], 300);
    assert!(flow["reason"].as_str().is_some_and(|r| r.contains("deny-lkm")), "{flow}");
}

#[test]
fn a_deny_on_internet_does_not_touch_platform_traffic() {
    let dir = tree(&[(
        "main.tf",
        &format!(
            "{}{SUBNET}{NSG_ASSOCIATION}{}",
            table(""),
            nsg(&deny_rule("deny-internet", "Internet"))
        ),
    )]);
    let (doc, code) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(verdicts(&doc)[0].1, "reaches");
    assert_eq!(code, 0);
    let flow = &doc["flows"][0];
    assert_eq!(flow["platform"]["applies"], true);
    assert!(flow["platform"]["reference"]
        .as_str()
        .is_some_and(|r| r.contains("Azure network security groups overview")));
    assert_eq!(flow["nsgs"][0]["rules"][0]["status"], "skipped");
    assert!(flow["nsgs"][0]["decided_by"].as_str().is_some_and(|d| d.contains("platform")));
    // The same rule meets ordinary traffic on that port.
    let (doc, _) = trace(&dir, "snet-app", "20.1.2.3:1688/tcp", &[]);
    assert_eq!(verdicts(&doc)[0].1, "blocked");
    assert_eq!(doc["flows"][0]["platform"], Value::Null);
}

#[test]
fn bgp_exposure_shows_only_with_the_assumption_and_propagation_on() {
    let dir = tree(&[("main.tf", &format!("{}{SUBNET}", table("")))]);
    let (doc, _) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(verdicts(&doc)[0].1, "reaches");
    assert_eq!(routes(&doc), ["0.0.0.0/0 system Internet wins"]);

    let (doc, code) = trace(&dir, "snet-app", "kms", &["--assume-bgp-default-route"]);
    assert_eq!(verdicts(&doc)[0].1, "blocked");
    assert_eq!(code, 1);
    assert_eq!(
        routes(&doc),
        ["0.0.0.0/0 bgp VirtualNetworkGateway wins", "0.0.0.0/0 system Internet loses"]
    );
    assert!(doc["flows"][0]["routes"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("--assume-bgp-default-route")));

    // The /32 routes beat the learned default; propagation off learns nothing.
    let dir = tree(&[("main.tf", &format!("{}{SUBNET}", table(KMS_ROUTES)))]);
    let (doc, _) = trace(&dir, "snet-app", "kms", &["--assume-bgp-default-route"]);
    assert_eq!(verdicts(&doc)[0].1, "reaches");
    assert_eq!(
        routes(&doc),
        [
            "20.118.99.224/32 user Internet wins",
            "0.0.0.0/0 bgp VirtualNetworkGateway loses",
            "0.0.0.0/0 system Internet loses"
        ]
    );
    let dir = tree(&[(
        "main.tf",
        &format!("{}{SUBNET}", table("  bgp_route_propagation_enabled = false\n")),
    )]);
    let (doc, _) = trace(&dir, "snet-app", "kms", &["--assume-bgp-default-route"]);
    assert_eq!(verdicts(&doc)[0].1, "reaches");
    assert!(doc["flows"][0]["routes"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("propagation off")));
}

#[test]
fn an_unknown_next_hop_is_unknown_and_says_why() {
    let routes = r#"
  route {
    name           = "default"
    address_prefix = "0.0.0.0/0"
    next_hop_type  = var.hop_type
  }
"#;
    let dir = tree(&[(
        "main.tf",
        &format!("variable \"hop_type\" {{ type = string }}\n{}{SUBNET}", table(routes)),
    )]);
    let (doc, code) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(verdicts(&doc)[0].1, "unknown");
    assert_eq!(code, 0, "unknown is not a failure");
    let unknown = doc["flows"][0]["unknown"].to_string();
    assert!(unknown.contains("hop_type"), "{unknown}");
    assert_eq!(doc["flows"][0]["routes"][0]["status"], "unknown");
    // Given a value, the same flow is decided.
    let (doc, _) = trace(&dir, "snet-app", "kms", &["--var", "hop_type=Internet"]);
    assert_eq!(verdicts(&doc)[0].1, "reaches");
}

#[test]
fn a_nic_nsg_is_walked_before_the_subnets() {
    let nic = r#"
resource "azurerm_network_interface" "vm" {
  name                = "nic-vm"
  location            = "westeurope"
  resource_group_name = "rg"
  ip_configuration {
    name                          = "ipconfig"
    subnet_id                     = azurerm_subnet.app.id
    private_ip_address_allocation = "Dynamic"
  }
}

resource "azurerm_network_interface_security_group_association" "vm" {
  network_interface_id      = azurerm_network_interface.vm.id
  network_security_group_id = azurerm_network_security_group.nic.id
}

resource "azurerm_network_security_group" "nic" {
  name                = "nsg-nic"
  location            = "westeurope"
  resource_group_name = "rg"
}
"#;
    let dir = tree(&[(
        "main.tf",
        &format!(
            "{}{SUBNET}{NSG_ASSOCIATION}{}{nic}",
            table(""),
            nsg(&deny_rule("deny-lkm", "AzurePlatformLKM"))
        ),
    )]);
    let (doc, _) = trace(&dir, "nic-vm", "kms", &[]);
    assert_eq!(doc["from"]["kind"], "network_interface");
    let holders: Vec<&str> = doc["flows"][0]["nsgs"]
        .as_array()
        .expect("nsgs")
        .iter()
        .filter_map(|n| n["holder"].as_str())
        .collect();
    assert_eq!(holders, ["network interface nic-vm", "subnet snet-app"]);
    assert_eq!(verdicts(&doc)[0].1, "blocked");
    // From the subnet, the NIC's own NSG is named as a note.
    let (doc, _) = trace(&dir, "azurerm_subnet.app", "kms", &[]);
    assert!(doc["flows"][0]["notes"].to_string().contains("nic-vm"));
}

#[test]
fn bicep_subnets_are_traced_like_terraform() {
    let bicep = r#"
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
          nextHopIpAddress: '10.0.1.4'
        }
      }
    ]
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {
  name: 'vnet'
  location: 'westeurope'
  properties: {
    addressSpace: { addressPrefixes: ['10.0.0.0/16'] }
    subnets: [
      {
        name: 'snet-app'
        properties: {
          addressPrefix: '10.0.1.0/24'
          routeTable: { id: rt.id }
        }
      }
    ]
  }
}
"#;
    let dir = tree(&[("main.bicep", bicep)]);
    let (doc, code) = trace(&dir, "snet-app", "20.118.99.224", &[]);
    assert_eq!(verdicts(&doc), [("20.118.99.224".into(), "blocked".into())]);
    assert_eq!(code, 1);
    assert_eq!(doc["flows"][0]["port"], 1688, "a KMS address takes KMS's port");
}

#[test]
fn usage_errors_are_reported_not_guessed() {
    let dir = tree(&[("main.tf", &format!("{}{SUBNET}", table(DEFAULT_TO_NVA)))]);
    let run = |from: &str, to: &str| {
        let out = kmsguard()
            .arg("trace")
            .arg(dir.path())
            .args(["--from", from, "--to", to, "--no-config"])
            .output()
            .expect("runs");
        (String::from_utf8_lossy(&out.stderr).to_string(), out.status.code())
    };
    let (err, code) = run("snet-nope", "kms");
    assert_eq!(code, Some(2));
    assert!(err.contains("matches no subnet") && err.contains("snet-app"), "{err}");
    let (err, code) = run("10.20.1.0/24", "kms");
    assert_eq!(code, Some(2));
    assert!(err.contains("address prefixes"), "{err}");
    let (err, code) = run("snet-app", "8.8.8.8");
    assert_eq!(code, Some(2));
    assert!(err.contains("which port"), "{err}");
    let (err, code) = run("snet-app", "not-an-address");
    assert_eq!(code, Some(2));
    assert!(err.contains("ADDRESS[:PORT[/PROTO]]"), "{err}");
}

#[test]
fn names_from_the_code_cannot_inject_log_commands_or_markdown() {
    let hostile = table(DEFAULT_TO_NVA).replace(
        "name                = \"rt-spoke\"",
        "name                = \"rt\\n::error::pwned ##vso[task.complete]\"",
    );
    let dir = tree(&[("main.tf", &format!("{hostile}{SUBNET}"))]);
    for format in ["human", "markdown"] {
        let out = kmsguard()
            .arg("trace")
            .arg(dir.path())
            .args(["--from", "snet-app", "--to", "kms", "--no-config", "--format", format])
            .output()
            .expect("runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("rt"), "{text}");
        for line in text.lines() {
            assert!(!line.trim_start().starts_with("::"), "{format}: {line}");
            assert!(!line.contains("##vso["), "{format}: {line}");
        }
    }
}

/// A subnet associated with a route table kmsguard did not find (an id
/// known only at deployment, a table in another repository) may be forced
/// into a tunnel: the trace says unknown, naming why, and never "reaches"
/// through system routes it guessed. Without a table in the code at all,
/// system routes apply.
#[test]
fn a_subnet_whose_route_table_is_not_in_the_code_is_unknown_not_reaching() {
    let subnet = r#"
resource "azurerm_subnet" "app" {
  name                 = "snet-app"
  resource_group_name  = "rg"
  virtual_network_name = "vnet"
  address_prefixes     = ["10.1.0.0/24"]
}
"#;
    for (association, why) in [
        ("variable \"rt_id\" {\n  type = string\n}\nresource \"azurerm_subnet_route_table_association\" \"app\" {\n  subnet_id      = azurerm_subnet.app.id\n  route_table_id = var.rt_id\n}\n", "var.rt_id"),
        ("resource \"azurerm_subnet_route_table_association\" \"app\" {\n  subnet_id      = azurerm_subnet.app.id\n  route_table_id = \"/subscriptions/s/resourceGroups/other/providers/Microsoft.Network/routeTables/rt-elsewhere\"\n}\n", "route table"),
        ("data \"azurerm_route_table\" \"hub\" {\n  name                = \"rt-hub\"\n  resource_group_name = \"rg-hub\"\n}\nresource \"azurerm_subnet_route_table_association\" \"app\" {\n  subnet_id      = azurerm_subnet.app.id\n  route_table_id = data.azurerm_route_table.hub.id\n}\n", ""),
    ] {
        let dir = tree(&[("main.tf", &format!("{subnet}{association}"))]);
        let (doc, _) = trace(&dir, "snet-app", "kms", &[]);
        assert_eq!(
            verdicts(&doc),
            [("20.118.99.224".into(), "unknown".into()), ("40.83.235.53".into(), "unknown".into())],
            "{association}"
        );
        let unknown = doc["flows"][0]["unknown"].to_string();
        assert!(unknown.contains(why), "{unknown}");
    }
    let dir = tree(&[("main.tf", subnet)]);
    let (doc, _) = trace(&dir, "snet-app", "kms", &[]);
    assert_eq!(
        verdicts(&doc),
        [
            ("20.118.99.224".into(), "reaches".into()),
            ("40.83.235.53".into(), "reaches".into())
        ]
    );
}
