//! What a run reports: findings with their places, fixes, severities and
//! suppressions, and the files that could not be checked.
//!
//! Rules make findings, `suppress` marks them, reports render them; all of
//! them share these types, so none of those layers depends on another.

pub mod fingerprint;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::source::Origin;

/// Default severity of a rule; the order is the fail threshold's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Why a finding does not count: a `kmsguard:ignore` comment or a baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// SARIF's kind: `inSource` or `external`.
    pub kind: &'static str,
    pub justification: String,
}

/// A place in the code and what it has to do with a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub origin: Origin,
    pub message: String,
}

/// What to change, and the code to add when kmsguard can write it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    pub description: String,
    pub snippet: Option<String>,
    /// Where the snippet is inserted: an empty range at the start of a line.
    pub insert_at: Option<Origin>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Label,
    pub related: Vec<Label>,
    pub resource: String,
    pub fix: Option<Fix>,
    /// Set when a suppression comment or the baseline accepts the finding.
    pub suppressed: Option<Suppression>,
    /// The deployment unit of the route table or NSG the finding is about:
    /// two root modules calling one module give their tables the same
    /// address, and each finding must name its own unit's module calls.
    pub unit: Option<u32>,
}

/// A file that could not be read or parsed: the run fails (exit 2), and
/// every other file is still checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// At a place inside a file that was read.
    #[error("{message}")]
    At { origin: Origin, message: String },
    /// About a file (or a path given) that could not be read at all.
    #[error("{message}")]
    Path { path: PathBuf, message: String },
}

impl FileError {
    pub fn at(origin: Origin, message: String) -> Self {
        FileError::At { origin, message }
    }

    pub fn path(path: &Path, message: String) -> Self {
        FileError::Path {
            path: path.to_path_buf(),
            message,
        }
    }

    /// What is wrong, without the place.
    pub fn message(&self) -> &str {
        match self {
            FileError::At { message, .. } | FileError::Path { message, .. } => message,
        }
    }

    /// The path of a file that could not be read at all.
    pub fn file_path(&self) -> Option<&Path> {
        match self {
            FileError::Path { path, .. } => Some(path),
            FileError::At { .. } => None,
        }
    }

    /// The place inside a file, for an error found while parsing it.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            FileError::At { origin, .. } => Some(origin),
            FileError::Path { .. } => None,
        }
    }
}
