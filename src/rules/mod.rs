//! The rule pack. Each rule is a small module that reads the model and the
//! analysis and emits [`Finding`]s; its documentation lives in
//! `policies/rules.hcl` (printed by `kmsguard explain`).

pub mod fix;
mod kg101;
mod kg102;
mod kg103;
pub(crate) mod kg104;
mod kg201;
mod kg202;
mod kg203;
mod kg204;
mod kg301;
mod kg901;
mod platform;
mod routes;

use crate::model::{Model, Unresolved};
use crate::policy::Policy;
use crate::source::Origin;

/// A check over the model. Its documentation (name, severity, what it
/// checks, the fix) is the `rule "CODE"` block of `policies/rules.hcl`; a
/// test holds the two together.
pub trait Rule: Sync {
    fn code(&self) -> &'static str;
    fn name(&self) -> &'static str;
    /// Adds the rule's findings to `out`, and the verdicts it could not
    /// reach for want of a value to `undecided` (KG901 reports them).
    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, undecided: &mut Vec<Undecided>);
}

/// Every rule, in the order findings are reported. KG901 reports what the
/// others left undecided, so it comes last.
pub static RULES: &[&dyn Rule] = &[
    &kg101::ForcedTunnelBlocksKms,
    &kg102::KmsRouteNotInternet,
    &kg103::StaleKmsAddress,
    &kg104::BgpDefaultRouteExposure,
    &kg201::RULE,
    &kg202::RULE,
    &kg203::RULE,
    &kg204::NsgBlocksKmsUnderForcedTunnel,
    &kg301::FirewallBlocksKms,
    &kg901::UnresolvedValue,
];

/// The codes `crate::suppress` reports about suppressions themselves
/// (unused, expired, without a reason); they are not in [`RULES`] because
/// they judge comments, not the model.
pub const SUPPRESSION_CODES: &[&str] = &["KG001", "KG002", "KG003"];

/// Every code this version checks: the suppression codes, then [`RULES`].
pub fn codes() -> impl Iterator<Item = &'static str> {
    SUPPRESSION_CODES.iter().copied().chain(RULES.iter().map(|r| r.code()))
}

/// Whether this version checks `code`; a replacement policy pack may
/// document rules it does not.
pub fn is_checked(code: &str) -> bool {
    codes().any(|c| c == code)
}

pub use kmsguard_core::diagnostic::{Finding, Fix, Label, Suppression};

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
            unit: None,
        }
    }
}

/// Runs every rule over the model.
pub fn check(ctx: &Context) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut undecided = Vec::new();
    for rule in RULES {
        rule.check(ctx, &mut findings, &mut undecided);
    }
    // A resource deployed through module calls lists them, outermost first:
    // its own unit's calls, or, for a finding that names no unit, the calls
    // every resource of that address shares (none when they differ).
    let mut sites: std::collections::HashMap<(&str, u32), &[Origin]> = std::collections::HashMap::new();
    let mut by_address: std::collections::HashMap<&str, Vec<&[Origin]>> = std::collections::HashMap::new();
    let resources = ctx
        .model
        .route_tables
        .iter()
        .map(|t| (t.address.as_str(), t.namespace, t.called_from.as_slice()))
        .chain(
            ctx.model
                .nsgs
                .iter()
                .map(|n| (n.address.as_str(), n.namespace, n.called_from.as_slice())),
        );
    for (address, unit, calls) in resources {
        sites.insert((address, unit), calls);
        by_address.entry(address).or_default().push(calls);
    }
    for f in &mut findings {
        let calls = match f.unit {
            Some(u) => sites.get(&(f.resource.as_str(), u)).copied(),
            None => by_address
                .get(f.resource.as_str())
                .and_then(|all| all.first().copied().filter(|first| all.iter().all(|c| c == first))),
        };
        if let Some(calls) = calls {
            f.related.extend(calls.iter().map(|o| Label {
                origin: o.clone(),
                message: "deployed through this module call".into(),
            }));
        }
        // One instance of a `for_each` over a var file's map: the entry that
        // makes it is where a fix for this instance alone belongs.
        let Some(unit) = f.unit else { continue };
        for input in ctx
            .model
            .instance_inputs
            .iter()
            .filter(|i| i.namespace == unit && f.resource.starts_with(&i.prefix))
        {
            f.related.push(Label {
                origin: input.origin.clone(),
                message: format!("this instance comes from {}", input.what),
            });
            if let Some(fix) = &mut f.fix {
                fix.description.push_str(&format!(
                    "; this is one instance of the module call, made by {} (see the related location): changing that entry may be the fix",
                    input.what
                ));
            }
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

#[cfg(test)]
mod tests {
    use super::{codes, is_checked, RULES, SUPPRESSION_CODES};
    use crate::policy::Policy;

    fn pack() -> Policy {
        Policy::embedded().expect("embedded pack")
    }

    #[test]
    fn every_registered_rule_has_its_docs_block_under_the_same_name() {
        let p = pack();
        for rule in RULES {
            let doc = p
                .rule(rule.code())
                .unwrap_or_else(|| panic!("{} has no block in policies/rules.hcl", rule.code()));
            assert_eq!(doc.code, rule.code());
            assert_eq!(doc.name, rule.name(), "{}", rule.code());
            assert!(!doc.what.is_empty() && !doc.fix.is_empty(), "{}", rule.code());
        }
        assert_eq!(p.require_docs(codes()), Ok(()));
    }

    #[test]
    fn every_docs_block_has_a_rule() {
        for doc in &pack().rules {
            let registered = RULES.iter().any(|r| r.code() == doc.code);
            if doc.code.starts_with("KG0") {
                assert!(
                    SUPPRESSION_CODES.contains(&doc.code.as_str()),
                    "{} is not a suppression code",
                    doc.code
                );
            } else {
                assert!(registered, "{} is documented but not in RULES", doc.code);
            }
            assert!(is_checked(&doc.code), "{}", doc.code);
        }
        assert!(!is_checked("KG999"));
    }

    #[test]
    fn codes_are_unique_and_kg901_runs_last() {
        let mut all: Vec<&str> = codes().collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a code is registered twice");
        assert_eq!(RULES.last().map(|r| r.code()), Some("KG901"));
    }

    #[test]
    fn every_platform_service_names_a_registered_rule() {
        for service in &pack().platform_services {
            assert!(
                RULES.iter().any(|r| r.code() == service.rule),
                "platform_service {} names {}, which is not in RULES",
                service.tag,
                service.rule
            );
        }
    }

    /// The rows `| KGnnn | name | severity | … |` of the README's rule table.
    fn readme_rules() -> Vec<(String, String, String)> {
        include_str!("../../README.md")
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.split('|').map(str::trim).collect();
                match cells.as_slice() {
                    ["", code, name, severity, ..] if code.starts_with("KG") && code.len() == 5 => {
                        Some((code.to_string(), name.to_string(), severity.to_string()))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    #[test]
    fn the_readme_rule_table_matches_the_pack() {
        let p = pack();
        let mut readme = readme_rules();
        readme.sort();
        let mut documented: Vec<(String, String, String)> = p
            .rules
            .iter()
            .map(|r| (r.code.clone(), r.name.clone(), r.severity.as_str().to_string()))
            .collect();
        documented.sort();
        assert_eq!(readme, documented);
    }
}
