//! `kmsguard graph`: Mermaid, DOT (rendered by Graphviz when it is
//! installed), SVG (parsed as XML) and self-contained HTML.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::path::Path;

use assert_cmd::Command;

/// A tool a test needs is not installed: under CI (`CI=true`, where .ci/run
/// installs Graphviz and Chromium) that is a failure, not a silent pass;
/// elsewhere the test says what it skipped. `KMSGUARD_SKIP_GRAPH_TOOLS=1`
/// is for CI runners that have neither (GitHub's macOS and Windows ones).
fn tool_missing(tool: &str, fallback: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    let waived = std::env::var("KMSGUARD_SKIP_GRAPH_TOOLS").is_ok_and(|v| v == "1");
    assert!(
        !ci || waived,
        "{tool} is not installed but CI=true: .ci/run installs it (set KMSGUARD_SKIP_GRAPH_TOOLS=1 on a runner that cannot have it)"
    );
    eprintln!("notice: {tool} is not installed, test skipped: {fallback} (.ci/run installs it)");
}

fn graph(paths: &[&str], format: &str) -> String {
    let out = Command::cargo_bin("kmsguard")
        .expect("binary builds")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("graph")
        .args(paths)
        .args(["--no-config", "--format", format])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

const EXAMPLES: &[&str] = &[
    "examples/17-forced-tunnel-nsg-blocks-kms",
    "examples/18-forced-tunnel-nsg-allows-kms",
    "examples/26-firewall-blocks-kms",
    "examples/07-unresolved-variable/main.tf",
];

/// Ids declared as nodes, and (from, to) of every edge, of a Mermaid flowchart.
fn mermaid_parts(m: &str) -> (Vec<String>, Vec<(String, String, String)>) {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for line in m.lines().skip(1) {
        let t = line.trim();
        if t.starts_with("subgraph") || t == "end" || t.starts_with("linkStyle") {
            continue;
        }
        let parts: Vec<&str> = t.split_whitespace().collect();
        match parts.as_slice() {
            [from, arrow, rest @ ..] if arrow.starts_with("--") || arrow.starts_with("-.") => {
                let to = rest.last().copied().unwrap_or_default();
                edges.push((from.to_string(), to.to_string(), arrow.to_string()));
            }
            _ => {
                let id: String = t.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                nodes.push(id);
            }
        }
    }
    (nodes, edges)
}

#[test]
fn mermaid_is_well_formed_with_broken_paths_red_and_unknown_ones_dashed() {
    let m = graph(EXAMPLES, "mermaid");
    assert!(m.starts_with("flowchart LR\n"), "{m}");
    assert_eq!(m.matches("subgraph ").count(), m.lines().filter(|l| l.trim() == "end").count());
    let (nodes, edges) = mermaid_parts(&m);
    for (from, to, _) in &edges {
        assert!(nodes.contains(from) && nodes.contains(to), "{from} -> {to} not declared:\n{m}");
    }
    // linkStyle indices point at edges.
    for l in m.lines().filter(|l| l.trim_start().starts_with("linkStyle")) {
        let i: usize = l.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("index");
        assert!(i < edges.len(), "{l}");
    }
    // The NSG deny under the forced tunnel (KG204) and the firewall (KG301) are red with their codes.
    for code in ["KG204", "KG301"] {
        let (i, _) = m
            .lines()
            .filter(|l| !l.contains("linkStyle") && (l.contains(" -->") || l.contains(" -.->")))
            .enumerate()
            .find(|(_, l)| l.contains(code))
            .unwrap_or_else(|| panic!("{code} on an edge:\n{m}"));
        assert!(m.contains(&format!("linkStyle {i} stroke:#d1242f")), "{code} edge {i} is red:\n{m}");
    }
    // The unresolved next hop is dashed; the allowed path is green.
    assert!(edges.iter().any(|(_, _, a)| a.starts_with("-.->")), "{m}");
    assert!(m.contains("stroke:#1a7f37"), "{m}");
}

#[test]
fn dot_renders_with_graphviz() {
    let d = graph(EXAMPLES, "dot");
    assert!(d.starts_with("digraph kmsguard {") && d.trim_end().ends_with('}'), "{d}");
    assert_eq!(d.matches('{').count(), d.matches('}').count(), "{d}");
    assert!(d.contains("color=\"#d1242f\"") && d.contains("style=dashed"), "{d}");
    let Ok(mut child) = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
    else {
        return tool_missing("graphviz (dot)", "DOT checked structurally only");
    };
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(d.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("dot runs");
    assert!(out.status.success(), "dot -Tsvg: {}", String::from_utf8_lossy(&out.stderr));
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("snet&#45;app") || svg.contains("snet-app"), "{svg}");
}

#[test]
fn svg_is_valid_xml_with_every_node() {
    let s = graph(EXAMPLES, "svg");
    let doc = roxmltree::Document::parse(&s).expect("well-formed SVG");
    let nodes = doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class").is_some_and(|c| c.starts_with("node")))
        .count();
    let (declared, _) = mermaid_parts(&graph(EXAMPLES, "mermaid"));
    assert_eq!(nodes, declared.len());
}

#[test]
fn html_is_self_contained_with_findings_and_a_trace_per_subnet() {
    let h = graph(EXAMPLES, "html");
    assert!(h.starts_with("<!DOCTYPE html>"));
    for banned in ["<script", " src=", "<link", "@import", "url(http", "href=\"http"] {
        assert!(!h.contains(banned), "{banned} in the page");
    }
    assert!(h.contains("default-src 'none'"), "a policy that forbids loading anything");
    assert!(
        h.contains("<b>KG204</b>") && h.contains("<b>KG301</b>"),
        "findings beside the graph"
    );
    // Every subnet node links to its trace, which is on the page.
    let links: Vec<&str> = h.match_indices("href=\"#trace-").map(|(i, _)| &h[i + 13..i + 16]).collect();
    assert!(!links.is_empty());
    for l in links {
        let id = l.trim_end_matches('"');
        assert!(h.contains(&format!("id=\"trace-{id}")), "trace {id}");
    }
    assert!(h.contains("verdict: BLOCKED"), "the traces are the human trace output");
}

#[test]
fn identical_spokes_fold_into_one_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from(
        "resource \"azurerm_route_table\" \"spoke\" {\n  name = \"rt-spoke\"\n  route {\n    name = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type = \"VirtualAppliance\"\n    next_hop_in_ip_address = \"10.0.1.4\"\n  }\n}\n",
    );
    for i in 0..50 {
        text.push_str(&format!(
            "resource \"azurerm_subnet\" \"s{i}\" {{\n  name = \"snet-{i:02}\"\n  resource_group_name = \"rg\"\n  virtual_network_name = \"vnet\"\n  address_prefixes = [\"10.0.{i}.0/24\"]\n  route_table_id = azurerm_route_table.spoke.id\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("main.tf"), text).expect("write");
    let out = Command::cargo_bin("kmsguard")
        .expect("binary")
        .arg("graph")
        .arg(dir.path())
        .args(["--no-config"])
        .output()
        .expect("runs");
    let m = String::from_utf8_lossy(&out.stdout);
    assert!(m.contains("50 subnets: snet-00, … snet-49"), "{m}");
    assert!(m.lines().count() < 20, "{m}");
}

#[test]
fn names_from_the_code_are_escaped_in_every_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"azurerm_route_table\" \"x\" {\n  name = \"rt\\\"]<img src=x onerror=alert(1)>\\n::error::x ##vso[task.complete]\"\n  route {\n    name = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type = \"None\"\n  }\n}\n",
    )
    .expect("write");
    let run = |format: &str| {
        let out = Command::cargo_bin("kmsguard")
            .expect("binary")
            .arg("graph")
            .arg(dir.path())
            .args(["--no-config", "--format", format])
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    for format in ["mermaid", "dot", "svg", "html"] {
        let text = run(format);
        assert!(text.contains("rt"), "{format}: {text}");
        // DOT labels are plain quoted strings: markup there is inert text.
        if format != "dot" {
            assert!(!text.contains("<img"), "{format}: {text}");
        }
        assert!(!text.contains("##vso["), "{format}: {text}");
        for line in text.lines() {
            assert!(!line.trim_start().starts_with("::"), "{format}: {line}");
        }
    }
    assert!(!run("mermaid").contains("rt\"]"), "a quote cannot end a Mermaid label");
    roxmltree::Document::parse(&run("svg")).expect("still well-formed");
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/graph.svg").exists(),
        "the README's picture"
    );
}

/// The HTML page in a real headless browser (Debian's `chromium`, which
/// .ci/run installs when it can): the DOM it builds holds every subnet and
/// finding, and a screenshot lands in target/ for CI's artifacts.
#[test]
fn html_loads_in_a_headless_browser() {
    let Some(browser) = ["chromium", "chromium-browser", "google-chrome"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        return tool_missing("a headless browser (chromium)", "the page is checked as text only");
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("graph.html");
    std::fs::write(&page, graph(EXAMPLES, "html")).expect("write");
    let url = format!("file://{}", page.display());
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
    ];
    let profile = format!("--user-data-dir={}", dir.path().join("profile").display());
    let dom = std::process::Command::new(browser)
        .args(flags)
        .arg(&profile)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("browser runs");
    let dom = String::from_utf8_lossy(&dom.stdout);
    for must in [
        "subnet snet-app",
        "route table rt-spoke-locked",
        "<b>KG204</b>",
        "<b>KG301</b>",
        "id=\"trace-n0\"",
    ] {
        assert!(dom.contains(must), "{must} in the DOM:\n{dom}");
    }
    // A click on a subnet node shows its trace: a page beside this one
    // loads it in a frame, clicks what a user would hit at the node's centre
    // and reports which traces are then displayed (the page itself runs no
    // script: its policy forbids it).
    let probe = dir.path().join("probe.html");
    std::fs::write(
        &probe,
        r##"<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="f" src="graph.html" width="1600" height="1000"></iframe>
<script>
const f = document.getElementById('f');
f.addEventListener('load', () => {
  const out = document.getElementById('result');
  const d = f.contentDocument, w = f.contentWindow;
  if (!d) { out.textContent = 'no access to the page'; return; }
  const shown = () => [...d.querySelectorAll('section.trace')].filter(s => w.getComputedStyle(s).display !== 'none').map(s => s.id);
  const links = [...d.querySelectorAll('a[href^="#trace-"]')];
  const a = links[links.length - 1];
  const box = a.querySelector('rect').getBoundingClientRect();
  const hit = d.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
  const before = shown();
  hit.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, view: w }));
  setTimeout(() => {
    const after = shown();
    const text = after.length ? d.getElementById(after[0]).textContent : '';
    out.textContent = 'target=' + a.getAttribute('href').slice(1) + ' hit=' + hit.tagName + ' before=' + before.join(',') +
      ' after=' + after.join(',') + ' verdict=' + /verdict: /.test(text);
  }, 300);
});
</script></body></html>"##,
    )
    .expect("write");
    let clicked = std::process::Command::new(browser)
        .args(flags)
        .arg(&profile)
        .args([
            "--allow-file-access-from-files",
            "--virtual-time-budget=5000",
            "--window-size=1600,1000",
        ])
        .arg("--dump-dom")
        .arg(format!("file://{}", probe.display()))
        .output()
        .expect("browser runs");
    let clicked = String::from_utf8_lossy(&clicked.stdout);
    let result = clicked
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or_default();
    let target = result
        .split_whitespace()
        .find_map(|w| w.strip_prefix("target="))
        .unwrap_or_default();
    assert!(target.starts_with("trace-n"), "{result}\n{clicked}");
    assert!(result.contains("before= "), "no trace shown before the click: {result}");
    assert!(
        result.contains(&format!("after={target} ")),
        "only the clicked subnet's trace is shown: {result}"
    );
    assert!(result.ends_with("verdict=true"), "the trace is shown: {result}");
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/graph-screenshot.png");
    let out = std::process::Command::new(browser)
        .args(flags)
        .arg(&profile)
        .arg("--window-size=1600,1000")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("{url}#trace-n0"))
        .output()
        .expect("browser runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "a screenshot at {}",
        shot.display()
    );
}

