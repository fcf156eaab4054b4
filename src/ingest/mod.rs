//! Front ends: each reads one format (Terraform, Bicep, ARM; registry
//! modules through their interfaces) and lowers it into the [`Model`].

pub mod arm;
pub mod azure;
pub mod bicep;
pub mod formats;
mod gather;
mod load;
pub mod registry;
pub mod terraform;
pub mod value;

pub use formats::{Claim, DirRead, FileRead, Format, Run, Unit};
pub use gather::{gather, Gathered};
pub use load::{guarded, load, Entries, Entry, Ingested};

use std::path::{Path, PathBuf};

use crate::source::Origin;

/// A file that could not be read or parsed: the run fails (exit 2), and
/// every other file is still checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// Set when the error has a place inside a file that was read.
    pub origin: Option<Origin>,
    /// Set when the file could not be read at all.
    pub path: Option<PathBuf>,
    pub message: String,
}

impl FileError {
    pub fn at(origin: Origin, message: String) -> Self {
        FileError {
            origin: Some(origin),
            path: None,
            message,
        }
    }

    pub fn path(path: &Path, message: String) -> Self {
        FileError {
            origin: None,
            path: Some(path.to_path_buf()),
            message,
        }
    }
}
