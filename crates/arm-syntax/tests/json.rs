// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use kmsguard_arm_syntax::{is_deployment_template, is_parameters_file, map_string_span, parse_json, Json, JsonKind, ParseError, MAX_DEPTH};

fn parse(src: &str) -> Json {
    match parse_json(src) {
        Ok(json) => json,
        Err(err) => panic!("unexpected error {err:?} in {src:?}"),
    }
}

fn parse_err(src: &str) -> ParseError {
    match parse_json(src) {
        Ok(json) => panic!("expected an error for {src:?}, got {json:?}"),
        Err(err) => err,
    }
}

fn text<'a>(src: &'a str, span: &std::ops::Range<usize>) -> &'a str {
    &src[span.clone()]
}

/// Every error is well-formed: lowercase, no trailing period, span in bounds.
fn assert_well_formed(err: &ParseError, src: &str) {
    assert!(!err.message.is_empty());
    let first = err.message.chars().next().unwrap_or('x');
    assert!(!first.is_uppercase(), "message not lowercase: {:?}", err.message);
    assert!(!err.message.ends_with('.'), "trailing period: {:?}", err.message);
    assert!(err.span.start <= err.span.end, "{err:?}");
    assert!(err.span.end <= src.len(), "{err:?} beyond {}", src.len());
}

#[test]
fn object_member_key_and_value_spans_point_at_their_source_text() {
    let src = "{\n  \"name\": \"rt\",\n  \"props\": { \"a\": [1, true, null] }\n}";
    let root = parse(src);
    assert_eq!(root.span, 0..src.len());
    let members = root.as_object().unwrap_or_default();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0].key, "name");
    assert_eq!(text(src, &members[0].key_span), "\"name\"");
    assert_eq!(text(src, &members[0].value.span), "\"rt\"");
    assert_eq!(text(src, &members[1].value.span), "{ \"a\": [1, true, null] }");
    let array = root.get("props").and_then(|p| p.get("a")).map(|a| a.span.clone());
    assert_eq!(array.map(|s| text(src, &s).to_string()), Some("[1, true, null]".into()));
    let items = root
        .get("props")
        .and_then(|p| p.get("a"))
        .and_then(Json::as_array)
        .unwrap_or_default();
    let texts: Vec<&str> = items.iter().map(|i| text(src, &i.span)).collect();
    assert_eq!(texts, ["1", "true", "null"]);
    assert_eq!(items[0].kind, JsonKind::Number("1".into()));
    assert_eq!(items[1].as_bool(), Some(true));
    assert!(items[2].is_null());
}

#[test]
fn number_keeps_its_raw_text() {
    let root = parse("[-1.5e3, 10, 0.25]");
    let numbers: Vec<&str> = root
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter_map(Json::as_number_text)
        .collect();
    assert_eq!(numbers, ["-1.5e3", "10", "0.25"]);
    assert_eq!(root.as_array().and_then(|a| a.get(1)).and_then(Json::as_i64), Some(10));
    assert_eq!(root.as_array().and_then(|a| a.first()).and_then(Json::as_i64), None);
}

#[test]
fn line_and_block_comments_are_accepted_and_spans_skip_them() {
    let src = "// header\n{ /* a */ \"k\" /* b */ : /* c */ 1 // tail\n}\n/* end */";
    let root = parse(src);
    assert_eq!(text(src, &root.span), "{ /* a */ \"k\" /* b */ : /* c */ 1 // tail\n}");
    let member = root.member("k").cloned();
    let member = member.unwrap_or_else(|| panic!("no member k"));
    assert_eq!(text(src, &member.key_span), "\"k\"");
    assert_eq!(text(src, &member.value.span), "1");
}

#[test]
fn unterminated_block_comment_is_an_error_at_the_comment() {
    let src = "{\"a\": 1} /* open";
    let err = parse_err(src);
    assert_well_formed(&err, src);
    assert_eq!(err.span.start, 9);
    assert!(err.message.contains("comment"), "{err:?}");
}

