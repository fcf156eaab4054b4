//! The ARM front end: deployment templates (JSON whose `$schema` is a
//! deploymentTemplate) with their parameters, variables, copy loops,
//! conditions, child resources and nested deployments, lowered through the
//! REST-shape lowering shared with Bicep.

pub(crate) mod eval;
pub(crate) mod functions;

use std::collections::BTreeMap;
use std::sync::Arc;

use kmsguard_arm_syntax::{is_deployment_template, is_parameters_file, parse_json, Json, JsonKind};

pub use eval::Scope;

use crate::ingest::azure::{self, Node, NodeKind, Resource};
use crate::ingest::value::Val;
use crate::ingest::FileError;
use crate::limits::{Budget, Limits};
use crate::model::{Dialect, Field, Link, Model, Unresolved};
use crate::source::{indent_at, line_start, FileId, Origin};

/// Nested deployments deeper than this are not followed.
const MAX_NESTED_DEPLOYMENTS: usize = 8;

/// A JSON file that is an ARM template or parameters file.
pub struct ArmDoc {
    pub file: FileId,
    pub text: Arc<str>,
    pub root: Json,
    pub is_template: bool,
}

/// Parses a `.json` file; `Ok(None)` when it is valid JSON but neither a
/// template nor a parameters file (it is skipped silently).
pub fn parse(file: FileId, text: Arc<str>) -> Result<Option<ArmDoc>, FileError> {
    let root = match parse_json(&text) {
        Ok(root) => root,
        // Repositories hold all kinds of JSON (logs, fixtures, JSON lines);
        // only a file that says it is a template is an error when it is broken.
        Err(_) if !names_arm_schema(&text) => return Ok(None),
        Err(e) => {
            let at = e.span.start.min(text.len());
            return Err(FileError::at(
                Origin::new(file, at..e.span.end.clamp(at, text.len())),
                format!("could not parse JSON: {}", e.message),
            ));
        }
    };
    let is_template = is_deployment_template(&root);
    if !is_template && !is_parameters_file(&root) {
        return Ok(None);
    }
    Ok(Some(ArmDoc {
        file,
        text,
        root,
        is_template,
    }))
}

/// Whether the start of a file names an ARM template or parameters schema.
fn names_arm_schema(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect::<String>().to_ascii_lowercase();
    head.contains("deploymenttemplate.json") || head.contains("deploymentparameters.json")
}

/// Lowers a template, under the values of `params` when given, else its defaults.
pub fn lower(template: &ArmDoc, params: Option<&ArmDoc>, limits: Limits) -> Model {
    let budget = Budget::new(limits, "template");
    let mut values = BTreeMap::new();
    if let Some(p) = params.and_then(|p| p.root.get("parameters")).and_then(Json::as_object) {
        let literal = Scope::within(BTreeMap::new(), None, 0, budget.clone());
        for m in p {
            let v = match (m.value.get("value"), m.value.get("reference")) {
                (Some(v), _) => literal.json(v),
                (None, Some(_)) => Val::unknown(format!("parameter {} comes from Key Vault at deployment", m.key)),
                (None, None) => continue,
            };
            values.insert(m.key.to_ascii_lowercase(), v);
        }
    }
    let mut walker = Walker {
        file: template.file,
        text: &template.text,
        inherited: None,
        model: Model::default(),
        deferred: azure::Deferred::default(),
    };
    let scope = template_scope(&template.root, values, 0, &budget);
    walker.template(&template.root, &scope, 0);
    walker.finish()
}

