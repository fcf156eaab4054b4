//! Folds the findings of many instances of one resource into one.
//!
//! A resource with `count = 99999` whose next hop is unknown would report
//! the same note 99,999 times, all pointing at the same line: gigabytes of
//! reports, and a pull request summary no one can read. Instances of one
//! resource block are recognised by their addresses, which differ only in
//! the trailing instance key (`azurerm_route_table.t0[3]`,
//! `azurerm_route_table.t0["spoke"]`, Bicep's `rts[3]`), and by their
//! findings, which share the rule, the severity, the place in the code and
//! the message once the instance key is taken out of it.

use std::collections::HashMap;

use crate::limits::thousands;
use crate::rules::Finding;
use crate::source::Origin;

/// The largest group of instance findings reported one by one.
pub const FOLD_ABOVE: usize = 20;

/// One finding for each group of findings that differ only in the instance
/// they are about, naming the instances (`azurerm_route_table.t0[0..99998]
/// (99,999 instances)` for contiguous numbers, `x[…] (3 instances)`
/// otherwise) and keeping the first instance's message, fix and related
/// places. Findings keep their order, a group standing where its first
/// finding stood; a finding about no instance, or alone in its group, is
/// returned as it was.
///
/// Only groups of more than [`FOLD_ABOVE`] findings are folded: a
/// `for_each` over a few spokes keeps one finding per spoke, each naming
/// its own route table, while 99,999 instances of one block are one line.
pub fn fold_instances(findings: Vec<Finding>) -> Vec<Finding> {
    fold_above(findings, FOLD_ABOVE)
}

/// More findings than this of one rule at one place in the code are one
/// finding naming how many there were, even when their addresses carry no
/// instance key (ARM copy loops name each copy by its evaluated name).
pub const CAP_PER_PLACE: usize = 1_000;

