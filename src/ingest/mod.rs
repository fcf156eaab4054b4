//! Front ends: each reads one format (Terraform, Bicep, ARM; registry
//! modules through their interfaces) and lowers it into the [`Model`].

pub mod arm;
pub mod azure;
pub mod bicep;
pub(crate) mod builtin;
pub mod formats;
mod gather;
mod load;
pub mod registry;
pub mod terraform;
pub use kmsguard_core::value;

pub use formats::{Claim, DirRead, FileRead, Format, Run, Unit};
pub use gather::{gather, Gathered};
pub use load::{guarded, load, Entries, Entry, Ingested};

pub use kmsguard_core::diagnostic::FileError;
