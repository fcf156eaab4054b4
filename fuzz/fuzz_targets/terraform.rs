#![no_main]
//! Terraform HCL through parse, evaluation, lowering and every rule.
use std::path::PathBuf;
use std::sync::Arc;

use kmsguard::ingest::terraform::{parse, ModuleSet, TfModule, VarInputs};
use kmsguard::source::FileId;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // hcl-edit backtracks exponentially on deeply nested invalid brackets.
    // kmsguard bounds that with a watchdog thread (tests/hostile.rs), which
    // would leave threads running here; nesting up to 16 stays fast.
    if depth(text) > 16 {
        return;
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
    let set = ModuleSet::new([dir.clone()], &load);
    let model = set.lower_root(&dir, &module, &VarInputs::default(), None, 1);
    common::rules(&model);
});

fn depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}
