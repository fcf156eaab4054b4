//! Hostile inputs end in bounded time and memory with a located error or a
//! KG901 note — never a panic or a hang.
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
use std::io::Write;

use assert_cmd::Command;
use serde_json::Value;

fn check(dir: &std::path::Path, extra: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .arg("check")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    (
        serde_json::from_slice(&out.stdout).expect("a JSON report"),
        out.status.code().unwrap_or(-1),
    )
}

/// `check`, asserting that it ends within `seconds`.
fn check_within(dir: &std::path::Path, extra: &[&str], seconds: u64) -> (Value, i32) {
    let started = std::time::Instant::now();
    let out = check(dir, extra);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(seconds),
        "took {:?}",
        started.elapsed()
    );
    out
}

fn first_error(doc: &Value) -> &str {
    doc["errors"][0]["message"].as_str().unwrap_or_default()
}

fn rules(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_100_mb_file_is_refused_without_being_read() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut f = fs::File::create(d.path().join("huge.tf")).expect("create");
    let line = format!("# {}\n", "x".repeat(1022));
    for _ in 0..100 * 1024 {
        f.write_all(line.as_bytes()).expect("write");
    }
    drop(f);
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(first_error(&doc).contains("--max-file-size"), "{doc:#}");
}

#[test]
fn a_million_element_count_or_for_each_is_capped() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("main.tf"),
        r#"
resource "azurerm_route_table" "many" {
  count = 1000000
  name  = "rt-${count.index}"
  route {
    name           = "d"
    address_prefix = "0.0.0.0/0"
    next_hop_type  = "VirtualAppliance"
  }
}
resource "azurerm_route_table" "each" {
  for_each = toset([for i in range(1000000) : tostring(i)])
  name     = "rt-each"
}
"#,
    )
    .expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(doc["summary"]["route_tables"], 2, "one stand-in per capped resource: {doc:#}");
    assert_eq!(code, 1, "{doc:#}");
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("if it is created"),
        "{doc:#}"
    );
}

#[test]
fn a_bicep_loop_over_a_million_elements_is_capped() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("main.bicep"),
        "resource rts 'Microsoft.Network/routeTables@2023-04-01' = [for i in range(0, 1000000): {\n  name: 'rt-${i}'\n}]\n",
    )
    .expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(doc["summary"]["route_tables"].as_u64().unwrap_or(0) <= 1, "{doc:#}");
}

#[test]
fn a_terraform_module_that_calls_itself_stops() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join("main.tf"), "module \"again\" {\n  source = \"./\"\n}\n").expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
}

#[test]
fn templates_that_double_at_each_step_stop_at_a_limit() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut locals = String::from("locals {\n  s0 = \"ab\"\n");
    for i in 1..=40 {
        locals.push_str(&format!("  s{i} = \"${{local.s{}}}${{local.s{}}}\"\n", i - 1, i - 1));
    }
    locals.push_str("}\n");
    locals.push_str("resource \"azurerm_route_table\" \"t\" {\n  name = local.s40\n  route {\n    name = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type = \"None\"\n  }\n}\n");
    fs::write(d.path().join("main.tf"), locals).expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(rules(&doc), vec!["KG101"]);
}

#[test]
fn a_table_with_10000_routes_and_an_nsg_with_4000_rules() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut tf = String::from("resource \"azurerm_route_table\" \"big\" {\n  name = \"rt-big\"\n");
    for i in 0..10_000u32 {
        tf.push_str(&format!(
            "  route {{\n    name = \"r{i}\"\n    address_prefix = \"10.{}.{}.0/24\"\n    next_hop_type = \"VirtualAppliance\"\n    next_hop_in_ip_address = \"10.0.0.4\"\n  }}\n",
            i / 256,
            i % 256
        ));
    }
    tf.push_str("}\nresource \"azurerm_network_security_group\" \"big\" {\n  name = \"nsg-big\"\n");
    for i in 0..4_000u32 {
        tf.push_str(&format!(
            "  security_rule {{\n    name = \"s{i}\"\n    priority = {}\n    direction = \"Outbound\"\n    access = \"Deny\"\n    protocol = \"Tcp\"\n    source_port_range = \"*\"\n    destination_port_range = \"{}\"\n    source_address_prefix = \"*\"\n    destination_address_prefix = \"AzurePlatformLKM\"\n  }}\n",
            100 + i,
            2000 + i
        ));
    }
    tf.push_str("}\n");
    fs::write(d.path().join("main.tf"), tf).expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["summary"]["route_tables"], 1);
}

/// Found by fuzzing: hcl-edit backtracks exponentially when a file ends
/// inside open brackets: each `x-%k%{` doubles the time, twenty take 0.8 s,
/// so sixty (just under hcl-edit's own nesting limit of 64, past which it
/// fails fast) would take tens of thousands of years. The bracket pre-scan
/// rejects it in linear time at the last open brace, and the other files
/// are still checked.
#[test]
fn hcl_that_made_the_parser_backtrack_is_rejected_in_linear_time() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join("slow.tf"), format!("a = {}\n", "x-%k%{".repeat(60))).expect("write");
    fs::write(d.path().join("main.tf"), FORCED_TUNNEL).expect("write");
    let (doc, code) = check_within(d.path(), &[], 20);
    assert_eq!(code, 2, "{doc:#}");
    let error = &doc["errors"][0];
    assert!(first_error(&doc).contains("never closed"), "{doc:#}");
    assert!(error["file"].as_str().unwrap_or_default().ends_with("slow.tf"), "{doc:#}");
    assert_eq!(error["line"], 1, "{doc:#}");
    assert_eq!(error["column"], 6 * 60 + 4, "at the last open brace: {doc:#}");
    assert_eq!(rules(&doc), vec!["KG101"], "the other file is still checked");
}

