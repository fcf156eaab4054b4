//! A pull request's author is the adversary (README, "Security model"): nothing in the
//! checked tree may hide code from the check, silence it, or turn its
//! settings against the repository's owner. Each test builds a hostile tree
//! and asserts that the real forced tunnel in it is still found.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Runs `kmsguard check` on `paths` from `cwd` and returns the JSON report and exit code.
fn check_in(cwd: &Path, paths: &[&str], extra: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(cwd)
        .arg("check")
        .args(paths)
        .args(extra)
        .args(["--format", "json"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("a JSON report ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (doc, out.status.code().unwrap_or(-1))
}

fn check(dir: &Path, extra: &[&str]) -> (Value, i32) {
    check_in(dir, &["."], extra)
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}

/// The (rule, file) of every finding that counts.
fn findings(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn has(doc: &Value, rule: &str, file: &str) -> bool {
    findings(doc).iter().any(|(r, f)| r == rule && f == file)
}

/// A forced tunnel: 0.0.0.0/0 to an appliance and no KMS routes.
const TF_TUNNEL: &str = r#"resource "azurerm_route_table" "rt" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }
}
"#;

const BICEP_TUNNEL: &str = r#"resource rt 'Microsoft.Network/routeTables@2023-04-01' = {
  name: 'rt-spoke'
  location: 'westeurope'
  properties: {
    routes: [
      {
        name: 'default'
        properties: {
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: '10.0.0.4'
        }
      }
    ]
  }
}
"#;

// ---------------------------------------------------------------------------
// 1. A few lines must not hide a directory or a file.

#[test]
fn a_terraform_directory_that_calls_itself_is_still_checked() {
    for call in [
        "module \"noop\" {\n  source = \"./\"\n  count  = 0\n}\n",
        "module \"noop\" {\n  source = \"./\"\n}\n",
        "module \"noop\" {\n  source = \"../prod\"\n  for_each = {}\n}\n",
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), "prod/main.tf", TF_TUNNEL);
        write(d.path(), "prod/noop.tf", call);
        let (doc, code) = check(d.path(), &[]);
        assert_eq!(code, 1, "{call}: {doc:#}");
        assert!(has(&doc, "KG101", "prod/main.tf"), "{call}: {doc:#}");
        // The self-call is named, not silently dropped.
        assert!(
            doc["findings"].as_array().expect("findings").iter().any(|f| f["rule"] == "KG901"
                && f["file"] == "prod/noop.tf"
                && f["message"].as_str().unwrap_or_default().contains("its own directory")),
            "{call}: {doc:#}"
        );
    }
}

#[test]
fn a_decoy_caller_that_never_instantiates_a_directory_does_not_hide_it() {
    for decoy in [
        "module \"x\" {\n  source = \"../prod\"\n  count  = 0\n}\n",
        "module \"x\" {\n  source = \"../prod\"\n  for_each = toset([])\n}\n",
        "variable \"on\" {\n  default = false\n}\nmodule \"x\" {\n  source = \"../prod\"\n  count  = var.on ? 1 : 0\n}\n",
        "module \"x\" {\n  source = \"../prod\"\n  for_each = {}\n}\n",
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), "prod/main.tf", TF_TUNNEL);
        write(d.path(), "decoy/main.tf", decoy);
        let (doc, code) = check(d.path(), &[]);
        assert_eq!(code, 1, "{decoy}: {doc:#}");
        assert_eq!(findings(&doc).iter().filter(|(r, _)| r == "KG101").count(), 1, "{decoy}: {doc:#}");
        assert!(has(&doc, "KG101", "prod/main.tf"), "{decoy}: {doc:#}");
    }
}

#[test]
fn a_module_instantiated_by_its_caller_is_judged_once_through_it() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "modules/spoke/main.tf", TF_TUNNEL);
    write(d.path(), "env/main.tf", "module \"spoke\" {\n  source = \"../modules/spoke\"\n}\n");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    let kg101: Vec<&Value> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG101")
        .collect();
    assert_eq!(kg101.len(), 1, "{doc:#}");
    assert_eq!(kg101[0]["resource"], "module.spoke.azurerm_route_table.rt", "{doc:#}");
}

