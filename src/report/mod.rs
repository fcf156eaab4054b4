//! Renderers. All of them read the same sorted findings; none knows which
//! format a finding came from.

pub mod annotations;
pub mod compact;
pub mod escape;
pub use kmsguard_core::diagnostic::fingerprint;
pub mod human;
pub mod json;
pub mod sarif;

use crate::ingest::FileError;
use crate::policy::{Policy, Severity};
use crate::rules::Finding;
use crate::source::{display_path, LineCol, SourceMap};

/// Counts for the summary line and the JSON report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    /// Files named on the command line, when the run named files (as
    /// pre-commit does) and read more around them for context (their
    /// module's other files, the roots that call it); `None` otherwise.
    pub named: Option<usize>,
    pub route_tables: usize,
    pub nsgs: usize,
    pub subnets: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    /// Findings accepted by a suppression comment or the baseline.
    pub suppressed: usize,
    /// Links and special files not followed or read (see [`Report::skipped`]).
    pub skipped: usize,
    /// What the summaries print after "config: ": the configuration file the
    /// run used, as a display path, or "none" when it used none. `None` when
    /// the caller does not say; then no summary mentions a config.
    /// Every format names it so that a pull request that adds or swaps the
    /// file is visible in the report.
    pub config: Option<String>,
}

/// Everything a renderer needs.
pub struct Report<'a> {
    pub sources: &'a SourceMap,
    pub policy: &'a Policy,
    pub findings: &'a [Finding],
    pub errors: &'a [FileError],
    /// Links and special files discovery did not follow or read, with the reason.
    pub skipped: &'a [crate::discover::Skipped],
    pub summary: Summary,
    /// Whether the human and compact formats list every KG901 note rather
    /// than fold those with the same reason (see [`fold_notes`]).
    pub verbose: bool,
}

/// Where an error points, as path and position.
pub fn error_location(sources: &SourceMap, e: &FileError) -> (String, Option<LineCol>) {
    match e {
        FileError::At { origin, .. } => (sources.display(origin.file), Some(sources.line_col(origin))),
        FileError::Path { path, .. } => (display_path(path), None),
    }
}

/// Sorts findings by file, line, column, rule and message, so output is the same on every run.
pub fn sort(sources: &SourceMap, findings: &mut [Finding]) {
    findings.sort_by_cached_key(|f| {
        let lc = sources.line_col(&f.primary.origin);
        (
            sources.display(f.primary.origin.file),
            lc.line,
            lc.column,
            f.code,
            f.message.clone(),
            f.resource.clone(),
        )
    });
}

pub fn sort_errors(sources: &SourceMap, errors: &mut [FileError]) {
    errors.sort_by_cached_key(|e| {
        let (p, lc) = error_location(sources, e);
        (p, lc.map(|l| (l.line, l.column)), e.message().to_string())
    });
}

pub fn count(findings: &[Finding], summary: &mut Summary) {
    let active = || findings.iter().filter(|f| f.suppressed.is_none());
    summary.errors = active().filter(|f| f.severity == Severity::Error).count();
    summary.warnings = active().filter(|f| f.severity == Severity::Warning).count();
    summary.notes = active().filter(|f| f.severity == Severity::Note).count();
    summary.suppressed = findings.len() - active().count();
}

/// The findings that count: not suppressed.
pub fn active<'a>(r: &'a Report) -> impl Iterator<Item = &'a Finding> + 'a {
    r.findings.iter().filter(|f| f.suppressed.is_none())
}

/// The active findings the human and compact formats print one by one, and
/// the KG901 "is not checked" notes they fold: notes with the same reason
/// (a registry module that is not read, a linked template) are one line with
/// a count unless `--verbose` asks for each. A reason that only one note
/// gives is printed as before.
pub fn fold_notes<'a>(r: &'a Report) -> (Vec<&'a Finding>, Vec<(String, Vec<&'a Finding>)>) {
    let reason = |f: &Finding| -> Option<String> {
        (f.code == "KG901")
            .then(|| f.message.split_once(" is not checked: ").map(|(_, why)| why.to_string()))
            .flatten()
    };
    let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
    if !r.verbose {
        for f in active(r) {
            if let Some(why) = reason(f) {
                match groups.iter_mut().find(|(w, _)| *w == why) {
                    Some((_, list)) => list.push(f),
                    None => groups.push((why, vec![f])),
                }
            }
        }
        groups.retain(|(_, list)| list.len() > 1);
    }
    let folded = |f: &Finding| reason(f).is_some_and(|why| groups.iter().any(|(w, _)| *w == why));
    let shown = active(r).filter(|f| !folded(f)).collect();
    (shown, groups)
}

