//! The input formats, each one front end behind one trait: [`Format`] says
//! which files it reads, how it parses one, what it lowers as soon as a
//! directory is read, and what it lowers once every directory is known.
//! [`crate::ingest::load`] drives every format in [`FORMATS`] the same way.
//!
//! Adding a format is one module here implementing [`Format`] and one line
//! in [`FORMATS`] (docs/ARCHITECTURE.md, "Adding a format").

mod arm;
mod bicep;
mod terraform;

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::discover::Kind;
use crate::ingest::load::Entry;
use crate::ingest::FileError;
use crate::model::Model;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::CheckOptions;

pub use arm::Arm;
pub use bicep::Bicep;
pub use terraform::Terraform;

/// Every format, in the order their deployment units join the model: a
/// unit's place in the model decides the order findings are produced in,
/// so a new format goes last.
pub(crate) const FORMATS: &[&dyn ErasedFormat] = &[&Terraform, &Arm, &Bicep];

/// How strongly a format wants a kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    No,
    /// Asked first: most files of the kind are this format's.
    Owns,
    /// Asked only when no owner recognises the file: a Terraform plan is
    /// `.json`, like the far more common ARM templates, and recognising one
    /// means parsing it whole.
    Fallback,
}

/// A deployment unit lowered by a format.
pub enum Unit {
    /// Lowered in the namespace of its directory (a Terraform root module).
    InDirectory(Model),
    /// Given a namespace of its own after every directory's (an ARM
    /// template, a Bicep deployment, a plan without its configuration).
    Own(Model),
}

/// One file as read, handed to the formats that claim its kind.
pub struct FileRead<'a> {
    pub kind: Kind,
    pub id: FileId,
    pub text: Arc<str>,
    /// Where the parser records the comments and constructs suppressions
    /// are read from.
    pub source: &'a mut SourceFile,
    pub opts: &'a CheckOptions,
}

/// One directory as read, handed to every format with the files of it
/// that format recognised.
pub struct DirRead<'a> {
    pub dir: &'a Path,
    pub entries: &'a [Entry],
    /// The namespace of a unit lowered [`Unit::InDirectory`].
    pub namespace: u32,
    /// Whether every file of the directory is read only because a checked
    /// file calls it as a module: then it is lowered through its callers
    /// and never judged alone.
    pub context: bool,
    pub opts: &'a CheckOptions,
}

/// The whole run, handed to every format once every directory is read.
pub struct Run<'a> {
    /// Every directory with its files; a directory's index gives its
    /// namespace ([`Run::namespace`]).
    pub dirs: &'a [(&'a PathBuf, &'a Vec<Entry>)],
    /// Files read only because a checked file calls them as modules.
    pub context_paths: &'a HashSet<PathBuf>,
    pub opts: &'a CheckOptions,
    /// Each directory's index by normalised path: a module is found by a
    /// lookup, not a scan of every directory.
    pub(crate) by_dir: HashMap<PathBuf, usize>,
}

impl Run<'_> {
    /// The namespace of the directory at `index`.
    pub fn namespace(&self, index: usize) -> u32 {
        crate::ingest::load::namespace(index)
    }

    /// Reads and parses again the files of `dir` that `format` owns, for a
    /// format that must lower a directory through others (a Terraform
    /// module through each root that calls it) after its syntax trees were
    /// dropped to keep memory flat.
    pub fn reread<F: Format>(&self, format: &F, dir: &Path) -> Vec<F::File> {
        let Some((_, entries)) = self.by_dir.get(&crate::source::normalise(dir)).and_then(|i| self.dirs.get(*i)) else {
            return Vec::new();
        };
        let owned: Vec<&Entry> = entries.iter().filter(|e| format.claims(e.kind) == Claim::Owns).collect();
        crate::ingest::load::read_each(&owned, self.opts, |file| format.parse(file))
            .into_iter()
            .filter_map(|(_, _, parsed)| parsed.ok().flatten())
            .collect()
    }
}

