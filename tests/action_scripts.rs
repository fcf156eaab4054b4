//! The GitHub Action's scripts, run for real against a fake release
//! directory (file:// URLs, no network) and a fake `kmsguard` and `cargo`:
//! scripts/install-kmsguard.sh picks the asset for the runner, verifies it
//! against SHA256SUMS and falls back to `cargo install` only when there is
//! no release; scripts/run-action.sh turns the inputs into one command line
//! without globbing or expanding them.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn executable(path: &Path, text: &str) {
    fs::write(path, text).expect("write script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg("sha256sum \"$1\" 2>/dev/null || shasum -a 256 \"$1\"")
        .arg("sh")
        .arg(path)
        .output()
        .expect("sha256");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A release directory `dir/v{version}` holding the archive of a fake
/// binary for each target, and SHA256SUMS listing them.
fn fake_release(dir: &Path, version: &str, targets: &[&str]) {
    let rel = dir.join(format!("v{version}"));
    fs::create_dir_all(&rel).expect("mkdir");
    let mut sums = String::new();
    for target in targets {
        let name = format!("kmsguard-{version}-{target}");
        let stage = dir.join("stage").join(&name);
        fs::create_dir_all(&stage).expect("mkdir");
        let windows = target.contains("windows");
        let exe = if windows { "kmsguard.exe" } else { "kmsguard" };
        executable(&stage.join(exe), &format!("#!/bin/sh\necho fake kmsguard {target}\n"));
        let (asset, status) = if windows {
            let asset = format!("{name}.zip");
            let s = Command::new("zip")
                .current_dir(dir.join("stage"))
                .args(["-qr", rel.join(&asset).to_str().expect("utf-8"), &name])
                .status();
            (asset, s)
        } else {
            let asset = format!("{name}.tar.gz");
            let s = Command::new("tar")
                .arg("-czf")
                .arg(rel.join(&asset))
                .arg("-C")
                .arg(dir.join("stage"))
                .arg(&name)
                .status();
            (asset, s)
        };
        assert!(status.expect("archiver runs").success());
        sums.push_str(&format!("{}  {asset}\n", sha256(&rel.join(&asset))));
    }
    fs::write(rel.join("SHA256SUMS"), sums).expect("write sums");
}

struct Install {
    _work: tempfile::TempDir,
    out: Output,
    root: PathBuf,
    cargo_log: PathBuf,
}

fn install(releases: &Path, version: &str, os: &str, arch: &str, source: Option<&Path>) -> Install {
    let tmp = tempfile::tempdir().expect("tempdir");
    let work = tmp.path();
    let root = work.join("root");
    let cargo_log = work.join("cargo.log");
    let cargo = work.join("cargo");
    // The fake cargo records its arguments and "builds" a binary.
    executable(
        &cargo,
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {log}\nmkdir -p {root}/bin\nprintf '#!/bin/sh\\necho built\\n' > {root}/bin/kmsguard\nchmod +x {root}/bin/kmsguard\n",
            log = cargo_log.display(),
            root = root.display()
        ),
    );
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(ROOT).join("scripts/install-kmsguard.sh"))
        .env("KMSGUARD_VERSION", version)
        .env("KMSGUARD_ROOT", &root)
        .env("KMSGUARD_RELEASES", format!("file://{}", releases.display()))
        .env("KMSGUARD_OS", os)
        .env("KMSGUARD_ARCH", arch)
        .env("CARGO", &cargo)
        .env_remove("KMSGUARD_SOURCE");
    if let Some(s) = source {
        cmd.env("KMSGUARD_SOURCE", s);
    }
    Install {
        out: cmd.output().expect("bash runs"),
        _work: tmp,
        root,
        cargo_log,
    }
}

