//! Why `kmsguard fix` cannot run or write: what could not be loaded, an
//! input that does not parse (fix edits only trees that parse), a rule
//! `--select` does not know, or a file it may not or could not replace.

use std::path::PathBuf;

use crate::load::{LoadError, Unread};

#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{0}; fix edits only trees that parse")]
    Unparsed(Unread),
    #[error("no rule named \"{0}\"; `kmsguard rules` lists them")]
    UnknownRule(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// A file `fix` may not replace, or could not.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link would be written through; anything else is not a file.
    #[error("refusing to write {}: it is not a regular file", .0.display())]
    NotRegular(PathBuf),
    #[error("refusing to write {}: it is outside the repository", .0.display())]
    Outside(PathBuf),
}

impl WriteError {
    pub(super) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
        move |source| WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Equal when the same refusal or the same kind of I/O failure on the same path.
impl PartialEq for WriteError {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (WriteError::Io { path: a, source: x }, WriteError::Io { path: b, source: y }) => a == b && x.kind() == y.kind(),
            (WriteError::NotRegular(a), WriteError::NotRegular(b)) | (WriteError::Outside(a), WriteError::Outside(b)) => a == b,
            _ => false,
        }
    }
}
