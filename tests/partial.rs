//! Checking part of a repository gives the verdict of the whole: a
//! sub-directory, a changed file (as pre-commit names them), a baseline
//! written from elsewhere. The layout is the ordinary one: `envs/prod`
//! calls `../../modules/spoke` with `for_each` over `terraform.tfvars`.
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

fn run(cwd: &Path, args: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(cwd)
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let doc =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("a JSON report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (doc, out.status.code().unwrap_or(-1))
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

const CALLER: &str = r#"variable "spokes" {
  type = map(object({ kms = bool }))
}

module "spoke" {
  source   = "../../modules/spoke"
  for_each = var.spokes
  name     = each.key
  kms      = each.value.kms
}
"#;

/// The spoke module: a forced tunnel, with the KMS routes only when `kms`.
fn module(kms_default: bool) -> String {
    format!(
        r#"variable "name" {{
  type = string
}}

variable "kms" {{
  type    = bool
  default = {kms_default}
}}

resource "azurerm_route_table" "this" {{
  name                = "rt-${{var.name}}"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {{
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }}
  dynamic "route" {{
    for_each = var.kms ? ["20.118.99.224/32", "40.83.235.53/32"] : []
    content {{
      name           = "kms-${{route.key}}"
      address_prefix = route.value
      next_hop_type  = "Internet"
    }}
  }}
}}
"#
    )
}

fn tfvars(db_kms: bool) -> String {
    format!("spokes = {{\n  web = {{ kms = true }}\n  db  = {{ kms = {db_kms} }}\n}}\n")
}

/// A repository whose `db` spoke is broken (or not) by its tfvars, and whose
/// module alone, with its defaults, is broken (or not).
fn repo(db_kms: bool, module_default: bool) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join(".git")).expect("mkdir");
    write(d.path(), "envs/prod/main.tf", CALLER);
    write(d.path(), "envs/prod/terraform.tfvars", &tfvars(db_kms));
    write(d.path(), "modules/spoke/main.tf", &module(module_default));
    d
}

