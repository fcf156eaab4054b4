//! The resources of one Bicep file, lowered through the REST-shape
//! lowering shared with ARM: route tables, NSGs, networks and their
//! subnets and peerings, gateways, firewalls and their policies, and the
//! routes and rules declared as child resources.

use kmsguard_bicep_syntax::{ArrayItemKind, Expr, ExprKind, ObjectMemberKind, ResourceDecl, StatementKind};

use super::eval::{Evaluator, Scope};
use super::{instances, instances_in, property, split_type, BicepFile, Instance};
use crate::ingest::azure::{self, ChildResource, Node, NodeKind, Resource};
use crate::ingest::registry::{self, Resolution};
use crate::ingest::value::Val;
use crate::model::{Dialect, Field, Link, Model, Unresolved};
use crate::source::{indent_at, line_start, Origin};

/// One instance of a resource declaration, as [`Walker::declared`] reads it.
struct Declared<'d> {
    decl: &'d ResourceDecl,
    inst: &'d Instance<'d>,
    span: std::ops::Range<usize>,
    /// The type, with a nested child's parent type before it, in lower case.
    lower_type: String,
    /// Whether the declaration sits inside its parent's body.
    nested: bool,
    address: String,
    name: Val,
    parent_name: Option<Val>,
    parent_address: Option<String>,
}

pub(super) struct Walker<'f> {
    pub(super) f: &'f BicepFile,
    pub(super) model: Model,
    pub(super) deferred: azure::Deferred,
    pub(super) prefix: String,
    pub(super) conditional: Option<Unresolved>,
}

