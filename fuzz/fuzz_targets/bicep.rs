#![no_main]
//! Bicep through parse, evaluation, lowering and every rule.
use std::path::Path;
use std::sync::Arc;

use kmsguard::ingest::bicep::{lower_all, parse};
use kmsguard::source::FileId;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = parse(FileId(0), Arc::from(text), Path::new("main.bicep")) else {
        return;
    };
    for model in lower_all(std::slice::from_ref(&file), &Default::default(), common::limits()) {
        common::rules(&model);
    }
});
