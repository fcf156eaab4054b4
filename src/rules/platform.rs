//! Shared by KG201, KG202 and KG203: an outbound NSG rule that denies an
//! `AzurePlatform*` service tag, unshadowed by an earlier allow of that tag.

use super::{conditional_note, display_name, Context, Finding, Fix, Label, Rule, Undecided};
use crate::analysis::nsg::{platform_denies, PlatformRuleVerdict};
use crate::model::Protocol;
use crate::policy::PlatformService;

/// A rule that checks the service tags of the pack's `platform_service`
/// entries naming it: the pack, not the code, says which tag and flows.
pub struct PlatformTagRule {
    pub code: &'static str,
    pub name: &'static str,
}

impl Rule for PlatformTagRule {
    fn code(&self) -> &'static str {
        self.code
    }

    fn name(&self) -> &'static str {
        self.name
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, undecided: &mut Vec<Undecided>) {
        for service in ctx
            .policy
            .platform_services
            .iter()
            .filter(|s| s.rule.eq_ignore_ascii_case(self.code))
        {
            check(ctx, self.code, service, out, undecided);
        }
    }
}

fn check(ctx: &Context, code: &'static str, service: &PlatformService, out: &mut Vec<Finding>, notes: &mut Vec<Undecided>) {
    for nsg in &ctx.model.nsgs {
        let name = display_name(&nsg.name, &nsg.address);
        let verdicts = platform_denies(nsg, &service.tag, &service.flows);
        let mut denies = Vec::new();
        for v in verdicts {
            match v {
                PlatformRuleVerdict::Denies(d) => denies.push(d),
                PlatformRuleVerdict::Undecided(rule, blockers) => notes.push(Undecided {
                    rule: code,
                    resource: nsg.address.clone(),
                    question: format!(
                        "whether rule {} of NSG {name} blocks {} traffic",
                        rule.name.known().cloned().unwrap_or_else(|| "(unnamed)".into()),
                        service.title
                    ),
                    blockers,
                    resource_origin: rule.origin.clone(),
                }),
            }
        }
        let Some(first) = denies.first() else { continue };
        let describe = |flows: &[(Protocol, u16)]| {
            flows
                .iter()
                .map(|(p, port)| format!("{} {port}", p.as_str().to_uppercase()))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        let rule_name = first.rule.name.known().cloned().unwrap_or_else(|| "(unnamed)".into());
        let priority = first.rule.priority.known().map(|p| format!(" (priority {p})")).unwrap_or_default();
        let mut f = ctx.finding(
            code,
            &nsg.address,
            format!(
                "NSG {name} blocks {} traffic: rule {rule_name}{priority} denies the {} service tag on {}{}{}",
                service.title,
                service.tag,
                describe(&first.flows),
                conditional_note(&nsg.conditional),
                if nsg.elsewhere {
                    format!(
                        " (the NSG is declared outside this code and its other rules are not in it: only an allow of {} with a lower priority number there would shadow this deny)",
                        service.tag
                    )
                } else {
                    String::new()
                }
            ),
            Label {
                origin: tag_origin(first.rule, &service.tag),
                message: format!("this outbound deny names {}", service.tag),
            },
        );
        f.unit = Some(nsg.namespace);
        for d in denies.iter().skip(1) {
            f.related.push(Label {
                origin: tag_origin(d.rule, &service.tag),
                message: format!("this rule also denies {} on {}", service.tag, describe(&d.flows)),
            });
        }
        f.related.push(Label {
            origin: nsg.origin.clone(),
            message: format!("NSG {name}"),
        });
        f.fix = Some(Fix {
            description: format!(
                "remove the rule or make it an allow; platform traffic to {} is not filtered by denies on Internet or *, so it needs no exception",
                service.tag
            ),
            snippet: None,
                insert_at: None,
        });
        out.push(f);
    }
}

/// Where the rule names the tag, or the rule itself.
fn tag_origin(rule: &crate::model::SecurityRule, tag: &str) -> crate::source::Origin {
    rule.destinations
        .iter()
        .find_map(|d| match d {
            crate::model::Field::Known(m, o) if m.is_tag(tag) => Some(o.clone()),
            _ => None,
        })
        .unwrap_or_else(|| rule.origin.clone())
}
