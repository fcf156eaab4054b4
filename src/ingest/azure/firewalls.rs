//! Azure Firewall in the REST shape: the firewall, the policy it names,
//! and the policy's rule collection groups, joined once a deployment is
//! lowered whole (a policy and its groups may be declared in other files).

use super::{list_prop, missing, string_prop, Node};
use crate::ingest::value::Val;
use crate::model::{Access, AddressMatch, Field, FirewallRule, Link, PortRange, Protocol, Unresolved};
use crate::source::Origin;

/// `Microsoft.Network/firewallPolicies`: its DNS proxy setting and, once
/// found, its rule collection groups.
pub struct FirewallPolicy {
    pub address: String,
    pub name: Field<String>,
    pub dns_proxy: Field<bool>,
}

/// `Microsoft.Network/firewallPolicies/ruleCollectionGroups`: the network
/// rules of its filter collections, each with its collection's priority.
pub struct RuleCollectionGroup {
    pub parent_address: Option<String>,
    pub parent_name: Option<String>,
    pub priority: f64,
    pub rules: Vec<(f64, FirewallRule)>,
    pub origin: Origin,
    /// Collections or rules that are not known (a parameter, a loop over
    /// one): the firewall's rules are then not all known either.
    pub incomplete: Vec<Unresolved>,
}

fn number(node: Option<Node>) -> f64 {
    match node.map(|n| n.to_val()) {
        Some(Val::Number(n)) => n,
        Some(Val::String(s)) => s.trim().parse().unwrap_or(f64::MAX),
        // A collection without a known priority comes last.
        _ => f64::MAX,
    }
}

fn action(node: &Node) -> Field<Access> {
    match node.present("action").and_then(|a| a.present("type")) {
        Some(t) => match t.string("type") {
            Field::Known(s, o) => match Access::parse(&s) {
                Some(a) => Field::Known(a, o),
                None => Field::unknown(Unresolved {
                    reason: format!("action \"{s}\" is not Allow or Deny"),
                    origin: o,
                }),
            },
            Field::Unknown(u) => Field::Unknown(u),
        },
        None => missing("action", &node.origin),
    }
}

/// A firewall network rule, in the policy shape (`ipProtocols`) or the
/// classic one (`protocols`).
fn firewall_rule(rule: &Node, action: Field<Access>) -> FirewallRule {
    let mut protocols = list_prop(rule, "ipProtocols", Protocol::parse, "a protocol");
    protocols.extend(list_prop(rule, "protocols", Protocol::parse, "a protocol"));
    let mut destinations = list_prop(
        rule,
        "destinationAddresses",
        AddressMatch::parse,
        "an address prefix or service tag",
    );
    destinations.extend(list_prop(
        rule,
        "destinationIpGroups",
        |s| Some(AddressMatch::ApplicationSecurityGroup(s.to_string())),
        "an IP group",
    ));
    FirewallRule {
        name: string_prop(rule, "name").unwrap_or_else(|| missing("name", &rule.origin)),
        action,
        protocols,
        destination_ports: list_prop(rule, "destinationPorts", PortRange::parse, "a port or port range"),
        destination_addresses: destinations,
        destination_fqdns: list_prop(rule, "destinationFqdns", |s| Some(s.to_ascii_lowercase()), "a name"),
        origin: rule.origin.clone(),
    }
}

