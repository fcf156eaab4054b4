//! The subcommands other than `check`: `rules`, `explain`, `init`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kmsguard::load::load_policy;

use super::output::{create_new, fail, print_out, write_all, Output};

/// A rule's documentation as `kmsguard explain` prints it.
fn explain_text(r: &kmsguard::policy::RuleDoc) -> String {
    let indent = |s: &str| {
        s.trim_end()
            .lines()
            .map(|l| if l.is_empty() { String::new() } else { format!("  {l}") })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut out = format!("{} {} ({})\n", r.code, r.name, r.severity.as_str());
    if !kmsguard::rules::is_checked(&r.code) {
        out.push_str("\nNot checked yet by this version of kmsguard.\n");
    }
    out.push_str(&format!(
        "\nWhat it checks\n{}\n\nWhy it matters\n{}\n\nExample\n{}\n\nFix\n{}\n",
        indent(&r.what),
        indent(&r.why),
        indent(&r.example),
        indent(&r.fix)
    ));
    if !r.references.is_empty() {
        out.push_str("\nReferences\n");
        for x in &r.references {
            out.push_str(&format!("  {x}\n"));
        }
    }
    out
}

/// `kmsguard explain RULE`.
pub(super) fn explain(rule: &str, policy: Option<&PathBuf>) -> ExitCode {
    match load_policy(policy.map(PathBuf::as_path)) {
        Ok(p) => match p.rule(rule) {
            Some(r) => print_out(&explain_text(r)),
            None => fail(&format!("no rule named \"{rule}\"; `kmsguard rules` lists them")),
        },
        Err(e) => fail(&e.to_string()),
    }
}

/// `kmsguard rules`: one line a rule of the pack, marked where this version does not check it.
pub(super) fn rules(policy: Option<&PathBuf>) -> ExitCode {
    match load_policy(policy.map(PathBuf::as_path)) {
        Ok(p) => {
            let mut out = String::new();
            for r in &p.rules {
                let status = if kmsguard::rules::is_checked(&r.code) {
                    ""
                } else {
                    "  (documented, not checked yet)"
                };
                out.push_str(&format!(
                    "{}  {:<36} {:<8} {}{status}\n",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    r.summary
                ));
            }
            print_out(&out)
        }
        Err(e) => fail(&e.to_string()),
    }
}

/// `kmsguard init`: the starter config, never over an existing file unless `--force`.
pub(super) fn init(dir: &Path, force: bool) -> ExitCode {
    let path = dir.join(kmsguard::config::FILE_NAME);
    let written = if force {
        write_all(&[Output {
            what: "the starter config",
            path: path.clone(),
            text: kmsguard::config::STARTER.to_string(),
        }])
    } else {
        create_new(&path, kmsguard::config::STARTER)
    };
    match written {
        Ok(()) => print_out(&format!("wrote {}\n", path.display())),
        Err(e) => fail(&e),
    }
}