/// The watchdog behind the pre-scan: a parse that overruns `--parse-timeout`
/// is abandoned with a located error naming the flag. A few megabytes of
/// valid HCL take far longer than a millisecond to parse.
#[test]
fn a_parse_that_overruns_the_timeout_is_given_up_on() {
    let d = tempfile::tempdir().expect("tempdir");
    let mut big = String::new();
    for i in 0..40_000 {
        big.push_str(&format!("locals {{\n  l{i} = [\"a\", \"b\", {{ k = {i} }}]\n}}\n"));
    }
    fs::write(d.path().join("big.tf"), big).expect("write");
    fs::write(d.path().join("main.tf"), FORCED_TUNNEL).expect("write");
    let (doc, code) = check(d.path(), &["--parse-timeout", "0.001"]);
    assert_eq!(code, 2, "{doc:#}");
    let error = &doc["errors"][0];
    assert!(first_error(&doc).contains("--parse-timeout"), "{doc:#}");
    assert!(error["file"].as_str().unwrap_or_default().ends_with("big.tf"), "{doc:#}");
}

const FORCED_TUNNEL: &str = r#"
resource "azurerm_route_table" "hub" {
  name = "rt-hub"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
}
"#;

fn unknown_reasons(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG901")
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Each local concatenates the one before with itself: forty steps would be
/// 2^41 elements, far past any memory. Copies are charged to the step
/// budget, so it ends as an unknown that names the flag. (`concat` now
/// refuses a result past the collection limit first, at 2^17 elements; the
/// limit is raised here so that the budget is what stops it.)
#[test]
fn a_list_that_doubles_at_each_step_stops_at_the_step_budget() {
    let d = tempfile::tempdir().expect("tempdir");
    let locals = tf_doubling(40);
    let tf = format!(
        "locals {{\n{locals}  nested = [local.l40, local.l40]\n}}\n{}",
        tf_table("rt-${length(local.nested)}", "local.l40[0] == \"a\" ? \"None\" : \"Internet\"")
    );
    fs::write(d.path().join("main.tf"), tf).expect("write");
    let (doc, _) = check(d.path(), &[]);
    assert!(
        unknown_reasons(&doc).iter().any(|r| r.contains("concat(): 131,072 elements")),
        "{doc:#}"
    );
    let (doc, code) = check(d.path(), &["--max-collection-size", "1000000000000"]);
    assert_eq!(code, 0, "{doc:#}");
    let reasons = unknown_reasons(&doc);
    assert!(reasons.iter().any(|r| r.contains("--max-eval-steps")), "{doc:#}");
}

#[test]
fn doubling_in_bicep_and_arm_stops_at_the_step_budget() {
    let d = tempfile::tempdir().expect("tempdir");
    let vars = chain(40, "var l0 = ['a', 'b']", |i| format!("var l{i} = concat(l{}, l{})", i - 1, i - 1));
    fs::write(
        d.path().join("main.bicep"),
        vars + &bicep_table("l40[0] == 'a' ? 'None' : 'Internet'"),
    )
    .expect("write");
    let vars = chain(40, r#""v0": ["a", "b"],"#, |i| {
        format!(
            r#""v{i}": "[concat(variables('v{}'), variables('v{}'))]"{}"#,
            i - 1,
            i - 1,
            if i < 40 { "," } else { "" }
        )
    });
    fs::write(
        d.path().join("azuredeploy.json"),
        arm_table(&vars, "[if(equals(variables('v40')[0], 'a'), 'None', 'Internet')]"),
    )
    .expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    // Forty variables deep, the evaluation-depth bound (which protects the
    // stack) may be reached before the step budget: either ends it.
    let reasons = unknown_reasons(&doc);
    assert_eq!(reasons.len(), 2, "one note per language: {doc:#}");
    assert!(
        reasons.iter().all(|r| r.contains("--max-eval-steps") || r.contains("too deeply")),
        "{doc:#}"
    );
}

/// A loop inside a loop, each over 100,000 elements: ten billion values.
#[test]
fn nested_loops_of_a_hundred_thousand_stop_at_the_step_budget() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("main.bicep"),
        format!(
            "var big = [for i in range(0, 100000): [for j in range(0, 100000): j]]\n{}",
            bicep_table("length(big) > 0 ? 'None' : 'Internet'")
        ),
    )
    .expect("write");
    fs::create_dir(d.path().join("tf")).expect("mkdir");
    fs::write(
        d.path().join("tf/main.tf"),
        format!(
            "locals {{\n  big = [for i in range(100000) : [for j in range(100000) : j]]\n}}\n{}",
            tf_table("rt", "length(local.big) > 0 ? \"None\" : \"Internet\"")
        ),
    )
    .expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(unknown_reasons(&doc).len(), 2, "{doc:#}");
}

