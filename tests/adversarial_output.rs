//! Output that injects commands or markup (issue 11 §4): a pull request's
//! names, file names and source lines must not forge GitHub annotations, run
//! Azure Pipelines logging commands, drive the terminal, forge Markdown in
//! the step summary or break the JUnit XML, in any output format.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Names that try each trick, as the string's contents (not yet escaped for
/// any language).
const HOSTILE_NAMES: &[&str] = &[
    "rt\n::warning file=x.tf,line=1::forged",
    "rt\r::error::forged by a carriage return",
    "rt ##vso[task.setvariable variable=x]1",
    "rt ##VSO[task.prependpath]/tmp/evil",
    "rt ##[add-mask]secret",
    "x\n\n## ✅ no KMS problems found\n\n<!--",
    "rt\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mred",
    "rt\u{1}\u{8}\u{1f}\u{7f}\u{85}\u{2028}\u{202e}txt.exe",
    "`` ]]> <![CDATA[ </failure> [x](javascript:alert(1)) | --- |",
];

fn hcl_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("$$"),
            '%' => out.push_str("%%"),
            c if c.is_control() || (c as u32) > 0x7e => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn bicep_string(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '$' => out.push_str("\\$"),
            c if c.is_control() || (c as u32) > 0x7e => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn terraform_table(label: &str, name: &str) -> String {
    format!(
        r#"resource "azurerm_route_table" "{label}" {{
  name                = {}
  location            = "westeurope"
  resource_group_name = "rg-network"
  route {{
    name                   = "default-to-firewall"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }}
}}
"#,
        hcl_string(name)
    )
}

fn bicep_table(symbol: &str, name: &str) -> String {
    format!(
        r#"resource {symbol} 'Microsoft.Network/routeTables@2023-04-01' = {{
  name: {}
  location: 'westeurope'
  properties: {{
    routes: [
      {{
        name: 'default-to-firewall'
        properties: {{
          addressPrefix: '0.0.0.0/0'
          nextHopType: 'VirtualAppliance'
          nextHopIpAddress: '10.0.1.4'
        }}
      }}
    ]
  }}
}}
"#,
        bicep_string(name)
    )
}

fn arm_template<S: AsRef<str>>(names: &[S]) -> String {
    let resources: Vec<Value> = names
        .iter()
        .map(|n| {
            serde_json::json!({
                "type": "Microsoft.Network/routeTables",
                "apiVersion": "2023-04-01",
                "name": n.as_ref(),
                "location": "westeurope",
                "properties": { "routes": [{
                    "name": "default-to-firewall",
                    "properties": {
                        "addressPrefix": "0.0.0.0/0",
                        "nextHopType": "VirtualAppliance",
                        "nextHopIpAddress": "10.0.1.4"
                    }
                }]}
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": resources
    }))
    .unwrap_or_default()
}

/// A tree with a forced tunnel per hostile name in Terraform, Bicep and ARM,
/// hostile file names, and source lines that are themselves commands.
fn hostile_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let tf: String = HOSTILE_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| terraform_table(&format!("t{i}"), n))
        .collect();
    // Source lines the human format echoes: commands in comments next to the finding.
    let tf = tf.replace(
        "  location            = \"westeurope\"\n",
        "  location            = \"westeurope\" # \u{1b}]8;;https://evil\u{7}x ##vso[task.complete result=Failed] ::error::forged\n",
    );
    fs::write(d.path().join("main.tf"), tf).expect("write");
    let bicep: String = HOSTILE_NAMES
        .iter()
        .enumerate()
        .map(|(i, n)| bicep_table(&format!("t{i}"), n))
        .collect();
    fs::write(d.path().join("main.bicep"), bicep).expect("write");
    fs::write(d.path().join("azuredeploy.json"), arm_template(HOSTILE_NAMES)).expect("write");
    // File names may hold line breaks, `::` and `##vso[` on Linux.
    let odd = d.path().join("odd");
    fs::create_dir(&odd).expect("mkdir");
    for (i, file) in [
        "x\n::warning file=y.tf,line=1::forged by a file name.tf",
        "##vso[task.setvariable variable=y]2.tf",
        "e\u{1b}[2J\r::notice::z.tf",
    ]
    .iter()
    .enumerate()
    {
        fs::write(odd.join(file), terraform_table(&format!("f{i}"), "rt-plain")).expect("write odd file name");
    }
    // At the root a file name starts the line of compact output.
    fs::write(
        d.path().join("::error title=forged::at the start.tf"),
        terraform_table("root", "rt-plain"),
    )
    .expect("write odd file name");
    d
}

fn run(dir: &Path, extra: &[&str]) -> (String, i32) {
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(dir)
        .arg("check")
        .arg(".")
        .args(extra)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1 || code == 2,
        "exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (String::from_utf8(out.stdout).expect("UTF-8 output"), code)
}

