//! The bounds on the work one input can make kmsguard do.
//!
//! A PR check must end, whatever a file contains: a 100 MB file, a loop over
//! a million elements, a local that doubles in size at each step. Every bound
//! here has a default that real code stays far below, a message that names
//! it when it is reached, and a flag to raise it. Reaching an evaluation
//! bound never fails the run: the values it would have produced are unknown,
//! and a rule that needed them says so (KG901) instead of guessing.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::value::Val;

/// How long the HCL parser may take on one file unless `--parse-timeout`
/// says otherwise.
pub const DEFAULT_PARSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The bounds of one run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Files larger than this many bytes are refused unread (`--max-file-size`).
    pub max_file_size: u64,
    /// How long the HCL parser may take on one file (`--parse-timeout`).
    pub parse_timeout: Duration,
    /// Evaluation steps per Terraform module, Bicep file or ARM template
    /// (`--max-eval-steps`). Every expression evaluated costs one step, and
    /// every value copied (a reference to a local, a variable or a
    /// parameter, a function's result) costs its weight (see
    /// [`Val::weight`]), so the budget bounds memory as well as time.
    pub eval_steps: u64,
    /// Elements one list, object, loop, `count` or `for_each` may have
    /// (`--max-collection-size`).
    pub collection_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 16 * 1024 * 1024,
            parse_timeout: DEFAULT_PARSE_TIMEOUT,
            eval_steps: 4_000_000,
            collection_size: 100_000,
        }
    }
}

/// What expanding one module or copy-loop instance costs, in steps.
pub const STEPS_PER_INSTANCE: u64 = 100;

/// Strings longer than this many bytes are not built (a template, `format`,
/// `padLeft`, `join`…); each 64 bytes weigh one step.
pub const MAX_STRING: usize = 1024 * 1024;

impl Limits {
    /// Why a value is unknown once the step budget of `unit` ("module",
    /// "template", "Bicep file") is spent.
    pub fn steps_spent(&self, unit: &str) -> Val {
        Val::unknown(self.steps_spent_reason(unit))
    }

    fn steps_spent_reason(&self, unit: &str) -> String {
        format!(
            "evaluating this {unit} takes more than {} steps; raise the limit with --max-eval-steps",
            thousands(self.eval_steps)
        )
    }

    /// Why `what` (a loop, a function call) is not built: it would have `n`
    /// elements, or more than the limit when `n` is not known.
    pub fn too_many(&self, what: &str, n: Option<f64>) -> String {
        let limit = thousands(self.collection_size as u64);
        match n {
            Some(n) if n.is_finite() && n < u64::MAX as f64 => {
                format!(
                    "{what}: {} elements, more than {limit}; raise the limit with --max-collection-size",
                    thousands(n as u64)
                )
            }
            _ => format!("{what}: more than {limit} elements; raise the limit with --max-collection-size"),
        }
    }

    /// Whether `n` elements are more than a collection may have.
    pub fn exceeds_collection(&self, n: f64) -> bool {
        n > self.collection_size as f64
    }
}

/// The evaluation steps of one unit of work — a Terraform root module with
/// every module it calls, a Bicep deployment with its modules, an ARM
/// template with its nested deployments — shared by every evaluator working
/// on it, so that a fan-out (a module called a thousand times, a nested
/// deployment in a copy loop) cannot multiply the budget.
#[derive(Debug, Clone)]
pub struct Budget {
    pub limits: Limits,
    unit: &'static str,
    spent: Rc<Cell<u64>>,
}

impl Budget {
    /// A fresh budget for a `unit` ("module", "template", "Bicep file").
    pub fn new(limits: Limits, unit: &'static str) -> Self {
        Budget {
            limits,
            unit,
            spent: Rc::default(),
        }
    }

    /// Spends one step; false once the budget is spent.
    pub fn step(&self) -> bool {
        self.spend(1)
    }

    /// Spends `n` steps; false once the budget is spent.
    pub fn spend(&self, n: u64) -> bool {
        let spent = self.spent.get().saturating_add(n);
        self.spent.set(spent);
        spent <= self.limits.eval_steps
    }

    /// Charges a copied value's weight: without this, a chain of variables
    /// that each concatenate the one before with itself doubles at every
    /// step, and forty steps exhaust any memory. Returns the value, or an
    /// unknown naming the limit once the budget is spent.
    pub fn charge(&self, v: Val) -> Val {
        let left = self.limits.eval_steps.saturating_sub(self.spent.get());
        let weight = v.weight(left);
        if self.spend(weight) {
            v
        } else {
            self.spent()
        }
    }

