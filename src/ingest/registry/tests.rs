//! The catalogue against the versions it was checked with, version
//! matching, and reshaping.

use super::catalogue::Catalogue;
use super::version::Version;
use super::*;
use crate::ingest::azure::{self, Node};
use crate::ingest::value::Val;
use crate::model::{Dialect, Model};
use crate::source::Origin;

#[test]
fn the_embedded_catalogue_parses_and_every_mapped_module_has_known_versions() {
    let cat = Catalogue::parse(MAPPING, VERSIONS).expect("avm.hcl and versions.hcl parse");
    assert!(cat.modules.len() >= 6);
    for m in &cat.modules {
        assert!(!m.known.is_empty(), "{} has no versions in versions.hcl", m.name);
    }
}

#[test]
fn the_embedded_silent_list_parses_and_names_no_mapped_module() {
    let cat = Catalogue::parse(MAPPING, VERSIONS)
        .and_then(|c| Ok(c.with_silent(SILENT)?))
        .expect("silent.hcl parses");
    assert!(cat.silent_bicep.len() > 100);
    assert!(cat.silent_bicep.iter().any(|s| s == "avm/res/key-vault/vault"));
}

#[test]
fn the_silent_list_parser_rejects_malformed_entries() {
    let cat = || Catalogue::parse(MAPPING, VERSIONS).expect("parses");
    assert!(cat()
        .with_silent("silent_bicep = [\"avm/res/key-vault/vault\", \"avm/ptn/alz/ama\"]")
        .is_ok());
    for bad in [
        // Not a module path, or not spelled as the registry spells it.
        "silent_bicep = [\"key-vault/vault\"]",
        "silent_bicep = [\"avm/res/key-vault\"]",
        "silent_bicep = [\"avm/utl/types/avm-common-types\"]",
        "silent_bicep = [\"avm/res/Key-Vault/vault\"]",
        "silent_bicep = [\"avm/res/key-vault//vault\"]",
        "silent_bicep = [\"avm/res/key-vault/vault:0.1.0\"]",
        "silent_bicep = [\"br/public:avm/res/key-vault/vault\"]",
        "silent_bicep = [\" avm/res/key-vault/vault\"]",
        // Not a list of strings.
        "silent_bicep = [42]",
        "silent_bicep = \"avm/res/key-vault/vault\"",
        "silent_bicep = [\"avm/res/key-vault/vault\", \"avm/res/key-vault/vault\"]",
        // Anything else in the file.
        "silent_terraform = [\"Azure/avm-res-keyvault-vault/azurerm\"]",
        "module \"avm/res/key-vault/vault\" {}",
        // A module the mapping reads would never be lowered.
        "silent_bicep = [\"avm/res/network/route-table\"]",
        "silent_bicep = [",
    ] {
        assert!(cat().with_silent(bad).is_err(), "{bad}");
    }
}

/// The mapping was checked against every version it covers: each input
/// a version declares is read or ignored, and each input read is declared.
#[test]
fn the_mapping_accounts_for_every_input_of_every_covered_version() {
    let cat = Catalogue::parse(MAPPING, VERSIONS).expect("parses");
    for m in &cat.modules {
        for k in m.known.iter().filter(|k| m.covers(k.version)) {
            let read: Vec<&str> = m.inputs_for(k.version).map(|(_, i)| i.name.as_str()).collect();
            for input in k.inputs.keys() {
                assert!(
                    read.contains(&input.as_str()) || m.ignore.contains(input),
                    "{} {}: input {input} is neither mapped nor ignored",
                    m.name,
                    k.version
                );
            }
            for r in &read {
                assert!(
                    k.inputs.contains_key(*r),
                    "{} {}: maps {r}, which it does not declare",
                    m.name,
                    k.version
                );
            }
        }
    }
}

#[test]
fn both_bicep_reference_forms_resolve_and_silent_modules_are_silent() {
    let cat = catalogue();
    for r in [
        "br/public:avm/res/network/route-table:0.4.0",
        "br:mcr.microsoft.com/bicep/avm/res/network/route-table:0.4.0",
    ] {
        assert!(matches!(cat.bicep(r), Some(Resolution::Mapped { exact: true, .. })), "{r}");
    }
    assert!(matches!(
        cat.bicep("br/public:avm/res/network/private-dns-zone:0.6.0"),
        Some(Resolution::Silent)
    ));
    // Neither mapped nor silent, not AVM, or not the public registry: the
    // caller reports them as before.
    assert!(cat.bicep("br/public:avm/res/compute/virtual-machine:0.1.0").is_none());
    assert!(cat.bicep("br:contoso.azurecr.io/bicep/avm/res/network/route-table:0.4.0").is_none());
    assert!(cat.bicep("ts/specs:rt:1.0").is_none());
}

