//! The policy pack: the data behind the rules (KMS addresses per cloud,
//! platform service tags and their flows) and each rule's documentation.
//!
//! The pack is HCL in `policies/`, embedded in the binary at build time;
//! `--policy DIR` replaces it with the `*.hcl` files of DIR, so a team can
//! add endpoints of its own.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use crate::model::Protocol;

const EMBEDDED: &[(&str, &str)] = &[
    ("policies/endpoints.hcl", include_str!("../policies/endpoints.hcl")),
    ("policies/rules.hcl", include_str!("../policies/rules.hcl")),
];

pub use kmsguard_core::diagnostic::Severity;

/// The loaded pack.
#[derive(Debug, Clone)]
pub struct Policy {
    pub endpoints: Vec<Endpoint>,
    pub platform_services: Vec<PlatformService>,
    pub rules: Vec<RuleDoc>,
    /// The pack's own version (`pack_version = "…"` in one of its files),
    /// printed by `--version`: the data changes on its own schedule.
    pub version: Option<String>,
    /// The files the pack was read from, for errors about the whole pack.
    files: Vec<String>,
}

/// An endpoint that must be reached from an Azure public IP, with its addresses per cloud.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub title: String,
    pub purpose: String,
    pub protocol: Protocol,
    pub port: u16,
    pub clouds: BTreeMap<String, CloudAddresses>,
}

/// One endpoint's addresses in one cloud.
#[derive(Debug, Clone, Default)]
pub struct CloudAddresses {
    pub names: Vec<String>,
    /// Addresses a forced-tunnel table must route to next hop Internet.
    pub required: Vec<IpAddr>,
    /// Addresses no longer in use; a route to them is harmless.
    pub retired: Vec<IpAddr>,
    /// Addresses printed by mistake in documentation.
    pub typos: Vec<IpAddr>,
}

impl Endpoint {
    /// The endpoint's addresses in `cloud`, or in `*` when it applies to every cloud.
    pub fn addresses(&self, cloud: &str) -> Option<&CloudAddresses> {
        self.clouds.get(cloud).or_else(|| self.clouds.get("*"))
    }
}

/// Platform traffic that NSGs only filter when a rule names its service tag.
#[derive(Debug, Clone)]
pub struct PlatformService {
    pub tag: String,
    pub title: String,
    pub rule: String,
    pub address: Option<IpAddr>,
    pub flows: Vec<(Protocol, u16)>,
}

/// A rule's code, name, default severity and documentation.
#[derive(Debug, Clone)]
pub struct RuleDoc {
    pub code: String,
    pub name: String,
    pub severity: Severity,
    pub summary: String,
    pub what: String,
    pub why: String,
    pub example: String,
    pub fix: String,
    pub references: Vec<String>,
}

/// A pack that could not be loaded: which file, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub message: String,
}

