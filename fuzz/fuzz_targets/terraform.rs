#![no_main]
//! Terraform HCL through parse, evaluation, lowering and every rule.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use kmsguard::ingest::terraform::{parse, ModuleSet, TfModule, VarInputs};
use kmsguard::source::FileId;
use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = parse(FileId(0), Arc::from(text)) else { return };
    let dir = PathBuf::from("fuzz-module-that-does-not-exist");
    let module = TfModule { files: vec![&file], json_files: vec![], auto_vars: vec![], auto_vars_json: vec![] };
    let set = ModuleSet::new(BTreeMap::from([(dir.clone(), module)]));
    let model = set.lower_root(&dir, &VarInputs::default(), None);
    common::rules(&model);
});
