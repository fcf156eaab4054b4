//! Human output: one miette diagnostic per finding, with the code around
//! the causing line, labels on the related lines, and the fix.

use std::fmt;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::escape::{self, log_text};
use super::{error_location, summary_line, Report};
use crate::policy::Severity;
use crate::source::{Origin, SourceFile, SourceMap};

/// One rendered diagnostic: a finding, a file error, or a related location in another file.
#[derive(Debug)]
struct Diag {
    code: Option<String>,
    severity: miette::Severity,
    message: String,
    help: Option<String>,
    source: Option<Snippet>,
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

/// The lines of one file that a diagnostic shows, instead of the whole file.
///
/// miette reads the text around each label itself; handed a whole file it
/// echoes whatever the file holds, scans it from the start for every label,
/// and panics past column 65,535. A snippet holds only the lines around the
/// labels (with the context line miette shows and one more), each line
/// longer than [`LONG_LINE`] cut to a window around its labels, with
/// [`escape::source_text`] applied, and tells miette the real line numbers.
/// Lines far apart become separate segments, so a file with labels on lines
/// 3 and 30,000 costs a few lines, not 30,000.
#[derive(Debug)]
struct Snippet {
    name: String,
    segments: Vec<Segment>,
}

/// Consecutive lines of a file, laid out one segment after another in the
/// snippet's own offsets.
#[derive(Debug)]
struct Segment {
    /// Where the segment starts in the snippet's offsets.
    base: usize,
    text: String,
    /// 0-based number of the segment's first line in the file.
    first_line: usize,
    lines: Vec<LineMap>,
}

/// How one file line was copied into a segment.
#[derive(Debug)]
struct LineMap {
    /// The line in the file: start, end of its text, end with its line break.
    start: usize,
    end: usize,
    full_end: usize,
    /// The part of the line that was kept, `start..end` unless cut.
    keep: std::ops::Range<usize>,
    /// Where the copy starts in the segment, and the length of the leading
    /// ellipsis (0 when the start was kept).
    at: usize,
    lead: usize,
    /// Length of the copy's text, ellipses included.
    len: usize,
}

/// Lines longer than this many bytes are cut to a window around the labels.
const LONG_LINE: usize = 200;
/// How much of a cut line is kept on each side of its labels, in bytes.
const WINDOW_CONTEXT: usize = 60;
/// How much of a label on a cut line is kept at most, in bytes.
const WINDOW_LABEL: usize = 120;
/// Lines kept before and after each label: miette's one context line, and
/// one more so that it sees the same line breaks as in the whole file.
const CONTEXT_LINES: usize = 2;
/// Labels further apart than this many lines get separate segments.
const MAX_GAP: usize = 40;
const ELLIPSIS: &str = "…";

impl LineMap {
    /// The snippet offset (relative to the segment) of a file offset on this line.
    fn map(&self, o: usize) -> usize {
        if o < self.keep.start {
            self.at
        } else if o <= self.keep.end {
            self.at + self.lead + (o - self.keep.start)
        } else if o <= self.end {
            self.at + self.len
        } else {
            self.at + self.len + (o.min(self.full_end) - self.end)
        }
    }

