//! Registry modules read without downloading them: calls of the Azure
//! Verified Modules (AVM) that deploy route tables, NSGs and virtual
//! networks are lowered from their inputs, as the module would deploy them.
//!
//! The modules' own source is not shipped: findings must point at the route
//! or rule written in the call (the module's files are not in the user's
//! repository), the Bicep modules import types from other registry modules
//! and the Terraform ones depend on azapi, modtm and submodules, and every
//! released version would be embedded for the few inputs that matter. A
//! data-driven mapping (`policies/modules/avm.hcl`) says where each input
//! goes in the REST shape of the resource the module deploys; it is checked
//! against every released version's interface (`policies/modules/versions.hcl`,
//! written by `policies/modules/generate.py` from the modules' sources).
//!
//! A version kmsguard does not know is read like the known versions of the
//! same major.minor only when those agree on every input the mapping reads
//! and the call passes no input they do not declare; anything else is a
//! KG901 note that names the module, the version and the versions known.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use crate::ingest::azure::{self, Node, NodeKind, Resource};
use crate::ingest::value::Val;
use crate::model::{Authoring, Dialect, Field, Model, Unresolved};
use crate::source::Origin;

mod network;

pub use network::Lowered;

const MAPPING: &str = include_str!("../../policies/modules/avm.hcl");
const VERSIONS: &str = include_str!("../../policies/modules/versions.hcl");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(u64, u64, u64);

impl Version {
    fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let mut it = s.split('.');
        let v = Version(it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
        it.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A version constraint: comparators that must all hold (Terraform's
/// syntax; `~>` is expanded into two).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Constraint(Vec<(Op, Version)>);

impl Constraint {
    fn parse(s: &str) -> Option<Constraint> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|o| part.strip_prefix(o).map(|r| (*o, r.trim())))
                .unwrap_or(("=", part));
            if op == "~>" {
                // `~> 1.2` allows 1.2 up to 2.0; `~> 1.2.3` allows 1.2.3 up to 1.3.0.
                let parts: Vec<u64> = rest
                    .trim_start_matches('v')
                    .split('.')
                    .map(|p| p.parse().ok())
                    .collect::<Option<_>>()?;
                match parts.as_slice() {
                    [a, b] => {
                        out.push((Op::Ge, Version(*a, *b, 0)));
                        out.push((Op::Lt, Version(a + 1, 0, 0)));
                    }
                    [a, b, c] => {
                        out.push((Op::Ge, Version(*a, *b, *c)));
                        out.push((Op::Lt, Version(*a, b + 1, 0)));
                    }
                    _ => return None,
                }
                continue;
            }
            let v = Version::parse(rest)?;
            let op = match op {
                ">=" => Op::Ge,
                "<=" => Op::Le,
                "!=" => Op::Ne,
                ">" => Op::Gt,
                "<" => Op::Lt,
                _ => Op::Eq,
            };
            out.push((op, v));
        }
        Some(Constraint(out))
    }

    fn admits(&self, v: Version) -> bool {
        self.0.iter().all(|(op, w)| match op {
            Op::Eq => v == *w,
            Op::Ne => v != *w,
            Op::Gt => v > *w,
            Op::Ge => v >= *w,
            Op::Lt => v < *w,
            Op::Le => v <= *w,
        })
    }
}

/// What a module deploys, and so how its reshaped body is lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Produces {
    RouteTable,
    Nsg,
    VirtualNetwork,
    Firewall,
    FirewallPolicy,
    RuleCollectionGroup,
    Gateway,
}

impl Produces {
    fn resource_type(self) -> &'static str {
        match self {
            Produces::RouteTable => "Microsoft.Network/routeTables",
            Produces::Nsg => "Microsoft.Network/networkSecurityGroups",
            Produces::VirtualNetwork => "Microsoft.Network/virtualNetworks",
            Produces::Firewall => "Microsoft.Network/azureFirewalls",
            Produces::FirewallPolicy => "Microsoft.Network/firewallPolicies",
            Produces::RuleCollectionGroup => "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            Produces::Gateway => "Microsoft.Network/virtualNetworkGateways",
        }
    }
}

/// Where one element field goes: a path, and whether a list of ids becomes `[{ id }]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    path: Vec<String>,
    wrap: Option<String>,
}

