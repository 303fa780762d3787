//! Headless commands for scripts and CI: check, get, set, drain, restore, shift, bench.

pub mod args;
pub mod bench;
pub mod bench_drain;
pub mod bench_fleet;
#[cfg(feature = "fake-apiserver")]
pub mod bench_kube;
pub mod bench_parse;
pub mod bench_proxies;
pub mod bench_push;
pub mod bench_shift;
pub mod bench_terminal;
pub mod bench_timeline;
pub mod changes;
pub mod check;
pub mod drain;
pub mod follow;
pub mod get;
pub mod logs;
pub mod planes;
pub mod proxies;
pub mod replay;
pub mod set;
pub mod settings;
pub mod shift;
pub mod shift_io;

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

/// The cluster a headless `command` works on, when no `--manifests` were given.
pub async fn cluster(
    console: &args::ConsoleArgs,
    command: &str,
) -> Result<crate::io::kube::client::Connected, String> {
    let target = crate::io::kube::client::Target {
        kubeconfig: console.kubeconfig.clone(),
        context: console.context(),
    };
    if !crate::io::kube::client::configured(&target) {
        return Err(format!(
            "meshdeck {command} needs --manifests PATH, or a cluster (--kubeconfig, $KUBECONFIG, ~/.kube/config)"
        ));
    }
    crate::io::kube::client::connect(&target)
        .await
        .map_err(|e| format!("meshdeck: {e:#}"))
}

/// The registry a headless `command` works on: `--manifests`, else the cluster.
pub async fn registry(console: &args::ConsoleArgs, command: &str) -> Result<Store, String> {
    if !console.manifests.is_empty() {
        return Ok(get::load_files(&console.manifests));
    }
    let c = cluster(console, command).await?;
    let ns = console.scope.namespace.clone();
    crate::io::kube::list::store(&c.client, ns.as_deref())
        .await
        .map_err(|e| {
            format!(
                "meshdeck: the API server {} (context {}): {}",
                c.server,
                c.context,
                crate::io::kube::error::describe(e.as_ref())
            )
        })
}
