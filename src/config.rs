//! `.kmsguard.hcl`: project settings, found in the checked path or its
//! ancestors up to the repository root, or named with `--config`.
//! Command-line flags win over the file. Unknown keys and bad values are
//! errors with their file, line and column.

use std::path::{Path, PathBuf};

use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Body};
use hcl::edit::Span;

use crate::policy::{Policy, PolicyError, Severity};
use crate::source::{LineCol, SourceFile};
use kmsguard_core::read::ReadError;

pub const FILE_NAME: &str = ".kmsguard.hcl";

/// Why a config file cannot be used; the text is what the command line
/// prints after `error: `.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read { path: PathBuf, source: ReadError },
    /// A setting that does not parse or is not allowed, where it is written.
    #[error("{}:{}:{}: {message}", path.display(), at.line, at.column)]
    Invalid { path: PathBuf, at: LineCol, message: String },
    /// Endpoints the policy pack refuses.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}

/// What a config file sets; `None` where it says nothing.
#[derive(Debug, Default)]
pub struct Config {
    pub path: PathBuf,
    pub cloud: Option<String>,
    pub fail_on: Option<String>,
    pub exclude: Vec<String>,
    pub var_files: Vec<PathBuf>,
    pub assume_bgp_default_route: Option<bool>,
    /// Rules turned off (codes).
    pub disabled: Vec<String>,
    /// Severity overrides (code, severity).
    pub severities: Vec<(String, Severity)>,
    /// The text of the `endpoint` blocks, for the policy pack.
    pub endpoints: String,
    /// The `limits { … }` block: bounds raised (or lowered) for the project.
    pub max_file_size: Option<u64>,
    pub parse_timeout: Option<std::time::Duration>,
    pub max_eval_steps: Option<u64>,
    pub max_collection_size: Option<usize>,
}

/// The nearest `.kmsguard.hcl` from `start` upwards, stopping after the
/// directory that holds `.git`.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() { start.parent()? } else { start };
    let mut dir = std::fs::canonicalize(start).ok()?;
    loop {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir.join(".git").exists() || !dir.pop() {
            return None;
        }
    }
}

/// The config file a run reads: the one named (`--config`), else the
/// nearest to the first path checked; none with `--no-config`.
pub fn locate(named: Option<&Path>, no_config: bool, paths: &[PathBuf]) -> Option<PathBuf> {
    if no_config {
        return None;
    }
    named.map(Path::to_path_buf).or_else(|| paths.first().and_then(|p| find(p)))
}

/// The limits the config file sets, over the built-in defaults (flags, where
/// a subcommand has them, go over these).
pub fn limits(config: Option<&Config>) -> crate::limits::Limits {
    let defaults = crate::limits::Limits::default();
    let Some(c) = config else { return defaults };
    crate::limits::Limits {
        max_file_size: c.max_file_size.unwrap_or(defaults.max_file_size),
        parse_timeout: c.parse_timeout.unwrap_or(defaults.parse_timeout),
        eval_steps: c.max_eval_steps.unwrap_or(defaults.eval_steps),
        collection_size: c.max_collection_size.unwrap_or(defaults.collection_size),
    }
}

/// Endpoints a config file may declare, and addresses across them. A
/// licence server or two is what the feature is for; a pull request must not
/// be able to make the analysis take minutes and gigabytes (60,000
/// addresses took 57 s and 3 GB).
pub const MAX_ENDPOINTS: usize = 64;
pub const MAX_ENDPOINT_ADDRESSES: usize = 1024;

impl Config {
    /// The directory `exclude` patterns are relative to: the file's own.
    pub fn exclude_base(&self) -> PathBuf {
        self.path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
    }
}

/// Reads and checks a config file against the policy (rule codes and names).
///
/// The file may come from the pull request being checked, so it gets the
/// defences of any input: a bounded read, the HCL bracket pre-scan and the
/// parse watchdog (`parse_timeout`), paths confined to its repository, and
/// bounded endpoint lists.
pub fn load(path: &Path, policy: &Policy, parse_timeout: std::time::Duration) -> Result<Config, ConfigError> {
    let text = crate::discover::read_text(path, 1024 * 1024).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text, policy, Some(parse_timeout))
}