/// Raising the budget is honoured: the same doubling chain, cut to ten
/// steps, is evaluated and the tunnel found once the flag allows it.
#[test]
fn the_step_budget_is_raised_by_its_flag() {
    let d = tempfile::tempdir().expect("tempdir");
    let locals = tf_doubling(10);
    let tf = format!(
        "locals {{\n{locals}}}\n{}",
        tf_table("rt", "local.l10[0] == \"a\" ? \"None\" : \"Internet\"")
    );
    fs::write(d.path().join("main.tf"), tf).expect("write");
    let (doc, _) = check(d.path(), &["--max-eval-steps", "1000"]);
    assert_eq!(rules(&doc), vec!["KG901"], "{doc:#}");
    let (doc, code) = check(d.path(), &["--max-eval-steps", "100000"]);
    assert_eq!((rules(&doc), code), (vec!["KG101".to_string()], 1), "{doc:#}");
}

#[test]
fn the_collection_limit_is_lowered_and_raised_by_its_flag() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("main.tf"),
        "resource \"azurerm_route_table\" \"t\" {\n  count = 50\n  name  = \"rt-${count.index}\"\n  route {\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = \"None\"\n  }\n}\n",
    )
    .expect("write");
    let (doc, _) = check(d.path(), &["--max-collection-size", "10"]);
    assert_eq!(doc["summary"]["route_tables"], 1, "one stand-in: {doc:#}");
    assert!(
        doc["findings"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("if it is created"),
        "{doc:#}"
    );
    let (doc, _) = check(d.path(), &[]);
    assert_eq!(doc["summary"]["route_tables"], 50, "{doc:#}");
}

/// Found while writing these tests: `format("%1000000000d", 1)` panicked
/// (Rust's padding stops at 65,535) and ARM's `padLeft('', 1000000000)`
/// built a gigabyte. Both are unknown now.
#[test]
fn huge_widths_in_format_and_pad_left_are_unknown() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("main.tf"),
        tf_table("rt", "length(format(\"%1000000000d\", 1)) > 0 ? \"None\" : \"Internet\""),
    )
    .expect("write");
    fs::write(
        d.path().join("azuredeploy.json"),
        arm_table(
            r#""x": 1"#,
            "[if(greater(length(padLeft('', 1000000000, 'x')), 0), 'None', 'Internet')]",
        ),
    )
    .expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    let reasons = unknown_reasons(&doc);
    assert_eq!(reasons.len(), 2, "{doc:#}");
    assert!(reasons.iter().any(|r| r.contains("format()")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("padLeft()")), "{reasons:?}");
}

/// A module called 1,000 times that calls another 1,000 times that calls a
/// third 1,000 times: a billion instances. Every instance is charged to its
/// root's budget, so it stops with a note at the call.
#[test]
fn module_fan_out_stops_at_the_step_budget() {
    let d = tempfile::tempdir().expect("tempdir");
    for (dir, next) in [("a", Some("b")), ("b", Some("c")), ("c", None)] {
        fs::create_dir(d.path().join(dir)).expect("mkdir");
        let body = match next {
            Some(n) => format!("module \"next\" {{\n  source = \"../{n}\"\n  count  = 1000\n}}\n"),
            None => "resource \"azurerm_route_table\" \"t\" {\n  name = \"rt\"\n}\n".to_string(),
        };
        fs::write(d.path().join(dir).join("main.tf"), body).expect("write");
    }
    let mut bicep = String::new();
    for (file, next) in [("main", "b"), ("b", "c")] {
        bicep.clear();
        bicep.push_str(&format!(
            "module next './{next}.bicep' = [for i in range(0, 1000): {{\n  name: 'next-${{i}}'\n}}]\n"
        ));
        fs::write(d.path().join(format!("{file}.bicep")), &bicep).expect("write");
    }
    fs::write(
        d.path().join("c.bicep"),
        "module next './d.bicep' = [for i in range(0, 1000): {\n  name: 'next-${i}'\n}]\n",
    )
    .expect("write");
    fs::write(
        d.path().join("d.bicep"),
        "resource rt 'Microsoft.Network/routeTables@2023-04-01' = {\n  name: 'rt'\n}\n",
    )
    .expect("write");
    let (doc, code) = check_within(d.path(), &[], 30);
    assert_eq!(code, 0, "{doc:#}");
    let reasons = unknown_reasons(&doc);
    let files: std::collections::BTreeSet<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["file"].as_str())
        .map(|f| if f.ends_with(".bicep") { "bicep" } else { "terraform" })
        .collect();
    assert_eq!(files.len(), 2, "a note in each language: {doc:#}");
    assert!(reasons.iter().all(|r| r.contains("--max-eval-steps")), "{doc:#}");
}

/// The same in ARM: a nested deployment in a copy loop of 100,000, holding
/// a resource in a copy loop of 100,000 that has no expression at all.
#[test]
fn arm_copy_loops_in_nested_deployments_stop_at_the_step_budget() {
    let d = tempfile::tempdir().expect("tempdir");
    let inner = r#"{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
      "resources": [ { "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "rt", "location": "westeurope",
        "copy": { "name": "tables", "count": 100000 }, "properties": {} } ] }"#;
    let outer = format!(
        r#"{{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
  "resources": [ {{ "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "nested",
    "copy": {{ "name": "deployments", "count": 100000 }},
    "properties": {{ "mode": "Incremental", "template": {inner} }} }} ] }}"#
    );
    fs::write(d.path().join("azuredeploy.json"), outer).expect("write");
    let (doc, code) = check_within(d.path(), &[], 30);
    assert_eq!(code, 0, "{doc:#}");
    assert!(unknown_reasons(&doc).iter().any(|r| r.contains("--max-eval-steps")), "{doc:#}");
}

