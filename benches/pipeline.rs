//! Time per phase of `kmsguard check` on a generated landing zone, with
//! throughput in files/s and bytes/s.
//!
//!     cargo bench --bench pipeline                      # 1,000 spokes
//!     KMSGUARD_BENCH_SPOKES=10000 cargo bench --bench pipeline
//!
//! The tree comes from `bench/generate.py` (Terraform only, like the
//! comparison with checkov), written once into a temporary directory. Each
//! phase is measured on its own, on the output of the phase before:
//! discover → read → parse → lower → analyse (analysis and every rule) →
//! render (JSON and human); `check` is the whole run as the CLI does it, to
//! set against `parse_bare`, hcl-edit alone on the same files (`parse` adds
//! kmsguard's bracket pre-scan and the parse watchdog).
// Like tests, benchmarks may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use kmsguard::ingest::terraform::{self, HclFile, ModuleSet, TfModule, VarInputs};
use kmsguard::model::Model;
use kmsguard::policy::Policy;
use kmsguard::report::{self, Report};
use kmsguard::source::FileId;
use kmsguard::{CheckOptions, Outcome};
use rayon::prelude::*;

fn main() {
    divan::main();
}

struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
    files: Vec<PathBuf>,
    texts: Vec<Arc<str>>,
    bytes: usize,
}

static TREE: LazyLock<Tree> = LazyLock::new(|| {
    let spokes: usize = std::env::var("KMSGUARD_BENCH_SPOKES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path().join("lz");
    let generator = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/generate.py");
    let status = std::process::Command::new("python3")
        .arg(&generator)
        .arg(spokes.to_string())
        .arg(&root)
        .status()
        .expect("python3 runs bench/generate.py");
    assert!(status.success(), "bench/generate.py failed");
    let (found, errors, _) = kmsguard::discover::discover(std::slice::from_ref(&root));
    assert!(errors.is_empty(), "the generated tree reads cleanly");
    let files: Vec<PathBuf> = found.into_iter().map(|f| f.path).collect();
    let texts: Vec<Arc<str>> = files.iter().map(|p| Arc::from(std::fs::read_to_string(p).expect("read"))).collect();
    let bytes = texts.iter().map(|t| t.len()).sum();
    eprintln!("tree: {spokes} spokes, {} files, {:.1} MB", files.len(), bytes as f64 / 1e6);
    Tree {
        _dir: dir,
        root,
        files,
        texts,
        bytes,
    }
});

static POLICY: LazyLock<Policy> = LazyLock::new(|| Policy::embedded().expect("the embedded policy loads"));

fn counted<'a, 'b>(bencher: Bencher<'a, 'b>) -> Bencher<'a, 'b> {
    bencher
        .counter(ItemsCount::new(TREE.files.len()))
        .counter(BytesCount::new(TREE.bytes))
}

fn parse_all() -> Vec<HclFile> {
    TREE.texts
        .par_iter()
        .enumerate()
        .filter_map(|(i, t)| terraform::parse(FileId(i as u32), t.clone()).ok())
        .collect()
}

/// Every spoke is its own root module, so each file lowers on its own.
fn lower_all(parsed: Vec<HclFile>) -> Vec<Model> {
    let no_modules = |_: &Path| None;
    parsed
        .into_par_iter()
        .enumerate()
        .map(|(i, file)| {
            let module = TfModule {
                files: vec![file],
                ..TfModule::default()
            };
            let dir = TREE.files.get(i).and_then(|p| p.parent()).unwrap_or(Path::new("."));
            ModuleSet::empty(&no_modules).lower_root(dir, &module, &VarInputs::default(), None, i as u32 + 1)
        })
        .collect()
}

fn merge(models: Vec<Model>) -> Model {
    let mut model = Model::default();
    for m in models {
        model.route_tables.extend(m.route_tables);
        model.nsgs.extend(m.nsgs);
        model.subnets.extend(m.subnets);
    }
    model
}

fn run_check() -> Outcome {
    let opts = CheckOptions {
        paths: vec![TREE.root.clone()],
        ..CheckOptions::default()
    };
    kmsguard::check(&opts, &POLICY)
}

#[divan::bench(sample_count = 10)]
fn discover(bencher: Bencher) {
    counted(bencher).bench(|| kmsguard::discover::discover(std::slice::from_ref(&TREE.root)));
}

#[divan::bench(sample_count = 10)]
fn read(bencher: Bencher) {
    counted(bencher).bench(|| {
        TREE.files
            .par_iter()
            .map(|p| kmsguard::discover::read_text(p, u64::MAX).map(|t| t.len()).unwrap_or(0))
            .sum::<usize>()
    });
}

#[divan::bench(sample_count = 10)]
fn parse(bencher: Bencher) {
    counted(bencher).bench(parse_all);
}

/// hcl-edit alone, on the same files: what `check` is measured against.
#[divan::bench(sample_count = 10)]
fn parse_bare(bencher: Bencher) {
    counted(bencher).bench(|| TREE.texts.par_iter().filter_map(|t| hcl::edit::parser::parse_body(t).ok()).count());
}

#[divan::bench(sample_count = 10)]
fn lower(bencher: Bencher) {
    counted(bencher).with_inputs(parse_all).bench_values(lower_all);
}

#[divan::bench(sample_count = 10)]
fn analyse(bencher: Bencher) {
    // Links between resources are resolved once per model, so each sample
    // gets a fresh one.
    counted(bencher).with_inputs(|| merge(lower_all(parse_all()))).bench_refs(|model| {
        let ctx = kmsguard::rules::Context {
            model,
            policy: &POLICY,
            cloud: "public",
            cloud_forced: false,
            assume_bgp_default_route: false,
        };
        kmsguard::rules::check(&ctx)
    });
}

#[divan::bench(sample_count = 10)]
fn render(bencher: Bencher) {
    let outcome = run_check();
    let r = Report {
        sources: &outcome.sources,
        policy: &POLICY,
        findings: &outcome.findings,
        errors: &outcome.errors,
        skipped: &outcome.skipped,
        summary: outcome.summary.clone(),
        verbose: false,
    };
    counted(bencher).bench(|| (report::json::render(&r).len(), report::human::render(&r, false).len()));
}

#[divan::bench(sample_count = 10)]
fn check(bencher: Bencher) {
    counted(bencher).bench(run_check);
}
