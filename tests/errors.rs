//! The errors of each layer are typed (which setting, which file, why not
//! read), and their text is what the command line prints after `error: `.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::fs;
use std::path::Path;

use kmsguard::config::{self, ConfigError};
use kmsguard::diagnostic::FileError;
use kmsguard::policy::Policy;
use kmsguard::read::ReadError;
use kmsguard::source::{FileId, LineCol, Origin};
use kmsguard::suppress::{read_baseline, BaselineError};

fn policy() -> Policy {
    Policy::embedded().expect("embedded pack")
}

#[test]
fn a_bad_setting_is_located_and_reads_path_line_column_message() {
    let e = config::parse(Path::new("cfg.hcl"), "\ncloud = \"mars\"\n", &policy(), None).expect_err("mars is no cloud");
    match &e {
        ConfigError::Invalid { at, message, .. } => {
            assert_eq!(*at, LineCol { line: 2, column: 9 });
            assert!(message.starts_with("cloud \"mars\" is not one of"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert!(e.to_string().starts_with("cfg.hcl:2:9: cloud \"mars\""), "{e}");
}

#[test]
fn a_config_that_cannot_be_read_says_why_after_its_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("none.hcl");
    let e = config::load(&missing, &policy(), std::time::Duration::from_secs(5)).expect_err("no file");
    assert!(
        matches!(
            e,
            ConfigError::Read {
                source: ReadError::Io(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with(&format!("{}: cannot read: ", missing.display())), "{e}");

    let binary = dir.path().join("bin.hcl");
    fs::write(&binary, "a\n\0").expect("write");
    let e = config::load(&binary, &policy(), std::time::Duration::from_secs(5)).expect_err("binary");
    assert!(
        matches!(
            e,
            ConfigError::Read {
                source: ReadError::Binary { line: 2 },
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("{}: binary file (NUL byte on line 2); not checked", binary.display())
    );
}

#[test]
fn endpoints_the_pack_refuses_are_the_packs_error() {
    let c = config::parse(Path::new("cfg.hcl"), "endpoint \"kms\" {\n  title = 1\n}\n", &policy(), None).expect("read");
    let e = config::apply_to_policy(&c, &mut policy()).expect_err("refused");
    assert!(matches!(e, ConfigError::Policy(_)), "{e:?}");
    assert!(e.to_string().starts_with("policy pack cfg.hcl: "), "{e}");
}

#[test]
fn a_baseline_that_cannot_be_used_says_which_and_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("b.json");
    fs::write(&bad, "{not json").expect("write");
    let e = read_baseline(&bad).expect_err("not JSON");
    assert!(matches!(e, BaselineError::NotJson { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(&format!("baseline {} is not JSON: ", bad.display())),
        "{e}"
    );

    let e = read_baseline(dir.path()).expect_err("a directory");
    assert!(
        matches!(
            e,
            BaselineError::Read {
                source: ReadError::NotRegular(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "cannot read baseline {}: a directory, not a regular file; not read",
            dir.path().display()
        )
    );
}

#[test]
fn a_file_error_is_either_located_or_about_a_whole_file() {
    let at = FileError::at(Origin::new(FileId(3), 4..9), "could not parse".into());
    assert_eq!(at.origin().map(Origin::span), Some(4..9));
    assert_eq!(at.file_path(), None);
    assert_eq!(at.message(), "could not parse");
    let whole = FileError::path(Path::new("a/b.tf"), "cannot read: gone".into());
    assert_eq!(whole.origin(), None);
    assert_eq!(whole.file_path(), Some(Path::new("a/b.tf")));
    assert_eq!(whole.to_string(), "cannot read: gone");
}
