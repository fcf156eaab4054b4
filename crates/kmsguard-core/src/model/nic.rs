//! Network interfaces.

use super::{Field, Link};
use crate::source::Origin;

/// A network interface: its subnet and its own NSG.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkInterface {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`]).
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    pub subnets: Vec<Link>,
    pub nsg: Option<Link>,
}
