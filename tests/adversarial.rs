//! A pull request's author is the adversary (DESIGN.md §6): nothing in the
//! checked tree may hide code from the check, silence it, or turn its
//! settings against the repository's owner. Each test builds a hostile tree
//! and asserts that the real forced tunnel in it is still found.

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
