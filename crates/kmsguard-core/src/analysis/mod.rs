//! Pure evaluation of the model: where a packet to an address is routed,
//! and what an NSG decides for a flow. Nothing here knows about files or
//! formats; the rules turn these answers into findings.

pub mod firewall;
pub mod nsg;
pub mod routing;

use crate::model::Unresolved;

/// Three-valued logic: what kmsguard can prove, disprove, or cannot decide.
#[derive(Debug, Clone, PartialEq)]
pub enum Tri {
    Yes,
    No,
    /// Undecided, with the values that blocked the decision.
    Unknown(Vec<Unresolved>),
}

impl Tri {
    pub fn from_bool(b: bool) -> Self {
        if b {
            Tri::Yes
        } else {
            Tri::No
        }
    }

    /// Conjunction: No wins over Unknown, Unknown over Yes.
    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::No, _) | (_, Tri::No) => Tri::No,
            (Tri::Unknown(mut a), Tri::Unknown(b)) => {
                a.extend(b);
                Tri::Unknown(a)
            }
            (Tri::Unknown(a), Tri::Yes) | (Tri::Yes, Tri::Unknown(a)) => Tri::Unknown(a),
            (Tri::Yes, Tri::Yes) => Tri::Yes,
        }
    }

    /// Disjunction: Yes wins over Unknown, Unknown over No.
    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
            (Tri::Unknown(mut a), Tri::Unknown(b)) => {
                a.extend(b);
                Tri::Unknown(a)
            }
            (Tri::Unknown(a), Tri::No) | (Tri::No, Tri::Unknown(a)) => Tri::Unknown(a),
            (Tri::No, Tri::No) => Tri::No,
        }
    }

    /// `Yes` if any item is `Yes`; `Unknown` if none is but some are; else `No`.
    pub fn any<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        items.into_iter().fold(Tri::No, Tri::or)
    }

    pub fn is_yes(&self) -> bool {
        matches!(self, Tri::Yes)
    }
}
