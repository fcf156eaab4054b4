//! The Terraform front end: `.tf` files grouped by directory into modules,
//! their variables, locals and resources evaluated, and route tables, routes,
//! NSGs and rules lowered into the [`Model`].

mod avm;
pub mod brackets;
mod eval;
mod fields;
mod functions;
pub mod json;
pub mod lenient;
mod lower;
pub mod modules;
pub mod plan;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Body};
use hcl::edit::Span;

use crate::ingest::value::{self, Val};
pub use eval::{EvalError, Evaluator, LocalDef, Scope};
use fields::eval_or_unknown;
pub use modules::{ModuleLoader, ModuleSet};

use crate::ingest::FileError;
use crate::source::{FileId, Origin};

/// Bracket nesting deeper than this is refused before parsing, so that no
/// input can exhaust the parser's stack.
const MAX_NESTING: usize = 256;

/// A parsed HCL file (`.tf` or `.tfvars`).
pub struct HclFile {
    pub file: FileId,
    pub text: Arc<str>,
    pub body: Body,
    /// The byte span of every comment, from the lexical pre-scan: only these
    /// can hold a `kmsguard:ignore`, never text inside a string or heredoc.
    pub comments: Vec<std::ops::Range<usize>>,
}

pub use crate::limits::DEFAULT_PARSE_TIMEOUT;

/// Parses a Terraform file with the default time limit.
pub fn parse(file: FileId, text: Arc<str>) -> Result<HclFile, FileError> {
    parse_within(file, text, DEFAULT_PARSE_TIMEOUT)
}

/// Parses a Terraform file, giving up after `limit`.
///
/// hcl-edit backtracks, and on some invalid inputs it takes exponential time
/// (fuzzing found 4 KB files that take minutes). The known cause — a file
/// that ends inside open brackets — is caught first, in linear time and with
/// a better message, by [`brackets::scan`]. As a last line of defence the
/// parser runs on a helper thread under a watchdog: it cannot be
/// interrupted, so a helper that overruns is left to finish in the
/// background and the file is reported as not parsed.
pub fn parse_within(file: FileId, text: Arc<str>, limit: Duration) -> Result<HclFile, FileError> {
    let (depth, deepest, comments) = prescan(file, &text)?;
    let started = std::time::Instant::now();
    let parsed = match watched::parse(&text, limit) {
        // The parses of the lenient copies share what is left of the limit.
        watched::Outcome::Parsed(Err(e)) => lenient(&text, e, |t| {
            let left = limit.checked_sub(started.elapsed()).filter(|l| !l.is_zero())?;
            match watched::parse(t, left) {
                watched::Outcome::Parsed(parsed) => Some(parsed),
                _ => None,
            }
        }),
        watched::Outcome::Parsed(parsed) => parsed,
        watched::Outcome::TimedOut => {
            return Err(FileError::at(
                Origin::new(file, deepest..deepest),
                format!(
                    "the HCL parser gave up after {} s; the file is most likely invalid HCL that makes it backtrack (look at the brackets here, nested {} deep); raise the limit with --parse-timeout",
                    limit.as_secs_f64(),
                    depth
                ),
            ));
        }
        watched::Outcome::Crashed => {
            return Err(FileError::at(
                Origin::new(file, 0..0),
                "the HCL parser failed on an internal error on this file; the other files were checked".to_string(),
            ));
        }
    };
    finish(file, text, parsed, comments)
}

/// The HCL parser on a thread of its own, so that a parse that does not end
/// can be abandoned. Each thread that parses keeps one such helper thread
/// and reuses it: a new thread per file cost almost as much as the parsing
/// itself (the benchmark's 1,000 files: 318 ms, against 168 ms for hcl-edit
/// alone; with a reused helper, 180 ms).
mod watched {
    use std::cell::RefCell;
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::sync::Arc;
    use std::time::Duration;

    use hcl::edit::structure::Body;

    type Parsed = Result<Body, hcl::edit::parser::Error>;

    pub enum Outcome {
        Parsed(Parsed),
        /// Still parsing when the time was up: the helper is abandoned.
        TimedOut,
        /// The parser panicked.
        Crashed,
    }

