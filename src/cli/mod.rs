//! Headless commands for scripts and CI: check, get, set, bench.

pub mod args;
pub mod bench;
#[cfg(feature = "fake-apiserver")]
pub mod bench_kube;
pub mod bench_parse;
pub mod bench_push;
pub mod bench_terminal;
pub mod check;
pub mod get;
pub mod planes;
pub mod proxies;
pub mod set;
pub mod settings;

use crate::io::manifests::load::{into_store, load_all};
use crate::io::manifests::parse::LoadError;
use crate::model::store::Store;
use std::path::PathBuf;

/// Exit codes shared by every headless command.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

pub struct Loaded {
    pub store: Store,
    pub errors: Vec<LoadError>,
}

pub fn load(roots: &[PathBuf]) -> Loaded {
    let (files, mut errors) = load_all(roots);
    errors.extend(files.iter().flat_map(|f| f.errors.iter().cloned()));
    Loaded {
        store: into_store(files),
        errors,
    }
}