#[test]
fn locals_and_variables_in_a_cycle_are_unknown_with_the_cycle_named() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join("tf")).expect("mkdir");
    fs::write(
        d.path().join("tf/main.tf"),
        format!(
            "locals {{\n  a = local.b\n  b = local.c\n  c = local.a\n}}\n{}",
            tf_table("rt", "local.a")
        ),
    )
    .expect("write");
    fs::write(d.path().join("main.bicep"), format!("var a = b\nvar b = a\n{}", bicep_table("a"))).expect("write");
    fs::write(
        d.path().join("azuredeploy.json"),
        arm_table(r#""a": "[variables('b')]", "b": "[variables('a')]""#, "[variables('a')]"),
    )
    .expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 0, "{doc:#}");
    let reasons = unknown_reasons(&doc);
    assert_eq!(reasons.len(), 3, "{doc:#}");
    assert!(reasons.iter().all(|r| r.contains("cycle")), "{reasons:?}");
}

#[test]
fn an_arm_copy_loop_of_a_million_is_capped() {
    let d = tempfile::tempdir().expect("tempdir");
    let template = r#"{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
  "resources": [ { "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "[concat('rt-', copyIndex())]", "location": "westeurope",
    "copy": { "name": "tables", "count": 1000000 },
    "properties": { "routes": [ { "name": "d", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "None" } } ] } } ] }"#;
    fs::write(d.path().join("azuredeploy.json"), template).expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["summary"]["route_tables"], 1, "one stand-in: {doc:#}");
}

