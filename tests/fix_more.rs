//! `kmsguard fix` where the routes are not written in the table itself: a
//! `dynamic "route"` block's collection (a literal, a local, a variable's
//! default, the var file that sets it, a module call's input) and the
//! literal operand of `concat`; and the order of --var-file and --var that
//! fix, trace and graph share with check.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn kmsguard() -> Command {
    let mut c = Command::cargo_bin("kmsguard").expect("binary builds");
    c.env("NO_COLOR", "1");
    c
}

fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = root.join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// (rule, file) of the KG101–KG103 findings of a check of `dir`.
fn route_findings(dir: &Path, extra: &[&str]) -> BTreeSet<(String, String)> {
    let out = kmsguard()
        .current_dir(dir)
        .args(["check", ".", "--format", "json", "--no-config"])
        .args(extra)
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0), "every file parses: {doc:#}");
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| ["KG101", "KG102", "KG103"].contains(&f["rule"].as_str().unwrap_or_default()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["file"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn fix(dir: &Path, diff: bool, extra: &[&str]) -> (String, i32) {
    let mut c = kmsguard();
    c.current_dir(dir).args(["fix", ".", "--no-config"]).args(extra);
    if diff {
        c.arg("--diff");
    }
    let out = c.output().expect("runs");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).to_string(), out.status.code().unwrap_or(-1))
}

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