    struct Helper {
        jobs: mpsc::Sender<Arc<str>>,
        results: mpsc::Receiver<Parsed>,
    }

    impl Helper {
        fn spawn() -> Option<Helper> {
            let (jobs, inbox) = mpsc::channel::<Arc<str>>();
            let (outbox, results) = mpsc::channel();
            std::thread::Builder::new()
                .name("hcl-parse".into())
                .spawn(move || {
                    for text in inbox {
                        if outbox.send(hcl::edit::parser::parse_body(&text)).is_err() {
                            break;
                        }
                    }
                })
                .ok()?;
            Some(Helper { jobs, results })
        }
    }

    thread_local! {
        static HELPER: RefCell<Option<Helper>> = const { RefCell::new(None) };
    }

    pub fn parse(text: &Arc<str>, limit: Duration) -> Outcome {
        HELPER.with(|slot| {
            let mut slot = slot.borrow_mut();
            if slot.is_none() {
                *slot = Helper::spawn();
            }
            // No thread to spare: parse here, without the watchdog.
            let Some(helper) = slot.as_ref() else {
                return Outcome::Parsed(hcl::edit::parser::parse_body(text));
            };
            if helper.jobs.send(text.clone()).is_err() {
                *slot = None;
                return Outcome::Crashed;
            }
            match helper.results.recv_timeout(limit) {
                Ok(parsed) => Outcome::Parsed(parsed),
                Err(RecvTimeoutError::Timeout) => {
                    // It cannot be interrupted: leave it to finish (its
                    // result goes nowhere) and start afresh next time.
                    *slot = None;
                    Outcome::TimedOut
                }
                Err(RecvTimeoutError::Disconnected) => {
                    *slot = None;
                    Outcome::Crashed
                }
            }
        })
    }
}

/// Parses a Terraform file on the calling thread, with the bracket pre-scan
/// but no watchdog: for fuzzing, where the fuzzer's own timeout must see a
/// slow parse instead of a thread left running in the background.
pub fn parse_unguarded(file: FileId, text: Arc<str>) -> Result<HclFile, FileError> {
    let (_, _, comments) = prescan(file, &text)?;
    let parsed = hcl::edit::parser::parse_body(&text).or_else(|e| lenient(&text, e, |t| Some(hcl::edit::parser::parse_body(t))));
    finish(file, text, parsed, comments)
}

/// How many duplicate object keys [`lenient`] removes from one file before
/// it gives up: each costs a parse.
const MAX_DUPLICATE_KEYS: usize = 16;

/// Parses again, after hcl-edit refused `text` with `first`, a copy of it
/// with what hcl-edit refuses and Terraform accepts taken out (newlines in
/// `for` expressions, earlier duplicates of an object's keys; see
/// [`lenient::join_lines_in_for`]): the copy has the same length and
/// offsets, so the body's spans are the original text's. If the copy does
/// not parse either, the error on the original stands.
fn lenient(
    text: &str,
    first: hcl::edit::parser::Error,
    parse: impl Fn(&Arc<str>) -> Option<Result<Body, hcl::edit::parser::Error>>,
) -> Result<Body, hcl::edit::parser::Error> {
    let mut candidate: Arc<str> = match lenient::join_lines_in_for(text) {
        Some(joined) => Arc::from(joined),
        None => Arc::from(text),
    };
    let mut error = first.clone();
    for round in 0..=MAX_DUPLICATE_KEYS {
        if round > 0 || &*candidate != text {
            match parse(&candidate) {
                Some(Ok(body)) => return Ok(body),
                Some(Err(e)) => error = e,
                None => return Err(first),
            }
        }
        if !error.message().contains("redefined object key") {
            break;
        }
        let at = error.location().offset();
        match lenient::blank_earlier_duplicate(&candidate, at) {
            Some(next) => candidate = Arc::from(next),
            None => break,
        }
    }
    Err(first)
}