#[test]
fn terraform_directories_in_a_cycle_with_no_other_root_are_checked() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "a/main.tf", TF_TUNNEL);
    write(d.path(), "a/call.tf", "module \"b\" {\n  source = \"../b\"\n}\n");
    write(d.path(), "b/main.tf", &TF_TUNNEL.replace("rt-spoke", "rt-b"));
    write(d.path(), "b/call.tf", "module \"a\" {\n  source = \"../a\"\n}\n");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert!(has(&doc, "KG101", "a/main.tf") && has(&doc, "KG101", "b/main.tf"), "{doc:#}");
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "KG901" && f["message"].as_str().unwrap_or_default().contains("form a cycle (")),
        "{doc:#}"
    );
}

#[test]
fn a_bicep_file_that_deploys_itself_is_still_checked() {
    for call in [
        "module noop './main.bicep' = if (false) {\n  name: 'noop'\n}\n",
        "module noop './main.bicep' = [for x in []: {\n  name: 'noop'\n}]\n",
        "module noop './main.bicep' = {\n  name: 'noop'\n}\n",
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), "main.bicep", &format!("{BICEP_TUNNEL}{call}"));
        let (doc, code) = check(d.path(), &[]);
        assert_eq!(code, 1, "{call}: {doc:#}");
        assert!(has(&doc, "KG101", "main.bicep"), "{call}: {doc:#}");
        assert!(
            doc["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["rule"] == "KG901" && f["message"].as_str().unwrap_or_default().contains("deploys its own file")),
            "{call}: {doc:#}"
        );
    }
}

#[test]
fn bicep_files_that_deploy_each_other_are_checked() {
    let d = tempfile::tempdir().expect("tempdir");
    write(
        d.path(),
        "a.bicep",
        &format!("{BICEP_TUNNEL}module b './b.bicep' = {{\n  name: 'b'\n}}\n"),
    );
    write(
        d.path(),
        "b.bicep",
        &format!(
            "{}module a './a.bicep' = {{\n  name: 'a'\n}}\n",
            BICEP_TUNNEL.replace("rt-spoke", "rt-b")
        ),
    );
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert!(has(&doc, "KG101", "a.bicep") && has(&doc, "KG101", "b.bicep"), "{doc:#}");
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "KG901" && f["message"].as_str().unwrap_or_default().contains("form a cycle (")),
        "{doc:#}"
    );
}

#[test]
fn a_bicep_module_no_root_deploys_is_checked_as_a_root() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "modules/spoke.bicep", BICEP_TUNNEL);
    write(
        d.path(),
        "decoy.bicep",
        "module s 'modules/spoke.bicep' = if (false) {\n  name: 's'\n}\n",
    );
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert!(has(&doc, "KG101", "modules/spoke.bicep"), "{doc:#}");
}

// ---------------------------------------------------------------------------
// 2. The repository's `.kmsguard.hcl` is written by the pull request: an
// owner can ignore it or pin another, and the file gets the defences of any
// other input.

/// Settings a pull request could add to turn the check off.
const SILENCING_CONFIGS: &[&str] = &[
    "rule \"KG101\" {\n  enabled = false\n}\n",
    "rule \"forced-tunnel-blocks-kms\" {\n  severity = \"note\"\n}\n",
    "exclude = [\"**\"]\n",
    "fail_on = \"never\"\n",
    "limits {\n  max_file_size = 1\n}\n",
];

#[test]
fn no_config_ignores_a_config_file_the_pull_request_wrote() {
    for config in SILENCING_CONFIGS {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir(d.path().join(".git")).expect("mkdir");
        write(d.path(), "spoke/main.tf", TF_TUNNEL);
        write(d.path(), ".kmsguard.hcl", config);
        // As the file says, the check passes (or fails on the limit): that is
        // what --no-config and --config are for.
        let (_, silenced) = check(d.path(), &[]);
        assert_ne!(silenced, 1, "{config}");
        let (doc, code) = check(d.path(), &["--no-config"]);
        assert_eq!(code, 1, "{config}: {doc:#}");
        assert!(has(&doc, "KG101", "spoke/main.tf"), "{config}: {doc:#}");
    }
}

#[test]
fn a_pinned_config_wins_over_the_one_in_the_tree() {
    let owner = tempfile::tempdir().expect("tempdir");
    write(owner.path(), "owner.hcl", "fail_on = \"error\"\n");
    let pinned = owner.path().join("owner.hcl");
    for config in SILENCING_CONFIGS {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir(d.path().join(".git")).expect("mkdir");
        write(d.path(), "spoke/main.tf", TF_TUNNEL);
        write(d.path(), ".kmsguard.hcl", config);
        let (doc, code) = check(d.path(), &["--config", pinned.to_str().expect("utf-8")]);
        assert_eq!(code, 1, "{config}: {doc:#}");
        assert!(has(&doc, "KG101", "spoke/main.tf"), "{config}: {doc:#}");
    }
}

