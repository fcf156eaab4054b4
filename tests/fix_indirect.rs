//! `kmsguard fix` for KG102 and KG103 where the route is an entry of a
//! collection written elsewhere (a dynamic block's local, a var file, a
//! module input, an ARM copy's array, a Bicep loop's source): the entry is
//! changed where it is written, and nothing is guessed.
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

use common::{refused, round_trip};

#[test]
fn kg102_in_a_var_file_entry_sets_the_hop_and_nulls_the_ip_it_reads() {
    let (summary, text) = round_trip("kg102-tf-tfvars-ip", "terraform.tfvars", &[]);
    assert!(
        text.contains("    hop    = \"Internet\" # sent to the NVA by mistake\n    ip     = null\n"),
        "{text}"
    );
    assert!(
        text.contains("  kms-2 = { prefix = \"40.83.235.53/32\", hop = \"Internet\", ip = null }\n"),
        "{text}"
    );
    assert!(text.starts_with("# egress through the hub\n"), "{text}");
    assert!(summary.contains("the value of var.routes in terraform.tfvars"), "{summary}");
}

#[test]
fn kg102_in_a_module_input_is_fixed_in_the_caller() {
    let (summary, text) = round_trip("kg102-tf-module-input", "main.tf", &[]);
    assert!(
        text.contains("      name                   = \"kms-1\"\n      address_prefix         = \"20.118.99.224/32\"\n      next_hop_type          = \"Internet\"\n      next_hop_in_ip_address = null\n"),
        "{text}"
    );
    assert!(summary.contains("the routes input of module.spoke in main.tf"), "{summary}");
}

#[test]
fn kg102_in_a_local_map_leaves_the_computed_ip_alone() {
    let (_, text) = round_trip("kg102-tf-local", "main.tf", &[]);
    assert!(
        text.contains("    kms-1   = { prefix = \"20.118.99.224/32\", hop = \"Internet\" }\n"),
        "{text}"
    );
    assert!(text.contains("? local.firewall_ip : null"), "{text}");
}

#[test]
fn kg103_in_a_local_map_replaces_the_typo_and_adds_no_route_for_it() {
    let (summary, text) = round_trip("kg103-tf-local", "main.tf", &[]);
    assert!(
        text.contains("    kms-1   = { prefix = \"20.118.99.224/32\", hop = \"Internet\" }\n"),
        "{text}"
    );
    assert!(!summary.contains("KG101"), "{summary}");
}

#[test]
fn an_entry_whose_field_is_not_a_literal_is_only_suggested() {
    refused("kg102-tf-refused", &[], "the entry's hop is not a literal");
}

#[test]
fn kg102_in_an_arm_copy_over_a_parameter_is_fixed_in_the_parameters_file() {
    let (summary, text) = round_trip("kg102-arm-copy-parameters", "azuredeploy.parameters.json", &[]);
    assert!(
        text.contains("        { \"name\": \"kms-1\", \"prefix\": \"20.118.99.224/32\", \"hop\": \"Internet\", \"ip\": null },\n"),
        "{text}"
    );
    assert!(
        summary.contains("the value of parameter routes in azuredeploy.parameters.json"),
        "{summary}"
    );
}

#[test]
fn kg103_in_an_arm_copy_over_a_variable_is_fixed_in_the_variable() {
    let (summary, text) = round_trip("kg103-arm-copy-variable", "azuredeploy.json", &[]);
    assert!(
        text.contains("      { \"name\": \"kms-1\", \"prefix\": \"20.118.99.224/32\", \"hop\": \"Internet\" },\n"),
        "{text}"
    );
    assert!(summary.contains("variable routes"), "{summary}");
}

#[test]
fn kg102_in_a_bicep_loop_over_a_bicepparam_value_is_fixed_in_the_bicepparam_file() {
    let (summary, text) = round_trip("kg102-bicep-loop-bicepparam", "main.bicepparam", &[]);
    assert!(
        text.contains("    prefix: '20.118.99.224/32'\n    hop: 'Internet'\n    ip: null\n  }\n"),
        "{text}"
    );
    assert!(text.contains("// egress through the hub\n"), "{text}");
    assert!(summary.contains("param routes in main.bicepparam"), "{summary}");
}

