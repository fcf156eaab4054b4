//! `azurerm_network_interface` with the subnets of its `ip_configuration`
//! blocks, and the NSG associations of network interfaces.

use super::expand::{instances, nested_blocks, resource_fields};
use super::links::{link_attr, link_of, links_to};
use super::{name, Lowering, ResourceBlock};
use crate::ingest::terraform::eval::Evaluator;
use crate::model::NetworkInterface;

pub(super) fn nic<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let (blocks, _) = nested_blocks(ev, &r.block.body, "ip_configuration", r.file, &inst.scope);
        let subnets = blocks
            .iter()
            .filter_map(|(body, scope, _)| {
                body.get_attribute("subnet_id")
                    .map(|a| link_of(ev, &a.value, "azurerm_subnet", r.file, scope))
            })
            .collect();
        l.model.nics.push(NetworkInterface {
            address: inst.address,
            namespace: 0,
            name: name(&fields),
            origin: fields.origin.clone(),
            subnets,
            nsg: None,
        });
    }
}

/// `azurerm_network_interface_security_group_association`.
pub(super) fn nsg_association<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let (Some(nic), Some(nsg)) = (
            link_attr(ev, r, &inst, "network_interface_id", "azurerm_network_interface"),
            link_attr(ev, r, &inst, "network_security_group_id", "azurerm_network_security_group"),
        ) else {
            continue;
        };
        for n in l.model.nics.iter_mut().filter(|n| links_to(&nic, &n.address, &n.name)) {
            n.nsg = Some(nsg.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::model::Link;

    fn addresses(links: &[Link]) -> Vec<&str> {
        links
            .iter()
            .filter_map(|l| match l {
                Link::Address(a, _, _) => Some(a.as_str()),
                Link::Id(_) => None,
            })
            .collect()
    }

    #[test]
    fn a_nic_names_its_subnets_and_gets_its_nsg_from_the_association() {
        let text = r#"resource "azurerm_network_interface" "vm" {
  name = "nic-vm"
  ip_configuration {
    name      = "primary"
    subnet_id = azurerm_subnet.app.id
  }
  ip_configuration {
    name      = "secondary"
    subnet_id = azurerm_subnet.data.id
  }
}
resource "azurerm_network_interface_security_group_association" "vm" {
  network_interface_id      = azurerm_network_interface.vm.id
  network_security_group_id = azurerm_network_security_group.vm.id
}
"#;
        let m = lower_tf(text);
        let [nic] = m.nics.as_slice() else { panic!("one NIC") };
        assert_eq!(show(&nic.name), "nic-vm");
        assert_eq!(addresses(&nic.subnets), ["azurerm_subnet.app", "azurerm_subnet.data"]);
        assert_eq!(addresses(nic.nsg.as_slice()), ["azurerm_network_security_group.vm"]);
    }

    #[test]
    fn an_association_missing_either_side_is_ignored() {
        let text = r#"resource "azurerm_network_interface" "vm" {
  name = "nic-vm"
}
resource "azurerm_network_interface_security_group_association" "half" {
  network_interface_id = azurerm_network_interface.vm.id
}
resource "azurerm_network_interface_security_group_association" "other" {
  network_interface_id      = azurerm_network_interface.other.id
  network_security_group_id = azurerm_network_security_group.x.id
}
"#;
        let m = lower_tf(text);
        assert_eq!(m.nics[0].nsg, None);
        assert!(m.nics[0].subnets.is_empty());
    }
}