    /// A literal written in the code: charged like a copy while steps are
    /// left, but kept even once they are spent. A literal is bounded by the
    /// size of the file it is written in, and a pull request that spends
    /// the budget early in a file must not turn a literal forced tunnel
    /// later in it into an unknown.
    pub fn literal(&self, v: Val) -> Val {
        let left = self.limits.eval_steps.saturating_sub(self.spent.get());
        let _ = self.spend(v.weight(left));
        v
    }

    /// The unknown value that says the budget is spent.
    pub fn spent(&self) -> Val {
        self.limits.steps_spent(self.unit)
    }

    /// Whether `weight` more steps could still be spent. A function asks
    /// before it builds a large result, which it could not pay for anyway:
    /// charging after building is too late when the building is what
    /// exhausts memory.
    pub fn affords(&self, weight: u64) -> bool {
        self.spent.get().saturating_add(weight) <= self.limits.eval_steps
    }

    /// Spends what expanding one more instance (of a resource or module
    /// with `count` or `for_each`, a copy loop, a loop over a resource, a
    /// module or a property) costs, even one with no expression in it:
    /// without this, a chain of loops over calls would multiply. `bytes` is
    /// the size of the source the instance copies, so that a loop over a
    /// large literal body is charged for what it builds, and not as if it
    /// were one small expression. Once the budget is spent, the reason to
    /// report where expansion stops.
    pub fn expand_instance(&self, bytes: usize) -> Result<(), StepsSpent> {
        if self.spend(STEPS_PER_INSTANCE.saturating_add(text_weight(bytes))) {
            Ok(())
        } else {
            Err(StepsSpent {
                unit: self.unit,
                limit: self.limits.eval_steps,
            })
        }
    }
}

/// The step budget of a deployment unit is spent: where expansion stops,
/// this is the reason reported (a KG901 note names the flag that raises it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("evaluating this {unit} takes more than {} steps; raise the limit with --max-eval-steps", thousands(*.limit))]
pub struct StepsSpent {
    /// "module", "template", "Bicep file".
    pub unit: &'static str,
    pub limit: u64,
}

/// What `bytes` of text weigh, in steps (as in [`Val::weight`]).
pub fn text_weight(bytes: usize) -> u64 {
    (bytes / 64) as u64
}

/// Why a string is not built.
pub fn string_too_long(what: &str) -> Val {
    Val::unknown(format!(
        "{what} would be longer than {} bytes, which kmsguard does not build",
        thousands(MAX_STRING as u64)
    ))
}

/// The string is longer than [`MAX_STRING`]: the result of a builder that
/// refused to grow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

/// A string built piece by piece that never grows past [`MAX_STRING`]:
/// each piece is measured before it is added, so that a template, a
/// `format` or a `concat` of a large value with itself fails at the limit
/// instead of allocating what the pieces add up to.
#[derive(Debug, Default)]
pub struct BoundedString(String);

impl BoundedString {
    pub fn new() -> Self {
        BoundedString(String::new())
    }

    fn room(&self, bytes: usize) -> Result<(), TooLong> {
        match self.0.len().checked_add(bytes) {
            Some(n) if n <= MAX_STRING => Ok(()),
            _ => Err(TooLong),
        }
    }

    pub fn push_str(&mut self, s: &str) -> Result<(), TooLong> {
        self.room(s.len())?;
        self.0.push_str(s);
        Ok(())
    }

    pub fn push(&mut self, c: char) -> Result<(), TooLong> {
        self.room(c.len_utf8())?;
        self.0.push(c);
        Ok(())
    }

    /// `c`, `n` times.
    pub fn push_n(&mut self, c: char, n: usize) -> Result<(), TooLong> {
        self.room(n.checked_mul(c.len_utf8()).ok_or(TooLong)?)?;
        self.0.extend(std::iter::repeat_n(c, n));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Write for BoundedString {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s).map_err(|_| std::fmt::Error)
    }
}

/// `v` as `Display` prints it, or `None` past [`MAX_STRING`] (found
/// before the whole text is built).
pub fn display_bounded(v: &impl std::fmt::Display) -> Option<String> {
    use std::fmt::Write;
    let mut out = BoundedString::new();
    write!(out, "{v}").ok()?;
    Some(out.into_string())
}

