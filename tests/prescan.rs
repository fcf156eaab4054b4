//! The bracket pre-scan must never reject what the HCL parser accepts: a
//! false error there would refuse a valid file. Random HCL — nested lists,
//! objects, calls, quoted templates with interpolations and directives,
//! heredocs, comments, brackets inside strings — is checked against
//! hcl-edit itself, whole and with one byte removed.
//!
//! hcl-edit is more lenient than Terraform's own parser (hclsyntax) in two
//! ways this test found, and there the scan sides with Terraform (checked
//! with hclsyntax 2.14 by hand): a newline inside a quoted string, and a
//! `"` inside a `%{ if }` body, which hcl-edit reads as text (it then prints
//! the file back differently, with `\"`). So a text counts as accepted only
//! if hcl-edit parses it and prints it back unchanged.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use kmsguard::ingest::terraform::brackets::{scan, Scan, QUOTED_NEWLINE};
use proptest::prelude::*;

fn ident() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a", "b_c", "var.x", "local.y", "each.value", "count.index"]).prop_map(String::from)
}

/// Text for inside a quoted string or a heredoc: brackets, quotes and
/// escapes that must not count as code.
fn literal() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "x", "{", "}", "[", "]", "(", ")", "$${lit}", "%%{lit}", "# no", "// no", "/* no", "<<", " ",
    ])
    .prop_map(String::from)
}

fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        ident(),
        (0u32..1000).prop_map(|n| n.to_string()),
        prop::collection::vec(literal(), 0..4).prop_map(|parts| format!("\"{}\"", parts.concat())),
        Just("true".to_string()),
        Just("null".to_string()),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(", "))),
            prop::collection::vec((ident(), inner.clone()), 0..3).prop_map(|kv| {
                let body: Vec<String> = kv.iter().enumerate().map(|(i, (_, v))| format!("k{i} = {v}")).collect();
                format!("{{ {} }}", body.join(", "))
            }),
            (ident(), prop::collection::vec(inner.clone(), 0..3)).prop_map(|(f, args)| format!(
                "{}({})",
                f.replace('.', "_"),
                args.join(", ")
            )),
            (inner.clone(), literal()).prop_map(|(e, l)| format!("\"{l}${{{e}}}{l}\"")),
            (inner.clone(), literal()).prop_map(|(e, l)| format!("\"%{{ if {e} }}{l}%{{ endif }}\"")),
            (inner.clone(), literal(), any::<bool>())
                .prop_map(|(e, l, dash)| { format!("<<{}EOT\n  {l} ${{{e}}} {l}\n  EOT", if dash { "-" } else { "" }) }),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} == {b} ? {a} : {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[for x in {a} : {b}]")),
        ]
    })
}

fn body() -> impl Strategy<Value = String> {
    prop::collection::vec((expr(), prop::sample::select(vec!["", " # c {", " // c [", " /* ( */"])), 1..5).prop_map(|attrs| {
        let mut out = String::from("resource \"t\" \"n\" {\n");
        for (i, (e, comment)) in attrs.iter().enumerate() {
            out.push_str(&format!("  a{i} = {e}{comment}\n"));
        }
        out.push_str("}\n");
        out
    })
}

/// hcl-edit parses the text and prints it back unchanged.
fn accepted(text: &str) -> bool {
    hcl::edit::parser::parse_body(text).is_ok_and(|body| body.to_string() == text)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn what_the_parser_accepts_the_prescan_accepts(text in body(), cut in any::<prop::sample::Index>()) {
        let parses = accepted(&text);
        let scanned = scan(&text, 256);
        if parses {
            prop_assert!(!matches!(scanned, Scan::Invalid(_)), "valid HCL rejected: {scanned:?}\n{text}");
        }
        // One byte fewer: often invalid; the scan may reject it only if the
        // parser does too.
        let i = cut.index(text.len());
        if text.is_char_boundary(i) && text.is_char_boundary(i + 1) {
            let mut broken = text.clone();
            broken.remove(i);
            if let Scan::Invalid(e) = scan(&broken, 256) {
                prop_assert!(
                    e.message == QUOTED_NEWLINE || !accepted(&broken),
                    "the scan rejected ({}) what the parser accepts:\n{broken}",
                    e.message
                );
            }
        }
    }
}
