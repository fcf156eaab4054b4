//! `azurerm_virtual_network_gateway`: kept only when it can bring a
//! 0.0.0.0/0 into subnets, with why.

use super::expand::{instances, resource_fields};
use super::links::ip_configuration_subnet;
use super::{name, Lowering, ResourceBlock};
use crate::ingest::terraform::eval::Evaluator;
use crate::model::{Field, Gateway, GatewayRoute};

pub(super) fn gateway<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let is_true = |k: &str| matches!(fields.bool(k), Some(Field::Known(true, _)));
        let is_type = |want: &str| matches!(fields.string("type"), Some(Field::Known(t, _)) if t.eq_ignore_ascii_case(want));
        let (kind, reason) = if fields.present("default_local_network_gateway_id").is_some() {
            (
                GatewayRoute::DefaultSite,
                "has a default site (default_local_network_gateway_id), which forces internet traffic to on-premises",
            )
        } else if is_type("ExpressRoute") {
            (
                GatewayRoute::ExpressRoute,
                "is an ExpressRoute gateway, so on-premises routes (a 0.0.0.0/0 among them) arrive over BGP",
            )
        } else if is_true("enable_bgp") || is_true("bgp_enabled") {
            (GatewayRoute::Bgp, "has BGP enabled, so on-premises can advertise 0.0.0.0/0")
        } else {
            continue;
        };
        // Its network is the one whose GatewaySubnet its IP configuration names.
        let subnet = ip_configuration_subnet(ev, r, &inst);
        l.model.gateways.push(Gateway {
            address: inst.address,
            namespace: 0,
            name: name(&fields),
            origin: fields.origin.clone(),
            reason: reason.into(),
            kind,
            subnet,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;

    #[test]
    fn only_gateways_that_can_bring_a_default_route_are_kept() {
        let text = r#"resource "azurerm_virtual_network_gateway" "plain" {
  name = "vgw-plain"
  type = "Vpn"
}
resource "azurerm_virtual_network_gateway" "bgp" {
  name       = "vgw-bgp"
  type       = "Vpn"
  enable_bgp = true
}
resource "azurerm_virtual_network_gateway" "er" {
  name = "vgw-er"
  type = "expressroute"
}
resource "azurerm_virtual_network_gateway" "site" {
  name                             = "vgw-site"
  type                             = "Vpn"
  bgp_enabled                      = false
  default_local_network_gateway_id = azurerm_local_network_gateway.onprem.id
}
"#;
        let m = lower_tf(text);
        let kept: Vec<(String, &str)> = m.gateways.iter().map(|g| (show(&g.name), g.reason.as_str())).collect();
        assert_eq!(kept.len(), 3, "{kept:?}");
        assert!(kept[0].0 == "vgw-bgp" && kept[0].1.starts_with("has BGP enabled"), "{kept:?}");
        assert!(
            kept[1].0 == "vgw-er" && kept[1].1.starts_with("is an ExpressRoute gateway"),
            "{kept:?}"
        );
        assert!(kept[2].0 == "vgw-site" && kept[2].1.starts_with("has a default site"), "{kept:?}");
    }

    #[test]
    fn bgp_off_or_unknown_is_not_a_default_route() {
        let text = r#"resource "azurerm_virtual_network_gateway" "a" {
  name        = "vgw-a"
  bgp_enabled = false
}
resource "azurerm_virtual_network_gateway" "b" {
  name       = "vgw-b"
  enable_bgp = var.bgp
}
"#;
        let m = lower_tf_with(text, &[("bgp", crate::ingest::value::Val::unknown("var.bgp has no value"))]);
        assert!(m.gateways.is_empty(), "{:?}", m.gateways);
    }
}
