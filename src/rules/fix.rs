//! Writes the code a fix adds, in the style of the file it goes into.

use std::net::IpAddr;

use crate::model::{Dialect, RouteStyle, RouteTable};
use crate::policy::Endpoint;

/// Route names for `addrs` that do not clash with the table's own.
pub fn route_names(table: &RouteTable, endpoint: &Endpoint, count: usize) -> Vec<String> {
    let base = if endpoint.id == "kms" {
        "azure-kms".to_string()
    } else {
        endpoint.id.clone()
    };
    let taken: Vec<String> = table
        .routes
        .iter()
        .filter_map(|r| r.name.known().map(|n| n.to_ascii_lowercase()))
        .collect();
    let mut names = Vec::new();
    let mut n = 1;
    while names.len() < count {
        let candidate = format!("{base}-{n}");
        if !taken.contains(&candidate) {
            names.push(candidate);
        }
        n += 1;
    }
    names
}

/// A host route's prefix: /32, or /128 for IPv6.
pub fn host_prefix(addr: &IpAddr) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}/32"),
        IpAddr::V6(a) => format!("{a}/128"),
    }
}

/// The routes that send `addrs` to next hop Internet.
pub fn add_routes(table: &RouteTable, endpoint: &Endpoint, addrs: &[IpAddr]) -> String {
    let names = route_names(table, endpoint, addrs.len());
    let ind = &table.authoring.indent;
    let mut out = String::new();
    for (name, addr) in names.iter().zip(addrs) {
        let prefix = host_prefix(addr);
        match (table.authoring.dialect, &table.authoring.style) {
            (Dialect::Terraform, RouteStyle::Inline) => {
                out.push_str(&format!(
                    "{ind}route {{\n{ind}  name           = \"{name}\"\n{ind}  address_prefix = \"{prefix}\"\n{ind}  next_hop_type  = \"Internet\"\n{ind}}}\n"
                ));
            }
            (Dialect::Terraform, RouteStyle::AttributeList) => {
                // In the attribute form every attribute must be set, so the IP is an explicit null.
                out.push_str(&format!(
                    "{ind}{{\n{ind}  name                   = \"{name}\"\n{ind}  address_prefix         = \"{prefix}\"\n{ind}  next_hop_type          = \"Internet\"\n{ind}  next_hop_in_ip_address = null\n{ind}}},\n"
                ));
            }
            (Dialect::Terraform, RouteStyle::Separate) => {
                let reference = &table.authoring.reference;
                let label = name.replace('-', "_");
                out.push_str(&format!(
                    "resource \"azurerm_route\" \"{label}\" {{\n  name                = \"{name}\"\n  resource_group_name = {reference}.resource_group_name\n  route_table_name    = {reference}.name\n  address_prefix      = \"{prefix}\"\n  next_hop_type       = \"Internet\"\n}}\n"
                ));
            }
            (Dialect::Terraform, RouteStyle::AzapiBody) => {
                out.push_str(&format!(
                    "{ind}{{\n{ind}  name = \"{name}\"\n{ind}  properties = {{\n{ind}    addressPrefix = \"{prefix}\"\n{ind}    nextHopType   = \"Internet\"\n{ind}  }}\n{ind}}},\n"
                ));
            }
            (Dialect::Terraform, RouteStyle::ModuleMap) => {
                let key = name.replace('-', "_");
                out.push_str(&format!(
                    "{ind}{key} = {{\n{ind}  name           = \"{name}\"\n{ind}  address_prefix = \"{prefix}\"\n{ind}  next_hop_type  = \"Internet\"\n{ind}}}\n"
                ));
            }
            (Dialect::Bicep, _) => {
                out.push_str(&format!(
                    "{ind}{{\n{ind}  name: '{name}'\n{ind}  properties: {{\n{ind}    addressPrefix: '{prefix}'\n{ind}    nextHopType: 'Internet'\n{ind}  }}\n{ind}}}\n"
                ));
            }
            (Dialect::Arm, _) => {
                out.push_str(&format!(
                    "{ind}{{\n{ind}  \"name\": \"{name}\",\n{ind}  \"properties\": {{\n{ind}    \"addressPrefix\": \"{prefix}\",\n{ind}    \"nextHopType\": \"Internet\"\n{ind}  }}\n{ind}}},\n"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit::*;

    #[test]
    fn inline_routes_follow_the_tables_indentation_and_avoid_taken_names() {
        let mut t = table("rt", vec![route("azure-kms-1", "23.102.135.246/32", "Internet")]);
        t.authoring.indent = "    ".into();
        let p = policy();
        let kms = p.endpoints.iter().find(|e| e.id == "kms").expect("kms");
        let addrs: Vec<IpAddr> = vec!["20.118.99.224".parse().expect("ip")];
        assert_eq!(
            add_routes(&t, kms, &addrs),
            "    route {\n      name           = \"azure-kms-2\"\n      address_prefix = \"20.118.99.224/32\"\n      next_hop_type  = \"Internet\"\n    }\n"
        );
    }

    #[test]
    fn separate_route_resources_reference_their_table() {
        let mut t = table("hub", vec![]);
        t.authoring.style = RouteStyle::Separate;
        let p = policy();
        let kms = p.endpoints.iter().find(|e| e.id == "kms").expect("kms");
        let s = add_routes(&t, kms, &["40.83.235.53".parse().expect("ip")]);
        assert!(s.contains("route_table_name    = azurerm_route_table.hub.name"), "{s}");
        assert!(s.starts_with("resource \"azurerm_route\" \"azure_kms_1\""), "{s}");
    }
}
