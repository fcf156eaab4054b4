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

use crate::ingest::value::Val;

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
            parse_timeout: crate::ingest::terraform::DEFAULT_PARSE_TIMEOUT,
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

    /// The unknown value that says the budget is spent.
    pub fn spent(&self) -> Val {
        self.limits.steps_spent(self.unit)
    }

    /// Spends what expanding one more instance (of a module call or a copy
    /// loop) costs, even one with no expression in it: without this, a
    /// chain of loops over calls would multiply. Once the budget is spent,
    /// the reason to report where expansion stops.
    pub fn expand_instance(&self) -> Result<(), String> {
        if self.spend(STEPS_PER_INSTANCE) {
            Ok(())
        } else {
            Err(self.limits.steps_spent_reason(self.unit))
        }
    }
}

/// Why a string is not built.
pub fn string_too_long(what: &str) -> Val {
    Val::unknown(format!(
        "{what} would be longer than {} bytes, which kmsguard does not build",
        thousands(MAX_STRING as u64)
    ))
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
