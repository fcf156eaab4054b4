//! Human output: one miette diagnostic per finding, with the code around
//! the causing line, labels on the related lines, and the fix.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use super::{error_location, summary_line, Report};
use crate::policy::Severity;
use crate::source::{display_path, Origin, SourceMap};

/// One rendered diagnostic: a finding, a file error, or a related location in another file.
#[derive(Debug)]
struct Diag {
    code: Option<String>,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Diag>,
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code.as_ref().map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
        }
    }
}

fn source(sources: &SourceMap, origin: &Origin) -> Option<NamedSource<Arc<str>>> {
    let f = sources.get(origin.file)?;
    Some(NamedSource::new(display_path(&f.path), f.text().clone()))
}

fn span(origin: &Origin) -> SourceSpan {
    SourceSpan::from((origin.span().start, origin.span().end.saturating_sub(origin.span().start)))
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    }
}

/// Renders the report. `color` picks the themed or the plain handler.
pub fn render(r: &Report, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false).with_width(100);
    let mut out = String::new();
    let mut emit = |d: &Diag| {
        let mut s = String::new();
        if handler.render_report(&mut s, d).is_err() {
            s = format!("{d}\n");
        }
        out.push_str(&s);
        out.push('\n');
    };

    for e in r.errors {
        let d = match &e.origin {
            Some(o) => Diag {
                code: None,
                severity: miette::Severity::Error,
                message: format!("{}: {}", display_path(r.sources.path(o.file)), e.message),
                help: None,
                source: source(r.sources, o),
                labels: vec![LabeledSpan::new_primary_with_span(Some("here".into()), span(o))],
                related: Vec::new(),
            },
            None => {
                let (file, _) = error_location(r.sources, e);
                Diag {
                    code: None,
                    severity: miette::Severity::Error,
                    message: format!("{file}: {}", e.message),
                    help: None,
                    source: None,
                    labels: Vec::new(),
                    related: Vec::new(),
                }
            }
        };
        emit(&d);
    }

    for f in super::active(r) {
        let file = f.primary.origin.file;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(f.primary.message.clone()),
            span(&f.primary.origin),
        )];
        let mut related = Vec::new();
        for l in &f.related {
            if l.origin.file == file {
                labels.push(LabeledSpan::new_with_span(Some(l.message.clone()), span(&l.origin)));
            } else {
                related.push(Diag {
                    code: None,
                    severity: miette::Severity::Advice,
                    message: l.message.clone(),
                    help: None,
                    source: source(r.sources, &l.origin),
                    labels: vec![LabeledSpan::new_primary_with_span(None, span(&l.origin))],
                    related: Vec::new(),
                });
            }
        }
        let help = f.fix.as_ref().map(|fix| match &fix.snippet {
            Some(snippet) => format!("{}:\n\n{}", fix.description, snippet.trim_end()),
            None => fix.description.clone(),
        });
        emit(&Diag {
            code: Some(format!("{} {}", f.code, r.policy.name(f.code))),
            severity: severity(f.severity),
            message: f.message.clone(),
            help,
            source: source(r.sources, &f.primary.origin),
            labels,
            related,
        });
    }
    out.push_str(&summary_line(&r.summary, r.errors.len()));
    out.push('\n');
    out
}