impl Walker<'_> {
    pub(super) fn origin(&self, span: &std::ops::Range<usize>) -> Origin {
        Origin::new(self.f.file, span.clone())
    }

    pub(super) fn resources(&mut self, ev: &Evaluator) {
        let f = self.f;
        for s in &f.program.statements {
            if let StatementKind::Resource(r) = &s.kind {
                self.resource(ev, r, s.span.clone(), None, &Scope::default());
            }
        }
    }

    /// `parent` is the enclosing resource's type, name and address.
    fn resource(
        &mut self,
        ev: &Evaluator,
        r: &ResourceDecl,
        span: std::ops::Range<usize>,
        parent: Option<(&str, &Val, &str)>,
        outer: &Scope,
    ) {
        let (ty, _) = split_type(&r.resource_type);
        let full_type = match parent {
            Some((pt, _, _)) if !ty.contains('.') => format!("{pt}/{ty}"),
            _ => ty.clone(),
        };
        let insts = instances_in(ev, &r.value, self.f.file, &self.conditional, outer);
        // A resource written once is bounded by the file's size and always
        // lowered, so that spending the budget on one loop cannot hide the
        // resources after it.
        let looped = matches!(r.value.kind, ExprKind::For { .. });
        for inst in insts {
            // Charged by the size of the body each instance copies: a loop
            // over a large literal body would otherwise cost one step a copy.
            if let Err(reason) = ev
                .budget
                .expand_instance(inst.body.span.len())
                .map_err(|spent| spent.to_string())
                .or_else(|r| if looped { Err(r) } else { Ok(()) })
            {
                self.model.unchecked.push((
                    format!("{}{}", self.prefix, r.name.name),
                    Unresolved {
                        reason,
                        origin: self.origin(&r.name.span),
                    },
                ));
                break;
            }
            let d = self.declared(ev, r, &span, parent, &full_type, &inst);
            if !r.existing {
                self.lower_declared(ev, &d);
            }
            // Children declared inside the body.
            if let ExprKind::Object(members) = &inst.body.kind {
                for m in members {
                    if let ObjectMemberKind::Resource { decl, .. } = &m.kind {
                        self.resource(ev, decl, m.span.clone(), Some((&full_type, &d.name, &d.address)), &inst.scope);
                    }
                }
            }
        }
    }

    /// One instance of a resource declaration with its name and its
    /// parent's, evaluated.
    fn declared<'d>(
        &self,
        ev: &Evaluator,
        r: &'d ResourceDecl,
        span: &std::ops::Range<usize>,
        parent: Option<(&str, &Val, &str)>,
        full_type: &str,
        inst: &'d Instance<'d>,
    ) -> Declared<'d> {
        let name = property(inst.body, "name").map(|n| ev.eval(n, &inst.scope)).unwrap_or(Val::Null);
        // `parent: sym` names the parent explicitly.
        let parent_name = match property(inst.body, "parent") {
            Some(p) => match ev.eval(p, &inst.scope) {
                Val::Object(o) => o.get("name").cloned(),
                _ => None,
            },
            None => parent.map(|(_, n, _)| n.clone()),
        };
        let parent_address = match property(inst.body, "parent") {
            Some(Expr {
                kind: ExprKind::Ident(id), ..
            }) => Some(format!("{}{}", self.prefix, id.name)),
            Some(_) => None,
            None => parent.map(|(_, _, a)| a.to_string()),
        };
        Declared {
            decl: r,
            inst,
            span: span.clone(),
            lower_type: full_type.to_ascii_lowercase(),
            nested: parent.is_some(),
            address: format!("{}{}{}", self.prefix, r.name.name, inst.suffix),
            name,
            parent_name,
            parent_address,
        }
    }

    /// Lowers a declared resource by its type; a type no rule reads is left.
    fn lower_declared(&mut self, ev: &Evaluator, d: &Declared) {
        let lower = d.lower_type.as_str();
        // A nested child may give its type relative to its parent's.
        let child = |full: &str, short: &str| lower.ends_with(full) || (d.nested && lower == short);
        let is_child_route = lower.ends_with("routetables/routes") || (d.parent_name.is_some() && lower == "routes");
        let is_child_rule = lower.ends_with("networksecuritygroups/securityrules") || (d.parent_name.is_some() && lower == "securityrules");
        match lower {
            "microsoft.network/routetables" | "microsoft.network/networksecuritygroups" => self.table_or_nsg(ev, d),
            "microsoft.network/virtualnetworkgateways" => {
                let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
                let name_field = self.name_field(d.inst.body, &d.name);
                if let Some(g) = azure::gateway(&body, d.address.clone(), name_field, self.origin(&d.decl.name.span)) {
                    self.model.gateways.push(g);
                }
            }
            "microsoft.network/azurefirewalls" => self.firewall(ev, d),
            "microsoft.network/firewallpolicies" => {
                let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
                let name_field = self.name_field(d.inst.body, &d.name);
                self.deferred
                    .policies
                    .push(azure::firewall_policy(&body, d.address.clone(), name_field));
            }
            _ if child("firewallpolicies/rulecollectiongroups", "rulecollectiongroups") => self.rule_collection_group(ev, d),
            "microsoft.network/virtualnetworks" => {
                let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
                let name_field = self.name_field(d.inst.body, &d.name);
                self.model.subnets.extend(azure::vnet_subnets(&body, &d.address));
                self.model.peerings.extend(azure::vnet_peerings(&body, &d.address));
                self.model
                    .vnets
                    .push(azure::vnet(d.address.clone(), name_field, self.origin(&d.decl.name.span)));
            }
            _ if child("virtualnetworks/subnets", "subnets") => {
                let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
                let vnet = self.parent_vnet(d);
                self.model.subnets.push(azure::subnet(&body, d.address.clone(), vnet));
            }
            _ if child("virtualnetworks/virtualnetworkpeerings", "virtualnetworkpeerings") => {
                let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
                let vnet = self.parent_vnet(d).or_else(|| {
                    d.name.to_tf_string().and_then(|n| {
                        n.split_once('/')
                            .map(|(v, _)| Link::Id(Field::Known(v.to_string(), self.origin(&d.span))))
                    })
                });
                self.model.peerings.push(azure::peering(&body, d.address.clone(), vnet));
            }
            _ if is_child_route || is_child_rule => self.child_route_or_rule(ev, d, is_child_route),
            _ => {}
        }
    }

    /// A child names its network by the parent's name, as a gateway's
    /// subnet id does, so both find the same network.
    fn parent_vnet(&self, d: &Declared) -> Option<Link> {
        match d.parent_name.as_ref().and_then(Val::to_tf_string) {
            Some(n) => Some(Link::Id(Field::Known(n, self.origin(&d.span)))),
            None => d.parent_address.clone().map(|a| Link::Address(a, self.origin(&d.span), 0)),
        }
    }

    /// A route table or NSG with the routes or rules written in its body.
    fn table_or_nsg(&mut self, ev: &Evaluator, d: &Declared) {
        let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
        let name_field = self.name_field(d.inst.body, &d.name);
        let res = Resource {
            address: d.address.clone(),
            name: name_field,
            body,
            origin: self.origin(&d.decl.name.span),
            conditional: d.inst.conditional.clone(),
            dialect: Dialect::Bicep,
            authoring: self.authoring(d.inst.body, &d.decl.name.name),
        };
        if d.lower_type.ends_with("routetables") {
            let mut table = azure::route_table(res);
            for route in &mut table.routes {
                route.next_hop_firewall = route.next_hop_ip.as_ref().and_then(|ip| self.firewall_ref(ev, ip.origin()));
            }
            self.model.route_tables.push(table);
        } else {
            self.model.nsgs.push(azure::nsg(res));
        }
    }

    /// An Azure Firewall, with the policy it names linked once every
    /// policy of the deployment is known.
    fn firewall(&mut self, ev: &Evaluator, d: &Declared) {
        let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
        let name_field = self.name_field(d.inst.body, &d.name);
        let (fw, policy) = azure::firewall(&body, d.address.clone(), name_field, self.origin(&d.decl.name.span));
        // `firewallPolicy: { id: policy.id }` names the policy's symbol, whatever its name evaluates to.
        let policy = match policy {
            Some(Link::Id(id)) => Some(
                self.symbol_in(ev, id.origin(), "Microsoft.Network/firewallPolicies", ".id")
                    .unwrap_or(Link::Id(id)),
            ),
            other => other,
        };
        if let Some(p) = policy {
            self.deferred.firewall_policies.push((d.address.clone(), p));
        }
        self.model.firewalls.push(fw);
    }

    /// A firewall policy's rule collection group, attached to its policy
    /// (by parent, or by the older "policy/group" name) once all are known.
    fn rule_collection_group(&mut self, ev: &Evaluator, d: &Declared) {
        let body = self.node(ev, d.inst.body, &d.inst.scope, 0);
        let parent_name = d
            .parent_name
            .as_ref()
            .and_then(Val::to_tf_string)
            .or_else(|| d.name.to_tf_string().and_then(|n| n.split_once('/').map(|(p, _)| p.to_string())));
        self.deferred.groups.push(azure::rule_collection_group(
            &body,
            d.parent_address.clone(),
            parent_name,
            self.origin(&d.span),
        ));
    }

    /// A route or security rule declared as a child resource: attached to
    /// its table or NSG at the deployment's root, wherever that is declared.
    fn child_route_or_rule(&mut self, ev: &Evaluator, d: &Declared, is_route: bool) {
        let (parent_val, own) = match (&d.parent_name, d.name.to_tf_string()) {
            (Some(p), Some(n)) => (p.clone(), Val::String(n)),
            // The older form names the child "table/route".
            (None, Some(n)) => match n.rsplit_once('/') {
                Some((p, c)) => (Val::String(p.into()), Val::String(c.into())),
                None => (Val::unknown(format!("{n} does not name its parent")), Val::String(n)),
            },
            (_, None) => (d.parent_name.clone().unwrap_or(Val::Null), d.name.clone()),
        };
        let mut node = self.node(ev, d.inst.body, &d.inst.scope, 0);
        let next_hop_firewall = node
            .get("properties")
            .and_then(|p| p.present("nextHopIpAddress"))
            .and_then(|ip| self.firewall_ref(ev, &ip.origin));
        if let NodeKind::Object(props) = &mut node.kind {
            props.retain(|(k, _)| !k.eq_ignore_ascii_case("name"));
            let o = property(d.inst.body, "name")
                .map(|e| self.origin(&e.span))
                .unwrap_or_else(|| self.origin(&d.span));
            props.push(("name".into(), Node::value(own, o)));
        }
        self.deferred.children.push(ChildResource {
            parent_type: if is_route { "route table" } else { "NSG" },
            parent_name: parent_val,
            parent_address: d.parent_address.clone(),
            is_route,
            address: d.address.clone(),
            node,
            origin: self.origin(&d.span),
            dialect: Dialect::Bicep,
            next_hop_firewall,
            conditional: d.inst.conditional.clone(),
        });
    }

    /// `fw.properties.ipConfigurations[0].properties.privateIPAddress`
    /// (possibly inside a condition): a next hop read from a firewall this
    /// file declares.
    fn firewall_ref(&self, ev: &Evaluator, at: &Origin) -> Option<Link> {
        let text = self.f.text.get(at.span())?;
        if text.contains(".outputs.privateIp") {
            return self.avm_firewall_in(at);
        }
        if !text.contains("privateIPAddress") {
            return None;
        }
        self.symbol_in(ev, at, "Microsoft.Network/azureFirewalls", ".properties.ipConfigurations")
    }

    /// `fw.outputs.privateIp` where `fw` is a call of the AVM firewall
    /// module in this file: the one firewall module symbol the expression reads.
    fn avm_firewall_in(&self, at: &Origin) -> Option<Link> {
        if at.file != self.f.file {
            return None;
        }
        let text = self.f.text.get(at.span())?;
        let cat = registry::catalogue();
        let mut found: Vec<&str> = Vec::new();
        for s in &self.f.program.statements {
            let StatementKind::Module(m) = &s.kind else { continue };
            let is_firewall = m.path.as_literal_string().is_some_and(
                |p| matches!(cat.bicep(&p), Some(Resolution::Mapped { module, .. }) if module.produces == registry::Produces::Firewall),
            );
            let name = m.name.name.as_str();
            let reads = text.match_indices(&format!("{name}.outputs.privateIp")).any(|(pos, _)| {
                text.get(..pos)
                    .and_then(|b| b.chars().last())
                    .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
            });
            if is_firewall && reads && !found.contains(&name) {
                found.push(name);
            }
        }
        match found.as_slice() {
            [one] => Some(Link::Address(format!("{}{one}", self.prefix), at.clone(), 0)),
            _ => None,
        }
    }

    /// The one resource symbol of type `ty` the expression at `at` reads as
    /// `symbol` + `suffix`, as a link to its address.
    fn symbol_in(&self, ev: &Evaluator, at: &Origin, ty: &str, suffix: &str) -> Option<Link> {
        if at.file != self.f.file {
            return None;
        }
        let text = self.f.text.get(at.span())?;
        let mut found: Vec<&str> = Vec::new();
        for (pos, _) in text.match_indices(suffix) {
            let before = text.get(..pos)?;
            let start = before
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map(|i| i + 1)
                .unwrap_or(0);
            let ident = before.get(start..)?;
            if ev.resources.get(ident).is_some_and(|s| s.ty.eq_ignore_ascii_case(ty)) && !found.contains(&ident) {
                found.push(ident);
            }
        }
        match found.as_slice() {
            [one] => Some(Link::Address(format!("{}{one}", self.prefix), at.clone(), 0)),
            _ => None,
        }
    }

    fn name_field(&self, body: &Expr, name: &Val) -> Field<String> {
        let o = property(body, "name")
            .map(|e| self.origin(&e.span))
            .unwrap_or_else(|| self.origin(&body.span));
        match name {
            Val::Unknown(r) => Field::unknown(Unresolved {
                reason: r.to_string(),
                origin: o,
            }),
            v => match v.to_tf_string() {
                Some(s) => Field::Known(s, o),
                None => Field::unknown(Unresolved {
                    reason: "the name is not a string".into(),
                    origin: o,
                }),
            },
        }
    }

    /// Evaluates a resource body into a [`Node`], keeping a place per property
    /// written out in the source and expanding `[for …]` loops element by element.
    pub(super) fn node(&self, ev: &Evaluator, e: &Expr, scope: &Scope, depth: usize) -> Node {
        let origin = self.origin(&e.span);
        if depth > 64 {
            return Node::value(Val::unknown("the resource nests too deeply to evaluate"), origin);
        }
        match &e.kind {
            ExprKind::Object(members) => {
                let mut props = Vec::new();
                for m in members {
                    match &m.kind {
                        ObjectMemberKind::Property { key, value } => {
                            if let Some(k) = ev.key(key, scope, 0) {
                                props.push((k, self.node(ev, value, scope, depth + 1)));
                            }
                        }
                        ObjectMemberKind::Spread(v) => {
                            if let Val::Object(o) = ev.eval(v, scope) {
                                let so = self.origin(&v.span);
                                props.extend(o.into_iter().map(|(k, v)| (k, Node::value(v, so.clone()))));
                            }
                        }
                        ObjectMemberKind::Resource { .. } => {}
                    }
                }
                Node {
                    kind: NodeKind::Object(props),
                    origin,
                }
            }
            ExprKind::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    match &i.kind {
                        ArrayItemKind::Value(v) => out.push(self.node(ev, v, scope, depth + 1)),
                        ArrayItemKind::Spread(v) => match ev.eval(v, scope) {
                            Val::List(l) => out.extend(l.into_iter().map(|x| Node::value(x, self.origin(&v.span)))),
                            other => return Node::value(other, origin),
                        },
                    }
                }
                Node {
                    kind: NodeKind::List(out),
                    origin,
                }
            }
            ExprKind::For {
                item,
                index,
                iterable,
                body,
            } => {
                let items = match ev.eval(iterable, scope) {
                    Val::List(l) if l.len() <= ev.budget.limits.collection_size => l,
                    Val::Unknown(r) => return Node::value(Val::Unknown(r), origin),
                    _ => return Node::value(Val::unknown("the loop does not iterate over an array kmsguard can read"), origin),
                };
                let mut out = Vec::new();
                for (i, v) in items.into_iter().enumerate() {
                    if let Err(reason) = ev.budget.expand_instance(body.span.len()).map_err(|spent| spent.to_string()) {
                        return Node::value(Val::unknown(reason), origin);
                    }
                    let mut s = scope.with(&item.name, v);
                    if let Some(ix) = index {
                        s = s.with(&ix.name, Val::Number(i as f64));
                    }
                    match &body.kind {
                        ExprKind::If { cond, body } => match ev.eval(cond, &s) {
                            Val::Bool(true) => out.push(self.node(ev, body, &s, depth + 1)),
                            Val::Bool(false) => {}
                            other => {
                                return Node::value(
                                    if other.is_unknown() {
                                        other
                                    } else {
                                        Val::unknown("a loop filter is not a bool")
                                    },
                                    origin,
                                )
                            }
                        },
                        _ => out.push(self.node(ev, body, &s, depth + 1)),
                    }
                }
                Node {
                    kind: NodeKind::List(out),
                    origin,
                }
            }
            ExprKind::Paren(inner) => self.node(ev, inner, scope, depth + 1),
            ExprKind::Ternary { cond, then, otherwise } => match ev.eval(cond, scope) {
                Val::Bool(true) => self.node(ev, then, scope, depth + 1),
                Val::Bool(false) => self.node(ev, otherwise, scope, depth + 1),
                _ => Node::value(ev.eval(e, scope), origin),
            },
            _ => Node::value(ev.eval(e, scope), origin),
        }
    }

    /// A fix goes before the first route of a written-out `routes` array.
    fn authoring(&self, body: &Expr, symbol: &str) -> crate::model::Authoring {
        self.routes_authoring(property(body, "properties").and_then(|p| property(p, "routes")), body, symbol)
    }

    /// A fix goes before the first route of `routes` when it is written out.
    pub(super) fn routes_authoring(&self, routes: Option<&Expr>, body: &Expr, symbol: &str) -> crate::model::Authoring {
        let first = routes.and_then(|r| match &r.kind {
            ExprKind::Array(items) => items.first(),
            _ => None,
        });
        let text = &self.f.text;
        let (indent, insert_at) = match first {
            Some(i) => {
                let start = line_start(text, i.span.start);
                (indent_at(text, i.span.start), Some(Origin::new(self.f.file, start..start)))
            }
            None => (indent_at(text, body.span.start) + "      ", None),
        };
        azure::inline_authoring(Dialect::Bicep, indent, symbol.to_string(), insert_at)
    }
}