fn format(dir: &Path, name: &str) -> String {
    run(dir, &["--format", name, "--color", "never"]).0
}

/// What GitHub (leading white space trimmed, then `::`) would read as a
/// workflow command.
fn github_command(line: &str) -> bool {
    line.trim_start().starts_with("::")
}

/// Lines a log reader would act on or a terminal would interpret: a line
/// break other than LF, a control character, a legacy or Azure command.
fn assert_log_safe(what: &str, out: &str, allow_color: bool) {
    for (n, line) in out.lines().enumerate() {
        let lower = line.to_ascii_lowercase();
        assert!(!lower.contains("##vso["), "{what} line {n} runs an Azure command: {line:?}");
        assert!(!line.contains("##["), "{what} line {n} holds a legacy command: {line:?}");
        let mut rest = line;
        while let Some(at) = rest.find('\u{1b}') {
            let tail = &rest[at + 1..];
            let sgr = tail.starts_with('[')
                && tail[1..]
                    .find('m')
                    .is_some_and(|m| tail[1..1 + m].bytes().all(|b| b.is_ascii_digit() || b == b';'));
            assert!(allow_color && sgr, "{what} line {n} holds a terminal escape: {line:?}");
            rest = tail;
        }
        for c in line.chars() {
            let bad = (c.is_control() && c != '\t' && c != '\u{1b}')
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            assert!(!bad, "{what} line {n} holds {c:?}: {line:?}");
        }
    }
}

fn json_report(dir: &Path) -> Value {
    serde_json::from_str(&format(dir, "json")).expect("a JSON report")
}

#[test]
fn the_real_forced_tunnels_are_still_found() {
    let d = hostile_tree();
    let doc = json_report(d.path());
    let kg101 = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG101")
        .count();
    // Every hostile name in three languages, and the four oddly named files.
    assert!(kg101 >= 3 * HOSTILE_NAMES.len() + 4, "{kg101} KG101 findings: {doc:#}");
}

#[test]
fn compact_output_forges_no_annotation_and_runs_no_command() {
    let d = hostile_tree();
    let out = format(d.path(), "compact");
    assert_log_safe("compact", &out, false);
    for line in out.lines() {
        assert!(!github_command(line), "forged annotation: {line:?}");
    }
    // The name is still there for a person to read, on its finding's line.
    assert!(out.contains("route table rt\\n::warning file=x.tf,line=1::forged sends"), "{out}");
    assert!(out.contains("./::error title=forged::at the start.tf:"), "{out}");
}

#[test]
fn human_output_forges_nothing_with_or_without_colour() {
    let d = hostile_tree();
    let plain = format(d.path(), "human");
    let (colour, _) = run(d.path(), &["--color", "always"]);
    for (what, out, allow) in [("human", &plain, false), ("human coloured", &colour, true)] {
        assert_log_safe(what, out, allow);
        for line in out.lines() {
            // Colour codes first, then `::`, is what a viewer that strips them would see.
            let stripped: String = strip_sgr(line);
            assert!(!github_command(&stripped), "{what}: forged annotation: {line:?}");
        }
    }
    // The echoed source line keeps its shape, commands defused.
    assert!(
        plain.contains("?]8;;https://evil?x #_vso[task.complete result=Failed] ::error::forged"),
        "{plain}"
    );
}

