#![no_main]
//! The ARM expression language on its own: any string is parsed as a
//! template string (a literal, or an expression when written `[...]`) and
//! evaluated with parameters and variables of every shape in scope. Seeded
//! with the expressions of the example templates; much faster per input
//! than the whole-template target, so it reaches deeper into the functions.
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use kmsguard::ingest::arm::Scope;
use kmsguard::ingest::value::Val;
use kmsguard_arm_syntax::Json;
use kmsguard::limits::Budget;
use libfuzzer_sys::fuzz_target;

mod common;

const VARIABLES: &str = r#"{
  "prefix": "rt-",
  "kms": ["20.118.99.224", "40.83.235.53"],
  "routes": [{ "name": "default", "properties": { "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance" } }],
  "self": "[variables('self')]",
  "derived": "[concat(variables('prefix'), parameters('env'))]",
  "copy": [{ "name": "many", "count": 3, "input": "[copyIndex('many')]" }]
}"#;

fuzz_target!(|data: &[u8]| {
    static VARS: OnceLock<Option<Json>> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else { return };
    let variables = VARS.get_or_init(|| kmsguard_arm_syntax::parse_json(VARIABLES).ok()).as_ref();
    let parameters: BTreeMap<String, Val> = [
        ("env".to_string(), Val::String("prod".into())),
        ("count".to_string(), Val::Number(3.0)),
        ("flag".to_string(), Val::Bool(true)),
        ("list".to_string(), Val::List(vec![Val::Number(1.0), Val::String("a".into()), Val::Null])),
        (
            "object".to_string(),
            Val::Object([("k".to_string(), Val::String("v".into()))].into_iter().collect()),
        ),
        ("unknown".to_string(), Val::Unknown(Arc::from("supplied at deployment"))),
    ]
    .into_iter()
    .collect();
    let scope = Scope::within(parameters, variables, 0, Budget::new(common::limits(), "template"));
    let _ = scope.string(text, 0);
    let _ = scope.with_copy("loop", 2).string(text, 0);
});