/// The scope of a template: its parameters (given values, else defaults,
/// else unknown) and its variables.
fn template_scope<'r>(root: &'r Json, given: BTreeMap<String, Val>, depth: usize, budget: &Budget) -> Scope<'r> {
    let mut params = given;
    let declared = root.get("parameters").and_then(Json::as_object).unwrap_or_default();
    // Defaults may refer to other parameters: evaluate them after the given values.
    for m in declared {
        let key = m.key.to_ascii_lowercase();
        if params.contains_key(&key) {
            continue;
        }
        let v = match m.value.get("defaultValue") {
            Some(d) => Scope::within(params.clone(), None, depth, budget.clone()).json(d),
            // A nullable parameter without a value is null.
            None if m.value.get("nullable").and_then(Json::as_bool) == Some(true) => Val::Null,
            None => Val::unknown(format!(
                "parameter {} has no default and no value in a parameters file (pass one with --parameters FILE)",
                m.key
            )),
        };
        params.insert(key, v);
    }
    Scope::within(params, root.get("variables"), depth, budget.clone())
}

/// Who a resource instance is.
struct Identity {
    /// The type with its parent's prefixed, as written.
    full_type: String,
    /// The name with its parent's prefixed: "parent/child".
    full_name: Val,
    /// `full_type` lower-cased, without its API version.
    type_key: String,
    address: String,
    /// The resource's `"name": …` member, standing for the resource.
    origin: Origin,
    /// The name's value, or the resource when it has no name.
    name_origin: Origin,
}

impl Identity {
    fn name_field(&self) -> Field<String> {
        match &self.full_name {
            Val::Unknown(reason) => Field::unknown(Unresolved {
                reason: reason.to_string(),
                origin: self.name_origin.clone(),
            }),
            v => Field::Known(v.to_tf_string().unwrap_or_default(), self.name_origin.clone()),
        }
    }

    /// The virtual network a subnet or peering named "vnet/child" belongs to.
    fn parent_vnet(&self) -> Option<Link> {
        self.full_name.to_tf_string().and_then(|n| {
            n.rsplit_once('/')
                .map(|(v, _)| Link::Id(Field::Known(v.to_string(), self.origin.clone())))
        })
    }
}

struct Walker<'t> {
    file: FileId,
    text: &'t str,
    /// Set while inside a nested deployment that may not be deployed.
    inherited: Option<Unresolved>,
    model: Model,
    deferred: azure::Deferred,
}

impl<'t> Walker<'t> {
    fn origin(&self, j: &Json) -> Origin {
        Origin::new(self.file, j.span.clone())
    }

    fn template(&mut self, root: &Json, scope: &Scope, depth: usize) {
        let Some(resources) = root.get("resources") else { return };
        let list: Vec<&Json> = match &resources.kind {
            JsonKind::Array(items) => items.iter().collect(),
            // languageVersion 2.0: resources keyed by symbolic name.
            JsonKind::Object(members) => members.iter().map(|m| &m.value).collect(),
            _ => Vec::new(),
        };
        for r in list {
            self.resource(r, scope, None, depth);
        }
    }

    /// One resource declaration, expanded over its copy loop.
    fn resource(&mut self, r: &Json, scope: &Scope, parent: Option<(&str, &Val)>, depth: usize) {
        if r.get("existing").and_then(Json::as_bool) == Some(true) {
            return;
        }
        let Some(copy) = r.get("copy").filter(|c| matches!(c.kind, JsonKind::Object(_))) else {
            self.instance(r, scope, parent, None, depth);
            return;
        };
        let name = copy.get("name").and_then(Json::as_str).unwrap_or("copy").to_string();
        match copy.get("count").map(|c| scope.json(c)) {
            Some(Val::Number(n)) if n >= 0.0 && !scope.budget.limits.exceeds_collection(n) => {
                for i in 0..n as usize {
                    if let Err(reason) = scope.budget.expand_instance(r.span.len()).map_err(|spent| spent.to_string()) {
                        let origin = copy.get("count").map(|c| self.origin(c)).unwrap_or_else(|| self.origin(copy));
                        let ty = r.get("type").and_then(Json::as_str).unwrap_or("resource");
                        self.model.unchecked.push((ty.to_string(), Unresolved { reason, origin }));
                        break;
                    }
                    self.instance(r, &scope.with_copy(&name, i), parent, None, depth);
                }
            }
            other => {
                let reason = match other {
                    Some(Val::Unknown(r)) => format!("the copy count is unknown ({r})"),
                    Some(Val::Number(n)) if n >= 0.0 => scope.budget.limits.too_many("the copy loop", Some(n)),
                    _ => "the copy count is not a number kmsguard can use".to_string(),
                };
                let origin = copy.get("count").map(|c| self.origin(c)).unwrap_or_else(|| self.origin(copy));
                self.instance(r, scope, parent, Some(Unresolved { reason, origin }), depth);
            }
        }
    }

