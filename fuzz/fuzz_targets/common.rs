#![allow(dead_code)] // each target uses part of it
// Shared by the fuzz targets: run every rule over a model, as `check` does.
use std::sync::OnceLock;

use kmsguard::limits::Limits;
use kmsguard::model::Model;
use kmsguard::policy::Policy;

pub fn rules(model: &Model) {
    static POLICY: OnceLock<Option<Policy>> = OnceLock::new();
    let Some(policy) = POLICY.get_or_init(|| Policy::embedded().ok()).as_ref() else {
        return;
    };
    let ctx = kmsguard::rules::Context {
        model,
        policy,
        cloud: "public",
        cloud_forced: false,
        assume_bgp_default_route: true,
    };
    let _ = kmsguard::rules::check(&ctx);
}

/// Smaller evaluation bounds than the CLI's, so that an input that spends
/// its whole budget costs milliseconds, not a second; the bounding code is
/// the same.
pub fn limits() -> Limits {
    Limits {
        eval_steps: 200_000,
        collection_size: 10_000,
        ..Limits::default()
    }
}
