//! Registry modules that deploy an Azure Firewall, a firewall policy (with
//! its rule collection groups) or a virtual network gateway, lowered with the
//! same code as the resources they deploy (`azure::firewall`,
//! `azure::firewall_policy`, `azure::rule_collection_group`,
//! `azure::gateway`), so KG301, KG101 and KG104 judge them alike.
//!
//! The mapping in `policies/modules/avm.hcl` puts inputs into the REST
//! shape where one exists. What a module computes from its inputs instead
//! (the gateway subnet from a network id, BGP from a cluster mode, a policy
//! id left empty for "none") goes under `call.*` and is read here, because
//! the REST body has no place that says it.
//!
//! Also the generic parts of the mapping that only these modules need:
//! constants (`set`) and lists nested in list elements (`rule[].name`).

use super::catalogue::{ModuleMap, Target};
use super::reshape::{at, elements, name_field, reshape_element, set};
use super::{Call, Produces};
use crate::ingest::azure::{self, Deferred, Node, NodeKind};
use crate::ingest::value::Val;
use crate::model::{Field, GatewayRoute, Link, Model, ResourceId, Unresolved};
use crate::source::Origin;

/// What a registry call lowers to: the model, and what can only be joined
/// once the whole deployment is read (a firewall's policy, the policy's groups).
pub struct Lowered {
    pub model: Model,
    pub deferred: Deferred,
}

/// Writes the constants of `set` that belong at this level (no `[].`).
pub(super) fn constants(out: &mut Node, constants: &[(String, String)]) {
    for (path, value) in constants.iter().filter(|(k, _)| !k.contains("[].")) {
        let path: Vec<String> = path.split('.').map(String::from).collect();
        let origin = out.origin.clone();
        set(out, &path, Node::value(Val::String(value.clone()), origin));
    }
}

/// Entries `list[].field = target[].path`: each element of the element's
/// `list` is reshaped into an element of `target`, with the constants of
/// `set` under `target[].`.
pub(super) fn nested_lists(out: &mut Node, element: &Node, nested: &[&(String, Target)], constants: &[(String, String)]) {
    type Group = (String, Vec<String>, Vec<(String, Target)>);
    let mut groups: Vec<Group> = Vec::new();
    for (src, target) in nested {
        let (Some((list, rest)), Some(wrap)) = (src.split_once("[]."), &target.wrap) else {
            continue;
        };
        let sub = (rest.to_string(), Target::parse(wrap));
        match groups.iter_mut().find(|g| g.0 == list && g.1 == target.path) {
            Some(g) => g.2.push(sub),
            None => groups.push((list.to_string(), target.path.clone(), vec![sub])),
        }
    }
    for (list, path, each) in groups {
        let Some(value) = at(element, &list) else { continue };
        let prefix = format!("{}[].", path.join("."));
        let inner: Vec<(String, String)> = constants
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|r| (r.to_string(), v.clone())))
            .collect();
        let node = match elements(&value) {
            Ok(items) => Node {
                kind: NodeKind::List(items.iter().map(|(k, n)| reshape_element(k.as_deref(), n, &each, &inner)).collect()),
                origin: value.origin.clone(),
            },
            Err(n) => n,
        };
        set(out, &path, node);
    }
}

/// Outputs other than the id and name: `private_ip`, the firewall's private
/// address, known only when the call writes it (AVM 0.11 takes
/// `firewallPrivateIpAddress`); Azure assigns it otherwise.
pub(super) fn output(what: &str, body: &Node) -> Val {
    match what {
        "private_ip" => match body.present("call").and_then(|c| c.present("privateIp")).map(|n| n.to_val()) {
            Some(Val::String(s)) if !s.trim().is_empty() => Val::String(s),
            _ => Val::unknown("the firewall's private address is assigned by Azure at deployment"),
        },
        other => Val::unknown(format!("the output {other} of a registry module call is not read")),
    }
}

/// A `call.*` value the mapping put aside.
fn call_value(body: &Node, key: &str) -> Option<Node> {
    body.present("call").and_then(|c| c.present(key))
}

/// An id input whose empty string means "none" (the Bicep modules default
/// such parameters to `''` and test `!empty(…)`).
pub(super) fn id_input(node: Option<Node>) -> Option<Field<String>> {
    let node = node?;
    match node.to_val() {
        Val::String(s) if s.trim().is_empty() => None,
        Val::String(s) => Some(Field::Known(s, node.origin)),
        Val::Unknown(r) => Some(Field::unknown(Unresolved {
            reason: r.to_string(),
            origin: node.origin,
        })),
        other => Some(Field::unknown(Unresolved {
            reason: format!("expected a resource id, not a {}", other.type_name()),
            origin: node.origin,
        })),
    }
}

fn unchecked(model: &mut Model, call: &Call, reason: String, origin: &Origin) {
    model.unchecked.push((
        call.address.clone(),
        Unresolved {
            reason,
            origin: origin.clone(),
        },
    ));
}