impl Target {
    fn parse(s: &str) -> Target {
        match s.split_once("[].") {
            Some((p, w)) => Target {
                path: p.split('.').map(String::from).collect(),
                wrap: Some(w.to_string()),
            },
            None => Target {
                path: s.split('.').map(String::from).collect(),
                wrap: None,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct InputMap {
    name: String,
    versions: Option<Constraint>,
    to: Target,
    negate: bool,
    each: Option<Vec<(String, Target)>>,
    /// Reshapes a single object input like one element of `each`.
    fields: Option<Vec<(String, Target)>>,
    /// Constants the module writes into every element (path = value).
    set: Vec<(String, String)>,
}

/// One released version and its inputs (name → hash of the declared type).
#[derive(Debug, Clone)]
pub struct Known {
    pub version: Version,
    inputs: BTreeMap<String, String>,
}

/// A mapped module with the versions it was checked against.
#[derive(Debug, Clone)]
pub struct ModuleMap {
    pub name: String,
    pub produces: Produces,
    versions: Option<Constraint>,
    /// Inputs that hold nothing kmsguard models; the tests check that every
    /// declared input is read or listed here.
    #[cfg_attr(not(test), allow(dead_code))]
    ignore: Vec<String>,
    inputs: Vec<InputMap>,
    outputs: Vec<(String, String)>,
    known: Vec<Known>,
}

impl ModuleMap {
    fn covers(&self, v: Version) -> bool {
        self.versions.as_ref().is_none_or(|c| c.admits(v))
    }

    /// The input maps that apply to `v`.
    fn inputs_for(&self, v: Version) -> impl Iterator<Item = (usize, &InputMap)> {
        self.inputs
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.versions.as_ref().is_none_or(|c| c.admits(v)))
    }

    /// What the mapping reads from a version: which map applies to each
    /// input and the input's declared type. Two versions with the same
    /// signature are read the same way.
    fn signature<'k>(&self, k: &'k Known) -> Vec<(usize, Option<&'k String>)> {
        self.inputs_for(k.version).map(|(i, m)| (i, k.inputs.get(&m.name))).collect()
    }

    fn known_list(&self) -> String {
        self.known
            .iter()
            .filter(|k| self.covers(k.version))
            .map(|k| k.version.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Default)]
pub struct Catalogue {
    modules: Vec<ModuleMap>,
    silent_bicep: Vec<String>,
    silent_terraform: Vec<String>,
}

/// How a registry module call is read.
pub enum Resolution<'c> {
    /// Lowered from its inputs as `version` of `module`; `exact` is false when
    /// the call names a version kmsguard does not know and the nearest known
    /// one of the same major.minor stands in for it.
    Mapped {
        module: &'c ModuleMap,
        version: &'c Known,
        exact: bool,
    },
    /// An AVM module that deploys nothing kmsguard models.
    Silent,
    /// Not read, with why (a KG901 note).
    Unchecked(String),
}

/// The embedded catalogue; empty (every call unchecked) if it cannot be read,
/// which the tests rule out.
pub fn catalogue() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| Catalogue::parse(MAPPING, VERSIONS).unwrap_or_default())
}

