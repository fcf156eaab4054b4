//! `azurerm_subnet`, the `subnet` blocks of `azurerm_virtual_network`, and
//! the subnet associations with route tables and NSGs.

use super::expand::{instances, nested_blocks, resource_fields};
use super::links::{link_attr, link_of, links_to, name_link};
use super::{known_string, name, Lowering, ResourceBlock};
use crate::ingest::terraform::eval::Evaluator;
use crate::ingest::terraform::fields::Fields;
use crate::model::{Field, Link, Peering, ResourceId, Subnet, VirtualNetwork};

pub(super) fn subnet<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let vnet = r
            .block
            .body
            .get_attribute("virtual_network_name")
            .map(|a| name_link(ev, &a.value, "azurerm_virtual_network", r.file, &inst.scope));
        l.model.subnets.push(Subnet {
            vnet,
            ..Subnet::new(inst.address, name(&fields), fields.origin.clone())
        });
    }
}

/// `azurerm_virtual_network_peering`: the local network by name, the remote
/// one by id, and whether the local side uses the remote side's gateway.
pub(super) fn peering<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        // Both default to false.
        let flag = |k: &str| fields.bool(k).unwrap_or_else(|| Field::Known(false, fields.origin.clone()));
        l.model.peerings.push(Peering {
            address: inst.address.clone(),
            namespace: 0,
            origin: fields.origin.clone(),
            vnet: r
                .block
                .body
                .get_attribute("virtual_network_name")
                .map(|a| name_link(ev, &a.value, "azurerm_virtual_network", r.file, &inst.scope)),
            remote: link_attr(ev, r, &inst, "remote_virtual_network_id", "azurerm_virtual_network"),
            use_remote_gateways: flag("use_remote_gateways"),
            allow_gateway_transit: flag("allow_gateway_transit"),
        });
    }
}

/// A virtual network's inline `subnet` blocks, each with the table and NSG
/// it names.
pub(super) fn virtual_network<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        l.model.vnets.push(VirtualNetwork {
            address: inst.address.clone(),
            namespace: 0,
            name: name(&fields),
            resource_group: known_string(&fields, "resource_group_name"),
            origin: fields.origin.clone(),
        });
        let vnet = Link::Address(inst.address.clone(), fields.origin.clone(), 0);
        let (blocks, _) = nested_blocks(ev, &r.block.body, "subnet", r.file, &inst.scope);
        for (body, scope, origin) in blocks {
            let f = Fields::from_body(ev, body, &r.file.text, r.file.file, &scope, origin);
            let name = name(&f);
            let label = name.known().cloned().unwrap_or_else(|| "?".into());
            // azurerm 4 names the table on the subnet block; azurerm 3 names the NSG.
            let route_table = body
                .get_attribute("route_table_id")
                .map(|a| link_of(ev, &a.value, "azurerm_route_table", r.file, &scope));
            let nsg = body
                .get_attribute("security_group")
                .or_else(|| body.get_attribute("network_security_group_id"))
                .map(|a| link_of(ev, &a.value, "azurerm_network_security_group", r.file, &scope));
            l.model.subnets.push(Subnet {
                route_table,
                nsg,
                vnet: Some(vnet.clone()),
                ..Subnet::new(format!("{}.subnet[{label:?}]", inst.address), name, f.origin.clone())
            });
        }
    }
}

