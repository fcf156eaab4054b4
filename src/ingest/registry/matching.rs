//! Which known version a call is read as: exact versions, Terraform
//! constraints, and unknown versions read like a stable major.minor.

use super::catalogue::{Catalogue, Known, ModuleMap};
use super::version::{Constraint, Op, Version};
use super::Resolution;

impl Catalogue {
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
        let s = source.strip_prefix("registry.terraform.io/").unwrap_or(source);
        // A submodule (`…/azurerm//modules/subnet`) is read only when mapped itself.
        if s.contains("//") && self.module(s.trim_end_matches('/')).is_none() {
            return None;
        }
        let s = s.trim_end_matches('/');
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

    pub(super) fn exact_or_nearest<'c>(&'c self, module: &'c ModuleMap, v: Version) -> Resolution<'c> {
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
