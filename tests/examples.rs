//! Runs the binary on every shipped example and asserts the exact findings
//! (rule, file, line) and exit code, in Terraform, Bicep and ARM.
// Like tests, benchmarks and examples may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn kmsguard() -> Command {
    let mut c = Command::cargo_bin("kmsguard").expect("binary builds");
    c.current_dir(env!("CARGO_MANIFEST_DIR")).env("NO_COLOR", "1");
    c
}

type Found = Vec<(String, String, u64)>;

/// (rule, file, line) of every finding, in report order, and the exit code.
fn findings(args: &[&str]) -> (Found, i32, Value) {
    let out = kmsguard()
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report and nothing else");
    let list = doc["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    (list, out.status.code().unwrap_or(-1), doc)
}

fn expect(dir: &str, want: &[(&str, &str, u64)], exit: i32) {
    let path = format!("examples/{dir}");
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(&path).join("README.md").exists(),
        "{dir} has a README line"
    );
    let (got, code, doc) = findings(&[&path]);
    let want: Found = want.iter().map(|(r, f, l)| (r.to_string(), format!("{path}/{f}"), *l)).collect();
    assert_eq!(got, want, "{dir}: {doc:#}");
    assert_eq!(code, exit, "{dir} exit code");
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0), "{dir}: {doc:#}");
}

#[test]
fn broken_forced_tunnel() {
    expect(
        "01-forced-tunnel-broken",
        &[
            ("KG101", "azuredeploy.json", 15),
            ("KG101", "main.bicep", 11),
            ("KG101", "main.tf", 8),
        ],
        1,
    );
}

#[test]
fn fixed_forced_tunnel() {
    expect("02-forced-tunnel-fixed", &[], 0);
}

#[test]
fn split_default_route() {
    expect("03-split-default-route", &[("KG101", "main.tf", 8)], 1);
}

#[test]
fn next_hop_none() {
    expect("04-next-hop-none", &[("KG101", "main.tf", 8)], 1);
}

#[test]
fn standalone_routes_merge_into_their_table() {
    expect(
        "05-standalone-routes",
        &[
            ("KG101", "azuredeploy.json", 18),
            ("KG101", "main.bicep", 13),
            ("KG101", "main.tf", 12),
        ],
        1,
    );
    let (_, _, doc) = findings(&["examples/05-standalone-routes/main.tf"]);
    let f = &doc["findings"][0];
    assert!(f["message"].as_str().unwrap_or_default().contains("(40.83.235.53)"), "{f:#}");
    let snippet = f["fix"]["snippet"].as_str().unwrap_or_default();
    assert!(
        snippet.starts_with("resource \"azurerm_route\""),
        "fix is written as a separate resource: {snippet}"
    );
}

#[test]
fn variables_come_from_tfvars_bicepparam_and_parameters_files() {
    expect(
        "06-variables-and-tfvars",
        &[
            ("KG101", "azuredeploy.json", 23),
            ("KG101", "main.bicep", 18),
            ("KG101", "main.tf", 17),
        ],
        1,
    );
    let (_, _, doc) = findings(&["examples/06-variables-and-tfvars"]);
    for f in doc["findings"].as_array().expect("findings") {
        assert!(
            f["message"].as_str().unwrap_or_default().starts_with("route table rt-prod-spoke "),
            "{f:#}"
        );
    }
}

#[test]
fn var_flag_overrides_tfvars() {
    let (got, _, _) = findings(&["examples/06-variables-and-tfvars", "--var", "egress_next_hop=Internet"]);
    assert!(got.iter().all(|(_, f, _)| !f.ends_with(".tf")), "{got:?}");
    assert_eq!(got.len(), 2, "the Bicep and ARM twins still deploy the forced tunnel: {got:?}");
}

#[test]
fn unresolved_variable_is_a_note() {
    expect(
        "07-unresolved-variable",
        &[
            ("KG901", "azuredeploy.json", 19),
            ("KG901", "main.bicep", 13),
            ("KG901", "main.tf", 14),
        ],
        0,
    );
    let (got, code, _) = findings(&["examples/07-unresolved-variable/main.tf", "--fail-on", "note"]);
    assert_eq!((got.len(), code), (1, 1));
}