fn strings(e: &hcl::Expression) -> Vec<String> {
    match e {
        hcl::Expression::Array(items) => items
            .iter()
            .filter_map(|i| match i {
                hcl::Expression::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn string_map(e: &hcl::Expression) -> Result<Vec<(String, String)>, String> {
    let hcl::Expression::Object(o) = e else {
        return Err("expected an object".into());
    };
    o.iter()
        .map(|(k, v)| {
            let key = match k {
                hcl::ObjectKey::Identifier(i) => i.to_string(),
                hcl::ObjectKey::Expression(hcl::Expression::String(s)) => s.clone(),
                _ => return Err("object keys must be names or strings".to_string()),
            };
            match v {
                hcl::Expression::String(s) => Ok((key, s.clone())),
                _ => Err(format!("{key}: expected a string")),
            }
        })
        .collect()
}

fn attr<'b>(body: &'b hcl::Body, key: &str) -> Option<&'b hcl::Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn attr_string(body: &hcl::Body, key: &str) -> Option<String> {
    match attr(body, key) {
        Some(hcl::Expression::String(s)) => Some(s.clone()),
        _ => None,
    }
}

impl Catalogue {
    fn parse(mapping: &str, versions: &str) -> Result<Catalogue, String> {
        let body = hcl::parse(mapping).map_err(|e| format!("avm.hcl: {e}"))?;
        let known = Self::parse_versions(versions)?;
        let mut cat = Catalogue {
            silent_bicep: attr(&body, "silent_bicep").map(strings).unwrap_or_default(),
            silent_terraform: attr(&body, "silent_terraform").map(strings).unwrap_or_default(),
            modules: Vec::new(),
        };
        for b in body.blocks().filter(|b| b.identifier() == "module") {
            let name = b
                .labels()
                .first()
                .map(|l| l.as_str().to_string())
                .ok_or("a module block has no name")?;
            let mb = b.body();
            let produces = match attr_string(mb, "produces").as_deref() {
                Some("route_table") => Produces::RouteTable,
                Some("nsg") => Produces::Nsg,
                Some("virtual_network") => Produces::VirtualNetwork,
                Some("firewall") => Produces::Firewall,
                Some("firewall_policy") => Produces::FirewallPolicy,
                Some("rule_collection_group") => Produces::RuleCollectionGroup,
                Some("gateway") => Produces::Gateway,
                other => return Err(format!("{name}: produces {other:?} is not a kind kmsguard lowers")),
            };
            let constraint = |body: &hcl::Body| -> Result<Option<Constraint>, String> {
                match attr_string(body, "versions") {
                    None => Ok(None),
                    Some(s) => Constraint::parse(&s)
                        .map(Some)
                        .ok_or(format!("{name}: versions \"{s}\" is not a constraint")),
                }
            };
            let mut inputs = Vec::new();
            for ib in mb.blocks().filter(|b| b.identifier() == "input") {
                let input = ib
                    .labels()
                    .first()
                    .map(|l| l.as_str().to_string())
                    .ok_or("an input block has no name")?;
                let to = attr_string(ib.body(), "to").ok_or(format!("{name}: input {input} has no `to`"))?;
                let targets = |key: &str| -> Result<Option<Vec<(String, Target)>>, String> {
                    match attr(ib.body(), key) {
                        None => Ok(None),
                        Some(e) => Ok(Some(
                            string_map(e)
                                .map_err(|m| format!("{name}: input {input}: {m}"))?
                                .into_iter()
                                .map(|(k, v)| (k, Target::parse(&v)))
                                .collect(),
                        )),
                    }
                };
                let each = targets("each")?;
                let fields = targets("fields")?;
                let set = attr(ib.body(), "set")
                    .map(string_map)
                    .transpose()
                    .map_err(|m| format!("{name}: input {input}: {m}"))?
                    .unwrap_or_default();
                inputs.push(InputMap {
                    versions: constraint(ib.body())?,
                    to: Target::parse(&to),
                    negate: matches!(attr(ib.body(), "negate"), Some(hcl::Expression::Bool(true))),
                    each,
                    fields,
                    set,
                    name: input,
                });
            }
            cat.modules.push(ModuleMap {
                produces,
                versions: constraint(mb)?,
                ignore: attr(mb, "ignore").map(strings).unwrap_or_default(),
                inputs,
                outputs: attr(mb, "outputs").map(string_map).transpose()?.unwrap_or_default(),
                known: known.get(&name).cloned().unwrap_or_default(),
                name,
            });
        }
        Ok(cat)
    }

    fn parse_versions(text: &str) -> Result<BTreeMap<String, Vec<Known>>, String> {
        let body = hcl::parse(text).map_err(|e| format!("versions.hcl: {e}"))?;
        let mut out = BTreeMap::new();
        for b in body.blocks().filter(|b| b.identifier() == "module") {
            let Some(name) = b.labels().first() else { continue };
            let mut list = Vec::new();
            for vb in b.body().blocks().filter(|b| b.identifier() == "version") {
                let Some(version) = vb.labels().first().and_then(|l| Version::parse(l.as_str())) else {
                    continue;
                };
                let inputs = attr(vb.body(), "inputs").map(string_map).transpose()?.unwrap_or_default();
                list.push(Known {
                    version,
                    inputs: inputs.into_iter().collect(),
                });
            }
            list.sort_by_key(|k| k.version);
            out.insert(name.as_str().to_string(), list);
        }
        Ok(out)
    }

    fn module(&self, name: &str) -> Option<&ModuleMap> {
        self.modules.iter().find(|m| m.name.eq_ignore_ascii_case(name))
    }

    /// A Bicep module reference: `br/public:avm/…:1.2.3` or
    /// `br:mcr.microsoft.com/bicep/avm/…:1.2.3`. `None` for a reference that
    /// is not to the public registry (a private registry, a template spec).
    pub fn bicep(&self, reference: &str) -> Option<Resolution<'_>> {
        let lower = reference.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("br/public:")
            .or_else(|| lower.strip_prefix("br:mcr.microsoft.com/bicep/"))?;
        let (path, version) = rest.rsplit_once(':')?;
        if !path.starts_with("avm/") {
            return None;
        }
        if self.silent_bicep.iter().any(|s| s.eq_ignore_ascii_case(path)) {
            return Some(Resolution::Silent);
        }
        let module = self.module(path)?;
        Some(match Version::parse(version) {
            Some(v) => self.exact_or_nearest(module, v),
            None => Resolution::Unchecked(format!("the module {reference} names no version kmsguard can compare")),
        })
    }

    /// A Terraform registry source (`Azure/avm-res-network-routetable/azurerm`,
    /// optionally with `registry.terraform.io/`) and its `version` constraint.
    pub fn terraform(&self, source: &str, version: Option<&str>) -> Option<Resolution<'_>> {
        // A submodule (`…/azurerm//modules/x`) is read only when mapped itself.
        let s = source.strip_prefix("registry.terraform.io/").unwrap_or(source);
        if self.silent_terraform.iter().any(|x| x.eq_ignore_ascii_case(s)) {
            return Some(Resolution::Silent);
        }
        let module = self.module(s)?;
        let Some(version) = version else {
            return Some(Resolution::Unchecked(format!(
                "the module {source} has no version constraint, so terraform init installs whichever version is newest; pin one of the versions kmsguard knows ({})",
                module.known_list()
            )));
        };
        let Some(c) = Constraint::parse(version) else {
            return Some(Resolution::Unchecked(format!(
                "the version constraint \"{version}\" of {source} is not one kmsguard reads"
            )));
        };
        // An exact pin is read like a Bicep version.
        if let [(Op::Eq, v)] = c.0.as_slice() {
            return Some(self.exact_or_nearest(module, *v));
        }
        let admitted: Vec<&Known> = module
            .known
            .iter()
            .filter(|k| c.admits(k.version) && module.covers(k.version))
            .collect();
        let Some(newest) = admitted.last() else {
            return Some(Resolution::Unchecked(format!(
                "no version of {source} that kmsguard knows satisfies \"{version}\"; the known versions are {}",
                module.known_list()
            )));
        };
        let newest_known = module.known.last().map(|k| k.version).unwrap_or(newest.version);
        let next_minor = Version(newest_known.0, newest_known.1 + 1, 0);
        if c.admits(next_minor) || c.admits(Version(newest_known.0 + 1, 0, 0)) {
            return Some(Resolution::Unchecked(format!(
                "the version constraint \"{version}\" of {source} admits versions newer than kmsguard knows (the newest known is {newest_known}); pin one of {}",
                module.known_list()
            )));
        }
        if admitted.iter().any(|k| module.signature(k) != module.signature(newest)) {
            return Some(Resolution::Unchecked(format!(
                "the version constraint \"{version}\" of {source} admits versions whose inputs differ ({}); pin one",
                admitted.iter().map(|k| k.version.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        // Patch versions newer than the newest known one are read like it when
        // its major.minor is stable, as for an unknown pinned version.
        let exact = !c.admits(Version(newest.version.0, newest.version.1, newest.version.2 + 1));
        if !exact {
            if let Resolution::Unchecked(why) = self.exact_or_nearest(module, Version(newest.version.0, newest.version.1, u64::MAX)) {
                return Some(Resolution::Unchecked(why));
            }
        }
        Some(Resolution::Mapped {
            module,
            version: newest,
            exact,
        })
    }

    fn exact_or_nearest<'c>(&'c self, module: &'c ModuleMap, v: Version) -> Resolution<'c> {
        let name = &module.name;
        if !module.covers(v) {
            return Resolution::Unchecked(format!(
                "version {v} of {name} is not among the versions kmsguard reads ({})",
                module.known_list()
            ));
        }
        if let Some(k) = module.known.iter().find(|k| k.version == v) {
            return Resolution::Mapped {
                module,
                version: k,
                exact: true,
            };
        }
        let same_minor: Vec<&Known> = module.known.iter().filter(|k| k.version.0 == v.0 && k.version.1 == v.1).collect();
        let unknown = |why: String| {
            Resolution::Unchecked(format!(
                "version {} of {name} is not one kmsguard knows, and {why}; the known versions are {}",
                if v.2 == u64::MAX {
                    format!("{}.{}.x", v.0, v.1)
                } else {
                    v.to_string()
                },
                module.known_list()
            ))
        };
        let Some(nearest) = same_minor.iter().rev().find(|k| k.version <= v).or(same_minor.first()) else {
            return unknown(format!("no known version has the same major.minor ({}.{})", v.0, v.1));
        };
        if same_minor.iter().any(|k| module.signature(k) != module.signature(nearest)) {
            return unknown(format!(
                "the inputs kmsguard reads changed within {}.{}, so its interface cannot be assumed",
                v.0, v.1
            ));
        }
        Resolution::Mapped {
            module,
            version: nearest,
            exact: false,
        }
    }
}

/// Why a call of an unknown version cannot be read like the nearest known
/// one: it passes inputs that version does not declare.
pub fn undeclared_inputs(version: &Known, passed: &[String]) -> Option<String> {
    let missing: Vec<&str> = passed
        .iter()
        .filter(|p| !version.inputs.contains_key(p.as_str()))
        .map(String::as_str)
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "passes {} that version {} does not declare, so its interface differs",
            missing.join(", "),
            version.version
        )
    })
}

/// Sets `value` at `path` in an object node, creating objects on the way.
fn set(node: &mut Node, path: &[String], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    if !matches!(node.kind, NodeKind::Object(_)) {
        node.kind = NodeKind::Object(Vec::new());
    }
    let NodeKind::Object(props) = &mut node.kind else { return };
    if let Some((_, child)) = props.iter_mut().find(|(k, _)| k == first) {
        set(child, rest, value);
        return;
    }
    let mut child = Node {
        kind: NodeKind::Object(Vec::new()),
        origin: value.origin.clone(),
    };
    set(&mut child, rest, value);
    props.push((first.clone(), child));
}

/// A node along a dotted path; `None` when absent or null.
fn at(node: &Node, path: &str) -> Option<Node> {
    let mut cur = node.clone();
    for seg in path.split('.') {
        cur = cur.present(seg)?;
    }
    Some(cur)
}

/// The elements of a list, or the (key, value) pairs of a map, in key order
/// (the order Terraform iterates a map in).
fn elements(node: &Node) -> Result<Vec<(Option<String>, Node)>, Node> {
    match &node.kind {
        NodeKind::Object(props) => {
            let mut v: Vec<(Option<String>, Node)> = props.iter().map(|(k, n)| (Some(k.clone()), n.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(v)
        }
        NodeKind::Value(Val::Object(o)) => Ok(o
            .iter()
            .map(|(k, v)| (Some(k.clone()), Node::value(v.clone(), node.origin.clone())))
            .collect()),
        _ => match node.items() {
            Ok(items) => Ok(items.into_iter().map(|n| (None, n)).collect()),
            Err(_) => Err(node.clone()),
        },
    }
}

fn reshape_element(key: Option<&str>, element: &Node, each: &[(String, Target)], constants: &[(String, String)]) -> Node {
    let mut out = Node {
        kind: NodeKind::Object(Vec::new()),
        origin: element.origin.clone(),
    };
    if let NodeKind::Value(Val::Unknown(_)) = element.kind {
        return element.clone();
    }
    network::constants(&mut out, constants);
    let (nested, each): (Vec<_>, Vec<_>) = each.iter().partition(|(src, _)| src.contains("[]."));
    network::nested_lists(&mut out, element, &nested, constants);
    for (src, target) in each {
        let value = if src == "@key" {
            key.map(|k| Node::value(Val::String(k.to_string()), element.origin.clone()))
        } else {
            at(element, src)
        };
        let Some(value) = value else { continue };
        let value = match &target.wrap {
            None => value,
            Some(w) => match elements(&value) {
                Ok(items) => Node {
                    kind: NodeKind::List(
                        items
                            .into_iter()
                            .map(|(_, n)| Node {
                                origin: n.origin.clone(),
                                kind: NodeKind::Object(vec![(w.clone(), n)]),
                            })
                            .collect(),
                    ),
                    origin: value.origin.clone(),
                },
                Err(n) => n,
            },
        };
        set(&mut out, &target.path, value);
    }
    out
}

/// The body of the resource a call deploys, in Azure's REST shape, built
/// from the call's inputs (`inputs` is the object of its params/arguments).
pub fn reshape(module: &ModuleMap, version: &Known, inputs: &Node) -> Node {
    let mut body = Node {
        kind: NodeKind::Object(Vec::new()),
        origin: inputs.origin.clone(),
    };
    for (_, m) in module.inputs_for(version.version) {
        let Some(value) = inputs.present(&m.name) else { continue };
        let value = match &m.each {
            None => value,
            Some(each) => match elements(&value) {
                Ok(items) => Node {
                    kind: NodeKind::List(items.iter().map(|(k, n)| reshape_element(k.as_deref(), n, each, &m.set)).collect()),
                    origin: value.origin.clone(),
                },
                Err(n) => n,
            },
        };
        let value = match &m.fields {
            Some(fields) if matches!(value.kind, NodeKind::Object(_) | NodeKind::Value(Val::Object(_))) => {
                reshape_element(None, &value, fields, &[])
            }
            _ => value,
        };
        let value = if m.negate {
            match &value.kind {
                NodeKind::Value(Val::Bool(b)) => Node::value(Val::Bool(!b), value.origin.clone()),
                NodeKind::Value(Val::Unknown(_)) => value,
                _ => Node::value(Val::unknown(format!("{} is not a bool", m.name)), value.origin.clone()),
            }
        } else {
            value
        };
        set(&mut body, &m.to.path, value);
    }
    body
}

/// The resource's name as a field.
pub fn name_field(body: &Node, fallback: &Origin) -> Field<String> {
    match body.present("name") {
        None => Field::unknown(Unresolved {
            reason: "the module call passes no name".into(),
            origin: fallback.clone(),
        }),
        Some(n) => match n.to_val() {
            Val::Unknown(r) => Field::unknown(Unresolved {
                reason: r.to_string(),
                origin: n.origin,
            }),
            v => match v.to_tf_string() {
                Some(s) => Field::Known(s, n.origin),
                None => Field::unknown(Unresolved {
                    reason: "the name is not a string".into(),
                    origin: n.origin,
                }),
            },
        },
    }
}

/// What the call's outputs evaluate to: its resource's id (in the form the
/// front ends give a declared resource's id, so links resolve the same way)
/// and name.
pub fn outputs(module: &ModuleMap, body: &Node) -> Val {
    let name = body.present("name").map(|n| n.to_val()).unwrap_or(Val::Null);
    let id = match name.to_tf_string() {
        Some(n) => Val::String(format!("/providers/{}/{}", module.produces.resource_type(), n)),
        None => Val::unknown("the resource id of a registry module call is only known at deployment"),
    };
    Val::Object(
        module
            .outputs
            .iter()
            .map(|(k, what)| {
                let v = match what.as_str() {
                    "id" => id.clone(),
                    "name" => name.clone(),
                    // Terraform's `resource` output: the whole resource, of which
                    // kmsguard knows the id and name.
                    "resource" => Val::Object(
                        [("id".to_string(), id.clone()), ("name".to_string(), name.clone())]
                            .into_iter()
                            .collect(),
                    ),
                    other => network::output(other, body),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// A call lowered: what the module deploys, at `address`.
pub struct Call {
    pub address: String,
    /// The call's header, where table-level findings point.
    pub origin: Origin,
    pub conditional: Option<Unresolved>,
    pub dialect: Dialect,
    pub authoring: Authoring,
    /// The call itself, named as related by every finding inside it.
    pub site: Origin,
}

pub fn lower(module: &ModuleMap, body: Node, call: Call) -> Lowered {
    if let Some(lowered) = network::lower(module, &body, &call) {
        return lowered;
    }
    let mut model = Model::default();
    let name = name_field(&body, &call.origin);
    match module.produces {
        Produces::RouteTable | Produces::Nsg => {
            let res = Resource {
                address: call.address,
                name,
                body,
                origin: call.origin,
                conditional: call.conditional,
                dialect: call.dialect,
                authoring: call.authoring,
            };
            if module.produces == Produces::RouteTable {
                let mut t = azure::route_table(res);
                t.called_from.push(call.site);
                model.route_tables.push(t);
            } else {
                let mut n = azure::nsg(res);
                n.called_from.push(call.site);
                model.nsgs.push(n);
            }
        }
        Produces::VirtualNetwork => {
            model.subnets.extend(azure::vnet_subnets(&body, &call.address));
            // The network itself, so that a gateway naming it by id (its
            // GatewaySubnet) and its subnets resolve to the same network.
            model.vnets.push(azure::vnet(call.address.clone(), name, call.origin.clone()));
        }
        Produces::Firewall | Produces::FirewallPolicy | Produces::RuleCollectionGroup | Produces::Gateway => {}
    }
    Lowered {
        model,
        deferred: azure::Deferred::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_parses_and_every_mapped_module_has_known_versions() {
        let cat = Catalogue::parse(MAPPING, VERSIONS).expect("avm.hcl and versions.hcl parse");
        assert!(cat.modules.len() >= 6);
        for m in &cat.modules {
            assert!(!m.known.is_empty(), "{} has no versions in versions.hcl", m.name);
        }
    }

    /// The mapping was checked against every version it covers: each input
    /// a version declares is read or ignored, and each input read is declared.
    #[test]
    fn the_mapping_accounts_for_every_input_of_every_covered_version() {
        let cat = Catalogue::parse(MAPPING, VERSIONS).expect("parses");
        for m in &cat.modules {
            for k in m.known.iter().filter(|k| m.covers(k.version)) {
                let read: Vec<&str> = m.inputs_for(k.version).map(|(_, i)| i.name.as_str()).collect();
                for input in k.inputs.keys() {
                    assert!(
                        read.contains(&input.as_str()) || m.ignore.contains(input),
                        "{} {}: input {input} is neither mapped nor ignored",
                        m.name,
                        k.version
                    );
                }
                for r in &read {
                    assert!(
                        k.inputs.contains_key(*r),
                        "{} {}: maps {r}, which it does not declare",
                        m.name,
                        k.version
                    );
                }
            }
        }
    }

    #[test]
    fn both_bicep_reference_forms_resolve_and_silent_modules_are_silent() {
        let cat = catalogue();
        for r in [
            "br/public:avm/res/network/route-table:0.4.0",
            "br:mcr.microsoft.com/bicep/avm/res/network/route-table:0.4.0",
        ] {
            assert!(matches!(cat.bicep(r), Some(Resolution::Mapped { exact: true, .. })), "{r}");
        }
        assert!(matches!(
            cat.bicep("br/public:avm/res/network/private-dns-zone:0.6.0"),
            Some(Resolution::Silent)
        ));
        // Not AVM, or not the public registry: the caller reports them as before.
        assert!(cat.bicep("br/public:avm/res/web/site:0.1.0").is_none());
        assert!(cat.bicep("br:contoso.azurecr.io/bicep/avm/res/network/route-table:0.4.0").is_none());
        assert!(cat.bicep("ts/specs:rt:1.0").is_none());
    }

    #[test]
    fn an_unknown_patch_is_read_like_its_minor_only_when_the_minor_is_stable() {
        let cat = catalogue();
        // route-table 0.2.x: 0.2.0–0.2.3 read routes the same way.
        match cat.bicep("br/public:avm/res/network/route-table:0.2.9") {
            Some(Resolution::Mapped { version, exact, .. }) => {
                assert!(!exact);
                assert_eq!(version.version, Version(0, 2, 3));
            }
            _ => panic!("0.2.9 should be read as 0.2.3"),
        }
        // No 0.9.x is known.
        match cat.bicep("br/public:avm/res/network/route-table:0.9.0") {
            Some(Resolution::Unchecked(why)) => {
                assert!(why.contains("0.9.0") && why.contains("0.4.0, 0.4.1"), "{why}");
            }
            _ => panic!("0.9.0 is unknown"),
        }
    }

    #[test]
    fn a_minor_whose_read_inputs_changed_is_not_assumed() {
        // A made-up catalogue: 1.0.0 and 1.0.2 declare `routes` with different types.
        let versions = r#"
module "m" {
  version "1.0.0" {
    inputs = { name = "a", routes = "x" }
  }
  version "1.0.2" {
    inputs = { name = "a", routes = "y" }
  }
}"#;
        let mapping = r#"
module "m" {
  produces = "route_table"
  input "name" { to = "name" }
  input "routes" { to = "properties.routes" }
}"#;
        let cat = Catalogue::parse(mapping, versions).expect("parses");
        let m = cat.module("m").expect("m");
        assert!(matches!(cat.exact_or_nearest(m, Version(1, 0, 1)), Resolution::Unchecked(w) if w.contains("changed within 1.0")));
        assert!(matches!(
            cat.exact_or_nearest(m, Version(1, 0, 2)),
            Resolution::Mapped { exact: true, .. }
        ));
    }

    #[test]
    fn terraform_constraints() {
        let cat = catalogue();
        let rt = "Azure/avm-res-network-routetable/azurerm";
        assert!(matches!(
            cat.terraform(rt, Some("0.4.1")),
            Some(Resolution::Mapped { exact: true, .. })
        ));
        assert!(matches!(
            cat.terraform(rt, Some("= 0.4.1")),
            Some(Resolution::Mapped { exact: true, .. })
        ));
        // No version: whatever is newest at init time.
        assert!(matches!(cat.terraform(rt, None), Some(Resolution::Unchecked(_))));
        // Admits minors newer than the data.
        assert!(matches!(cat.terraform(rt, Some("~> 0.4")), Some(Resolution::Unchecked(w)) if w.contains("newer")));
        assert!(matches!(cat.terraform(rt, Some(">= 0.2.0")), Some(Resolution::Unchecked(_))));
        // 0.2.x: disable_bgp_route_propagation throughout, routes typed the same.
        assert!(matches!(cat.terraform(rt, Some("~> 0.2.0")), Some(Resolution::Mapped { .. })));
        assert!(matches!(
            cat.terraform(&format!("registry.terraform.io/{rt}"), Some("0.4.1")),
            Some(Resolution::Mapped { .. })
        ));
        assert!(matches!(
            cat.terraform("Azure/avm-res-keyvault-vault/azurerm", Some("0.9.1")),
            Some(Resolution::Silent)
        ));
        assert!(cat
            .terraform("Azure/avm-res-network-virtualnetwork/azurerm//modules/subnet", Some("0.4.0"))
            .is_none());
        assert!(cat.terraform("hashicorp/consul/aws", Some("1.0.0")).is_none());
        // 0.1.x of the virtual network had another interface and is not mapped.
        assert!(matches!(
            cat.terraform("Azure/avm-res-network-virtualnetwork/azurerm", Some("0.1.4")),
            Some(Resolution::Unchecked(w)) if w.contains("not among the versions")
        ));
    }

    fn lowered(module: &str, version: Version, inputs: Val) -> Model {
        let cat = catalogue();
        let m = cat.module(module).expect("mapped");
        let k = m.known.iter().find(|k| k.version == version).expect("known");
        let origin = Origin::new(crate::source::FileId(0), 0..0);
        let body = reshape(m, k, &Node::value(inputs, origin.clone()));
        let call = Call {
            address: "m".into(),
            origin: origin.clone(),
            conditional: None,
            dialect: Dialect::Bicep,
            authoring: azure::inline_authoring(Dialect::Bicep, String::new(), "m".into(), None),
            site: origin,
        };
        lower(m, body, call).model
    }

    fn obj(pairs: &[(&str, Val)]) -> Val {
        Val::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn s(v: &str) -> Val {
        Val::String(v.into())
    }

    #[test]
    fn nsg_application_security_groups_are_read_in_both_interfaces() {
        use crate::model::AddressMatch;
        let rule = |asg: (&str, Val)| {
            obj(&[
                ("name", s("r")),
                (
                    "properties",
                    obj(&[
                        ("access", s("Deny")),
                        ("direction", s("Outbound")),
                        ("priority", Val::Number(100.0)),
                        ("protocol", s("*")),
                        asg,
                    ]),
                ),
            ])
        };
        let old = rule((
            "destinationApplicationSecurityGroups",
            Val::List(vec![obj(&[("id", s("/asg/web"))])]),
        ));
        let new = rule(("destinationApplicationSecurityGroupResourceIds", Val::List(vec![s("/asg/web")])));
        for (v, r) in [(Version(0, 1, 3), old), (Version(0, 5, 0), new)] {
            let m = lowered(
                "avm/res/network/network-security-group",
                v,
                obj(&[("name", s("nsg")), ("securityRules", Val::List(vec![r]))]),
            );
            let rule = &m.nsgs[0].rules[0];
            assert_eq!(
                rule.destinations.iter().filter_map(|d| d.known()).collect::<Vec<_>>(),
                vec![&AddressMatch::ApplicationSecurityGroup("/asg/web".into())],
                "{v}"
            );
            assert_eq!(rule.access.known(), Some(&crate::model::Access::Deny), "{v}");
        }
    }

    #[test]
    fn terraform_bgp_propagation_is_negated_from_0_3_and_read_as_is_before() {
        let rt = "Azure/avm-res-network-routetable/azurerm";
        let m = lowered(
            rt,
            Version(0, 4, 1),
            obj(&[("name", s("rt")), ("bgp_route_propagation_enabled", Val::Bool(false))]),
        );
        assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&false));
        let m = lowered(
            rt,
            Version(0, 2, 0),
            obj(&[("name", s("rt")), ("disable_bgp_route_propagation", Val::Bool(true))]),
        );
        assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&false));
        let m = lowered(rt, Version(0, 2, 0), obj(&[("name", s("rt"))]));
        assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&true));
        // An input of another version is not read.
        let m = lowered(
            rt,
            Version(0, 2, 0),
            obj(&[("name", s("rt")), ("bgp_route_propagation_enabled", Val::Bool(false))]),
        );
        assert_eq!(m.route_tables[0].propagate_gateway_routes.known(), Some(&true));
    }

    #[test]
    fn outputs_give_the_id_a_subnet_links_by() {
        let cat = catalogue();
        let m = cat.module("avm/res/network/route-table").expect("mapped");
        let origin = Origin::new(crate::source::FileId(0), 0..0);
        let k = m.known.last().expect("versions");
        let body = reshape(m, k, &Node::value(obj(&[("name", s("rt-a"))]), origin.clone()));
        let Val::Object(o) = outputs(m, &body) else { panic!("object") };
        assert_eq!(o.get("resourceId"), Some(&s("/providers/Microsoft.Network/routeTables/rt-a")));
        assert_eq!(o.get("name"), Some(&s("rt-a")));
        let body = reshape(m, k, &Node::value(obj(&[("name", Val::unknown("a parameter"))]), origin));
        let Val::Object(o) = outputs(m, &body) else { panic!("object") };
        assert!(o.get("resourceId").is_some_and(Val::is_unknown));
    }

    #[test]
    fn constraints_parse_like_terraform() {
        let c = Constraint::parse("~> 0.4.0").expect("parses");
        assert!(c.admits(Version(0, 4, 7)) && !c.admits(Version(0, 5, 0)) && !c.admits(Version(0, 3, 9)));
        let c = Constraint::parse("~> 1.2").expect("parses");
        assert!(c.admits(Version(1, 9, 0)) && !c.admits(Version(2, 0, 0)));
        let c = Constraint::parse(">= 0.2.0, < 0.3.0").expect("parses");
        assert!(c.admits(Version(0, 2, 5)) && !c.admits(Version(0, 3, 0)));
        assert!(Constraint::parse("latest").is_none());
    }
}
