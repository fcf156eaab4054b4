//! Routes and security rules declared apart from their parent, and how a
//! deployment unit's parents adopt them.

use super::{Dialect, Field, Model, Nsg, Route, RouteTable, SecurityRule, Unresolved};
use crate::source::Origin;

/// A separately declared route or NSG rule waiting for its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Orphan {
    pub child: OrphanChild,
    /// The parent's name, when known and when it may be declared in the unit
    /// (a data source's table never is: it exists already).
    pub parent_name: Option<String>,
    /// The child's resource group, when known.
    pub resource_group: Option<String>,
    /// How the code names the parent (`data.azurerm_route_table.hub`,
    /// `module.hub.route_table_name`, or the name): the stand-in's address.
    pub parent_label: String,
    pub origin: Origin,
    pub dialect: Dialect,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrphanChild {
    Route(Route),
    Rule(SecurityRule),
}

impl Model {
    /// Gives each orphan to the one parent of its name (and resource group,
    /// where both name one) in the unit. Two parents of one name are never
    /// merged: each is marked incomplete instead. A parent not declared in
    /// the unit gets a stand-in ([`RouteTable::elsewhere`], [`Nsg::elsewhere`]).
    pub fn adopt_orphans(&mut self) {
        let same_group = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        let named = |n: &Field<String>, want: &Option<String>| match (n.known(), want) {
            (Some(n), Some(w)) => n.eq_ignore_ascii_case(w),
            _ => false,
        };
        for o in std::mem::take(&mut self.orphans) {
            let stand_in_name = match &o.parent_name {
                Some(n) => Field::Known(n.clone(), o.origin.clone()),
                None => Field::unknown(Unresolved {
                    reason: format!("{} is not known here", o.parent_label),
                    origin: o.origin.clone(),
                }),
            };
            match o.child.clone() {
                OrphanChild::Route(route) => {
                    let found: Vec<usize> = (0..self.route_tables.len())
                        .filter(|i| {
                            self.route_tables.get(*i).is_some_and(|t| {
                                !t.elsewhere && named(&t.name, &o.parent_name) && same_group(&t.resource_group, &o.resource_group)
                            })
                        })
                        .collect();
                    let from_module = module_members(&o, self.route_tables.iter().map(|t| (t.address.as_str(), t.elsewhere)));
                    if !from_module.is_empty() {
                        let why = from_module_output(route.resource.as_deref(), "route table", &o);
                        for i in from_module {
                            if let Some(t) = self.route_tables.get_mut(i) {
                                t.incomplete.push(why.clone());
                            }
                        }
                        continue;
                    }
                    match found.as_slice() {
                        [one] => {
                            if let Some(t) = self.route_tables.get_mut(*one) {
                                t.routes.push(route);
                            }
                        }
                        [] => match self.route_tables.iter_mut().find(|t| t.elsewhere && t.address == o.parent_label) {
                            Some(t) => t.routes.push(route),
                            None => {
                                let mut t = RouteTable::elsewhere(o.parent_label.clone(), stand_in_name, o.origin.clone(), o.dialect);
                                t.resource_group = o.resource_group.clone();
                                t.routes.push(route);
                                self.route_tables.push(t);
                            }
                        },
                        several => {
                            let why = ambiguous(route.resource.as_deref(), "route table", &o, several.len());
                            for i in several {
                                if let Some(t) = self.route_tables.get_mut(*i) {
                                    t.incomplete.push(why.clone());
                                }
                            }
                        }
                    }
                }
                OrphanChild::Rule(rule) => {
                    let found: Vec<usize> = (0..self.nsgs.len())
                        .filter(|i| {
                            self.nsgs.get(*i).is_some_and(|n| {
                                !n.elsewhere && named(&n.name, &o.parent_name) && same_group(&n.resource_group, &o.resource_group)
                            })
                        })
                        .collect();
                    let from_module = module_members(&o, self.nsgs.iter().map(|n| (n.address.as_str(), n.elsewhere)));
                    if !from_module.is_empty() {
                        let why = from_module_output(rule.resource.as_deref(), "NSG", &o);
                        for i in from_module {
                            if let Some(n) = self.nsgs.get_mut(i) {
                                n.incomplete.push(why.clone());
                            }
                        }
                        continue;
                    }
                    match found.as_slice() {
                        [one] => {
                            if let Some(n) = self.nsgs.get_mut(*one) {
                                n.rules.push(rule);
                            }
                        }
                        [] => match self.nsgs.iter_mut().find(|n| n.elsewhere && n.address == o.parent_label) {
                            Some(n) => n.rules.push(rule),
                            None => {
                                let mut n = Nsg::elsewhere(o.parent_label.clone(), stand_in_name, o.origin.clone(), o.dialect);
                                n.resource_group = o.resource_group.clone();
                                n.rules.push(rule);
                                self.nsgs.push(n);
                            }
                        },
                        several => {
                            let why = ambiguous(rule.resource.as_deref(), "NSG", &o, several.len());
                            for i in several {
                                if let Some(n) = self.nsgs.get_mut(*i) {
                                    n.incomplete.push(why.clone());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The parents a module declares itself, when an orphan's parent is that
/// module's output (`module.network.route_table_name`) and kmsguard could
/// not follow it: the child may belong to any of them.
///
/// The call may be indexed by a key kmsguard could not evaluate
/// (`module.rt[each.value.hub].name` under an unknown for_each): then every
/// instance's parents are candidates. A registry module read from its
/// inputs is itself the parent (its table's address is the call's,
/// `module.rt["hub"]`).
fn module_members<'a>(o: &Orphan, items: impl Iterator<Item = (&'a str, bool)>) -> Vec<usize> {
    if o.parent_name.is_some() {
        return Vec::new();
    }
    let Some((call, _output)) = o.parent_label.rsplit_once('.') else {
        return Vec::new();
    };
    if !(call.starts_with("module.") || call.contains(".module.")) {
        return Vec::new();
    }
    // The call's own path, without the instance key written after its name.
    let last = call.rfind("module.").unwrap_or(0);
    let call = match call.get(last..).and_then(|tail| tail.find('[')) {
        Some(i) => call.get(..last + i).unwrap_or(call),
        None => call,
    };
    let member = |a: &str| {
        let Some(rest) = a.strip_prefix(call) else { return false };
        // Past an instance key, if any.
        let rest = match rest.strip_prefix('[') {
            Some(r) => match r.find(']') {
                Some(i) => r.get(i + 1..).unwrap_or_default(),
                None => return false,
            },
            None => rest,
        };
        rest.is_empty() || rest.strip_prefix('.').is_some_and(|r| !r.is_empty() && !r.starts_with("module."))
    };
    items
        .enumerate()
        .filter(|(_, (a, elsewhere))| !elsewhere && member(a))
        .map(|(i, _)| i)
        .collect()
}

fn from_module_output(child: Option<&str>, what: &str, o: &Orphan) -> Unresolved {
    Unresolved {
        reason: format!(
            "{} may belong to this {what}: it names its parent by {}, a module output kmsguard could not follow",
            child.unwrap_or("a separately declared child"),
            o.parent_label
        ),
        origin: o.origin.clone(),
    }
}

fn ambiguous(child: Option<&str>, what: &str, o: &Orphan, count: usize) -> Unresolved {
    Unresolved {
        reason: format!(
            "{} may belong to this {what}: {count} {what}s are named {} and its resource group does not tell them apart",
            child.unwrap_or("a separately declared child"),
            o.parent_name.as_deref().unwrap_or(&o.parent_label)
        ),
        origin: o.origin.clone(),
    }
}
