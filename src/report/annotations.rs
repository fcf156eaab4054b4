//! CI annotations: GitHub Actions workflow commands and Azure Pipelines
//! logging commands, one per finding, escaped as each service requires; the
//! JUnit and Markdown reports. Untrusted text goes through [`super::escape`]
//! first (visible control characters, defused command prefixes), then
//! through the format's own escaping.

use super::escape::{self, log_text};
use super::{error_location, summary_line, Report};
use crate::policy::Severity;

/// GitHub escapes `%`, CR and LF in a command's message.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// …and also `:` and `,` in property values, so a file name holding
/// `::` or `,title=` cannot end the property list or add a property.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A file property. GitHub unescapes it and links the file, but only
/// `%`, CR, LF, `:` and `,` have escapes: a name holding ESC or another
/// control character cannot be carried, so it is shown as [`log_text`]
/// shows it (and is not linked), like any other untrusted text.
fn gh_file(path: &str) -> String {
    gh_property(&log_text(path))
}

/// `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`,
/// then the summary as a plain line. Every line is one kmsguard wrote; all
/// untrusted text is inside a command, percent-escaped, so no
/// `::stop-commands::` fence is needed (it would also need a token nobody
/// can guess, making the output differ on every run, and would switch off
/// the annotations themselves).
pub fn github(r: &Report) -> String {
    let mut out = String::new();
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        let place = lc.map(|l| format!(",line={},col={}", l.line, l.column)).unwrap_or_default();
        out.push_str(&format!(
            "::error file={}{place},title=kmsguard::{}\n",
            gh_file(&file),
            gh_data(&log_text(e.message()))
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
        // The line break before "Fix:" is kmsguard's; those in the texts are not.
        let mut message = log_text(&f.message);
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\nFix: {}", log_text(&fix.description)));
        }
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            gh_file(&r.sources.display(f.primary.origin.file)),
            s.line,
            s.column,
            e.line,
            e.column,
            gh_property(&log_text(&format!("{} {}", f.code, r.policy.name(f.code)))),
            gh_data(&message)
        ));
    }
    out.push_str(&summary_line(r));
    out.push('\n');
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
/// The agent acts on `##vso[` anywhere in a line, so the only ones left in
/// the output are those that start kmsguard's own lines.
pub fn azure_pipelines(r: &Report) -> String {
    let mut out = String::new();
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        let place = lc
            .map(|l| format!(";linenumber={};columnnumber={}", l.line, l.column))
            .unwrap_or_default();
        out.push_str(&format!(
            "##vso[task.logissue type=error;sourcepath={}{place}]{}\n",
            vso(&log_text(&file)),
            vso(&log_text(e.message()))
        ));
    }
    for f in super::active(r) {
        let lc = r.sources.line_col(&f.primary.origin);
        let kind = if f.severity == Severity::Error { "error" } else { "warning" };
        out.push_str(&format!(
            "##vso[task.logissue type={kind};sourcepath={};linenumber={};columnnumber={};code={}]{}\n",
            vso(&log_text(&r.sources.display(f.primary.origin.file))),
            lc.line,
            lc.column,
            f.code,
            vso(&log_text(&f.message))
        ));
    }
    out.push_str(&summary_line(r));
    out.push('\n');
    out
}

use escape::xml;

