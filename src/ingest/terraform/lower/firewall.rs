//! Azure Firewall: `azurerm_firewall`, `azurerm_firewall_policy` (its DNS
//! proxy), the policy's `azurerm_firewall_policy_rule_collection_group`s,
//! and classic `azurerm_firewall_network_rule_collection`s. A firewall gets
//! its rules once every group and collection is known ([`finish`]).

use hcl::edit::structure::Body;

use super::expand::{instances, nested_blocks, resource_fields};
use super::links::{ip_configuration_subnet, link_attr, links_to};
use super::{missing, name, Instance, Lowering, ResourceBlock};
use crate::ingest::terraform::eval::{Evaluator, Scope};
use crate::ingest::terraform::fields::Fields;
use crate::ingest::terraform::reference_to;
use crate::model::{Access, AddressMatch, Field, Firewall, FirewallRule, Link, Model, PortRange, Protocol, Unresolved};

/// What the firewalls wait for until every resource is lowered.
#[derive(Default)]
pub(super) struct Pending {
    /// Each firewall (by index) with the link to its policy.
    firewall_policies: Vec<(usize, Option<Link>)>,
    policies: Vec<Policy>,
    /// Classic rule collections: (firewall, collection priority, rule).
    classic: Vec<(Link, f64, FirewallRule)>,
}

/// A firewall policy and its rule collection groups (priority, rules).
struct Policy {
    address: String,
    name: Field<String>,
    dns_proxy: Field<bool>,
    groups: Vec<(f64, Vec<(f64, FirewallRule)>)>,
}

pub(super) fn firewall<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let policy = link_attr(ev, r, &inst, "firewall_policy_id", "azurerm_firewall_policy");
        l.firewalls.firewall_policies.push((l.model.firewalls.len(), policy));
        // Its network is the one whose AzureFirewallSubnet its IP configuration names.
        let subnet = ip_configuration_subnet(ev, r, &inst);
        l.model.firewalls.push(Firewall {
            address: inst.address,
            namespace: 0,
            name: name(&fields),
            origin: fields.origin.clone(),
            rules: Vec::new(),
            dns_proxy: fields
                .bool("dns_proxy_enabled")
                .unwrap_or_else(|| Field::Known(false, fields.origin.clone())),
            // azurerm computes ip_configuration's private_ip_address: never written.
            private_ip: None,
            incomplete: Vec::new(),
            subnet,
        });
    }
}

pub(super) fn policy<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let dns = r.block.body.get_blocks("dns").next().map(|b| {
            Fields::from_body(ev, &b.body, &r.file.text, r.file.file, &inst.scope, fields.origin.clone())
                .bool("proxy_enabled")
                .unwrap_or_else(|| Field::Known(false, fields.origin.clone()))
        });
        l.firewalls.policies.push(Policy {
            address: inst.address,
            name: name(&fields),
            dns_proxy: dns.unwrap_or_else(|| Field::Known(false, fields.origin.clone())),
            groups: Vec::new(),
        });
    }
}

/// A rule collection's `priority`; one without a known priority comes last.
fn priority(f: &Fields) -> f64 {
    f.parsed("priority", |s| s.parse::<f64>().ok(), "a number")
        .and_then(|f| f.known().copied())
        .unwrap_or(f64::MAX)
}

pub(super) fn rule_collection_group<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let Some(link) = link_attr(ev, r, &inst, "firewall_policy_id", "azurerm_firewall_policy") else {
            continue;
        };
        let priority = priority(&fields);
        let rules = network_rules(ev, r, &inst, "network_rule_collection", None);
        for p in l.firewalls.policies.iter_mut().filter(|p| links_to(&link, &p.address, &p.name)) {
            p.groups.push((priority, rules.clone()));
        }
    }
}