#[test]
fn an_unknown_patch_is_read_like_its_minor_only_when_the_minor_is_stable() {
    let cat = catalogue();
    // route-table 0.2.x: 0.2.0–0.2.3 read routes the same way.
    match cat.bicep("br/public:avm/res/network/route-table:0.2.9") {
        Some(Resolution::Mapped { version, exact, .. }) => {
            assert!(!exact);
            assert_eq!(version.version, Version(0, 2, 3));
        }
        _ => panic!("0.2.9 should be read as 0.2.3"),
    }
    // No 0.9.x is known.
    match cat.bicep("br/public:avm/res/network/route-table:0.9.0") {
        Some(Resolution::Unchecked(why)) => {
            assert!(why.contains("0.9.0") && why.contains("0.4.0, 0.4.1"), "{why}");
        }
        _ => panic!("0.9.0 is unknown"),
    }
}

#[test]
fn a_minor_whose_read_inputs_changed_is_not_assumed() {
    // A made-up catalogue: 1.0.0 and 1.0.2 declare `routes` with different types.
    let versions = r#"
module "m" {
  version "1.0.0" {
    inputs = { name = "a", routes = "x" }
  }
  version "1.0.2" {
    inputs = { name = "a", routes = "y" }
  }
}"#;
    let mapping = r#"
module "m" {
  produces = "route_table"
  input "name" { to = "name" }
  input "routes" { to = "properties.routes" }
}"#;
    let cat = Catalogue::parse(mapping, versions).expect("parses");
    let m = cat.module("m").expect("m");
    assert!(matches!(cat.exact_or_nearest(m, Version(1, 0, 1)), Resolution::Unchecked(w) if w.contains("changed within 1.0")));
    assert!(matches!(
        cat.exact_or_nearest(m, Version(1, 0, 2)),
        Resolution::Mapped { exact: true, .. }
    ));
}

#[test]
fn terraform_constraints() {
    let cat = catalogue();
    let rt = "Azure/avm-res-network-routetable/azurerm";
    assert!(matches!(
        cat.terraform(rt, Some("0.4.1")),
        Some(Resolution::Mapped { exact: true, .. })
    ));
    assert!(matches!(
        cat.terraform(rt, Some("= 0.4.1")),
        Some(Resolution::Mapped { exact: true, .. })
    ));
    // No version: whatever is newest at init time.
    assert!(matches!(cat.terraform(rt, None), Some(Resolution::Unchecked(_))));
    // Admits minors newer than the data.
    assert!(matches!(cat.terraform(rt, Some("~> 0.4")), Some(Resolution::Unchecked(w)) if w.contains("newer")));
    assert!(matches!(cat.terraform(rt, Some(">= 0.2.0")), Some(Resolution::Unchecked(_))));
    // 0.2.x: disable_bgp_route_propagation throughout, routes typed the same.
    assert!(matches!(cat.terraform(rt, Some("~> 0.2.0")), Some(Resolution::Mapped { .. })));
    assert!(matches!(
        cat.terraform(&format!("registry.terraform.io/{rt}"), Some("0.4.1")),
        Some(Resolution::Mapped { .. })
    ));
    assert!(matches!(
        cat.terraform("Azure/avm-res-keyvault-vault/azurerm", Some("0.9.1")),
        Some(Resolution::Silent)
    ));
    // Submodules are read when mapped themselves, and only then.
    assert!(matches!(
        cat.terraform("Azure/avm-res-network-virtualnetwork/azurerm//modules/subnet", Some("0.4.0")),
        Some(Resolution::Mapped { exact: true, .. })
    ));
    assert!(cat
        .terraform("Azure/avm-res-network-routetable/azurerm//modules/other", Some("0.4.0"))
        .is_none());
    assert!(cat.terraform("hashicorp/consul/aws", Some("1.0.0")).is_none());
    // 0.1.x of the virtual network had another interface and is not mapped.
    assert!(matches!(
        cat.terraform("Azure/avm-res-network-virtualnetwork/azurerm", Some("0.1.4")),
        Some(Resolution::Unchecked(w)) if w.contains("not among the versions")
    ));
}

fn lowered(module: &str, version: Version, inputs: Val) -> Model {
    let cat = catalogue();
    let m = cat.module(module).expect("mapped");
    let k = m.known.iter().find(|k| k.version == version).expect("known");
    let origin = Origin::new(crate::source::FileId(0), 0..0);
    let body = reshape(m, k, &Node::value(inputs, origin.clone()));
    let call = Call {
        address: "m".into(),
        origin: origin.clone(),
        conditional: None,
        dialect: Dialect::Bicep,
        authoring: azure::inline_authoring(Dialect::Bicep, String::new(), "m".into(), None),
        site: origin,
    };
    lower(m, body, call).model
}

