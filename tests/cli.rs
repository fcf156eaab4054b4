//! The CLI around the check: explain, rules, custom policy packs.

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