/// A classic collection names its firewall (`azure_firewall_name`) and
/// holds its rules directly, with one action for all of them.
pub(super) fn classic_collection<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let action = fields
            .parsed("action", Access::parse, "Allow or Deny")
            .unwrap_or_else(|| missing(&fields, "action"));
        let priority = priority(&fields);
        let mut rules = network_rules(ev, r, &inst, "", Some(action));
        rules.iter_mut().for_each(|(p, _)| *p = priority);
        let target = match r.block.body.get_attribute("azure_firewall_name") {
            Some(a) => match reference_to(&a.value, "azurerm_firewall", "name") {
                Some((n, _)) => Some(Link::Address(format!("azurerm_firewall.{n}"), fields.origin.clone(), 0)),
                None => fields.string("azure_firewall_name").map(Link::Id),
            },
            None => None,
        };
        if let Some(link) = target {
            l.firewalls.classic.extend(rules.into_iter().map(|(p, r)| (link.clone(), p, r)));
        }
    }
}

/// Gives each firewall its classic collections' rules, by priority, then
/// its policy's rule collection groups, by priority, and the policy's DNS
/// proxy setting.
pub(super) fn finish(model: &mut Model, pending: Pending) {
    let Pending {
        firewall_policies,
        policies,
        mut classic,
    } = pending;
    classic.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (link, _, rule) in classic {
        for fw in model.firewalls.iter_mut().filter(|f| links_to(&link, &f.address, &f.name)) {
            fw.rules.push(rule.clone());
        }
    }
    for (i, link) in firewall_policies {
        let Some(fw) = model.firewalls.get_mut(i) else { continue };
        let Some(link) = link else { continue };
        match policies.iter().find(|p| links_to(&link, &p.address, &p.name)) {
            Some(p) => {
                let mut groups = p.groups.clone();
                groups.sort_by(|a, b| a.0.total_cmp(&b.0));
                fw.rules
                    .extend(groups.into_iter().flat_map(|(_, rules)| rules.into_iter().map(|(_, r)| r)));
                fw.dns_proxy = p.dns_proxy.clone();
            }
            None => fw.incomplete.push(Unresolved {
                reason: "the firewall's policy is not in the code checked".into(),
                origin: link.origin().clone(),
            }),
        }
    }
}