fn obj(pairs: &[(&str, Val)]) -> Val {
    Val::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn s(v: &str) -> Val {
    Val::String(v.into())
}

#[test]
fn nsg_application_security_groups_are_read_in_both_interfaces() {
    use crate::model::AddressMatch;
    let rule = |asg: (&str, Val)| {
        obj(&[
            ("name", s("r")),
            (
                "properties",
                obj(&[
                    ("access", s("Deny")),
                    ("direction", s("Outbound")),
                    ("priority", Val::Number(100.0)),
                    ("protocol", s("*")),
                    asg,
                ]),
            ),
        ])
    };
    let old = rule((
        "destinationApplicationSecurityGroups",
        Val::List(vec![obj(&[("id", s("/asg/web"))])]),
    ));
    let new = rule(("destinationApplicationSecurityGroupResourceIds", Val::List(vec![s("/asg/web")])));
    for (v, r) in [(Version(0, 1, 3), old), (Version(0, 5, 0), new)] {
        let m = lowered(
            "avm/res/network/network-security-group",
            v,
            obj(&[("name", s("nsg")), ("securityRules", Val::List(vec![r]))]),
        );
        let rule = &m.nsgs[0].rules[0];
        assert_eq!(
            rule.destinations.iter().filter_map(|d| d.known()).collect::<Vec<_>>(),
            vec![&AddressMatch::ApplicationSecurityGroup("/asg/web".into())],
            "{v}"
        );
        assert_eq!(rule.access.known(), Some(&crate::model::Access::Deny), "{v}");
    }
}

#[test]
fn terraform_bgp_propagation_is_negated_from_0_3_and_read_as_is_before() {
    let rt = "Azure/avm-res-network-routetable/azurerm";
    let m = lowered(
        rt,
        Version(0, 4, 1),
        obj(&[("name", s("rt")), ("bgp_route_propagation_enabled", Val::Bool(false))]),
    );
    assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&false));
    let m = lowered(
        rt,
        Version(0, 2, 0),
        obj(&[("name", s("rt")), ("disable_bgp_route_propagation", Val::Bool(true))]),
    );
    assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&false));
    let m = lowered(rt, Version(0, 2, 0), obj(&[("name", s("rt"))]));
    assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&true));
    // An input of another version is not read.
    let m = lowered(
        rt,
        Version(0, 2, 0),
        obj(&[("name", s("rt")), ("bgp_route_propagation_enabled", Val::Bool(false))]),
    );
    assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&true));
}

#[test]
fn outputs_give_the_id_a_subnet_links_by() {
    let cat = catalogue();
    let m = cat.module("avm/res/network/route-table").expect("mapped");
    let origin = Origin::new(crate::source::FileId(0), 0..0);
    let k = m.known.last().expect("versions");
    let body = reshape(m, k, &Node::value(obj(&[("name", s("rt-a"))]), origin.clone()));
    let Val::Object(o) = outputs(m, &body) else { panic!("object") };
    assert_eq!(o.get("resourceId"), Some(&s("/providers/Microsoft.Network/routeTables/rt-a")));
    assert_eq!(o.get("name"), Some(&s("rt-a")));
    let body = reshape(m, k, &Node::value(obj(&[("name", Val::unknown("a parameter"))]), origin));
    let Val::Object(o) = outputs(m, &body) else { panic!("object") };
    assert!(o.get("resourceId").is_some_and(Val::is_unknown));
}

/// A Terraform registry source is NAMESPACE/NAME/PROVIDER and the provider
/// is part of the module's name: an azapi-based module is looked up as
/// `…/azapi`, and the same name with another provider is a different module.
#[test]
fn a_terraform_source_is_matched_with_its_provider() {
    let versions = r#"
module "Azure/avm-res-x-y/azapi" {
  version "0.1.0" {
    inputs = { name = "a" }
  }
}"#;
    let mapping = r#"
module "Azure/avm-res-x-y/azapi" {
  produces = "route_table"
  input "name" { to = "name" }
}"#;
    let cat = Catalogue::parse(mapping, versions).expect("parses");
    for s in ["Azure/avm-res-x-y/azapi", "registry.terraform.io/Azure/avm-res-x-y/azapi"] {
        assert!(
            matches!(cat.terraform(s, Some("0.1.0")), Some(Resolution::Mapped { exact: true, .. })),
            "{s}"
        );
    }
    assert!(cat.terraform("Azure/avm-res-x-y/azurerm", Some("0.1.0")).is_none());
}