#[test]
fn trailing_commas_are_accepted_in_arrays_and_objects() {
    let root = parse("{\"a\": [1, 2,], \"b\": {\"c\": 3,},}");
    assert_eq!(root.get("a").and_then(Json::as_array).map(<[Json]>::len), Some(2));
    assert_eq!(root.get("b").and_then(|b| b.get("c")).and_then(Json::as_i64), Some(3));
}

#[test]
fn get_matches_keys_case_insensitively() {
    let root = parse("{\"Parameters\": {\"vnetName\": 1}, \"ÉTAT\": 2}");
    assert!(root.get("parameters").is_some());
    assert!(root.get("PARAMETERS").is_some());
    assert_eq!(
        root.get("parameters").and_then(|p| p.get("VNETNAME")).and_then(Json::as_i64),
        Some(1)
    );
    assert_eq!(root.get("état").and_then(Json::as_i64), Some(2));
    assert!(root.get("missing").is_none());
    // Not an object: no members.
    assert!(parse("[1]").get("0").is_none());
}

#[test]
fn duplicate_keys_keep_the_last_value_at_the_first_position() {
    let src = "{\"a\": 1, \"b\": 2, \"A\": 3}";
    let root = parse(src);
    let members = root.as_object().unwrap_or_default();
    let keys: Vec<&str> = members.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["A", "b"]);
    assert_eq!(members[0].value.as_i64(), Some(3));
    assert_eq!(text(src, &members[0].key_span), "\"A\"");
    assert_eq!(text(src, &members[0].value.span), "3");
    assert_eq!(root.get("a").and_then(Json::as_i64), Some(3));
}

