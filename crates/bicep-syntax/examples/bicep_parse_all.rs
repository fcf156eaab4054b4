//! Parses every `.bicep` and `.bicepparam` file under the given paths and
//! reports failures as `path:line:col: message`.
//!
//! Usage: `cargo run --release --example bicep_parse_all -- DIR_OR_FILE...`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            eprintln!("{}: cannot read directory", path.display());
            return;
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            // Do not follow symlinked directories (avoids cycles).
            let is_link = child.symlink_metadata().map(|m| m.file_type().is_symlink()).unwrap_or(true);
            if child.is_dir() && is_link {
                continue;
            }
            collect(&child, out);
        }
    } else if matches!(path.extension().and_then(|e| e.to_str()), Some("bicep" | "bicepparam")) {
        out.push(path.to_path_buf());
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!("usage: bicep_parse_all PATH...");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for arg in &args {
        collect(Path::new(arg), &mut files);
    }
    let mut parsed = 0usize;
    let mut failed = 0usize;
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                println!("{}:0:0: cannot read: {e}", file.display());
                failed += 1;
                continue;
            }
        };
        let Ok(source) = String::from_utf8(bytes) else {
            println!("{}:0:0: not valid UTF-8", file.display());
            failed += 1;
            continue;
        };
        match kmsguard_bicep_syntax::parse(&source) {
            Ok(_) => parsed += 1,
            Err(e) => {
                let (line, col) = e.line_col(&source);
                println!("{}:{line}:{col}: {}", file.display(), e.message);
                failed += 1;
            }
        }
    }
    println!("{parsed} parsed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
