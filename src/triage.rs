//! What happens to findings after the rules: one finding for code deployed
//! several times alike, suppressions, the scope of files named on the
//! command line, `--select`/`--ignore`, folding of instances, the baseline,
//! and a stable order.

use std::path::{Path, PathBuf};

use crate::context::NamedUnits;
use crate::model::Model;
use crate::policy::Policy;
use crate::rules::Finding;
use crate::source::{self, SourceMap};
use crate::{fold, report, suppress, CheckOptions};

pub(crate) fn triage(
    opts: &CheckOptions,
    policy: &Policy,
    sources: &SourceMap,
    model: &Model,
    named_units: &NamedUnits,
    mut findings: Vec<Finding>,
) -> Vec<Finding> {
    report::sort(sources, &mut findings);
    // The same code deployed several times (one template under several
    // .bicepparam files, a module called twice alike) is one finding.
    findings
        .dedup_by(|a, b| a.code == b.code && a.primary.origin == b.primary.origin && a.message == b.message && a.resource == b.resource);

    // Suppression comments apply on a finding's line or its resource's header.
    let mut headers = std::collections::HashMap::new();
    for t in &model.route_tables {
        headers.entry(t.address.clone()).or_insert_with(|| t.origin.clone());
    }
    for n in &model.nsgs {
        headers.entry(n.address.clone()).or_insert_with(|| n.origin.clone());
    }
    for s in &model.subnets {
        headers.entry(s.address.clone()).or_insert_with(|| s.origin.clone());
    }
    let meta = suppress::apply(
        sources,
        policy,
        &mut findings,
        &headers,
        &model.resource_suppressions,
        suppress::today(),
        opts.inline_suppressions,
    );
    findings.extend(meta);
    // Files named on the command line (as pre-commit passes them): only the
    // findings they can affect are reported.
    if opts.paths.iter().any(|p| p.is_file()) {
        let scope = NamedScope::new(&opts.paths, &named_units.affected);
        findings.retain(|f| {
            std::iter::once(&f.primary)
                .chain(&f.related)
                .any(|l| scope.covers(sources.path(l.origin.file)))
        });
    }
    let selected = |code: &str| (opts.select.is_empty() || opts.select.iter().any(|s| s == code)) && !opts.ignore.iter().any(|s| s == code);
    findings.retain(|f| selected(f.code));
    // Thousands of instances of one block say one thing: one finding names them all.
    let mut findings = fold::cap_per_place(fold::fold_instances(findings));
    if let Some(baseline) = &opts.baseline {
        suppress::apply_baseline(sources, &mut findings, baseline);
    }
    report::sort(sources, &mut findings);
    findings
}

/// The files whose findings a run on named files reports: a finding counts
/// when its place or any related place is in one of them.
struct NamedScope {
    /// Named files, and the templates named `.bicepparam` files deploy.
    files: Vec<PathBuf>,
    /// A named variable or parameters file changes its whole unit: every
    /// file of its directory.
    value_dirs: Vec<PathBuf>,
    /// Named directories: everything under them.
    trees: Vec<PathBuf>,
}

impl NamedScope {
    fn new(paths: &[PathBuf], affected: &[PathBuf]) -> Self {
        let is_values = |p: &Path| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            n.ends_with(".tfvars") || n.ends_with(".tfvars.json") || n.ends_with(".parameters.json")
        };
        let files = paths
            .iter()
            .filter(|p| p.is_file())
            .chain(affected)
            .map(|p| source::normalise(p))
            .collect();
        let value_dirs = paths
            .iter()
            .filter(|p| p.is_file() && is_values(p))
            .map(|p| source::normalise(p.parent().unwrap_or(Path::new("."))))
            .collect();
        let trees = paths.iter().filter(|p| p.is_dir()).map(|p| source::normalise(p)).collect();
        NamedScope { files, value_dirs, trees }
    }

    fn covers(&self, file: &Path) -> bool {
        let file = source::normalise(file);
        let dir = file.parent().unwrap_or(Path::new(""));
        self.files.contains(&file) || self.value_dirs.iter().any(|d| d == dir) || self.trees.iter().any(|t| file.starts_with(t))
    }
}
