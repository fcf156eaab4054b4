//! `azurerm_network_security_group` with its `security_rule` blocks
//! (static, `dynamic` or the attribute-form list), and
//! `azurerm_network_security_rule` resources attached to their NSG by name.

use super::expand::{attribute_list, instances, nested_blocks, resource_fields};
use super::links::resolve_parent;
use super::{known_string, missing, name, Lowering, ResourceBlock};
use crate::ingest::terraform::eval::Evaluator;
use crate::ingest::terraform::fields::Fields;
use crate::model::{Access, AddressMatch, Dialect, Direction, Nsg, Orphan, OrphanChild, PortRange, Protocol, SecurityRule};

pub(super) fn nsg<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        l.nsgs_by_name
            .entry(r.name)
            .or_default()
            .push((l.model.nsgs.len(), inst.key.clone()));
        let fields = resource_fields(ev, r, &inst);
        let (blocks, mut incomplete) = nested_blocks(ev, &r.block.body, "security_rule", r.file, &inst.scope);
        let mut rules: Vec<SecurityRule> = blocks
            .iter()
            .map(|(body, scope, origin)| lower_rule(&Fields::from_body(ev, body, &r.file.text, r.file.file, scope, origin.clone())))
            .collect();
        let (listed, more_incomplete) = attribute_list(ev, &r.block.body, "security_rule", r.file, &inst.scope);
        rules.extend(listed.iter().map(lower_rule));
        incomplete.extend(more_incomplete);
        l.model.nsgs.push(Nsg {
            rules,
            incomplete,
            conditional: inst.conditional,
            resource_group: known_string(&fields, "resource_group_name"),
            ..Nsg::new(inst.address, name(&fields), fields.origin.clone(), Dialect::Terraform)
        });
    }
}

pub(in crate::ingest::terraform) fn lower_rule(f: &Fields) -> SecurityRule {
    let addresses = |single: &str, plural: &str, asgs: &str| {
        let mut v = f.list(single, AddressMatch::parse, "an address prefix or service tag");
        v.extend(f.list(plural, AddressMatch::parse, "an address prefix or service tag"));
        v.extend(f.list(
            asgs,
            |s| Some(AddressMatch::ApplicationSecurityGroup(s.to_string())),
            "an application security group id",
        ));
        v
    };
    let mut ports = f.list("destination_port_range", PortRange::parse, "a port or port range");
    ports.extend(f.list("destination_port_ranges", PortRange::parse, "a port or port range"));
    SecurityRule {
        name: name(f),
        priority: f
            .parsed(
                "priority",
                |s| s.parse::<f64>().ok().filter(|p| p.fract() == 0.0 && *p >= 0.0).map(|p| p as u32),
                "a whole number",
            )
            .unwrap_or_else(|| missing(f, "priority")),
        direction: f
            .parsed("direction", Direction::parse, "Inbound or Outbound")
            .unwrap_or_else(|| missing(f, "direction")),
        access: f
            .parsed("access", Access::parse, "Allow or Deny")
            .unwrap_or_else(|| missing(f, "access")),
        protocol: f
            .parsed("protocol", Protocol::parse, "a protocol")
            .unwrap_or_else(|| missing(f, "protocol")),
        sources: addresses(
            "source_address_prefix",
            "source_address_prefixes",
            "source_application_security_group_ids",
        ),
        destinations: addresses(
            "destination_address_prefix",
            "destination_address_prefixes",
            "destination_application_security_group_ids",
        ),
        destination_ports: ports,
        origin: f.origin.clone(),
        resource: None,
    }
}

