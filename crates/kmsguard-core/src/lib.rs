//! The ground floor of kmsguard: what every layer above shares and nothing
//! here depends on.
//!
//! - [`source`]: files as read, the [`source::Origin`] of every value, line
//!   and column numbers, and the comments that may suppress a finding;
//! - [`read`]: the one bounded, non-blocking way inputs are read from disk;
//! - [`diagnostic`]: findings, their labels, fixes, severities and
//!   suppressions, fingerprints, and the errors of files that could not be
//!   checked;
//! - [`model`]: the format-free model of Azure networking every front end
//!   lowers into;
//! - [`value`] and [`limits`]: evaluated values and the bounds on the work
//!   evaluating them may take;
//! - [`analysis`]: the network semantics the rules decide with.
//!
//! Front ends, rules and reports live in the `kmsguard` crate and depend on
//! this one; the crate boundary keeps this layer from reaching up to them.

// Nothing derived from input may panic: the workspace lints (Cargo.toml)
// keep the panicking shortcuts out; tests may use them.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]

pub mod analysis;
pub mod diagnostic;
pub mod limits;
pub mod model;
pub mod read;
pub mod source;
pub mod value;
