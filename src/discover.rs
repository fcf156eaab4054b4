//! Finds the files to check under the paths given on the command line.

use std::path::{Path, PathBuf};

use crate::ingest::FileError;

/// What kind of input a file is, judged by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A `.tf` file.
    Terraform,
    /// A `.tf.json` file (Terraform's JSON syntax).
    TerraformJson,
    /// `terraform.tfvars` or `*.auto.tfvars`, loaded automatically for its directory.
    AutoTfVars,
    /// `terraform.tfvars.json` or `*.auto.tfvars.json`.
    AutoTfVarsJson,
    /// Any other `.json`: an ARM template or parameters file if its `$schema` says so.
    Json,
    /// A `.bicep` file.
    Bicep,
    /// A `.bicepparam` file.
    BicepParam,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    pub path: PathBuf,
    pub kind: Kind,
}

/// Directories never descended into: tool state and dependencies.
const SKIPPED_DIRS: &[&str] = &[".git", ".terraform", "node_modules"];

pub fn classify(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_str()?;
    if name.ends_with(".tf") {
        Some(Kind::Terraform)
    } else if name.ends_with(".tf.json") {
        Some(Kind::TerraformJson)
    } else if name == "terraform.tfvars" || name.ends_with(".auto.tfvars") {
        Some(Kind::AutoTfVars)
    } else if name == "terraform.tfvars.json" || name.ends_with(".auto.tfvars.json") {
        Some(Kind::AutoTfVarsJson)
    } else if name.ends_with(".json") {
        Some(Kind::Json)
    } else if name.ends_with(".bicep") {
        Some(Kind::Bicep)
    } else if name.ends_with(".bicepparam") {
        Some(Kind::BicepParam)
    } else {
        None
    }
}

/// Walks `paths` (files or directories), following symbolic links but not
/// their loops, skipping hidden directories, `.terraform` and `node_modules`.
/// The result is sorted so every run visits files in the same order.
pub fn discover(paths: &[PathBuf]) -> (Vec<Found>, Vec<FileError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if std::fs::metadata(root).is_err() && std::fs::symlink_metadata(root).is_err() {
            errors.push(FileError::path(root, "no such file or directory".into()));
            continue;
        }
        if root.is_file() {
            if let Some(kind) = classify(root) {
                found.push(Found { path: root.clone(), kind });
            }
            // A file is checked in its module's context: its siblings are read too
            // (a variable declared next door, a route table the file's routes join).
            let dir = root.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if let Ok(entries) = std::fs::read_dir(dir) {
                let mut siblings: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
                siblings.sort();
                for path in siblings {
                    let path = if root.parent().is_some_and(|p| p.as_os_str().is_empty()) {
                        path.strip_prefix("./").map(Path::to_path_buf).unwrap_or(path)
                    } else {
                        path
                    };
                    if let Some(kind) = classify(&path) {
                        found.push(Found { path, kind });
                    }
                }
            }
            continue;
        }
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_type().is_dir() || !is_skipped_dir(e.file_name().to_str().unwrap_or("")));
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    if let Some(kind) = classify(e.path()) {
                        found.push(Found {
                            path: e.path().to_path_buf(),
                            kind,
                        });
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| root.clone());
                    let message = if let Some(ancestor) = e.loop_ancestor() {
                        format!("symbolic link loop back to {}; not followed", crate::source::display_path(ancestor))
                    } else if let Some(io) = e.io_error() {
                        format!("cannot read: {io}")
                    } else {
                        format!("cannot read: {e}")
                    };
                    // A broken link to something that is not an input is no error.
                    if e.io_error().is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound) && classify(&path).is_none() {
                        continue;
                    }
                    errors.push(FileError::path(&path, message));
                }
            }
        }
    }
    // Modules installed by `terraform init` live under .terraform, which the
    // walk skips; the ones a root module's modules.json lists are inputs too.
    let mut installed = Vec::new();
    let mut roots: Vec<PathBuf> = found
        .iter()
        .filter(|f| f.kind == Kind::Terraform)
        .filter_map(|f| f.path.parent().map(Path::to_path_buf))
        .collect();
    roots.sort();
    roots.dedup();
    for root in roots {
        for (_, dir) in installed_modules(&root) {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| classify(p) == Some(Kind::Terraform))
                .collect();
            files.sort();
            installed.extend(files.into_iter().map(|path| Found {
                path,
                kind: Kind::Terraform,
            }));
        }
    }
    found.extend(installed);
    found.sort();
    found.dedup();
    (found, errors)
}

/// The modules `terraform init` installed for the root module in `root`:
/// module key (`hub`, `hub.spokes`) → directory, from `.terraform/modules/modules.json`.
pub fn installed_modules(root: &Path) -> Vec<(String, PathBuf)> {
    let manifest = root.join(".terraform").join("modules").join("modules.json");
    let Ok(text) = read_text(&manifest, 16 * 1024 * 1024) else {
        return Vec::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let Some(modules) = json.get("Modules").and_then(|m| m.as_array()) else {
        return Vec::new();
    };
    modules
        .iter()
        .filter_map(|m| {
            let key = m.get("Key")?.as_str()?;
            let dir = m.get("Dir")?.as_str()?;
            (!key.is_empty()).then(|| (key.to_string(), crate::source::normalise(&root.join(dir))))
        })
        .collect()
}

fn is_skipped_dir(name: &str) -> bool {
    SKIPPED_DIRS.contains(&name) || name.starts_with('.')
}

/// Reads a file as UTF-8 text within `max_bytes`, or says clearly why not.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > max_bytes {
        return Err(format!(
            "file is {} bytes, over the {} byte limit; raise it with --max-file-size",
            meta.len(),
            max_bytes
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if let Some(pos) = bytes.iter().position(|b| *b == 0) {
        let line = bytes.get(..pos).map(|b| b.iter().filter(|c| **c == b'\n').count()).unwrap_or(0) + 1;
        return Err(format!("binary file (NUL byte on line {line}); not checked"));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = e.as_bytes().get(..valid).unwrap_or_default();
        let line = prefix.iter().filter(|c| **c == b'\n').count() + 1;
        let col = prefix.iter().rev().take_while(|c| **c != b'\n').count() + 1;
        format!("file is not valid UTF-8 (line {line}, column {col}); save it as UTF-8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_terraform_inputs_by_name() {
        assert_eq!(classify(Path::new("a/main.tf")), Some(Kind::Terraform));
        assert_eq!(classify(Path::new("terraform.tfvars")), Some(Kind::AutoTfVars));
        assert_eq!(classify(Path::new("x.auto.tfvars.json")), Some(Kind::AutoTfVarsJson));
        assert_eq!(classify(Path::new("prod.tfvars")), None);
        assert_eq!(classify(Path::new("azuredeploy.json")), Some(Kind::Json));
        assert_eq!(classify(Path::new("main.bicep")), Some(Kind::Bicep));
        assert_eq!(classify(Path::new("main.tf.bak")), None);
    }
}