const TARGETS: &[&str] = &[
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

#[test]
fn the_release_binary_for_the_runner_is_installed_and_verified() {
    if !have("curl") || !have("zip") || !have("unzip") {
        eprintln!("skipped: curl, zip or unzip missing");
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    fake_release(d.path(), "0.3.0", TARGETS);
    for (version, os, arch, target, exe) in [
        ("v0.3.0", "Linux", "X64", "x86_64-unknown-linux-musl", "kmsguard"),
        ("0.3.0", "Linux", "ARM64", "aarch64-unknown-linux-musl", "kmsguard"),
        ("v0.3.0", "macOS", "X64", "x86_64-apple-darwin", "kmsguard"),
        ("v0.3.0", "macOS", "ARM64", "aarch64-apple-darwin", "kmsguard"),
        ("v0.3.0", "Windows", "X64", "x86_64-pc-windows-msvc", "kmsguard.exe"),
    ] {
        let i = install(d.path(), version, os, arch, Some(Path::new(ROOT)));
        let err = String::from_utf8_lossy(&i.out.stderr);
        assert!(i.out.status.success(), "{os}/{arch}: {err}");
        assert!(!i.cargo_log.exists(), "{os}/{arch}: built instead of downloading");
        let ran = Command::new(i.root.join("bin").join(exe)).output().expect("installed binary runs");
        assert_eq!(String::from_utf8_lossy(&ran.stdout).trim(), format!("fake kmsguard {target}"));
    }
}

#[test]
fn a_checksum_mismatch_fails_and_never_builds_instead() {
    if !have("curl") {
        eprintln!("skipped: curl missing");
        return;
    }
    let d = tempfile::tempdir().expect("tempdir");
    fake_release(d.path(), "0.3.0", &["x86_64-unknown-linux-musl"]);
    // The archive is swapped after SHA256SUMS was written.
    let asset = d.path().join("v0.3.0/kmsguard-0.3.0-x86_64-unknown-linux-musl.tar.gz");
    let mut bytes = fs::read(&asset).expect("read");
    bytes.push(0);
    fs::write(&asset, bytes).expect("tamper");
    let i = install(d.path(), "v0.3.0", "Linux", "X64", Some(Path::new(ROOT)));
    assert!(!i.out.status.success());
    assert!(String::from_utf8_lossy(&i.out.stderr).contains("checksum mismatch"));
    assert!(!i.root.join("bin/kmsguard").exists());
    assert!(!i.cargo_log.exists());
}

#[test]
fn without_a_matching_release_kmsguard_is_built() {
    let d = tempfile::tempdir().expect("tempdir");
    fake_release(d.path(), "0.3.0", &["x86_64-unknown-linux-musl"]);
    let source = Path::new(ROOT);
    let root_of = |i: &Install| i.root.display().to_string();
    // No such release: from crates.io, or from the action's source.
    let i = install(d.path(), "v9.9.9", "Linux", "X64", None);
    assert!(i.out.status.success(), "{}", String::from_utf8_lossy(&i.out.stderr));
    let args = fs::read_to_string(&i.cargo_log).expect("cargo ran");
    assert_eq!(args, format!("install\n--locked\n--root\n{}\nkmsguard@9.9.9\n", root_of(&i)));
    for (version, os, arch) in [
        ("v9.9.9", "Linux", "X64"),     // no such release
        ("main", "Linux", "X64"),       // a branch
        ("v0.3.0", "Linux", "RISCV64"), // no binary for the architecture
        ("v0.3.0", "Linux", "ARM64"),   // the release lacks this target
        ("3f2a9c1", "macOS", "ARM64"),  // a commit
    ] {
        let i = install(d.path(), version, os, arch, Some(source));
        assert!(
            i.out.status.success(),
            "{version} {os}/{arch}: {}",
            String::from_utf8_lossy(&i.out.stderr)
        );
        let args = fs::read_to_string(&i.cargo_log).unwrap_or_else(|_| panic!("{version} {os}/{arch}: cargo did not run"));
        assert_eq!(args, format!("install\n--locked\n--root\n{}\n--path\n{ROOT}\n", root_of(&i)));
    }
    // A branch with no source to build: a clear failure.
    let i = install(d.path(), "main", "Linux", "X64", None);
    assert!(!i.out.status.success());
    assert!(String::from_utf8_lossy(&i.out.stderr).contains("KMSGUARD_SOURCE"));
}

struct Run {
    code: Option<i32>,
    args: Vec<String>,
    outputs: String,
    dir: tempfile::TempDir,
}

/// Runs scripts/run-action.sh with these inputs and a fake kmsguard that
/// records its arguments, one per line, and exits 3.
fn run_action(inputs: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("fake-kmsguard");
    let log = dir.path().join("args.log");
    executable(&fake, &format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > {}\nexit 3\n", log.display()));
    // A file a glob would match, in the directory the step runs in.
    fs::write(dir.path().join("main.tf"), "").expect("write");
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(ROOT).join("scripts/run-action.sh"))
        .current_dir(dir.path())
        .env("KMSGUARD", &fake)
        .env("RUNNER_TEMP", dir.path())
        .env("GITHUB_OUTPUT", dir.path().join("outputs"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"));
    for (k, v) in inputs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    let args = fs::read_to_string(&log).unwrap_or_default().lines().map(String::from).collect();
    let outputs = fs::read_to_string(dir.path().join("outputs")).unwrap_or_default();
    Run {
        code: out.status.code(),
        args,
        outputs,
        dir,
    }
}

fn after_dashes(r: &Run) -> Vec<&str> {
    let at = r.args.iter().position(|a| a == "--").expect("-- before the paths");
    r.args[at + 1..].iter().map(String::as_str).collect()
}

fn before_dashes(r: &Run) -> Vec<&str> {
    r.args.iter().take_while(|a| *a != "--").map(String::as_str).collect()
}

#[test]
fn paths_are_lists_and_nothing_is_globbed_or_expanded() {
    for (path, expected) in [
        (".", vec!["."]),
        ("infra modules", vec!["infra", "modules"]),
        ("  infra\tmodules  ", vec!["infra", "modules"]),
        ("infra\nmodules\n", vec!["infra", "modules"]),
        ("my infra\n\n  other dir  \n", vec!["my infra", "other dir"]),
        ("*.tf", vec!["*.tf"]),
        (
            "$(touch pwned) `touch pwned2` $HOME",
            vec!["$(touch", "pwned)", "`touch", "pwned2`", "$HOME"],
        ),
        ("--fail-on=never", vec!["--fail-on=never"]),
        ("", vec!["."]),
    ] {
        let r = run_action(&[("INPUT_PATH", path)]);
        assert_eq!(r.code, Some(3), "{path:?}: kmsguard's exit code");
        assert_eq!(after_dashes(&r), expected, "{path:?}");
        assert!(!r.dir.path().join("pwned").exists() && !r.dir.path().join("pwned2").exists());
    }
}

#[test]
fn args_are_lists_and_inputs_become_flags_only_when_set() {
    let r = run_action(&[("INPUT_ARGS", "--var-file prod.tfvars --select *.tf")]);
    let before = before_dashes(&r);
    assert!(
        before.windows(4).any(|w| w == ["--var-file", "prod.tfvars", "--select", "*.tf"]),
        "{before:?}"
    );
    assert!(!before.contains(&"--fail-on"), "fail-on passed while unset: {before:?}");
    assert!(
        r.outputs.contains("findings=0\n") && r.outputs.contains("sarif-file=kmsguard.sarif\n"),
        "{}",
        r.outputs
    );

    let r = run_action(&[("INPUT_ARGS", "--var-file\nmy vars.tfvars\n")]);
    assert!(
        before_dashes(&r).windows(2).any(|w| w == ["--var-file", "my vars.tfvars"]),
        "{:?}",
        r.args
    );

    let r = run_action(&[
        ("INPUT_FAIL_ON", "warning"),
        ("INPUT_CLOUD", "usgov"),
        ("INPUT_CONFIG", "base/.kmsguard.hcl"),
        ("INPUT_NO_CONFIG", "true"),
        ("INPUT_INLINE_SUPPRESSIONS", "false"),
        ("INPUT_SARIF_FILE", "out dir/k.sarif"),
    ]);
    let before = before_dashes(&r);
    for pair in [
        ["--fail-on", "warning"],
        ["--cloud", "usgov"],
        ["--config", "base/.kmsguard.hcl"],
        ["--report", "sarif=out dir/k.sarif"],
        ["--format", "github"],
    ] {
        assert!(before.windows(2).any(|w| w == pair), "{pair:?} missing: {before:?}");
    }
    assert!(before.contains(&"--no-config") && before.contains(&"--no-inline-suppressions"));

    let r = run_action(&[("INPUT_NO_CONFIG", "false"), ("INPUT_INLINE_SUPPRESSIONS", "true")]);
    let before = before_dashes(&r);
    assert!(!before.contains(&"--no-config") && !before.contains(&"--no-inline-suppressions"));
}

/// The real binary through the script: findings counted from the JSON
/// report, the step summary written, exit 1.
#[test]
fn the_action_step_runs_kmsguard_end_to_end() {
    if !have("jq") {
        eprintln!("skipped: jq missing");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/run-action.sh"))
        .current_dir(ROOT)
        .env("KMSGUARD", env!("CARGO_BIN_EXE_kmsguard"))
        .env("RUNNER_TEMP", dir.path())
        .env("GITHUB_OUTPUT", dir.path().join("outputs"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"))
        .env("INPUT_PATH", "examples/01-forced-tunnel-broken\nexamples/02-forced-tunnel-fixed")
        .env("INPUT_SARIF_FILE", dir.path().join("k.sarif"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("::error file=examples/01-forced-tunnel-broken/main.tf"));
    let outputs = fs::read_to_string(dir.path().join("outputs")).expect("outputs");
    assert!(outputs.contains("findings=3\n"), "{outputs}");
    assert!(fs::read_to_string(dir.path().join("summary")).expect("summary").contains("KG101"));
    assert!(dir.path().join("k.sarif").exists());
}

/// The version and cache key scripts/action-cache-key.sh prints for these
/// inputs, with the action's directory at `action`.
fn cache_key(action: &Path, env: &[(&str, &str)]) -> (String, String) {
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(ROOT).join("scripts/action-cache-key.sh"))
        .env("GITHUB_ACTION_PATH", action)
        .env_remove("INPUT_VERSION")
        .env_remove("ACTION_REF");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}= in {text}"))
            .to_string()
    };
    (field("version"), field("key"))
}

#[test]
fn the_cache_key_follows_version_os_architecture_and_source() {
    let action = tempfile::tempdir().expect("tempdir");
    for (path, text) in [
        ("Cargo.toml", "[package]\n"),
        ("Cargo.lock", ""),
        ("src/main.rs", "fn main() {}\n"),
        ("policies/rules.hcl", ""),
    ] {
        let p = action.path().join(path);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }
    let linux = [("RUNNER_OS", "Linux"), ("RUNNER_ARCH", "X64")];
    let with = |extra: &[(&'static str, &'static str)], os: &[(&'static str, &'static str)]| {
        let env: Vec<(&str, &str)> = extra.iter().chain(os).copied().collect();
        cache_key(action.path(), &env)
    };
    // The action's ref, or the version input over it.
    assert_eq!(
        with(&[("ACTION_REF", "v0.3.1")], &linux),
        ("v0.3.1".into(), "kmsguard-release-0.3.1-Linux-X64".into())
    );
    assert_eq!(
        with(&[("ACTION_REF", "v0.3.1"), ("INPUT_VERSION", "0.2.0")], &linux),
        ("0.2.0".into(), "kmsguard-release-0.2.0-Linux-X64".into())
    );
    // Each OS and architecture has its own binary.
    let keys: Vec<String> = [("Linux", "X64"), ("Linux", "ARM64"), ("macOS", "ARM64"), ("Windows", "X64")]
        .iter()
        .map(|(os, arch)| with(&[("ACTION_REF", "v0.3.1")], &[("RUNNER_OS", os), ("RUNNER_ARCH", arch)]).1)
        .collect();
    assert_eq!(keys.iter().collect::<std::collections::BTreeSet<_>>().len(), 4, "{keys:?}");
    // A branch, or a local action with no ref, is keyed on its source: the
    // same source, the same key; a changed file, a new key.
    let (version, main) = with(&[("ACTION_REF", "main")], &linux);
    assert_eq!(version, "main");
    assert!(main.starts_with("kmsguard-source-") && main.ends_with("-Linux-X64"), "{main}");
    let (version, local) = with(&[], &linux);
    assert_eq!((version.as_str(), &local), ("source", &main));
    fs::write(action.path().join("src/main.rs"), "fn main() { println!(); }\n").expect("edit");
    let (_, edited) = with(&[("ACTION_REF", "main")], &linux);
    assert_ne!(edited, main);
    fs::write(action.path().join("src/lib.rs"), "").expect("add");
    assert_ne!(with(&[("ACTION_REF", "main")], &linux).1, edited);
}
