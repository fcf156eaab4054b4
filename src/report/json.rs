//! The JSON report, version 1 (README, "Usage": the `json` format). Fields may be added; none is
//! renamed or removed without bumping `version`.

use serde::Serialize;

use super::{error_location, Report};
use crate::source::display_path;

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    tool: Tool,
    findings: Vec<JFinding<'a>>,
    errors: Vec<JError>,
    /// Links and special files not followed or read.
    skipped: Vec<JSkipped>,
    summary: JSummary<'a>,
}

#[derive(Serialize)]
struct JSkipped {
    file: String,
    reason: String,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JFinding<'a> {
    rule: &'a str,
    name: &'a str,
    severity: &'a str,
    message: &'a str,
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    resource: &'a str,
    related: Vec<JRelated<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JFix<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<JSuppressed<'a>>,
    /// Stable across unrelated edits (no line numbers in it).
    fingerprint: String,
}

#[derive(Serialize)]
struct JSuppressed<'a> {
    kind: &'a str,
    justification: &'a str,
}

#[derive(Serialize)]
struct JRelated<'a> {
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JFix<'a> {
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    snippet: Option<&'a str>,
}

#[derive(Serialize)]
struct JError {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
    message: String,
}

#[derive(Serialize)]
struct JSummary<'a> {
    files: usize,
    route_tables: usize,
    nsgs: usize,
    subnets: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
    suppressed: usize,
    skipped: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<&'a str>,
}

pub fn render(r: &Report) -> String {
    let s = r.sources;
    let findings = r
        .findings
        .iter()
        .map(|f| {
            let start = s.line_col(&f.primary.origin);
            let end = s.end_line_col(&f.primary.origin);
            JFinding {
                rule: f.code,
                name: r.policy.name(f.code),
                severity: f.severity.as_str(),
                message: &f.message,
                file: s.display(f.primary.origin.file),
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                resource: &f.resource,
                related: f
                    .related
                    .iter()
                    .map(|l| {
                        let lc = s.line_col(&l.origin);
                        JRelated {
                            file: s.display(l.origin.file),
                            line: lc.line,
                            column: lc.column,
                            message: &l.message,
                        }
                    })
                    .collect(),
                fix: f.fix.as_ref().map(|x| JFix {
                    description: &x.description,
                    snippet: x.snippet.as_deref(),
                }),
                suppressed: f.suppressed.as_ref().map(|s| JSuppressed {
                    kind: s.kind,
                    justification: &s.justification,
                }),
                fingerprint: super::fingerprint::of(s, f),
            }
        })
        .collect();
    let errors = r
        .errors
        .iter()
        .map(|e| {
            let (file, lc) = error_location(s, e);
            JError {
                file,
                line: lc.map(|l| l.line),
                column: lc.map(|l| l.column),
                message: e.message().to_string(),
            }
        })
        .collect();
    let doc = Doc {
        version: 1,
        tool: Tool {
            name: "kmsguard",
            version: env!("CARGO_PKG_VERSION"),
        },
        findings,
        errors,
        skipped: r
            .skipped
            .iter()
            .map(|s| JSkipped {
                file: display_path(&s.path),
                reason: s.reason.clone(),
            })
            .collect(),
        summary: JSummary {
            files: r.summary.files,
            route_tables: r.summary.route_tables,
            nsgs: r.summary.nsgs,
            subnets: r.summary.subnets,
            errors: r.summary.errors,
            warnings: r.summary.warnings,
            notes: r.summary.notes,
            suppressed: r.summary.suppressed,
            skipped: r.summary.skipped,
            config: r.summary.config.as_deref(),
        },
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"version\":1,\"internal_error\":\"{e}\"}}"));
    out.push('\n');
    // Printed to a CI log, a raw `##vso[` inside a string would still run.
    super::escape::json_output(out)
}