fn strip_sgr(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for x in chars.by_ref() {
                if x == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn github_output_has_only_kmsguards_own_annotations() {
    let d = hostile_tree();
    let out = format(d.path(), "github");
    let doc = json_report(d.path());
    let active = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .count();
    let expected = active + doc["errors"].as_array().map_or(0, Vec::len);
    assert_log_safe("github", &out, false);
    let mut annotations = 0;
    for line in out.lines() {
        if !github_command(line) {
            assert!(line.starts_with("checked "), "a line kmsguard did not write: {line:?}");
            continue;
        }
        annotations += 1;
        // `::{error|warning|notice} key=value,...::data`, keys kmsguard's own,
        // values without a raw `:` or `,` (they are percent-escaped).
        let body = line.strip_prefix("::").unwrap_or_default();
        let (command, rest) = body.split_once(' ').expect("properties");
        assert!(["error", "warning", "notice"].contains(&command), "{line:?}");
        let (properties, _data) = rest.split_once("::").expect("data");
        for p in properties.split(',') {
            let (key, value) = p.split_once('=').expect("key=value");
            assert!(
                ["file", "line", "col", "endLine", "endColumn", "title"].contains(&key),
                "{key} in {line:?}"
            );
            assert!(!value.contains(':'), "{line:?}");
        }
    }
    assert_eq!(annotations, expected, "one annotation per finding and error:\n{out}");
}

#[test]
fn azure_output_runs_only_kmsguards_own_logging_commands() {
    let d = hostile_tree();
    let out = format(d.path(), "azure-pipelines");
    for line in out.lines() {
        let lower = line.to_ascii_lowercase();
        if let Some(rest) = line.strip_prefix("##vso[task.logissue ") {
            assert!(!rest.to_ascii_lowercase().contains("##vso["), "a second command: {line:?}");
            assert!(!rest.contains("##["), "{line:?}");
            // The command's properties end at the first `]`; the name cannot add one.
            let (properties, _) = rest.split_once(']').expect("]");
            assert!(properties.split(';').all(|p| p.contains('=')), "{line:?}");
        } else {
            assert!(!lower.contains("##vso[") && !line.contains("##["), "{line:?}");
            assert!(line.starts_with("checked "), "{line:?}");
        }
        for c in line.chars() {
            assert!(!c.is_control() && c != '\u{2028}', "{c:?} in {line:?}");
        }
    }
    assert!(out.contains("rt #_vso[task.setvariable variable=x%5D1"), "{out}");
}

#[test]
fn markdown_cannot_fake_a_clean_report_or_hide_findings() {
    let d = hostile_tree();
    let out = format(d.path(), "markdown");
    let doc = json_report(d.path());
    let active = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f.get("suppressed").is_none())
        .count();
    // Inside a code span `<` is literal; anywhere else it could open HTML or `<!--`.
    for line in out.lines() {
        let text = without_code_spans(line);
        assert!(!text.contains('<'), "raw HTML or a comment: {line:?}");
        let link = text.match_indices("](").any(|(i, _)| !text[..i].ends_with('\\'));
        assert!(!link, "a link: {line:?}");
    }
    // Headings: kmsguard's title and one per finding, nothing else.
    let headings: Vec<_> = out.lines().filter(|l| l.trim_start().starts_with('#')).collect();
    assert_eq!(headings[0], "## kmsguard");
    assert_eq!(headings.len(), 1 + active, "{headings:#?}");
    assert!(headings[1..].iter().all(|h| h.starts_with("### KG")), "{headings:#?}");
    assert!(!out.contains("\n## ✅"), "{out}");
    for line in out.lines() {
        assert!(!github_command(line), "{line:?}");
    }
    assert_log_safe("markdown", &out, false);
    // Fenced blocks are balanced: every opening fence has its closing one.
    let fences = out.lines().filter(|l| l.starts_with("```")).count();
    assert_eq!(fences % 2, 0, "{out}");
}

/// The line with its inline code spans removed, as CommonMark finds them: a
/// run of n backticks up to the next run of exactly n.
fn without_code_spans(line: &str) -> String {
    let b = line.as_bytes();
    let run_at = |i: usize| b[i..].iter().take_while(|&&c| c == b'`').count();
    let mut out = String::new();
    let mut i = 0;
    'outer: while i < b.len() {
        if b[i] == b'`' {
            let n = run_at(i);
            let mut j = i + n;
            while j < b.len() {
                if b[j] == b'`' {
                    let m = run_at(j);
                    if m == n {
                        i = j + m;
                        continue 'outer;
                    }
                    j += m;
                } else {
                    j += 1;
                }
            }
            out.push_str(&line[i..i + n]);
            i += n;
        } else {
            let next = line[i..].find('`').map_or(line.len(), |k| i + k);
            out.push_str(&line[i..next]);
            i = next;
        }
    }
    out
}

#[test]
fn junit_is_well_formed_xml_for_any_name() {
    let d = hostile_tree();
    let out = format(d.path(), "junit");
    let xml = roxmltree::Document::parse(&out).unwrap_or_else(|e| panic!("not well-formed: {e}\n{out}"));
    let cases = xml.descendants().filter(|n| n.has_tag_name("testcase")).count();
    assert!(cases >= 3 * HOSTILE_NAMES.len(), "{cases} test cases");
    let names: Vec<_> = xml
        .descendants()
        .filter_map(|n| n.attribute("name"))
        .filter(|n| n.contains("\\u{1}"))
        .collect();
    assert!(!names.is_empty(), "the control characters are shown, not dropped");
    assert_log_safe("junit", &out, false);
}

#[test]
fn json_and_sarif_carry_names_exactly_but_print_no_command() {
    let d = hostile_tree();
    for f in ["json", "sarif"] {
        let out = format(d.path(), f);
        assert_log_safe(f, &out, false);
        let doc: Value = serde_json::from_str(&out).expect("parses");
        assert!(
            doc.to_string().contains("rt ##vso[task.setvariable variable=x]1"),
            "{f}: the name survives exactly"
        );
    }
}