/// `azurerm_network_security_rule`: joins the NSG it names, every instance
/// of it; a rule whose NSG is unknown might belong to any NSG of the module.
pub(super) fn rule<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let mut rule = SecurityRule {
            resource: Some(inst.address.clone()),
            ..lower_rule(&fields)
        };
        if let Some(c) = &inst.conditional {
            rule.exists_only_if(&inst.address, c);
        }
        let nsgs = &l.model.nsgs;
        let group = known_string(&fields, "resource_group_name");
        let target = resolve_parent(
            ev,
            r,
            &inst,
            "network_security_group_name",
            "azurerm_network_security_group",
            &l.nsgs_by_name,
            |i| nsgs.get(i).map(|n| &n.name),
            |i| nsgs.get(i).and_then(|n| n.resource_group.as_ref()),
            group.as_deref(),
        );
        if let Some((rule, parent_name, parent_label, origin)) =
            target.attach(&mut l.model.nsgs, rule, |n, r| n.rules.push(r), |n, why| n.incomplete.push(why))
        {
            l.model.orphans.push(Orphan {
                child: OrphanChild::Rule(rule),
                parent_name,
                resource_group: group,
                parent_label,
                origin,
                dialect: Dialect::Terraform,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::model::{Access, Direction, Field, Protocol};

    #[test]
    fn inline_rules_with_every_field() {
        let text = r#"resource "azurerm_network_security_group" "app" {
  name = "nsg-app"
  security_rule {
    name                         = "deny-kms"
    priority                     = 100
    direction                    = "Outbound"
    access                       = "Deny"
    protocol                     = "Tcp"
    source_address_prefix        = "*"
    destination_address_prefixes = ["AzurePlatformLKM", "10.0.0.0/8"]
    destination_port_ranges      = ["1688", "1000-2000"]
  }
}
"#;
        let m = lower_tf(text);
        let [n] = m.nsgs.as_slice() else { panic!("one NSG") };
        assert_eq!(show(&n.name), "nsg-app");
        let [r] = n.rules.as_slice() else { panic!("one rule") };
        assert_eq!(show(&r.name), "deny-kms");
        assert!(matches!(r.priority, Field::Known(100, _)));
        assert!(matches!(r.direction, Field::Known(Direction::Outbound, _)));
        assert!(matches!(r.access, Field::Known(Access::Deny, _)));
        assert!(matches!(r.protocol, Field::Known(Protocol::Tcp, _)));
        assert_eq!(r.sources.iter().map(show).collect::<Vec<_>>(), ["*"]);
        assert_eq!(
            r.destinations.iter().map(show).collect::<Vec<_>>(),
            ["AzurePlatformLKM", "10.0.0.0/8"]
        );
        assert_eq!(r.destination_ports.iter().map(show).collect::<Vec<_>>(), ["1688", "1000-2000"]);
        assert_eq!(r.resource, None);
    }

    #[test]
    fn separate_rules_join_their_nsg_by_reference_and_by_name() {
        let text = r#"resource "azurerm_network_security_group" "a" {
  name = "nsg-a"
}
resource "azurerm_network_security_group" "b" {
  name = "nsg-b"
  security_rule = [
    { name = "listed", priority = 300, direction = "Inbound", access = "Allow", protocol = "*" },
  ]
}
resource "azurerm_network_security_rule" "by_ref" {
  name                        = "r1"
  priority                    = 100
  network_security_group_name = azurerm_network_security_group.a.name
}
resource "azurerm_network_security_rule" "by_name" {
  name                        = "r2"
  network_security_group_name = "nsg-b"
}
"#;
        let m = lower_tf(text);
        let [a, b] = m.nsgs.as_slice() else { panic!("two NSGs") };
        assert_eq!(a.rules.iter().map(|r| show(&r.name)).collect::<Vec<_>>(), ["r1"]);
        assert_eq!(a.rules[0].resource.as_deref(), Some("azurerm_network_security_rule.by_ref"));
        assert_eq!(b.rules.iter().map(|r| show(&r.name)).collect::<Vec<_>>(), ["listed", "r2"]);
        assert_eq!(why(&b.rules[1].priority), "priority is not set");
    }

    #[test]
    fn a_priority_that_is_not_a_whole_number_is_unknown() {
        let m = lower_tf(
            "resource \"azurerm_network_security_group\" \"a\" {\n  security_rule {\n    priority = 1.5\n  }\n  security_rule {\n    priority = -1\n  }\n}\n",
        );
        let rules = &m.nsgs[0].rules;
        assert_eq!(rules.len(), 2);
        assert!(rules.iter().all(|r| r.priority.known().is_none()), "{rules:?}");
    }
}