/// Lowers the firewall family and gateways; `None` for the other kinds.
pub(super) fn lower(module: &ModuleMap, body: &Node, call: &Call) -> Option<Lowered> {
    let mut model = Model::default();
    let mut deferred = Deferred::default();
    let address = call.address.clone();
    match module.produces {
        Produces::Firewall => {
            let (mut fw, _) = azure::firewall(body, address.clone(), name_field(body, &call.origin), call.origin.clone());
            // The policy link is rebuilt: an empty id means the firewall has none.
            let policy = body
                .get("properties")
                .and_then(|p| p.present("firewallPolicy"))
                .and_then(|p| id_input(p.present("id")));
            if let Some(id) = policy {
                deferred.firewall_policies.push((address, Link::Id(id)));
            }
            if fw.private_ip.is_none() {
                if let Val::String(ip) = output("private_ip", body) {
                    fw.private_ip = Some(ip);
                }
            }
            model.firewalls.push(fw);
        }
        Produces::FirewallPolicy => {
            let name = name_field(body, &call.origin);
            let groups = call_value(body, "ruleCollectionGroups").map(|g| g.items());
            match groups {
                // Without its groups the policy is not registered, so a
                // firewall using it says its rules are not all known.
                Some(Err(why)) => {
                    unchecked(
                        &mut model,
                        call,
                        format!("the rule collection groups of the firewall policy are not known: {}", why.reason),
                        &why.origin,
                    );
                }
                groups => {
                    for g in groups.and_then(Result::ok).unwrap_or_default() {
                        let origin = g.origin.clone();
                        deferred
                            .groups
                            .push(azure::rule_collection_group(&g, Some(address.clone()), None, origin));
                    }
                    deferred.policies.push(azure::firewall_policy(body, address, name));
                }
            }
        }
        Produces::RuleCollectionGroup => match id_input(call_value(body, "firewallPolicyId")) {
            Some(Field::Known(id, _)) => {
                let parent = ResourceId::parse(&id).name().to_string();
                deferred
                    .groups
                    .push(azure::rule_collection_group(body, None, Some(parent), call.origin.clone()));
            }
            Some(Field::Unknown(u)) => unchecked(
                &mut model,
                call,
                format!("the firewall policy of this rule collection group is not known: {}", u.reason),
                &u.origin,
            ),
            None => unchecked(
                &mut model,
                call,
                "the call names no firewall policy for its rule collection group".into(),
                &call.origin,
            ),
        },
        Produces::Gateway => gateway(body, call, &mut model),
        Produces::RouteTable
        | Produces::Nsg
        | Produces::VirtualNetwork
        | Produces::Subnet
        | Produces::Peering
        | Produces::HubNetworking => return None,
    }
    Some(Lowered { model, deferred })
}

/// A gateway: its default site, type and BGP setting normalised into the REST
/// shape `azure::gateway` reads. A fact that decides and is not known is a
/// KG901 note at the input, never a guess either way.
fn gateway(body: &Node, call: &Call, model: &mut Model) {
    let props = body.get("properties");
    let prop = |k: &str| props.as_ref().and_then(|p| p.present(k));
    let mut open: Vec<Unresolved> = Vec::new();
    let mut norm: Vec<(String, Node)> = Vec::new();
    match id_input(prop("gatewayDefaultSite").and_then(|d| d.present("id"))) {
        Some(Field::Known(id, o)) => norm.push((
            "gatewayDefaultSite".into(),
            Node {
                kind: NodeKind::Object(vec![("id".into(), Node::value(Val::String(id), o.clone()))]),
                origin: o,
            },
        )),
        Some(Field::Unknown(u)) => open.push(*u),
        None => {}
    }
    if let Some(t) = prop("gatewayType") {
        match t.to_val() {
            Val::Unknown(r) => open.push(Unresolved {
                reason: format!("the gateway type is not known: {r}"),
                origin: t.origin.clone(),
            }),
            _ => norm.push(("gatewayType".into(), t)),
        }
    }
    // BGP: a flag (Bicep before 0.4, Terraform), or the cluster mode's name
    // (Bicep from 0.4: activeActiveBgp, activePassiveBgp, …NoBgp).
    let bgp = match (
        prop("enableBgp"),
        call_value(body, "cluster").and_then(|c| c.present("clusterMode")),
    ) {
        (Some(b), _) => Some(b),
        (None, Some(mode)) => Some(match mode.to_val() {
            Val::String(m) => Node::value(Val::Bool(m.ends_with("Bgp") && !m.ends_with("NoBgp")), mode.origin.clone()),
            other => Node::value(other, mode.origin.clone()),
        }),
        (None, None) => None,
    };
    if let Some(b) = bgp {
        match b.to_val() {
            Val::Bool(_) => norm.push(("enableBgp".into(), b)),
            Val::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => norm.push(("enableBgp".into(), b)),
            Val::Unknown(r) => open.push(Unresolved {
                reason: format!("whether the gateway uses BGP is not known: {r}"),
                origin: b.origin.clone(),
            }),
            other => open.push(Unresolved {
                reason: format!("whether the gateway uses BGP is a {}, not a bool", other.type_name()),
                origin: b.origin.clone(),
            }),
        }
    }
    let normalised = Node {
        kind: NodeKind::Object(vec![(
            "properties".into(),
            Node {
                kind: NodeKind::Object(norm),
                origin: body.origin.clone(),
            },
        )]),
        origin: body.origin.clone(),
    };
    match azure::gateway(
        &normalised,
        call.address.clone(),
        name_field(body, &call.origin),
        call.origin.clone(),
    ) {
        Some(mut g) => {
            // Shown at the input that makes the gateway bring routes in.
            let decisive = match g.kind {
                GatewayRoute::DefaultSite => normalised_at(&normalised, &["gatewayDefaultSite", "id"]),
                GatewayRoute::ExpressRoute => normalised_at(&normalised, &["gatewayType"]),
                GatewayRoute::Bgp => normalised_at(&normalised, &["enableBgp"]),
            };
            if let Some(o) = decisive.filter(|o| o.file == call.origin.file && o.span() != (0..0)) {
                g.origin = o;
            }
            // Its network: a GatewaySubnet id, or the network the module
            // puts (or finds) the GatewaySubnet in.
            g.subnet = match (
                id_input(call_value(body, "subnetId")),
                id_input(call_value(body, "virtualNetworkId")),
            ) {
                (Some(s), _) => Some(Link::Id(s)),
                (None, Some(Field::Known(v, o))) => Some(Link::Id(Field::Known(
                    format!("{}/subnets/GatewaySubnet", v.trim_end_matches('/')),
                    o,
                ))),
                (None, Some(u)) => Some(Link::Id(u)),
                (None, None) => None,
            };
            model.gateways.push(g);
        }
        None => {
            for u in open {
                unchecked(
                    model,
                    call,
                    format!("whether the gateway can bring a default route in is not known: {}", u.reason),
                    &u.origin,
                );
            }
        }
    }
}

