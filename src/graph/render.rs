//! The graph as Mermaid, DOT, SVG and HTML. Labels come from the code: each
//! format escapes them its own way, after [`log_text`] has made control
//! characters visible and defused log-command prefixes.

use super::{Graph, NodeKind, State};
use crate::report::escape::log_text;
use crate::rules::Finding;
use crate::source::{display_path, SourceMap};

const RED: &str = "#d1242f";
const GREEN: &str = "#1a7f37";
const GREY: &str = "#6e7781";

/// Mermaid's entity codes for everything that could end a label or start markup.
fn mermaid_label(s: &str) -> String {
    let mut out = String::new();
    for c in log_text(s).chars() {
        match c {
            '#' => out.push_str("#35;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '[' => out.push_str("#91;"),
            ']' => out.push_str("#93;"),
            '|' => out.push_str("#124;"),
            c => out.push(c),
        }
    }
    out
}

fn mermaid_shape(kind: NodeKind, label: &str) -> String {
    match kind {
        NodeKind::Subnet => format!("[\"{label}\"]"),
        NodeKind::Vnet => format!("[[\"{label}\"]]"),
        NodeKind::Gateway => format!("[(\"{label}\")]"),
        NodeKind::Firewall => format!("{{{{\"{label}\"}}}}"),
        NodeKind::RouteTable => format!("[/\"{label}\"/]"),
        NodeKind::Nsg => format!("{{{{\"{label}\"}}}}"),
        NodeKind::NextHop => format!("([\"{label}\"])"),
        NodeKind::Kms => format!("((\"{label}\"))"),
    }
}

/// A Mermaid flowchart: one subgraph per file, broken paths red with their
/// rule codes, unknown ones dashed.
pub fn mermaid(g: &Graph) -> String {
    let mut out = String::from("flowchart LR\n");
    for (gi, (group, nodes)) in g.groups().iter().enumerate() {
        let indent = if group.is_empty() { "  " } else { "    " };
        if !group.is_empty() {
            out.push_str(&format!("  subgraph g{gi}[\"{}\"]\n", mermaid_label(group)));
        }
        for n in nodes {
            out.push_str(&format!("{indent}{}{}\n", n.id, mermaid_shape(n.kind, &mermaid_label(&n.label))));
        }
        if !group.is_empty() {
            out.push_str("  end\n");
        }
    }
    let mut styles = Vec::new();
    for (i, e) in g.edges.iter().enumerate() {
        let arrow = if e.state == State::Unknown { "-.->" } else { "-->" };
        if e.label.is_empty() {
            out.push_str(&format!("  {} {arrow} {}\n", e.from, e.to));
        } else {
            out.push_str(&format!("  {} {arrow}|\"{}\"| {}\n", e.from, mermaid_label(&e.label), e.to));
        }
        match &e.state {
            State::Broken(_) => styles.push(format!("  linkStyle {i} stroke:{RED},stroke-width:3px\n")),
            State::Reaches => styles.push(format!("  linkStyle {i} stroke:{GREEN},stroke-width:2px\n")),
            State::Unknown => styles.push(format!("  linkStyle {i} stroke:{GREY},stroke-dasharray:5 5\n")),
            State::Plain => {}
        }
    }
    for s in styles {
        out.push_str(&s);
    }
    out
}

fn dot_label(s: &str) -> String {
    log_text(s).replace('\\', "\\\\").replace('"', "\\\"")
}

/// Graphviz DOT: one cluster per file.
pub fn dot(g: &Graph) -> String {
    let mut out = String::from(
        "digraph kmsguard {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
    );
    for (gi, (group, nodes)) in g.groups().iter().enumerate() {
        if !group.is_empty() {
            out.push_str(&format!(
                "  subgraph cluster_{gi} {{\n    label=\"{}\";\n    style=rounded;\n    color=\"#d0d7de\";\n",
                dot_label(group)
            ));
        }
        for n in nodes {
            let shape = match n.kind {
                NodeKind::Subnet => "box",
                NodeKind::Vnet => "box3d",
                NodeKind::Gateway => "cylinder",
                NodeKind::Firewall => "octagon",
                NodeKind::RouteTable => "parallelogram",
                NodeKind::Nsg => "hexagon",
                NodeKind::NextHop => "ellipse",
                NodeKind::Kms => "doublecircle",
            };
            out.push_str(&format!("    {} [label=\"{}\", shape={shape}];\n", n.id, dot_label(&n.label)));
        }
        if !group.is_empty() {
            out.push_str("  }\n");
        }
    }
    for e in &g.edges {
        let style = match &e.state {
            State::Broken(_) => format!(", color=\"{RED}\", fontcolor=\"{RED}\", penwidth=2"),
            State::Reaches => format!(", color=\"{GREEN}\""),
            State::Unknown => format!(", color=\"{GREY}\", style=dashed"),
            State::Plain => String::new(),
        };
        out.push_str(&format!("  {} -> {} [label=\"{}\"{style}];\n", e.from, e.to, dot_label(&e.label)));
    }
    out.push_str("}\n");
    out
}

fn xml(s: &str) -> String {
    let mut out = String::new();
    for c in log_text(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Multi-line text (a trace) for HTML: line breaks kept, markup escaped.
fn xml_block(s: &str) -> String {
    s.lines().map(xml).collect::<Vec<_>>().join("\n")
}

const NODE_W: usize = 250;
const NODE_H: usize = 40;
const COL_GAP: usize = 90;
const ROW_GAP: usize = 22;
const MARGIN: usize = 20;

/// Positions: (x, y) of each node's top-left corner, in columns by kind.
/// Subnets, tables and NSGs are stacked in order; a next hop sits level
/// with the mean of what leads into it, and KMS with the mean of the hops,
/// pushed down where they would overlap.
fn layout(g: &Graph) -> (Vec<(usize, usize)>, usize, usize) {
    let step = NODE_H + ROW_GAP;
    let mut pos: Vec<(usize, usize)> = vec![(0, 0); g.nodes.len()];
    let x_of = |col: usize| MARGIN + col * (NODE_W + COL_GAP);
    let mut bottom = MARGIN;
    let mut stacked = [MARGIN; 2];
    for (n, p) in g.nodes.iter().zip(pos.iter_mut()) {
        if n.kind == NodeKind::Vnet {
            continue;
        }
        let col = n.kind.column();
        if let Some(y) = stacked.get_mut(col) {
            *p = (x_of(col), *y);
            *y += step;
            bottom = bottom.max(*y);
        }
    }
    let index: std::collections::HashMap<&str, usize> = g.nodes.iter().enumerate().map(|(i, n)| (n.id.as_str(), i)).collect();
    for col in 2..4 {
        let mut wanted: Vec<(usize, usize)> = Vec::new();
        for (i, n) in g.nodes.iter().enumerate().filter(|(_, n)| n.kind.column() == col) {
            let ys: Vec<usize> = g
                .edges
                .iter()
                .filter(|e| e.to == n.id)
                .filter_map(|e| index.get(e.from.as_str()).copied())
                .filter(|j| g.nodes.get(*j).is_some_and(|m| m.kind.column() < col))
                .filter_map(|j| pos.get(j).map(|p| p.1))
                .collect();
            let y = if ys.is_empty() {
                MARGIN
            } else {
                ys.iter().sum::<usize>() / ys.len()
            };
            wanted.push((y, i));
        }
        wanted.sort();
        let mut floor = MARGIN;
        for (y, i) in wanted {
            let y = y.max(floor);
            if let Some(p) = pos.get_mut(i) {
                *p = (x_of(col), y);
            }
            floor = y + step;
            bottom = bottom.max(floor);
        }
    }
    // Networks' own nodes go below everything, so that the peerings' arcs
    // and labels between them have the width of the drawing to themselves.
    let mut y = bottom;
    for (n, p) in g.nodes.iter().zip(pos.iter_mut()) {
        if n.kind == NodeKind::Vnet {
            *p = (x_of(0), y);
            y += step;
        }
    }
    bottom = y;
    let height = bottom + MARGIN;
    let width = MARGIN * 2 + 4 * NODE_W + 3 * COL_GAP;
    (pos, width, height)
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn svg_body(g: &Graph, links: bool) -> (String, usize, usize) {
    let (pos, width, height) = layout(g);
    let at = |id: &str| g.nodes.iter().position(|n| n.id == id).and_then(|i| pos.get(i).copied());
    let mut out = String::new();
    out.push_str(&format!(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"{GREY}\"/></marker></defs>\n"
    ));
    for e in &g.edges {
        let (Some((x1, y1)), Some((x2, y2))) = (at(&e.from), at(&e.to)) else {
            continue;
        };
        let (sx, sy) = (x1 + NODE_W, y1 + NODE_H / 2);
        let (tx, ty) = (x2, y2 + NODE_H / 2);
        let (color, extra) = match &e.state {
            State::Broken(_) => (RED, " stroke-width=\"3\"".to_string()),
            State::Reaches => (GREEN, " stroke-width=\"2\"".to_string()),
            State::Unknown => (GREY, " stroke-dasharray=\"6 4\" stroke-width=\"2\"".to_string()),
            State::Plain => (GREY, " stroke-width=\"1\"".to_string()),
        };
        if x1 == x2 {
            // Within one column (a peering between two networks): an arc
            // out of the right side and back into it.
            let (ex, bulge) = (x2 + NODE_W, x1 + NODE_W + COL_GAP / 2);
            out.push_str(&format!(
                "<path d=\"M {sx} {sy} C {bulge} {sy}, {bulge} {ty}, {ex} {ty}\" fill=\"none\" stroke=\"{color}\"{extra} marker-end=\"url(#arrow)\"/>\n"
            ));
        } else {
            let mid = (sx + tx) / 2;
            out.push_str(&format!(
                "<path d=\"M {sx} {sy} C {mid} {sy}, {mid} {ty}, {tx} {ty}\" fill=\"none\" stroke=\"{color}\"{extra} marker-end=\"url(#arrow)\"/>\n"
            ));
        }
        if !e.label.is_empty() {
            // Beside the start of the line: sources sit on rows of their own.
            out.push_str(&format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"11\" font-weight=\"bold\" fill=\"{color}\">{}</text>\n",
                sx + 6,
                sy - 5,
                xml(&e.label)
            ));
        }
    }
    for (n, (x, y)) in g.nodes.iter().zip(&pos) {
        let (fill, stroke) = match n.kind {
            NodeKind::Subnet => ("#ddf4ff", "#54aeff"),
            NodeKind::Vnet => ("#ffffff", "#0969da"),
            NodeKind::Gateway => ("#fff1e5", "#fb8f44"),
            NodeKind::Firewall => ("#ffebe9", "#ff8182"),
            NodeKind::RouteTable => ("#fff8c5", "#d4a72c"),
            NodeKind::Nsg => ("#fbefff", "#c297ff"),
            NodeKind::NextHop => ("#f6f8fa", "#8c959f"),
            NodeKind::Kms => ("#dafbe1", "#4ac26b"),
        };
        let open = if links && n.kind == NodeKind::Subnet {
            format!("<a href=\"#trace-{}\">", n.id)
        } else {
            String::new()
        };
        let close = if open.is_empty() { "" } else { "</a>" };
        let sub = if n.group.is_empty() {
            String::new()
        } else {
            format!(
                "<text x=\"{}\" y=\"{}\" font-size=\"9\" fill=\"#57606a\">{}</text>",
                x + 8,
                y + 32,
                xml(&short(&n.group, 44))
            )
        };
        out.push_str(&format!(
            "{open}<g class=\"node {kind}\" id=\"{id}\"><title>{title}</title><rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{tx}\" y=\"{ty}\" font-size=\"12\" fill=\"#1f2328\">{label}</text>{sub}</g>{close}\n",
            kind = format!("{:?}", n.kind).to_ascii_lowercase(),
            id = n.id,
            title = xml(&n.label),
            tx = x + 8,
            ty = y + 17,
            label = xml(&short(&n.label, 38)),
        ));
    }
    (out, width, height)
}

/// A standalone SVG drawing (what the README shows).
pub fn svg(g: &Graph) -> String {
    let (body, w, h) = svg_body(g, false);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"Helvetica, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n{body}</svg>\n"
    )
}

/// One self-contained page: the drawing, the findings beside it, and each
/// subnet's trace, shown when its node is clicked (CSS `:target`; no
/// script). Its content security policy forbids loading anything.
pub fn html(g: &Graph, sources: &SourceMap, findings: &[Finding]) -> String {
    let (body, w, h) = svg_body(g, true);
    let mut list = String::new();
    let mut sorted: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    sorted.sort_by_key(|f| {
        (
            display_path(sources.path(f.primary.origin.file)),
            f.primary.origin.span().start,
            f.code,
        )
    });
    for f in sorted {
        let lc = sources.line_col(&f.primary.origin);
        list.push_str(&format!(
            "<li class=\"{sev}\"><b>{code}</b> <span class=\"where\">{file}:{line}</span><br>{msg}</li>\n",
            sev = f.severity.as_str(),
            code = f.code,
            file = xml(&display_path(sources.path(f.primary.origin.file))),
            line = lc.line,
            msg = xml(&f.message)
        ));
    }
    if list.is_empty() {
        list.push_str("<li>no findings</li>\n");
    }
    let mut traces = String::new();
    for n in g.nodes.iter().filter(|n| n.kind == NodeKind::Subnet) {
        let text: String = n.traces.iter().map(crate::trace::render_human).collect::<Vec<_>>().join("\n");
        traces.push_str(&format!(
            "<section class=\"trace\" id=\"trace-{id}\"><h3>{label}</h3><pre>{text}</pre></section>\n",
            id = n.id,
            label = xml(&n.label),
            text = xml_block(&text)
        ));
    }
    format!(
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>kmsguard: paths to KMS</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 16px; color: #1f2328; }}
.layout {{ display: flex; gap: 24px; align-items: flex-start; }}
.graph {{ overflow: auto; border: 1px solid #d0d7de; border-radius: 6px; }}
.side {{ min-width: 320px; max-width: 560px; }}
li {{ margin-bottom: 8px; font-size: 13px; }}
li.error b {{ color: {RED}; }} li.warning b {{ color: #9a6700; }} li.note b {{ color: {GREY}; }}
.where {{ color: #57606a; font-family: monospace; }}
.trace {{ display: none; }} .trace:target {{ display: block; }}
pre {{ font-size: 11px; white-space: pre; overflow-x: auto; background: #f6f8fa; padding: 8px; border-radius: 6px; }}
.legend span {{ margin-right: 14px; font-size: 12px; }}
</style>
</head>
<body>
<h1>kmsguard: each subnet's path to KMS</h1>
<p class="legend"><span style="color:{RED}">━ broken (rule codes on the line)</span><span style="color:{GREEN}">━ reaches</span><span style="color:{GREY}">┅ unknown</span> Click a subnet for its trace.</p>
<div class="layout">
<div class="graph"><svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif">
{body}</svg></div>
<div class="side">
<h2>Findings</h2>
<ul id="findings">
{list}</ul>
<h2>Traces</h2>
{traces}</div>
</div>
</body>
</html>
"##
    )
}