    fn instance(&mut self, r: &Json, scope: &Scope, parent: Option<(&str, &Val)>, conditional: Option<Unresolved>, depth: usize) {
        let Some(conditional) = self.condition(r, scope, conditional) else {
            return;
        };
        let conditional = conditional.or_else(|| self.inherited.clone());
        let Some(id) = self.identity(r, scope, parent) else { return };
        let mut suppressions = self.suppressions(r, &id.address);
        self.lower(r, scope, parent, &id, conditional, depth);
        self.model.resource_suppressions.append(&mut suppressions);
        if let Some(JsonKind::Array(children)) = r.get("resources").map(|c| &c.kind) {
            for c in children {
                self.resource(c, scope, Some((&id.full_type, &id.full_name)), depth);
            }
        }
    }

    /// The resource's `condition`: `None` when it is false (the resource is
    /// not deployed); otherwise why it might not be deployed, if it might not.
    fn condition(&self, r: &Json, scope: &Scope, conditional: Option<Unresolved>) -> Option<Option<Unresolved>> {
        let Some(cond) = r.get("condition") else { return Some(conditional) };
        match scope.json(cond) {
            Val::Bool(false) => None,
            Val::Unknown(reason) => Some(Some(Unresolved {
                reason: format!("its condition is unknown ({reason})"),
                origin: self.origin(cond),
            })),
            _ => Some(conditional),
        }
    }

    /// The resource's type and name, its parent's prefixed when it is
    /// nested in the parent's `resources`; `None` without a type.
    fn identity(&self, r: &Json, scope: &Scope, parent: Option<(&str, &Val)>) -> Option<Identity> {
        let ty = r.get("type").and_then(Json::as_str)?;
        let name = r.get("name").map(|n| scope.json(n)).unwrap_or(Val::Null);
        let (full_type, full_name) = match parent {
            Some((pt, pn)) if !ty.contains('/') || !ty.contains('.') => (
                format!("{pt}/{ty}"),
                match (pn.to_tf_string(), name.to_tf_string()) {
                    (Some(a), Some(b)) => Val::String(format!("{a}/{b}")),
                    _ => Val::unknown("the child resource's parent name is unknown"),
                },
            ),
            _ => (ty.to_string(), name.clone()),
        };
        let type_key = full_type.to_ascii_lowercase();
        let type_key = type_key.split('@').next().unwrap_or_default().to_string();
        // The resource's `"name": …` line stands for the resource, as a
        // Bicep symbol or a Terraform block header does.
        let origin = match r.member("name") {
            Some(m) => Origin::new(self.file, m.key_span.start..m.value.span.end),
            None => self.origin(r),
        };
        let name_text = full_name
            .to_tf_string()
            .unwrap_or_else(|| r.get("name").and_then(Json::as_str).unwrap_or("?").to_string());
        Some(Identity {
            address: format!("{full_type}/{name_text}"),
            name_origin: r.get("name").map(|j| self.origin(j)).unwrap_or_else(|| origin.clone()),
            full_type,
            full_name,
            type_key,
            origin,
        })
    }

    /// `"metadata": { "kmsguard": { "ignore": ["KG101 -- reason"] } }`
    fn suppressions(&self, r: &Json, address: &str) -> Vec<(String, String, Origin)> {
        let mut suppressions = Vec::new();
        for entry in r
            .get("metadata")
            .and_then(|m| m.get("kmsguard"))
            .and_then(|k| k.get("ignore"))
            .and_then(Json::as_array)
            .unwrap_or_default()
        {
            if let Some(text) = entry.as_str() {
                let at = Origin::new(self.file, entry.span.clone());
                suppressions.push((address.to_string(), text.to_string(), at));
            }
        }
        suppressions
    }