impl std::error::Error for PolicyError {}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "policy pack {}: {}", self.file, self.message)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    #[serde(default)]
    pack_version: Option<String>,
    #[serde(default)]
    endpoint: BTreeMap<String, RawEndpoint>,
    #[serde(default)]
    platform_service: BTreeMap<String, RawPlatformService>,
    #[serde(default)]
    rule: BTreeMap<String, RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    title: String,
    #[serde(default)]
    purpose: String,
    protocol: String,
    port: u16,
    #[serde(default)]
    cloud: BTreeMap<String, RawCloud>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCloud {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(default)]
    retired: Vec<String>,
    #[serde(default)]
    typos: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatformService {
    title: String,
    rule: String,
    #[serde(default)]
    address: Option<String>,
    flows: Vec<RawFlow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlow {
    protocol: String,
    port: u16,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    severity: Severity,
    summary: String,
    what: String,
    why: String,
    example: String,
    fix: String,
    #[serde(default)]
    references: Vec<String>,
}

impl Policy {
    /// The pack built into the binary.
    pub fn embedded() -> Result<Policy, PolicyError> {
        let files: Vec<(String, String)> = EMBEDDED.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        Policy::from_files(&files)
    }

    /// Loads every `*.hcl` file of `dir`, in name order, as a replacement pack.
    pub fn from_dir(dir: &Path) -> Result<Policy, PolicyError> {
        let err = |message: String| PolicyError {
            file: dir.display().to_string(),
            message,
        };
        let entries = std::fs::read_dir(dir).map_err(|e| err(format!("cannot read directory: {e}")))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "hcl"))
            .collect();
        paths.sort();
        if paths.is_empty() {
            return Err(err("holds no *.hcl file".into()));
        }
        let mut files = Vec::new();
        for p in paths {
            // Bounded and regular files only, like every input: the pack may sit in the checked tree.
            let text = crate::discover::read_text(&p, 16 * 1024 * 1024).map_err(|message| PolicyError {
                file: p.display().to_string(),
                message: message.to_string(),
            })?;
            files.push((p.display().to_string(), text));
        }
        Policy::from_files(&files)
    }

    fn from_files(files: &[(String, String)]) -> Result<Policy, PolicyError> {
        let mut pack = RawPack::default();
        for (name, text) in files {
            let raw: RawPack = hcl::from_str(text).map_err(|e| PolicyError {
                file: name.clone(),
                message: e.to_string(),
            })?;
            if raw.pack_version.is_some() {
                pack.pack_version = raw.pack_version;
            }
            pack.endpoint.extend(raw.endpoint);
            pack.platform_service.extend(raw.platform_service);
            pack.rule.extend(raw.rule);
        }
        let origin = files.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
        let err = |message: String| PolicyError {
            file: origin.clone(),
            message,
        };

        let mut endpoints = Vec::new();
        for (id, e) in pack.endpoint {
            endpoints.push(endpoint(id, e).map_err(|e| err(e.to_string()))?);
        }

        let mut platform_services = Vec::new();
        for (tag, p) in pack.platform_service {
            let address = match p.address {
                Some(a) => Some(
                    a.parse::<IpAddr>()
                        .map_err(|_| err(format!("platform_service \"{tag}\": \"{a}\" is not an IP address")))?,
                ),
                None => None,
            };
            let mut flows = Vec::new();
            for f in p.flows {
                let protocol = Protocol::parse(&f.protocol)
                    .ok_or_else(|| err(format!("platform_service \"{tag}\": unknown protocol \"{}\"", f.protocol)))?;
                flows.push((protocol, f.port));
            }
            platform_services.push(PlatformService {
                tag,
                title: p.title,
                rule: p.rule,
                address,
                flows,
            });
        }

        let rules: Vec<RuleDoc> = pack
            .rule
            .into_iter()
            .map(|(code, r)| RuleDoc {
                code,
                name: r.name,
                severity: r.severity,
                summary: r.summary,
                what: r.what,
                why: r.why,
                example: r.example,
                fix: r.fix,
                references: r.references,
            })
            .collect();
        Ok(Policy {
            endpoints,
            platform_services,
            rules,
            version: pack.pack_version,
            files: files.iter().map(|(n, _)| n.clone()).collect(),
        })
    }

    /// Fails on the first of `codes` the pack does not document. The caller
    /// passes the codes it checks: the pack is data and knows no rules.
    pub fn require_docs<'c>(&self, mut codes: impl Iterator<Item = &'c str>) -> Result<(), PolicyError> {
        match codes.find(|code| !self.rules.iter().any(|r| r.code == *code)) {
            Some(code) => Err(PolicyError {
                file: self.files.join(", "),
                message: format!("rule {code} has no documentation block (rule \"{code}\" {{ … }})"),
            }),
            None => Ok(()),
        }
    }

    /// Adds (or replaces, by id) the `endpoint` blocks of an HCL text, as a
    /// config file declares them.
    pub fn add_endpoints(&mut self, file: &str, text: &str) -> Result<(), PolicyError> {
        let err = |message: String| PolicyError {
            file: file.to_string(),
            message,
        };
        let raw: RawPack = hcl::from_str(text).map_err(|e| err(e.to_string()))?;
        for (id, e) in raw.endpoint {
            let new = endpoint(id, e).map_err(|e| err(e.to_string()))?;
            self.endpoints.retain(|x| x.id != new.id);
            self.endpoints.push(new);
        }
        self.endpoints.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(())
    }

    /// Finds a rule by code or name, case-insensitively.
    pub fn rule(&self, code_or_name: &str) -> Option<&RuleDoc> {
        self.rules
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name.eq_ignore_ascii_case(code_or_name))
    }

    pub fn severity(&self, code: &str) -> Severity {
        self.rule(code).map(|r| r.severity).unwrap_or(Severity::Error)
    }

    pub fn name(&self, code: &str) -> &str {
        self.rule(code).map(|r| r.name.as_str()).unwrap_or("")
    }

    /// The clouds some endpoint knows, for validating `--cloud`.
    pub fn clouds(&self) -> Vec<&str> {
        let mut c: Vec<&str> = self
            .endpoints
            .iter()
            .flat_map(|e| e.clouds.keys().map(|k| k.as_str()))
            .filter(|k| *k != "*")
            .collect();
        c.sort();
        c.dedup();
        c
    }
}