fn kg101(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG101")
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().to_string(),
                f["resource"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_sub_directory_is_judged_with_the_modules_it_calls() {
    let d = repo(false, true);
    let whole = run(d.path(), &["."]);
    assert_eq!(whole.1, 1, "{:#}", whole.0);
    let broken = (
        "modules/spoke/main.tf".to_string(),
        "module.spoke[\"db\"].azurerm_route_table.this".to_string(),
    );
    assert_eq!(kg101(&whole.0), vec![broken.clone()]);
    let (doc, code) = run(d.path(), &["envs/prod"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(kg101(&doc), vec![broken]);
    // From inside the sub-directory too; reports name files relative to the
    // repository root, as annotations and code scanning need them.
    let (doc, code) = run(&d.path().join("envs/prod"), &["."]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        kg101(&doc),
        vec![(
            "modules/spoke/main.tf".to_string(),
            "module.spoke[\"db\"].azurerm_route_table.this".to_string()
        )]
    );
}

#[test]
fn a_changed_tfvars_alone_is_judged_through_its_unit() {
    let d = repo(false, true);
    let (doc, code) = run(d.path(), &["envs/prod/terraform.tfvars"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(kg101(&doc).len(), 1, "{doc:#}");
    // The same change that keeps every spoke's KMS routes passes.
    let d = repo(true, true);
    let (doc, code) = run(d.path(), &["envs/prod/terraform.tfvars"]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn a_changed_module_is_judged_through_its_callers_not_its_defaults() {
    // Alone with its defaults (kms = false) the module is broken, but every
    // caller passes kms = true: a harmless edit passes.
    let d = repo(true, false);
    let (doc, code) = run(d.path(), &["modules/spoke/main.tf"]);
    assert_eq!(code, 0, "{doc:#}");
    // A caller that turns the routes off: the module edit is blocked, and
    // the finding names the caller's instance.
    let d = repo(false, false);
    let (doc, code) = run(d.path(), &["modules/spoke/main.tf"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        kg101(&doc),
        vec![(
            "modules/spoke/main.tf".to_string(),
            "module.spoke[\"db\"].azurerm_route_table.this".to_string()
        )]
    );
    // A module nobody calls is a root: judged with its defaults.
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join(".git")).expect("mkdir");
    write(d.path(), "modules/spoke/main.tf", &module(false));
    write(d.path(), "modules/spoke/values.auto.tfvars", "name = \"lab\"\n");
    let (doc, code) = run(d.path(), &["modules/spoke/main.tf"]);
    assert_eq!(code, 1, "{doc:#}");
}

#[test]
fn an_unrelated_root_does_not_leak_into_a_changed_files_report() {
    let d = repo(true, true);
    // Another environment, broken, that the change does not touch.
    write(d.path(), "envs/dev/main.tf", &module(false).replace("var.name", "\"dev\""));
    let (doc, code) = run(d.path(), &["modules/spoke/main.tf"]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn a_bicep_module_is_judged_through_the_file_that_deploys_it() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join(".git")).expect("mkdir");
    write(
        d.path(),
        "modules/rt.bicep",
        "param kms bool = false\nresource rt 'Microsoft.Network/routeTables@2023-04-01' = {\n  name: 'rt-spoke'\n  properties: {\n    routes: concat([\n      { name: 'default', properties: { addressPrefix: '0.0.0.0/0', nextHopType: 'VirtualAppliance', nextHopIpAddress: '10.0.0.4' } }\n    ], kms ? [\n      { name: 'kms1', properties: { addressPrefix: '20.118.99.224/32', nextHopType: 'Internet' } }\n      { name: 'kms2', properties: { addressPrefix: '40.83.235.53/32', nextHopType: 'Internet' } }\n    ] : [])\n  }\n}\n",
    );
    write(
        d.path(),
        "main.bicep",
        "module rt 'modules/rt.bicep' = {\n  name: 'rt'\n  params: { kms: true }\n}\n",
    );
    let (doc, code) = run(d.path(), &["modules/rt.bicep"]);
    assert_eq!(code, 0, "{doc:#}");
    write(
        d.path(),
        "main.bicep",
        "module rt 'modules/rt.bicep' = {\n  name: 'rt'\n  params: { kms: false }\n}\n",
    );
    let (doc, code) = run(d.path(), &["main.bicep"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(kg101(&doc).len(), 1, "{doc:#}");
}

#[test]
fn a_changed_bicepparam_is_judged_with_its_template() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join(".git")).expect("mkdir");
    write(
        d.path(),
        "infra/main.bicep",
        "param hop string = 'Internet'\nresource rt 'Microsoft.Network/routeTables@2023-04-01' = {\n  name: 'rt-spoke'\n  properties: {\n    routes: [\n      { name: 'default', properties: { addressPrefix: '0.0.0.0/0', nextHopType: hop, nextHopIpAddress: '10.0.0.4' } }\n    ]\n  }\n}\n",
    );
    write(
        d.path(),
        "params/prod.bicepparam",
        "using '../infra/main.bicep'\nparam hop = 'VirtualAppliance'\n",
    );
    let (doc, code) = run(d.path(), &["params/prod.bicepparam"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(kg101(&doc).len(), 1, "{doc:#}");
}

#[test]
fn a_baseline_applies_whatever_directory_it_was_written_from() {
    let d = repo(false, true);
    let (_, code) = run(&d.path().join("envs/prod"), &[".", "--write-baseline", "b.json"]);
    assert_eq!(code, 1);
    let (doc, code) = run(d.path(), &["envs/prod", "--baseline", "envs/prod/b.json"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["suppressed"], 1, "{doc:#}");
    // …and the other way round.
    let (_, code) = run(d.path(), &["envs/prod", "--write-baseline", "root.json"]);
    assert_eq!(code, 1);
    let (doc, code) = run(&d.path().join("envs/prod"), &[".", "--baseline", "../../root.json"]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn a_module_called_through_a_link_inside_the_repository_is_checked() {
    // AzureTRE links `vm -> ../../other/terraform/vm`; the walk checks the
    // real directory once, and the call through the link must find it.
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join(".git")).expect("mkdir");
    write(d.path(), "shared/vm/main.tf", &module(false).replace("var.name", "\"vm\""));
    write(
        d.path(),
        "shared/main.tf",
        "module \"vm\" {\n  source = \"./vm\"\n  name   = \"a\"\n  kms    = true\n}\n",
    );
    write(
        d.path(),
        "review/main.tf",
        "module \"vm\" {\n  source = \"./vm\"\n  name   = \"b\"\n  kms    = false\n}\n",
    );
    std::os::unix::fs::symlink("../shared/vm", d.path().join("review/vm")).expect("symlink");
    let (doc, code) = run(d.path(), &["."]);
    assert_eq!(code, 1, "{doc:#}");
    assert!(
        !doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["message"].as_str().unwrap_or_default().contains("not among the files checked")),
        "{doc:#}"
    );
    assert_eq!(
        kg101(&doc),
        vec![("shared/vm/main.tf".to_string(), "module.vm.azurerm_route_table.this".to_string())]
    );
}

#[test]
fn annotations_name_files_from_the_repository_root_whatever_the_working_directory() {
    let d = repo(false, true);
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(d.path().join("envs/prod"))
        .args(["check", ".", "--format", "github"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("::error file=modules/spoke/main.tf,line="), "{stdout}");
}

/// The related locations of the one KG101, as (file, line, message).
fn related_of_kg101(doc: &Value) -> Vec<(String, u64, String)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG101")
        .flat_map(|f| f["related"].as_array().cloned().unwrap_or_default())
        .map(|r| {
            (
                r["file"].as_str().unwrap_or_default().to_string(),
                r["line"].as_u64().unwrap_or(0),
                r["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_finding_of_one_instance_points_at_the_var_file_entry_that_makes_it() {
    let d = repo(false, true);
    let (doc, _) = run(d.path(), &["."]);
    let related = related_of_kg101(&doc);
    assert!(
        related.contains(&(
            "envs/prod/terraform.tfvars".to_string(),
            3,
            "this instance comes from the `db` entry of var.spokes".to_string()
        )),
        "{related:?}"
    );
    let fix = doc["findings"][0]["fix"]["description"].as_str().unwrap_or_default();
    assert!(fix.contains("made by the `db` entry of var.spokes"), "{fix}");

    // The file whose value counts: an auto file after terraform.tfvars.
    write(
        d.path(),
        "envs/prod/z.auto.tfvars",
        &tfvars(false).replace("spokes = {", "spokes = {\n  # the later file wins"),
    );
    let (doc, _) = run(d.path(), &["."]);
    let related = related_of_kg101(&doc);
    assert!(
        related.iter().any(|(f, l, _)| f == "envs/prod/z.auto.tfvars" && *l == 4),
        "{related:?}"
    );
    assert!(!related.iter().any(|(f, _, _)| f == "envs/prod/terraform.tfvars"), "{related:?}");

    // A value given with --var is not in any file: nothing to point at.
    let (doc, code) = run(d.path(), &[".", "--var", "spokes={ db = { kms = false } }"]);
    assert_eq!(code, 1, "{doc:#}");
    let related = related_of_kg101(&doc);
    assert!(
        !related.iter().any(|(_, _, m)| m.starts_with("this instance comes from")),
        "{related:?}"
    );
}
