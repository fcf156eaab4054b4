// Shared by the fuzz targets: run every rule over a model, as `check` does.
use std::sync::OnceLock;

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
