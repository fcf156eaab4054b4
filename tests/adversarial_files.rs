//! A pull request controls every file in the checked tree, file names and
//! symbolic links included, and `.terraform/modules/modules.json`. Nothing
//! in it may make kmsguard read outside the repository, read without end,
//! block, or write over the code under review (issue 11, §5 and §7).
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
use std::io::Read;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const FORCED_TUNNEL: &str = r#"
resource "azurerm_route_table" "hub" {
  name = "rt-hub"
  route {
    name                   = "default"
    address_prefix         = "0.0.0.0/0"
    next_hop_type          = "VirtualAppliance"
    next_hop_in_ip_address = "10.0.1.4"
  }
}
"#;

const SECRET: &str = "s3cr3t-t0ken-7c1f";

/// What one run printed and how it ended.
struct Run {
    stdout: String,
    stderr: String,
    /// `None` when the run had to be killed.
    code: Option<i32>,
    took: Duration,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("a JSON report ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// Runs kmsguard in `cwd` with `args`, killing it after `limit`. Its stdin
/// is a pipe held open for the whole run, so reading stdin blocks (as it
/// would in a CI job) instead of seeing an empty file.
fn kmsguard_in(cwd: &Path, args: &[&str], limit: Duration) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmsguard"))
        .current_dir(cwd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kmsguard starts");
    let _stdin = child.stdin.take();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut p) = pipe {
                // Only the first 64 MiB: an unbounded report must not exhaust the test's memory.
                let _ = p.by_ref().take(64 << 20).read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    Run {
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        code,
        took,
    }
}

fn kmsguard(args: &[&str]) -> Run {
    kmsguard_in(Path::new("."), args, Duration::from_secs(20))
}

/// `check DIR --format json`, which must end within `seconds`.
fn check_json(dir: &Path, extra: &[&str], seconds: u64) -> (Value, Run) {
    let mut args = vec!["check", dir.to_str().expect("utf-8 path"), "--format", "json"];
    args.extend_from_slice(extra);
    let run = kmsguard_in(Path::new("."), &args, Duration::from_secs(seconds));
    assert!(run.code.is_some(), "killed after {:?}: {}", run.took, run.stderr);
    (run.json(), run)
}

/// A repository (a directory holding `.git`) inside a scratch directory,
/// with a forced tunnel in `main.tf`.
fn repository() -> (tempfile::TempDir, PathBuf) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let repo = scratch.path().join("repo");
    fs::create_dir_all(repo.join(".git")).expect("mkdir");
    fs::write(repo.join("main.tf"), FORCED_TUNNEL).expect("write");
    (scratch, repo)
}

fn skipped(doc: &Value) -> Vec<(String, String)> {
    doc["skipped"]
        .as_array()
        .unwrap_or_else(|| panic!("a skipped array: {doc:#}"))
        .iter()
        .map(|s| {
            (
                s["file"].as_str().unwrap_or_default().to_string(),
                s["reason"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn skipped_file(doc: &Value, name: &str) -> Option<String> {
    skipped(doc).into_iter().find(|(f, _)| f.ends_with(name)).map(|(_, reason)| reason)
}

/// The resources of the forced-tunnel findings (KG101).
fn route_table_names(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "KG101")
        .map(|f| f["resource"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo").arg(path).status().is_ok_and(|s| s.success())
}

const FORMATS: &[&str] = &[
    "human",
    "compact",
    "json",
    "sarif",
    "github",
    "azure-pipelines",
    "junit",
    "markdown",
];

/// `netrc.tf -> ~/.netrc`: the token would be echoed, as a parse error's
/// source line, into a public CI log. Links out of the repository are not
/// followed, whether to a file or a directory, relative or absolute, and the
/// report says which were skipped and why.
#[test]
fn a_link_to_a_secret_outside_the_repository_is_never_read() {
    let (scratch, repo) = repository();
    let outside = scratch.path().join("home");
    fs::create_dir_all(outside.join("keys")).expect("mkdir");
    fs::write(outside.join(".netrc"), format!("machine github.com login x password {SECRET}\n")).expect("write");
    fs::write(outside.join("keys/creds.tf"), format!("token = {SECRET}\n")).expect("write");
    symlink("../home/.netrc", repo.join("netrc.tf")).expect("symlink");
    symlink(outside.join(".netrc"), repo.join("absolute.auto.tfvars")).expect("symlink");
    symlink(outside.join("keys"), repo.join("keys")).expect("symlink");
    fs::create_dir(repo.join("sub")).expect("mkdir");
    symlink("../../home/keys/creds.tf", repo.join("sub/creds.tf")).expect("symlink");

    for format in FORMATS {
        let run = kmsguard(&["check", repo.to_str().expect("utf-8"), "--format", format]);
        assert!(!run.stdout.contains(SECRET), "{format} output holds the secret:\n{}", run.stdout);
        assert!(!run.stderr.contains(SECRET), "{format} stderr holds the secret:\n{}", run.stderr);
        assert_eq!(
            run.code,
            Some(1),
            "{format}: the forced tunnel is still found:\n{}{}",
            run.stdout,
            run.stderr
        );
    }
    let (doc, _) = check_json(&repo, &[], 20);
    for name in ["netrc.tf", "absolute.auto.tfvars", "keys", "sub/creds.tf"] {
        let reason = skipped_file(&doc, name).unwrap_or_else(|| panic!("{name} is reported as skipped: {doc:#}"));
        assert!(reason.contains("outside the repository"), "{reason}");
    }
    assert_eq!(doc["summary"]["skipped"], 4, "{doc:#}");
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0), "skipping is no error: {doc:#}");
    assert_eq!(route_table_names(&doc), ["azurerm_route_table.hub"], "{doc:#}");

    // The checked path itself replaced by a link out of the repository.
    symlink(&outside, repo.join("infra")).expect("symlink");
    let (doc, _) = check_json(&repo.join("infra"), &[], 20);
    assert!(skipped_file(&doc, "infra").is_some(), "{doc:#}");
    assert_eq!(doc["summary"]["files"], 0, "{doc:#}");
}

/// A path named on the command line (pre-commit names files, the action
/// names directories) that goes down through a directory link leading out
/// of the repository reaches a file the repository does not hold: it is
/// skipped as the same link met while walking is, whether named as a file
/// or a directory below the link, and `fix` writes nothing there. A link
/// that stays inside the repository still leads to its file.
#[test]
fn a_named_path_through_a_directory_link_out_of_the_repository_is_not_read() {
    let (scratch, repo) = repository();
    let outside = scratch.path().join("elsewhere");
    fs::create_dir_all(outside.join("deep")).expect("mkdir");
    fs::write(outside.join("main.tf"), FORCED_TUNNEL.replace("hub", "outside")).expect("write");
    fs::write(outside.join("deep/main.tf"), FORCED_TUNNEL.replace("hub", "deep")).expect("write");
    symlink(&outside, repo.join("linked")).expect("symlink");
    fs::create_dir(repo.join("inner")).expect("mkdir");
    fs::write(repo.join("inner/main.tf"), FORCED_TUNNEL.replace("hub", "inner")).expect("write");
    symlink("inner", repo.join("inner-link")).expect("symlink");

    for named in ["linked/main.tf", "linked/deep", "linked/deep/main.tf", "./linked/deep/../main.tf"] {
        let run = kmsguard_in(&repo, &["check", named, "--format", "json"], Duration::from_secs(20));
        let doc = run.json();
        assert_eq!(doc["summary"]["files"], 0, "{named}: {doc:#}");
        assert!(route_table_names(&doc).is_empty(), "{named}: {doc:#}");
        let reason = skipped(&doc).into_iter().map(|(_, r)| r).collect::<Vec<_>>().join("; ");
        assert!(reason.contains("outside the repository"), "{named}: {reason}");

        let before = fs::read_to_string(outside.join("main.tf")).expect("read");
        let run = kmsguard_in(&repo, &["fix", named], Duration::from_secs(20));
        assert_eq!(run.code, Some(0), "{named}: {}{}", run.stdout, run.stderr);
        assert_eq!(
            fs::read_to_string(outside.join("main.tf")).expect("read"),
            before,
            "{named}: fix wrote outside"
        );
    }
    let run = kmsguard_in(&repo, &["check", "inner-link/main.tf", "--format", "json"], Duration::from_secs(20));
    assert_eq!(route_table_names(&run.json()), ["azurerm_route_table.inner"], "{}", run.stdout);
}

/// A link to `/`, `/proc` or `/sys` made the walk run until killed.
#[test]
fn links_to_the_file_system_root_proc_and_sys_end_at_once() {
    let (_scratch, repo) = repository();
    for (name, target) in [("everything", "/"), ("proc", "/proc"), ("sys", "/sys"), ("dev", "/dev")] {
        symlink(target, repo.join(name)).expect("symlink");
    }
    let (doc, run) = check_json(&repo, &[], 10);
    assert!(run.took < Duration::from_secs(10), "took {:?}", run.took);
    assert_eq!(run.code, Some(1), "{doc:#}");
    for name in ["everything", "proc", "sys", "dev"] {
        assert!(skipped_file(&doc, name).is_some_and(|r| r.contains("outside")), "{name}: {doc:#}");
    }
}

/// Links inside the repository are followed, each directory once: a link
/// back to a directory it sits in is a located error (as before), and links
/// between siblings, which form no loop, no longer multiply the walk (20
/// levels of two links each were a million directories).
#[test]
fn directory_links_inside_the_repository_neither_loop_nor_multiply() {
    let (_scratch, repo) = repository();
    fs::create_dir(repo.join("a")).expect("mkdir");
    symlink("..", repo.join("a/up")).expect("symlink");
    fs::create_dir(repo.join("d0")).expect("mkdir");
    fs::write(repo.join("d0/x.tf"), "locals { x = 1 }\n").expect("write");
    for i in 1..20 {
        let d = repo.join(format!("d{i}"));
        fs::create_dir(&d).expect("mkdir");
        symlink(format!("../d{}", i - 1), d.join("l")).expect("symlink");
        symlink(format!("../d{}", i - 1), d.join("r")).expect("symlink");
    }
    let (doc, run) = check_json(&repo, &[], 10);
    assert_eq!(run.code, Some(2), "the loop is an error: {doc:#}");
    let errors = doc["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["file"].as_str().is_some_and(|f| f.ends_with("a/up")) && e["message"].as_str().is_some_and(|m| m.contains("loop"))),
        "{doc:#}"
    );
    // main.tf and d0/x.tf, each once.
    assert_eq!(doc["summary"]["files"], 2, "{doc:#}");
    assert_eq!(route_table_names(&doc), ["azurerm_route_table.hub"], "{doc:#}");
}

/// A shared file linked into several environments, and a shared directory
/// linked in beside the code that calls it, stay inside the repository and
/// are still read, under the path they are reached by.
#[test]
fn links_that_stay_inside_the_repository_are_still_followed() {
    let (_scratch, repo) = repository();
    fs::remove_file(repo.join("main.tf")).expect("rm");
    fs::create_dir_all(repo.join("shared/modules/rt")).expect("mkdir");
    fs::write(repo.join("shared/routes.tf"), FORCED_TUNNEL).expect("write");
    fs::write(
        repo.join("shared/modules/rt/main.tf"),
        FORCED_TUNNEL.replace("\"hub\"", "\"spoke\""),
    )
    .expect("write");
    fs::create_dir_all(repo.join("envs/prod")).expect("mkdir");
    symlink("../../shared/routes.tf", repo.join("envs/prod/routes.tf")).expect("symlink");
    symlink("../../shared/modules", repo.join("envs/prod/modules")).expect("symlink");
    let (doc, run) = check_json(&repo.join("envs/prod"), &[], 20);
    assert_eq!(run.code, Some(1), "{doc:#}");
    let files: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("envs/prod/routes.tf")), "{doc:#}");
    assert!(files.iter().any(|f| f.ends_with("envs/prod/modules/rt/main.tf")), "{doc:#}");
    assert_eq!(skipped(&doc), Vec::<(String, String)>::new());
}

/// Files reporting 0 bytes (`/proc/self/pagemap` holds gigabytes) and
/// devices (`/dev/zero` never ends) bypassed `--max-file-size`; FIFOs
/// blocked the read. Whatever path reaches them — a link in the tree, a
/// `--var-file`, `--parameters`, `--baseline` — the read is bounded by bytes
/// actually read and refuses anything but a regular file.
#[test]
fn special_files_are_refused_and_reads_are_bounded_by_bytes_read() {
    let (_scratch, repo) = repository();
    let sub = repo.join("sub");
    fs::create_dir(&sub).expect("mkdir");
    fs::write(sub.join("main.tf"), FORCED_TUNNEL.replace("\"hub\"", "\"spoke\"")).expect("write");
    symlink("/proc/self/pagemap", sub.join("pagemap.tf")).expect("symlink");
    symlink("/dev/zero", sub.join("zero.tf")).expect("symlink");
    let fifo = repo.join("pipe.tfvars");
    let have_fifo = mkfifo(&fifo) && mkfifo(&sub.join("fifo.tf"));

    // In the tree: skipped, never opened, and the rest still checked.
    let (doc, run) = check_json(&repo, &[], 10);
    assert_eq!(run.code, Some(1), "{doc:#}");
    assert_eq!(route_table_names(&doc).len(), 2, "{doc:#}");
    assert!(skipped_file(&doc, "sub/zero.tf").is_some(), "{doc:#}");
    assert!(skipped_file(&doc, "sub/pagemap.tf").is_some(), "{doc:#}");
    if have_fifo {
        assert!(skipped_file(&doc, "sub/fifo.tf").is_some_and(|r| r.contains("FIFO")), "{doc:#}");
    }

    // Named on the command line: refused with a clear message, bounded in time.
    let mut named = vec![
        (vec!["--var-file", "/proc/self/pagemap"], "--max-file-size"),
        (vec!["--var-file", "/dev/zero"], "device"),
        (vec!["--parameters", "/dev/zero"], "device"),
        (vec!["--var-file", "/dev/stdin"], "not a regular file"),
    ];
    if have_fifo {
        named.push((vec!["--var-file", fifo.to_str().expect("utf-8")], "FIFO"));
    }
    for (extra, expected) in named {
        let (doc, run) = check_json(&sub, &extra, 10);
        assert_eq!(run.code, Some(2), "{extra:?}: {doc:#}");
        let messages: Vec<&str> = doc["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["message"].as_str())
            .collect();
        assert!(messages.iter().any(|m| m.contains(expected)), "{extra:?}: {messages:?}");
        assert_eq!(route_table_names(&doc).len(), 1, "the rest is still checked: {doc:#}");
    }
    if have_fifo {
        let run = kmsguard(&["check", sub.to_str().expect("utf-8"), "--baseline", fifo.to_str().expect("utf-8")]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
    }
}

/// `.terraform/modules/modules.json` is written by the pull request too. Its
/// entries are only followed inside the repository, the files in the
/// directories they name go through the same checks as any file, and the
/// manifest itself is read bounded.
#[test]
fn modules_json_cannot_lead_out_of_the_repository_or_to_special_files() {
    let (scratch, repo) = repository();
    let outside = scratch.path().join("elsewhere");
    fs::create_dir(&outside).expect("mkdir");
    fs::write(outside.join("main.tf"), FORCED_TUNNEL.replace("\"hub\"", "\"stolen\"")).expect("write");
    let modules = repo.join(".terraform/modules");
    for name in ["zero", "stdin", "fifo", "pagemap"] {
        fs::create_dir_all(modules.join(name)).expect("mkdir");
    }
    symlink("/dev/zero", modules.join("zero/main.tf")).expect("symlink");
    symlink("/dev/stdin", modules.join("stdin/main.tf")).expect("symlink");
    symlink("/proc/self/pagemap", modules.join("pagemap/main.tf")).expect("symlink");
    let have_fifo = mkfifo(&modules.join("fifo/main.tf"));
    let entry = |key: &str, dir: &str| format!(r#"{{"Key":"{key}","Source":"registry.terraform.io/x/{key}/azurerm","Dir":"{dir}"}}"#);
    let manifest = format!(
        r#"{{"Modules":[{{"Key":"","Source":"","Dir":"."}},{},{},{},{},{},{}]}}"#,
        entry("zero", ".terraform/modules/zero"),
        entry("stdin", ".terraform/modules/stdin"),
        entry("fifo", ".terraform/modules/fifo"),
        entry("pagemap", ".terraform/modules/pagemap"),
        entry("dev", "/dev"),
        entry("stolen", outside.to_str().expect("utf-8")),
    );
    fs::write(modules.join("modules.json"), manifest).expect("write");
    let mut calls = String::from(FORCED_TUNNEL);
    for key in ["zero", "stdin", "fifo", "pagemap", "dev", "stolen"] {
        calls.push_str(&format!("module \"{key}\" {{\n  source = \"x/{key}/azurerm\"\n}}\n"));
    }
    fs::write(repo.join("main.tf"), calls).expect("write");

    let (doc, run) = check_json(&repo, &[], 10);
    assert_eq!(run.code, Some(1), "{doc:#}");
    assert_eq!(
        route_table_names(&doc),
        ["azurerm_route_table.hub"],
        "nothing from outside is checked: {doc:#}"
    );
    for name in ["zero/main.tf", "stdin/main.tf", "pagemap/main.tf"] {
        assert!(skipped_file(&doc, name).is_some_and(|r| r.contains("outside")), "{name}: {doc:#}");
    }
    if have_fifo {
        assert!(skipped_file(&doc, "fifo/main.tf").is_some_and(|r| r.contains("FIFO")), "{doc:#}");
    }
    for name in ["dev", "elsewhere"] {
        assert!(
            skipped_file(&doc, name).is_some_and(|r| r.contains("modules.json")),
            "{name}: {doc:#}"
        );
    }

    // The manifest itself a link to a device, or a FIFO.
    fs::remove_file(modules.join("modules.json")).expect("rm");
    symlink("/dev/zero", modules.join("modules.json")).expect("symlink");
    let (doc, run) = check_json(&repo, &[], 10);
    assert_eq!(run.code, Some(1), "{doc:#}");
    assert!(skipped_file(&doc, "modules.json").is_some(), "{doc:#}");
    if have_fifo {
        fs::remove_file(modules.join("modules.json")).expect("rm");
        assert!(mkfifo(&modules.join("modules.json")));
        let (doc, run) = check_json(&repo, &[], 10);
        assert_eq!(run.code, Some(1), "{doc:#}");
        assert!(skipped_file(&doc, "modules.json").is_some_and(|r| r.contains("FIFO")), "{doc:#}");
    }
}

/// `--output main.tf` (or `--report FORMAT=main.tf`, `--write-baseline
/// main.tf`) destroyed the code under review. Any output that resolves to a
/// file the run read is refused before anything is written.
#[test]
fn a_report_is_never_written_over_an_input() {
    let (_scratch, repo) = repository();
    fs::write(repo.join("prod.tfvars"), "x = 1\n").expect("write");
    symlink("main.tf", repo.join("innocent.json")).expect("symlink");
    let attempts: &[&[&str]] = &[
        &["--output", "main.tf"],
        &["--output", "./main.tf"],
        &["--report", "json=main.tf"],
        &["--report", "sarif=ok.sarif", "--report", "markdown=../repo/main.tf"],
        &["--output", "innocent.json"],
        &["--write-baseline", "main.tf", "--force"],
        &["--var-file", "prod.tfvars", "--output", "prod.tfvars"],
        &["--output", "same.txt", "--report", "sarif=same.txt"],
    ];
    for extra in attempts {
        let mut args = vec!["check", "."];
        args.extend_from_slice(extra);
        let run = kmsguard_in(&repo, &args, Duration::from_secs(20));
        assert_eq!(run.code, Some(2), "{extra:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("input") || run.stderr.contains("two outputs"),
            "{extra:?}: {}",
            run.stderr
        );
        assert_eq!(fs::read_to_string(repo.join("main.tf")).expect("read"), FORCED_TUNNEL, "{extra:?}");
        assert_eq!(fs::read_to_string(repo.join("prod.tfvars")).expect("read"), "x = 1\n", "{extra:?}");
        assert!(!repo.join("ok.sarif").exists(), "{extra:?}: nothing is written");
    }
}

/// Reports were written one after another, in place: a bad path after the
/// first left some written, and a failure mid-write a truncated file. Now
/// either every output is written or none is, the run exits 2 naming the
/// one that failed, and no temporary file is left behind.
#[test]
fn reports_are_written_all_or_none() {
    let (_scratch, repo) = repository();
    let out = repo.join("out");
    fs::create_dir(&out).expect("mkdir");
    fs::write(out.join("old.sarif"), "previous run\n").expect("write");
    let failing: &[&[&str]] = &[
        &[
            "--report",
            "json=out/a.json",
            "--report",
            "sarif=out/old.sarif",
            "--report",
            "junit=missing/dir/x.xml",
        ],
        &["--report", "json=out/a.json", "--report", "sarif=out/old.sarif", "--output", "out"],
        &["--report", "sarif=out/old.sarif", "--write-baseline", "missing/b.json"],
    ];
    for extra in failing {
        let mut args = vec!["check", "main.tf"];
        args.extend_from_slice(extra);
        let run = kmsguard_in(&repo, &args, Duration::from_secs(20));
        assert_eq!(run.code, Some(2), "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains("cannot write"), "{extra:?}: {}", run.stderr);
        let left: Vec<String> = fs::read_dir(&out)
            .expect("ls")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        assert_eq!(left, ["old.sarif"], "{extra:?}: nothing written, no temporary file left");
        assert_eq!(fs::read_to_string(out.join("old.sarif")).expect("read"), "previous run\n");
    }
    // And all of them when every path is good.
    let run = kmsguard_in(
        &repo,
        &[
            "check",
            "main.tf",
            "--report",
            "json=out/a.json",
            "--report",
            "sarif=out/old.sarif",
            "--output",
            "out/h.txt",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let mut left: Vec<String> = fs::read_dir(&out)
        .expect("ls")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    left.sort();
    assert_eq!(left, ["a.json", "h.txt", "old.sarif"]);
    let sarif: Value = serde_json::from_str(&fs::read_to_string(out.join("old.sarif")).expect("read")).expect("SARIF");
    assert_eq!(sarif["version"], "2.1.0");
}

/// A report path planted in the tree as a link (`kmsguard.sarif ->
/// ~/.bashrc`) is replaced, never written through.
#[test]
fn a_report_path_that_is_a_link_is_replaced_not_written_through() {
    let (scratch, repo) = repository();
    let victim = scratch.path().join("victim.sh");
    fs::write(&victim, "echo untouched\n").expect("write");
    symlink(&victim, repo.join("kmsguard.sarif")).expect("symlink");
    let run = kmsguard_in(&repo, &["check", ".", "--report", "sarif=kmsguard.sarif"], Duration::from_secs(20));
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(fs::read_to_string(&victim).expect("read"), "echo untouched\n");
    let meta = fs::symlink_metadata(repo.join("kmsguard.sarif")).expect("stat");
    assert!(meta.is_file(), "the link was replaced by the report");
}

/// `--write-baseline` silently replaced an existing file.
#[test]
fn write_baseline_refuses_an_existing_file_unless_forced() {
    let (_scratch, repo) = repository();
    fs::write(repo.join("baseline.json"), "{\"fingerprints\":[\"keep\"]}\n").expect("write");
    let run = kmsguard_in(&repo, &["check", ".", "--write-baseline", "baseline.json"], Duration::from_secs(20));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "refused before any report: {}", run.stdout);
    assert_eq!(
        fs::read_to_string(repo.join("baseline.json")).expect("read"),
        "{\"fingerprints\":[\"keep\"]}\n"
    );
    // A dangling link counts as existing: it would be written through.
    symlink("nowhere/b.json", repo.join("dangling.json")).expect("symlink");
    let run = kmsguard_in(&repo, &["check", ".", "--write-baseline", "dangling.json"], Duration::from_secs(20));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert!(!repo.join("nowhere").exists());
    fs::remove_file(repo.join("dangling.json")).expect("rm");

    let run = kmsguard_in(
        &repo,
        &[
            "check",
            ".",
            "--baseline",
            "baseline.json",
            "--write-baseline",
            "baseline.json",
            "--force",
        ],
        Duration::from_secs(20),
    );
    assert_eq!(run.code, Some(1), "updating the baseline read is allowed: {}", run.stderr);
    let written: Value = serde_json::from_str(&fs::read_to_string(repo.join("baseline.json")).expect("read")).expect("JSON");
    assert_eq!(written["fingerprints"].as_array().map(Vec::len), Some(1), "{written:#}");
}

/// `init` wrote through a dangling symbolic link, creating a file wherever
/// it pointed.
#[test]
fn init_never_writes_through_a_link() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let dir = scratch.path().join("repo");
    fs::create_dir_all(scratch.path().join("target")).expect("mkdir");
    fs::create_dir(&dir).expect("mkdir");
    let target = scratch.path().join("target/planted.hcl");
    symlink(&target, dir.join(".kmsguard.hcl")).expect("symlink");
    let run = kmsguard(&["init", dir.to_str().expect("utf-8")]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert!(!target.exists(), "nothing was written through the link");

    let run = kmsguard(&["init", dir.to_str().expect("utf-8"), "--force"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(!target.exists(), "nothing was written through the link");
    let meta = fs::symlink_metadata(dir.join(".kmsguard.hcl")).expect("stat");
    assert!(meta.is_file(), "the link was replaced by the starter config");

    let run = kmsguard(&["init", dir.to_str().expect("utf-8")]);
    assert_eq!(run.code, Some(2), "an existing config is kept: {}", run.stderr);
}
