//! The trace report as text: a table for people, JSON for programs,
//! markdown for pull requests.

use crate::report::escape::{log_text, markdown_code, markdown_text};

use super::{FlowTrace, TraceReport};

pub fn render_json(r: &TraceReport) -> String {
    serde_json::to_string_pretty(r).map(|s| s + "\n").unwrap_or_default()
}

fn loc(file: &Option<String>, line: Option<usize>) -> String {
    match (file, line) {
        (Some(f), Some(l)) if !f.is_empty() => format!("{f}:{l}"),
        _ => String::new(),
    }
}

fn pad(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::from("    ");
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < r.len() {
                let w = widths.get(c).copied().unwrap_or(0);
                line.push_str(&" ".repeat(w.saturating_sub(cell.chars().count()) + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A readable report: a table of routes and of NSG rules per flow. Every
/// name, path and message from the code goes through [`log_text`].
pub fn render_human(r: &TraceReport) -> String {
    let e = |s: &str| log_text(s);
    let mut out = format!(
        "trace from {} {} ({}:{})\n",
        r.from.kind.replace('_', " "),
        e(&r.from.name),
        e(&r.from.file),
        r.from.line
    );
    for f in &r.flows {
        out.push_str(&format!(
            "\nto {}:{}/{}{} [{} cloud]\n",
            f.destination,
            f.port,
            f.protocol,
            f.endpoint.as_ref().map(|t| format!(" ({})", e(t))).unwrap_or_default(),
            e(&f.cloud)
        ));
        human_routes(&mut out, f);
        human_next_hop(&mut out, f);
        human_nsgs(&mut out, f);
        human_verdict(&mut out, f);
    }
    out
}

/// Route selection: the route table, and every route that covers the destination.
fn human_routes(out: &mut String, f: &FlowTrace) {
    let e = |s: &str| log_text(s);
    out.push_str(&match &f.route_table {
        Some(t) => format!("  routes (route table {}, {}:{}):\n", e(&t.name), e(&t.file), t.line),
        None => "  routes (no route table: system routes):\n".to_string(),
    });
    let mut rows = vec![vec![
        "PREFIX".to_string(),
        "SOURCE".into(),
        "NEXT HOP".into(),
        "ROUTE".into(),
        "RESULT".into(),
    ]];
    for row in &f.routes {
        let hop = match (&row.next_hop, &row.next_hop_ip) {
            (Some(h), Some(ip)) => format!("{} {}", e(h), e(ip)),
            (Some(h), None) => e(h),
            (None, _) => "?".into(),
        };
        let name = match (&row.name, loc(&row.file, row.line)) {
            (Some(n), l) if !l.is_empty() => format!("{} ({})", e(n), e(&l)),
            (Some(n), _) => e(n),
            (None, _) => "-".into(),
        };
        rows.push(vec![
            e(&row.prefix),
            row.source.to_string(),
            hop,
            name,
            format!("{}: {}", row.status, e(&row.reason)),
        ]);
    }
    out.push_str(&pad(&rows));
}

/// The next hop, the firewall there and Azure's platform rule.
fn human_next_hop(out: &mut String, f: &FlowTrace) {
    let e = |s: &str| log_text(s);
    if let Some(h) = &f.next_hop {
        out.push_str(&format!(
            "  next hop: {}{} ({} route {})\n",
            e(&h.hop_type),
            h.ip.as_ref().map(|ip| format!(" {}", e(ip))).unwrap_or_default(),
            h.source,
            e(&h.prefix)
        ));
    }
    if let Some(fw) = &f.firewall {
        out.push_str(&format!(
            "  firewall {} ({}:{}): {}: {}\n",
            e(&fw.firewall.name),
            e(&fw.firewall.file),
            fw.firewall.line,
            fw.decision,
            e(&fw.reason)
        ));
        if let Some(l) = Some(loc(&fw.rule_file, fw.rule_line)).filter(|l| !l.is_empty()) {
            out.push_str(&format!("    rule at {}\n", e(&l)));
        }
    }
    if let Some(p) = &f.platform {
        out.push_str(&format!(
            "  platform rule for {}: {}: {} ({})\n",
            e(&p.tag),
            if p.applies { "on" } else { "off" },
            e(&p.reason),
            p.reference
        ));
    }
}

/// The NSG walk: each NSG met, with a table of its rules.
fn human_nsgs(out: &mut String, f: &FlowTrace) {
    let e = |s: &str| log_text(s);
    for n in &f.nsgs {
        out.push_str(&format!(
            "  NSG {} of {} ({}:{}): {}{}\n",
            e(&n.nsg.name),
            e(&n.holder),
            e(&n.nsg.file),
            n.nsg.line,
            n.decision,
            if n.decided_by.is_empty() {
                String::new()
            } else {
                format!(" by {}", e(&n.decided_by))
            }
        ));
        if !n.rules.is_empty() {
            let mut rows = vec![vec!["PRIORITY".to_string(), "RULE".into(), "ACCESS".into(), "RESULT".into()]];
            for r in &n.rules {
                rows.push(vec![
                    r.priority.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                    format!("{} ({}:{})", e(&r.name), e(&r.file), r.line),
                    r.access.unwrap_or("?").to_string(),
                    format!("{}: {}", r.status, e(&r.reason)),
                ]);
            }
            out.push_str(&pad(&rows));
        }
    }
}

/// The notes, the verdict and the values that left it unknown.
fn human_verdict(out: &mut String, f: &FlowTrace) {
    let e = |s: &str| log_text(s);
    for n in &f.notes {
        out.push_str(&format!("  note: {}\n", e(n)));
    }
    out.push_str(&format!(
        "  verdict: {}{}\n",
        f.verdict.to_uppercase(),
        if f.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", e(&f.reason))
        }
    ));
    for u in &f.unknown {
        let l = loc(&Some(u.file.clone()), Some(u.line));
        out.push_str(&format!(
            "    unknown: {}{}\n",
            e(&u.reason),
            if l.is_empty() { String::new() } else { format!(" ({})", e(&l)) }
        ));
    }
}

/// Markdown for a step summary or a pull-request comment: names in code
/// spans, messages escaped.
pub fn render_markdown(r: &TraceReport) -> String {
    let t = |s: &str| markdown_text(s);
    let c = |s: &str| markdown_code(s);
    let mut out = format!(
        "### kmsguard trace from {} {} ({}:{})\n",
        r.from.kind.replace('_', " "),
        c(&r.from.name),
        c(&r.from.file),
        r.from.line
    );
    for f in &r.flows {
        out.push_str(&format!(
            "\n#### {} {}:{}/{}{}: **{}**\n\n",
            match f.verdict {
                "reaches" => "✅",
                "blocked" => "❌",
                _ => "❔",
            },
            f.destination,
            f.port,
            f.protocol,
            f.endpoint.as_ref().map(|x| format!(" ({})", t(x))).unwrap_or_default(),
            f.verdict
        ));
        if !f.reason.is_empty() {
            out.push_str(&format!("{}\n\n", t(&f.reason)));
        }
        out.push_str("| prefix | source | next hop | route | result |\n|---|---|---|---|---|\n");
        for row in &f.routes {
            out.push_str(&format!(
                "| {} | {} | {}{} | {} | {}: {} |\n",
                c(&row.prefix),
                row.source,
                t(row.next_hop.as_deref().unwrap_or("?")),
                row.next_hop_ip.as_ref().map(|ip| format!(" {}", c(ip))).unwrap_or_default(),
                row.name.as_ref().map(|n| c(n)).unwrap_or_else(|| "-".into()),
                row.status,
                t(&row.reason)
            ));
        }
        if let Some(fw) = &f.firewall {
            out.push_str(&format!(
                "\nFirewall {}: **{}**: {}\n",
                c(&fw.firewall.name),
                fw.decision,
                t(&fw.reason)
            ));
        }
        if let Some(p) = &f.platform {
            out.push_str(&format!(
                "\nPlatform rule for {}: **{}**: {} ({})\n",
                c(&p.tag),
                if p.applies { "on" } else { "off" },
                t(&p.reason),
                t(p.reference)
            ));
        }
        for n in &f.nsgs {
            out.push_str(&format!(
                "\nNSG {} of {}: **{}**{}\n\n| priority | rule | access | result |\n|---|---|---|---|\n",
                c(&n.nsg.name),
                t(&n.holder),
                n.decision,
                if n.decided_by.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", t(&n.decided_by))
                }
            ));
            for r in &n.rules {
                out.push_str(&format!(
                    "| {} | {} | {} | {}: {} |\n",
                    r.priority.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                    c(&r.name),
                    r.access.unwrap_or("?"),
                    r.status,
                    t(&r.reason)
                ));
            }
        }
        for n in &f.notes {
            out.push_str(&format!("\nNote: {}\n", t(n)));
        }
        for u in &f.unknown {
            out.push_str(&format!("\n- unknown: {} ({}:{})\n", t(&u.reason), c(&u.file), u.line));
        }
    }
    out
}
