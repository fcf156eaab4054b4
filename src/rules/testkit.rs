//! Builders for rule tests: the model builders of `kmsguard_core` (shared
//! with its analysis tests), and a run of every rule over a model.

pub use kmsguard_core::model::testkit::*;

use crate::model::Model;
use crate::policy::Policy;

pub fn policy() -> Policy {
    Policy::embedded().expect("embedded policy loads")
}

/// Runs every rule over a model in the public cloud and returns (code, message) pairs.
pub fn run(model: &Model) -> Vec<(&'static str, String)> {
    let policy = policy();
    let ctx = super::Context {
        model,
        policy: &policy,
        cloud: "public",
        cloud_forced: false,
        assume_bgp_default_route: false,
    };
    super::check(&ctx).into_iter().map(|f| (f.code, f.message)).collect()
}

pub fn codes(model: &Model) -> Vec<&'static str> {
    run(model).into_iter().map(|(c, _)| c).collect()
}
