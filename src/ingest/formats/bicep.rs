//! Bicep: `.bicep` and `.bicepparam` files. Bicep modules cross
//! directories, so every file waits for the others and all are lowered
//! together, a deployment per file that no other file calls.

use std::path::Path;

use super::{Claim, DirRead, FileRead, Format, Run, Unit};
use crate::discover::Kind;
use crate::ingest::bicep::{self, BicepFile};
use crate::ingest::load::guarded;
use crate::ingest::FileError;
use crate::source::SourceMap;
use crate::CheckOptions;

pub struct Bicep;

impl Format for Bicep {
    type File = BicepFile;
    type Dir = Vec<BicepFile>;
    type Inputs = ();

    fn claims(&self, kind: Kind) -> Claim {
        match kind {
            Kind::Bicep | Kind::BicepParam => Claim::Owns,
            _ => Claim::No,
        }
    }

    fn inputs(&self, _: &CheckOptions, _: &mut SourceMap, _: &mut Vec<FileError>) {}

    fn parse(&self, file: &mut FileRead<'_>) -> Result<Option<BicepFile>, FileError> {
        let b = bicep::parse(file.id, file.text.clone(), &file.source.path)?;
        file.source
            .keep_directives(&b.text, &b.program.comments, || bicep::constructs(&b.program));
        Ok(Some(b))
    }

    fn lower_dir(&self, _: &DirRead<'_>, files: Vec<BicepFile>, _: &()) -> Vec<BicepFile> {
        files
    }

    fn lower_all(&self, dirs: Vec<Box<Vec<BicepFile>>>, run: &Run<'_>, _: &()) -> (Vec<Unit>, Vec<FileError>) {
        let files: Vec<BicepFile> = dirs.into_iter().flat_map(|d| *d).collect();
        let first_dir = files.first().and_then(|f| f.path.parent()).unwrap_or(Path::new("."));
        match guarded(first_dir, || bicep::lower_all(&files, run.context_paths, run.opts.limits)) {
            Ok(models) => (models.into_iter().map(Unit::Own).collect(), Vec::new()),
            Err(e) => (Vec::new(), vec![e]),
        }
    }
}