/// Runs the binary and returns (exit code, stderr), asserting it ends in time.
fn run_raw(cwd: &Path, args: &[&str], seconds: u64) -> (i32, String) {
    let started = std::time::Instant::now();
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(cwd)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(seconds),
        "{args:?} took {:?}",
        started.elapsed()
    );
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_config_that_would_hang_the_parser_is_refused_quickly() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.tf", TF_TUNNEL);
    // Open templates nested 60 deep: hcl-edit alone backtracks for hours.
    write(d.path(), ".kmsguard.hcl", &format!("a = {}\n", "x-%k%{".repeat(60)));
    let (code, stderr) = run_raw(d.path(), &["check", "."], 10);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(".kmsguard.hcl:1:"), "a located error: {stderr}");
}

#[test]
fn config_var_files_stay_inside_the_repository() {
    for (entry, link) in [
        ("/dev/zero", None),
        ("/etc/passwd", None),
        ("../../../../../../etc/passwd", None),
        ("secret.tfvars", Some("/etc/passwd")),
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        fs::create_dir(d.path().join(".git")).expect("mkdir");
        write(d.path(), "main.tf", TF_TUNNEL);
        if let Some(target) = link {
            std::os::unix::fs::symlink(target, d.path().join(entry)).expect("symlink");
        }
        write(d.path(), ".kmsguard.hcl", &format!("var_files = [\"{entry}\"]\n"));
        let (code, stderr) = run_raw(d.path(), &["check", "."], 10);
        assert_eq!(code, 2, "{entry}: {stderr}");
        assert!(stderr.contains("outside the repository"), "{entry}: {stderr}");
        assert!(!stderr.contains("root:"), "{entry}: nothing of the file is shown: {stderr}");
    }
}

#[test]
fn config_endpoint_lists_are_bounded() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.tf", TF_TUNNEL);
    let addresses: Vec<String> = (0..60_000u32)
        .map(|i| format!("\"{}.{}.{}.{}\"", 11 + (i >> 24), (i >> 16) & 255, (i >> 8) & 255, i & 255))
        .collect();
    write(
        d.path(),
        ".kmsguard.hcl",
        &format!(
            "endpoint \"many\" {{\n  title = \"many\"\n  protocol = \"Tcp\"\n  port = 1\n  cloud \"*\" {{\n    required = [{}]\n  }}\n}}\n",
            addresses.join(", ")
        ),
    );
    let (code, stderr) = run_raw(d.path(), &["check", "."], 10);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("endpoint addresses"), "{stderr}");
}

// ---------------------------------------------------------------------------
// 3. Suppressions: only comments, only on the resource that carries them,
// and refusable by the owner.

#[test]
fn text_inside_strings_never_suppresses() {
    let cases: Vec<(&str, String)> = vec![
        (
            "main.tf",
            format!("{TF_TUNNEL}locals {{\n  doc = <<EOT\n# kmsguard:ignore-file KG101 -- in a heredoc\nEOT\n}}\n"),
        ),
        (
            "main.tf",
            format!("{TF_TUNNEL}locals {{\n  doc = \"${{\"\\\"\"}} // kmsguard:ignore-file KG101 -- in a template\"\n}}\n"),
        ),
        (
            "main.tf",
            format!("{TF_TUNNEL}locals {{\n  doc = \"/* kmsguard:ignore-file KG101 -- in a string */\"\n}}\n"),
        ),
        (
            "main.tf",
            format!("{TF_TUNNEL}locals {{\n  doc = <<-EOT\n    it's // kmsguard:ignore-file KG101 -- indented heredoc\n    EOT\n}}\n"),
        ),
        (
            "main.bicep",
            format!("{BICEP_TUNNEL}var doc = '''\nit's here\n// kmsguard:ignore-file KG101 -- in a multi-line string\n'''\n"),
        ),
        (
            "main.bicep",
            format!("{BICEP_TUNNEL}var doc = 'a \\' // kmsguard:ignore-file KG101 -- after an escaped quote'\n"),
        ),
        (
            "main.bicep",
            format!("{BICEP_TUNNEL}var doc = '${{'\\''}} // kmsguard:ignore-file KG101 -- in an interpolation'\n"),
        ),
    ];
    for (name, text) in cases {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), name, &text);
        let (doc, code) = check(d.path(), &[]);
        assert_eq!(code, 1, "{text}\n{doc:#}");
        assert!(has(&doc, "KG101", name), "{text}\n{doc:#}");
    }
}

