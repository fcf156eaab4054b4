//! CI annotations: GitHub Actions workflow commands and Azure Pipelines
//! logging commands, one per finding, escaped as each service requires.

use super::{error_location, summary_line, Report};
use crate::policy::Severity;
use crate::source::display_path;

/// GitHub escapes `%`, CR and LF in a command's message.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// …and also `:` and `,` in property values.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`
pub fn github(r: &Report) -> String {
    let mut out = String::new();
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        let place = lc.map(|l| format!(",line={},col={}", l.line, l.column)).unwrap_or_default();
        out.push_str(&format!(
            "::error file={}{place},title=kmsguard::{}\n",
            gh_property(&file),
            gh_data(&e.message)
        ));
    }
    for f in super::active(r) {
        let s = r.sources.line_col(&f.primary.origin);
        let e = r.sources.end_line_col(&f.primary.origin);
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut message = f.message.clone();
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\nFix: {}", fix.description));
        }
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            gh_property(&display_path(r.sources.path(f.primary.origin.file))),
            s.line,
            s.column,
            e.line,
            e.column,
            gh_property(&format!("{} {}", f.code, r.policy.name(f.code))),
            gh_data(&message)
        ));
    }
    out
}

/// Azure Pipelines escapes `%`, CR, LF, `;` and `]` in logging commands.
fn vso(s: &str) -> String {
    s.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(';', "%3B")
        .replace(']', "%5D")
}

/// `##vso[task.logissue type=error;sourcepath=…;linenumber=…;columnnumber=…;code=KG101]message`
/// Notes have no issue type of their own; they are logged as warnings.
pub fn azure_pipelines(r: &Report) -> String {
    let mut out = String::new();
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        let place = lc
            .map(|l| format!(";linenumber={};columnnumber={}", l.line, l.column))
            .unwrap_or_default();
        out.push_str(&format!(
            "##vso[task.logissue type=error;sourcepath={}{place}]{}\n",
            vso(&file),
            vso(&e.message)
        ));
    }
    for f in super::active(r) {
        let lc = r.sources.line_col(&f.primary.origin);
        let kind = if f.severity == Severity::Error { "error" } else { "warning" };
        out.push_str(&format!(
            "##vso[task.logissue type={kind};sourcepath={};linenumber={};columnnumber={};code={}]{}\n",
            vso(&display_path(r.sources.path(f.primary.origin.file))),
            lc.line,
            lc.column,
            f.code,
            vso(&f.message)
        ));
    }
    out.push_str(&summary_line(&r.summary, r.errors.len()));
    out.push('\n');
    out
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML: a test suite per rule, a test case per rule and resource.
pub fn junit(r: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = super::active(r).count() + r.errors.len();
    out.push_str(&format!(
        "<testsuites name=\"kmsguard\" tests=\"{failures}\" failures=\"{failures}\">\n"
    ));
    for doc in &r.policy.rules {
        let cases: Vec<_> = super::active(r).filter(|f| f.code == doc.code).collect();
        if cases.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\">\n",
            doc.code,
            xml(&doc.name),
            cases.len(),
            cases.len()
        ));
        for f in cases {
            let lc = r.sources.line_col(&f.primary.origin);
            let file = display_path(r.sources.path(f.primary.origin.file));
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}:{}:{}: {}</failure>\n    </testcase>\n",
                f.code,
                xml(&f.resource),
                xml(&file),
                lc.line,
                f.severity.as_str(),
                xml(&f.message),
                xml(&file),
                lc.line,
                lc.column,
                xml(&f.fix.as_ref().map(|x| x.description.clone()).unwrap_or_default())
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    if !r.errors.is_empty() {
        out.push_str(&format!(
            "  <testsuite name=\"input\" tests=\"{0}\" failures=\"{0}\">\n",
            r.errors.len()
        ));
        for e in r.errors {
            let (file, lc) = error_location(r.sources, e);
            out.push_str(&format!(
                "    <testcase classname=\"input\" name=\"{}\">\n      <failure type=\"error\" message=\"{}\">{}{}</failure>\n    </testcase>\n",
                xml(&file),
                xml(&e.message),
                xml(&file),
                lc.map(|l| format!(":{}:{}", l.line, l.column)).unwrap_or_default()
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Markdown for `$GITHUB_STEP_SUMMARY` and pull-request comments.
pub fn markdown(r: &Report) -> String {
    let s = &r.summary;
    let mut out = String::from("## kmsguard\n\n");
    if super::active(r).next().is_none() && r.errors.is_empty() {
        out.push_str(&format!(
            "No findings in {} files ({} route tables, {} NSGs).\n",
            s.files, s.route_tables, s.nsgs
        ));
        return out;
    }
    out.push_str("| files | route tables | NSGs | errors | warnings | notes | unreadable inputs |\n|---|---|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} |\n\n",
        s.files,
        s.route_tables,
        s.nsgs,
        s.errors,
        s.warnings,
        s.notes,
        r.errors.len()
    ));
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        let place = lc.map(|l| format!(":{}:{}", l.line, l.column)).unwrap_or_default();
        out.push_str(&format!("- **input error** `{file}{place}`: {}\n", e.message));
    }
    if !r.errors.is_empty() {
        out.push('\n');
    }
    for f in super::active(r) {
        let lc = r.sources.line_col(&f.primary.origin);
        out.push_str(&format!(
            "### {} {} — {}\n\n`{}:{}:{}` · `{}`\n\n{}\n\n",
            f.code,
            r.policy.name(f.code),
            f.severity.as_str(),
            display_path(r.sources.path(f.primary.origin.file)),
            lc.line,
            lc.column,
            f.resource,
            f.message
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!("**Fix:** {}\n\n", fix.description));
            if let Some(snippet) = &fix.snippet {
                out.push_str(&format!("```\n{}\n```\n\n", snippet.trim_end()));
            }
        }
    }
    out
}