/// An `endpoint` block whose protocol or addresses cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("endpoint \"{id}\": unknown protocol \"{protocol}\"")]
    Protocol { id: String, protocol: String },
    /// `list`: required, retired or typo.
    #[error("endpoint \"{id}\", cloud \"{cloud}\": {list} address \"{address}\" is not an IP address")]
    Address {
        id: String,
        cloud: String,
        list: &'static str,
        address: String,
    },
}

fn endpoint(id: String, e: RawEndpoint) -> Result<Endpoint, EndpointError> {
    let protocol = Protocol::parse(&e.protocol).ok_or_else(|| EndpointError::Protocol {
        id: id.clone(),
        protocol: e.protocol.clone(),
    })?;
    let mut clouds = BTreeMap::new();
    for (cloud, c) in e.cloud {
        let ips = |list: &[String], what: &'static str| -> Result<Vec<IpAddr>, EndpointError> {
            list.iter()
                .map(|s| {
                    s.parse::<IpAddr>().map_err(|_| EndpointError::Address {
                        id: id.clone(),
                        cloud: cloud.clone(),
                        list: what,
                        address: s.clone(),
                    })
                })
                .collect()
        };
        clouds.insert(
            cloud.clone(),
            CloudAddresses {
                required: ips(&c.required, "required")?,
                retired: ips(&c.retired, "retired")?,
                typos: ips(&c.typos, "typo")?,
                names: c.names,
            },
        );
    }
    Ok(Endpoint {
        id,
        title: e.title,
        purpose: e.purpose,
        protocol,
        port: e.port,
        clouds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_pack_loads_with_public_kms_addresses() {
        let p = Policy::embedded().expect("embedded pack");
        let kms = p.endpoints.iter().find(|e| e.id == "kms").expect("kms endpoint");
        let public = kms.addresses("public").expect("public cloud");
        let req: Vec<String> = public.required.iter().map(|a| a.to_string()).collect();
        assert_eq!(req, ["20.118.99.224", "40.83.235.53"]);
        assert_eq!(kms.port, 1688);
        assert_eq!(p.clouds(), ["china", "germany", "public", "usgov"]);
    }

    #[test]
    fn rules_are_found_by_code_or_name() {
        let p = Policy::embedded().expect("embedded pack");
        assert_eq!(p.rule("forced-tunnel-blocks-kms").map(|r| r.code.as_str()), Some("KG101"));
        assert_eq!(p.rule("kg101").map(|r| r.name.as_str()), Some("forced-tunnel-blocks-kms"));
    }

    #[test]
    fn a_pack_missing_a_required_rule_block_names_it_and_its_files() {
        let p = Policy::embedded().expect("embedded pack");
        assert_eq!(p.require_docs(["KG101", "KG202"].into_iter()), Ok(()));
        let e = p
            .require_docs(["KG101", "KG777", "KG778"].into_iter())
            .expect_err("KG777 is not documented");
        assert_eq!(e.file, "policies/endpoints.hcl, policies/rules.hcl");
        assert_eq!(e.message, "rule KG777 has no documentation block (rule \"KG777\" { … })");
    }

    #[test]
    fn a_bad_address_in_a_pack_is_a_clear_error() {
        let files = vec![(
            "x.hcl".to_string(),
            r#"endpoint "lic" {
                 title = "licence"
                 protocol = "Tcp"
                 port = 27000
                 cloud "*" { required = ["not-an-ip"] }
               }"#
            .to_string(),
        )];
        let e = Policy::from_files(&files).expect_err("must fail");
        assert!(e.message.contains("not-an-ip"), "{}", e.message);
    }
}
