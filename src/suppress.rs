//! Inline suppressions and baselines.
//!
//! `# kmsguard:ignore KG101 -- reason` (or `//`) on the line above, or at the
//! end of, a finding's line or the first line of any construct that
//! encloses it (the attribute, a nested block such as `route { }` or an
//! object in `routes: [ { … } ]`, the resource) suppresses that rule there;
//! `kmsguard:ignore-file KG202 -- reason` anywhere in a file suppresses it
//! in the whole file; `exp:YYYY-MM-DD` makes a suppression
//! expire. Rules may be named by code or name. Only comments count: the text
//! inside a string never suppresses anything.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use kmsguard_core::read::ReadError;

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

/// Where a directive applies, for finding the directives of a finding
/// without trying every directive on every finding: a file with many
/// comments and many findings must not take findings × comments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Place {
    /// A comment covers its own line and the line below it.
    Line(FileId, usize, String),
    /// `kmsguard:ignore-file`.
    File(FileId, String),
    /// ARM `metadata.kmsguard.ignore`: the resource that carries it, in the
    /// template that declares it. Another template's resource of the same
    /// type and name is another resource.
    Resource(FileId, String, String),
}

/// The directives of one place, in the order they were written.
#[derive(Default)]
struct AtPlace {
    directives: Vec<usize>,
    /// The first one that has not expired: it is the one that suppresses.
    first_active: Option<usize>,
    /// Some finding is at this place: its directives are used.
    matched: bool,
}

/// Marks suppressed findings and returns the findings about suppressions
/// themselves (unused, expired, without a reason).
///
/// With `inline` false (`--no-inline-suppressions`) no comment or resource
/// metadata suppresses anything: only the baseline and the owner's config
/// can accept a finding.
pub fn apply(
    sources: &SourceMap,
    policy: &Policy,
    findings: &mut [Finding],
    resource_headers: &HashMap<String, Origin>,
    on_resources: &[(String, String, Origin)],
    today: (i32, u32, u32),
    inline: bool,
) -> Vec<Finding> {
    if !inline {
        return Vec::new();
    }
    let mut all: Vec<Directive> = Vec::new();
    for f in (0..sources.len() as u32).map(FileId) {
        all.extend(directives(sources, f, policy));
    }
    for (resource, text, origin) in on_resources {
        all.extend(directive(text, false, Some(resource.clone()), origin.clone(), sources, policy));
    }
    let mut places = places(&all, today);
    for f in findings.iter_mut() {
        let mut winner: Option<usize> = None;
        for place in &candidates(sources, f, resource_headers) {
            if let Some(at) = places.get_mut(place) {
                at.matched = true;
                winner = match (winner, at.first_active) {
                    (Some(w), Some(a)) => Some(w.min(a)),
                    (w, a) => w.or(a),
                };
            }
        }
        if let Some(d) = winner.and_then(|w| all.get(w)) {
            f.suppressed = Some(Suppression {
                kind: "inSource",
                justification: d.reason.clone().unwrap_or_default(),
            });
        }
    }
    let mut used = vec![false; all.len()];
    for at in places.values().filter(|at| at.matched) {
        for i in &at.directives {
            if let Some(u) = used.get_mut(*i) {
                *u = true;
            }
        }
    }
    meta_findings(policy, &all, &used, today)
}

impl Directive {
    fn expired(&self, today: (i32, u32, u32)) -> bool {
        self.expires.is_some_and(|e| e < today)
    }
}

/// The directives by the place each applies to (`all`'s indices).
fn places(all: &[Directive], today: (i32, u32, u32)) -> HashMap<Place, AtPlace> {
    let mut places: HashMap<Place, AtPlace> = HashMap::new();
    for (i, d) in all.iter().enumerate() {
        for code in &d.codes {
            let place = match &d.resource {
                Some(r) => Place::Resource(d.origin.file, r.clone(), code.clone()),
                None if d.whole_file => Place::File(d.origin.file, code.clone()),
                None => Place::Line(d.origin.file, d.line, code.clone()),
            };
            let at = places.entry(place).or_default();
            if at.directives.last() != Some(&i) {
                at.directives.push(i);
            }
            if at.first_active.is_none() && !d.expired(today) {
                at.first_active = Some(i);
            }
        }
    }
    places
}

/// Every place a directive that suppresses `f` may stand.
fn candidates(sources: &SourceMap, f: &Finding, resource_headers: &HashMap<String, Origin>) -> Vec<Place> {
    let file = f.primary.origin.file;
    let line = sources.line_col(&f.primary.origin).line;
    let header = resource_headers
        .get(&f.resource)
        .filter(|o| o.file == file)
        .map(|o| sources.line_col(o).line);
    let code = f.code.to_string();
    let mut candidates = vec![
        Place::Line(file, line, code.clone()),
        Place::Line(file, line.saturating_sub(1), code.clone()),
        Place::File(file, code.clone()),
        Place::Resource(file, f.resource.clone(), code.clone()),
    ];
    // The lines that open each construct around the finding: its
    // attribute, the nested block or object it is in, its resource.
    let mut lines: Vec<usize> = header.into_iter().collect();
    if let Some(src) = sources.get(file) {
        lines.extend(
            src.enclosing(f.primary.origin.span().start)
                .into_iter()
                .map(|o| src.line_col(o).line),
        );
    }
    lines.sort_unstable();
    lines.dedup();
    for h in lines.into_iter().filter(|h| *h != line) {
        candidates.push(Place::Line(file, h, code.clone()));
        candidates.push(Place::Line(file, h.saturating_sub(1), code.clone()));
    }
    candidates
}

/// The findings about the suppressions themselves: unused (KG001), expired
/// (KG002), without a reason (KG003).
fn meta_findings(policy: &Policy, all: &[Directive], used: &[bool], today: (i32, u32, u32)) -> Vec<Finding> {
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
        unit: None,
    };
    let mut meta = Vec::new();
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
        if let (true, Some((y, m, day))) = (d.expired(today), d.expires) {
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

/// Why a baseline cannot be used; the text is what the command line prints
/// after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {}: {source}", path.display())]
    Read { path: PathBuf, source: ReadError },
    #[error("baseline {} is not JSON: {source}", path.display())]
    NotJson { path: PathBuf, source: serde_json::Error },
}

/// A baseline: the fingerprints of findings accepted as they are.
pub fn read_baseline(path: &Path) -> Result<HashSet<String>, BaselineError> {
    let text = crate::discover::read_text(path, MAX_BASELINE_BYTES).map_err(|source| BaselineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|source| BaselineError::NotJson {
        path: path.to_path_buf(),
        source,
    })?;
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