/// Checks a config file's text, read from `path` (which places its
/// `var_files`). Without `parse_timeout` the parser runs on this thread with
/// no watchdog: for fuzzing, where the fuzzer's own timeout must see a slow
/// parse.
pub fn parse(path: &Path, text: &str, policy: &Policy, parse_timeout: Option<std::time::Duration>) -> Result<Config, ConfigError> {
    let r = Reader {
        path,
        file: SourceFile::new(path.to_path_buf(), text.into()),
    };
    let id = crate::source::FileId(0);
    let parsed = match parse_timeout {
        Some(limit) => crate::ingest::terraform::parse_within(id, text.into(), limit),
        None => crate::ingest::terraform::parse_unguarded(id, text.into()),
    }
    .map_err(|e| {
        r.at(
            e.origin().cloned().map(|o| o.span()),
            e.message().replace("--parse-timeout", "--parse-timeout (or --no-config)"),
        )
    })?;
    let body: Body = parsed.body;
    let mut c = Config {
        path: path.to_path_buf(),
        ..Config::default()
    };
    r.settings(&body, policy, &mut c)?;
    let (mut endpoints, mut addresses) = (0usize, 0usize);
    for block in body.blocks() {
        match block.ident.as_str() {
            "rule" => r.rule_block(block, policy, &mut c)?,
            "limits" => r.limits_block(block, &mut c)?,
            "endpoint" => {
                endpoints += 1;
                addresses += endpoint_addresses(block);
                if endpoints > MAX_ENDPOINTS || addresses > MAX_ENDPOINT_ADDRESSES {
                    return Err(r.at(
                        block.ident.span(),
                        format!(
                            "more than {MAX_ENDPOINTS} endpoints or {MAX_ENDPOINT_ADDRESSES} endpoint addresses; kmsguard refuses a config that large"
                        ),
                    ));
                }
                // The policy pack parses the endpoints itself, from their text.
                if let Some(span) = block.span() {
                    c.endpoints.push_str(text.get(span).unwrap_or_default());
                    c.endpoints.push('\n');
                }
            }
            other => return Err(r.at(block.ident.span(), unknown("block", other, TOP_LEVEL_KEYS))),
        }
    }
    Ok(c)
}

/// A config file being read: every message names its path, line and column.
struct Reader<'a> {
    path: &'a Path,
    file: SourceFile,
}