#[test]
fn kg103_in_a_bicep_loop_over_items_of_a_param_default_is_fixed_in_the_default() {
    let (summary, text) = round_trip("kg103-bicep-loop-default", "main.bicep", &[]);
    assert!(
        text.contains("  'kms-1': { prefix: '20.118.99.224/32', hop: 'Internet' }\n"),
        "{text}"
    );
    assert!(summary.contains("the default of param routes"), "{summary}");
}

#[test]
fn a_bicep_param_deployed_both_with_and_without_a_bicepparam_value_is_only_suggested() {
    refused("kg102-bicep-refused-mixed", &[], "set by some .bicepparam files");
}

#[test]
fn kg101_in_a_bicep_loop_gets_entries_in_the_collection_it_iterates_over() {
    // items() of a var object: keyed entries, one line each like the others.
    let (summary, text) = round_trip("bicep-loop-var", "main.bicep", &[]);
    assert!(
        text.contains("  default: { prefix: '0.0.0.0/0', hop: 'VirtualAppliance' }\n  'azure-kms-1': { prefix: '20.118.99.224/32', hop: 'Internet' }\n"),
        "{text}"
    );
    assert!(summary.contains("var routes in main.bicep"), "{summary}");
    // A param's default array, the IP the body reads set to null.
    let (summary, text) = round_trip("bicep-loop-param-array", "main.bicep", &[]);
    assert!(
        text.contains("  {\n    name: 'azure-kms-2'\n    prefix: '40.83.235.53/32'\n    hop: 'Internet'\n    ip: null\n  }\n]"),
        "{text}"
    );
    assert!(summary.contains("the default of param routes"), "{summary}");
}

#[test]
fn kg101_in_bicep_routes_from_a_param_goes_where_the_param_is_set() {
    let (summary, _) = round_trip("bicep-param-default", "main.bicep", &[]);
    assert!(summary.contains("the default of param routes"), "{summary}");
    let (summary, text) = round_trip("bicep-bicepparam", "main.bicepparam", &[]);
    assert!(summary.contains("param routes in main.bicepparam"), "{summary}");
    assert!(text.starts_with("using './main.bicep'\n"), "{text}");
}

#[test]
fn kg101_in_an_empty_bicep_concat_operand_writes_the_array_out() {
    let (_, text) = round_trip("bicep-concat-empty", "main.bicep", &[]);
    assert!(
        text.contains("    routes: concat(hubRoutes, [\n      {\n        name: 'azure-kms-1'\n"),
        "{text}"
    );
    assert!(text.contains("      }\n    ])\n  }\n}\n"), "{text}");
}

#[test]
fn kg101_for_one_module_instance_goes_into_the_entry_that_makes_it() {
    // for_each over a map in terraform.tfvars: the `db` entry only.
    let (summary, text) = round_trip("tf-each-value-tfvars", "terraform.tfvars", &[]);
    assert!(
        text.contains("      { name = \"default\", prefix = \"0.0.0.0/0\", hop = \"VirtualAppliance\" },\n      { name = \"azure-kms-1\", prefix = \"20.118.99.224/32\", hop = \"Internet\" },\n"),
        "{text}"
    );
    assert_eq!(text.matches("azure-kms-1").count(), 1, "{text}");
    assert!(
        summary.contains("each.value.routes of the `db` entry of var.spokes in terraform.tfvars"),
        "{summary}"
    );
    // for_each over a local map.
    let (summary, _) = round_trip("tf-each-value-local", "main.tf", &[]);
    assert!(summary.contains("the `db` entry of local.spokes"), "{summary}");
    // KG102 in the entry.
    let (_, text) = round_trip("kg102-tf-each-value", "terraform.tfvars", &[]);
    assert!(
        text.contains("  db = {\n    routes = [\n      { name = \"default\", prefix = \"0.0.0.0/0\", hop = \"VirtualAppliance\" },\n      { name = \"kms-1\", prefix = \"20.118.99.224/32\", hop = \"Internet\" },\n"),
        "{text}"
    );
}

#[test]
fn a_module_instance_made_from_a_var_flag_is_only_suggested() {
    refused(
        "tf-refused-each-flag",
        &[
            "--var",
            "spokes={db={routes=[{name=\"default\",prefix=\"0.0.0.0/0\",hop=\"VirtualAppliance\"}]}}",
        ],
        "given with --var",
    );
}
