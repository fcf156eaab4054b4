#![no_main]
//! Every output format from fuzzed names, messages, paths, fixes and source
//! text (issue 11 §4). Asserts what a CI log or a Markdown viewer would act
//! on: no line that GitHub reads as a workflow command unless it is one of
//! kmsguard's own annotations, no Azure Pipelines `##vso[` (in any case) but
//! at the start of kmsguard's own logging commands, no legacy `##[`, no
//! terminal escape in plain output; the JUnit report parses as XML and the
//! JSON and SARIF reports as JSON. A panic anywhere is a finding too.
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use kmsguard::ingest::FileError;
use kmsguard::policy::{Policy, Severity};
use kmsguard::report::{self, Report, Summary};
use kmsguard::rules::{Finding, Fix, Label, Suppression};
use kmsguard::source::{Origin, SourceMap};
use libfuzzer_sys::fuzz_target;

/// The input's fields, split at 0xFF (a byte UTF-8 never uses), each
/// decoded lossily; missing ones are empty.
fn fields(data: &[u8]) -> Vec<String> {
    let mut f: Vec<String> = data.split(|&b| b == 0xff).map(|b| String::from_utf8_lossy(b).into_owned()).collect();
    f.resize(12, String::new());
    f
}

/// A span inside `text` chosen by `seed`, not necessarily on a character boundary.
fn span(text: &str, seed: usize) -> std::ops::Range<usize> {
    let start = seed % (text.len() + 1);
    start..(start + seed / 7 % 40).min(text.len() + 3)
}

fn looks_like_command(line: &str) -> bool {
    line.trim_start().starts_with("::")
}

/// `::{error|warning|notice} key=value,…::data` with kmsguard's keys only
/// and no raw `:` in a value: one of its own annotations, whatever the data.
fn own_annotation(line: &str) -> bool {
    let Some(body) = line.strip_prefix("::") else { return false };
    let Some((command, rest)) = body.split_once(' ') else { return false };
    let Some((properties, _)) = rest.split_once("::") else { return false };
    ["error", "warning", "notice"].contains(&command)
        && properties.split(',').all(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                ["file", "line", "col", "endLine", "endColumn", "title"].contains(&k) && !v.contains(':')
            })
        })
}

fn assert_no_commands(what: &str, out: &str) {
    for line in out.lines() {
        let lower = line.to_ascii_lowercase();
        let rest = if what == "azure-pipelines" {
            lower.strip_prefix("##vso[task.logissue ").unwrap_or(&lower)
        } else {
            &lower
        };
        assert!(!rest.contains("##vso["), "{what}: {line:?}");
        assert!(!line.contains("##["), "{what}: {line:?}");
    }
}

fn assert_plain(what: &str, out: &str) {
    for c in out.chars() {
        let bad = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(!bad, "{what} holds {c:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    static POLICY: OnceLock<Option<Policy>> = OnceLock::new();
    let Some(policy) = POLICY.get_or_init(|| Policy::embedded().ok()).as_ref() else {
        return;
    };
    let f = fields(data);
    let seed = data.iter().fold(0usize, |h, &b| h.wrapping_mul(31).wrapping_add(b as usize));
    let mut sources = SourceMap::default();
    let a = sources.add(PathBuf::from(&f[1]), Arc::from(f[0].as_str()));
    let b = sources.add(PathBuf::from(&f[11]), Arc::from(f[10].as_str()));
    let at = |file, text: &str, s: usize| Origin::new(file, span(text, s));
    let finding = |code: &'static str, severity, related_file, suppressed: Option<&'static str>| Finding {
        code,
        severity,
        message: f[3].clone(),
        primary: Label {
            origin: at(a, &f[0], seed),
            message: f[4].clone(),
        },
        related: vec![
            Label {
                origin: at(a, &f[0], seed / 3),
                message: f[5].clone(),
            },
            Label {
                origin: at(related_file, if related_file == a { &f[0] } else { &f[10] }, seed / 5),
                message: f[5].clone(),
            },
        ],
        resource: f[2].clone(),
        fix: Some(Fix {
            description: f[6].clone(),
            snippet: Some(f[7].clone()),
            insert_at: Some(at(a, &f[0], seed / 11)),
        }),
        suppressed: suppressed.map(|kind| Suppression {
            kind,
            justification: f[8].clone(),
        }),
        unit: None,
    };
    let findings = vec![
        finding("KG101", Severity::Error, b, None),
        finding("KG202", Severity::Warning, a, None),
        finding("KG901", Severity::Note, b, None),
        finding("KG101", Severity::Error, a, Some("inSource")),
    ];
    let errors = vec![
        FileError::at(at(b, &f[10], seed / 13), f[8].clone()),
        FileError::path(&PathBuf::from(&f[11]), f[8].clone()),
    ];
    let mut summary = Summary {
        files: 2,
        config: (seed % 2 == 0).then(|| f[9].clone()),
        ..Summary::default()
    };
    report::count(&findings, &mut summary);
    let r = Report {
        sources: &sources,
        policy,
        findings: &findings,
        errors: &errors,
        skipped: &[],
        summary,
        verbose: seed % 3 == 0,
    };

    for (what, out) in [
        ("compact", report::compact::render(&r)),
        ("human", report::human::render(&r, false)),
        ("markdown", report::annotations::markdown(&r)),
        ("azure-pipelines", report::annotations::azure_pipelines(&r)),
    ] {
        for line in out.lines() {
            assert!(!looks_like_command(line), "{what}: {line:?}");
        }
        assert_no_commands(what, &out);
        assert_plain(what, &out);
    }
    assert_no_commands("human coloured", &report::human::render(&r, true));

    let github = report::annotations::github(&r);
    let mut annotations = 0;
    for line in github.lines() {
        if looks_like_command(line) {
            assert!(own_annotation(line), "github: {line:?}");
            annotations += 1;
        } else {
            assert!(line.starts_with("checked "), "github: {line:?}");
        }
    }
    assert_eq!(annotations, 3 + errors.len());
    assert_no_commands("github", &github);
    assert_plain("github", &github);

    let junit = report::annotations::junit(&r);
    if let Err(e) = roxmltree::Document::parse(&junit) {
        panic!("JUnit is not well-formed: {e}\n{junit}");
    }
    for (what, out) in [("json", report::json::render(&r)), ("sarif", report::sarif::render(&r))] {
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{what}: {out}");
        assert_no_commands(what, &out);
        assert_plain(what, &out);
    }
});
