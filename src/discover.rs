//! Finds the files to check under the paths given on the command line.

use std::path::{Path, PathBuf};

pub use kmsguard_core::read::{read_bounded, read_text};

use kmsguard_core::diagnostic::FileError;
use kmsguard_core::read::special_kind;

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

/// A path discovery did not follow or read, and why. Reported in the JSON
/// report and counted in every summary, so a pull request that swaps an input
/// for a link out of the repository is visible rather than silently checked
/// (or silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    /// The path as reached from the command-line arguments.
    pub path: PathBuf,
    pub reason: String,
}

/// The repository a run checks, as a canonical path: the nearest ancestor of
/// `path` holding `.git`, else `path` itself when it is a directory, else its
/// directory. Symbolic links are only followed to places inside it.
///
/// The search starts where `path` itself sits, without following it when it
/// is a link: a checked directory replaced by a link to `/` must not make `/`
/// the repository.
pub fn repository_root(path: &Path) -> PathBuf {
    let here = location(path);
    let is_real_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let start = if is_real_dir { Some(here.as_path()) } else { here.parent() };
    if let Some(start) = start {
        if let Some(repo) = crate::source::git_root_above(start) {
            return repo.to_path_buf();
        }
    }
    match start {
        Some(dir) => dir.to_path_buf(),
        None => here,
    }
}

/// `path` made absolute through its canonical directory, its last component
/// kept as it is (a link is not followed).
fn location(path: &Path) -> PathBuf {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| crate::source::normalise(p));
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            canonical(parent).join(name)
        }
        // `.`, `..`, `/`: nothing to keep unfollowed.
        _ => canonical(path),
    }
}

/// Where a symbolic link leads, if it stays inside `root`.
enum Link {
    /// Inside the repository, to a regular file.
    File,
    /// Inside the repository, to a directory (canonical path).
    Dir(PathBuf),
    /// Out of the repository: not followed, with the reason to report.
    Outside(String),
    /// Inside the repository, to a FIFO, a device or a socket: never opened.
    Special(String),
    /// Leads nowhere.
    Dangling(std::io::Error),
}

fn follow(link: &Path, root: &Path) -> Link {
    // The target is not named: it is outside the repository and none of the report's business.
    let outside = || {
        Link::Outside(format!(
            "symbolic link to a path outside the repository root {}; not followed",
            crate::source::display_path(root)
        ))
    };
    let target = match std::fs::canonicalize(link) {
        Ok(t) => t,
        Err(e) => {
            // A link out of the repository that leads nowhere (`/dev/stdin` when
            // stdin is a pipe) is still a link out of the repository.
            let lexical = std::fs::read_link(link)
                .ok()
                .and_then(|t| location(link).parent().map(|dir| crate::source::normalise(&dir.join(t))));
            return match lexical {
                Some(t) if !t.starts_with(root) => outside(),
                _ => Link::Dangling(e),
            };
        }
    };
    if !target.starts_with(root) {
        return outside();
    }
    match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => Link::File,
        Ok(m) if m.is_dir() => Link::Dir(target),
        Ok(m) => Link::Special(format!("symbolic link to {}; not read", special_kind(&m.file_type()))),
        Err(e) => Link::Dangling(e),
    }
}

/// What one walk collects.
#[derive(Default)]
struct Walk {
    found: Vec<Found>,
    errors: Vec<FileError>,
    skipped: Vec<Skipped>,
    /// Canonical directories already walked: a directory reached again through
    /// a link is not walked twice (links between siblings would otherwise
    /// multiply the walk without ever forming a loop).
    visited: std::collections::HashSet<PathBuf>,
}

impl Walk {
    fn skip(&mut self, path: &Path, reason: String) {
        self.skipped.push(Skipped {
            path: path.to_path_buf(),
            reason,
        });
    }

