//! Hostile inputs end in bounded time and memory with a located error or a
//! KG901 note — never a panic or a hang.

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
    assert!(
        doc["errors"][0]["message"].as_str().unwrap_or_default().contains("--max-file-size"),
        "{doc:#}"
    );
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
    let started = std::time::Instant::now();
    let (doc, code) = check(d.path(), &[]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 2, "{doc:#}");
    let error = &doc["errors"][0];
    assert!(error["message"].as_str().unwrap_or_default().contains("never closed"), "{doc:#}");
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
    assert!(error["message"].as_str().unwrap_or_default().contains("--parse-timeout"), "{doc:#}");
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
