//! The rule pack. Each rule is a small module that reads the model and the
//! analysis and emits [`Finding`]s; its documentation lives in
//! `policies/rules.hcl` (printed by `kmsguard explain`).

pub mod fix;
mod kg101;
mod kg102;
mod kg103;
mod kg104;
mod kg201;
mod kg202;
mod kg203;
mod kg204;
mod kg301;
mod kg901;
mod platform;
mod routes;

use crate::model::{Model, Unresolved};
use crate::policy::{Policy, Severity};
use crate::source::Origin;

/// Every rule code, implemented or documented.
pub const CODES: &[&str] = &[
    "KG001", "KG002", "KG003", "KG101", "KG102", "KG103", "KG104", "KG201", "KG202", "KG203", "KG204", "KG301", "KG901",
];

/// The rules this version checks: all of them.
pub const IMPLEMENTED: &[&str] = CODES;

/// Why a finding does not count: a `kmsguard:ignore` comment or a baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// SARIF's kind: `inSource` or `external`.
    pub kind: &'static str,
    pub justification: String,
}

/// A place in the code and what it has to do with a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub origin: Origin,
    pub message: String,
}

/// What to change, and the code to add when kmsguard can write it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub description: String,
    pub snippet: Option<String>,
    /// Where the snippet is inserted: an empty range at the start of a line.
    pub insert_at: Option<Origin>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub related: Vec<Label>,
    pub resource: String,
    pub fix: Option<Fix>,
    /// Set when a suppression comment or the baseline accepts the finding.
    pub suppressed: Option<Suppression>,
}

/// What the rules read.
pub struct Context<'a> {
    pub model: &'a Model,
    pub policy: &'a Policy,
    /// The cloud whose endpoint addresses apply (`public`, `usgov`, …) where
    /// the code does not say.
    pub cloud: &'a str,
    /// Set by `--cloud`: the cloud applies even where the code names another.
    pub cloud_forced: bool,
    /// Set by `--assume-bgp-default-route`: on-premises advertises 0.0.0.0/0.
    pub assume_bgp_default_route: bool,
}

impl<'a> Context<'a> {
    /// The cloud for a resource: `--cloud` if given, else what the code says, else the default.
    pub fn cloud_for(&self, declared: &'a Option<String>) -> &'a str {
        match declared {
            Some(c) if !self.cloud_forced => c.as_str(),
            _ => self.cloud,
        }
    }
}

impl Context<'_> {
    fn finding(&self, code: &'static str, resource: &str, message: String, primary: Label) -> Finding {
        Finding {
            code,
            severity: self.policy.severity(code),
            message,
            primary,
            related: Vec::new(),
            resource: resource.to_string(),
            fix: None,
            suppressed: None,
        }
    }
}

/// Runs every implemented rule over the model.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut notes = Vec::new();
    kg101::check(ctx, &mut findings, &mut notes);
    kg102::check(ctx, &mut findings);
    kg103::check(ctx, &mut findings);
    kg104::check(ctx, &mut findings, &mut notes);
    kg201::check(ctx, &mut findings, &mut notes);
    kg202::check(ctx, &mut findings, &mut notes);
    kg203::check(ctx, &mut findings, &mut notes);
    kg204::check(ctx, &mut findings, &mut notes);
    kg301::check(ctx, &mut findings, &mut notes);
    findings.extend(kg901::notes(ctx, notes));
    // A resource deployed through module calls lists them, outermost first.
    let mut sites: std::collections::HashMap<&str, &[Origin]> = std::collections::HashMap::new();
    for t in &ctx.model.route_tables {
        sites.insert(t.address.as_str(), &t.called_from);
    }
    for n in &ctx.model.nsgs {
        sites.insert(n.address.as_str(), &n.called_from);
    }
    for f in &mut findings {
        if let Some(calls) = sites.get(f.resource.as_str()) {
            f.related.extend(calls.iter().map(|o| Label {
                origin: o.clone(),
                message: "deployed through this module call".into(),
            }));
        }
    }
    findings
}

/// A verdict a rule could not reach, to be reported as KG901.
#[derive(Debug, Clone)]
pub struct Undecided {
    pub rule: &'static str,
    pub resource: String,
    /// What the rule wanted to know, e.g. "where route table rt-hub sends KMS traffic".
    pub question: String,
    pub blockers: Vec<Unresolved>,
    /// The resource's own place, shown beside the value that blocked the verdict.
    pub resource_origin: Origin,
}

/// A resource's display name: its Azure name when known, else its address.
pub fn display_name(name: &crate::model::Field<String>, address: &str) -> String {
    name.known().cloned().unwrap_or_else(|| address.to_string())
}

/// "a and b", "a, b and c".
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The suffix findings carry when their resource may not be created.
fn conditional_note(cond: &Option<Unresolved>) -> String {
    match cond {
        Some(u) => format!(" (if it is created: {})", u.reason),
        None => String::new(),
    }
}

#[cfg(test)]
pub(crate) mod testkit;