/// JUnit XML: a test suite per rule, a test case per rule and resource.
/// Well-formed for any input: every untrusted string goes through
/// [`escape::xml`], which also removes what XML 1.0 forbids.
pub fn junit(r: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = super::active(r).count() + r.errors.len();
    let s = &r.summary;
    // The summary's counts that a JUnit reader has no field for.
    let extra = format!("{}{}", super::suppressed_clause(s, r.findings), super::config_clause(s));
    let properties = if extra.is_empty() {
        String::new()
    } else {
        format!(
            "  <properties>\n    <property name=\"summary\" value=\"{}\"/>\n  </properties>\n",
            xml(extra.trim_start_matches("; "))
        )
    };
    out.push_str(&format!(
        "<testsuites name=\"kmsguard\" tests=\"{failures}\" failures=\"{failures}\">\n{properties}"
    ));
    for doc in &r.policy.rules {
        let cases: Vec<_> = super::active(r).filter(|f| f.code == doc.code).collect();
        if cases.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\">\n",
            xml(&doc.code),
            xml(&doc.name),
            cases.len(),
            cases.len()
        ));
        for f in cases {
            let lc = r.sources.line_col(&f.primary.origin);
            let file = r.sources.display(f.primary.origin.file);
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
                xml(e.message()),
                xml(&file),
                lc.map(|l| format!(":{}:{}", l.line, l.column)).unwrap_or_default()
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// GitHub refuses a step summary over 1 MiB; the Markdown report stops
/// adding findings before this many bytes and says how many it left out.
pub const MARKDOWN_LIMIT: usize = 1_000_000;

/// Room kept below [`MARKDOWN_LIMIT`] for the closing line.
const MARKDOWN_TRAILER_ROOM: usize = 400;

/// Markdown for `$GITHUB_STEP_SUMMARY` and pull-request comments. Every
/// untrusted string is escaped for where it lands (text, code span, fenced
/// block), so a name cannot add a heading, a comment that hides the rest, a
/// link or HTML; and the report stays under GitHub's size limit.
pub fn markdown(r: &Report) -> String {
    let s = &r.summary;
    let mut out = String::from("## kmsguard\n\n");
    let extra = format!("{}{}", super::suppressed_clause(s, r.findings), super::config_clause(s));
    // "; 2 suppressed (…); config: x" as a sentence of its own.
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("\n\n{}.", escape::markdown_text(extra.trim_start_matches("; ")))
    };
    if super::active(r).next().is_none() && r.errors.is_empty() {
        let what = if s.suppressed > 0 {
            format!(
                "{} suppressed",
                if s.suppressed == 1 {
                    "1 finding".to_string()
                } else {
                    format!("{} findings", s.suppressed)
                }
            )
        } else {
            "No findings".to_string()
        };
        out.push_str(&format!(
            "{what} in {} files ({} route tables, {} NSGs).{extra}\n",
            s.files, s.route_tables, s.nsgs
        ));
        return out;
    }
    out.push_str("| files | route tables | NSGs | errors | warnings | notes | unreadable inputs |\n|---|---|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} | {} |{extra}\n\n",
        s.files,
        s.route_tables,
        s.nsgs,
        s.errors,
        s.warnings,
        s.notes,
        r.errors.len()
    ));
    let budget = MARKDOWN_LIMIT - MARKDOWN_TRAILER_ROOM;
    let mut left_out = 0usize;
    let mut fits = |out: &mut String, section: String| {
        if left_out == 0 && out.len() + section.len() <= budget {
            out.push_str(&section);
        } else {
            left_out += 1;
        }
    };
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        let place = lc.map(|l| format!(":{}:{}", l.line, l.column)).unwrap_or_default();
        fits(
            &mut out,
            format!(
                "- **input error** {}: {}\n",
                escape::markdown_code(&format!("{file}{place}")),
                escape::markdown_text(e.message())
            ),
        );
    }
    if !r.errors.is_empty() {
        out.push('\n');
    }
    for f in super::active(r) {
        let lc = r.sources.line_col(&f.primary.origin);
        let mut section = format!(
            "### {} {} — {}\n\n{} · {}\n\n{}\n\n",
            escape::markdown_text(f.code),
            escape::markdown_text(r.policy.name(f.code)),
            f.severity.as_str(),
            escape::markdown_code(&format!("{}:{}:{}", r.sources.display(f.primary.origin.file), lc.line, lc.column)),
            escape::markdown_code(&f.resource),
            escape::markdown_text(&f.message)
        );
        if let Some(fix) = &f.fix {
            section.push_str(&format!("**Fix:** {}\n\n", escape::markdown_text(&fix.description)));
            if let Some(snippet) = &fix.snippet {
                section.push_str(&format!("{}\n\n", escape::markdown_block(snippet.trim_end())));
            }
        }
        fits(&mut out, section);
    }
    if left_out > 0 {
        out.push_str(&format!(
            "**{left_out} more {} not shown:** the step summary is limited to 1 MiB; the other report formats list them all.\n",
            if left_out == 1 { "entry" } else { "entries" }
        ));
    }
    out
}