    /// A directory entry that is not a directory: a file, a link, or something special.
    /// Returns the directory to walk when it is a link to one inside `root`.
    fn entry(&mut self, path: &Path, file_type: std::fs::FileType, root: &Path) -> Option<PathBuf> {
        let kind = classify(path);
        if file_type.is_file() {
            if let Some(kind) = kind {
                self.found.push(Found {
                    path: path.to_path_buf(),
                    kind,
                });
            }
            return None;
        }
        if !file_type.is_symlink() {
            if kind.is_some() && !file_type.is_dir() {
                self.skip(path, format!("{}; not read", special_kind(&file_type)));
            }
            return None;
        }
        match follow(path, root) {
            Link::File => {
                if let Some(kind) = kind {
                    self.found.push(Found {
                        path: path.to_path_buf(),
                        kind,
                    });
                }
                None
            }
            Link::Dir(target) => {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if is_skipped_dir(name) {
                    return None;
                }
                // A link back to a directory it sits in would walk for ever.
                let parent = path.parent().map(location_of_dir).unwrap_or_default();
                if parent.starts_with(&target) {
                    let shown = path
                        .ancestors()
                        .skip(1)
                        .find(|a| std::fs::canonicalize(a).is_ok_and(|c| c == target))
                        .map(Path::to_path_buf)
                        .unwrap_or(target);
                    self.errors.push(FileError::path(
                        path,
                        format!("symbolic link loop back to {}; not followed", crate::source::display_path(&shown)),
                    ));
                    return None;
                }
                Some(path.to_path_buf())
            }
            // A link out of the repository is reported if it would have been
            // an input or walked (a directory); other files are never read anyway.
            Link::Outside(reason) => {
                if kind.is_some() || std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
                    self.skip(path, reason);
                }
                None
            }
            // A link to a special file only when it would have been an input.
            Link::Special(reason) => {
                if kind.is_some() {
                    self.skip(path, reason);
                }
                None
            }
            // A broken link to something that is not an input is no error.
            Link::Dangling(e) => {
                if kind.is_some() {
                    self.errors.push(FileError::path(path, format!("cannot read: {e}")));
                }
                None
            }
        }
    }

    /// Walks the directory `start` (inside `root`), then the directories inside
    /// `root` that links in it lead to, each canonical directory once.
    fn dir(&mut self, start: &Path, root: &Path) {
        let visited = std::cell::RefCell::new(std::mem::take(&mut self.visited));
        let mut pending = std::collections::VecDeque::from([(start.to_path_buf(), false)]);
        while let Some((dir, through_link)) = pending.pop_front() {
            let canonical = location_of_dir(&dir);
            if !visited.borrow_mut().insert(canonical.clone()) && through_link {
                let checked = canonical.strip_prefix(root).unwrap_or(&canonical);
                let checked = if checked.as_os_str().is_empty() { Path::new(".") } else { checked };
                self.skip(
                    &dir,
                    format!(
                        "symbolic link to {}, which is checked already; not followed twice",
                        crate::source::display_path(checked)
                    ),
                );
                continue;
            }
            let mut links = Vec::new();
            let walker = walkdir::WalkDir::new(&dir)
                .follow_links(false)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    if e.depth() == 0 || !e.file_type().is_dir() {
                        return true;
                    }
                    if is_skipped_dir(e.file_name().to_str().unwrap_or("")) {
                        return false;
                    }
                    // Below a followed link, a directory already walked is not walked again.
                    visited.borrow_mut().insert(location_of_dir(e.path())) || !through_link
                });
            for entry in walker {
                match entry {
                    // The start itself, a link when it was reached through one.
                    Ok(e) if e.depth() == 0 || e.file_type().is_dir() => {}
                    Ok(e) => links.extend(self.entry(e.path(), e.file_type(), root).map(|d| (d, true))),
                    Err(e) => {
                        let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| dir.clone());
                        let message = match e.io_error() {
                            Some(io) => format!("cannot read: {io}"),
                            None => format!("cannot read: {e}"),
                        };
                        self.errors.push(FileError::path(&path, message));
                    }
                }
            }
            pending.extend(links);
        }
        self.visited = visited.into_inner();
    }

    /// A file named on the command line, with the files beside it: a file is
    /// checked in its module's context (a variable declared next door, a route
    /// table the file's routes join).
    fn file(&mut self, file: &Path, root: &Path) {
        if let Some(kind) = classify(file) {
            self.found.push(Found {
                path: file.to_path_buf(),
                kind,
            });
        }
        let bare = file.parent().is_some_and(|p| p.as_os_str().is_empty());
        let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut siblings: Vec<(PathBuf, std::fs::FileType)> = entries
            .filter_map(|e| e.ok().and_then(|e| Some((e.path(), e.file_type().ok()?))))
            .collect();
        siblings.sort_by(|a, b| a.0.cmp(&b.0));
        for (path, file_type) in siblings {
            let path = if bare {
                path.strip_prefix("./").map(Path::to_path_buf).unwrap_or(path)
            } else {
                path
            };
            if classify(&path).is_none() || path == file {
                continue;
            }
            // Links to directories beside a named file are not walked: only files are siblings.
            let _ = self.entry(&path, file_type, root);
        }
    }
}