/// `v` as JSON text, or `None` past [`MAX_STRING`].
pub fn json_bounded(v: &serde_json::Value) -> Option<String> {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len().saturating_add(buf.len()) > MAX_STRING {
                return Err(std::io::Error::other("too long"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    serde_json::to_writer(&mut out, v).ok()?;
    String::from_utf8(out.0).ok()
}

/// The length of `s` with every `from` replaced by `to`, computed without
/// building it (`replace(a, "x", a)` would otherwise square `a`).
pub fn replaced_len(s: &str, from: &str, to: &str) -> usize {
    if from.is_empty() {
        return s.len();
    }
    let n = s.matches(from).count();
    (s.len() - n * from.len()).saturating_add(n.saturating_mul(to.len()))
}

/// The length of `parts` joined by `sep`, computed without building it.
pub fn joined_len<'a>(parts: impl IntoIterator<Item = &'a str>, sep: &str) -> usize {
    let (mut total, mut n) = (0usize, 0usize);
    for p in parts {
        total = total.saturating_add(p.len());
        n += 1;
    }
    total.saturating_add(n.saturating_sub(1).saturating_mul(sep.len()))
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_shared_by_its_clones_and_charges_copies_by_weight() {
        let budget = Budget::new(
            Limits {
                eval_steps: 10,
                ..Limits::default()
            },
            "module",
        );
        let other = budget.clone();
        assert!(budget.spend(4));
        let list = Val::List(vec![Val::Number(1.0), Val::Number(2.0)]);
        assert_eq!(other.charge(list.clone()), list, "3 more steps: 7 of 10");
        assert!(
            matches!(budget.charge(Val::List(vec![Val::Null; 5])), Val::Unknown(r) if r.contains("this module takes more than 10 steps"))
        );
        assert!(!other.step(), "spent for every clone");
    }

    #[test]
    fn sizes_are_measured_without_building() {
        assert_eq!(replaced_len("axbxc", "x", "yyy"), 9);
        assert_eq!(replaced_len("axbxc", "x", ""), 3);
        assert_eq!(replaced_len("abc", "", "zz"), 3);
        let big = "x".repeat(512 * 1024);
        assert_eq!(replaced_len(&big, "x", &big), 512 * 1024 * 512 * 1024);
        assert_eq!(joined_len(["a", "bb", "ccc"], ", "), 10);
        assert_eq!(joined_len([], ", "), 0);
    }

    #[test]
    fn a_bounded_string_refuses_to_grow_past_the_limit() {
        let mut s = BoundedString::new();
        assert_eq!(s.push_n('x', MAX_STRING - 1), Ok(()));
        assert_eq!(s.push('é'), Err(TooLong), "two bytes, one left");
        assert_eq!(s.push('x'), Ok(()));
        assert_eq!(s.push_str("x"), Err(TooLong));
        assert_eq!(s.push_n(' ', usize::MAX), Err(TooLong));
        assert_eq!(s.len(), MAX_STRING);
        let list = Val::List(vec![Val::String("x".repeat(MAX_STRING / 2)); 3]);
        assert_eq!(display_bounded(&list), None);
        assert_eq!(json_bounded(&serde_json::json!(["x".repeat(MAX_STRING)])), None);
        assert_eq!(json_bounded(&serde_json::json!(["a", 1])).as_deref(), Some(r#"["a",1]"#));
    }

    #[test]
    fn instances_are_charged_by_the_size_of_what_they_copy() {
        let budget = Budget::new(
            Limits {
                eval_steps: 1000,
                ..Limits::default()
            },
            "module",
        );
        assert!(budget.affords(1000) && !budget.affords(1001));
        assert_eq!(budget.expand_instance(64 * 400), Ok(()), "100 + 400 steps");
        assert!(budget.affords(500) && !budget.affords(501));
        assert!(matches!(budget.expand_instance(64 * 401), Err(r) if r.to_string().contains("--max-eval-steps")));
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(4_000_000), "4,000,000");
    }

    #[test]
    fn messages_name_the_flag_that_raises_the_limit() {
        let limits = Limits::default();
        assert!(matches!(limits.steps_spent("module"), Val::Unknown(r) if r.contains("--max-eval-steps") && r.contains("4,000,000")));
        assert_eq!(
            limits.too_many("range(1000000)", Some(1e6)),
            "range(1000000): 1,000,000 elements, more than 100,000; raise the limit with --max-collection-size"
        );
        assert_eq!(
            limits.too_many("a for expression", None),
            "a for expression: more than 100,000 elements; raise the limit with --max-collection-size"
        );
    }
}