/// `azurerm_subnet_route_table_association` and
/// `azurerm_subnet_network_security_group_association`.
pub(super) fn association<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    let is_table = r.ty == "azurerm_subnet_route_table_association";
    let (attr, target) = if is_table {
        ("route_table_id", "azurerm_route_table")
    } else {
        ("network_security_group_id", "azurerm_network_security_group")
    };
    for inst in instances(ev, r) {
        let Some(subnet) = link_attr(ev, r, &inst, "subnet_id", "azurerm_subnet") else {
            continue;
        };
        let Some(link) = link_attr(ev, r, &inst, attr, target) else {
            continue;
        };
        // A subnet id names its network too: a subnet of the same name in
        // another network is not the one associated.
        let id_vnet = match &subnet {
            Link::Id(Field::Known(id, _)) => ResourceId::parse(id).vnet_of_subnet().map(str::to_ascii_lowercase),
            _ => None,
        };
        let vnets = &l.model.vnets;
        let vnet_name = |sn: &Subnet| -> Option<String> {
            match sn.vnet.as_ref()? {
                Link::Id(Field::Known(n, _)) => Some(ResourceId::parse(n).name().to_ascii_lowercase()),
                Link::Address(a, _, _) => vnets
                    .iter()
                    .find(|v| &v.address == a)
                    .and_then(|v| v.name.known().map(|n| n.to_ascii_lowercase())),
                Link::Id(Field::Unknown(_)) => None,
            }
        };
        let targets: Vec<usize> = (0..l.model.subnets.len())
            .filter(|i| {
                l.model.subnets.get(*i).is_some_and(|sn| {
                    links_to(&subnet, &sn.address, &sn.name)
                        && match (&id_vnet, vnet_name(sn)) {
                            (Some(a), Some(b)) => *a == b,
                            _ => true,
                        }
                })
            })
            .collect();
        for (_, sn) in l.model.subnets.iter_mut().enumerate().filter(|(i, _)| targets.contains(i)) {
            if is_table {
                sn.route_table = Some(link.clone());
            } else {
                sn.nsg = Some(link.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::model::{Field, Link};

    fn address(link: &Option<Link>) -> Option<&str> {
        match link {
            Some(Link::Address(a, _, _)) => Some(a),
            _ => None,
        }
    }

    #[test]
    fn associations_link_subnets_to_tables_and_nsgs() {
        let text = r#"resource "azurerm_subnet" "app" {
  name = "snet-app"
}
resource "azurerm_subnet" "other" {
  name = "snet-other"
}
resource "azurerm_subnet_route_table_association" "app" {
  subnet_id      = azurerm_subnet.app.id
  route_table_id = azurerm_route_table.hub.id
}
resource "azurerm_subnet_network_security_group_association" "app" {
  subnet_id                 = azurerm_subnet.app.id
  network_security_group_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/networkSecurityGroups/nsg-app"
}
"#;
        let m = lower_tf(text);
        let [app, other] = m.subnets.as_slice() else {
            panic!("two subnets")
        };
        assert_eq!(app.address, "azurerm_subnet.app");
        assert_eq!(show(&app.name), "snet-app");
        assert_eq!(address(&app.route_table), Some("azurerm_route_table.hub"));
        assert!(matches!(&app.nsg, Some(Link::Id(Field::Known(id, _))) if id.ends_with("/nsg-app")));
        assert_eq!((&other.route_table, &other.nsg), (&None, &None));
    }

    #[test]
    fn inline_vnet_subnets_name_their_table_and_nsg() {
        let text = r#"resource "azurerm_virtual_network" "hub" {
  name = "vnet-hub"
  subnet {
    name           = "snet-a"
    route_table_id = azurerm_route_table.spoke["a"].id
    security_group = azurerm_network_security_group.a.id
  }
  subnet {
    name                      = "snet-b"
    network_security_group_id = azurerm_network_security_group.b.id
  }
}
"#;
        let m = lower_tf(text);
        let [a, b] = m.subnets.as_slice() else { panic!("two subnets") };
        assert_eq!(a.address, r#"azurerm_virtual_network.hub.subnet["snet-a"]"#);
        assert_eq!(address(&a.route_table), Some(r#"azurerm_route_table.spoke["a"]"#));
        assert_eq!(address(&a.nsg), Some("azurerm_network_security_group.a"));
        assert_eq!(address(&b.route_table), None);
        assert_eq!(address(&b.nsg), Some("azurerm_network_security_group.b"));
    }

    #[test]
    fn an_association_to_a_subnet_not_in_the_code_changes_nothing() {
        let m = lower_tf(
            "resource \"azurerm_subnet\" \"a\" {\n  name = \"snet-a\"\n}\nresource \"azurerm_subnet_route_table_association\" \"x\" {\n  subnet_id      = azurerm_subnet.b.id\n  route_table_id = azurerm_route_table.hub.id\n}\n",
        );
        assert_eq!(m.subnets[0].route_table, None);
    }

    #[test]
    fn an_association_by_id_joins_the_subnet_of_the_named_network_only() {
        let text = r#"resource "azurerm_virtual_network" "a" {
  name = "vnet-a"
}
resource "azurerm_subnet" "a" {
  name                 = "snet-app"
  virtual_network_name = azurerm_virtual_network.a.name
}
resource "azurerm_subnet" "b" {
  name                 = "snet-app"
  virtual_network_name = "vnet-b"
}
resource "azurerm_subnet_route_table_association" "a" {
  subnet_id      = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/vnet-a/subnets/snet-app"
  route_table_id = azurerm_route_table.hub.id
}
resource "azurerm_subnet_route_table_association" "b" {
  subnet_id      = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/vnet-b/subnets/snet-app"
  route_table_id = azurerm_route_table.other.id
}
"#;
        let m = lower_tf(text);
        let [a, b] = m.subnets.as_slice() else { panic!("two subnets") };
        assert_eq!(address(&a.route_table), Some("azurerm_route_table.hub"));
        assert_eq!(address(&b.route_table), Some("azurerm_route_table.other"));
    }
}
