//! The files a check must read beyond the paths it was given: local
//! modules called from them, wherever they sit in the repository.
//!
//! `kmsguard check envs/prod` must judge `envs/prod` the way `check .`
//! does, and its module `../../modules/spoke` lies outside the named path.
//! A cheap scan of each file's module references (no parsing) finds the
//! directories and files to read as context: they are lowered through the
//! calls that reach them, never judged as roots of their own, and never read
//! from outside the repository that holds the caller.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};

use crate::discover::{self, Found, Kind, Skipped};
use crate::source::normalise;

/// The files the local module references in `found` reach, directly or
/// through other modules, that `found` does not hold already; with the
/// references refused because they lead out of the repository.
pub fn follow_module_sources(found: &[Found], max_bytes: u64) -> (Vec<Found>, Vec<Skipped>) {
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    let mut known: HashSet<PathBuf> = HashSet::new();
    for f in found {
        match f.kind {
            Kind::Terraform | Kind::TerraformJson => known.extend(f.path.parent().and_then(|d| canonical(dir_or_here(d)))),
            Kind::Bicep => known.extend(canonical(&f.path)),
            _ => {}
        }
    }
    let mut added = Vec::new();
    let mut skipped = Vec::new();
    let mut queue: VecDeque<Found> = found
        .iter()
        .filter(|f| matches!(f.kind, Kind::Terraform | Kind::Bicep))
        .cloned()
        .collect();
    while let Some(f) = queue.pop_front() {
        let Ok(text) = discover::read_text(&f.path, max_bytes) else {
            continue;
        };
        let base = dir_or_here(f.path.parent().unwrap_or(Path::new(".")));
        let references = match f.kind {
            Kind::Terraform => terraform_module_sources(&text),
            _ => bicep_module_paths(&text),
        };
        for reference in references {
            let target = normalise(&base.join(&reference));
            let Some(real) = canonical(&target) else { continue };
            if known.contains(&real) {
                continue;
            }
            let repo = discover::repository_root(&f.path);
            if !real.starts_with(&repo) {
                skipped.push(Skipped {
                    path: target,
                    reason: format!(
                        "module source {reference} in {} leads outside the repository; not read",
                        crate::source::display_path(&f.path)
                    ),
                });
                continue;
            }
            known.insert(real);
            let new = match f.kind {
                Kind::Terraform => discover::module_files(&target, &repo),
                _ => discover::module_file(&target, &repo),
            };
            for n in new {
                if n.kind == Kind::Terraform || n.kind == Kind::Bicep {
                    queue.push_back(n.clone());
                }
                added.push(n);
            }
        }
    }
    added.sort();
    added.dedup();
    skipped.sort();
    skipped.dedup();
    (added, skipped)
}

/// Who calls whom in a repository, from the same cheap scan of module
/// references: for a file named on the command line (as pre-commit names
/// the changed ones), the deployment units it belongs to.
#[derive(Debug, Default)]
pub struct Callers {
    /// Callee (a module directory, or a Bicep file; canonical) → the units
    /// that call it (a Terraform directory or a Bicep file, as discovered).
    by_callee: std::collections::HashMap<PathBuf, Vec<PathBuf>>,
}

impl Callers {
    /// Scans every Terraform and Bicep file under `repo`.
    pub fn scan(repo: &Path, max_bytes: u64) -> Self {
        let (found, _, _) = discover::discover(&[repo.to_path_buf()]);
        let mut by_callee: std::collections::HashMap<PathBuf, Vec<PathBuf>> = std::collections::HashMap::new();
        for f in found.iter().filter(|f| matches!(f.kind, Kind::Terraform | Kind::Bicep)) {
            let Ok(text) = discover::read_text(&f.path, max_bytes) else {
                continue;
            };
            let base = dir_or_here(f.path.parent().unwrap_or(Path::new(".")));
            let (references, unit) = match f.kind {
                Kind::Terraform => (terraform_module_sources(&text), base.to_path_buf()),
                _ => (bicep_module_paths(&text), f.path.clone()),
            };
            for reference in references {
                let Ok(callee) = std::fs::canonicalize(base.join(&reference)) else {
                    continue;
                };
                let unit_real = std::fs::canonicalize(&unit).unwrap_or_else(|_| unit.clone());
                if callee != unit_real {
                    by_callee.entry(callee).or_default().push(unit.clone());
                }
            }
        }
        for callers in by_callee.values_mut() {
            callers.sort();
            callers.dedup();
        }
        Callers { by_callee }
    }

