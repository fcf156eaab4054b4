//! Parses every `.json` file under the given paths; for ARM deployment
//! templates and parameter files, parses every string value that is a
//! template expression.
//!
//! ```text
//! cargo run --release --example arm_parse_all -- [--stats] [--json-errors] PATH...
//! ```
//!
//! Prints each expression failure as `path:line:col: message`, then
//! `templates: N, expressions: M parsed, K failed`. `--json-errors` also lists
//! `.json` files that are not valid JSON by ARM's rules (many are not ARM
//! files at all); `--stats` prints how often each function and expression
//! form occurs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kmsguard_arm_syntax::{
    classify_string, is_deployment_template, is_parameters_file, line_col, parse_json, Expr, ExprKind, JsonKind, StringValue,
};

#[derive(Default)]
struct Stats {
    json_files: usize,
    json_errors: usize,
    templates: usize,
    parameter_files: usize,
    literals: usize,
    escaped_literals: usize,
    bracket_literals: usize,
    parsed: usize,
    failed: usize,
    functions: BTreeMap<String, usize>,
    forms: BTreeMap<&'static str, usize>,
    max_height: usize,
}

fn main() -> ExitCode {
    let mut show_stats = false;
    let mut show_json_errors = false;
    let mut roots = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--stats" => show_stats = true,
            "--json-errors" => show_json_errors = true,
            _ => roots.push(PathBuf::from(arg)),
        }
    }
    if roots.is_empty() {
        eprintln!("usage: arm_parse_all [--stats] [--json-errors] PATH...");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for root in &roots {
        collect_json_files(root, &mut files);
    }
    files.sort();

    let mut stats = Stats::default();
    for path in &files {
        check_file(path, &mut stats, show_json_errors);
    }

    if show_stats {
        println!(
            "json files: {}, not json: {}, parameter files: {}, literal strings: {} ({} escaped as [[...], {} others starting with [)",
            stats.json_files, stats.json_errors, stats.parameter_files, stats.literals, stats.escaped_literals, stats.bracket_literals
        );
        println!("max expression height: {}", stats.max_height);
        println!("forms:");
        for (form, n) in &stats.forms {
            println!("  {form}: {n}");
        }
        println!("functions:");
        for (name, n) in &stats.functions {
            println!("  {name}: {n}");
        }
    }
    println!(
        "templates: {}, expressions: {} parsed, {} failed",
        stats.templates, stats.parsed, stats.failed
    );
    if stats.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn collect_json_files(root: &Path, out: &mut Vec<PathBuf>) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
            out.push(path);
        }
    }
}

fn check_file(path: &Path, stats: &mut Stats, show_json_errors: bool) {
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    stats.json_files += 1;
    let Ok(source) = String::from_utf8(bytes) else {
        stats.json_errors += 1;
        if show_json_errors {
            println!("{}: json: not utf-8", path.display());
        }
        return;
    };
    let root = match parse_json(&source) {
        Ok(root) => root,
        Err(err) => {
            stats.json_errors += 1;
            if show_json_errors {
                let (line, col) = line_col(&source, err.span.start);
                println!("{}:{line}:{col}: json: {}", path.display(), err.message);
            }
            return;
        }
    };
    if is_deployment_template(&root) {
        stats.templates += 1;
    } else if is_parameters_file(&root) {
        stats.parameter_files += 1;
    } else {
        return;
    }
    root.walk(|value| {
        let JsonKind::String(text) = &value.kind else {
            return;
        };
        match classify_string(text) {
            Ok(StringValue::Literal(_)) => {
                stats.literals += 1;
                if text.starts_with("[[") && text.ends_with(']') {
                    stats.escaped_literals += 1;
                } else if text.starts_with('[') {
                    stats.bracket_literals += 1;
                }
            }
            Ok(StringValue::Expression(expr)) => {
                stats.parsed += 1;
                *stats.forms.entry(root_form(&expr)).or_default() += 1;
                let height = record(&expr, stats);
                stats.max_height = stats.max_height.max(height);
            }
            Err(err) => {
                stats.failed += 1;
                let span = value.string_source_span(&source, err.span);
                let (line, col) = line_col(&source, span.start);
                println!("{}:{line}:{col}: {}", path.display(), err.message);
            }
        }
    });
}

fn root_form(expr: &Expr) -> &'static str {
    match expr.kind {
        ExprKind::String(_) => "root is a string literal",
        ExprKind::Integer(_) => "root is an integer literal",
        ExprKind::Call { .. } => "root is a call",
        ExprKind::Property { .. } => "root is a property access",
        ExprKind::Index { .. } => "root is an index",
    }
}

/// Counts functions and forms; returns the tree height.
fn record(expr: &Expr, stats: &mut Stats) -> usize {
    match &expr.kind {
        ExprKind::String(_) | ExprKind::Integer(_) => 1,
        ExprKind::Call { name, args } => {
            *stats.functions.entry(name.to_ascii_lowercase()).or_default() += 1;
            if name.contains('.') {
                *stats.forms.entry("user-defined (namespaced) call").or_default() += 1;
            }
            1 + args.iter().map(|a| record(a, stats)).max().unwrap_or(0)
        }
        ExprKind::Property { target, .. } => {
            if !matches!(
                target.kind,
                ExprKind::Call { .. } | ExprKind::Property { .. } | ExprKind::Index { .. }
            ) {
                *stats.forms.entry("property access on a literal").or_default() += 1;
            }
            1 + record(target, stats)
        }
        ExprKind::Index { target, index } => {
            if !matches!(
                target.kind,
                ExprKind::Call { .. } | ExprKind::Property { .. } | ExprKind::Index { .. }
            ) {
                *stats.forms.entry("index on a literal").or_default() += 1;
            }
            match index.kind {
                ExprKind::String(_) => *stats.forms.entry("index with a string").or_default() += 1,
                ExprKind::Integer(_) => *stats.forms.entry("index with an integer").or_default() += 1,
                _ => *stats.forms.entry("index with a computed value").or_default() += 1,
            }
            1 + record(target, stats).max(record(index, stats))
        }
    }
}