/// A path that cannot be read (a dangling symlink; and, when the tests do
/// not run as root, a file without read permission) is a located error, and
/// the other files are still checked. A FIFO is not a file to check: it is
/// skipped, never opened (opening one would block for ever).
#[cfg(unix)]
#[test]
fn unreadable_paths_and_fifos() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(d.path().join("nowhere.tf"), d.path().join("dangling.tf")).expect("symlink");
    let locked = d.path().join("locked.tf");
    fs::write(&locked, FORCED_TUNNEL).expect("write");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).expect("chmod");
    let root = fs::read(&locked).is_ok();
    let fifo = d.path().join("pipe.tf");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
    fs::write(d.path().join("main.tf"), FORCED_TUNNEL.replace("\"hub\"", "\"spoke\"")).expect("write");
    let (doc, code) = check(d.path(), &[]);
    assert_eq!(code, 2, "{doc:#}");
    let errors: Vec<String> = doc["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["file"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(errors.iter().any(|f| f.ends_with("dangling.tf")), "{doc:#}");
    if !root {
        assert!(errors.iter().any(|f| f.ends_with("locked.tf")), "{doc:#}");
    }
    if made {
        assert!(!errors.iter().any(|f| f.ends_with("pipe.tf")), "{doc:#}");
    }
    assert!(
        rules(&doc).contains(&"KG101".to_string()),
        "the readable file is still checked: {doc:#}"
    );
}

/// `first`, then `step(1)` … `step(n)`, one per line.
fn chain(n: usize, first: &str, step: impl Fn(usize) -> String) -> String {
    let mut out = format!("{first}\n");
    for i in 1..=n {
        out.push_str(&step(i));
        out.push('\n');
    }
    out
}

/// Terraform locals `l0` … `ln`, each the one before concatenated with itself.
fn tf_doubling(n: usize) -> String {
    chain(n, "  l0 = [\"a\", \"b\"]", |i| {
        format!("  l{i} = concat(local.l{}, local.l{})", i - 1, i - 1)
    })
}

/// A Terraform route table named `name` whose default route goes to `next_hop`.
fn tf_table(name: &str, next_hop: &str) -> String {
    format!(
        "resource \"azurerm_route_table\" \"t\" {{\n  name = \"{name}\"\n  route {{\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = {next_hop}\n  }}\n}}\n"
    )
}

fn bicep_table(next_hop: &str) -> String {
    format!(
        "resource rt 'Microsoft.Network/routeTables@2023-04-01' = {{\n  name: 'rt'\n  location: 'westeurope'\n  properties: {{\n    routes: [\n      {{ name: 'd', properties: {{ addressPrefix: '0.0.0.0/0', nextHopType: {next_hop} }} }}\n    ]\n  }}\n}}\n"
    )
}

fn arm_table(variables: &str, next_hop: &str) -> String {
    format!(
        r#"{{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
  "variables": {{ {variables} }},
  "resources": [ {{ "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "rt", "location": "westeurope",
    "properties": {{ "routes": [ {{ "name": "d", "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "{next_hop}" }} }} ] }} }} ] }}"#
    )
}

/// Found by fuzzing (10 s per run before the fix): `<` chains, 20 unclosed
/// `[` and a stray `<<` at the end. The pre-scan used to stop at the `<<`
/// with no opinion; now it reports it, and the file is never parsed.
#[test]
fn fuzz_timeout_open_brackets_and_a_stray_heredoc_start() {
    let d = tempfile::tempdir().expect("tempdir");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fuzz/hcl-timeout-open-brackets-stray-heredoc.tf"
    );
    fs::copy(fixture, d.path().join("fuzzed.tf")).expect("copy");
    let (doc, code) = check_within(d.path(), &[], 5);
    assert_eq!(code, 2, "{doc:#}");
    assert!(first_error(&doc).contains("heredoc"), "{doc:#}");
}

/// What the pre-scan cannot catch: balanced brackets, 28 deep, around an
/// invalid operand. hcl-edit takes about 2.2^depth here (0.2 s at 16, hours
/// at 28); the watchdog gives up after `--parse-timeout` with a located
/// error, and the other files are still checked.
#[test]
fn a_deep_invalid_expression_is_given_up_on_at_the_parse_timeout() {
    let d = tempfile::tempdir().expect("tempdir");
    let depth = 28;
    fs::write(
        d.path().join("slow.tf"),
        format!("lo = {} x /<q{}\n", "s<p<s[_<p<".repeat(depth), "]".repeat(depth)),
    )
    .expect("write");
    fs::write(d.path().join("main.tf"), FORCED_TUNNEL).expect("write");
    let (doc, code) = check_within(d.path(), &["--parse-timeout", "1"], 15);
    assert_eq!(code, 2, "{doc:#}");
    let error = &doc["errors"][0];
    assert!(first_error(&doc).contains("--parse-timeout"), "{doc:#}");
    assert!(error["file"].as_str().unwrap_or_default().ends_with("slow.tf"), "{doc:#}");
    assert_eq!(rules(&doc), vec!["KG101"], "the other file is still checked");
}

/// Variable defaults are evaluated under the run's limits too (they once
/// had a budget of their own, under the defaults, whatever the flags said).
#[test]
fn variable_defaults_obey_the_limit_flags() {
    let d = tempfile::tempdir().expect("tempdir");
    let tf = format!(
        "variable \"hop\" {{\n  default = length(range(150000)) > 0 ? \"None\" : \"Internet\"\n}}\n{}",
        tf_table("rt", "var.hop")
    );
    fs::write(d.path().join("main.tf"), tf).expect("write");
    let (doc, _) = check(d.path(), &[]);
    assert_eq!(rules(&doc), vec!["KG901"], "150,000 is over the default limit: {doc:#}");
    let (doc, code) = check(d.path(), &["--max-collection-size", "200000"]);
    assert_eq!((rules(&doc), code), (vec!["KG101".to_string()], 1), "{doc:#}");
}

// ---------------------------------------------------------------------------
// Issue 11 §6: results measured before they are built, instances charged by
// the size of what they copy.
// ---------------------------------------------------------------------------

/// `check_within`, with the address space capped at `megabytes` on Unix, so
/// that an evaluator that tries to allocate gigabytes fails the test (the
/// abort shows as an exit by a signal, with no report) instead of passing on
/// a machine with the memory to spare. One rayon thread pair and two malloc
/// arenas keep the reserved address space independent of the core count.
/// The time bound is against a run of hours, not a benchmark: these tests
/// run beside the others on a 2-core machine, so the heaviest get 60 s.
fn check_capped(dir: &std::path::Path, extra: &[&str], seconds: u64, megabytes: u64) -> (Value, i32) {
    let started = std::time::Instant::now();
    let bin = assert_cmd::cargo::cargo_bin("kmsguard");
    let mut cmd = if cfg!(unix) {
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("ulimit -v {}; exec \"$0\" \"$@\"", megabytes * 1024))
            .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    let out = cmd
        .arg("check")
        .arg(dir)
        .args(extra)
        .args(["--format", "json"])
        .env("RAYON_NUM_THREADS", "2")
        .env("MALLOC_ARENA_MAX", "2")
        .timeout(std::time::Duration::from_secs(seconds.max(60)))
        .output()
        .expect("runs");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(seconds),
        "took {:?}",
        started.elapsed()
    );
    let code = out.status.code().unwrap_or(-1);
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report (exit {code}): {e}; stderr: {}",
            String::from_utf8_lossy(&out.stderr).chars().take(2000).collect::<String>()
        )
    });
    (doc, code)
}

/// The KG901 reasons, by the resource they are about.
fn unknown_by_resource(doc: &Value) -> std::collections::BTreeMap<String, String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG901")
        .map(|f| {
            (
                f["resource"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Half a megabyte of `x`: any function that multiplies it passes the 1 MiB
/// string limit, and `replace(a, "x", a)` would be 250 GB.
fn half_mb() -> String {
    "x".repeat(512 * 1024)
}

/// Each string function whose result can outgrow its arguments, in
/// Terraform: its result is measured before it is built, and a result past
/// the limit is unknown, naming the function and the limit. `replace` and
/// `join` aborted the run (they tried to allocate gigabytes); `formatlist`
/// built a megabyte per row.
#[test]
fn terraform_string_functions_measure_their_result_before_building_it() {
    let d = tempfile::tempdir().expect("tempdir");
    let members = [
        ("replace", "replace(local.a, \"x\", local.a)"),
        ("join", "join(local.a, [\"a\", \"b\", \"c\", \"d\"])"),
        ("format", "format(\"%s%s%s\", local.a, local.a, local.a)"),
        ("formatlist", "formatlist(local.a, range(50000))"),
        ("template", "\"${local.a}${local.a}${local.a}\""),
        ("jsonencode", "jsonencode([local.a, local.a, local.a])"),
    ];
    let mut tf = format!("locals {{\n  a = \"{}\"\n}}\n", half_mb());
    for (name, call) in members {
        tf.push_str(&format!(
            "resource \"azurerm_route_table\" \"{name}\" {{\n  name = \"rt-{name}\"\n  route {{\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = length({call}) > 0 ? \"None\" : \"Internet\"\n  }}\n}}\n"
        ));
    }
    fs::write(d.path().join("main.tf"), tf).expect("write");
    let (doc, code) = check_capped(d.path(), &[], 60, 2048);
    assert_eq!(code, 0, "{doc:#}");
    let notes = unknown_by_resource(&doc);
    for (name, _) in members {
        let reason = notes
            .get(&format!("azurerm_route_table.{name}"))
            .unwrap_or_else(|| panic!("no note for {name}: {doc:#}"));
        let function = if name == "template" {
            "a string template".to_string()
        } else {
            format!("{name}()")
        };
        assert!(
            reason.contains(&function) && reason.contains("1,048,576 bytes") || name == "formatlist" && reason.contains("--max-eval-steps"),
            "{name}: {reason}"
        );
    }
}

/// The same class in ARM, whose functions Bicep shares.
#[test]
fn arm_string_functions_measure_their_result_before_building_it() {
    let d = tempfile::tempdir().expect("tempdir");
    let members = [
        ("replace", "replace(variables('a'), 'x', variables('a'))"),
        ("join", "join(createArray('a', 'b', 'c', 'd'), variables('a'))"),
        ("format", "format('{0}{0}{0}', variables('a'))"),
        ("concat", "concat(variables('a'), variables('a'), variables('a'))"),
        ("string", "string(createArray(variables('a'), variables('a'), variables('a')))"),
    ];
    let resources: Vec<String> = members
        .iter()
        .map(|(name, call)| {
            format!(
                r#"{{ "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "rt-{name}", "location": "westeurope",
    "properties": {{ "routes": [ {{ "name": "d", "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "[if(greater(length({call}), 0), 'None', 'Internet')]" }} }} ] }} }}"#
            )
        })
        .collect();
    fs::write(
        d.path().join("azuredeploy.json"),
        format!(
            r#"{{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
  "variables": {{ "a": "{}" }},
  "resources": [ {} ] }}"#,
            half_mb(),
            resources.join(",\n")
        ),
    )
    .expect("write");
    let (doc, code) = check_capped(d.path(), &[], 60, 2048);
    assert_eq!(code, 0, "{doc:#}");
    let reasons = unknown_reasons(&doc);
    for (name, _) in members {
        assert!(
            reasons
                .iter()
                .any(|r| r.contains(&format!("{name}()")) && r.contains("1,048,576 bytes")),
            "{name}: {reasons:#?}"
        );
    }
}

/// The same class in Bicep: ARM's functions, and string interpolation.
#[test]
fn bicep_string_functions_measure_their_result_before_building_it() {
    let d = tempfile::tempdir().expect("tempdir");
    let members = [
        ("replace", "replace(a, 'x', a)", "replace()"),
        ("join", "join(['a', 'b', 'c', 'd'], a)", "join()"),
        ("format", "format('{0}{0}{0}', a)", "format()"),
        ("concat", "concat(a, a, a)", "concat()"),
        ("interpolation", "'${a}${a}${a}'", "a string interpolation"),
    ];
    let mut bicep = format!("var a = '{}'\n", half_mb());
    for (name, call, _) in members {
        bicep.push_str(&format!(
            "resource {name} 'Microsoft.Network/routeTables@2023-04-01' = {{\n  name: 'rt-{name}'\n  location: 'westeurope'\n  properties: {{\n    routes: [\n      {{ name: 'd', properties: {{ addressPrefix: '0.0.0.0/0', nextHopType: length({call}) > 0 ? 'None' : 'Internet' }} }}\n    ]\n  }}\n}}\n"
        ));
    }
    fs::write(d.path().join("main.bicep"), bicep).expect("write");
    let (doc, code) = check_capped(d.path(), &[], 60, 2048);
    assert_eq!(code, 0, "{doc:#}");
    let reasons = unknown_reasons(&doc);
    for (name, _, function) in members {
        assert!(
            reasons.iter().any(|r| r.contains(function) && r.contains("1,048,576 bytes")),
            "{name}: {reasons:#?}"
        );
    }
}

/// A resource with `count = 5000` whose body holds 900 KB of literal text:
/// each instance copies it, 4.5 GB in all, and a literal cost one step
/// whatever its size. Instances are charged by the size of the body they
/// copy, so expansion stops at the step budget with a note naming the flag;
/// the same for an ARM copy loop, an ARM property copy loop and a Bicep
/// resource loop.
#[test]
fn instances_of_a_large_literal_body_are_charged_by_its_size() {
    let d = tempfile::tempdir().expect("tempdir");
    let big = "x".repeat(900 * 1024);
    for dir in ["tf", "arm", "armprop", "bicep"] {
        fs::create_dir(d.path().join(dir)).expect("mkdir");
    }
    fs::write(
        d.path().join("tf/main.tf"),
        format!(
            "resource \"azurerm_route_table\" \"t\" {{\n  count = 5000\n  name  = \"rt-${{count.index}}\"\n  tags  = {{ note = \"{big}\" }}\n  route {{\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = \"None\"\n  }}\n}}\n"
        ),
    )
    .expect("write");
    let arm = |copy: &str, properties: &str| {
        format!(
            r#"{{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
  "resources": [ {{ "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "[concat('rt-', string(copyIndex()))]", "location": "westeurope",
    {copy} "properties": {properties} }} ] }}"#
        )
    };
    let route = r#"{ "name": "d", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "None" } }"#;
    fs::write(
        d.path().join("arm/azuredeploy.json"),
        arm(
            r#""copy": { "name": "tables", "count": 5000 }, "tags": { "note": "BIG" },"#,
            &format!(r#"{{ "routes": [ {route} ] }}"#),
        )
        .replace("BIG", &big),
    )
    .expect("write");
    fs::write(
        d.path().join("armprop/azuredeploy.json"),
        arm(
            "",
            &format!(
                r#"{{ "copy": [ {{ "name": "routes", "count": 5000, "input": {{ "name": "[concat('r', copyIndex('routes'))]", "properties": {{ "addressPrefix": "10.0.0.0/24", "nextHopType": "None", "note": "{big}" }} }} }} ] }}"#
            ),
        ),
    )
    .expect("write");
    fs::write(
        d.path().join("bicep/main.bicep"),
        format!(
            "resource rts 'Microsoft.Network/routeTables@2023-04-01' = [for i in range(0, 5000): {{\n  name: 'rt-${{i}}'\n  location: 'westeurope'\n  tags: {{ note: '{big}' }}\n  properties: {{\n    routes: [\n      {{ name: 'd', properties: {{ addressPrefix: '0.0.0.0/0', nextHopType: 'None' }} }}\n    ]\n  }}\n}}]\n"
        ),
    )
    .expect("write");
    let (doc, code) = check_capped(d.path(), &[], 60, 2048);
    assert_eq!(code, 1, "the tunnel in the instances expanded is found: {doc:#}");
    let files: std::collections::BTreeSet<String> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        // A KG901 note, or (where the instance left standing is all
        // literal) the finding itself, says "if it is created: … --max-eval-steps".
        .filter(|f| f["message"].as_str().is_some_and(|m| m.contains("--max-eval-steps")))
        .filter_map(|f| f["file"].as_str())
        .filter_map(|f| std::path::Path::new(f).parent()?.file_name()?.to_str().map(String::from))
        .collect();
    assert_eq!(
        files,
        ["arm", "armprop", "bicep", "tf"].map(String::from).into_iter().collect(),
        "a note naming the flag in each: {doc:#}"
    );
}

/// 718 bytes: four route tables with `count = 99999` and a next hop that
/// has no value took 9.2 GB and 37 s and wrote 1.1 GB of reports. Each
/// instance is charged to the step budget, so a few tens of thousands are
/// expanded and a stand-in names the flag; the same in Bicep and ARM.
#[test]
fn four_resources_of_99999_instances_stop_at_the_step_budget() {
    let d = tempfile::tempdir().expect("tempdir");
    for dir in ["tf", "arm", "bicep"] {
        fs::create_dir(d.path().join(dir)).expect("mkdir");
    }
    let mut tf = String::from("variable \"hop\" {}\n");
    let mut bicep = String::from("param hop string\n");
    let mut arm = Vec::new();
    for i in 0..4 {
        tf.push_str(&format!(
            "resource \"azurerm_route_table\" \"t{i}\" {{\n  count = 99999\n  name  = \"rt-${{count.index}}\"\n  route {{\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = var.hop\n  }}\n}}\n"
        ));
        bicep.push_str(&format!(
            "resource t{i} 'Microsoft.Network/routeTables@2023-04-01' = [for i in range(0, 99999): {{\n  name: 'rt-${{i}}'\n  properties: {{ routes: [ {{ name: 'd', properties: {{ addressPrefix: '0.0.0.0/0', nextHopType: hop }} }} ] }}\n}}]\n"
        ));
        arm.push(format!(
            r#"{{ "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "[concat('rt{i}-', copyIndex())]", "copy": {{ "name": "t{i}", "count": 99999 }},
    "properties": {{ "routes": [ {{ "name": "d", "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "[parameters('hop')]" }} }} ] }} }}"#
        ));
    }
    fs::write(d.path().join("tf/main.tf"), tf).expect("write");
    fs::write(d.path().join("bicep/main.bicep"), bicep).expect("write");
    fs::write(
        d.path().join("arm/azuredeploy.json"),
        format!(
            r#"{{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
  "parameters": {{ "hop": {{ "type": "string" }} }},
  "resources": [ {} ] }}"#,
            arm.join(",\n")
        ),
    )
    .expect("write");
    let (doc, code) = check_capped(d.path(), &[], 30, 1024);
    assert_eq!(code, 0, "{}", doc["summary"]);
    let tables = doc["summary"]["route_tables"].as_u64().unwrap_or(u64::MAX);
    assert!(tables < 3 * 50_000, "{tables} route tables");
    let stand_ins: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["message"].as_str().is_some_and(|m| m.contains("--max-eval-steps")))
        .filter_map(|f| f["file"].as_str())
        .collect();
    for ext in [".tf", ".bicep", ".json"] {
        assert!(stand_ins.iter().any(|f| f.ends_with(ext)), "a note naming the flag for {ext}");
    }
    // The instances of one block are one finding naming how many there are,
    // not tens of thousands of notes (28 MB of JSON per language before).
    let findings = doc["findings"].as_array().expect("findings");
    assert!(findings.len() < 100, "{} findings", findings.len());
    assert!(
        findings.iter().any(|f| f["resource"]
            .as_str()
            .is_some_and(|r| r.starts_with("azurerm_route_table.t0[0..") && r.ends_with(" instances)"))),
        "{:#}",
        doc["findings"]
    );
}

/// Sets were built by comparing each element with every one kept before:
/// `toset()` of 100,000 strings ran for minutes. Terraform's `toset`,
/// `distinct` and `setunion`, and ARM's and Bicep's `union`, now hash.
#[test]
fn sets_of_a_hundred_thousand_elements_are_built_in_linear_time() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::create_dir(d.path().join("tf")).expect("mkdir");
    fs::write(
        d.path().join("tf/main.tf"),
        format!(
            "locals {{\n  l = [for i in range(100000) : tostring(i)]\n  n = length(toset(local.l)) + length(distinct(local.l)) + length(setunion(local.l, local.l))\n}}\n{}",
            tf_table("rt", "local.n == 300000 ? \"None\" : \"Internet\"")
        ),
    )
    .expect("write");
    fs::write(
        d.path().join("main.bicep"),
        format!(
            "var l = range(0, 100000)\n{}",
            bicep_table("length(union(l, l)) == 100000 ? 'None' : 'Internet'")
        ),
    )
    .expect("write");
    fs::write(
        d.path().join("azuredeploy.json"),
        arm_table(
            r#""l": "[range(0, 100000)]""#,
            "[if(equals(length(union(variables('l'), variables('l'))), 100000), 'None', 'Internet')]",
        ),
    )
    .expect("write");
    let (doc, code) = check_capped(d.path(), &[], 20, 2048);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(rules(&doc), vec!["KG101"; 3], "{doc:#}");
}

/// 4,000 tiny ARM templates, each with its `.parameters.json`, in one
/// directory: pairing them was templates x parameter files x files (43 s
/// for 8,000 files, about 11 minutes for 20,000). The parameters file is
/// applied (its next hop is what makes each table a finding).
/// With the pairing through a name index this takes about 2 s in a debug
/// build; pairing by scanning every file took over 60 s.
#[test]
fn eight_thousand_arm_files_in_one_directory_are_paired_in_linear_time() {
    let d = tempfile::tempdir().expect("tempdir");
    let n = 4_000;
    for i in 0..n {
        fs::write(
            d.path().join(format!("t{i}.json")),
            format!(
                r#"{{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
  "parameters": {{ "hop": {{ "type": "string" }} }},
  "resources": [ {{ "type": "Microsoft.Network/routeTables", "apiVersion": "2023-04-01", "name": "rt-{i}", "location": "westeurope",
    "properties": {{ "routes": [ {{ "name": "d", "properties": {{ "addressPrefix": "0.0.0.0/0", "nextHopType": "[parameters('hop')]" }} }} ] }} }} ] }}"#
            ),
        )
        .expect("write");
        fs::write(
            d.path().join(format!("t{i}.parameters.json")),
            r#"{ "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "contentVersion": "1.0.0.0",
  "parameters": { "hop": { "value": "None" } } }"#,
        )
        .expect("write");
    }
    let (doc, code) = check_capped(d.path(), &[], 20, 2048);
    assert_eq!(code, 1, "{}", doc["summary"]);
    assert_eq!(doc["summary"]["files"], 2 * n, "{}", doc["summary"]);
    assert_eq!(rules(&doc), vec!["KG101"; n], "every template paired with its parameters");
}

/// A run that reaches each limit the evaluators have (the string limit, the
/// collection limit, the step budget) still writes every report asked for,
/// and each report names each limit.
#[test]
fn a_run_that_reaches_every_evaluation_limit_writes_every_report() {
    let d = tempfile::tempdir().expect("tempdir");
    let tree = d.path().join("tree");
    let out = d.path().join("out");
    for dir in [tree.join("strings"), tree.join("budget"), out.clone()] {
        fs::create_dir_all(dir).expect("mkdir");
    }
    fs::write(
        tree.join("strings/main.tf"),
        format!(
            "locals {{\n  a = \"{}\"\n}}\n{}resource \"azurerm_route_table\" \"many\" {{\n  count = 1000000\n  name  = \"rt-${{count.index}}\"\n  route {{\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = \"None\"\n  }}\n}}\n",
            half_mb(),
            tf_table("rt", "length(replace(local.a, \"x\", local.a)) > 0 ? \"None\" : \"Internet\"")
        ),
    )
    .expect("write");
    fs::write(
        tree.join("budget/main.tf"),
        "variable \"hop\" {}\nresource \"azurerm_route_table\" \"t\" {\n  count = 99999\n  name  = \"rt-${count.index}\"\n  route {\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = var.hop\n  }\n}\n",
    )
    .expect("write");
    let formats = ["sarif", "junit", "markdown", "github", "azure-pipelines", "compact", "human"];
    let reports: Vec<String> = formats
        .iter()
        .map(|f| format!("{f}={}", out.join(format!("report.{f}")).display()))
        .collect();
    let mut extra = vec!["--max-eval-steps", "100000"];
    for r in &reports {
        extra.extend(["--report", r.as_str()]);
    }
    let (doc, code) = check_capped(&tree, &extra, 60, 2048);
    assert_eq!(code, 1, "the capped table's tunnel: {}", doc["summary"]);
    let limits = ["1,048,576 bytes", "--max-collection-size", "--max-eval-steps"];
    let json = doc.to_string();
    for limit in limits {
        assert!(json.contains(limit), "json: {limit}");
    }
    for f in formats {
        let text = fs::read_to_string(out.join(format!("report.{f}"))).unwrap_or_default();
        for limit in limits {
            assert!(text.contains(limit), "{f} names {limit}");
        }
    }
    let sarif: Value = serde_json::from_str(&fs::read_to_string(out.join("report.sarif")).expect("sarif")).expect("SARIF is JSON");
    assert!(sarif["runs"][0]["results"].as_array().is_some_and(|r| !r.is_empty()));
}
