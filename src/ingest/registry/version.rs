//! Module versions and Terraform's version constraints.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub(super) u64, pub(super) u64, pub(super) u64);

impl Version {
    pub(super) fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let mut it = s.split('.');
        let v = Version(it.next()?.parse().ok()?, it.next()?.parse().ok()?, it.next()?.parse().ok()?);
        it.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A version constraint: comparators that must all hold (Terraform's
/// syntax; `~>` is expanded into two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Constraint(pub(super) Vec<(Op, Version)>);

impl Constraint {
    pub(super) fn parse(s: &str) -> Option<Constraint> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|o| part.strip_prefix(o).map(|r| (*o, r.trim())))
                .unwrap_or(("=", part));
            if op == "~>" {
                // `~> 1.2` allows 1.2 up to 2.0; `~> 1.2.3` allows 1.2.3 up to 1.3.0.
                let parts: Vec<u64> = rest
                    .trim_start_matches('v')
                    .split('.')
                    .map(|p| p.parse().ok())
                    .collect::<Option<_>>()?;
                match parts.as_slice() {
                    [a, b] => {
                        out.push((Op::Ge, Version(*a, *b, 0)));
                        out.push((Op::Lt, Version(a + 1, 0, 0)));
                    }
                    [a, b, c] => {
                        out.push((Op::Ge, Version(*a, *b, *c)));
                        out.push((Op::Lt, Version(*a, b + 1, 0)));
                    }
                    _ => return None,
                }
                continue;
            }
            let v = Version::parse(rest)?;
            let op = match op {
                ">=" => Op::Ge,
                "<=" => Op::Le,
                "!=" => Op::Ne,
                ">" => Op::Gt,
                "<" => Op::Lt,
                _ => Op::Eq,
            };
            out.push((op, v));
        }
        Some(Constraint(out))
    }

    pub(super) fn admits(&self, v: Version) -> bool {
        self.0.iter().all(|(op, w)| match op {
            Op::Eq => v == *w,
            Op::Ne => v != *w,
            Op::Gt => v > *w,
            Op::Ge => v >= *w,
            Op::Lt => v < *w,
            Op::Le => v <= *w,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_parse_like_terraform() {
        let c = Constraint::parse("~> 0.4.0").expect("parses");
        assert!(c.admits(Version(0, 4, 7)) && !c.admits(Version(0, 5, 0)) && !c.admits(Version(0, 3, 9)));
        let c = Constraint::parse("~> 1.2").expect("parses");
        assert!(c.admits(Version(1, 9, 0)) && !c.admits(Version(2, 0, 0)));
        let c = Constraint::parse(">= 0.2.0, < 0.3.0").expect("parses");
        assert!(c.admits(Version(0, 2, 5)) && !c.admits(Version(0, 3, 0)));
        assert!(Constraint::parse("latest").is_none());
    }
}