fn markdown_report(path: &Path) -> String {
    let out = Command::cargo_bin("kmsguard")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("check")
        .arg(path)
        .args(["--no-config", "--format", "markdown"])
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_markdown_report_embeds_a_small_picture_only_when_a_path_is_broken_or_unknown() {
    let broken = markdown_report(Path::new("examples/17-forced-tunnel-nsg-blocks-kms"));
    assert!(broken.contains("```mermaid\nflowchart LR\n"), "{broken}");
    assert!(broken.contains("|\"KG204\"|"), "{broken}");
    let clean = markdown_report(Path::new("examples/02-forced-tunnel-fixed"));
    assert!(!clean.contains("mermaid"), "{clean}");
    // A large network that does not fold small is left to `kmsguard graph`:
    // seventy subnets, each with a table of its own next hop.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::new();
    for i in 0..70 {
        text.push_str(&format!(
            "resource \"azurerm_route_table\" \"t{i}\" {{\n  name = \"rt-{i:02}\"\n  route {{\n    name = \"d\"\n    address_prefix = \"0.0.0.0/0\"\n    next_hop_type = \"VirtualAppliance\"\n    next_hop_in_ip_address = \"10.1.{i}.4\"\n  }}\n}}\n"
        ));
        text.push_str(&format!(
            "resource \"azurerm_subnet\" \"s{i}\" {{\n  name = \"snet-{i:02}\"\n  resource_group_name = \"rg\"\n  virtual_network_name = \"vnet\"\n  address_prefixes = [\"10.0.{i}.0/24\"]\n  route_table_id = azurerm_route_table.t{i}.id\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("main.tf"), text).expect("write");
    let big = markdown_report(dir.path());
    assert!(big.contains("KG101") && !big.contains("mermaid"), "{big}");
}

#[test]
fn subnets_are_drawn_inside_their_virtual_network() {
    // Example 15 declares its subnets in virtual networks in Bicep and ARM:
    // each network is a box holding its subnets, named with its file so
    // that two networks of one name in two deployments stay apart.
    let m = graph(&["examples/15-vnet-subnets"], "mermaid");
    let boxes: Vec<&str> = m.lines().filter(|l| l.trim_start().starts_with("subgraph")).collect();
    assert!(
        boxes
            .iter()
            .any(|b| b.contains("virtual network vnet-spoke (examples/15-vnet-subnets/main.bicep)")),
        "{m}"
    );
    assert!(
        boxes
            .iter()
            .any(|b| b.contains("virtual network vnet-spoke-arm (examples/15-vnet-subnets/azuredeploy.json)")),
        "{m}"
    );
    // The subnets sit in their network's box, the route tables outside it.
    let in_box = |name: &str, subnet: &str| {
        let start = m.lines().position(|l| l.contains(name)).unwrap_or(usize::MAX);
        m.lines().skip(start).take_while(|l| l.trim() != "end").any(|l| l.contains(subnet))
    };
    assert!(in_box("virtual network vnet-spoke (", "snet-free"), "{m}");
    assert!(in_box("virtual network vnet-spoke-arm (", "snet-app"), "{m}");
    assert!(!in_box("virtual network vnet-spoke (", "route table"), "{m}");
}

/// A hub (firewall, ExpressRoute gateway) and `n` spoke networks, each with
/// its own route table (0.0.0.0/0 to the firewall, the KMS /32s to Internet)
/// and peered both ways with the hub; the spokes in `broken` lack the /32s.
fn hub_and_spoke(n: usize, broken: &[usize]) -> tempfile::TempDir {
    let mut t = String::from(
        r#"resource "azurerm_virtual_network" "hub" {
  name                = "vnet-hub"
  resource_group_name = "rg-hub"
  address_space       = ["10.0.0.0/16"]
}
resource "azurerm_subnet" "fw" {
  name                 = "AzureFirewallSubnet"
  resource_group_name  = "rg-hub"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.0.1.0/26"]
}
resource "azurerm_subnet" "gw" {
  name                 = "GatewaySubnet"
  resource_group_name  = "rg-hub"
  virtual_network_name = azurerm_virtual_network.hub.name
  address_prefixes     = ["10.0.255.0/27"]
}
resource "azurerm_firewall" "hub" {
  name                = "afw-hub"
  resource_group_name = "rg-hub"
  ip_configuration {
    name      = "ipconfig"
    subnet_id = azurerm_subnet.fw.id
  }
}
resource "azurerm_virtual_network_gateway" "er" {
  name                = "ergw-hub"
  resource_group_name = "rg-hub"
  type                = "ExpressRoute"
  ip_configuration {
    subnet_id = azurerm_subnet.gw.id
  }
}
"#,
    );
    for i in 0..n {
        let kms = if broken.contains(&i) {
            String::new()
        } else {
            "  route {\n    name = \"kms1\"\n    address_prefix = \"20.118.99.224/32\"\n    next_hop_type = \"Internet\"\n  }\n  route {\n    name = \"kms2\"\n    address_prefix = \"40.83.235.53/32\"\n    next_hop_type = \"Internet\"\n  }\n".to_string()
        };
        t.push_str(&format!(
            r#"resource "azurerm_virtual_network" "s{i}" {{
  name                = "vnet-spoke-{i:02}"
  resource_group_name = "rg-spoke-{i:02}"
  address_space       = ["10.{o}.0.0/16"]
}}
resource "azurerm_subnet" "s{i}" {{
  name                 = "snet-workload"
  resource_group_name  = "rg-spoke-{i:02}"
  virtual_network_name = azurerm_virtual_network.s{i}.name
  address_prefixes     = ["10.{o}.1.0/24"]
}}
resource "azurerm_subnet_route_table_association" "s{i}" {{
  subnet_id      = azurerm_subnet.s{i}.id
  route_table_id = azurerm_route_table.s{i}.id
}}
resource "azurerm_route_table" "s{i}" {{
  name = "rt-spoke-{i:02}"
  route {{
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }}
{kms}}}
resource "azurerm_virtual_network_peering" "s{i}_hub" {{
  name                      = "spoke-{i:02}-to-hub"
  resource_group_name       = "rg-spoke-{i:02}"
  virtual_network_name      = azurerm_virtual_network.s{i}.name
  remote_virtual_network_id = azurerm_virtual_network.hub.id
  use_remote_gateways       = true
}}
resource "azurerm_virtual_network_peering" "hub_s{i}" {{
  name                      = "hub-to-spoke-{i:02}"
  resource_group_name       = "rg-hub"
  virtual_network_name      = azurerm_virtual_network.hub.name
  remote_virtual_network_id = azurerm_virtual_network.s{i}.id
  allow_gateway_transit     = true
}}
"#,
            o = i + 1
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("main.tf"), t).expect("write");
    dir
}

fn graph_of(dir: &Path, format: &str) -> String {
    let out = Command::cargo_bin("kmsguard")
        .expect("binary")
        .arg("graph")
        .arg(dir)
        .args(["--no-config", "--format", format])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The subgraph whose title holds `title`, with its lines.
fn subgraph<'a>(m: &'a str, title: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = m.lines().collect();
    let Some(start) = lines
        .iter()
        .position(|l| l.trim_start().starts_with("subgraph") && l.contains(title))
    else {
        return Vec::new();
    };
    lines[start..].iter().take_while(|l| l.trim() != "end").copied().collect()
}

#[test]
fn fifty_identical_spokes_fold_into_one_box_with_their_count_and_names() {
    let dir = hub_and_spoke(50, &[]);
    let m = graph_of(dir.path(), "mermaid");
    let boxes = m.lines().filter(|l| l.trim_start().starts_with("subgraph")).count();
    assert!(boxes <= 4, "{boxes} boxes:\n{m}");
    assert!(m.lines().count() <= 40, "{} lines:\n{m}", m.lines().count());
    let spokes = subgraph(
        &m,
        "50 virtual networks alike: vnet-spoke-00, vnet-spoke-01, vnet-spoke-02, … vnet-spoke-49",
    );
    assert!(spokes.iter().any(|l| l.contains("subnet snet-workload")), "{m}");
    assert!(m.contains("route table rt-spoke-00 and 49 alike"), "{m}");
    assert_eq!(m.matches("route table").count(), 1, "{m}");
    // One line for the fifty peerings, with the flags that let the hub's
    // ExpressRoute routes into the spokes.
    assert!(m.contains("|\"50 peerings, uses remote gateways, allows gateway transit\"|"), "{m}");
    // The hub's gateway and firewall are in the hub's box.
    let hub = subgraph(&m, "virtual network vnet-hub (");
    assert!(hub.iter().any(|l| l.contains("ExpressRoute gateway ergw-hub (BGP)")), "{m}");
    assert!(hub.iter().any(|l| l.contains("Azure Firewall afw-hub")), "{m}");
    // Deterministic.
    assert_eq!(m, graph_of(dir.path(), "mermaid"));
}

#[test]
fn a_spoke_that_differs_stays_out_of_the_fold_and_is_red() {
    let dir = hub_and_spoke(50, &[17]);
    let m = graph_of(dir.path(), "mermaid");
    assert!(
        m.contains("49 virtual networks alike: vnet-spoke-00, vnet-spoke-01, vnet-spoke-02, … vnet-spoke-49"),
        "{m}"
    );
    let odd = subgraph(&m, "virtual network vnet-spoke-17 (");
    assert!(odd.iter().any(|l| l.contains("subnet snet-workload")), "{m}");
    // Its route table's step is red with the rule that reports it.
    let table = m
        .lines()
        .find(|l| l.contains("route table rt-spoke-17"))
        .and_then(|l| {
            l.split_whitespace()
                .next()
                .map(|s| s.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>())
        })
        .expect("its table is drawn");
    let edges: Vec<&str> = m
        .lines()
        .filter(|l| !l.contains("linkStyle") && (l.contains(" -->") || l.contains(" -.->")))
        .collect();
    let (i, e) = edges
        .iter()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with(&format!("{table} ")))
        .expect("an edge from its table");
    assert!(e.contains("KG101"), "{e}");
    assert!(m.contains(&format!("linkStyle {i} stroke:#d1242f")), "{m}");
    // The markdown report draws this network now that it folds small.
    let md = markdown_report(dir.path());
    assert!(md.contains("```mermaid\nflowchart LR\n"), "{md}");
    assert!(md.contains("49 virtual networks alike"), "{md}");
}

#[test]
fn peerings_join_virtual_networks_with_the_gateway_flags_that_matter() {
    let m = graph(&["examples/31-peering-gateway-transit"], "mermaid");
    let node = |label: &str| {
        m.lines()
            .find(|l| l.contains(&format!("[[\"{label}\"]]")))
            .map(|l| l.trim().chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>())
            .unwrap_or_else(|| panic!("{label} drawn:\n{m}"))
    };
    let (hub, s1, s2) = (
        node("virtual network vnet-hub"),
        node("virtual network vnet-spoke1"),
        node("virtual network vnet-spoke2"),
    );
    assert!(
        m.contains(&format!(
            "{s1} -->|\"peering, uses remote gateways, allows gateway transit\"| {hub}"
        )),
        "{m}"
    );
    assert!(
        m.contains(&format!("{s2} -->|\"peering, not using remote gateways\"| {hub}")),
        "{m}"
    );
    // The gateway is a node of the hub's network, where spoke 1's KG104 path leads.
    let hub_box = subgraph(&m, "virtual network vnet-hub (");
    let gw = hub_box
        .iter()
        .find(|l| l.contains("ExpressRoute gateway ergw-hub (BGP)"))
        .map(|l| l.trim().chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>())
        .unwrap_or_else(|| panic!("the gateway in the hub's box:\n{m}"));
    assert!(m.contains(&format!("-->|\"KG104\"| {gw}")), "{m}");
    // DOT and the drawings carry the same lines.
    let d = graph(&["examples/31-peering-gateway-transit"], "dot");
    assert!(
        d.contains("uses remote gateways, allows gateway transit") && d.contains("shape=cylinder"),
        "{d}"
    );
}

/// A subnet Azure reserves for a gateway holds no Windows VM: learning the
/// gateway's BGP default route there is how it must work, no rule reports
/// it, so its path is not drawn red ("blocked"), while the workload subnet
/// KG104 reports still is.
#[test]
fn the_gateway_subnet_is_not_drawn_as_broken() {
    let m = graph(&["examples/31-peering-gateway-transit"], "mermaid");
    let id = |label: &str| {
        m.lines()
            .find(|l| l.contains(&format!("[\"{label}\"]")))
            .map(|l| l.trim().chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>())
            .unwrap_or_else(|| panic!("{label} drawn:\n{m}"))
    };
    let gateway_subnet = id("subnet GatewaySubnet");
    let edges: Vec<&str> = m.lines().map(str::trim).filter(|l| l.contains("-->")).collect();
    let index = |from: &str| {
        edges
            .iter()
            .position(|l| l.starts_with(&format!("{from} ")))
            .unwrap_or_else(|| panic!("an edge from {from}:\n{m}"))
    };
    let red = |i: usize| m.contains(&format!("linkStyle {i} stroke:#d1242f"));
    let g = index(&gateway_subnet);
    assert!(!edges[g].contains("blocked") && !red(g), "{m}");
    assert!(edges.iter().any(|l| l.contains("|\"KG104\"|")), "{m}");
}

/// docs/graph.svg, the README's picture, is what the command under it
/// prints today: the command is read from the README and run.
#[test]
fn the_readme_picture_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let at = readme.find("](docs/graph.svg)").expect("the README shows docs/graph.svg");
    let command = readme[at..]
        .lines()
        .find_map(|l| l.strip_prefix("*`kmsguard graph ").and_then(|l| l.strip_suffix("`*")))
        .expect("the command under the picture");
    let args: Vec<&str> = command.split_whitespace().collect();
    assert!(args.ends_with(&["--format", "svg"]), "{command}");
    let paths = &args[..args.len() - 2];
    let now = graph(paths, "svg");
    let committed = std::fs::read_to_string(root.join("docs/graph.svg")).expect("docs/graph.svg");
    assert!(
        now == committed,
        "docs/graph.svg is stale; regenerate it with:\n  cargo run -q -- graph {} --no-config --format svg > docs/graph.svg",
        paths.join(" ")
    );
}
