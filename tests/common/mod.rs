//! Helpers the integration tests share: running kmsguard, copying trees, the
//! KG101–KG103 findings of a check, applying a printed diff in memory, and
//! reading a JSON report (the AVM tests).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn kmsguard() -> Command {
    let mut c = Command::cargo_bin("kmsguard").expect("binary builds");
    c.env("NO_COLOR", "1");
    c
}

pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = root.join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let p = entry.path();
        let target = to.join(entry.file_name());
        if p.is_dir() {
            copy_dir(&p, &target);
        } else {
            std::fs::copy(&p, &target).expect("copy");
        }
    }
}

pub fn all_files(dir: &Path) -> Vec<PathBuf> {
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
pub fn route_findings(dir: &Path, extra: &[&str]) -> BTreeSet<(String, String)> {
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

pub fn fix(dir: &Path, diff: bool, extra: &[&str]) -> (String, i32) {
    let mut c = kmsguard();
    c.current_dir(dir).args(["fix", ".", "--no-config"]).args(extra);
    if diff {
        c.arg("--diff");
    }
    let out = c.output().expect("runs");
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).to_string(), out.status.code().unwrap_or(-1))
}

/// Applies a unified diff to the files under `dir` in memory, checking every
/// context and removed line against the old text: what `fix` writes must be
/// exactly this, so nothing outside the hunks changes.
pub fn patched(dir: &Path, diff: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut lines = diff.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        let Some(path) = line.strip_prefix("--- a/") else { continue };
        let path = path.trim_end();
        lines.next();
        let file = dir.join(path);
        let old = std::fs::read_to_string(&file).expect("old text");
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut new = String::new();
        let mut at = 0usize;
        while let Some(h) = lines.peek().copied() {
            let Some(rest) = h.strip_prefix("@@ -") else { break };
            lines.next();
            let start: usize = rest.split([',', ' ']).next().and_then(|s| s.parse().ok()).expect("hunk start");
            let start = start.saturating_sub(1);
            for l in &old_lines[at..start.max(at)] {
                new.push_str(l);
            }
            at = start.max(at);
            while let Some(l) = lines.peek().copied() {
                if l.starts_with("--- a/") || l.starts_with("@@ ") || !l.starts_with([' ', '-', '+', '\\']) {
                    break;
                }
                lines.next();
                if l.starts_with('\\') {
                    if new.ends_with('\n') {
                        new.pop();
                    }
                    continue;
                }
                let (mark, body) = l.split_at(1);
                if mark == "+" {
                    new.push_str(body);
                    continue;
                }
                assert_eq!(old_lines[at], body, "{path}: the diff matches the old text");
                if mark == " " {
                    new.push_str(old_lines[at]);
                }
                at += 1;
            }
        }
        for l in &old_lines[at..] {
            new.push_str(l);
        }
        out.push((file, new));
    }
    out
}

pub fn fixture(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fix").join(name),
        tmp.path(),
    );
    tmp
}

/// The whole round: `--diff` shows the change, exits 1 and writes nothing;
/// `fix` writes exactly the diff, into `into` only, and says so; `check`
/// then reports no KG101–KG103 and every file parses; a second run is a
/// no-op. Returns the summary and the fixed text of `into`.
pub fn round_trip(name: &str, into: &str, extra: &[&str]) -> (String, String) {
    let tmp = fixture(name);
    let dir = tmp.path();
    let before = route_findings(dir, extra);
    assert!(!before.is_empty(), "{name}: {before:?}");
    let old: Vec<(PathBuf, Vec<u8>)> = all_files(dir)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
        .collect();

    let (diff, code) = fix(dir, true, extra);
    assert_eq!(code, 1, "{name}: --diff exits 1 when there is something to fix\n{diff}");
    for (p, bytes) in &old {
        assert_eq!(&std::fs::read(p).expect("read"), bytes, "{name}: --diff writes nothing");
    }
    let expected = patched(dir, &diff);
    assert_eq!(
        expected.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        vec![dir.join(into)],
        "{name}: the diff is of {into} alone\n{diff}"
    );

    let (summary, code) = fix(dir, false, extra);
    assert_eq!(code, 0, "{name}: {summary}");
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with(&format!("fixed {into}:")) && l.contains(" KG10")),
        "{name}: the summary names {into}\n{summary}"
    );
    assert!(!summary.contains("not fixed"), "{name}: {summary}");
    for (p, bytes) in &old {
        match expected.iter().find(|(e, _)| e == p) {
            Some((_, text)) => assert_eq!(
                &std::fs::read_to_string(p).expect("read"),
                text,
                "{name}: {into} is the diff applied"
            ),
            None => assert_eq!(&std::fs::read(p).expect("read"), bytes, "{name}: {} untouched", p.display()),
        }
    }
    let after = route_findings(dir, extra);
    assert_eq!(
        after,
        BTreeSet::new(),
        "{name}: fixed\n{}",
        std::fs::read_to_string(dir.join(into)).unwrap_or_default()
    );

    let (again, code) = fix(dir, true, extra);
    assert_eq!(
        (again.as_str(), code),
        ("nothing to fix\n", 0),
        "{name}: a second run changes nothing"
    );
    (summary, std::fs::read_to_string(dir.join(into)).expect("read"))
}

/// A fix kmsguard must not make: printed with its reason, nothing written.
pub fn refused(name: &str, extra: &[&str], why: &str) {
    let tmp = fixture(name);
    let dir = tmp.path();
    assert!(!route_findings(dir, extra).is_empty(), "{name}");
    let old: Vec<(PathBuf, Vec<u8>)> = all_files(dir)
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).expect("read")))
        .collect();
    let (summary, code) = fix(dir, false, extra);
    assert_eq!(code, 0, "{name}: {summary}");
    assert!(
        summary
            .lines()
            .any(|l| l.starts_with("not fixed") && l.contains(" KG10") && l.contains(why)),
        "{name}: says why ({why})\n{summary}"
    );
    for (p, bytes) in &old {
        assert_eq!(&std::fs::read(p).expect("read"), bytes, "{name}: nothing written");
    }
}

/// `kmsguard check PATH --format json ARGS` run from the crate's root: the
/// report and the exit code.
pub fn check_report(path: &Path, args: &[&str]) -> (Value, i32) {
    let out = kmsguard()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("check")
        .arg(path)
        .args(["--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
    (doc, out.status.code().unwrap_or(-1))
}

/// (rule, file name, line) of every finding.
pub fn found(doc: &Value) -> Vec<(String, String, u64)> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            let name = Path::new(file).file_name().and_then(|n| n.to_str()).unwrap_or_default();
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                name.to_string(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

/// The messages of the findings of `rule`.
pub fn messages(doc: &Value, rule: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect()
}