/// Lowers a call of a registry module kmsguard reads from its inputs: each
/// instance's `params` reshaped into the resource the module deploys. Routes
/// and rules keep the places they are written in the call; the table or NSG
/// itself is at the module's symbol, and the call is named as related.
#[allow(clippy::too_many_arguments)]
pub(super) fn registry_call(
    w: &mut Walker,
    ev: &Evaluator,
    s: &kmsguard_bicep_syntax::Statement,
    m: &kmsguard_bicep_syntax::ModuleDecl,
    module: &registry::ModuleMap,
    version: &registry::Known,
    exact: bool,
    address: &str,
) {
    for inst in instances(ev, &m.value, w.f.file, &w.conditional) {
        let origin = w.origin(&m.name.span);
        if let Err(reason) = ev.budget.expand_instance(inst.body.span.len()).map_err(|spent| spent.to_string()) {
            w.model.unchecked.push((address.to_string(), Unresolved { reason, origin }));
            break;
        }
        let params_expr = property(inst.body, "params");
        let params = match params_expr {
            Some(p) => w.node(ev, p, &inst.scope, 0),
            None => Node {
                kind: NodeKind::Object(Vec::new()),
                origin: origin.clone(),
            },
        };
        if !exact {
            let passed: Vec<String> = match &params.kind {
                NodeKind::Object(props) => props.iter().map(|(k, _)| k.clone()).collect(),
                NodeKind::Value(Val::Object(o)) => o.keys().cloned().collect(),
                _ => Vec::new(),
            };
            if let Some(why) = registry::undeclared_inputs(version, &passed) {
                let path = m.path.as_literal_string().unwrap_or_default();
                w.model.unchecked.push((
                    address.to_string(),
                    Unresolved {
                        reason: format!(
                            "{path} is not a version kmsguard knows, and the call {why}; the nearest known version is {}",
                            version.version
                        ),
                        origin: w.origin(&m.path.span),
                    },
                ));
                continue;
            }
        }
        let body = registry::reshape(module, version, &params);
        let routes = params_expr.and_then(|p| property(p, "routes"));
        let call = registry::Call {
            address: format!("{address}{}", inst.suffix),
            origin,
            conditional: inst.conditional.clone(),
            dialect: Dialect::Bicep,
            authoring: w.routes_authoring(routes, params_expr.unwrap_or(inst.body), &m.name.name),
            site: w.origin(&s.span),
        };
        let registry::Lowered { mut model, deferred } = registry::lower(module, body, call);
        // A route whose next hop reads an AVM firewall's `outputs.privateIp`
        // goes through that firewall, as with `fw.properties.ipConfigurations…`.
        // A pattern's routes to the firewall it deploys itself are linked already.
        for route in model.route_tables.iter_mut().flat_map(|t| t.routes.iter_mut()) {
            if route.next_hop_firewall.is_none() {
                route.next_hop_firewall = route.next_hop_ip.as_ref().and_then(|ip| w.firewall_ref(ev, ip.origin()));
            }
        }
        w.model.absorb(model);
        w.deferred.extend(deferred);
    }
}