    /// Adds the resource to the model by its type; other types are skipped.
    fn lower(
        &mut self,
        r: &Json,
        scope: &Scope,
        parent: Option<(&str, &Val)>,
        id: &Identity,
        conditional: Option<Unresolved>,
        depth: usize,
    ) {
        let (address, origin) = (&id.address, &id.origin);
        match id.type_key.as_str() {
            "microsoft.network/routetables" | "microsoft.network/networksecuritygroups" => {
                let body = self.node(r, scope, 0);
                let res = Resource {
                    address: address.clone(),
                    name: id.name_field(),
                    body,
                    origin: origin.clone(),
                    conditional,
                    dialect: Dialect::Arm,
                    authoring: self.authoring(r, &id.full_name),
                };
                if id.type_key.ends_with("routetables") {
                    let mut table = azure::route_table(res);
                    for route in &mut table.routes {
                        route.next_hop_firewall = route.next_hop_ip.as_ref().and_then(|ip| self.firewall_ref(ip.origin()));
                    }
                    self.model.route_tables.push(table);
                } else {
                    self.model.nsgs.push(azure::nsg(res));
                }
            }
            "microsoft.network/routetables/routes" | "microsoft.network/networksecuritygroups/securityrules" => {
                self.child_rule(r, scope, parent, id, conditional);
            }
            "microsoft.network/virtualnetworkgateways" => {
                let body = self.node(r, scope, 0);
                if let Some(g) = azure::gateway(&body, address.clone(), id.name_field(), origin.clone()) {
                    self.model.gateways.push(g);
                }
            }
            "microsoft.network/azurefirewalls" => {
                let body = self.node(r, scope, 0);
                let (fw, policy) = azure::firewall(&body, address.clone(), id.name_field(), origin.clone());
                if let Some(p) = policy {
                    self.deferred.firewall_policies.push((address.clone(), p));
                }
                self.model.firewalls.push(fw);
            }
            "microsoft.network/firewallpolicies" => {
                let body = self.node(r, scope, 0);
                let policy = azure::firewall_policy(&body, address.clone(), id.name_field());
                self.deferred.policies.push(policy);
            }
            "microsoft.network/firewallpolicies/rulecollectiongroups" => {
                let body = self.node(r, scope, 0);
                let parent_address = parent.and_then(|(pt, pn)| pn.to_tf_string().map(|pn| format!("{pt}/{pn}")));
                let parent_name = id
                    .full_name
                    .to_tf_string()
                    .and_then(|n| n.rsplit_once('/').map(|(p, _)| p.to_string()));
                let group = azure::rule_collection_group(&body, parent_address, parent_name, origin.clone());
                self.deferred.groups.push(group);
            }
            "microsoft.network/virtualnetworks" => {
                let body = self.node(r, scope, 0);
                let vnet = azure::vnet(address.clone(), id.name_field(), origin.clone());
                self.model.subnets.extend(azure::vnet_subnets(&body, address));
                self.model.peerings.extend(azure::vnet_peerings(&body, address));
                self.model.vnets.push(vnet);
            }
            "microsoft.network/virtualnetworks/virtualnetworkpeerings" => {
                let body = self.node(r, scope, 0);
                self.model.peerings.push(azure::peering(&body, address.clone(), id.parent_vnet()));
            }
            "microsoft.network/virtualnetworks/subnets" => self.subnet(r, scope, id),
            "microsoft.resources/deployments" => {
                let outer = std::mem::replace(&mut self.inherited, conditional);
                self.nested_deployment(r, scope, address, depth);
                self.inherited = outer;
            }
            _ => {}
        }
    }