    /// The outermost units that call `unit` (a module directory or a Bicep
    /// file), through any chain of modules; empty when nothing calls it. In
    /// a cycle with no caller outside it, its members are the outermost.
    pub fn roots_of(&self, unit: &Path) -> Vec<PathBuf> {
        let Ok(start) = std::fs::canonicalize(unit) else {
            return Vec::new();
        };
        let mut seen: HashSet<PathBuf> = HashSet::from([start.clone()]);
        let mut queue = VecDeque::from([start]);
        let mut roots = Vec::new();
        let mut callers = Vec::new();
        while let Some(callee) = queue.pop_front() {
            for caller in self.by_callee.get(&callee).into_iter().flatten() {
                let Ok(real) = std::fs::canonicalize(caller) else { continue };
                if !seen.insert(real.clone()) {
                    continue;
                }
                callers.push(caller.clone());
                match self.by_callee.get(&real) {
                    Some(up) if !up.is_empty() => queue.push_back(real),
                    _ => roots.push(caller.clone()),
                }
            }
        }
        if roots.is_empty() {
            // Only a cycle calls it: check every member.
            roots = callers;
        }
        roots.sort();
        roots
    }

    /// Whether anything in the repository calls `unit`.
    pub fn is_called(&self, unit: &Path) -> bool {
        std::fs::canonicalize(unit).is_ok_and(|u| self.by_callee.get(&u).is_some_and(|c| !c.is_empty()))
    }
}

/// What files named on the command line (as pre-commit names the changed
/// ones) add to a check.
#[derive(Debug, Default)]
pub struct NamedUnits {
    /// Units to check whole because a named file belongs to them: the
    /// outermost callers of a named module, the template a named
    /// `.bicepparam` file deploys.
    pub extra_paths: Vec<PathBuf>,
    /// Named modules (Terraform directories, Bicep files; normalised) that
    /// something in the repository calls: judged through their callers,
    /// never alone with their defaults.
    pub called: HashSet<PathBuf>,
    /// Files whose findings a named file affects, beyond the named files
    /// themselves: the template of a named `.bicepparam` file.
    pub affected: Vec<PathBuf>,
}

/// Finds the deployment units of the files named in `paths`. Only a named
/// `.tf` or `.bicep` file needs the repository scanned for callers; a
/// variable or parameters file belongs to the unit beside it or that it names.
pub fn named_units(paths: &[PathBuf], max_bytes: u64) -> NamedUnits {
    let mut out = NamedUnits::default();
    let named: Vec<&PathBuf> = paths.iter().filter(|p| p.is_file()).collect();
    let mut callers: std::collections::HashMap<PathBuf, Callers> = std::collections::HashMap::new();
    for file in named {
        let unit = match discover::classify(file) {
            Some(Kind::Terraform | Kind::TerraformJson) => dir_or_here(file.parent().unwrap_or(Path::new("."))).to_path_buf(),
            Some(Kind::Bicep) => file.clone(),
            Some(Kind::BicepParam) => {
                if let Some(template) = bicepparam_template(file, max_bytes).filter(|t| t.is_file()) {
                    let repo = discover::repository_root(file);
                    if std::fs::canonicalize(&template).is_ok_and(|t| t.starts_with(&repo)) {
                        out.affected.push(template.clone());
                        out.extra_paths.push(template);
                    }
                }
                continue;
            }
            _ => continue,
        };
        let repo = discover::repository_root(file);
        let index = callers.entry(repo.clone()).or_insert_with(|| Callers::scan(&repo, max_bytes));
        let roots = index.roots_of(&unit);
        if !roots.is_empty() {
            out.called.insert(normalise(&unit));
            out.extra_paths.extend(roots.iter().map(|r| relative_to_cwd(r)));
        }
    }
    out.extra_paths.sort();
    out.extra_paths.dedup();
    out
}

/// The template a `.bicepparam` file's `using '…'` names, resolved beside it.
pub fn bicepparam_template(path: &Path, max_bytes: u64) -> Option<PathBuf> {
    let text = discover::read_text(path, max_bytes).ok()?;
    let target = text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("using")?.trim_start();
        let value = rest.strip_prefix('\'')?;
        value.get(..value.find('\'')?).map(str::to_string)
    })?;
    let base = dir_or_here(path.parent().unwrap_or(Path::new(".")));
    Some(normalise(&base.join(target)))
}

