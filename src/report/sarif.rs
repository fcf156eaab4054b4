//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

use serde::Serialize;
use serde_json::{json, Value};

use super::{error_location, fingerprint, Report};
use crate::policy::Severity;
use crate::rules::Finding;

const INFORMATION_URI: &str = "https://github.com/kmsguard/kmsguard";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::to_uri;

    #[test]
    fn paths_become_valid_uris() {
        assert_eq!(to_uri("examples/a b/main.tf"), "examples/a%20b/main.tf");
        assert_eq!(to_uri("/tmp/x/main.tf"), "file:///tmp/x/main.tf");
        assert_eq!(to_uri("C:/work/main.tf"), "file:///C:/work/main.tf");
    }
}

#[derive(Serialize)]
struct Sarif {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Value>,
}

/// A path as a SARIF URI: relative paths stay relative references; absolute
/// ones become `file://` URIs (SARIF forbids relative references starting
/// with `/`). Characters outside RFC 3986's unreserved set are percent-encoded.
fn to_uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => out.push(b as char),
            b':' if out.len() == 1 => out.push(':'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    let windows_drive = path.as_bytes().get(1) == Some(&b':');
    if path.starts_with('/') {
        format!("file://{out}")
    } else if windows_drive {
        format!("file:///{out}")
    } else {
        out
    }
}

/// Capitalises a rule's kebab-case name for SARIF's `name`
/// (`forced-tunnel-blocks-kms` → `ForcedTunnelBlocksKms`).
fn pascal(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn text_block(s: &str) -> String {
    s.trim().lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

/// Sentences end with a period, as SARIF's style rules ask.
fn sentence(s: &str) -> String {
    let s = s.trim();
    if s.ends_with('.') {
        s.to_string()
    } else {
        format!("{s}.")
    }
}

// `value["key"] = …` on the JSON objects built here inserts the key; it
// panics only on a value that is not an object, which none of these is.
#[allow(clippy::indexing_slicing)]
pub fn render(r: &Report) -> String {
    let rules = rule_descriptors(r);
    let results: Vec<Value> = r.findings.iter().map(|f| result(r, f)).collect();
    let notifications = notifications(r);
    let mut run = json!({
        "tool": { "driver": {
            "name": "kmsguard",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }},
        "invocations": [{ "executionSuccessful": r.errors.is_empty(), "toolExecutionNotifications": notifications }],
        "columnKind": "unicodeCodePoints",
        "results": results,
    });
    if let Some(config) = &r.summary.config {
        run["properties"] = json!({ "config": config });
    }
    let doc = Sarif {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: vec![run],
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    // Printed to a CI log, a raw `##vso[` inside a string would still run.
    super::escape::json_output(out)
}

/// `tool.driver.rules`: every rule of the pack, with its documentation.
fn rule_descriptors(r: &Report) -> Vec<Value> {
    r.policy
        .rules
        .iter()
        .map(|d| {
            json!({
                "id": d.code,
                "name": pascal(&d.name),
                "shortDescription": { "text": sentence(&d.summary) },
                "fullDescription": { "text": sentence(&text_block(&d.what)) },
                "help": {
                    "text": sentence(&format!("{} Fix: {}", text_block(&d.why), text_block(&d.fix))),
                    "markdown": format!(
                        "**{} {}**\n\n{}\n\n**Why it matters.** {}\n\n**Example**\n\n```\n{}\n```\n\n**Fix**\n\n```\n{}\n```\n",
                        d.code, d.name, d.what.trim(), text_block(&d.why), d.example.trim_end(), d.fix.trim_end()
                    ),
                },
                "helpUri": format!("{INFORMATION_URI}#rules"),
                "defaultConfiguration": { "level": level(d.severity) },
                "properties": { "tags": ["azure", "networking"] },
            })
        })
        .collect()
}

fn region(r: &Report, o: &crate::source::Origin) -> Value {
    let s = r.sources.line_col(o);
    let e = r.sources.end_line_col(o);
    json!({ "startLine": s.line, "startColumn": s.column, "endLine": e.line, "endColumn": e.column.max(if e.line == s.line { s.column } else { 1 }) })
}

fn uri(r: &Report, o: &crate::source::Origin) -> String {
    to_uri(&r.sources.display(o.file))
}

/// One finding as a SARIF result: its locations, suppression and fix.
// See `render` on indexing.
#[allow(clippy::indexing_slicing)]
fn result(r: &Report, f: &Finding) -> Value {
    let related: Vec<Value> = f
        .related
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "id": i + 1,
                "physicalLocation": { "artifactLocation": { "uri": uri(r, &l.origin) }, "region": region(r, &l.origin) },
                "message": { "text": sentence(&l.message) },
            })
        })
        .collect();
    let rule_index = r.policy.rules.iter().position(|d| d.code == f.code).unwrap_or(0);
    let mut result = json!({
        "ruleId": f.code,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": sentence(&f.message) },
        "locations": [{
            "physicalLocation": { "artifactLocation": { "uri": uri(r, &f.primary.origin) }, "region": region(r, &f.primary.origin) },
            "logicalLocations": [{ "fullyQualifiedName": f.resource, "kind": "resource" }],
        }],
        "partialFingerprints": { "kmsguardFinding/v1": fingerprint::of(r.sources, f) },
    });
    if !related.is_empty() {
        result["relatedLocations"] = Value::Array(related);
    }
    if let Some(s) = &f.suppressed {
        let mut sup = json!({ "kind": s.kind, "status": "accepted" });
        if !s.justification.is_empty() {
            sup["justification"] = json!(s.justification);
        }
        result["suppressions"] = json!([sup]);
    }
    if let Some(fix) = &f.fix {
        if let (Some(snippet), Some(at)) = (&fix.snippet, &fix.insert_at) {
            let lc = r.sources.line_col(at);
            result["fixes"] = json!([{
                "description": { "text": sentence(&fix.description) },
                "artifactChanges": [{
                    "artifactLocation": { "uri": uri(r, at) },
                    "replacements": [{
                        "deletedRegion": { "startLine": lc.line, "startColumn": lc.column, "endLine": lc.line, "endColumn": lc.column },
                        "insertedContent": { "text": snippet },
                    }],
                }],
            }]);
        }
    }
    result
}

/// The inputs that could not be checked, as tool execution notifications.
// See `render` on indexing.
#[allow(clippy::indexing_slicing)]
fn notifications(r: &Report) -> Vec<Value> {
    r.errors
        .iter()
        .map(|e| {
            let (file, lc) = error_location(r.sources, e);
            let mut location = json!({ "physicalLocation": { "artifactLocation": { "uri": to_uri(&file) } } });
            if let Some(lc) = lc {
                location["physicalLocation"]["region"] = json!({ "startLine": lc.line, "startColumn": lc.column });
            }
            json!({ "level": "error", "message": { "text": sentence(e.message()) }, "locations": [location] })
        })
        .collect()
}
