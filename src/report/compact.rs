//! One line per finding, `file:line:col: severity[CODE] message`, the shape
//! editors and problem matchers read.

use super::{error_location, summary_line, Report};
use crate::source::display_path;

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    for e in r.errors {
        let (file, lc) = error_location(r.sources, e);
        match lc {
            Some(lc) => out.push_str(&format!("{file}:{}:{}: error: {}\n", lc.line, lc.column, e.message)),
            None => out.push_str(&format!("{file}: error: {}\n", e.message)),
        }
    }
    for f in super::active(r) {
        let lc = r.sources.line_col(&f.primary.origin);
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {}\n",
            display_path(r.sources.path(f.primary.origin.file)),
            lc.line,
            lc.column,
            f.severity.as_str(),
            f.code,
            f.message
        ));
    }
    out.push_str(&summary_line(&r.summary, r.errors.len()));
    out.push('\n');
    out
}
