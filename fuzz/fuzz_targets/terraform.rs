#![no_main]
//! Terraform HCL through parse, evaluation, lowering and every rule. The
//! parser runs without its watchdog thread, so that libFuzzer's `-timeout`
//! reports any input that makes it slow.
//!
//! Inputs whose brackets nest deeper than 12 are skipped. On invalid HCL
//! whose error sits inside nested binary-operator chains, hcl-edit re-parses
//! each level about twice (about 2.2^depth: 0.2 s at depth 16, minutes past
//! 24); kmsguard bounds that with the parse watchdog (`--parse-timeout`,
//! tests/hostile.rs), which a fuzzer cannot use because the abandoned thread
//! keeps running. Unbalanced brackets, the common case, are rejected by the
//! bracket pre-scan and are fuzzed at any depth.
use std::path::PathBuf;
use std::sync::Arc;

use kmsguard::ingest::terraform::brackets::{self, Scan};
use kmsguard::ingest::terraform::{parse_unguarded as parse, ModuleSet, TfModule, VarInputs};
use kmsguard::source::FileId;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Scan::Balanced { depth, .. } | Scan::NoOpinion { depth, .. } = brackets::scan(text, 256) {
        if depth > 12 {
            return;
        }
    }
    let Ok(file) = parse(FileId(0), Arc::from(text)) else { return };
    let dir = PathBuf::from("fuzz-module-that-does-not-exist");
    let module = TfModule {
        files: vec![file],
        ..TfModule::default()
    };
    // Every local module call (`source = "./"`) reads this same input again.
    let load = |_: &std::path::Path| {
        parse(FileId(0), Arc::from(text)).ok().map(|f| TfModule {
            files: vec![f],
            ..TfModule::default()
        })
    };
    let set = ModuleSet::new([dir.clone()], &load).with_limits(common::limits());
    let model = set.lower_root(&dir, &module, &VarInputs::default(), None, 1);
    common::rules(&model);
});


