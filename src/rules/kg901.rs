//! KG901 unresolved-value: a value that decides another rule's verdict could
//! not be evaluated. One note per rule per resource, pointing at the first
//! value that blocked the verdict and saying how to supply it.

use super::{Context, Finding, Fix, Label, Rule, Undecided};

pub const CODE: &str = "KG901";

/// Reports what the rules before it could not decide, so it runs last.
pub struct UnresolvedValue;

impl Rule for UnresolvedValue {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "unresolved-value"
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, undecided: &mut Vec<Undecided>) {
        out.extend(notes(ctx, std::mem::take(undecided)));
    }
}

fn notes(ctx: &Context, undecided: Vec<Undecided>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    // Code kmsguard could not follow at all: whatever it holds is unchecked.
    let mut seen: std::collections::HashSet<(&str, &crate::source::Origin)> = std::collections::HashSet::new();
    for (resource, u) in &ctx.model.unchecked {
        // A module called from several deployments is unchecked once.
        if !seen.insert((u.reason.as_str(), &u.origin)) {
            continue;
        }
        let mut f = ctx.finding(
            CODE,
            resource,
            format!("{resource} is not checked: {}", u.reason),
            Label {
                origin: u.origin.clone(),
                message: "kmsguard does not follow this".into(),
            },
        );
        f.fix = Some(Fix {
            description: "check the referenced code separately, or inline it".into(),
            snippet: None,
            insert_at: None,
        });
        out.push(f);
    }
    // Rules blocked by the same value on the same resource say it once.
    let mut merged: Vec<(Undecided, Vec<&'static str>)> = Vec::new();
    let mut by_key: std::collections::HashMap<(String, crate::source::Origin, String), usize> = std::collections::HashMap::new();
    for u in undecided {
        let Some(first) = u.blockers.first() else { continue };
        let key = (u.resource.clone(), first.origin.clone(), first.reason.clone());
        match by_key.get(&key).and_then(|i| merged.get_mut(*i)) {
            Some((_, rules)) => {
                if !rules.contains(&u.rule) {
                    rules.push(u.rule);
                }
            }
            None => {
                by_key.insert(key, merged.len());
                let rule = u.rule;
                merged.push((u, vec![rule]));
            }
        }
    }
    for (u, rules) in merged {
        let Some(first) = u.blockers.first() else { continue };
        let also = if rules.len() > 1 {
            format!(" (and likewise for {})", rules.get(1..).unwrap_or_default().join(", "))
        } else {
            String::new()
        };
        let message = format!("cannot tell {}{also}: {}", u.question, first.reason);
        let mut f = ctx.finding(
            CODE,
            &u.resource,
            message,
            Label {
                origin: first.origin.clone(),
                message: "this value decides the verdict".into(),
            },
        );
        f.related.extend(u.blockers.iter().skip(1).map(|b| Label {
            origin: b.origin.clone(),
            message: b.reason.clone(),
        }));
        if u.resource_origin != first.origin {
            f.related.push(Label {
                origin: u.resource_origin.clone(),
                message: format!("checked for {}", u.rule),
            });
        }
        f.fix = Some(Fix {
            description: how_to_supply(&first.reason),
            snippet: None,
            insert_at: None,
        });
        out.push(f);
    }
    out
}

fn how_to_supply(reason: &str) -> String {
    if reason.contains("var.") {
        "give the variable a value: a default, terraform.tfvars, *.auto.tfvars, --var-file FILE or --var NAME=VALUE".into()
    } else if reason.contains("only known after apply") || reason.contains("read from Azure") {
        "kmsguard reads code, not Azure: write the value as a literal or pass it in through a variable with a value".into()
    } else if reason.contains("not evaluated by kmsguard") {
        "compute the value in a variable or local that kmsguard can read, or pass it with --var".into()
    } else {
        "make the value a literal, or pass it in through a variable with a value".into()
    }
}
