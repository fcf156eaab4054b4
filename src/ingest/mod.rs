//! Front ends: each reads one format (Terraform, Bicep, ARM; registry
//! modules through their interfaces) and lowers it into the [`Model`].

pub mod arm;
pub mod azure;
pub mod bicep;
pub mod registry;
pub mod terraform;
pub use kmsguard_core::value;

pub use kmsguard_core::diagnostic::FileError;
