//! Writing what a run produces: reports, the baseline and the starter
//! config to files (all or none, never over an input), text to stdout.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use kmsguard::report;

/// A file the run writes: a report, the baseline, the starter config.
pub(super) struct Output {
    pub(super) what: &'static str,
    pub(super) path: PathBuf,
    pub(super) text: String,
}

/// The file `path` names once links are resolved, whether it exists or not.
pub(super) fn resolved(path: &std::path::Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    match (std::fs::canonicalize(parent), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => kmsguard::source::normalise(path),
    }
}

pub(super) fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    resolved(a) == resolved(b)
}

/// Why writing to `path` would overwrite one of `inputs` (by resolved
/// path), if it would.
pub(super) fn onto_input(path: &std::path::Path, inputs: &std::collections::HashMap<PathBuf, PathBuf>, max_bytes: u64) -> Option<String> {
    let input = inputs.get(&resolved(path))?;
    if is_kmsguard_output(path, max_bytes) {
        return None;
    }
    let what = if input.as_path() == path {
        String::new()
    } else {
        format!(" (as {})", input.display())
    };
    Some(format!(
        "refusing to write to {}: it is an input of this check{what}; choose another file",
        path.display()
    ))
}

/// Whether `path` holds a report or a baseline kmsguard wrote. A checked
/// tree holding one has it read as JSON (and skipped, being no template), yet
/// replacing it is how a run is repeated.
fn is_kmsguard_output(path: &std::path::Path, max_bytes: u64) -> bool {
    use kmsguard::discover::{classify, Kind};
    if !matches!(classify(path), None | Some(Kind::Json)) {
        return false;
    }
    let Ok(text) = kmsguard::discover::read_text(path, max_bytes) else {
        return false;
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    // An ARM template or parameters file is code, whatever else it holds.
    let arm = doc
        .get("$schema")
        .and_then(|s| s.as_str())
        .is_some_and(|s| s.to_ascii_lowercase().contains("deployment"));
    let is_kmsguard = |v: Option<&serde_json::Value>| v.is_some_and(|v| v == "kmsguard");
    !arm && (is_kmsguard(doc.pointer("/tool/name"))
        || is_kmsguard(doc.get("tool"))
        || is_kmsguard(doc.get("runs").and_then(|r| r.get(0)).and_then(|r| r.pointer("/tool/driver/name"))))
}

/// Writes every output or none: each goes to a temporary file beside its
/// target, and only when all are written are they renamed into place. A
/// full disk or a bad path therefore never leaves a truncated report, and a
/// link at a target is replaced, never written through.
pub(super) fn write_all(outputs: &[Output]) -> Result<(), String> {
    let mut temps: Vec<PathBuf> = Vec::new();
    let cleanup = |temps: &[PathBuf]| {
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    // A directory in the way would only fail at the rename, after others are in place.
    if let Some(o) = outputs
        .iter()
        .find(|o| std::fs::symlink_metadata(&o.path).is_ok_and(|m| m.is_dir()))
    {
        return Err(format!(
            "cannot write the {} to {}: it is a directory; no report was written",
            o.what,
            o.path.display()
        ));
    }
    for (n, o) in outputs.iter().enumerate() {
        match write_temp(&o.path, n, &o.text) {
            Ok(t) => temps.push(t),
            Err(e) => {
                cleanup(&temps);
                return Err(format!(
                    "cannot write the {} to {}: {e}; no report was written",
                    o.what,
                    o.path.display()
                ));
            }
        }
    }
    for (i, (o, t)) in outputs.iter().zip(&temps).enumerate() {
        if let Err(e) = std::fs::rename(t, &o.path) {
            cleanup(temps.get(i..).unwrap_or_default());
            let done: Vec<String> = outputs.iter().take(i).map(|o| o.path.display().to_string()).collect();
            let done = if done.is_empty() {
                "no report was written".to_string()
            } else {
                format!("written before the failure: {}", done.join(", "))
            };
            return Err(format!("cannot write the {} to {}: {e}; {done}", o.what, o.path.display()));
        }
    }
    Ok(())
}

/// A new temporary file beside `target` holding `text`, flushed to disk.
fn write_temp(target: &std::path::Path, n: usize, text: &str) -> std::io::Result<PathBuf> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let pid = std::process::id();
    let mut attempt = 0;
    loop {
        let temp = dir.join(format!(".kmsguard-tmp-{pid}-{n}-{attempt}"));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(mut file) => {
                let written = file.write_all(text.as_bytes()).and_then(|_| file.sync_all());
                return match written {
                    Ok(()) => Ok(temp),
                    Err(e) => {
                        let _ = std::fs::remove_file(&temp);
                        Err(e)
                    }
                };
            }
            // A leftover of a killed run with the same pid: take the next name.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Creates `path` with `text`; refuses if anything is there, a dangling
/// symbolic link included (it would be written through).
pub(super) fn create_new(path: &std::path::Path, text: &str) -> Result<(), String> {
    let mut file = match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(format!(
                "{} exists already (or is a symbolic link); not overwritten (pass --force to replace it)",
                path.display()
            ))
        }
        Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
    };
    file.write_all(text.as_bytes()).map_err(|e| {
        let _ = std::fs::remove_file(path);
        format!("cannot write {}: {e}", path.display())
    })
}

pub(super) fn print_out(s: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|_| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`kmsguard check | head`) is not worth a panic.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(2),
    }
}

pub(super) fn fail(msg: &str) -> ExitCode {
    // Messages quote config values and paths from the checked tree; stderr
    // lands in the same CI log as stdout.
    eprintln!("error: {}", report::escape::log_text(msg));
    ExitCode::from(2)
}