#[test]
fn var_supplies_the_missing_value() {
    let (got, _, _) = findings(&[
        "examples/07-unresolved-variable/main.tf",
        "--var",
        "next_hop_type=VirtualNetworkGateway",
    ]);
    assert_eq!(
        got,
        vec![("KG101".to_string(), "examples/07-unresolved-variable/main.tf".to_string(), 13)]
    );
}

#[test]
fn dynamic_routes_copy_loops_and_bicep_for() {
    expect(
        "08-dynamic-routes",
        &[
            ("KG102", "azuredeploy.json", 27),
            ("KG102", "main.bicep", 17),
            ("KG102", "main.tf", 21),
        ],
        1,
    );
}

#[test]
fn nsg_denies_platform_tags() {
    expect(
        "09-nsg-denies-platform-tags",
        &[
            ("KG201", "azuredeploy.json", 22),
            ("KG202", "azuredeploy.json", 35),
            ("KG203", "azuredeploy.json", 54),
            ("KG201", "main.bicep", 16),
            ("KG202", "main.bicep", 29),
            ("KG203", "main.bicep", 45),
            ("KG201", "main.tf", 15),
            ("KG202", "main.tf", 27),
            ("KG203", "main.tf", 39),
        ],
        1,
    );
}

#[test]
fn deny_internet_does_not_block_kms() {
    expect("10-nsg-denies-internet-kms-still-works", &[], 0);
}

#[test]
fn retired_and_typo_addresses() {
    expect(
        "11-retired-and-typo-kms-addresses",
        &[
            ("KG103", "main.bicep", 16),
            ("KG101", "main.bicep", 31),
            ("KG103", "main.bicep", 39),
            ("KG103", "main.tf", 15),
            ("KG101", "main.tf", 26),
            ("KG103", "main.tf", 33),
        ],
        1,
    );
}

#[test]
fn attribute_form() {
    expect("12-attribute-form", &[("KG202", "main.tf", 53)], 0);
    let (_, code, _) = findings(&["examples/12-attribute-form", "--fail-on", "warning"]);
    assert_eq!(code, 1);
}

#[test]
fn commented_out_routes_do_not_count() {
    expect("13-commented-out-fix", &[("KG101", "main.bicep", 9), ("KG101", "main.tf", 8)], 1);
}

