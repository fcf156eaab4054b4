//! Inline suppressions and baselines.
//!
//! `# kmsguard:ignore KG101 -- reason` (or `//`) on the line above, or at the
//! end of, a finding's line or its resource's header line suppresses that
//! rule there; `kmsguard:ignore-file KG202 -- reason` anywhere in a file
//! suppresses it in the whole file; `exp:YYYY-MM-DD` makes a suppression
//! expire. Rules may be named by code or name. Only comments count: the text
//! inside a string never suppresses anything.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use crate::policy::Policy;
use crate::report::fingerprint;
use crate::rules::{Finding, Label, Suppression};
use crate::source::{FileId, Origin, SourceMap};

/// One `kmsguard:ignore` comment.
#[derive(Debug, Clone, PartialEq)]
struct Directive {
    whole_file: bool,
    /// Set for a suppression written on a resource (ARM metadata): it applies
    /// to that resource's findings wherever they point.
    resource: Option<String>,
    /// Rule codes, resolved from codes or names; unknown ones are kept as written.
    codes: Vec<String>,
    expires: Option<(i32, u32, u32)>,
    reason: Option<String>,
    origin: Origin,
    line: usize,
}

/// The comments of a file as (byte range, text), skipping strings. `#`
/// comments exist in HCL only; Bicep strings are single-quoted.
pub(crate) fn comments(text: &str, hash_comments: bool) -> Vec<(Range<usize>, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while let Some(&c) = b.get(i) {
        if let Some(q) = quote {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == q || c == b'\n' {
                quote = None;
            }
            i += 1;
            continue;
        }
        let next = b.get(i + 1).copied();
        let line_comment = (hash_comments && c == b'#') || (c == b'/' && next == Some(b'/'));
        if line_comment {
            let end = text.get(i..).and_then(|t| t.find('\n')).map(|n| i + n).unwrap_or(text.len());
            out.push((i..end, text.get(i..end).unwrap_or("")));
            i = end;
        } else if c == b'/' && next == Some(b'*') {
            let end = text
                .get(i + 2..)
                .and_then(|t| t.find("*/"))
                .map(|n| i + 2 + n + 2)
                .unwrap_or(text.len());
            out.push((i..end, text.get(i..end).unwrap_or("")));
            i = end;
        } else {
            if c == b'"' || (!hash_comments && c == b'\'') {
                quote = Some(c);
            }
            i += 1;
        }
    }
    out
}

fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let mut it = s.split('-');
    let (y, m, d) = (it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
    (it.next().is_none() && (1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

fn directives(sources: &SourceMap, file: FileId, policy: &Policy) -> Vec<Directive> {
    let Some(f) = sources.get(file) else { return Vec::new() };
    let name = f.path.to_string_lossy();
    let hcl = name.ends_with(".tf") || name.ends_with(".tfvars") || name.ends_with(".hcl");
    if !hcl && !name.ends_with(".bicep") && !name.ends_with(".bicepparam") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (span, text) in f.directive_comments() {
        let Some(at) = text.find("kmsguard:ignore") else { continue };
        let rest = text.get(at + "kmsguard:ignore".len()..).unwrap_or("");
        let (whole_file, rest) = match rest.strip_prefix("-file") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let origin = Origin::new(file, span.clone());
        if let Some(d) = directive(rest, whole_file, None, origin, sources, policy) {
            out.push(d);
        }
    }
    out
}

/// Parses `KG101[,name] [exp:YYYY-MM-DD] [-- reason]`.
fn directive(
    rest: &str,
    whole_file: bool,
    resource: Option<String>,
    origin: Origin,
    sources: &SourceMap,
    policy: &Policy,
) -> Option<Directive> {
    {
        let rest = rest.trim_end_matches("*/");
        let (spec, reason) = match rest.split_once("--") {
            Some((s, r)) => (s, Some(r.trim().to_string()).filter(|r| !r.is_empty())),
            None => (rest, None),
        };
        let mut codes = Vec::new();
        let mut expires = None;
        for word in spec.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()) {
            if let Some(d) = word.strip_prefix("exp:") {
                expires = parse_date(d);
            } else {
                codes.push(policy.rule(word).map(|r| r.code.clone()).unwrap_or_else(|| word.to_string()));
            }
        }
        Some(Directive {
            whole_file,
            resource,
            codes,
            expires,
            reason,
            line: sources.line_col(&origin).line,
            origin,
        })
    }
}

/// Today's date in UTC, or `KMSGUARD_TODAY` (YYYY-MM-DD) so runs can be reproduced.
pub fn today() -> (i32, u32, u32) {
    if let Some(d) = std::env::var("KMSGUARD_TODAY").ok().and_then(|s| parse_date(&s)) {
        return d;
    }
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// Marks suppressed findings and returns the findings about suppressions
/// themselves (unused, expired, without a reason).
pub fn apply(
    sources: &SourceMap,
    policy: &Policy,
    findings: &mut [Finding],
    resource_headers: &HashMap<String, Origin>,
    on_resources: &[(String, String, Origin)],
    today: (i32, u32, u32),
) -> Vec<Finding> {
    let files: HashSet<FileId> = (0..sources.len() as u32).map(FileId).collect();
    let mut all: Vec<Directive> = Vec::new();
    let mut sorted: Vec<FileId> = files.into_iter().collect();
    sorted.sort();
    for f in sorted {
        all.extend(directives(sources, f, policy));
    }
    for (resource, text, origin) in on_resources {
        all.extend(directive(text, false, Some(resource.clone()), origin.clone(), sources, policy));
    }
    let mut used = vec![false; all.len()];
    let mut meta = Vec::new();
    let meta_finding = |code: &'static str, d: &Directive, message: String, label: &str| Finding {
        code,
        severity: policy.severity(code),
        message,
        primary: Label {
            origin: d.origin.clone(),
            message: label.into(),
        },
        related: Vec::new(),
        resource: String::new(),
        fix: None,
        suppressed: None,
    };
    let expired = |d: &Directive| d.expires.is_some_and(|e| e < today);

    for f in findings.iter_mut() {
        let line = sources.line_col(&f.primary.origin).line;
        let header = resource_headers
            .get(&f.resource)
            .filter(|o| o.file == f.primary.origin.file)
            .map(|o| sources.line_col(o).line);
        for (i, d) in all.iter().enumerate() {
            if !d.codes.iter().any(|c| c == f.code) {
                continue;
            }
            match &d.resource {
                Some(r) if *r != f.resource => continue,
                Some(_) => {}
                None => {
                    if d.origin.file != f.primary.origin.file {
                        continue;
                    }
                    // A comment covers its own line and the line below it.
                    let covers = |l: usize| l == d.line || l == d.line + 1;
                    if !(d.whole_file || covers(line) || header.is_some_and(covers)) {
                        continue;
                    }
                }
            }
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
            if expired(d) {
                continue;
            }
            f.suppressed = Some(Suppression {
                kind: "inSource",
                justification: d.reason.clone().unwrap_or_default(),
            });
            break;
        }
    }
    for (d, used) in all.iter().zip(used) {
        let codes = d.codes.join(", ");
        if !used {
            meta.push(meta_finding(
                "KG001",
                d,
                format!("this suppression of {codes} matches no finding"),
                "nothing to suppress here",
            ));
            continue;
        }
        if let (true, Some((y, m, day))) = (expired(d), d.expires) {
            meta.push(meta_finding(
                "KG002",
                d,
                format!("the suppression of {codes} expired on {y:04}-{m:02}-{day:02}; the finding is reported again"),
                "expired",
            ));
        }
        if d.reason.is_none() {
            meta.push(meta_finding(
                "KG003",
                d,
                format!("the suppression of {codes} gives no reason"),
                "add ` -- reason`",
            ));
        }
    }
    meta
}

/// A baseline: the fingerprints of findings accepted as they are.
pub fn read_baseline(path: &std::path::Path) -> Result<HashSet<String>, String> {
    let text = crate::discover::read_text(path, MAX_BASELINE_BYTES).map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("baseline {} is not JSON: {e}", path.display()))?;
    Ok(doc
        .get("fingerprints")
        .and_then(|f| f.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default())
}

/// The largest baseline read: about a million fingerprints.
const MAX_BASELINE_BYTES: u64 = 128 * 1024 * 1024;

/// The baseline file accepting the findings that count, as text; the
/// command line writes it (atomically, beside the reports).
pub fn baseline_text(sources: &SourceMap, findings: &[Finding]) -> String {
    let mut prints: Vec<String> = findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| fingerprint::of(sources, f))
        .collect();
    prints.sort();
    prints.dedup();
    let doc = serde_json::json!({ "version": 1, "tool": "kmsguard", "fingerprints": prints });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Marks findings whose fingerprint is in the baseline.
pub fn apply_baseline(sources: &SourceMap, findings: &mut [Finding], baseline: &HashSet<String>) {
    for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
        if baseline.contains(&fingerprint::of(sources, f)) {
            f.suppressed = Some(Suppression {
                kind: "external",
                justification: "accepted in the baseline".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_skip_strings() {
        let text = "a = \"# not a comment // nor this\" # real\nb = 1 // also\n/* block */";
        let found: Vec<&str> = comments(text, true).into_iter().map(|(_, t)| t).collect();
        assert_eq!(found, vec!["# real", "// also", "/* block */"]);
        let bicep = "var x = '// in a string' // real";
        assert_eq!(
            comments(bicep, false).into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
            vec!["// real"]
        );
    }

    #[test]
    fn dates_parse_strictly() {
        assert_eq!(parse_date("2027-03-31"), Some((2027, 3, 31)));
        assert_eq!(parse_date("2027-13-01"), None);
        assert_eq!(parse_date("tomorrow"), None);
    }

    #[test]
    fn today_is_a_real_date() {
        let (y, m, d) = today();
        assert!(y >= 2024 && (1..=12).contains(&m) && (1..=31).contains(&d));
    }
}