/// The canonical path of a directory, or the path as given if it cannot be resolved.
fn location_of_dir(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Why a named path is not read when it reaches out of its repository
/// through a directory link on the way down (`infra/shared/main.tf` where
/// `infra/shared` links outside): the file is not the repository's, as a
/// link met while walking would not be followed. The repository is found on
/// the path as written, and a link is never a repository root; links above
/// the repository (a workspace reached through a linked home) are the
/// user's business.
fn linked_out(arg: &Path) -> Option<String> {
    let cwd = std::env::current_dir().ok()?;
    let written = crate::source::normalise(&cwd.join(arg));
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    let root = written
        .ancestors()
        .skip(1)
        .find(|a| !is_link(a) && std::fs::symlink_metadata(a.join(".git")).is_ok())?;
    let canonical_root = std::fs::canonicalize(root).ok()?;
    written
        .ancestors()
        .skip(1)
        .take_while(|a| *a != root)
        .filter(|a| is_link(a))
        .find_map(|a| match follow(a, &canonical_root) {
            Link::Outside(reason) | Link::Special(reason) => Some(reason),
            Link::File | Link::Dir(_) | Link::Dangling(_) => None,
        })
}

/// Walks `paths` (files or directories), skipping hidden directories,
/// `.terraform` and `node_modules`, and following symbolic links only to
/// places inside the repository ([`repository_root`]); the links not followed
/// are returned as [`Skipped`], with the reason. The result is sorted so
/// every run visits files in the same order.
pub fn discover(paths: &[PathBuf]) -> (Vec<Found>, Vec<FileError>, Vec<Skipped>) {
    let mut walk = Walk::default();
    for arg in paths {
        let Ok(own) = std::fs::symlink_metadata(arg) else {
            walk.errors.push(FileError::path(arg, "no such file or directory".into()));
            continue;
        };
        let root = repository_root(arg);
        if let Some(reason) = linked_out(arg) {
            walk.skip(arg, reason);
            continue;
        }
        if own.file_type().is_symlink() {
            match follow(arg, &root) {
                Link::Outside(reason) | Link::Special(reason) => {
                    walk.skip(arg, reason);
                    continue;
                }
                Link::Dangling(e) => {
                    walk.errors.push(FileError::path(arg, format!("cannot read: {e}")));
                    continue;
                }
                Link::File | Link::Dir(_) => {}
            }
        }
        match std::fs::metadata(arg) {
            Ok(m) if m.is_file() => walk.file(arg, &root),
            Ok(m) if m.is_dir() => walk.dir(arg, &root),
            Ok(m) => walk.skip(arg, format!("{}; not read", special_kind(&m.file_type()))),
            Err(e) => walk.errors.push(FileError::path(arg, format!("cannot read: {e}"))),
        }
    }
    // Modules installed by `terraform init` live under .terraform, which the
    // walk skips; the ones a root module's modules.json lists are inputs too.
    let mut module_roots: Vec<PathBuf> = walk
        .found
        .iter()
        .filter(|f| f.kind == Kind::Terraform)
        .filter_map(|f| f.path.parent().map(Path::to_path_buf))
        .collect();
    module_roots.sort();
    module_roots.dedup();
    for module_root in module_roots {
        let repo = repository_root(&module_root);
        let (installed, refused) = read_installed_modules(&module_root, &repo);
        walk.skipped.extend(refused);
        for (_, dir) in installed {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<(PathBuf, std::fs::FileType)> = entries
                .filter_map(|e| e.ok().and_then(|e| Some((e.path(), e.file_type().ok()?))))
                .filter(|(p, _)| classify(p) == Some(Kind::Terraform))
                .collect();
            files.sort_by(|a, b| a.0.cmp(&b.0));
            for (path, file_type) in files {
                let _ = walk.entry(&path, file_type, &repo);
            }
        }
    }
    let Walk {
        mut found,
        errors,
        mut skipped,
        ..
    } = walk;
    found.sort();
    found.dedup();
    skipped.sort();
    skipped.dedup();
    (found, errors, skipped)
}

/// The Terraform files (`.tf`, `.tf.json`) of a module directory read as
/// context, under the same rules for links as the walk.
pub fn module_files(dir: &Path, repo: &Path) -> Vec<Found> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<(PathBuf, std::fs::FileType)> = entries
        .filter_map(|e| e.ok().and_then(|e| Some((e.path(), e.file_type().ok()?))))
        .filter(|(p, _)| matches!(classify(p), Some(Kind::Terraform | Kind::TerraformJson)))
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut walk = Walk::default();
    for (path, file_type) in files {
        let _ = walk.entry(&path, file_type, repo);
    }
    walk.found
}