/// `Microsoft.Network/azureFirewalls`: its classic network rule collections
/// (by priority), the link to its policy, and its private address when written.
pub fn firewall(body: &Node, address: String, name: Field<String>, origin: Origin) -> (crate::model::Firewall, Option<Link>) {
    let props = body.get("properties").unwrap_or_else(|| Node::value(Val::Null, origin.clone()));
    let mut rules: Vec<(f64, FirewallRule)> = Vec::new();
    let mut incomplete = Vec::new();
    if let Some(list) = props.present("networkRuleCollections") {
        match list.items() {
            Ok(collections) => {
                for c in collections {
                    let cp = c.get("properties").unwrap_or_else(|| Node::value(Val::Null, c.origin.clone()));
                    let priority = number(cp.present("priority"));
                    let act = action(&cp);
                    match cp.present("rules").map(|r| r.items()) {
                        Some(Ok(items)) => rules.extend(items.iter().map(|r| (priority, firewall_rule(r, act.clone())))),
                        Some(Err(u)) => incomplete.push(u),
                        None => {}
                    }
                }
            }
            Err(u) => incomplete.push(u),
        }
    }
    rules.sort_by(|a, b| a.0.total_cmp(&b.0));
    let private_ip = props
        .present("ipConfigurations")
        .and_then(|l| l.items().ok())
        .and_then(|items| items.into_iter().next())
        .and_then(|c| c.get("properties"))
        .and_then(|p| p.present("privateIPAddress"))
        .and_then(|ip| ip.string("privateIPAddress").known().cloned());
    // Its network is the one whose AzureFirewallSubnet its IP configuration names.
    let subnet = super::ip_configuration_subnet(&props);
    let policy = props
        .present("firewallPolicy")
        .and_then(|p| p.present("id"))
        .map(|id| Link::Id(id.string("id")));
    let dns_proxy = props
        .present("additionalProperties")
        .and_then(|a| a.present("Network.DNS.EnableProxy"))
        .map(|v| match v.to_val().to_tf_string() {
            Some(s) => Field::Known(s.eq_ignore_ascii_case("true"), v.origin.clone()),
            None => Field::unknown(Unresolved {
                reason: "Network.DNS.EnableProxy is unknown".into(),
                origin: v.origin.clone(),
            }),
        })
        .unwrap_or_else(|| Field::Known(false, origin.clone()));
    (
        crate::model::Firewall {
            address,
            namespace: 0,
            name,
            origin,
            rules: rules.into_iter().map(|(_, r)| r).collect(),
            dns_proxy,
            private_ip,
            incomplete,
            subnet,
        },
        policy,
    )
}

/// `Microsoft.Network/firewallPolicies`.
pub fn firewall_policy(body: &Node, address: String, name: Field<String>) -> FirewallPolicy {
    let dns_proxy = match body
        .get("properties")
        .and_then(|p| p.present("dnsSettings"))
        .and_then(|d| d.present("enableProxy"))
    {
        None => Field::Known(false, body.origin.clone()),
        Some(n) => match n.to_val() {
            Val::Bool(b) => Field::Known(b, n.origin.clone()),
            _ => Field::unknown(Unresolved {
                reason: "dnsSettings.enableProxy is unknown".into(),
                origin: n.origin.clone(),
            }),
        },
    };
    FirewallPolicy { address, name, dns_proxy }
}

/// `Microsoft.Network/firewallPolicies/ruleCollectionGroups`: only filter
/// collections' network rules can carry TCP 1688.
pub fn rule_collection_group(
    body: &Node,
    parent_address: Option<String>,
    parent_name: Option<String>,
    origin: Origin,
) -> RuleCollectionGroup {
    let props = body.get("properties").unwrap_or_else(|| Node::value(Val::Null, origin.clone()));
    let mut rules = Vec::new();
    let mut incomplete = Vec::new();
    let collections = match props.present("ruleCollections").map(|l| l.items()) {
        Some(Ok(c)) => c,
        Some(Err(u)) => {
            incomplete.push(u);
            Vec::new()
        }
        None => Vec::new(),
    };
    {
        for c in collections {
            let kind = c.present("ruleCollectionType").and_then(|t| t.to_val().to_tf_string());
            if kind.is_some_and(|k| !k.eq_ignore_ascii_case("FirewallPolicyFilterRuleCollection")) {
                continue;
            }
            let priority = number(c.present("priority"));
            let act = action(&c);
            let items = match c.present("rules").map(|r| r.items()) {
                Some(Ok(items)) => Some(items),
                Some(Err(u)) => {
                    incomplete.push(u);
                    None
                }
                None => None,
            };
            if let Some(items) = items {
                for r in items {
                    let is_network = r
                        .present("ruleType")
                        .and_then(|t| t.to_val().to_tf_string())
                        .is_some_and(|t| t.eq_ignore_ascii_case("NetworkRule"));
                    if is_network {
                        rules.push((priority, firewall_rule(&r, act.clone())));
                    }
                }
            }
        }
    }
    rules.sort_by(|a, b| a.0.total_cmp(&b.0));
    RuleCollectionGroup {
        parent_address,
        parent_name,
        priority: number(props.present("priority")),
        rules,
        origin,
        incomplete,
    }
}