/// A file the command line names (`--var-file`, `--parameters`), read
/// whole up to the size limit and added to the source map; `None` when it
/// cannot be read, with the error recorded.
pub fn read_named(path: &Path, opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> Option<(FileId, Arc<str>)> {
    match crate::discover::read_text(path, opts.limits.max_file_size) {
        Ok(text) => {
            let text = Arc::<str>::from(text);
            Some((sources.add(path.to_path_buf(), text.clone()), text))
        }
        Err(m) => {
            errors.push(FileError::path(path, m.to_string()));
            None
        }
    }
}

/// An input format's front end.
pub trait Format: Sync {
    /// A parsed file.
    type File: Send + 'static;
    /// What lowering a directory leaves for [`Format::lower_all`].
    type Dir: Send + Default + 'static;
    /// What the command line gives every unit (`--var-file`, `--parameters`).
    type Inputs: Send + Sync + 'static;

    fn claims(&self, kind: Kind) -> Claim;

    /// Reads the command line's inputs once, before any directory; files it
    /// reads join `sources` in this order of formats.
    fn inputs(&self, opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> Self::Inputs;

    /// Parses one file; `Ok(None)` when it is not this format's (JSON that
    /// is not a template), so that the next claimant is asked.
    fn parse(&self, file: &mut FileRead<'_>) -> Result<Option<Self::File>, FileError>;

    /// Lowers what one directory can lower alone, in parallel with the
    /// others, and keeps what must wait for every directory.
    fn lower_dir(&self, dir: &DirRead<'_>, files: Vec<Self::File>, inputs: &Self::Inputs) -> Self::Dir;

    /// Lowers what needs every directory (modules that cross directories),
    /// given each directory's [`Format::Dir`] in the order of [`Run::dirs`].
    ///
    /// Each directory's state stays in the box it was made in: moving ten
    /// thousand of them into one new vector cost as much memory again, and
    /// left the freed boxes as holes in the heap.
    fn lower_all(&self, dirs: Vec<Box<Self::Dir>>, run: &Run<'_>, inputs: &Self::Inputs) -> (Vec<Unit>, Vec<FileError>);
}

/// [`Format`] with its types erased, so that [`FORMATS`] can list formats
/// of different types.
pub(crate) trait ErasedFormat: Sync {
    fn claims(&self, kind: Kind) -> Claim;
    fn inputs(&self, opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> Box<dyn Any + Send + Sync>;
    fn parse(&self, file: &mut FileRead<'_>) -> Result<Option<Box<dyn Any + Send>>, FileError>;
    fn lower_dir(&self, dir: &DirRead<'_>, files: Vec<Box<dyn Any + Send>>, inputs: &(dyn Any + Send + Sync)) -> Box<dyn Any + Send>;
    fn lower_all(&self, dirs: Vec<Box<dyn Any + Send>>, run: &Run<'_>, inputs: &(dyn Any + Send + Sync)) -> (Vec<Unit>, Vec<FileError>);
}

// The driver hands each format back only what that format produced, so a
// downcast cannot fail; were it to, the value is dropped rather than panic.
impl<F: Format> ErasedFormat for F {
    fn claims(&self, kind: Kind) -> Claim {
        Format::claims(self, kind)
    }

    fn inputs(&self, opts: &CheckOptions, sources: &mut SourceMap, errors: &mut Vec<FileError>) -> Box<dyn Any + Send + Sync> {
        Box::new(Format::inputs(self, opts, sources, errors))
    }

    fn parse(&self, file: &mut FileRead<'_>) -> Result<Option<Box<dyn Any + Send>>, FileError> {
        Ok(Format::parse(self, file)?.map(|f| Box::new(f) as Box<dyn Any + Send>))
    }

    fn lower_dir(&self, dir: &DirRead<'_>, files: Vec<Box<dyn Any + Send>>, inputs: &(dyn Any + Send + Sync)) -> Box<dyn Any + Send> {
        let files = files.into_iter().filter_map(|f| f.downcast::<F::File>().ok().map(|f| *f)).collect();
        match inputs.downcast_ref::<F::Inputs>() {
            Some(inputs) => Box::new(Format::lower_dir(self, dir, files, inputs)),
            None => Box::new(F::Dir::default()),
        }
    }

    fn lower_all(&self, dirs: Vec<Box<dyn Any + Send>>, run: &Run<'_>, inputs: &(dyn Any + Send + Sync)) -> (Vec<Unit>, Vec<FileError>) {
        let dirs = dirs.into_iter().map(|d| d.downcast::<F::Dir>().unwrap_or_default()).collect();
        match inputs.downcast_ref::<F::Inputs>() {
            Some(inputs) => Format::lower_all(self, dirs, run, inputs),
            None => (Vec::new(), Vec::new()),
        }
    }
}