/// A Bicep module file read as context, under the same rules for links as the walk.
pub fn module_file(path: &Path, repo: &Path) -> Vec<Found> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Vec::new();
    };
    let mut walk = Walk::default();
    let _ = walk.entry(path, meta.file_type(), repo);
    walk.found
}

/// The modules `terraform init` installed for the root module in `root`:
/// module key (`hub`, `hub.spokes`) → directory, from `.terraform/modules/modules.json`.
/// Only directories inside the repository count (a pull request writes
/// modules.json too).
pub fn installed_modules(root: &Path) -> Vec<(String, PathBuf)> {
    read_installed_modules(root, &repository_root(root)).0
}

/// The largest modules.json read; `terraform init` writes a few hundred bytes per module.
const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// [`installed_modules`], with the entries refused because they lead out of `repo`.
fn read_installed_modules(root: &Path, repo: &Path) -> (Vec<(String, PathBuf)>, Vec<Skipped>) {
    let manifest = root.join(".terraform").join("modules").join("modules.json");
    let mut refused = Vec::new();
    match std::fs::canonicalize(&manifest) {
        Ok(c) if c.starts_with(repo) => {}
        Ok(_) => {
            refused.push(Skipped {
                path: manifest,
                reason: format!(
                    "symbolic link to a path outside the repository root {}; not read",
                    crate::source::display_path(repo)
                ),
            });
            return (Vec::new(), refused);
        }
        Err(_) => return (Vec::new(), refused),
    }
    let text = match read_text(&manifest, MAX_MANIFEST_BYTES) {
        Ok(t) => t,
        Err(reason) => {
            refused.push(Skipped {
                path: manifest,
                reason: reason.to_string(),
            });
            return (Vec::new(), refused);
        }
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return (Vec::new(), refused);
    };
    let Some(modules) = json.get("Modules").and_then(|m| m.as_array()) else {
        return (Vec::new(), refused);
    };
    let mut installed = Vec::new();
    for m in modules {
        let (Some(key), Some(dir)) = (m.get("Key").and_then(|k| k.as_str()), m.get("Dir").and_then(|d| d.as_str())) else {
            continue;
        };
        if key.is_empty() {
            continue;
        }
        let path = crate::source::normalise(&root.join(dir));
        match std::fs::canonicalize(&path) {
            Ok(c) if c.starts_with(repo) && c.is_dir() => installed.push((key.to_string(), path)),
            Ok(c) if c.starts_with(repo) => refused.push(Skipped {
                path,
                reason: format!("modules.json lists module {key} here, which is not a directory; not read"),
            }),
            Ok(_) => refused.push(Skipped {
                path,
                reason: format!(
                    "modules.json lists module {key} outside the repository root {}; not read",
                    crate::source::display_path(repo)
                ),
            }),
            // Not installed (yet): the call is reported as unresolved where it is made.
            Err(_) => {}
        }
    }
    (installed, refused)
}

fn is_skipped_dir(name: &str) -> bool {
    SKIPPED_DIRS.contains(&name) || name.starts_with('.')
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

    #[test]
    fn the_repository_root_is_the_nearest_ancestor_holding_git() {
        let scratch = tempfile::tempdir().expect("tempdir");
        let top = std::fs::canonicalize(scratch.path()).expect("canonical");
        let repo = top.join("repo");
        std::fs::create_dir_all(repo.join(".git")).expect("mkdir");
        std::fs::create_dir_all(repo.join("infra/hub")).expect("mkdir");
        std::fs::write(repo.join("infra/hub/main.tf"), "").expect("write");
        assert_eq!(repository_root(&repo.join("infra/hub")), repo);
        assert_eq!(repository_root(&repo.join("infra/hub/main.tf")), repo);
        // Without `.git`: the directory checked, or the file's directory.
        let loose = top.join("loose");
        std::fs::create_dir_all(loose.join("sub")).expect("mkdir");
        std::fs::write(loose.join("sub/a.tf"), "").expect("write");
        assert_eq!(repository_root(&loose.join("sub")), loose.join("sub"));
        assert_eq!(repository_root(&loose.join("sub/a.tf")), loose.join("sub"));
        // A checked directory that is a link out is judged where the link sits.
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/", repo.join("infra/all")).expect("symlink");
            assert_eq!(repository_root(&repo.join("infra/all")), repo);
            std::os::unix::fs::symlink("/", loose.join("sub/all")).expect("symlink");
            assert_eq!(repository_root(&loose.join("sub/all")), loose.join("sub"));
        }
    }
}