/// Gives each firewall the rule collection groups (by priority) and DNS
/// proxy setting of the policy it links to.
pub(super) fn attach_policies(
    model: &mut crate::model::Model,
    firewall_policies: &[(String, Link)],
    policies: &[FirewallPolicy],
    groups: &[RuleCollectionGroup],
) {
    let by_address = |a: &str, p: &str| a == p || a.strip_prefix(p).is_some_and(|r| r.starts_with('['));
    // Each group joins the policy its address names, else the one policy of its name.
    let mut by_policy: Vec<Vec<&RuleCollectionGroup>> = policies.iter().map(|_| Vec::new()).collect();
    for g in groups {
        let by_addr: Vec<usize> = match &g.parent_address {
            Some(pa) => (0..policies.len())
                .filter(|i| policies.get(*i).is_some_and(|p| by_address(&p.address, pa)))
                .collect(),
            None => Vec::new(),
        };
        let found = if by_addr.len() == 1 {
            by_addr
        } else {
            let named: Vec<usize> = (0..policies.len())
                .filter(|i| {
                    policies.get(*i).is_some_and(|p| {
                        p.name
                            .known()
                            .zip(g.parent_name.as_ref())
                            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
                    })
                })
                .collect();
            if named.len() == 1 {
                named
            } else {
                Vec::new()
            }
        };
        for i in found {
            if let Some(list) = by_policy.get_mut(i) {
                list.push(g);
            }
        }
    }
    for (address, link) in firewall_policies {
        let Some(fw) = model.firewalls.iter_mut().find(|f| &f.address == address) else {
            continue;
        };
        let policy = match link {
            Link::Id(Field::Known(id, _)) => {
                let name = crate::model::ResourceId::parse(id).name().to_ascii_lowercase();
                let named: Vec<usize> = (0..policies.len())
                    .filter(|i| {
                        policies
                            .get(*i)
                            .is_some_and(|p| p.name.known().is_some_and(|n| n.to_ascii_lowercase() == name))
                    })
                    .collect();
                if named.len() == 1 {
                    named.first().copied()
                } else {
                    None
                }
            }
            Link::Address(a, _, _) => policies.iter().position(|p| by_address(&p.address, a)),
            Link::Id(Field::Unknown(_)) => None,
        };
        match policy.and_then(|i| policies.get(i).zip(by_policy.get(i))) {
            Some((p, gs)) => {
                let mut gs = gs.clone();
                gs.sort_by(|a, b| a.priority.total_cmp(&b.priority));
                fw.rules.extend(gs.iter().flat_map(|g| g.rules.iter().map(|(_, r)| r.clone())));
                fw.incomplete.extend(gs.iter().flat_map(|g| g.incomplete.iter().cloned()));
                fw.dns_proxy = p.dns_proxy.clone();
            }
            None => fw.incomplete.push(Unresolved {
                reason: match link {
                    Link::Id(Field::Unknown(u)) => format!("the firewall's policy is unknown: {}", u.reason),
                    _ => "the firewall's policy is not in the code checked".into(),
                },
                origin: link.origin().clone(),
            }),
        }
    }
}