#[test]
fn real_comments_still_suppress() {
    for (name, text) in [
        ("main.tf", format!("# kmsguard:ignore-file KG101 -- lab\n{TF_TUNNEL}")),
        ("main.tf", format!("/* kmsguard:ignore-file KG101 -- lab */\n{TF_TUNNEL}")),
        ("main.bicep", format!("// kmsguard:ignore-file KG101 -- lab\n{BICEP_TUNNEL}")),
        (
            "main.bicep",
            format!("{BICEP_TUNNEL}var doc = 'it\\'s' /* kmsguard:ignore-file KG101 -- lab */\n"),
        ),
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), name, &text);
        let (doc, code) = check(d.path(), &[]);
        assert_eq!(code, 0, "{text}\n{doc:#}");
        assert_eq!(doc["summary"]["suppressed"], 1, "{text}\n{doc:#}");
        // The owner can refuse them.
        let (doc, code) = check(d.path(), &["--no-inline-suppressions"]);
        assert_eq!(code, 1, "{text}\n{doc:#}");
        assert!(has(&doc, "KG101", name), "{doc:#}");
    }
}

fn arm_tunnel(name: &str, ignore: bool) -> String {
    let metadata = if ignore {
        r#""metadata": { "kmsguard": { "ignore": ["KG101 -- decoy"] } },"#
    } else {
        ""
    };
    format!(
        r#"{{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "resources": [
    {{
      "type": "Microsoft.Network/routeTables",
      "apiVersion": "2023-04-01",
      "name": "{name}",
      {metadata}
      "location": "westeurope",
      "properties": {{
        "routes": [
          {{ "name": "default", "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4" }} }}
        ]
      }}
    }}
  ]
}}
"#
    )
}

#[test]
fn an_arm_ignore_applies_only_to_the_resource_that_carries_it() {
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "prod/azuredeploy.json", &arm_tunnel("rt-spoke", false));
    write(d.path(), "decoy/azuredeploy.json", &arm_tunnel("rt-spoke", true));
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert!(has(&doc, "KG101", "prod/azuredeploy.json"), "{doc:#}");
    // The decoy's own finding is suppressed by its own metadata.
    assert!(!has(&doc, "KG101", "decoy/azuredeploy.json"), "{doc:#}");
    assert_eq!(doc["summary"]["suppressed"], 1, "{doc:#}");
    let (doc, _) = check(d.path(), &["--no-inline-suppressions"]);
    assert!(has(&doc, "KG101", "decoy/azuredeploy.json"), "{doc:#}");
}

#[test]
fn matching_suppressions_is_linear_in_findings_and_comments() {
    // 6,000 forced tunnels and 180,000 suppression comments in one 8.6 MB
    // file: matched pairwise, that was a billion comparisons (80 s here).
    let d = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for i in 0..6_000 {
        text.push_str(&TF_TUNNEL.replace("\"rt\"", &format!("\"rt{i}\"")));
        for _ in 0..30 {
            text.push_str("# kmsguard:ignore KG203 -- unrelated\n");
        }
    }
    text.push_str("# kmsguard:ignore-file KG101 -- all of them\n");
    // Only KG101 is reported: 180,000 "matches no finding" notes would make
    // the test measure the report, not the matching.
    write(d.path(), "main.tf", &text);
    let started = std::time::Instant::now();
    let (doc, code) = check(d.path(), &["--select", "KG101"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(doc["summary"]["suppressed"], 6_000, "code {code}");
}

/// A table whose second route is the forced tunnel.
const TF_TWO_ROUTES: &str = r#"resource "azurerm_route_table" "rt" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name           = "onprem"
    address_prefix = "10.0.0.0/8"
    next_hop_type  = "VirtualNetworkGateway"
  }
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }
}
"#;

