#![no_main]
//! `.kmsguard.hcl` through the config loader and into the policy pack: on a
//! pull request the config file is written by the pull request's author.
//! The parser runs without its watchdog, as in the terraform target, and
//! inputs whose brackets nest deeper than 12 are skipped for the same reason
//! (hcl-edit's backtracking, bounded in the tool by `--parse-timeout`).
use std::path::Path;
use std::sync::OnceLock;

use kmsguard::ingest::terraform::brackets::{self, Scan};
use kmsguard::policy::Policy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static POLICY: OnceLock<Option<Policy>> = OnceLock::new();
    let Some(policy) = POLICY.get_or_init(|| Policy::embedded().ok()).as_ref() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Scan::Balanced { depth, .. } | Scan::NoOpinion { depth, .. } = brackets::scan(text, 256) {
        if depth > 12 {
            return;
        }
    }
    let path = Path::new("fuzz-repository-that-does-not-exist/.kmsguard.hcl");
    if let Ok(config) = kmsguard::config::parse(path, text, policy, None) {
        let mut policy = policy.clone();
        let _ = kmsguard::config::apply_to_policy(&config, &mut policy);
    }
});