    /// A route or security rule declared as a resource of its own: it joins
    /// its route table or NSG once every resource is read.
    fn child_rule(&mut self, r: &Json, scope: &Scope, parent: Option<(&str, &Val)>, id: &Identity, conditional: Option<Unresolved>) {
        let is_route = id.type_key.ends_with("routes");
        // The child's own name is the last segment of "parent/child".
        let (parent_name, own_name) = match id.full_name.to_tf_string() {
            Some(n) => match n.rsplit_once('/') {
                Some((p, c)) => (Val::String(p.to_string()), Val::String(c.to_string())),
                None => (Val::unknown(format!("{n} does not name its parent")), Val::String(n)),
            },
            None => (id.full_name.clone(), id.full_name.clone()),
        };
        let mut node = self.node(r, scope, 0);
        let next_hop_firewall = node
            .get("properties")
            .and_then(|p| p.present("nextHopIpAddress"))
            .and_then(|ip| self.firewall_ref(&ip.origin));
        if let NodeKind::Object(props) = &mut node.kind {
            props.retain(|(k, _)| !k.eq_ignore_ascii_case("name"));
            props.push(("name".into(), Node::value(own_name, id.name_origin.clone())));
        }
        // Nested in its parent's `resources`, the child names its parent's address.
        let parent_address = parent.and_then(|(pt, pn)| pn.to_tf_string().map(|pn| format!("{pt}/{pn}")));
        self.deferred.children.push(azure::ChildResource {
            parent_type: if is_route { "route table" } else { "NSG" },
            parent_name,
            parent_address,
            is_route,
            address: id.address.clone(),
            node,
            origin: id.origin.clone(),
            dialect: Dialect::Arm,
            next_hop_firewall,
            conditional,
        });
    }

    /// A subnet declared as a resource of its own, named by the last
    /// segment of "vnet/subnet".
    fn subnet(&mut self, r: &Json, scope: &Scope, id: &Identity) {
        let mut body = self.node(r, scope, 0);
        if let NodeKind::Object(props) = &mut body.kind {
            let own = id.full_name.to_tf_string().and_then(|n| n.rsplit('/').next().map(String::from));
            if let Some(own) = own {
                props.retain(|(k, _)| !k.eq_ignore_ascii_case("name"));
                props.push(("name".into(), Node::value(Val::String(own), id.origin.clone())));
            }
        }
        self.model.subnets.push(azure::subnet(&body, id.address.clone(), id.parent_vnet()));
    }