#[test]
fn a_comment_above_an_enclosing_block_or_object_suppresses() {
    let tf_route = TF_TWO_ROUTES.replacen(
        "  route {\n    name                   = \"default\"",
        "  # kmsguard:ignore KG101 -- lab\n  route {\n    name                   = \"default\"",
        1,
    );
    let tf_trailing = TF_TWO_ROUTES.replacen(
        "  route {\n    name                   = \"default\"",
        "  route { # kmsguard:ignore KG101 -- lab\n    name                   = \"default\"",
        1,
    );
    let tf_list = r#"resource "azurerm_route_table" "rt" {
  name                = "rt-spoke"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route = [
    # kmsguard:ignore KG101 -- lab
    {
      name                   = "default"
      address_prefix         = "0.0.0.0/0"
      next_hop_type          = "VirtualAppliance"
      next_hop_in_ip_address = "10.0.0.4"
    },
  ]
}
"#
    .to_string();
    let bicep_object = BICEP_TUNNEL.replacen(
        "      {\n        name: 'default'",
        "      // kmsguard:ignore KG101 -- lab\n      {\n        name: 'default'",
        1,
    );
    let bicep_properties = BICEP_TUNNEL.replacen(
        "        properties: {\n          addressPrefix",
        "        // kmsguard:ignore KG101 -- lab\n        properties: {\n          addressPrefix",
        1,
    );
    for (name, text) in [
        ("main.tf", tf_route),
        ("main.tf", tf_trailing),
        ("main.tf", tf_list),
        ("main.bicep", bicep_object),
        ("main.bicep", bicep_properties),
    ] {
        assert!(text.contains("kmsguard:ignore"), "the fixture was edited: {text}");
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), name, &text);
        let (doc, code) = check(d.path(), &[]);
        assert_eq!(code, 0, "{text}\n{doc:#}");
        assert_eq!(doc["summary"]["suppressed"], 1, "{text}\n{doc:#}");
        assert!(
            !doc["findings"].as_array().expect("findings").iter().any(|f| f["rule"] == "KG001"),
            "{text}\n{doc:#}"
        );
    }
}

#[test]
fn a_comment_above_a_sibling_block_does_not_suppress() {
    let text = TF_TWO_ROUTES.replacen(
        "  route {\n    name           = \"onprem\"",
        "  # kmsguard:ignore KG101 -- wrong route\n  route {\n    name           = \"onprem\"",
        1,
    );
    assert!(text.contains("kmsguard:ignore"));
    let d = tempfile::tempdir().expect("tempdir");
    write(d.path(), "main.tf", &text);
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert!(has(&doc, "KG101", "main.tf"), "{doc:#}");
    // …and the comment is reported as matching nothing.
    assert!(has(&doc, "KG001", "main.tf"), "{doc:#}");
}

// ---------------------------------------------------------------------------
// 6. A spent evaluation budget must not hide what the code states literally.

#[test]
fn a_spent_budget_does_not_hide_a_literal_forced_tunnel() {
    let burn_tf = "variable \"hop\" {}\nresource \"azurerm_route_table\" \"burn\" {\n  count = 5000\n  name  = \"rt-${count.index}\"\n  route {\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = var.hop\n  }\n}\n";
    let burn_bicep = "param hop string\nresource burn 'Microsoft.Network/routeTables@2023-04-01' = [for i in range(0, 5000): {\n  name: 'rt-${i}'\n  properties: { routes: [ { name: 'd', properties: { addressPrefix: '0.0.0.0/0', nextHopType: hop } } ] }\n}]\n";
    let burn_arm = r#"{ "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "[concat('burn-', copyIndex())]", "copy": { "name": "burn", "count": 5000 },
      "properties": { "routes": [ { "name": "d", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "[parameters('hop')]" } } ] } },"#;
    let arm = arm_tunnel("rt-spoke", false).replacen(
        "\"resources\": [\n",
        &format!("\"parameters\": {{ \"hop\": {{ \"type\": \"string\" }} }},\n  \"resources\": [\n    {burn_arm}\n"),
        1,
    );
    for (name, text) in [
        ("main.tf", format!("{burn_tf}{TF_TUNNEL}")),
        ("main.bicep", format!("{burn_bicep}{BICEP_TUNNEL}")),
        ("azuredeploy.json", arm),
    ] {
        let d = tempfile::tempdir().expect("tempdir");
        write(d.path(), name, &text);
        let (doc, code) = check(d.path(), &["--max-eval-steps", "20000"]);
        assert!(
            doc["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["message"].as_str().unwrap_or_default().contains("--max-eval-steps")),
            "{name}: the budget was spent: {doc:#}"
        );
        assert_eq!(code, 1, "{name}: {doc:#}");
        assert!(
            doc["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["rule"] == "KG101" && f["message"].as_str().unwrap_or_default().contains("rt-spoke")),
            "{name}: {doc:#}"
        );
    }
}
