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

mod catalogue;
mod lower;
mod matching;
mod network;
mod pattern;
mod reshape;
#[cfg(test)]
mod tests;
mod version;

use std::sync::OnceLock;

pub use catalogue::{Catalogue, Known, ModuleMap};
pub use lower::{join_associated_subnets, lower, Call};
pub use matching::undeclared_inputs;
pub use network::Lowered;
pub use reshape::{name_field, outputs, reshape};
pub use version::Version;

const MAPPING: &str = include_str!("../../../policies/modules/avm.hcl");
const VERSIONS: &str = include_str!("../../../policies/modules/versions.hcl");
const SILENT: &str = include_str!("../../../policies/modules/silent.hcl");

/// What a module deploys, and so how its reshaped body is lowered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Produces {
    RouteTable,
    Nsg,
    /// The network, its subnets and its peerings (with the reverse
    /// peerings the module creates on the remote network).
    VirtualNetwork,
    /// One subnet of a network named by id (Terraform's `//modules/subnet`).
    Subnet,
    /// One peering of a network named by id, and its reverse
    /// (Terraform's `//modules/peering`).
    Peering,
    /// The hub-networking patterns: several resources per hub (see `pattern`).
    HubNetworking,
    Firewall,
    FirewallPolicy,
    RuleCollectionGroup,
    Gateway,
}

impl Produces {
    pub(super) fn resource_type(self) -> &'static str {
        match self {
            Produces::RouteTable => "Microsoft.Network/routeTables",
            Produces::Nsg => "Microsoft.Network/networkSecurityGroups",
            Produces::VirtualNetwork => "Microsoft.Network/virtualNetworks",
            Produces::Subnet => "Microsoft.Network/virtualNetworks/subnets",
            Produces::Peering => "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
            Produces::HubNetworking => "Microsoft.Network/virtualNetworks",
            Produces::Firewall => "Microsoft.Network/azureFirewalls",
            Produces::FirewallPolicy => "Microsoft.Network/firewallPolicies",
            Produces::RuleCollectionGroup => "Microsoft.Network/firewallPolicies/ruleCollectionGroups",
            Produces::Gateway => "Microsoft.Network/virtualNetworkGateways",
        }
    }
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
    CAT.get_or_init(|| {
        Catalogue::parse(MAPPING, VERSIONS)
            .and_then(|c| c.with_silent(SILENT).map_err(catalogue::CatalogueError::from))
            .unwrap_or_default()
    })
}