/// The network rules of `collection` blocks (policy groups) or of the
/// resource's own `rule` blocks (classic collections), each with the
/// collection's priority.
fn network_rules(
    ev: &Evaluator,
    r: &ResourceBlock,
    inst: &Instance,
    collection: &str,
    action: Option<Field<Access>>,
) -> Vec<(f64, FirewallRule)> {
    let mut out = Vec::new();
    let lower_rules = |body: &Body, scope: &Scope, action: Field<Access>, priority: f64, out: &mut Vec<(f64, FirewallRule)>| {
        let (rules, _) = nested_blocks(ev, body, "rule", r.file, scope);
        for (rb, rs, ro) in rules {
            let f = Fields::from_body(ev, rb, &r.file.text, r.file.file, &rs, ro);
            let mut destinations = f.list("destination_addresses", AddressMatch::parse, "an address prefix or service tag");
            destinations.extend(f.list(
                "destination_ip_groups",
                |s| Some(AddressMatch::ApplicationSecurityGroup(s.to_string())),
                "an IP group",
            ));
            out.push((
                priority,
                FirewallRule {
                    name: name(&f),
                    action: action.clone(),
                    protocols: f.list("protocols", Protocol::parse, "a protocol"),
                    destination_ports: f.list("destination_ports", PortRange::parse, "a port or port range"),
                    destination_addresses: destinations,
                    destination_fqdns: f.list("destination_fqdns", |s| Some(s.to_ascii_lowercase()), "a name"),
                    origin: f.origin.clone(),
                },
            ));
        }
    };
    if collection.is_empty() {
        if let Some(action) = action {
            lower_rules(&r.block.body, &inst.scope, action, 0.0, &mut out);
        }
        return out;
    }
    let (collections, _) = nested_blocks(ev, &r.block.body, collection, r.file, &inst.scope);
    for (cb, cs, co) in collections {
        let cf = Fields::from_body(ev, cb, &r.file.text, r.file.file, &cs, co);
        let action = cf
            .parsed("action", Access::parse, "Allow or Deny")
            .unwrap_or_else(|| missing(&cf, "action"));
        lower_rules(cb, &cs, action, priority(&cf), &mut out);
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::model::{Access, Field};

    fn rule_names(fw: &crate::model::Firewall) -> Vec<String> {
        fw.rules.iter().map(|r| show(&r.name)).collect()
    }

    #[test]
    fn a_policy_brings_its_groups_by_priority_and_its_dns_proxy() {
        let text = r#"resource "azurerm_firewall" "hub" {
  name               = "fw-hub"
  firewall_policy_id = azurerm_firewall_policy.hub.id
}
resource "azurerm_firewall_policy" "hub" {
  name = "fwp-hub"
  dns {
    proxy_enabled = true
  }
}
resource "azurerm_firewall_policy_rule_collection_group" "late" {
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 500
  network_rule_collection {
    name     = "c"
    priority = 100
    action   = "Deny"
    rule {
      name                  = "deny-all"
      protocols             = ["Any"]
      destination_addresses = ["*"]
      destination_ports     = ["*"]
    }
  }
}
resource "azurerm_firewall_policy_rule_collection_group" "early" {
  firewall_policy_id = azurerm_firewall_policy.hub.id
  priority           = 200
  network_rule_collection {
    name     = "second"
    priority = 300
    action   = "Allow"
    rule {
      name              = "allow-dns"
      destination_fqdns = ["AZKMS.core.windows.net"]
    }
  }
  network_rule_collection {
    name     = "first"
    priority = 100
    action   = "Allow"
    rule {
      name                  = "allow-kms"
      protocols             = ["TCP"]
      destination_addresses = ["20.118.99.224"]
      destination_ports     = ["1688"]
    }
  }
}
"#;
        let m = lower_tf(text);
        let [fw] = m.firewalls.as_slice() else { panic!("one firewall") };
        assert_eq!(show(&fw.name), "fw-hub");
        assert_eq!(rule_names(fw), ["allow-kms", "allow-dns", "deny-all"]);
        assert!(matches!(fw.dns_proxy, Field::Known(true, _)));
        assert!(matches!(fw.rules[2].action, Field::Known(Access::Deny, _)));
        assert_eq!(
            fw.rules[1].destination_fqdns.iter().map(show).collect::<Vec<_>>(),
            ["azkms.core.windows.net"]
        );
        assert!(fw.incomplete.is_empty());
    }

    #[test]
    fn classic_collections_by_priority_and_a_policy_not_in_the_code() {
        let text = r#"resource "azurerm_firewall" "hub" {
  name               = "fw-hub"
  dns_proxy_enabled  = true
  firewall_policy_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/firewallPolicies/elsewhere"
}
resource "azurerm_firewall_network_rule_collection" "deny" {
  azure_firewall_name = azurerm_firewall.hub.name
  priority            = 200
  action              = "Deny"
  rule {
    name = "deny-all"
  }
}
resource "azurerm_firewall_network_rule_collection" "allow" {
  azure_firewall_name = "fw-hub"
  priority            = 100
  action              = "Allow"
  rule {
    name = "allow-kms"
  }
}
"#;
        let m = lower_tf(text);
        let [fw] = m.firewalls.as_slice() else { panic!("one firewall") };
        assert_eq!(rule_names(fw), ["allow-kms", "deny-all"]);
        assert!(matches!(fw.dns_proxy, Field::Known(true, _)));
        assert_eq!(fw.incomplete.len(), 1);
        assert_eq!(fw.incomplete[0].reason, "the firewall's policy is not in the code checked");
    }
}