impl Reader<'_> {
    fn at(&self, span: Option<std::ops::Range<usize>>, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            at: self.file.line_col(span.map(|s| s.start).unwrap_or(0)),
            message,
        }
    }

    fn string(&self, e: &Expression, key: &str) -> Result<String, ConfigError> {
        match e {
            Expression::String(s) => Ok(s.value().clone()),
            _ => Err(self.at(e.span(), format!("{key} must be a string"))),
        }
    }

    fn strings(&self, e: &Expression, key: &str) -> Result<Vec<String>, ConfigError> {
        match e {
            Expression::Array(a) => a.iter().map(|x| self.string(x, key)).collect::<Result<Vec<_>, _>>(),
            _ => Err(self.at(e.span(), format!("{key} must be a list of strings"))),
        }
    }

    /// The top-level settings (`cloud`, `fail_on`, `exclude`, `var_files`, …).
    fn settings(&self, body: &Body, policy: &Policy, c: &mut Config) -> Result<(), ConfigError> {
        let base = self.path.parent().unwrap_or(Path::new("."));
        for attr in body.attributes() {
            let key = attr.key.as_str();
            let v = &attr.value;
            match key {
                "cloud" => {
                    let s = self.string(v, key)?;
                    if !policy.clouds().contains(&s.as_str()) {
                        return Err(self.at(v.span(), format!("cloud \"{s}\" is not one of {}", policy.clouds().join(", "))));
                    }
                    c.cloud = Some(s);
                }
                "fail_on" => {
                    let s = self.string(v, key)?;
                    if !["error", "warning", "note", "never"].contains(&s.as_str()) {
                        return Err(self.at(v.span(), format!("fail_on \"{s}\" is not one of error, warning, note, never")));
                    }
                    c.fail_on = Some(s);
                }
                "exclude" => {
                    for g in self.strings(v, key)? {
                        globset::Glob::new(&g).map_err(|e| self.at(v.span(), format!("exclude pattern \"{g}\": {e}")))?;
                        c.exclude.push(g);
                    }
                }
                "var_files" => {
                    for p in self.strings(v, key)? {
                        let full = within_repository(base, &p).ok_or_else(|| {
                            self.at(
                                v.span(),
                                format!("var_files entry \"{p}\" is outside the repository; a config file may only name files inside it"),
                            )
                        })?;
                        c.var_files.push(full);
                    }
                }
                "assume_bgp_default_route" => match v {
                    Expression::Bool(b) => c.assume_bgp_default_route = Some(*b.value()),
                    _ => return Err(self.at(v.span(), "assume_bgp_default_route must be true or false".into())),
                },
                other => return Err(self.at(attr.key.span(), unknown("setting", other, TOP_LEVEL_KEYS))),
            }
        }
        Ok(())
    }

    /// `rule "KG202" { enabled = false, severity = "warning" }`.
    fn rule_block(&self, block: &Block, policy: &Policy, c: &mut Config) -> Result<(), ConfigError> {
        let Some(label) = block.labels.first() else {
            return Err(self.at(
                block.ident.span(),
                "a rule block needs the rule's code or name: rule \"KG202\" { … }".into(),
            ));
        };
        let Some(doc) = policy.rule(label.as_str()) else {
            return Err(self.at(
                label.span(),
                format!("no rule named \"{}\"; `kmsguard rules` lists them", label.as_str()),
            ));
        };
        for attr in block.body.attributes() {
            let v = &attr.value;
            match attr.key.as_str() {
                "enabled" => match v {
                    Expression::Bool(b) if !*b.value() => c.disabled.push(doc.code.clone()),
                    Expression::Bool(_) => {}
                    _ => return Err(self.at(v.span(), "enabled must be true or false".into())),
                },
                "severity" => {
                    let s = self.string(v, "severity")?;
                    let sev = match s.as_str() {
                        "error" => Severity::Error,
                        "warning" => Severity::Warning,
                        "note" => Severity::Note,
                        _ => return Err(self.at(v.span(), format!("severity \"{s}\" is not one of error, warning, note"))),
                    };
                    c.severities.push((doc.code.clone(), sev));
                }
                other => return Err(self.at(attr.key.span(), unknown("rule setting", other, RULE_KEYS))),
            }
        }
        Ok(())
    }

    /// `limits { … }`: the project's bounds on file size, parse time and evaluation.
    fn limits_block(&self, block: &Block, c: &mut Config) -> Result<(), ConfigError> {
        let number = |e: &Expression, key: &str| {
            match e {
                Expression::Number(n) => n.value().as_f64().filter(|n| *n > 0.0 && n.is_finite()),
                _ => None,
            }
            .ok_or_else(|| self.at(e.span(), format!("{key} must be a positive number")))
        };
        for attr in block.body.attributes() {
            let (key, v) = (attr.key.as_str(), &attr.value);
            match key {
                "max_file_size" => c.max_file_size = Some(number(v, key)? as u64),
                "parse_timeout" => {
                    c.parse_timeout = Some(
                        std::time::Duration::try_from_secs_f64(number(v, key)?)
                            .map_err(|_| self.at(v.span(), "parse_timeout is too long".into()))?,
                    )
                }
                "max_eval_steps" => c.max_eval_steps = Some(number(v, key)? as u64),
                "max_collection_size" => c.max_collection_size = Some(number(v, key)? as usize),
                other => return Err(self.at(attr.key.span(), unknown("limit", other, LIMIT_KEYS))),
            }
        }
        Ok(())
    }
}

/// Every key a config file may hold at its top level: settings, then blocks.
/// One list, so that no message can leave one out.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "cloud",
    "fail_on",
    "exclude",
    "var_files",
    "assume_bgp_default_route",
    "rule",
    "limits",
    "endpoint",
];
const BLOCK_KEYS: &[&str] = &["rule", "limits", "endpoint"];
pub const RULE_KEYS: &[&str] = &["enabled", "severity"];
pub const LIMIT_KEYS: &[&str] = &["max_file_size", "parse_timeout", "max_eval_steps", "max_collection_size"];

/// `unknown setting "fail-on"; did you mean "fail_on"? (known: …)`: the
/// closest known key when one is close, and every known key. A block
/// written as a setting (`limits = { … }`) or the other way round is named
/// as such.
fn unknown(what: &str, key: &str, known: &[&str]) -> String {
    let mut msg = format!("unknown {what} \"{key}\"");
    if known.contains(&key) {
        let block = BLOCK_KEYS.contains(&key);
        msg = format!(
            "\"{key}\" is a {}, written {}",
            if block { "block" } else { "setting" },
            if block {
                format!("{key} {{ … }}")
            } else {
                format!("{key} = …")
            }
        );
    } else if let Some(near) = closest(key, known) {
        msg.push_str(&format!("; did you mean \"{near}\"?"));
    }
    format!("{msg} (known: {})", known.join(", "))
}

