//! `kmsguard fix` where the routes are not written in the table itself: a
//! `dynamic "route"` block's collection (a literal, a local, a variable's
//! default, the var file that sets it, a module call's input) and the
//! literal operand of `concat`; and the order of --var-file and --var that
//! fix, trace and graph share with check.
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

use common::{fix, kmsguard, refused, round_trip, route_findings, write_tree};

#[test]
fn var_file_and_var_apply_in_command_line_order_in_fix_trace_and_graph() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    write_tree(
        root,
        &[
            (
                "main.tf",
                r#"variable "hop" { type = string }

resource "azurerm_route_table" "spoke" {
  name = "rt-spoke"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = var.hop
    next_hop_in_ip_address = var.hop == "VirtualAppliance" ? "10.0.1.4" : null
  }
}
"#,
            ),
            ("internet.tfvars", "hop = \"Internet\"\n"),
        ],
    );
    let appliance_last = ["--var-file", "internet.tfvars", "--var", "hop=VirtualAppliance"];
    let file_last = ["--var", "hop=VirtualAppliance", "--var-file", "internet.tfvars"];
    // check: the later one wins.
    assert_eq!(route_findings(root, &appliance_last).len(), 1);
    assert_eq!(route_findings(root, &file_last).len(), 0);
    // fix, trace and graph read the same network as check.
    assert_eq!(fix(root, true, &appliance_last).1, 1);
    assert_eq!(fix(root, true, &file_last), ("nothing to fix\n".to_string(), 0));
    let trace = |args: &[&str]| {
        let out = kmsguard()
            .current_dir(root)
            .args(["trace", "--from", "rt-spoke", "--to", "kms", ".", "--no-config"])
            .args(args)
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(trace(&appliance_last).contains("VirtualAppliance"), "{}", trace(&appliance_last));
    assert!(!trace(&file_last).contains("VirtualAppliance"), "{}", trace(&file_last));
    let graph = |args: &[&str]| {
        let out = kmsguard()
            .current_dir(root)
            .args(["graph", ".", "--no-config", "--format", "dot"])
            .args(args)
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(graph(&appliance_last).contains("KG101"), "{}", graph(&appliance_last));
    assert!(!graph(&file_last).contains("KG101"), "{}", graph(&file_last));
}

#[test]
fn a_dynamic_blocks_literal_list_gets_the_routes_one_entry_a_line() {
    let (_, text) = round_trip("tf-dynamic-literal", "main.tf", &[]);
    assert!(
        text.contains("      { name = \"onprem\", prefix = \"10.100.0.0/16\", hop = \"VirtualNetworkGateway\" },\n      { name = \"azure-kms-1\", prefix = \"20.118.99.224/32\", hop = \"Internet\" },\n"),
        "{text}"
    );
}

#[test]
fn a_dynamic_blocks_local_map_gets_keyed_entries() {
    let (summary, text) = round_trip("tf-dynamic-local", "main.tf", &[]);
    assert!(
        text.contains("    azure-kms-2 = { prefix = \"40.83.235.53/32\", hop = \"Internet\" }\n  }"),
        "{text}"
    );
    assert!(text.contains("  # egress goes through the hub firewall\n"), "{text}");
    assert!(summary.contains("local.routes"), "{summary}");
}

#[test]
fn a_variables_default_gets_entries_in_its_own_layout_through_a_named_iterator() {
    let (summary, text) = round_trip("tf-dynamic-var-default", "main.tf", &[]);
    assert!(
        text.contains("    },\n    {\n      name           = \"azure-kms-1\"\n      address_prefix = \"20.118.99.224/32\"\n      next_hop_type  = \"Internet\"\n    },\n"),
        "{text}"
    );
    assert!(summary.contains("the default of var.routes"), "{summary}");
}

#[test]
fn the_var_file_whose_value_counts_gets_the_routes() {
    // terraform.tfvars alone.
    let (summary, _) = round_trip("tf-dynamic-tfvars", "terraform.tfvars", &[]);
    assert!(summary.contains("the value of var.routes in terraform.tfvars"), "{summary}");
    // *.auto.tfvars after terraform.tfvars, with quoted keys kept quoted.
    let (_, text) = round_trip("tf-dynamic-auto-tfvars", "spoke.auto.tfvars", &[]);
    assert!(
        text.contains("  \"azure-kms-1\" = {\n    prefix = \"20.118.99.224/32\"\n    hop    = \"Internet\"\n  }\n"),
        "{text}"
    );
    // --var-file after both, on one line.
    let (_, text) = round_trip("tf-dynamic-var-file", "prod.tfvars", &["--var-file", "prod.tfvars"]);
    assert!(
        text.starts_with("routes = { default = { prefix = \"0.0.0.0/0\", hop = \"VirtualAppliance\" }, azure-kms-1 = {"),
        "{text}"
    );
}

#[test]
fn a_module_input_fed_by_the_roots_tfvars_is_fixed_in_the_tfvars() {
    let (summary, text) = round_trip("tf-module-tfvars", "terraform.tfvars", &[]);
    assert!(summary.contains("var.spoke_routes"), "{summary}");
    assert!(
        text.contains("    hop    = \"VirtualAppliance\"\n  },\n  {\n    name   = \"azure-kms-1\"\n"),
        "{text}"
    );
}

#[test]
fn concat_gets_the_routes_in_its_written_out_operand() {
    let (_, text) = round_trip("tf-concat", "main.tf", &[]);
    assert!(
        text.contains("    { name = \"azure-kms-1\", address_prefix = \"20.118.99.224/32\", next_hop_type = \"Internet\", next_hop_in_ip_address = null },\n"),
        "{text}"
    );
    assert!(
        text.contains("  hub_routes = [\n    { name = \"default\","),
        "the local is untouched: {text}"
    );
}

#[test]
fn what_cannot_be_followed_to_a_written_out_value_is_only_suggested() {
    refused("tf-refused-literal-hop", &[], "next_hop_type is not read from the collection");
    refused(
        "tf-refused-var-flag",
        &["--var", "routes={default={prefix=\"0.0.0.0/0\",hop=\"VirtualAppliance\"}}"],
        "given with --var",
    );
    refused("tf-refused-json-var", &[], "JSON var file");
}

#[test]
fn bicep_child_route_resources_get_siblings_written_like_the_last_one() {
    // `parent:`, without the original's decorator, with symbols the file does not use.
    let (_, text) = round_trip("bicep-child-parent", "main.bicep", &[]);
    assert!(
        text.contains(
            "}\n\nresource azureKms2 'Microsoft.Network/routeTables/routes@2023-04-01' = {\n  parent: rt\n  name: 'azure-kms-1'\n"
        ),
        "{text}"
    );
    assert_eq!(text.matches("@description").count(), 1, "{text}");
    // Nested in the table, with the type's short form.
    let (_, text) = round_trip("bicep-child-nested", "main.bicep", &[]);
    assert!(
        text.contains("\n\n  resource azureKms1 'routes' = {\n    name: 'azure-kms-1'\n"),
        "{text}"
    );
    // Named `table/route`, with dependsOn.
    let (_, text) = round_trip("bicep-child-name", "main.bicep", &[]);
    assert!(text.contains("  name: '${tableName}/azure-kms-2'\n"), "{text}");
}

#[test]
fn arm_child_route_resources_get_siblings_written_like_the_last_one() {
    let (_, text) = round_trip("arm-child", "azuredeploy.json", &[]);
    assert!(text.contains("      \"name\": \"rt-spoke/azure-kms-1\",\n      \"dependsOn\": [\"[resourceId('Microsoft.Network/routeTables', 'rt-spoke')]\"],\n"), "{text}");
    let (_, text) = round_trip("arm-child-nested", "azuredeploy.json", &[]);
    assert!(
        text.contains("          \"type\": \"routes\",\n          \"apiVersion\": \"2023-04-01\",\n          \"name\": \"azure-kms-2\",\n"),
        "{text}"
    );
}

#[test]
fn an_arm_copy_over_a_parameter_gets_entries_where_the_parameter_is_set() {
    // The defaultValue, one entry a line as written.
    let (summary, text) = round_trip("arm-copy-default", "azuredeploy.json", &[]);
    assert!(
        text.contains("        { \"name\": \"default\", \"prefix\": \"0.0.0.0/0\", \"hop\": \"VirtualAppliance\" },\n        { \"name\": \"azure-kms-1\", \"prefix\": \"20.118.99.224/32\", \"hop\": \"Internet\" },\n"),
        "{text}"
    );
    assert!(summary.contains("the defaultValue of parameter routes"), "{summary}");
    // The parameters file beside the template sets it: the fix goes there.
    let (summary, _) = round_trip("arm-copy-parameters", "azuredeploy.parameters.json", &[]);
    assert!(
        summary.contains("the value of parameter routes in azuredeploy.parameters.json"),
        "{summary}"
    );
    // A copy whose next hop is not read from the entries cannot take a KMS route.
    refused("arm-copy-refused", &[], "nextHopType is not read from the entries");
}

#[test]
fn concat_and_union_get_entries_in_their_written_out_operand_in_bicep_and_arm() {
    let (_, text) = round_trip("bicep-concat", "main.bicep", &[]);
    assert!(
        text.contains("      }\n      {\n        name: 'azure-kms-1'\n        properties: {\n"),
        "{text}"
    );
    let (summary, text) = round_trip("bicep-union-var", "main.bicep", &[]);
    assert!(summary.contains("var spokeRoutes"), "{summary}");
    assert!(
        text.contains("      nextHopType: 'VirtualNetworkGateway'\n    }\n  }\n  {\n    name: 'azure-kms-1'\n"),
        "{text}"
    );
    let (summary, _) = round_trip("arm-concat", "azuredeploy.json", &[]);
    assert!(summary.contains("variable spokeRoutes"), "{summary}");
}