/// The bracket pre-scan: the nesting depth and where it peaks, or the error
/// that makes parsing pointless.
fn prescan(file: FileId, text: &str) -> Result<(usize, usize, Vec<std::ops::Range<usize>>), FileError> {
    let (scan, comments) = brackets::scan_with_comments(text, MAX_NESTING);
    match scan {
        brackets::Scan::Balanced { depth, deepest } | brackets::Scan::NoOpinion { depth, deepest } => Ok((depth, deepest, comments)),
        brackets::Scan::TooDeep { deepest } => Err(FileError::at(
            Origin::new(file, deepest..deepest + 1),
            format!("brackets are nested more than {MAX_NESTING} levels deep; kmsguard does not parse this file"),
        )),
        brackets::Scan::Invalid(e) => Err(FileError::at(
            Origin::new(file, e.offset..e.offset + e.len),
            format!("could not parse HCL: {}", e.message),
        )),
    }
}

fn finish(
    file: FileId,
    text: Arc<str>,
    parsed: Result<Body, hcl::edit::parser::Error>,
    comments: Vec<std::ops::Range<usize>>,
) -> Result<HclFile, FileError> {
    match parsed {
        Ok(body) => Ok(HclFile {
            file,
            text,
            body,
            comments,
        }),
        Err(e) => {
            let offset = e.location().offset().min(text.len());
            let message = e.message().trim().replace('\n', "; ");
            Err(FileError::at(
                Origin::new(file, offset..offset),
                format!(
                    "could not parse HCL: {}",
                    if message.is_empty() {
                        "invalid syntax".to_string()
                    } else {
                        message
                    }
                ),
            ))
        }
    }
}

/// Variable values from outside the module: `--var-file` files and `--var` flags.
#[derive(Default)]
pub struct VarInputs {
    /// `--var-file` files and `--var` flags in command-line order: the
    /// later wins, whichever kind it is.
    pub values: Vec<VarValues>,
}

/// Values for a module's variables from one source.
pub enum VarValues {
    /// An HCL `.tfvars` file.
    Hcl(HclFile),
    /// A `.tfvars.json` file.
    Json(FileId, serde_json::Value),
    /// `--var NAME=VALUE`.
    Flag(String, String),
}

/// A var file Terraform loads by itself, with its place in Terraform's
/// order ("Variable definition precedence"): `terraform.tfvars`, then
/// `terraform.tfvars.json`, then `*.auto.tfvars` and `*.auto.tfvars.json`
/// together in lexical order of their file names.
pub struct AutoVars {
    pub order: (u8, String),
    pub values: VarValues,
}

impl AutoVars {
    /// `file_name` is the var file's own name, `terraform.tfvars` or `x.auto.tfvars[.json]`.
    pub fn new(file_name: &str, values: VarValues) -> Self {
        let rank = match file_name {
            "terraform.tfvars" => 0,
            "terraform.tfvars.json" => 1,
            _ => 2,
        };
        AutoVars {
            order: (rank, file_name.to_string()),
            values,
        }
    }
}

/// One directory's Terraform: its `.tf` files and the var files Terraform
/// loads automatically (`terraform.tfvars`, `*.auto.tfvars`, and their JSON forms).
#[derive(Default)]
pub struct TfModule {
    pub files: Vec<HclFile>,
    /// `.tf.json` files of the same module.
    pub json_files: Vec<json::TfJsonFile>,
    /// The var files Terraform loads by itself, in any order; applied in [`AutoVars::order`].
    pub auto_vars: Vec<AutoVars>,
}

impl TfModule {
    /// Whether the directory holds Terraform configuration (not only values).
    pub fn is_configuration(&self) -> bool {
        !self.files.is_empty() || !self.json_files.is_empty()
    }
}