/// A line of 70,000 spaces before the value made miette panic (exit 101, no
/// report); a minified file made every finding echo the whole line.
#[test]
fn very_long_lines_are_cut_around_the_label_and_never_panic() {
    let d = tempfile::tempdir().expect("tempdir");
    let pad = " ".repeat(70_000);
    fs::write(
        d.path().join("main.tf"),
        terraform_table("wide", "rt-wide").replace(
            "address_prefix         = \"0.0.0.0/0\"",
            &format!("address_prefix         ={pad}\"0.0.0.0/0\""),
        ),
    )
    .expect("write");
    let names: Vec<String> = (0..300).map(|i| format!("rt-one-line-{i}")).collect();
    let arm = arm_template(&names).replace(['\n', ' '], "");
    fs::write(d.path().join("azuredeploy.json"), &arm).expect("write");
    let (out, code) = run(d.path(), &["--color", "never"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("route table rt-wide sends KMS traffic"), "{out}");
    assert!(out.contains("main.tf:7:70029]"), "the header keeps the real column: {out}");
    let cut = out
        .lines()
        .find(|l| l.starts_with(" 7 │ …"))
        .unwrap_or_else(|| panic!("no cut line 7: {out}"));
    assert!(cut.trim_end().ends_with("\"0.0.0.0/0\""), "{cut}");
    assert!(out.lines().all(|l| l.chars().count() < 500), "a line was echoed whole");
    let findings = out.matches("KG101 forced-tunnel-blocks-kms").count();
    assert_eq!(findings, 301, "{out}");
    assert!(out.len() < 301 * 4_000, "{} bytes", out.len());
    assert!(
        out.ends_with("0 notes; config: none\n"),
        "the summary is there: {}",
        &out[out.len().saturating_sub(300)..]
    );
}

#[test]
fn the_markdown_summary_stays_under_githubs_limit() {
    let d = tempfile::tempdir().expect("tempdir");
    let tf: String = (0..3_000).map(|i| terraform_table(&format!("t{i}"), &format!("rt-{i}"))).collect();
    fs::write(d.path().join("main.tf"), tf).expect("write");
    let out = format(d.path(), "markdown");
    assert!(out.len() <= 1_000_000, "{} bytes", out.len());
    let shown = out.lines().filter(|l| l.starts_with("### KG101")).count();
    let tail = out.lines().last().unwrap_or_default();
    let left_out: usize = tail
        .strip_prefix("**")
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no closing line: {tail}"));
    assert!(tail.contains("more entries not shown"), "{tail}");
    assert_eq!(shown + left_out, 3_000);
}

#[test]
fn every_summary_counts_suppressed_findings() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join("main.tf"),
        format!(
            "# kmsguard:ignore KG101 -- accepted\n{}{}",
            terraform_table("a", "rt-a"),
            terraform_table("b", "rt-b")
        ),
    )
    .expect("write");
    for f in ["human", "compact", "github", "azure-pipelines"] {
        let out = format(d.path(), f);
        let summary = out.lines().last().unwrap_or_default();
        assert!(
            summary.ends_with("1 error, 0 warnings, 0 notes; 1 suppressed (1 in source); config: none"),
            "{f}: {summary}"
        );
    }
    let md = format(d.path(), "markdown");
    assert!(md.contains("1 suppressed (1 in source); config: none."), "{md}");
    let junit = format(d.path(), "junit");
    assert!(
        junit.contains("<property name=\"summary\" value=\"1 suppressed (1 in source); config: none\"/>"),
        "{junit}"
    );
    // All suppressed: the step summary does not read as clean.
    fs::write(
        d.path().join("main.tf"),
        format!("# kmsguard:ignore KG101 -- accepted\n{}", terraform_table("a", "rt-a")),
    )
    .expect("write");
    let md = format(d.path(), "markdown");
    assert!(
        md.contains("1 finding suppressed in 1 files") && !md.contains("No findings"),
        "{md}"
    );
}

/// Errors on stderr quote config values and paths from the checked tree.
#[test]
fn errors_on_stderr_inject_nothing() {
    let d = tempfile::tempdir().expect("tempdir");
    fs::write(
        d.path().join(".kmsguard.hcl"),
        "cloud = \"x\\n::error file=a.tf::forged\\r::warning::cr\\n##vso[task.setvariable variable=x]1\\u001b]0;t\\u0007\"\n",
    )
    .expect("write");
    fs::write(d.path().join("main.tf"), terraform_table("a", "rt-a")).expect("write");
    let out = Command::cargo_bin("kmsguard")
        .expect("builds")
        .current_dir(d.path())
        .args(["check", "."])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert_log_safe("stderr", &stderr, false);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("x\\n::error file=a.tf::forged\\r::warning::cr\\n#_vso[task.setvariable"),
        "{stderr}"
    );
}