fn normalised_at(node: &Node, path: &[&str]) -> Option<Origin> {
    let mut cur = node.present("properties")?;
    for k in path {
        cur = cur.present(k)?;
    }
    Some(cur.origin)
}

#[cfg(test)]
mod tests {
    use super::super::{catalogue, reshape};
    use super::*;
    use crate::source::FileId;

    fn s(v: &str) -> Val {
        Val::String(v.into())
    }

    fn obj(pairs: &[(&str, Val)]) -> Val {
        Val::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    /// The Terraform group's azurerm-shaped collections become REST
    /// collections with the constants the module's resource implies.
    #[test]
    fn nested_lists_and_constants_give_the_rest_shape() {
        let cat = catalogue();
        let m = cat
            .module("Azure/avm-res-network-firewallpolicy/azurerm//modules/rule_collection_groups")
            .expect("mapped");
        let k = m.known.last().expect("versions");
        let rule = obj(&[
            ("name", s("kms")),
            ("protocols", Val::List(vec![s("TCP")])),
            ("destination_ports", Val::List(vec![s("1688")])),
        ]);
        let inputs = obj(&[
            ("firewall_policy_rule_collection_group_name", s("g")),
            (
                "firewall_policy_rule_collection_group_network_rule_collection",
                Val::List(vec![obj(&[
                    ("name", s("c")),
                    ("priority", Val::Number(100.0)),
                    ("action", s("Allow")),
                    ("rule", Val::List(vec![rule])),
                ])]),
            ),
        ]);
        let body = reshape(m, k, &Node::value(inputs, Origin::new(FileId(0), 0..0)));
        let collection = obj(&[
            ("ruleCollectionType", s("FirewallPolicyFilterRuleCollection")),
            (
                "rules",
                Val::List(vec![obj(&[
                    ("ruleType", s("NetworkRule")),
                    ("name", s("kms")),
                    ("ipProtocols", Val::List(vec![s("TCP")])),
                    ("destinationPorts", Val::List(vec![s("1688")])),
                ])]),
            ),
            ("name", s("c")),
            ("priority", Val::Number(100.0)),
            ("action", obj(&[("type", s("Allow"))])),
        ]);
        assert_eq!(
            body.get("properties")
                .and_then(|p| p.present("ruleCollections"))
                .map(|c| c.to_val()),
            Some(Val::List(vec![collection]))
        );
    }

    #[test]
    fn an_empty_id_is_no_link_and_an_unknown_one_stays_unknown() {
        let o = Origin::new(FileId(0), 0..0);
        assert!(id_input(Some(Node::value(s(""), o.clone()))).is_none());
        assert!(id_input(None).is_none());
        assert!(matches!(id_input(Some(Node::value(s("/x/y"), o.clone()))), Some(Field::Known(..))));
        assert!(matches!(
            id_input(Some(Node::value(Val::unknown("a parameter"), o))),
            Some(Field::Unknown(_))
        ));
    }
}