/// Variable values in Terraform's order of precedence: defaults, then
/// `terraform.tfvars`, `terraform.tfvars.json`, `*.auto.tfvars[.json]` (by
/// name), then `--var-file` and `--var` in command-line order.
/// Their evaluation spends from `budget`, the root module's.
pub(crate) fn resolve_variables(module: &TfModule, inputs: &VarInputs, budget: &crate::limits::Budget) -> BTreeMap<String, Val> {
    let constant = Evaluator::new(BTreeMap::new(), HashMap::new()).within(budget.clone());
    let mut declared: BTreeMap<String, (Val, Option<String>)> = BTreeMap::new();
    for f in &module.files {
        for block in f.body.get_blocks("variable") {
            let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
                continue;
            };
            let type_text = block
                .body
                .get_attribute("type")
                .and_then(|a| a.value.span())
                .and_then(|s| f.text.get(s))
                .map(|s| s.trim().to_string());
            let value = match block.body.get_attribute("default") {
                Some(d) => eval_or_unknown(&constant, &d.value, &f.text, &Scope::default()),
                None => Val::unknown(format!(
                    "var.{name} has no default and no value in terraform.tfvars, *.auto.tfvars, --var-file or --var"
                )),
            };
            declared.insert(name, (value, type_text));
        }
    }
    for jf in &module.json_files {
        for (name, block) in jf.root.get("variable").map(|v| v.members()).unwrap_or_default() {
            let value = match block.get("default") {
                Some(d) => d.eval(&constant, &Scope::default()),
                None => Val::unknown(format!(
                    "var.{name} has no default and no value in terraform.tfvars, *.auto.tfvars, --var-file or --var"
                )),
            };
            let type_text = block.get("type").and_then(|t| match &t.kind {
                json::JKind::String(s) => Some(s.clone()),
                _ => None,
            });
            declared.insert(name.clone(), (value, type_text));
        }
    }

    let apply_hcl = |declared: &mut BTreeMap<String, (Val, Option<String>)>, f: &HclFile| {
        for attr in f.body.attributes() {
            if let Some(slot) = declared.get_mut(attr.key.as_str()) {
                slot.0 = eval_or_unknown(&constant, &attr.value, &f.text, &Scope::default());
            }
        }
    };
    let apply_json = |declared: &mut BTreeMap<String, (Val, Option<String>)>, json: &serde_json::Value| {
        if let serde_json::Value::Object(o) = json {
            for (k, v) in o {
                if let Some(slot) = declared.get_mut(k) {
                    slot.0 = value::from_json(v);
                }
            }
        }
    };
    let mut auto: Vec<&AutoVars> = module.auto_vars.iter().collect();
    auto.sort_by(|a, b| a.order.cmp(&b.order));
    for values in auto.into_iter().map(|a| &a.values).chain(&inputs.values) {
        match values {
            VarValues::Hcl(f) => apply_hcl(&mut declared, f),
            VarValues::Json(_, json) => apply_json(&mut declared, json),
            VarValues::Flag(name, raw) => {
                let is_string = declared
                    .get(name)
                    .map(|(_, t)| t.as_deref().is_none_or(|t| t == "string"))
                    .unwrap_or(true);
                let v = if is_string {
                    Val::String(raw.clone())
                } else {
                    match hcl::edit::parser::parse_expr(raw) {
                        Ok(expr) => eval_or_unknown(&constant, &expr, raw, &Scope::default()),
                        Err(_) => Val::String(raw.clone()),
                    }
                };
                if let Some(slot) = declared.get_mut(name) {
                    slot.0 = v;
                }
            }
        }
    }
    declared.into_iter().map(|(k, (v, _))| (k, v)).collect()
}

/// The byte range of a block's header (`resource "azurerm_route_table" "hub"`).
pub(crate) fn header_span(block: &Block) -> std::ops::Range<usize> {
    let start = block.ident.span().map(|s| s.start).unwrap_or(0);
    let end = block
        .labels
        .last()
        .and_then(|l| l.span())
        .map(|s| s.end)
        .or_else(|| block.ident.span().map(|s| s.end))
        .unwrap_or(start);
    start..end
}