/// The known key nearest `key` by edit distance (case and `-`/`_` aside),
/// if it is near enough to be a typo.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace('-', "_");
    let key = norm(key);
    known
        .iter()
        .map(|k| (edit_distance(&key, &norm(k)), *k))
        // One slip in a short key; two in a long one. More would suggest
        // `cloud` for `colour`.
        .filter(|(d, k)| *d <= if k.len() >= 8 { 2 } else { 1 })
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the Levenshtein table at a time: `row[j]` is the distance
    // between the prefix of `a` read so far and the first `j` chars of `b`.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut next = Vec::with_capacity(row.len());
        next.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let diagonal = row.get(j).copied().unwrap_or(usize::MAX / 2) + usize::from(ca != *cb);
            let up = row.get(j + 1).copied().unwrap_or(usize::MAX / 2) + 1;
            let left = next.last().copied().unwrap_or(usize::MAX / 2) + 1;
            next.push(diagonal.min(up).min(left));
        }
        row = next;
    }
    row.last().copied().unwrap_or(0)
}

/// How many addresses an `endpoint` block lists, in all its `cloud` blocks.
fn endpoint_addresses(block: &hcl::edit::structure::Block) -> usize {
    block
        .body
        .blocks()
        .flat_map(|cloud| cloud.body.attributes())
        .map(|a| match &a.value {
            Expression::Array(list) => list.len(),
            _ => 1,
        })
        .sum()
}

/// `rel`, a path a config file in `base` names, if it stays inside the
/// repository that holds `base` (the nearest directory with `.git`, else
/// `base` itself), both as written and once symbolic links are resolved.
fn within_repository(base: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel);
    if rel.is_absolute() {
        return None;
    }
    let canonical_base = std::fs::canonicalize(base).ok()?;
    let root = crate::discover::repository_root(&canonical_base);
    let lexical = crate::source::normalise(&canonical_base.join(rel));
    if !lexical.starts_with(&root) {
        return None;
    }
    // A file that does not exist is reported when it is read; one that does
    // must not lead out of the repository through a link.
    if let Ok(real) = std::fs::canonicalize(&lexical) {
        if !real.starts_with(&root) {
            return None;
        }
    }
    Some(base.join(rel))
}

/// Applies the file's rule settings and endpoints to the policy pack.
pub fn apply_to_policy(c: &Config, policy: &mut Policy) -> Result<(), ConfigError> {
    for (code, sev) in &c.severities {
        if let Some(r) = policy.rules.iter_mut().find(|r| &r.code == code) {
            r.severity = *sev;
        }
    }
    if !c.endpoints.is_empty() {
        policy.add_endpoints(&c.path.display().to_string(), &c.endpoints)?;
    }
    Ok(())
}

/// The starter file `kmsguard init` writes.
pub const STARTER: &str = r#"# kmsguard settings. Command-line flags win over this file.
# Documentation: `kmsguard explain CODE`, `kmsguard rules`.

# The Azure cloud whose KMS addresses apply: public, usgov, china, germany.
# Without it, the azurerm provider's `environment` decides, else public.
# cloud = "public"

# Fail on findings at or above: error, warning, note, never.
fail_on = "error"

# Files and directories not to check (glob patterns, relative to this file).
exclude = [
  # "test/fixtures/**",
]

# Terraform variable files applied to every root module, after tfvars.
# var_files = ["environments/prod.tfvars"]

# On-premises advertises 0.0.0.0/0 over ExpressRoute or VPN (KG104).
# assume_bgp_default_route = true

# Turn a rule off, or change its severity.
# rule "KG202" {
#   enabled = false
# }
# rule "nsg-denies-platform-imds" {
#   severity = "error"
# }

# Bounds on the work one input can cause (flags of the same names win).
# limits {
#   max_file_size       = 16777216  # bytes
#   parse_timeout       = 10        # seconds per Terraform file
#   max_eval_steps      = 4000000   # per root module, Bicep deployment, ARM template
#   max_collection_size = 100000    # elements of a list, loop, count or for_each
# }

# An endpoint of your own that must be reached from an Azure public IP:
# it gets the same route analysis as KMS.
# endpoint "licence-server" {
#   title    = "licence server"
#   protocol = "Tcp"
#   port     = 27000
#   cloud "*" {
#     required = ["203.0.113.10"]
#   }
# }
"#;
