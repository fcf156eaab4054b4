//! `kmsguard fix` for KG101 in route tables the AVM hub-networking patterns
//! build: the routes go into the hub input the table's user routes come
//! from (Terraform `route_table_entries_user_subnets`, Bicep `routes`),
//! which is added when the hub has none; every other case is refused with
//! the reason and what to do.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

mod common;

use std::path::Path;

use common::{copy_dir, refused, round_trip};

const KMS_ENTRIES: &str = r#"      route_table_entries_user_subnets = [
        {
          name           = "azure-kms-1"
          address_prefix = "20.118.99.224/32"
          next_hop_type  = "Internet"
        },
        {
          name           = "azure-kms-2"
          address_prefix = "40.83.235.53/32"
          next_hop_type  = "Internet"
        },
      ]
"#;

#[test]
fn a_terraform_hub_without_the_input_gets_it_before_its_nested_settings() {
    let (summary, text) = round_trip("avm-hub-tf-missing", "main.tf", &[]);
    let want = format!("      hub_router_ip_address = \"10.0.0.4\"\n{KMS_ENTRIES}      subnets = {{\n");
    assert!(text.contains(&want), "{text}");
    assert!(
        summary.contains("hub_virtual_networks[\"hub-a\"].route_table_entries_user_subnets of module.hubs"),
        "{summary}"
    );
}

#[test]
fn a_terraform_hub_with_entries_gets_them_appended_in_their_style() {
    let before =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fix/avm-hub-tf-existing/main.tf")).unwrap();
    let (_, text) = round_trip("avm-hub-tf-existing", "main.tf", &[]);
    assert!(
        text.contains(
            "        # on-premises through the router too\n        { name = \"onprem\", address_prefix = \"192.168.0.0/16\", next_hop_type = \"VirtualAppliance\", next_hop_ip_address = \"10.0.0.4\" },\n        { name = \"azure-kms-1\", address_prefix = \"20.118.99.224/32\", next_hop_type = \"Internet\" },\n        { name = \"azure-kms-2\", address_prefix = \"40.83.235.53/32\", next_hop_type = \"Internet\" }\n      ]\n"
        ),
        "{text}"
    );
    // The hub that has its KMS routes is left as it was.
    let neu = |t: &str| t.get(t.find("    neu = {").unwrap()..).unwrap().to_string();
    assert_eq!(neu(&text), neu(&before));
}

#[test]
fn a_terraform_hub_map_in_a_var_file_is_fixed_there() {
    let (summary, text) = round_trip("avm-hub-tf-tfvars", "terraform.tfvars", &[]);
    assert!(
        text.contains("        next_hop_ip_address = \"10.0.0.4\"\n      },\n      {\n        name           = \"azure-kms-1\"\n"),
        "{text}"
    );
    assert!(summary.contains("in the value of var.hubs"), "{summary}");
}

#[test]
fn of_two_bicep_hubs_only_the_broken_one_gets_routes() {
    let before =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fix/avm-hub-bicep-existing/main.bicep"))
            .unwrap();
    let (summary, text) = round_trip("avm-hub-bicep-existing", "main.bicep", &[]);
    let entry = "          {\n            name: 'azure-kms-1'\n            properties: {\n              addressPrefix: '20.118.99.224/32'\n              nextHopType: 'Internet'\n            }\n          }\n";
    assert!(text.contains(&format!("nextHopIpAddress: '10.0.0.4' }} }}\n{entry}")), "{text}");
    assert_eq!(text.matches("azure-kms-1").count(), 1, "{text}");
    let hub_b = |t: &str| t.get(t.find("      'hub-b': {").unwrap()..).unwrap().to_string();
    assert_eq!(hub_b(&text), hub_b(&before));
    assert!(summary.contains("hubVirtualNetworks['hub-a'].routes of module hubs"), "{summary}");
}

#[test]
fn a_bicep_avm_route_table_whose_routes_are_a_var_gets_them_there() {
    let (summary, text) = round_trip("avm-rt-bicep-var", "main.bicep", &[]);
    assert!(text.contains("  }\n  {\n    name: 'azure-kms-1'\n"), "{text}");
    assert!(summary.contains("(var spokeRoutes in"), "{summary}");
}

#[test]
fn the_firewall_subnets_table_is_refused_with_what_to_do() {
    refused(
        "avm-hub-tf-firewall",
        &[],
        "it is the table of hub weu's AzureFirewallSubnet, to which kmsguard does not add routes; add them to hub_virtual_networks[\"weu\"].route_table_entries_firewall by hand",
    );
}

#[test]
fn a_hub_map_from_a_module_output_is_refused_with_the_reason() {
    refused(
        "avm-hub-tf-output",
        &[],
        "the table is built by the registry pattern Azure/avm-ptn-hubnetworking/azurerm (module.hubs) from its hub_virtual_networks input, which kmsguard cannot follow to a written-out map",
    );
}

#[test]
fn an_avm_route_tables_routes_input_not_written_out_is_refused_for_that_reason() {
    refused(
        "avm-rt-tf-var-refused",
        &[],
        "the table is built by the registry module module.rt from its routes input, which is not a written-out map",
    );
}

/// A copy of an example's `broken` or `fixed` directory.
fn example(name: &str, which: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name).join(which),
        tmp.path(),
    );
    tmp
}

#[test]
fn example_41_is_fixed_into_what_its_fixed_directory_shows() {
    let tmp = example("41-avm-terraform-hub-networking", "broken");
    let (summary, code) = common::fix(tmp.path(), false, &[]);
    assert_eq!(code, 0, "{summary}");
    let got = std::fs::read_to_string(tmp.path().join("main.tf")).unwrap();
    let want =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/41-avm-terraform-hub-networking/fixed/main.tf"))
            .unwrap();
    // The fixed example's header comment says what was done; the rest is the same.
    let body = |t: &str| t.lines().skip(3).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&got), body(&want));
}

#[test]
fn the_fixed_examples_have_nothing_to_fix() {
    for name in ["40-avm-bicep-hub-networking", "41-avm-terraform-hub-networking"] {
        let tmp = example(name, "fixed");
        assert_eq!(common::fix(tmp.path(), true, &[]), ("nothing to fix\n".to_string(), 0), "{name}");
    }
}