    /// What to add to a column miette counts in the copy to get the file's.
    fn column_shift(&self) -> isize {
        (self.keep.start - self.start) as isize - self.lead as isize
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Snippet {
    /// The snippet of `file` around `spans`, and the spans in its offsets.
    fn new(file: &SourceFile, name: &str, spans: &[std::ops::Range<usize>]) -> Option<(Snippet, Vec<SourceSpan>)> {
        let raw = file.text();
        if raw.is_empty() {
            return None;
        }
        // Offsets and character boundaries are the raw text's; each copied
        // line is neutralised on its own (same length), so a large file is
        // never copied whole.
        let text: &str = raw;
        let len = text.len();
        let spans: Vec<_> = spans
            .iter()
            .map(|r| {
                let start = floor_boundary(text, r.start.min(len));
                start..floor_boundary(text, r.end.clamp(start, len))
            })
            .collect();
        // 1-based line numbers, as SourceFile counts them.
        let line_of = |o: usize| file.line_col(o).line;
        let mut ranges: Vec<(usize, usize)> = spans
            .iter()
            .map(|r| {
                let last = line_of(r.end.saturating_sub(1).max(r.start));
                (line_of(r.start).saturating_sub(CONTEXT_LINES).max(1), last + CONTEXT_LINES)
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 + MAX_GAP => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut segments = Vec::new();
        let mut base = 0;
        for (first, last) in merged {
            let mut seg = Segment {
                base,
                text: String::new(),
                first_line: first - 1,
                lines: Vec::new(),
            };
            for n in first..=last {
                let Some(start) = file.line_start(n) else { break };
                let start = start.min(len);
                let full_end = file.line_start(n + 1).unwrap_or(len).min(len).max(start);
                let line = escape::source_text(&text[start..full_end]);
                let content_len = line.trim_end_matches(['\n', '\r']).len();
                let end = start + content_len;
                let mut keep = start..end;
                if content_len > LONG_LINE {
                    let marks: Vec<usize> = spans
                        .iter()
                        .flat_map(|r| [r.start, r.end])
                        .filter(|o| (start..=end).contains(o))
                        .collect();
                    let (lo, hi) = match (marks.iter().min(), marks.iter().max()) {
                        (Some(&lo), Some(&hi)) => (lo, hi.min(lo + WINDOW_LABEL)),
                        _ => (start, start),
                    };
                    let a = floor_boundary(text, lo.saturating_sub(WINDOW_CONTEXT).max(start));
                    let b = floor_boundary(text, (hi + WINDOW_CONTEXT).min(end)).max(a);
                    keep = a..b;
                }
                let lead = if keep.start > start { ELLIPSIS.len() } else { 0 };
                let at = seg.text.len();
                if lead > 0 {
                    seg.text.push_str(ELLIPSIS);
                }
                seg.text.push_str(&line[keep.start - start..keep.end - start]);
                if keep.end < end {
                    seg.text.push_str(ELLIPSIS);
                }
                let copied = seg.text.len() - at;
                seg.text.push_str(&line[content_len..]);
                seg.lines.push(LineMap {
                    start,
                    end,
                    full_end,
                    keep,
                    at,
                    lead,
                    len: copied,
                });
            }
            base += seg.text.len();
            segments.push(seg);
        }
        let snippet = Snippet {
            name: escape::log_text(name),
            segments,
        };
        let mapped = spans.iter().map(|r| snippet.map(r)).collect();
        Some((snippet, mapped))
    }

    fn map(&self, r: &std::ops::Range<usize>) -> SourceSpan {
        let point = |o: usize| {
            self.segments.iter().find_map(|seg| {
                seg.lines
                    .iter()
                    .find(|l| l.start <= o && o <= l.full_end)
                    .map(|l| seg.base + l.map(o))
            })
        };
        let start = point(r.start).unwrap_or(0);
        let end = point(r.end).unwrap_or(start).max(start);
        SourceSpan::from((start, end - start))
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(&'a self, span: &SourceSpan, before: usize, after: usize) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let seg = self
            .segments
            .iter()
            .find(|s| span.offset() >= s.base && span.offset() + span.len() <= s.base + s.text.len())
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::from((span.offset() - seg.base, span.len()));
        let c = seg.text.as_str().read_span(&local, before, after)?;
        let shift = if before == 0 {
            seg.lines.get(c.line()).map(LineMap::column_shift).unwrap_or(0)
        } else {
            0
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            c.data(),
            SourceSpan::from((c.span().offset() + seg.base, c.span().len())),
            c.line() + seg.first_line,
            c.column().saturating_add_signed(shift),
            c.line_count() + seg.first_line,
        )))
    }
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    }
}

/// A label before it is placed in a snippet: its text, where it points,
/// and whether it is the primary one.
struct Mark {
    text: Option<String>,
    origin: Origin,
    primary: bool,
}

/// The snippet of the file the marks point into, and the marks as labels on it.
fn located(sources: &SourceMap, marks: Vec<Mark>) -> (Option<Snippet>, Vec<LabeledSpan>) {
    let Some(first) = marks.first() else {
        return (None, Vec::new());
    };
    let Some(file) = sources.get(first.origin.file) else {
        return (None, Vec::new());
    };
    let spans: Vec<_> = marks.iter().map(|m| m.origin.span()).collect();
    let Some((snippet, mapped)) = Snippet::new(file, file.repository_path(), &spans) else {
        return (None, Vec::new());
    };
    let labels = marks
        .into_iter()
        .zip(mapped)
        .map(|(m, span)| {
            let text = m.text.map(|t| log_text(&t));
            if m.primary {
                LabeledSpan::new_primary_with_span(text, span)
            } else {
                LabeledSpan::new_with_span(text, span)
            }
        })
        .collect();
    (Some(snippet), labels)
}

/// A diagnostic as one plain line, for when miette fails or panics on it.
fn plain(d: &Diag, place: &str) -> String {
    let code = d.code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default();
    format!("{code}{}{place}\n", d.message)
}

/// One diagnostic drawn by miette, or as one plain line if miette fails or
/// panics on it (it has panicked on labels past column 65,535): that costs
/// the diagnostic its drawing, not the report.
fn draw(handler: &GraphicalReportHandler, d: &Diag, place: &str) -> String {
    let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut s = String::new();
        handler.render_report(&mut s, d).map(|_| s)
    }));
    match drawn {
        Ok(Ok(s)) => s,
        _ => plain(d, place),
    }
}

