//! Gathering: the files a check reads, before any is parsed — the paths
//! named, the deployment units named files belong to, and the local modules
//! they call, less the excluded — each with the id its file will have.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::load::{Entries, Entry};
use crate::context;
use crate::discover::{self, Kind};
use crate::source::{self, SourceMap};
use crate::CheckOptions;

/// What gathering found, and what it refused.
pub struct Gathered {
    pub entries: Entries,
    /// Links and special files discovery did not follow or read.
    pub skipped: Vec<discover::Skipped>,
    pub named_units: context::NamedUnits,
}

/// Finds the files to read: the paths named, the deployment units named
/// files belong to, and the local modules they call, less the excluded.
pub fn gather(opts: &CheckOptions) -> Gathered {
    // A named file (pre-commit names the changed ones) is judged through the
    // deployment units it belongs to, checked whole.
    let named_units = context::named_units(&opts.paths, opts.limits.max_file_size);
    let mut paths = opts.paths.clone();
    paths.extend(named_units.extra_paths.iter().cloned());
    let (mut found, errors, mut skipped) = discover::discover(&paths);
    let excluded = exclusions(opts);
    found.retain(|f| !excluded(&f.path));
    // Local modules the checked files call, wherever they are in the
    // repository, are read too: as context, judged through their callers.
    let (mut context, refused) = context::follow_module_sources(&found, opts.limits.max_file_size);
    context.retain(|f| !excluded(&f.path));
    skipped.extend(refused);
    let context_paths: HashSet<PathBuf> = context.iter().map(|f| source::normalise(&f.path)).collect();
    found.extend(context);
    found.sort();
    found.dedup();

    // File ids follow discovery's path order, so every output is the same on
    // every run whatever order the threads finish in.
    let mut sources = SourceMap::default();
    let mut dirs: BTreeMap<PathBuf, Vec<Entry>> = BTreeMap::new();
    for f in found {
        let id = sources.reserve(f.path.clone());
        let dir = f.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let normalised = source::normalise(&f.path);
        let unit = match f.kind {
            Kind::Bicep => normalised.clone(),
            _ => source::normalise(&dir),
        };
        let context = context_paths.contains(&normalised) || named_units.called.contains(&unit);
        dirs.entry(dir).or_default().push(Entry {
            id,
            path: f.path,
            kind: f.kind,
            context,
        });
    }
    Gathered {
        entries: Entries {
            dirs,
            sources,
            errors,
            context_paths,
        },
        skipped,
        named_units,
    }
}

/// Whether a path matches the config file's `exclude` globs, relative to
/// the config file's directory.
fn exclusions(opts: &CheckOptions) -> impl Fn(&Path) -> bool {
    let mut set = globset::GlobSetBuilder::new();
    for g in &opts.exclude {
        if let Ok(glob) = globset::Glob::new(g) {
            set.add(glob);
        }
    }
    let set = set.build().ok().filter(|_| !opts.exclude.is_empty());
    let base = std::fs::canonicalize(&opts.exclude_base).unwrap_or_else(|_| opts.exclude_base.clone());
    move |path: &Path| {
        let Some(set) = &set else { return false };
        let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let rel = full.strip_prefix(&base).map(Path::to_path_buf).unwrap_or(full);
        set.is_match(&rel)
    }
}