/// Charges each of a resource's instances to the budget as it is taken, by
/// the size of the block it copies: a resource with `count = 99999` (or a
/// `count` over a large literal body) would otherwise be lowered, and
/// reported, in full whatever the budget. Once the budget is spent, one
/// last stand-in instance says where expansion stopped and names the flag;
/// lowered with the budget spent, its values are unknown.
fn charged<'r>(
    ev: &'r Evaluator,
    block: &'r Block,
    address: String,
    file: FileId,
    instances: Vec<lower::Instance>,
) -> impl Iterator<Item = lower::Instance> + 'r {
    let bytes = block.span().map_or(0, |s| s.len());
    let origin = block
        .body
        .get_attribute("count")
        .or_else(|| block.body.get_attribute("for_each"))
        .and_then(|a| a.value.span())
        .unwrap_or_else(|| header_span(block));
    let mut stopped = false;
    instances.into_iter().map_while(move |inst| {
        if stopped {
            return None;
        }
        match ev.budget.expand_instance(bytes).map_err(|spent| spent.to_string()) {
            Ok(()) => Some(inst),
            Err(reason) => {
                stopped = true;
                let unknown = Val::unknown(reason.clone());
                let count = Val::Object([("index".to_string(), unknown.clone())].into_iter().collect());
                Some(lower::Instance {
                    address: address.clone(),
                    key: None,
                    scope: Scope::default().with("count", count).with("each", unknown),
                    conditional: Some(crate::model::Unresolved {
                        reason,
                        origin: Origin::new(file, origin.clone()),
                    }),
                })
            }
        }
    })
}

/// Whether `expr` is a reference `TYPE.NAME[...].ATTR`; returns NAME and the index expression.
pub(crate) fn reference_to<'e>(expr: &'e Expression, ty: &str, attr: &str) -> Option<(String, Option<&'e Expression>)> {
    use hcl::edit::expr::TraversalOperator as Op;
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.as_str() != ty {
        return None;
    }
    let ops: Vec<&Op> = t.operators.iter().map(|o| o.value()).collect();
    match ops.as_slice() {
        [Op::GetAttr(name), Op::GetAttr(a)] if a.as_str() == attr => Some((name.as_str().to_string(), None)),
        [Op::GetAttr(name), Op::Index(i), Op::GetAttr(a)] if a.as_str() == attr => Some((name.as_str().to_string(), Some(i))),
        _ => None,
    }
}