#[test]
fn bicep_modules_follow_local_paths_and_report_registry_ones() {
    expect(
        "14-bicep-modules",
        &[("KG901", "main.bicep", 24), ("KG101", "modules/route-table.bicep", 9)],
        1,
    );
    let (_, _, doc) = findings(&["examples/14-bicep-modules"]);
    assert_eq!(doc["findings"][1]["resource"], "spokeRouteTables[1].routeTable", "{doc:#}");
    assert!(doc["findings"][1]["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("route table rt-spoke-b "));
}

#[test]
fn arm_parameters_file_beside_the_template_is_applied() {
    // Without azuredeploy.parameters.json the template's defaults say Internet.
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/06-variables-and-tfvars/azuredeploy.json"),
        d.path().join("azuredeploy.json"),
    )
    .expect("copy");
    let dir = d.path().to_str().expect("utf-8 path");
    let (got, code, _) = findings(&[dir]);
    assert_eq!((got, code), (vec![], 0));
    let (got, _, _) = findings(&[dir, "--parameters", "examples/06-variables-and-tfvars/azuredeploy.parameters.json"]);
    assert_eq!(got.len(), 1);
}

/// One scenario written in Terraform, Bicep and ARM gives the same rules
/// with the same messages; only files, lines and resource addresses differ.
#[test]
fn terraform_bicep_and_arm_twins_agree() {
    let dirs = [
        "01-forced-tunnel-broken",
        "02-forced-tunnel-fixed",
        "05-standalone-routes",
        "06-variables-and-tfvars",
        "07-unresolved-variable",
        "08-dynamic-routes",
        "09-nsg-denies-platform-tags",
        "10-nsg-denies-internet-kms-still-works",
        "11-retired-and-typo-kms-addresses",
        "13-commented-out-fix",
    ];
    for dir in dirs {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(dir);
        let names: Vec<String> = std::fs::read_dir(&root)
            .expect("dir")
            .filter_map(|e| e.ok()?.file_name().to_str().map(String::from))
            .collect();
        assert!(
            names.iter().any(|n| n.ends_with(".bicep")) && names.iter().any(|n| n.ends_with(".tf")),
            "{dir} has twins"
        );
        let (_, _, doc) = findings(&[&format!("examples/{dir}")]);
        let mut by_language: std::collections::BTreeMap<&str, Vec<(String, String)>> = Default::default();
        for f in doc["findings"].as_array().expect("findings") {
            let file = f["file"].as_str().unwrap_or_default();
            let language = if file.ends_with(".tf") {
                "terraform"
            } else if file.ends_with(".bicep") {
                "bicep"
            } else {
                "arm"
            };
            let rule = f["rule"].as_str().unwrap_or_default().to_string();
            // KG901 names the unknown value in the language's own terms.
            let message = if rule == "KG901" {
                String::new()
            } else {
                f["message"].as_str().unwrap_or_default().to_string()
            };
            by_language.entry(language).or_default().push((rule, message));
        }
        let terraform = by_language.get("terraform").cloned().unwrap_or_default();
        for (language, got) in &by_language {
            assert_eq!(got, &terraform, "{dir}: {language} disagrees with terraform");
        }
    }
}

#[test]
fn whole_examples_directory_fails_the_check() {
    let (got, code, doc) = findings(&["examples"]);
    assert_eq!(code, 1);
    assert!(got.len() >= 30, "{doc:#}");
    assert_eq!(doc["summary"]["files"].as_u64(), Some(66));
}

#[test]
fn other_clouds_use_their_own_addresses() {
    let out = kmsguard()
        .args([
            "check",
            "examples/02-forced-tunnel-fixed",
            "--cloud",
            "usgov",
            "--format",
            "compact",
        ])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("52.126.105.2, 23.97.0.13"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn output_is_byte_identical_across_runs() {
    for format in ["human", "compact", "json"] {
        let a = kmsguard().args(["check", "examples", "--format", format]).output().expect("runs");
        let b = kmsguard().args(["check", "examples", "--format", format]).output().expect("runs");
        assert_eq!(a.stdout, b.stdout, "{format}");
    }
}

#[test]
fn subnets_using_a_broken_table_are_related_locations() {
    expect(
        "15-vnet-subnets",
        &[("KG101", "azuredeploy.json", 14), ("KG101", "main.bicep", 9)],
        1,
    );
    let (_, _, doc) = findings(&["examples/15-vnet-subnets"]);
    let related = |i: usize| -> Vec<(u64, String)> {
        doc["findings"][i]["related"]
            .as_array()
            .expect("related")
            .iter()
            .map(|r| {
                (
                    r["line"].as_u64().unwrap_or_default(),
                    r["message"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    assert!(
        related(0).contains(&(28, "subnet snet-app uses this route table".into())),
        "{doc:#}"
    );
    let bicep = related(1);
    assert!(bicep.contains(&(28, "subnet snet-app uses this route table".into())), "{doc:#}");
    assert!(bicep.contains(&(37, "subnet snet-data uses this route table".into())), "{doc:#}");
    assert!(!bicep.iter().any(|(_, m)| m.contains("snet-free")), "{doc:#}");
    assert_eq!(doc["summary"]["subnets"], 4);
}

#[test]
fn arm_nested_deployments_pass_parameters_and_conditions_down() {
    expect("16-arm-nested-deployment", &[("KG101", "azuredeploy.json", 24)], 1);
    let (_, _, doc) = findings(&["examples/16-arm-nested-deployment"]);
    let message = doc["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("if it is created: its condition is unknown"), "{message}");
    assert!(
        message.contains("VirtualAppliance 10.0.0.4"),
        "the inner parameter came from the outer template: {message}"
    );
}

#[test]
fn nsg_deny_blocks_kms_under_a_forced_tunnel() {
    expect("17-forced-tunnel-nsg-blocks-kms", &[("KG204", "main.tf", 31)], 1);
    let (_, _, doc) = findings(&["examples/17-forced-tunnel-nsg-blocks-kms"]);
    let related: Vec<String> = doc["findings"][0]["related"]
        .as_array()
        .expect("related")
        .iter()
        .map(|r| r["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        related.contains(&"subnet snet-app has a custom 0.0.0.0/0 route".to_string()),
        "{related:?}"
    );
}

#[test]
fn an_allow_ahead_of_the_deny_keeps_kms_working() {
    expect("18-forced-tunnel-nsg-allows-kms", &[], 0);
}

#[test]
fn azapi_route_tables_and_routes() {
    expect("19-azapi-route-table", &[("KG101", "main.tf", 14)], 1);
}

#[test]
fn the_azurerm_provider_environment_picks_the_cloud_unless_cloud_is_given() {
    expect("20-usgov-provider", &[("KG101", "main.tf", 13)], 1);
    let (_, _, doc) = findings(&["examples/20-usgov-provider"]);
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("(52.126.105.2, 23.97.0.13)"),
        "{doc:#}"
    );
    let (got, code, _) = findings(&["examples/20-usgov-provider", "--cloud", "public"]);
    assert_eq!((got, code), (vec![], 0));
}

#[test]
fn for_each_tables_report_only_the_broken_instance() {
    expect("21-for-each-tables", &[("KG101", "main.tf", 24)], 1);
    let (_, _, doc) = findings(&["examples/21-for-each-tables"]);
    assert_eq!(doc["findings"][0]["resource"], "azurerm_route_table.spoke[\"b\"]", "{doc:#}");
}

#[test]
fn count_gated_routes_follow_the_flag() {
    expect("22-count-gated-routes", &[("KG101", "main.tf", 17)], 1);
    let (got, code, _) = findings(&["examples/22-count-gated-routes", "--var", "enable_kms_routes=true"]);
    assert_eq!((got, code), (vec![], 0));
    // Without the tfvars value the flag is unknown: a note, not a guess.
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/22-count-gated-routes/main.tf"),
        d.path().join("main.tf"),
    )
    .expect("copy");
    let (got, code, _) = findings(&[d.path().to_str().expect("utf-8 path")]);
    assert_eq!(got.iter().map(|(r, _, _)| r.as_str()).collect::<Vec<_>>(), vec!["KG901"]);
    assert_eq!(code, 0);
}

#[test]
fn terraform_modules_take_their_inputs_and_list_the_call_site() {
    expect(
        "23-terraform-module",
        &[("KG901", "main.tf", 23), ("KG101", "modules/spoke/main.tf", 20)],
        1,
    );
    let (_, _, doc) = findings(&["examples/23-terraform-module"]);
    let f = &doc["findings"][1];
    assert_eq!(f["resource"], "module.spoke[\"data\"].azurerm_route_table.this", "{doc:#}");
    let related: Vec<(String, u64, String)> = f["related"]
        .as_array()
        .expect("related")
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap_or_default().to_string(),
                r["line"].as_u64().unwrap_or_default(),
                r["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(
        related.contains(&(
            "examples/23-terraform-module/main.tf".into(),
            13,
            "deployed through this module call".into()
        )),
        "{related:?}"
    );
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("run terraform init"),
        "{doc:#}"
    );
}

#[test]
fn a_vpn_default_site_exposes_subnets_without_kms_routes() {
    expect("24-vpn-default-site", &[("KG104", "main.tf", 24)], 0);
    let (_, code, doc) = findings(&["examples/24-vpn-default-site", "--fail-on", "warning"]);
    assert_eq!(code, 1);
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("subnet snet-exposed has no route table"),
        "{doc:#}"
    );
}

#[test]
fn gateway_routes_reach_only_spokes_whose_peering_uses_the_gateway() {
    // Spoke 1's subnet (line 48) learns the ExpressRoute routes through its
    // peering; spoke 2's (peered without use_remote_gateways) does not, and
    // neither does the hub's GatewaySubnet.
    expect("31-peering-gateway-transit", &[("KG104", "main.tf", 48)], 0);
    let (_, _, doc) = findings(&["examples/31-peering-gateway-transit"]);
    let message = doc["findings"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("ExpressRoute gateway ergw-hub"), "{message}");
}

#[test]
fn a_plan_alone_is_checked_and_an_unknown_ip_does_not_hide_the_tunnel() {
    expect("25-plan-json", &[("KG101", "plan.json", 14)], 1);
    let (_, _, doc) = findings(&["examples/25-plan-json"]);
    assert_eq!(doc["findings"][0]["resource"], "module.spoke.azurerm_route_table.this", "{doc:#}");
}

#[test]
fn a_plan_beside_its_configuration_supplies_the_variables() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/07-unresolved-variable/main.tf"),
        d.path().join("main.tf"),
    )
    .expect("copy");
    std::fs::write(
        d.path().join("plan.json"),
        r#"{"format_version":"1.2","variables":{"next_hop_type":{"value":"VirtualAppliance"}},"planned_values":{"root_module":{}}}"#,
    )
    .expect("write");
    let (got, _, _) = findings(&[d.path().to_str().expect("utf-8 path")]);
    let got: Vec<(String, u64)> = got
        .into_iter()
        .map(|(r, f, l)| (r, if f.ends_with("main.tf") { l } else { 0 }))
        .collect();
    assert_eq!(got, vec![("KG101".to_string(), 13)], "the finding points at the .tf line");
}

#[test]
fn a_firewall_that_allows_no_kms_is_kg301_not_kg101() {
    expect("26-firewall-blocks-kms", &[("KG301", "main.tf", 51)], 1);
}

#[test]
fn a_firewall_that_allows_kms_keeps_the_tunnel_working() {
    expect("27-firewall-allows-kms", &[], 0);
}

#[test]
fn two_roots_with_the_same_addresses_stay_apart() {
    // Examples 17/18 and 26/27 declare the same Terraform addresses; checked
    // together, each association and firewall link stays within its own root.
    let (got, _, _) = findings(&[
        "examples/17-forced-tunnel-nsg-blocks-kms",
        "examples/18-forced-tunnel-nsg-allows-kms",
        "examples/26-firewall-blocks-kms",
        "examples/27-firewall-allows-kms",
    ]);
    let got: Vec<(String, String)> = got.into_iter().map(|(r, f, _)| (r, f)).collect();
    assert_eq!(
        got,
        vec![
            ("KG204".to_string(), "examples/17-forced-tunnel-nsg-blocks-kms/main.tf".to_string()),
            ("KG301".to_string(), "examples/26-firewall-blocks-kms/main.tf".to_string()),
        ]
    );
}

#[test]
fn terraform_json_syntax_keeps_its_lines() {
    expect("28-tf-json", &[("KG101", "main.tf.json", 15)], 1);
    let (_, _, doc) = findings(&["examples/28-tf-json"]);
    assert_eq!(
        doc["findings"][0]["message"], "route table rt-prod-json sends KMS traffic (40.83.235.53) to VirtualAppliance 10.0.1.4",
        "{doc:#}"
    );
}

#[test]
fn avm_bicep_route_table_nsg_and_virtual_network() {
    expect(
        "29-avm-bicep-route-table/broken",
        &[("KG101", "main.bicep", 14), ("KG202", "main.bicep", 37)],
        1,
    );
    expect("29-avm-bicep-route-table/fixed", &[], 0);
}

#[test]
fn avm_terraform_route_table_nsg_and_virtual_network() {
    expect(
        "30-avm-terraform-route-table/broken",
        &[("KG101", "main.tf", 18), ("KG202", "main.tf", 41)],
        1,
    );
    expect("30-avm-terraform-route-table/fixed", &[], 0);
}

#[test]
fn avm_bicep_firewall_policy_and_gateway() {
    expect(
        "32-avm-bicep-firewall-gateway/broken",
        &[("KG104", "main.bicep", 13), ("KG301", "main.bicep", 78)],
        1,
    );
    expect("32-avm-bicep-firewall-gateway/fixed", &[], 0);
}

#[test]
fn avm_terraform_firewall_policy_and_gateway() {
    expect(
        "33-avm-terraform-firewall-gateway/broken",
        &[("KG104", "main.tf", 13), ("KG301", "main.tf", 90)],
        1,
    );
    expect("33-avm-terraform-firewall-gateway/fixed", &[], 0);
}
