//! One pull request that tries every attack of the hardening issue at once,
//! checked with the GitHub Action's exact flags plus the two an owner pins
//! on pull requests (`no-config`, `inline-suppressions: false`): the run
//! ends in bounded time and memory, every report is well formed, nothing is
//! injected or leaked, and the real forced tunnel is still found.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]
#![cfg(unix)]

use std::fs;
use std::path::Path;

use serde_json::Value;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}

const SECRET: &str = "TOPSECRET-d41d8cd98f00b204";

const TUNNEL: &str = r#"resource "azurerm_route_table" "rt" {
  name                = "rt-prod"
  location            = "westeurope"
  resource_group_name = "rg-net"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.0.4"
  }
}

locals {
  doc = <<EOT
# kmsguard:ignore-file KG101 -- in a heredoc, not a comment
EOT
}
"#;

fn hostile_tree(root: &Path, outside: &Path) {
    fs::create_dir(root.join(".git")).expect("mkdir");
    // §1: the directory calls itself, and a decoy calls it with count = 0.
    write(root, "prod/main.tf", TUNNEL);
    write(root, "prod/noop.tf", "module \"noop\" {\n  source = \"./\"\n  count  = 0\n}\n");
    write(root, "decoy/main.tf", "module \"x\" {\n  source = \"../prod\"\n  count  = 0\n}\n");
    // §2: the pull request's config turns the rule off and hangs the parser.
    write(
        root,
        ".kmsguard.hcl",
        &format!(
            "rule \"KG101\" {{\n  enabled = false\n}}\nexclude = [\"**\"]\nx = {}\n",
            "x-%k%{".repeat(50)
        ),
    );
    // §3: a real comment, refused by the pinned flag.
    write(
        root,
        "lab/main.tf",
        &format!(
            "# kmsguard:ignore-file KG101 -- accepted by the author\n{}",
            TUNNEL.replace("rt-prod", "rt-lab")
        ),
    );
    // §4: names that forge annotations, logging commands and markdown.
    write(
        root,
        "names/main.bicep",
        "resource rt 'Microsoft.Network/routeTables@2023-04-01' = {\n  name: 'rt\\n::warning file=x.tf,line=1::forged\\n##vso[task.setvariable variable=x]1\\n\\n## ✅ no KMS problems found\\n<!--\\u{1b}]8;;x\\u{7}'\n  properties: {\n    routes: [\n      { name: 'd', properties: { addressPrefix: '0.0.0.0/0', nextHopType: 'None' } }\n    ]\n  }\n}\n",
    );
    // §5: links out of the repository, to the file system's root, a FIFO.
    let secret = outside.join("netrc");
    fs::write(&secret, format!("machine example.com password {SECRET}\n")).expect("write");
    std::os::unix::fs::symlink(&secret, root.join("netrc.tf")).expect("symlink");
    std::os::unix::fs::symlink("/", root.join("everything")).expect("symlink");
    std::os::unix::fs::symlink("/proc/self/pagemap", root.join("pagemap.tf")).expect("symlink");
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.tf"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    // §6: a label past column 65,535, many instances, a string that would blow up.
    write(
        root,
        "wide/main.tf",
        &TUNNEL.replace("rt-prod", "rt-wide").replace(
            "address_prefix         = \"0.0.0.0/0\"",
            &format!("address_prefix = {}\"0.0.0.0/0\"", " ".repeat(70_000)),
        ),
    );
    let mut many = String::from("variable \"hop\" {}\n");
    for i in 0..4 {
        many.push_str(&format!(
            "resource \"azurerm_route_table\" \"t{i}\" {{\n  count = 99999\n  name  = \"rt-${{count.index}}\"\n  route {{\n    name           = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type  = var.hop\n  }}\n}}\n"
        ));
    }
    write(root, "many/main.tf", &many);
    write(
        root,
        "blowup/main.tf",
        &format!(
            "locals {{\n  a = \"{}\"\n  b = replace(local.a, \"x\", local.a)\n  c = join(local.a, [local.a, local.a])\n}}\n",
            "x".repeat(512 * 1024)
        ),
    );
}

#[test]
fn a_pull_request_with_every_attack_is_still_judged() {
    let root = tempfile::tempdir().expect("tempdir");
    let outside = tempfile::tempdir().expect("tempdir");
    let reports = tempfile::tempdir().expect("tempdir");
    hostile_tree(root.path(), outside.path());
    let report = |name: &str| reports.path().join(name);
    let started = std::time::Instant::now();
    let out = std::process::Command::new("sh")
        .arg("-c")
        // 1 GB of address space, as the issue asks.
        .arg("ulimit -v 1048576; exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("kmsguard"))
        .current_dir(root.path())
        .args(["check", ".", "--fail-on", "error", "--format", "github"])
        .arg("--report")
        .arg(format!("sarif={}", report("k.sarif").display()))
        .arg("--report")
        .arg(format!("markdown={}", report("k.md").display()))
        .arg("--report")
        .arg(format!("json={}", report("k.json").display()))
        .args(["--no-config", "--no-inline-suppressions"])
        .env("RAYON_NUM_THREADS", "2")
        .env("MALLOC_ARENA_MAX", "2")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(30), "took {took:?}");
    let code = out.status.code().unwrap_or(-1);
    assert!((0..=2).contains(&code), "exit {code}: {}", String::from_utf8_lossy(&out.stderr));

    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let read = |name: &str| fs::read_to_string(report(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (sarif, markdown, json) = (read("k.sarif"), read("k.md"), read("k.json"));
    for (what, text) in [
        ("github", &stdout),
        ("stderr", &stderr),
        ("sarif", &sarif),
        ("markdown", &markdown),
        ("json", &json),
    ] {
        assert!(!text.contains(SECRET), "{what} leaks the secret");
        assert!(!text.to_ascii_lowercase().contains("##vso["), "{what} carries a logging command");
        assert!(!text.contains('\u{1b}'), "{what} carries an escape sequence");
    }
    // Every `::` line on stdout is one of kmsguard's own annotations.
    for line in stdout.lines().filter(|l| l.trim_start().starts_with("::")) {
        let ok = ["::error file=", "::warning file=", "::notice file="]
            .iter()
            .any(|p| line.starts_with(p));
        // The command and its properties end at the second `::`; what follows
        // is the message, where escaped text is harmless.
        let properties = line.get(2..).and_then(|l| l.split_once("::")).map(|(p, _)| p).unwrap_or(line);
        assert!(ok && !properties.contains("x.tf"), "forged: {line}");
    }
    assert!(!markdown.lines().any(|l| l.starts_with("## ✅")), "{markdown}");
    assert!(markdown.len() < 1024 * 1024);
    let sarif: Value = serde_json::from_str(&sarif).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let doc: Value = serde_json::from_str(&json).expect("the JSON report parses");

    let kg101: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG101" && f["suppressed"].is_null())
        .filter_map(|f| f["file"].as_str())
        .collect();
    for file in ["prod/main.tf", "lab/main.tf", "wide/main.tf"] {
        assert!(kg101.contains(&file), "{file}: {kg101:?}");
    }
    assert_eq!(code, 1, "the forced tunnels fail the check");
    let skipped: Vec<&str> = doc["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter_map(|s| s["file"].as_str())
        .collect();
    for link in ["netrc.tf", "everything", "pipe.tf"] {
        assert!(skipped.iter().any(|s| s.ends_with(link)), "{link}: {skipped:?}");
    }
}