/// Folds what [`fold_instances`] cannot recognise as instances: past
/// [`CAP_PER_PLACE`] findings of one rule, severity and suppression at one
/// place, the first stands for all of them and names the count.
pub fn cap_per_place(findings: Vec<Finding>) -> Vec<Finding> {
    let mut counts: HashMap<(&'static str, String, Origin, String), usize> = HashMap::new();
    let key = |f: &Finding| {
        (
            f.code,
            format!("{:?}", f.severity),
            f.primary.origin.clone(),
            format!("{:?}", f.suppressed),
        )
    };
    for f in &findings {
        *counts.entry(key(f)).or_default() += 1;
    }
    if counts.values().all(|n| *n <= CAP_PER_PLACE) {
        return findings;
    }
    let mut seen: HashMap<(&'static str, String, Origin, String), bool> = HashMap::new();
    let mut out = Vec::new();
    for mut f in findings {
        let k = key(&f);
        let n = counts.get(&k).copied().unwrap_or(1);
        if n <= CAP_PER_PLACE {
            out.push(f);
            continue;
        }
        if seen.insert(k, true).is_none() {
            f.resource = format!(
                "{} and {} more from this line ({} findings)",
                f.resource,
                thousands(n as u64 - 1),
                thousands(n as u64)
            );
            out.push(f);
        }
    }
    out
}

/// [`fold_instances`], folding groups of more than `above` findings.
fn fold_above(findings: Vec<Finding>, above: usize) -> Vec<Finding> {
    // Groups by their message with the key taken out (the template)…
    let mut groups: HashMap<GroupKey, usize> = HashMap::new();
    // …and by all but the message, for the fallback below.
    let mut candidates: HashMap<GroupKey, Vec<usize>> = HashMap::new();
    // Each output slot: the first finding, its template and the keys of its group.
    let mut slots: Vec<(Finding, String, Vec<Key>, Vec<Finding>)> = Vec::with_capacity(findings.len());
    for f in findings {
        let Some((base, key)) = split_instance(&f.resource) else {
            slots.push((f, String::new(), Vec::new(), Vec::new()));
            continue;
        };
        let mut group = GroupKey {
            code: f.code,
            severity: format!("{:?}", f.severity),
            origin: f.primary.origin.clone(),
            base: base.to_string(),
            message: String::new(),
            suppressed: format!("{:?}", f.suppressed),
            // Instances of one block in two root modules are two groups.
            unit: f.unit,
        };
        let template = without_key(&f.message, &key.text());
        let others = candidates.entry(group.clone()).or_default();
        group.message = template.clone();
        // A key that also appears in the unchanging part of the message
        // (key 99 and `20.118.99.224`) gives another template: such a
        // finding still belongs to a group whose template, filled in with
        // its key, is its message. A few groups are tried, no more, so that
        // many distinct findings of one block stay linear.
        let found = groups.get(&group).copied().or_else(|| {
            let text = key.text();
            others
                .iter()
                .take(16)
                .copied()
                .find(|&slot| slots.get(slot).is_some_and(|(_, t, _, _)| t.replace('\u{0}', &text) == f.message))
        });
        match found {
            Some(slot) => {
                if let Some((_, _, keys, members)) = slots.get_mut(slot) {
                    keys.push(key);
                    members.push(f);
                }
            }
            None => {
                groups.insert(group, slots.len());
                others.push(slots.len());
                slots.push((f, template, vec![key], Vec::new()));
            }
        }
    }
    let mut out = Vec::with_capacity(slots.len());
    for (mut f, _, keys, members) in slots {
        if keys.len() > above {
            if let Some((base, _)) = split_instance(&f.resource) {
                f.resource = format!("{base}{} ({} instances)", range(&keys), thousands(keys.len() as u64));
            }
            out.push(f);
        } else {
            out.push(f);
            out.extend(members);
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    code: &'static str,
    severity: String,
    origin: Origin,
    base: String,
    message: String,
    suppressed: String,
    unit: Option<u32>,
}

/// An instance key as the address writes it.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Number(u64),
    /// The text between the quotes of `["…"]`.
    String(String),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Number(n) => n.to_string(),
            Key::String(s) => s.clone(),
        }
    }
}

/// `x[3]` → (`x`, 3); `x["a"]` → (`x`, "a"); anything else → None.
fn split_instance(address: &str) -> Option<(&str, Key)> {
    let inner = address.strip_suffix(']')?;
    if let Some(quoted) = inner.strip_suffix('"') {
        let open = quoted.rfind("[\"")?;
        let base = quoted.get(..open)?;
        let key = quoted.get(open + 2..)?;
        return (!base.is_empty()).then(|| (base, Key::String(key.to_string())));
    }
    let open = inner.rfind('[')?;
    let (base, digits) = (inner.get(..open)?, inner.get(open + 1..)?);
    if base.is_empty() || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((base, Key::Number(digits.parse().ok()?)))
}

/// `message` with each whole-word occurrence of `key` taken out: `rt-7`
/// and `rt-8` become the same, while the `7` inside `17` or `7x` is left
/// alone. A key that also appears in a part of the message that does not
/// change with the instance (`10.0.7.4` in every message) only keeps that
/// instance apart, unfolded: it never folds findings that say different
/// things.
fn without_key(message: &str, key: &str) -> String {
    if key.is_empty() {
        return message.to_string();
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(key) {
        let (head, tail) = rest.split_at(at);
        let prev = head.chars().next_back().or(before);
        let after = tail.get(key.len()..).unwrap_or_default();
        out.push_str(head);
        if !word(prev) && !word(after.chars().next()) {
            out.push('\u{0}');
        } else {
            out.push_str(key);
        }
        before = key.chars().next_back();
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `[0..99998]` for contiguous numbers, `[…]` otherwise.
fn range(keys: &[Key]) -> String {
    let mut numbers: Vec<u64> = keys
        .iter()
        .filter_map(|k| if let Key::Number(n) = k { Some(*n) } else { None })
        .collect();
    if numbers.len() == keys.len() {
        numbers.sort_unstable();
        numbers.dedup();
        if let (Some(first), Some(last)) = (numbers.first(), numbers.last()) {
            if numbers.len() == keys.len() && last - first + 1 == keys.len() as u64 {
                return format!("[{first}..{last}]");
            }
        }
    }
    "[…]".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests fold any group of two or more; the threshold has its own test.
    fn fold_instances(findings: Vec<Finding>) -> Vec<Finding> {
        super::fold_above(findings, 1)
    }

    #[test]
    fn past_the_cap_findings_of_one_place_are_one() {
        let arm = |i: usize| {
            let mut f = note(i);
            f.resource = format!("Microsoft.Network/routeTables/rt-{i}");
            f
        };
        let under: Vec<Finding> = (0..CAP_PER_PLACE).map(arm).collect();
        assert_eq!(cap_per_place(under).len(), CAP_PER_PLACE);
        let mut over: Vec<Finding> = (0..=CAP_PER_PLACE).map(arm).collect();
        over.push(finding("KG101", "other", "elsewhere", 0..1));
        let capped = cap_per_place(over);
        assert_eq!(capped.len(), 2);
        assert_eq!(
            capped[0].resource,
            "Microsoft.Network/routeTables/rt-0 and 1,000 more from this line (1,001 findings)"
        );
        assert_eq!(capped[1].resource, "other");
    }

    #[test]
    fn a_few_instances_keep_one_finding_each() {
        let few: Vec<Finding> = (0..FOLD_ABOVE).map(note).collect();
        assert_eq!(super::fold_instances(few).len(), FOLD_ABOVE);
        let many: Vec<Finding> = (0..=FOLD_ABOVE).map(note).collect();
        assert_eq!(super::fold_instances(many).len(), 1);
    }
    use crate::policy::Severity;
    use crate::rules::{Fix, Label, Suppression};
    use crate::source::FileId;

    fn finding(code: &'static str, resource: &str, message: &str, span: std::ops::Range<usize>) -> Finding {
        Finding {
            code,
            severity: Severity::Note,
            message: message.to_string(),
            primary: Label {
                origin: Origin::new(FileId(0), span),
                message: String::new(),
            },
            related: Vec::new(),
            resource: resource.to_string(),
            fix: None,
            suppressed: None,
            unit: None,
        }
    }

    fn note(i: usize) -> Finding {
        finding(
            "KG901",
            &format!("azurerm_route_table.t0[{i}]"),
            &format!("cannot tell where route table rt-{i} sends KMS traffic (20.118.99.224, 40.83.235.53): var.hop has no value"),
            100..120,
        )
    }

    #[test]
    fn instances_of_one_block_fold_into_one_finding_naming_the_count() {
        let mut first = note(0);
        first.fix = Some(Fix {
            description: "give var.hop a value".into(),
            snippet: None,
            insert_at: None,
        });
        let mut all = vec![first.clone()];
        all.extend((1..99_999).map(note));
        let folded = fold_instances(all);
        assert_eq!(folded.len(), 1);
        assert_eq!(folded[0].resource, "azurerm_route_table.t0[0..99998] (99,999 instances)");
        assert_eq!(folded[0].message, first.message, "the first instance's message");
        assert_eq!(folded[0].fix, first.fix, "and its fix");
    }

    #[test]
    fn string_keys_and_gaps_fold_without_a_range() {
        let keyed = |k: &str| {
            finding(
                "KG101",
                &format!("module.hub.azurerm_route_table.spoke[\"{k}\"]"),
                &format!("route table rt-{k} sends KMS traffic to next hop None"),
                5..9,
            )
        };
        let folded = fold_instances(vec![keyed("west"), keyed("east"), keyed("north")]);
        assert_eq!(folded.len(), 1);
        assert_eq!(folded[0].resource, "module.hub.azurerm_route_table.spoke[…] (3 instances)");
        let folded = fold_instances(vec![note(0), note(2), note(3)]);
        assert_eq!(folded[0].resource, "azurerm_route_table.t0[…] (3 instances)");
    }

    #[test]
    fn findings_that_differ_in_more_than_the_instance_stay_apart() {
        let other_rule = finding("KG101", "azurerm_route_table.t0[1]", &note(1).message, 100..120);
        let other_place = finding("KG901", "azurerm_route_table.t0[2]", &note(2).message, 200..220);
        let other_block = finding(
            "KG901",
            "azurerm_route_table.t1[3]",
            &note(3).message.replace("rt-3", "rt-x3"),
            100..120,
        );
        let other_message = finding(
            "KG901",
            "azurerm_route_table.t0[4]",
            "cannot tell where route table rt-4 sends it",
            100..120,
        );
        let mut suppressed = note(5);
        suppressed.suppressed = Some(Suppression {
            kind: "inSource",
            justification: "accepted".into(),
        });
        let plain = finding("KG901", "azurerm_route_table.hub", "x", 0..1);
        let input = vec![
            note(0),
            other_rule.clone(),
            other_place.clone(),
            other_block.clone(),
            other_message.clone(),
            suppressed.clone(),
            plain.clone(),
            note(6),
        ];
        let folded = fold_instances(input);
        let mut first = note(0);
        first.resource = "azurerm_route_table.t0[…] (2 instances)".into();
        assert_eq!(
            folded,
            vec![first, other_rule, other_place, other_block, other_message, suppressed, plain],
            "in order, the group where its first finding was"
        );
    }

    #[test]
    fn the_key_is_taken_out_of_the_message_only_as_a_whole_word() {
        assert_eq!(without_key("rt-7 via 10.0.7.4 and 17", "7"), "rt-\u{0} via 10.0.\u{0}.4 and 17");
        assert_eq!(without_key("rt-77x 7", "7"), "rt-77x \u{0}");
        assert_eq!(without_key("spoke-a is a table", "a"), "spoke-\u{0} is \u{0} table");
        assert_eq!(without_key("no key here", ""), "no key here");
    }

    #[test]
    fn addresses_split_at_their_trailing_instance_key_only() {
        assert_eq!(split_instance("a.b[12]"), Some(("a.b", Key::Number(12))));
        assert_eq!(split_instance("module.m[0].a.b[3]"), Some(("module.m[0].a.b", Key::Number(3))));
        assert_eq!(split_instance("a.b[\"x[1]\"]"), Some(("a.b", Key::String("x[1]".into()))));
        assert_eq!(split_instance("a.b"), None);
        assert_eq!(split_instance("a.b[]"), None);
        assert_eq!(split_instance("a.b[x]"), None);
        assert_eq!(split_instance("[3]"), None);
        assert_eq!(split_instance("a.b[99999999999999999999999]"), None);
    }
}