/// Renders the report. `color` picks the themed or the plain handler.
///
/// Every untrusted string is neutralised before miette sees it, and the
/// rendered text is checked once more line by line: miette wraps long
/// messages, so where a line starts is only known at the end.
pub fn render(r: &Report, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false).with_width(100);
    let mut out = String::new();
    let mut emit = |d: &Diag, place: String| {
        out.push_str(&draw(&handler, d, &place));
        out.push('\n');
    };
    let place = |o: &Origin| {
        let lc = r.sources.line_col(o);
        format!(" ({}:{}:{})", r.sources.display(o.file), lc.line, lc.column)
    };

    for e in r.errors {
        let d = match e.origin() {
            Some(o) => {
                let (source, labels) = located(
                    r.sources,
                    vec![Mark {
                        text: Some("here".into()),
                        origin: o.clone(),
                        primary: true,
                    }],
                );
                Diag {
                    code: None,
                    severity: miette::Severity::Error,
                    message: log_text(&format!("{}: {}", r.sources.display(o.file), e.message())),
                    help: None,
                    source,
                    labels,
                    related: Vec::new(),
                }
            }
            None => {
                let (file, _) = error_location(r.sources, e);
                Diag {
                    code: None,
                    severity: miette::Severity::Error,
                    message: log_text(&format!("{file}: {}", e.message())),
                    help: None,
                    source: None,
                    labels: Vec::new(),
                    related: Vec::new(),
                }
            }
        };
        emit(&d, String::new());
    }

    let (shown, folded) = super::fold_notes(r);
    for f in shown {
        let file = f.primary.origin.file;
        let mut marks = vec![Mark {
            text: Some(f.primary.message.clone()),
            origin: f.primary.origin.clone(),
            primary: true,
        }];
        let mut related = Vec::new();
        for l in &f.related {
            if l.origin.file == file {
                marks.push(Mark {
                    text: Some(l.message.clone()),
                    origin: l.origin.clone(),
                    primary: false,
                });
            } else {
                let (source, labels) = located(
                    r.sources,
                    vec![Mark {
                        text: None,
                        origin: l.origin.clone(),
                        primary: true,
                    }],
                );
                related.push(Diag {
                    code: None,
                    severity: miette::Severity::Advice,
                    message: log_text(&l.message),
                    help: None,
                    source,
                    labels,
                    related: Vec::new(),
                });
            }
        }
        let help = f.fix.as_ref().map(|fix| match &fix.snippet {
            Some(snippet) => format!("{}:\n\n{}", log_text(&fix.description), escape::block_text(snippet.trim_end())),
            None => log_text(&fix.description),
        });
        let (source, labels) = located(r.sources, marks);
        emit(
            &Diag {
                code: Some(log_text(&format!("{} {}", f.code, r.policy.name(f.code)))),
                severity: severity(f.severity),
                message: log_text(&f.message),
                help,
                source,
                labels,
                related,
            },
            place(&f.primary.origin),
        );
    }
    for (why, list) in &folded {
        let Some(first) = list.first() else { continue };
        out.push_str(&format!(
            "note[KG901] {}\n  first at{}\n\n",
            log_text(&super::folded_line(why, list)),
            log_text(&place(&first.primary.origin))
        ));
    }
    out.push_str(&summary_line(r));
    out.push('\n');
    escape::defuse_line_starts(&escape::defuse_commands(&out)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snippet as it was before lines were cut: the whole line.
    fn whole(text: &str) -> Snippet {
        Snippet {
            name: "main.tf".into(),
            segments: vec![Segment {
                base: 0,
                text: text.to_string(),
                first_line: 0,
                lines: Vec::new(),
            }],
        }
    }

    #[test]
    fn a_panic_in_miette_costs_only_the_drawing() {
        let text = format!("a ={}\"0.0.0.0/0\"\n", " ".repeat(70_000));
        let at = text.find('"').unwrap_or_default();
        let d = Diag {
            code: Some("KG101 forced-tunnel-blocks-kms".into()),
            severity: miette::Severity::Error,
            message: "route table rt sends KMS traffic to VirtualAppliance".into(),
            help: None,
            source: Some(whole(&text)),
            labels: vec![LabeledSpan::new_primary_with_span(
                Some("this route".into()),
                SourceSpan::from((at, 11)),
            )],
            related: Vec::new(),
        };
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let drawn = draw(&handler, &d, " (main.tf:1:70004)");
        std::panic::set_hook(previous);
        assert_eq!(
            drawn,
            "KG101 forced-tunnel-blocks-kms: route table rt sends KMS traffic to VirtualAppliance (main.tf:1:70004)\n"
        );
    }

    #[test]
    fn a_snippet_keeps_line_numbers_and_cuts_long_lines_around_the_label() {
        let long = format!("x = [{}\"0.0.0.0/0\", {}]", "1, ".repeat(100), "2, ".repeat(100));
        let text = format!("a\nb\nc\n{long}\nd\ne\nf\ng\n");
        let file = SourceFile::new("main.tf".into(), text.clone().into());
        let at = text.find("\"0.0.0.0/0\"").unwrap_or_default();
        let (snippet, spans) = Snippet::new(&file, "main.tf", std::slice::from_ref(&(at..at + 11))).unwrap_or_else(|| panic!("a snippet"));
        let seg = &snippet.segments[0];
        assert_eq!(seg.first_line, 1, "two lines of context before line 4");
        assert!(seg.text.starts_with("b\nc\n…"), "{}", seg.text);
        assert!(seg.text.ends_with("…\nd\ne\n"), "{}", seg.text);
        assert!(seg.text.len() < 2 * (WINDOW_CONTEXT + 11) + 20, "{}", seg.text.len());
        let span = spans[0];
        assert_eq!(&seg.text[span.offset()..span.offset() + span.len()], "\"0.0.0.0/0\"");
        let header = snippet.read_span(&span, 0, 0).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((header.line(), header.column()), (3, at - text.find("x =").unwrap_or_default()));
    }
}