/// One folded line: how many, why, where the first one is, and what they are.
pub fn folded_line(why: &str, list: &[&Finding]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for f in list {
        if !names.contains(&f.resource.as_str()) {
            names.push(&f.resource);
        }
    }
    let more = if names.len() > 3 { ", …" } else { "" };
    names.truncate(3);
    format!(
        "{} are not checked ({}{more}): {why}; --verbose lists each",
        list.len(),
        names.join(", ")
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How many active findings a suppression accepted, by SARIF kind: in the
/// source (a comment or ARM metadata) and outside it (the baseline).
pub fn suppressed_by_kind(findings: &[Finding]) -> (usize, usize) {
    let kind = |k: &str| {
        findings
            .iter()
            .filter(|f| f.suppressed.as_ref().is_some_and(|s| s.kind == k))
            .count()
    };
    (kind("inSource"), kind("external"))
}

/// "; 2 suppressed (1 in source, 1 by baseline)", or nothing when no finding
/// was suppressed: a pull request that adds a suppression shows up in every
/// format's summary, and ordinary runs read as before.
pub fn suppressed_clause(s: &Summary, findings: &[Finding]) -> String {
    if s.suppressed == 0 {
        return String::new();
    }
    let (in_source, external) = suppressed_by_kind(findings);
    let mut kinds = Vec::new();
    if in_source > 0 {
        kinds.push(format!("{in_source} in source"));
    }
    if external > 0 {
        kinds.push(format!("{external} by baseline"));
    }
    let other = s.suppressed.saturating_sub(in_source + external);
    if other > 0 {
        kinds.push(format!("{other} otherwise"));
    }
    format!("; {} suppressed ({})", s.suppressed, kinds.join(", "))
}

/// "; config: .kmsguard.hcl" (or "; config: none") when the caller said
/// which file the run used, nothing when it did not. The path comes from the
/// checked tree, so it is neutralised like any name.
pub fn config_clause(s: &Summary) -> String {
    match &s.config {
        Some(path) => format!("; config: {}", escape::log_text(path)),
        None => String::new(),
    }
}

/// "checked 4 files (3 route tables, 2 NSGs): 2 errors, 1 warning, 0 notes; 1 file could not be checked"
///
/// A run on named files (pre-commit's) that read more files around them
/// says so: "checked 1 file named, 3 read for context (…)". The line starts
/// with "checked" either way, for the tools that look for it.
pub fn summary_line(r: &Report) -> String {
    let s = &r.summary;
    let files = match s.named {
        Some(named) if named < s.files => format!("checked {} named, {} read for context", plural(named, "file", "files"), s.files),
        _ => format!("checked {}", plural(s.files, "file", "files")),
    };
    let mut line = format!(
        "{files} ({}, {}): {}, {}, {}",
        plural(s.route_tables, "route table", "route tables"),
        plural(s.nsgs, "NSG", "NSGs"),
        plural(s.errors, "error", "errors"),
        plural(s.warnings, "warning", "warnings"),
        plural(s.notes, "note", "notes"),
    );
    line.push_str(&suppressed_clause(s, r.findings));
    let file_errors = r.errors.len();
    if file_errors > 0 {
        line.push_str(&format!(
            "; {} could not be checked",
            plural(file_errors, "problem with the input", "problems with the input")
        ));
    }
    if s.skipped > 0 {
        line.push_str(&format!(
            "; {} not followed (listed in the JSON report)",
            plural(s.skipped, "link or special file", "links or special files")
        ));
    }
    line.push_str(&config_clause(s));
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Label, Suppression};
    use crate::source::{FileId, Origin};

    fn finding(kind: Option<&'static str>) -> Finding {
        Finding {
            code: "KG101",
            severity: Severity::Error,
            message: String::new(),
            primary: Label {
                origin: Origin::new(FileId(0), 0..0),
                message: String::new(),
            },
            related: Vec::new(),
            resource: String::new(),
            fix: None,
            suppressed: kind.map(|kind| Suppression {
                kind,
                justification: String::new(),
            }),
            unit: None,
        }
    }

    #[test]
    fn the_summary_names_suppressions_by_kind_and_the_config() {
        let findings = [
            finding(None),
            finding(Some("inSource")),
            finding(Some("external")),
            finding(Some("external")),
        ];
        let mut summary = Summary {
            files: 1,
            route_tables: 1,
            config: Some(".kmsguard.hcl\n::error::x ##vso[task.complete]".into()),
            ..Summary::default()
        };
        count(&findings, &mut summary);
        let (sources, policy) = (SourceMap::default(), Policy::embedded().unwrap_or_else(|e| panic!("{e:?}")));
        let r = Report {
            sources: &sources,
            policy: &policy,
            findings: &findings,
            errors: &[],
            skipped: &[],
            summary,
            verbose: false,
        };
        assert_eq!(
            summary_line(&r),
            "checked 1 file (1 route table, 0 NSGs): 1 error, 0 warnings, 0 notes; \
             3 suppressed (1 in source, 2 by baseline); config: .kmsguard.hcl\\n::error::x #_vso[task.complete]"
        );
        let none = Summary {
            config: None,
            suppressed: 0,
            ..r.summary.clone()
        };
        assert_eq!(suppressed_clause(&none, &[]), "");
        assert_eq!(config_clause(&none), "");
    }
}
