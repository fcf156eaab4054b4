//! `ingest::load`: reads, parses and lowers every file discovery found,
//! through the formats of [`FORMATS`], into one model.
//!
//! Directories are read, parsed and lowered in parallel, and each one's
//! syntax trees are dropped as soon as it is lowered, so memory stays flat
//! on a large monorepo. What crosses directories (a Terraform root and the
//! modules it calls, Bicep modules) is lowered after every directory is
//! known, by each format's `lower_all`.

use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::formats::{Claim, DirRead, FileRead, Run, Unit, FORMATS};
use super::FileError;
use crate::discover::{self, Kind};
use crate::model::Model;
use crate::source::{self, FileId, SourceFile, SourceMap};
use crate::CheckOptions;

/// A file found by discovery, with the id reserved for it.
pub struct Entry {
    pub id: FileId,
    pub path: PathBuf,
    pub kind: Kind,
    /// Read only because a checked file calls it as a module.
    pub context: bool,
}

/// What discovery hands to [`load`]: the files by directory, with their
/// reserved ids, and what was refused on the way.
pub struct Entries {
    pub dirs: BTreeMap<PathBuf, Vec<Entry>>,
    pub sources: SourceMap,
    pub errors: Vec<FileError>,
    /// Files read only because a checked file calls them as modules.
    pub context_paths: HashSet<PathBuf>,
}

/// The model of every deployment unit, the files read, and the files that
/// could not be read, parsed or lowered.
pub struct Ingested {
    pub model: Model,
    pub sources: SourceMap,
    pub errors: Vec<FileError>,
    /// Files a format recognised (a JSON file no format knows is not counted).
    pub files_checked: usize,
}

/// A parsed file, or a directory's state, of a format the loader does not
/// know the types of.
type Erased = Box<dyn Any + Send>;

/// A file as [`read_each`] read it: its entry, its source file when it
/// could be read, and what the parser made of it.
pub(crate) type ReadFile<'e, T> = (&'e Entry, Option<SourceFile>, Result<Option<T>, FileError>);

/// What reading one directory leaves once its syntax trees are dropped.
#[derive(Default)]
struct DirOutcome {
    sources: Vec<(FileId, SourceFile)>,
    errors: Vec<FileError>,
    checked: usize,
    /// Each format's [`crate::ingest::Format::Dir`], in the order of [`FORMATS`].
    states: Vec<Erased>,
}

/// Reads, parses and lowers every deployment unit into one model, each unit
/// in a namespace of its own.
pub fn load(entries: Entries, opts: &CheckOptions) -> Ingested {
    let Entries {
        dirs,
        mut sources,
        mut errors,
        context_paths,
    } = entries;
    let inputs: Vec<Box<dyn Any + Send + Sync>> = FORMATS.iter().map(|f| f.inputs(opts, &mut sources, &mut errors)).collect();

    let dir_list: Vec<(&PathBuf, &Vec<Entry>)> = dirs.iter().collect();
    let outcomes: Vec<DirOutcome> = dir_list
        .par_iter()
        .enumerate()
        .map(|(i, (dir, entries))| {
            guarded(dir, || lower_dir(dir, entries, namespace(i), opts, &inputs)).unwrap_or_else(|e| DirOutcome {
                errors: vec![e],
                ..DirOutcome::default()
            })
        })
        .collect();

    let mut files_checked = 0;
    let mut states: Vec<Vec<Erased>> = FORMATS.iter().map(|_| Vec::with_capacity(dir_list.len())).collect();
    for o in outcomes {
        for (id, f) in o.sources {
            sources.set(id, f);
        }
        errors.extend(o.errors);
        files_checked += o.checked;
        // A directory that failed has no states: its formats get their
        // default, which keeps every format's list aligned with the
        // directories.
        let mut dir_states = o.states.into_iter();
        for list in &mut states {
            list.push(dir_states.next().unwrap_or_else(|| Box::new(())));
        }
    }

    let run = Run {
        dirs: &dir_list,
        context_paths: &context_paths,
        opts,
        by_dir: dir_list.iter().enumerate().map(|(i, (d, _))| (source::normalise(d), i)).collect(),
    };
    let mut units = Vec::new();
    for ((format, states), inputs) in FORMATS.iter().zip(states).zip(&inputs) {
        let (lowered, failed) =
            guarded(Path::new("."), || format.lower_all(states, &run, inputs.as_ref())).unwrap_or_else(|e| (Vec::new(), vec![e]));
        units.extend(lowered);
        errors.extend(failed);
    }

    // Each deployment unit keeps to itself: Terraform roots were given the
    // namespace of their directory; every other unit gets one of its own
    // after those.
    let mut model = Model::default();
    let mut next = namespace(dirs.len());
    for unit in units {
        match unit {
            Unit::InDirectory(m) => model.absorb(m),
            Unit::Own(mut m) => {
                m.set_namespace(next);
                next = next.saturating_add(1);
                model.absorb(m);
            }
        }
    }
    Ingested {
        model,
        sources,
        errors,
        files_checked,
    }
}

/// Namespaces keep deployment units apart: a Terraform root takes its
/// directory's; other units are numbered after every directory.
pub(crate) fn namespace(dir_index: usize) -> u32 {
    u32::try_from(dir_index + 1).unwrap_or(u32::MAX)
}

