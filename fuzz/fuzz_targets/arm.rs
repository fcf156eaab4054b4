#![no_main]
//! ARM JSON and its expression language through parse, evaluation, lowering
//! and every rule; any string is also tried as an expression on its own.
use std::sync::Arc;

use kmsguard::ingest::arm::{lower, parse};
use kmsguard::source::FileId;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = kmsguard_arm_syntax::classify_string(text);
    let _ = kmsguard::ingest::arm::Scope::new(Default::default(), None, 0).string(text, 0);
    if let Ok(Some(doc)) = parse(FileId(0), Arc::from(text)) {
        if doc.is_template {
            common::rules(&lower(&doc, None, common::limits()));
        }
    }
});