/// When calling `target` from the end of `chain` (the calls followed so
/// far, outermost first) would close a cycle, the cycle as displayed paths
/// (`a → b → a` has three): a module calling its own directory or file has
/// two. Terraform directories and Bicep files are followed alike.
pub fn call_cycle(chain: &[PathBuf], target: &Path) -> Option<Vec<String>> {
    let at = chain.iter().position(|p| p == target)?;
    Some(
        chain
            .get(at..)
            .unwrap_or(&[])
            .iter()
            .map(PathBuf::as_path)
            .chain([target])
            .map(crate::source::display_path)
            .collect(),
    )
}

/// `path` (absolute) as seen from the working directory, so that units
/// found by scanning the repository are reported like the paths typed.
pub fn relative_to_cwd(path: &Path) -> PathBuf {
    let Some(cwd) = std::env::current_dir().ok().and_then(|d| std::fs::canonicalize(d).ok()) else {
        return path.to_path_buf();
    };
    let common = cwd.ancestors().find(|a| path.starts_with(a));
    match common {
        Some(common) => {
            let up = cwd.strip_prefix(common).map(|r| r.components().count()).unwrap_or(0);
            let mut out = PathBuf::new();
            for _ in 0..up {
                out.push("..");
            }
            out.push(path.strip_prefix(common).unwrap_or(path));
            if out.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                out
            }
        }
        None => path.to_path_buf(),
    }
}

fn dir_or_here(d: &Path) -> &Path {
    if d.as_os_str().is_empty() {
        Path::new(".")
    } else {
        d
    }
}

/// The local `source = "./…"` / `"../…"` values of a Terraform file. Any
/// `source` attribute counts (a provisioner's too): reading a directory
/// that no call uses costs a little time and changes no verdict.
pub fn terraform_module_sources(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("source")?.trim_start().strip_prefix('=')?;
            let value = rest.trim_start().strip_prefix('"')?;
            let value = value.get(..value.find('"')?)?;
            crate::ingest::terraform::modules::is_local(value).then(|| value.to_string())
        })
        .collect()
}

/// The local paths of a Bicep file's `module name 'path' = …` declarations
/// and of its imports (`import {…} from 'path'`, `import * as x from
/// 'path'`, whose `from` may close a list written over several lines): an
/// imported file is read as context, like a module.
pub fn bicep_module_paths(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let quoted = if let Some(rest) = line.strip_prefix("module") {
                if !rest.starts_with([' ', '\t']) {
                    return None;
                }
                rest.trim_start().split_once(char::is_whitespace)?.1.trim_start()
            } else if line.starts_with("import") || line.starts_with('}') {
                let at = line.find(" from ").or_else(|| line.find("}from "))?;
                line.get(at..)?
                    .trim_start_matches('}')
                    .trim_start()
                    .strip_prefix("from")?
                    .trim_start()
            } else {
                return None;
            };
            let value = quoted.strip_prefix('\'')?;
            let value = value.get(..value.find('\'')?)?;
            let lower = value.to_ascii_lowercase();
            let registry = ["br:", "br/", "ts:", "ts/"].iter().any(|p| lower.starts_with(p));
            (!registry && !value.is_empty()).then(|| value.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_sources_are_found_without_parsing() {
        let text = "module \"a\" {\n  source = \"../modules/a\"\n}\nmodule \"b\" {\n  source  =  \"./b\" # local\n  version = \"1\"\n}\nmodule \"c\" {\n  source = \"Azure/avm-res-network-routetable/azurerm\"\n}\n  sourced = \"./x\"\n";
        assert_eq!(terraform_module_sources(text), vec!["../modules/a", "./b"]);
    }

    #[test]
    fn bicep_local_modules_are_found_and_registry_ones_left() {
        let text = "module hub '../hub.bicep' = {\n}\nmodule rt 'br/public:avm/res/network/route-table:0.4.0' = {\n}\nmodule  x   'modules/x.bicep' = if (y) {\n}\nmodules: 1\n";
        assert_eq!(bicep_module_paths(text), vec!["../hub.bicep", "modules/x.bicep"]);
    }

    #[test]
    fn bicep_imports_are_found_on_one_line_or_after_a_list() {
        let text = "import {a, b as c} from './shared.bicep'\nimport * as ns from '../lib/ns.bicep'\nimport {\n  x\n} from 'multi.bicep'\nimport {r} from 'br/public:avm/utl/types:0.1.0'\nimport 'az@1.0.0'\nvar from = 'x.bicep'\n";
        assert_eq!(bicep_module_paths(text), vec!["./shared.bicep", "../lib/ns.bicep", "multi.bicep"]);
    }
}