/// The spans a suppression comment can stand above: every block and
/// attribute, and every member of an object or element of a list written
/// in an attribute (`route = [{ … }]`), at any depth.
pub fn constructs(body: &Body) -> Vec<std::ops::Range<usize>> {
    fn body_spans(body: &Body, out: &mut Vec<std::ops::Range<usize>>) {
        for structure in body.iter() {
            if let Some(block) = structure.as_block() {
                out.extend(block.span());
                body_spans(&block.body, out);
            } else if let Some(attr) = structure.as_attribute() {
                out.extend(attr.span());
                expr_spans(&attr.value, out);
            }
        }
    }
    fn expr_spans(e: &Expression, out: &mut Vec<std::ops::Range<usize>>) {
        match e {
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    if let (Some(ks), Some(vs)) = (k.span(), v.expr().span()) {
                        out.push(ks.start..vs.end.max(ks.end));
                    }
                    expr_spans(v.expr(), out);
                }
            }
            Expression::Array(a) => {
                for x in a.iter() {
                    out.extend(x.span());
                    expr_spans(x, out);
                }
            }
            Expression::Parenthesis(p) => expr_spans(p.inner(), out),
            Expression::FuncCall(f) => f.args.iter().for_each(|x| expr_spans(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    body_spans(body, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_carry_their_offset() {
        let text: Arc<str> = Arc::from("resource \"a\" \"b\" {\n  x = \n}\n");
        let e = parse(FileId(0), text).err().expect("fails");
        assert!(e.message().starts_with("could not parse HCL"), "{}", e.message());
        assert!(e.origin().is_some());
    }

    /// Terraform ignores newlines inside a `for` expression; hcl-edit 0.10
    /// refuses them around operators in the collection of every `for` and in
    /// the key and value of an object `for`.
    #[test]
    fn newlines_around_operators_inside_for_expressions_parse() {
        let forms = [
            "x = {\n  for l in ls :\n  l =>\n  local.enabled &&\n  anytrue([l])\n}\n",
            "x = { for l in ls : l => l\n  || true }\n",
            "x = { for l in ls : l => l +\n 1 }\n",
            "x = { for l in ls : l => l ==\n 1 }\n",
            "x = { for l in ls : l => l != 1 ?\n \"a\" :\n \"b\" }\n",
            "x = { for l in ls : l => l\n  .name }\n",
            "x = { for l in ls : l.a &&\n l.b => l }\n",
            "x = { for l in ls : l => l &&\n true... }\n",
            "x = [for l in a &&\n b : l]\n",
            "x = [for l in ls : { for k, v in l : k => v &&\n  # a comment\n  true }]\n",
            "x = { for l in ls : l => l &&\n /* a\n block */ true }\n",
            "x = { for l in ls : l => l &&\r\n true }\r\n",
        ];
        for form in forms {
            let text: Arc<str> = Arc::from(form);
            let f = parse(FileId(0), text.clone()).unwrap_or_else(|e| panic!("{form:?}: {}", e.message()));
            // The spans are the original text's.
            let attr = f.body.get_attribute("x").expect("x");
            let span = attr.value.span().expect("span");
            assert_eq!(text.get(span.clone()).map(|s| s.ends_with(['}', ']'])), Some(true), "{form:?}");
            assert_eq!(&*f.text, form);
        }
    }

    /// Terraform keeps the last value of a key written twice in an object
    /// constructor (hashicorp/terraform#28727); hcl-edit refuses the file.
    #[test]
    fn a_key_written_twice_keeps_its_last_value() {
        let text = "locals {\n  zones = {\n    a = [\"x\"]\n    b = [\"y\"]\n    a = concat([\"x\"], [\n      for p in ps : p])\n  }\n}\n";
        let f = parse(FileId(0), Arc::from(text)).unwrap_or_else(|e| panic!("{}", e.message()));
        let block = f.body.get_blocks("locals").next().expect("locals");
        let zones = block.body.get_attribute("zones").expect("zones");
        let hcl::edit::expr::Expression::Object(o) = &zones.value else {
            panic!("an object")
        };
        let keys: Vec<String> = o
            .iter()
            .map(|(k, _)| match k {
                hcl::edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                hcl::edit::expr::ObjectKey::Expression(_) => "?".to_string(),
            })
            .collect();
        assert_eq!(keys, ["b", "a"]);
        let (_, last) = o.iter().last().expect("a");
        let span = last.expr().span().expect("span");
        assert!(text.get(span).is_some_and(|s| s.starts_with("concat(")));
    }

    #[test]
    fn many_duplicate_keys_stop_the_retries_with_the_first_error() {
        let body: String = (0..40).map(|_| "  a = 1\n").collect();
        let text = format!("x = {{\n{body}}}\n");
        let started = std::time::Instant::now();
        let e = parse(FileId(0), Arc::from(text)).err().expect("fails");
        assert!(e.message().contains("redefined object key"), "{}", e.message());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        // Within the limit, the last value wins.
        let body: String = (0..MAX_DUPLICATE_KEYS).map(|i| format!("  a = {i}\n")).collect();
        assert!(parse(FileId(0), Arc::from(format!("x = {{\n{body}}}\n"))).is_ok());
    }

    #[test]
    fn what_terraform_refuses_is_still_refused() {
        // Outside brackets, and in an object constructor, a newline ends the
        // attribute or item.
        for form in ["x = a &&\n b\n", "x = { k = a &&\n b }\n", "x = [for l in ls : l =>\n l]\n"] {
            assert!(parse(FileId(0), Arc::from(form)).is_err(), "{form:?}");
        }
    }

    #[test]
    fn a_later_error_is_reported_where_the_original_text_has_it() {
        let text = "x = { for l in ls : l => l &&\n true }\ny = \nz = 1\n";
        let e = parse(FileId(0), Arc::from(text)).err().expect("fails");
        let at = e.origin().map(|o| o.span().start).unwrap_or(0);
        // hcl-edit's first error on the original text (at the `&&` newline)
        // is kept rather than one from the joined copy.
        assert_eq!(text.get(..at).map(|s| s.matches('\n').count()), Some(0), "{}", e.message());
    }

    #[test]
    fn absurd_nesting_is_refused_before_parsing() {
        let text: Arc<str> = Arc::from(format!("x = {}1{}", "[".repeat(10_000), "]".repeat(10_000)));
        let e = parse(FileId(0), text).err().expect("fails");
        assert!(e.message().contains("nested"), "{}", e.message());
    }
}