/// Reads and parses one directory's files, and lets every format lower what
/// it can of them alone.
fn lower_dir(dir: &Path, entries: &[Entry], namespace: u32, opts: &CheckOptions, inputs: &[Box<dyn Any + Send + Sync>]) -> DirOutcome {
    let all: Vec<&Entry> = entries.iter().collect();
    let parsed = read_each(&all, opts, parse_claimed);
    let mut out = DirOutcome::default();
    let mut files: Vec<Vec<Erased>> = FORMATS.iter().map(|_| Vec::new()).collect();
    for (e, file, p) in parsed {
        if let Some(f) = file {
            out.sources.push((e.id, f));
        }
        match p {
            Ok(Some((format, parsed))) => {
                out.checked += 1;
                if let Some(list) = files.get_mut(format) {
                    list.push(parsed);
                }
            }
            // Valid JSON no format knows (a package.json): skipped silently.
            Ok(None) => {}
            Err(err) => {
                out.checked += 1;
                out.errors.push(err);
            }
        }
    }
    let read = DirRead {
        dir,
        entries,
        namespace,
        context: !entries.is_empty() && entries.iter().all(|e| e.context),
        opts,
    };
    out.states = FORMATS
        .iter()
        .zip(files)
        .zip(inputs)
        .map(|((format, files), inputs)| format.lower_dir(&read, files, inputs.as_ref()))
        .collect();
    out
}

/// Parses a file with the formats that claim its kind: the owners first,
/// then the fallbacks, each in the order of [`FORMATS`]; the first that
/// recognises it (or finds it broken) has it.
fn parse_claimed(file: &mut FileRead<'_>) -> Result<Option<(usize, Erased)>, FileError> {
    let kind = file.kind;
    for claim in [Claim::Owns, Claim::Fallback] {
        for (i, format) in FORMATS.iter().enumerate().filter(|(_, f)| f.claims(kind) == claim) {
            if let Some(parsed) = format.parse(file)? {
                return Ok(Some((i, parsed)));
            }
        }
    }
    Ok(None)
}

/// Reads (size-capped) and parses files in parallel; returns each with its
/// entry, its source file when it could be read, and what `parse` made of it.
pub(crate) fn read_each<'e, T: Send>(
    entries: &[&'e Entry],
    opts: &CheckOptions,
    parse: impl Fn(&mut FileRead<'_>) -> Result<Option<T>, FileError> + Sync,
) -> Vec<ReadFile<'e, T>> {
    entries
        .par_iter()
        .map(
            |e| match discover::read_text(&e.path, opts.limits.max_file_size.min(source::MAX_INDEXED_LEN)) {
                Ok(text) => {
                    let mut source = SourceFile::released(e.path.clone(), &text);
                    let parsed = parse(&mut FileRead {
                        kind: e.kind,
                        id: e.id,
                        text: Arc::from(text),
                        source: &mut source,
                        opts,
                    });
                    (*e, Some(source), parsed)
                }
                Err(message) => (*e, None, Err(FileError::path(&e.path, message.to_string()))),
            },
        )
        .collect()
}

/// Runs one unit of the check so that a bug in kmsguard (a panic) costs that
/// unit, reported as an error against `path`, and not the whole run: the
/// other directories are still checked, and the exit code says the run is
/// incomplete.
pub fn guarded<T>(path: &Path, work: impl FnOnce() -> T) -> Result<T, FileError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        FileError::path(
            path,
            format!(
                "kmsguard failed on an internal error while checking this ({what}); the rest was checked. Please report it with the input at https://github.com/kmsguard/kmsguard/issues"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_costs_its_unit_not_the_run() {
        assert_eq!(guarded(Path::new("ok"), || 7).ok(), Some(7));
        let e = guarded(Path::new("infra/hub"), || -> u32 { panic!("index out of bounds") }).err();
        let e = e.expect("the panic is an error");
        assert_eq!(e.file_path(), Some(Path::new("infra/hub")));
        assert!(
            e.message().contains("index out of bounds") && e.message().contains("report"),
            "{}",
            e.message()
        );
    }

    /// Which format has a `.json` file: ARM owns the kind, a Terraform plan
    /// is asked only when ARM does not recognise the file, and JSON neither
    /// knows is no one's (and not counted as checked).
    #[test]
    fn a_json_file_goes_to_arm_first_then_to_a_plan_else_to_no_one() {
        let owner = |text: &str| {
            let opts = CheckOptions::default();
            let mut source = SourceFile::released(PathBuf::from("x.json"), text);
            let mut file = FileRead {
                kind: Kind::Json,
                id: SourceMap::default().reserve(PathBuf::from("x.json")),
                text: Arc::from(text),
                source: &mut source,
                opts: &opts,
            };
            parse_claimed(&mut file).map(|p| p.map(|(i, _)| i))
        };
        let terraform = FORMATS.iter().position(|f| f.claims(Kind::Terraform) == Claim::Owns);
        let arm = FORMATS.iter().position(|f| f.claims(Kind::Json) == Claim::Owns);
        let template = r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "resources": []}"#;
        assert_eq!(owner(template), Ok(arm));
        let plan = r#"{"format_version": "1.2", "planned_values": {"root_module": {}}}"#;
        assert_eq!(owner(plan), Ok(terraform));
        assert_eq!(owner(r#"{"name": "web", "version": "1.0.0"}"#), Ok(None));
        // A file that names the template schema and does not parse is ARM's error.
        assert!(owner(r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "#).is_err());
    }
}
