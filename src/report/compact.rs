//! One line per finding, `file:line:col: severity[CODE] message`, the shape
//! editors and problem matchers read. It is what the pre-commit hook prints,
//! often into a CI log, so every untrusted piece goes through
//! [`super::escape`]: the path could start the line, the message sits inside it.

use super::escape::{log_text, path_at_line_start};
use super::{error_location, summary_line, Report};

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        let file = path_at_line_start(&file);
        let message = log_text(e.message());
        match lc {
            Some(lc) => out.push_str(&format!("{file}:{}:{}: error: {message}\n", lc.line, lc.column)),
            None => out.push_str(&format!("{file}: error: {message}\n")),
        }
    }
    let (shown, folded) = super::fold_notes(r);
    for f in shown {
        let lc = r.sources.line_col(&f.primary.origin);
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {}\n",
            path_at_line_start(&r.sources.display(f.primary.origin.file)),
            lc.line,
            lc.column,
            f.severity.as_str(),
            f.code,
            log_text(&f.message)
        ));
    }
    for (why, list) in &folded {
        let Some(first) = list.first() else { continue };
        let lc = r.sources.line_col(&first.primary.origin);
        out.push_str(&format!(
            "{}:{}:{}: note[KG901] {}\n",
            path_at_line_start(&r.sources.display(first.primary.origin.file)),
            lc.line,
            lc.column,
            log_text(&super::folded_line(why, list))
        ));
    }
    out.push_str(&summary_line(r));
    out.push('\n');
    out
}
