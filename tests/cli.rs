//! The CLI around the check: explain, rules, custom policy packs.
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

use assert_cmd::Command;

fn kmsguard() -> Command {
    let mut c = Command::cargo_bin("kmsguard").expect("binary builds");
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn explain_accepts_codes_and_names() {
    let by_code = kmsguard().args(["explain", "kg201"]).output().expect("runs");
    let by_name = kmsguard().args(["explain", "nsg-denies-platform-lkm"]).output().expect("runs");
    assert!(by_code.status.success());
    assert_eq!(by_code.stdout, by_name.stdout);
    let text = String::from_utf8_lossy(&by_code.stdout);
    for section in ["What it checks", "Why it matters", "Example", "Fix", "References"] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
}

#[test]
fn explain_an_unknown_rule_fails_helpfully() {
    let out = kmsguard().args(["explain", "KG999"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kmsguard rules"));
}

/// A team adds its own endpoint (a licence server reached over the
/// internet) to a copy of the pack and gets the same route analysis for it.
#[test]
fn a_policy_pack_with_an_extra_endpoint() {
    let d = tempfile::tempdir().expect("tempdir");
    let pack = d.path().join("pack");
    fs::create_dir(&pack).expect("mkdir");
    for f in ["endpoints.hcl", "rules.hcl"] {
        fs::copy(format!("policies/{f}"), pack.join(f)).expect("copy pack");
    }
    fs::write(
        pack.join("licence.hcl"),
        r#"endpoint "licence-server" {
  title    = "licence server"
  protocol = "Tcp"
  port     = 27000
  cloud "*" {
    required = ["203.0.113.10"]
  }
}
"#,
    )
    .expect("write");
    let out = kmsguard()
        .args(["check", "examples/02-forced-tunnel-fixed", "--format", "compact", "--policy"])
        .arg(&pack)
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("sends licence server traffic (203.0.113.10) to VirtualAppliance 10.0.1.4"),
        "{text}"
    );
    assert!(!text.contains("KMS traffic"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_broken_policy_pack_is_a_clear_error() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(d.path().join("bad.hcl"), "endpoint \"x\" {\n  title = \n}\n").expect("write");
    let out = kmsguard()
        .args(["check", "examples/01-forced-tunnel-broken", "--policy"])
        .arg(d.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.hcl"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn one_run_prints_human_output_and_writes_sarif_and_markdown() {
    let d = tempfile::tempdir().expect("tempdir");
    let sarif = d.path().join("out.sarif");
    let md = d.path().join("summary.md");
    let out = kmsguard()
        .args(["check", "examples/01-forced-tunnel-broken", "--color", "never", "--report"])
        .arg(format!("sarif={}", sarif.display()))
        .arg("--report")
        .arg(format!("markdown={}", md.display()))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("KG101 forced-tunnel-blocks-kms"));
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&sarif).expect("sarif written")).expect("sarif is JSON");
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["results"].as_array().map(Vec::len), Some(3));
    assert!(fs::read_to_string(&md).expect("markdown written").starts_with("## kmsguard"));
}

#[test]
fn output_writes_the_report_to_a_file_not_stdout() {
    let d = tempfile::tempdir().expect("tempdir");
    let file = d.path().join("report.json");
    let out = kmsguard()
        .args(["check", "examples/01-forced-tunnel-broken", "--format", "json", "--output"])
        .arg(&file)
        .output()
        .expect("runs");
    assert!(out.stdout.is_empty());
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&file).expect("written")).expect("JSON");
    assert_eq!(doc["summary"]["errors"], 3);
}

/// Fingerprints survive unrelated line moves: a baseline must not churn.
#[test]
fn sarif_fingerprints_do_not_depend_on_line_numbers() {
    let d = tempfile::tempdir().expect("tempdir");
    let text = fs::read_to_string("examples/01-forced-tunnel-broken/main.tf").expect("read");
    let fingerprint = |content: &str| {
        fs::write(d.path().join("main.tf"), content).expect("write");
        let out = kmsguard()
            .arg("check")
            .arg(d.path())
            .args(["--format", "sarif"])
            .output()
            .expect("runs");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
        (
            doc["runs"][0]["results"][0]["partialFingerprints"]["kmsguardFinding/v1"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64(),
        )
    };
    let (a, line_a) = fingerprint(&text);
    let (b, line_b) = fingerprint(&format!("# a comment\n\n# moves every line down\n{text}"));
    assert_eq!(a, b);
    assert_ne!(line_a, line_b);
    assert_eq!(a.len(), 16);
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = kmsguard().args(["completions", shell]).output().expect("runs");
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("kmsguard") && text.contains("fail-on"), "{shell}: {text}");
    }
}

/// A copy of the built-in pack in a temporary directory, with `edit`
/// applied to each file's text.
fn edited_pack(edit: impl Fn(&str, String) -> String) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for f in ["endpoints.hcl", "rules.hcl"] {
        let text = fs::read_to_string(format!("policies/{f}")).expect("read pack");
        fs::write(d.path().join(f), edit(f, text)).expect("write pack");
    }
    d
}

/// The pack's `platform_service` entries say which rule checks which tag:
/// give IMDS to KG202 and its deny is reported as KG202, not KG203.
#[test]
fn platform_tag_rules_follow_the_pack() {
    let pack = edited_pack(|name, text| match name {
        "endpoints.hcl" => text.replace("rule    = \"KG203\"", "rule    = \"KG202\""),
        _ => text,
    });
    let out = kmsguard()
        .args([
            "check",
            "examples/09-nsg-denies-platform-tags/main.tf",
            "--format",
            "compact",
            "--policy",
        ])
        .arg(pack.path())
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning[KG202] NSG nsg-workload blocks instance metadata (IMDS) traffic"),
        "{text}"
    );
    assert!(text.contains("warning[KG202] NSG nsg-workload blocks Azure DNS traffic"), "{text}");
    assert!(!text.contains("KG203"), "{text}");
}

/// A replacement pack may document a rule this version does not check;
/// `rules` and `explain` say so.
#[test]
fn a_documented_rule_this_version_does_not_check_is_marked() {
    let pack = edited_pack(|name, text| {
        match name {
        "rules.hcl" => format!(
            "{text}\nrule \"KG599\" {{\n  name = \"licence-server-unreachable\"\n  severity = \"warning\"\n  summary = \"s\"\n  what = \"w\"\n  why = \"y\"\n  example = \"e\"\n  fix = \"f\"\n}}\n"
        ),
        _ => text,
    }
    });
    let rules = kmsguard().arg("rules").arg("--policy").arg(pack.path()).output().expect("runs");
    let text = String::from_utf8_lossy(&rules.stdout);
    let line = text.lines().find(|l| l.starts_with("KG599")).unwrap_or_default();
    assert!(line.ends_with("s  (documented, not checked yet)"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("KG101") && l.contains("not checked")), "{text}");
    let explain = kmsguard()
        .args(["explain", "KG599", "--policy"])
        .arg(pack.path())
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&explain.stdout).contains("Not checked yet by this version of kmsguard."));
}

/// Every rule this version checks needs its block: a pack without one is
/// refused, naming the rule.
#[test]
fn a_pack_missing_a_checked_rules_block_is_refused() {
    for code in ["KG002", "KG104", "KG901"] {
        let pack = edited_pack(|name, text| match name {
            "rules.hcl" => text.replace(&format!("rule \"{code}\""), "rule \"KG598\""),
            _ => text,
        });
        let out = kmsguard().arg("rules").arg("--policy").arg(pack.path()).output().expect("runs");
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("rule {code} has no documentation block")), "{err}");
    }
}