#[test]
fn string_escapes_are_decoded_and_spans_cover_the_literal() {
    let src = r#"["caf\u00e9", "say \"hi\"", "a\\b\/c\n\t", "\ud83d\ude00"]"#;
    let root = parse(src);
    let items = root.as_array().unwrap_or_default();
    let strings: Vec<&str> = items.iter().filter_map(Json::as_str).collect();
    assert_eq!(strings, ["café", "say \"hi\"", "a\\b/c\n\t", "😀"]);
    assert_eq!(text(src, &items[1].span), r#""say \"hi\"""#);
}

#[test]
fn invalid_string_escapes_are_errors_at_the_escape() {
    for (src, at) in [(r#"["ab\x41"]"#, 4), (r#"["\ud800"]"#, 2), (r#"["\u12"]"#, 2)] {
        let err = parse_err(src);
        assert_well_formed(&err, src);
        assert_eq!(err.span.start, at, "{src}: {err:?}");
    }
}

#[test]
fn string_content_offsets_map_back_to_source_through_escapes() {
    // Content: `say "hi" café 😀!`
    let src = r#"{"k": "say \"hi\" caf\u00e9 \ud83d\ude00!"}"#;
    let root = parse(src);
    let value = root.get("k").cloned().unwrap_or_else(|| panic!("no k"));
    let content = value.as_str().unwrap_or_default().to_string();
    let map = |range: std::ops::Range<usize>| value.string_source_span(src, range);
    // "say" is plain text.
    assert_eq!(text(src, &map(0..3)), "say");
    // `"hi"` includes two escaped quotes.
    let hi = content.find("\"hi\"").unwrap_or(0);
    assert_eq!(text(src, &map(hi..hi + 4)), r#"\"hi\""#);
    // `é` (2 bytes decoded) is the 6-byte escape.
    let e = content.find('é').unwrap_or(0);
    assert_eq!(text(src, &map(e..e + 2)), r"\u00e9");
    // A range ending inside `é` widens to the whole escape.
    assert_eq!(text(src, &map(e..e + 1)), r"\u00e9");
    // The surrogate pair is one unit.
    let smile = content.find('😀').unwrap_or(0);
    assert_eq!(text(src, &map(smile..smile + 4)), r"\ud83d\ude00");
    assert_eq!(text(src, &map(smile + 4..content.len())), "!");
    // Empty range at the end maps to the closing quote's position.
    let end = map(content.len()..content.len());
    assert_eq!(end.start, end.end);
    assert_eq!(&src[end.start..end.start + 1], "\"");
    // Out of range: the whole literal.
    assert_eq!(map(0..content.len() + 1), value.span);
    // The free function works on key spans too.
    let key_span = root.member("k").map(|m| m.key_span.clone()).unwrap_or_default();
    assert_eq!(text(src, &map_string_span(src, &key_span, 0..1)), "k");
    // A span that is not a string literal falls back to itself.
    assert_eq!(map_string_span(src, &(0..3), 0..1), 0..3);
    assert_eq!(map_string_span(src, &(0..999), 0..1), 0..999);
}

#[test]
fn byte_order_mark_is_skipped_and_spans_still_index_the_original_text() {
    let src = "\u{feff}{\"$schema\": \"x\"}";
    let root = parse(src);
    assert_eq!(text(src, &root.span), "{\"$schema\": \"x\"}");
    let key = root.member("$schema").map(|m| m.key_span.clone()).unwrap_or_default();
    assert_eq!(text(src, &key), "\"$schema\"");
}

#[test]
fn empty_or_comment_only_input_is_an_error_at_the_end() {
    for src in ["", "   ", "// nothing\n"] {
        let err = parse_err(src);
        assert_well_formed(&err, src);
        assert_eq!(err.span, src.len()..src.len());
        assert_eq!(err.message, "expected a json value");
    }
}

#[test]
fn errors_are_located_at_the_offending_token() {
    let cases = [
        ("{\"a\": 1} {", 9), // second root value
        ("{\"a\" 1}", 5),    // missing colon
        ("[1 2]", 2),        // missing comma (right after the 1)
        ("{\"a\": tru}", 6), // bad word
        ("[\"abc", 1),       // unterminated string
        ("{\"a\": 1", 0),    // unterminated object
    ];
    for (src, at) in cases {
        let err = parse_err(src);
        assert_well_formed(&err, src);
        assert_eq!(err.span.start, at, "{src}: {err:?}");
    }
}

#[test]
fn json5_extensions_are_rejected() {
    for src in ["{'a': 1}", "{a: 1}", "[0x1F]", "[+1]", "[NaN]", "[.5]", "[\"\\x41\"]"] {
        let err = parse_err(src);
        assert_well_formed(&err, src);
    }
}

#[test]
fn ten_thousand_open_brackets_give_a_located_error_not_a_stack_overflow() {
    let src = "[".repeat(10_000);
    let err = parse_err(&src);
    assert_well_formed(&err, &src);
    assert!(err.message.contains("nesting"), "{err:?}");
    assert!(err.span.start > 0 && err.span.start < 2_000, "{err:?}");

    let src = "{\"a\":".repeat(10_000);
    let err = parse_err(&src);
    assert_well_formed(&err, &src);
    assert!(err.message.contains("nesting"), "{err:?}");
}

#[test]
fn nesting_limit_is_exactly_max_depth_containers() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(parse_json(&ok).is_ok());
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    let err = parse_err(&deep);
    assert!(err.message.contains("nesting"), "{err:?}");
    assert_eq!(err.span, MAX_DEPTH..MAX_DEPTH + 1);

    let objects = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    assert!(parse_json(&objects(MAX_DEPTH)).is_ok());
    let err = parse_err(&objects(MAX_DEPTH + 1));
    assert!(err.message.contains("nesting"), "{err:?}");
}

#[test]
fn schema_detection_recognises_template_and_parameter_files() {
    let template = |schema: &str| parse(&format!("{{\"$schema\": \"{schema}\"}}"));
    for schema in [
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "https://schema.management.azure.com/schemas/2018-05-01/subscriptionDeploymentTemplate.json#",
        "https://schema.management.azure.com/schemas/2019-08-01/managementGroupDeploymentTemplate.json#",
        "https://schema.management.azure.com/schemas/2019-08-01/tenantDeploymentTemplate.json#",
        "HTTPS://SCHEMA.MANAGEMENT.AZURE.COM/SCHEMAS/2015-01-01/DEPLOYMENTTEMPLATE.JSON#",
    ] {
        let root = template(schema);
        assert!(is_deployment_template(&root), "{schema}");
        assert!(!is_parameters_file(&root), "{schema}");
    }
    let params = template("https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#");
    assert!(is_parameters_file(&params));
    assert!(!is_deployment_template(&params));
    // Case-insensitive key, too.
    assert!(is_deployment_template(&parse("{\"$SCHEMA\": \"deploymentTemplate.json\"}")));
    for other in [
        "{}",
        "[]",
        "{\"$schema\": 1}",
        "{\"$schema\": \"https://json.schemastore.org/package.json\"}",
    ] {
        assert!(!is_deployment_template(&parse(other)), "{other}");
        assert!(!is_parameters_file(&parse(other)), "{other}");
    }
}

#[test]
fn walk_visits_every_value_in_document_order() {
    let root = parse("{\"a\": [1, {\"b\": 2}], \"c\": 3}");
    let mut seen = Vec::new();
    root.walk(|v| seen.push(v.kind_name()));
    assert_eq!(seen, ["object", "array", "number", "object", "number", "number"]);
}

const TEMPLATE: &str = r#"{
  // comment
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "parameters": { "routes": { "type": "array", "defaultValue": [] } },
  "resources": [
    {
      "type": "Microsoft.Network/routeTables",
      "name": "[format('{0}-rt', variables('x'))]",
      "properties": { "routes": "[parameters('routes')[copyIndex()].name]", "n": -1.5e3, "t": true, "z": null, },
      /* block */ "tags": { "caf\u00e9": "say \"hi\" \ud83d\ude00" }
    }
  ]
}"#;

#[test]
fn every_prefix_of_a_template_parses_or_errors_without_panicking() {
    assert!(parse_json(TEMPLATE).is_ok());
    for (i, _) in TEMPLATE.char_indices() {
        let prefix = &TEMPLATE[..i];
        if let Err(err) = parse_json(prefix) {
            assert_well_formed(&err, prefix);
        }
    }
}

/// Tiny xorshift PRNG so the test needs no crates and is reproducible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn random_mutations_of_a_template_never_panic() {
    const ALPHABET: &[char] = &[
        '{', '}', '[', ']', '"', '\\', ',', ':', '/', '*', '\n', ' ', 'u', '0', 'e', '-', '.', '\'', 'é', '\u{feff}', 'n', 't', 'f',
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let original: Vec<char> = TEMPLATE.chars().collect();
    let mut errors = 0;
    for _ in 0..3_000 {
        let mut chars = original.clone();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(chars.len());
            match rng.below(3) {
                0 => {
                    if at < chars.len() {
                        chars.remove(at);
                    }
                }
                1 => chars.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                _ => {
                    if at < chars.len() {
                        chars[at] = ALPHABET[rng.below(ALPHABET.len())];
                    }
                }
            }
        }
        let src: String = chars.into_iter().collect();
        match parse_json(&src) {
            Ok(root) => {
                // Spans of a successful parse are in bounds and on char boundaries.
                root.walk(|v| {
                    assert!(src.get(v.span.clone()).is_some(), "{:?} in {src:?}", v.span);
                    if v.as_str().is_some() {
                        let mapped = v.string_source_span(&src, 0..0);
                        assert!(src.get(mapped).is_some());
                    }
                });
            }
            Err(err) => {
                errors += 1;
                assert_well_formed(&err, &src);
            }
        }
    }
    // The mutations must actually exercise the error paths.
    assert!(errors > 1_000, "only {errors} errors");
}