    fn nested_deployment(&mut self, r: &Json, scope: &Scope, address: &str, depth: usize) {
        let Some(props) = r.get("properties") else { return };
        let Some(inner) = props.get("template") else {
            if let Some(link) = props.get("templateLink") {
                self.model.unchecked.push((
                    address.to_string(),
                    Unresolved {
                        reason: "its linked template (templateLink) is not read by kmsguard".into(),
                        origin: self.origin(link),
                    },
                ));
            }
            return;
        };
        if depth >= MAX_NESTED_DEPLOYMENTS {
            self.model.unchecked.push((
                address.to_string(),
                Unresolved {
                    reason: format!("nested deployments deeper than {MAX_NESTED_DEPLOYMENTS} levels are not followed"),
                    origin: self.origin(r),
                },
            ));
            return;
        }
        let inner_scope = props
            .get("expressionEvaluationOptions")
            .and_then(|o| o.get("scope"))
            .and_then(Json::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        if inner_scope {
            let mut given = BTreeMap::new();
            if let Some(ps) = props.get("parameters").and_then(Json::as_object) {
                for m in ps {
                    if let Some(v) = m.value.get("value") {
                        given.insert(m.key.to_ascii_lowercase(), scope.json(v));
                    }
                }
            }
            let s = template_scope(inner, given, depth + 1, &scope.budget);
            self.template(inner, &s, depth + 1);
        } else {
            // Outer scope (the default): the nested template's expressions see the parent's values.
            self.template(inner, scope, depth + 1);
        }
    }

    /// Evaluates a JSON subtree into a [`Node`], keeping a place per literal
    /// property and expanding property copy loops (`"copy": [ … ]`).
    fn node(&self, j: &Json, scope: &Scope, depth: usize) -> Node {
        let origin = self.origin(j);
        if depth > 64 {
            return Node::value(Val::unknown("the resource nests too deeply to evaluate"), origin);
        }
        match &j.kind {
            JsonKind::Object(members) => {
                let mut props = Vec::new();
                for m in members {
                    if m.key.eq_ignore_ascii_case("copy") {
                        if let JsonKind::Array(loops) = &m.value.kind {
                            for l in loops {
                                if let Some((name, node)) = self.property_copy(l, scope, depth) {
                                    props.push((name, node));
                                }
                            }
                            continue;
                        }
                    }
                    props.push((m.key.clone(), self.node(&m.value, scope, depth + 1)));
                }
                Node {
                    kind: NodeKind::Object(props),
                    origin,
                }
            }
            JsonKind::Array(items) => Node {
                kind: NodeKind::List(items.iter().map(|i| self.node(i, scope, depth + 1)).collect()),
                origin,
            },
            _ => Node::value(scope.json(j), origin),
        }
    }

    /// A property copy loop: `{ "name": "routes", "count": n, "input": { … } }`.
    fn property_copy(&self, l: &Json, scope: &Scope, depth: usize) -> Option<(String, Node)> {
        let name = l.get("name").and_then(Json::as_str)?.to_string();
        let input = l.get("input")?;
        let origin = self.origin(l);
        let node = match l.get("count").map(|c| scope.json(c)) {
            Some(Val::Number(n)) if n >= 0.0 && !scope.budget.limits.exceeds_collection(n) => {
                let mut items = Vec::new();
                for i in 0..n as usize {
                    // Charged by the size of the input each element copies.
                    if let Err(reason) = scope.budget.expand_instance(input.span.len()).map_err(|spent| spent.to_string()) {
                        return Some((name, Node::value(Val::unknown(reason), origin)));
                    }
                    items.push(self.node(input, &scope.with_copy(&name, i), depth + 1));
                }
                Node {
                    kind: NodeKind::List(items),
                    origin,
                }
            }
            Some(Val::Unknown(r)) => Node::value(Val::unknown(format!("the copy count of {name} is unknown ({r})")), origin),
            _ => Node::value(
                Val::unknown(format!("the copy count of {name} is not a number kmsguard can use")),
                origin,
            ),
        };
        Some((name, node))
    }

    /// `[reference(resourceId('Microsoft.Network/azureFirewalls', 'fw-hub')).ipConfigurations[0].properties.privateIPAddress]`:
    /// a next hop read from the firewall of that (literal) name.
    fn firewall_ref(&self, at: &Origin) -> Option<Link> {
        if at.file != self.file {
            return None;
        }
        let text = self.text.get(at.span())?;
        let lower = text.to_ascii_lowercase();
        let after = lower.find("microsoft.network/azurefirewalls'")? + "microsoft.network/azurefirewalls'".len();
        let rest = text.get(after..)?.trim_start().strip_prefix(',')?.trim_start().strip_prefix('\'')?;
        let name = rest.split('\'').next()?;
        (!name.is_empty() && lower.contains("privateipaddress")).then(|| Link::Id(Field::Known(name.to_string(), at.clone())))
    }

    /// How a fix is written into this template: a route object before the
    /// first existing route, indented like it.
    fn authoring(&self, r: &Json, name: &Val) -> crate::model::Authoring {
        let first_route = r
            .get("properties")
            .and_then(|p| p.get("routes"))
            .and_then(Json::as_array)
            .and_then(|a| a.first());
        let (indent, insert_at) = match first_route {
            Some(f) => {
                let start = line_start(self.text, f.span.start);
                (indent_at(self.text, f.span.start), Some(Origin::new(self.file, start..start)))
            }
            None => (indent_at(self.text, r.span.start) + "      ", None),
        };
        let reference = format!(
            "[resourceId('Microsoft.Network/routeTables', '{}')]",
            name.to_tf_string().unwrap_or_else(|| "…".into())
        );
        azure::inline_authoring(Dialect::Arm, indent, reference, insert_at)
    }

    fn finish(mut self) -> Model {
        azure::finish(&mut self.model, std::mem::take(&mut self.deferred));
        self.model
    }
}
