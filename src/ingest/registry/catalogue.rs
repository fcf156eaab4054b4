//! Loading the catalogue: the mapping of `policies/modules/avm.hcl` and
//! the released versions' interfaces of `policies/modules/versions.hcl`.

use std::collections::BTreeMap;

use super::version::{Constraint, Version};
use super::Produces;

/// Why `silent.hcl` (written by `silent.py`) is refused.
#[derive(Debug, thiserror::Error)]
pub(super) enum SilentError {
    #[error("silent.hcl: {0}")]
    Parse(#[source] hcl::Error),
    #[error("silent.hcl: unexpected block {0}")]
    Block(String),
    #[error("silent.hcl: unexpected attribute {0}")]
    Attribute(String),
    #[error("silent.hcl: silent_bicep is not a list")]
    NotAList,
    #[error("silent.hcl: an entry is not a string")]
    NotAString,
    #[error("silent.hcl: \"{0}\" is not an avm/res/… or avm/ptn/… module path")]
    NotAPath(String),
    #[error("silent.hcl: \"{0}\" is a module avm.hcl maps")]
    Mapped(String),
    #[error("silent.hcl: \"{0}\" is listed twice")]
    Twice(String),
}

/// Why the embedded mapping (`avm.hcl`) or version list (`versions.hcl`)
/// does not load: a defect of the data shipped with this build.
#[derive(Debug, thiserror::Error)]
pub(super) enum CatalogueError {
    #[error("avm.hcl: {0}")]
    Mapping(#[source] hcl::Error),
    #[error("versions.hcl: {0}")]
    Versions(#[source] hcl::Error),
    #[error("a module block has no name")]
    UnnamedModule,
    #[error("{module}: produces {kind:?} is not a kind kmsguard lowers")]
    UnknownKind { module: String, kind: Option<String> },
    #[error("{module}: versions \"{constraint}\" is not a constraint")]
    BadConstraint { module: String, constraint: String },
    #[error("an input block has no name")]
    UnnamedInput,
    #[error("{module}: input {input} has no `to`")]
    NoTo { module: String, input: String },
    #[error("{module}: input {input}: {source}")]
    Input {
        module: String,
        input: String,
        #[source]
        source: MapError,
    },
    #[error(transparent)]
    Map(#[from] MapError),
    #[error(transparent)]
    Silent(#[from] SilentError),
}

/// An attribute that should be an object of strings and is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum MapError {
    #[error("expected an object")]
    NotAnObject,
    #[error("object keys must be names or strings")]
    Key,
    #[error("{0}: expected a string")]
    NotAString(String),
}

/// Where one element field goes: a path, and whether a list of ids becomes `[{ id }]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) path: Vec<String>,
    pub(super) wrap: Option<String>,
}

impl Target {
    pub(super) fn parse(s: &str) -> Target {
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
pub(super) struct InputMap {
    pub(super) name: String,
    pub(super) versions: Option<Constraint>,
    pub(super) to: Target,
    pub(super) negate: bool,
    pub(super) each: Option<Vec<(String, Target)>>,
    /// Reshapes a single object input like one element of `each`.
    pub(super) fields: Option<Vec<(String, Target)>>,
    /// Constants the module writes into every element (path = value).
    pub(super) set: Vec<(String, String)>,
}

/// One released version and its inputs (name → hash of the declared type).
#[derive(Debug, Clone)]
pub struct Known {
    pub version: Version,
    pub(super) inputs: BTreeMap<String, String>,
}

/// A mapped module with the versions it was checked against.
#[derive(Debug, Clone)]
pub struct ModuleMap {
    pub name: String,
    pub produces: Produces,
    pub(super) versions: Option<Constraint>,
    /// Inputs that hold nothing kmsguard models; the tests check that every
    /// declared input is read or listed here.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) ignore: Vec<String>,
    pub(super) inputs: Vec<InputMap>,
    pub(super) outputs: Vec<(String, String)>,
    pub(super) known: Vec<Known>,
}

impl ModuleMap {
    pub(super) fn covers(&self, v: Version) -> bool {
        self.versions.as_ref().is_none_or(|c| c.admits(v))
    }

    /// The input maps that apply to `v`.
    pub(super) fn inputs_for(&self, v: Version) -> impl Iterator<Item = (usize, &InputMap)> {
        self.inputs
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.versions.as_ref().is_none_or(|c| c.admits(v)))
    }

    /// What the mapping reads from a version: which map applies to each
    /// input and the input's declared type. Two versions with the same
    /// signature are read the same way.
    pub(super) fn signature<'k>(&self, k: &'k Known) -> Vec<(usize, Option<&'k String>)> {
        self.inputs_for(k.version).map(|(i, m)| (i, k.inputs.get(&m.name))).collect()
    }

    pub(super) fn known_list(&self) -> String {
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
    pub(super) modules: Vec<ModuleMap>,
    pub(super) silent_bicep: Vec<String>,
    pub(super) silent_terraform: Vec<String>,
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

/// A Bicep registry module path as the registry spells it:
/// `avm/res/…` or `avm/ptn/…`, lower-case words joined by `-`.
fn silent_path(path: &str) -> bool {
    let mut parts = path.split('/');
    let head = (parts.next(), parts.next());
    let rest: Vec<&str> = parts.collect();
    matches!(head, (Some("avm"), Some("res" | "ptn")))
        && rest.len() >= 2
        && rest.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('-')
                && !p.ends_with('-')
                && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

fn string_map(e: &hcl::Expression) -> Result<Vec<(String, String)>, MapError> {
    let hcl::Expression::Object(o) = e else {
        return Err(MapError::NotAnObject);
    };
    o.iter()
        .map(|(k, v)| {
            let key = match k {
                hcl::ObjectKey::Identifier(i) => i.to_string(),
                hcl::ObjectKey::Expression(hcl::Expression::String(s)) => s.clone(),
                _ => return Err(MapError::Key),
            };
            match v {
                hcl::Expression::String(s) => Ok((key, s.clone())),
                _ => Err(MapError::NotAString(key)),
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
    pub(super) fn parse(mapping: &str, versions: &str) -> Result<Catalogue, CatalogueError> {
        let body = hcl::parse(mapping).map_err(CatalogueError::Mapping)?;
        let known = Self::parse_versions(versions)?;
        let mut cat = Catalogue {
            silent_bicep: Vec::new(),
            silent_terraform: attr(&body, "silent_terraform").map(strings).unwrap_or_default(),
            modules: Vec::new(),
        };
        for b in body.blocks().filter(|b| b.identifier() == "module") {
            let name = b
                .labels()
                .first()
                .map(|l| l.as_str().to_string())
                .ok_or(CatalogueError::UnnamedModule)?;
            let mb = b.body();
            let produces = match attr_string(mb, "produces").as_deref() {
                Some("route_table") => Produces::RouteTable,
                Some("nsg") => Produces::Nsg,
                Some("virtual_network") => Produces::VirtualNetwork,
                Some("subnet") => Produces::Subnet,
                Some("peering") => Produces::Peering,
                Some("hub_networking") => Produces::HubNetworking,
                Some("firewall") => Produces::Firewall,
                Some("firewall_policy") => Produces::FirewallPolicy,
                Some("rule_collection_group") => Produces::RuleCollectionGroup,
                Some("gateway") => Produces::Gateway,
                other => {
                    return Err(CatalogueError::UnknownKind {
                        module: name,
                        kind: other.map(str::to_string),
                    })
                }
            };
            let constraint = |body: &hcl::Body| -> Result<Option<Constraint>, CatalogueError> {
                match attr_string(body, "versions") {
                    None => Ok(None),
                    Some(s) => Constraint::parse(&s).map(Some).ok_or_else(|| CatalogueError::BadConstraint {
                        module: name.clone(),
                        constraint: s,
                    }),
                }
            };
            let mut inputs = Vec::new();
            for ib in mb.blocks().filter(|b| b.identifier() == "input") {
                let input = ib
                    .labels()
                    .first()
                    .map(|l| l.as_str().to_string())
                    .ok_or(CatalogueError::UnnamedInput)?;
                let to = attr_string(ib.body(), "to").ok_or_else(|| CatalogueError::NoTo {
                    module: name.clone(),
                    input: input.clone(),
                })?;
                let in_input = |source: MapError| CatalogueError::Input {
                    module: name.clone(),
                    input: input.clone(),
                    source,
                };
                let targets = |key: &str| -> Result<Option<Vec<(String, Target)>>, CatalogueError> {
                    match attr(ib.body(), key) {
                        None => Ok(None),
                        Some(e) => Ok(Some(
                            string_map(e)
                                .map_err(in_input)?
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
                    .map_err(in_input)?
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

    /// Adds the Bicep modules of `silent.hcl` (written by `silent.py`):
    /// `silent_bicep = ["avm/res/…", …]` and nothing else. A malformed entry
    /// is an error rather than skipped, so a bad regeneration fails the
    /// tests instead of quietly reporting (or hiding) calls; so is a module
    /// the mapping reads, which would otherwise never be lowered.
    pub(super) fn with_silent(mut self, text: &str) -> Result<Catalogue, SilentError> {
        let body = hcl::parse(text).map_err(SilentError::Parse)?;
        if let Some(b) = body.blocks().next() {
            return Err(SilentError::Block(b.identifier().to_string()));
        }
        let mut list = Vec::new();
        for a in body.attributes() {
            if a.key() != "silent_bicep" {
                return Err(SilentError::Attribute(a.key().to_string()));
            }
            let hcl::Expression::Array(items) = a.expr() else {
                return Err(SilentError::NotAList);
            };
            for item in items {
                let hcl::Expression::String(path) = item else {
                    return Err(SilentError::NotAString);
                };
                if !silent_path(path) {
                    return Err(SilentError::NotAPath(path.clone()));
                }
                if self.module(path).is_some() {
                    return Err(SilentError::Mapped(path.clone()));
                }
                if list.contains(path) {
                    return Err(SilentError::Twice(path.clone()));
                }
                list.push(path.clone());
            }
        }
        self.silent_bicep = list;
        Ok(self)
    }

    fn parse_versions(text: &str) -> Result<BTreeMap<String, Vec<Known>>, CatalogueError> {
        let body = hcl::parse(text).map_err(CatalogueError::Versions)?;
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

    pub(super) fn module(&self, name: &str) -> Option<&ModuleMap> {
        self.modules.iter().find(|m| m.name.eq_ignore_ascii_case(name))
    }
}
