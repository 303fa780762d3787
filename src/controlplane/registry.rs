//! The control plane's own registry: manifest files loaded into a store and republished whole
//! on every change (connections translate per proxy from the latest one).

use crate::io::manifests::load::{into_store, load_all};
use crate::io::manifests::parse::LoadError;
use crate::model::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

pub fn load(roots: &[PathBuf]) -> (Store, Vec<LoadError>) {
    let (files, mut errors) = load_all(roots);
    errors.extend(files.iter().flat_map(|f| f.errors.iter().cloned()));
    (into_store(files), errors)
}

/// Loads `roots`, publishes the store, and republishes it whenever a file under them changes.
/// Returns the receiver and the watcher, which must be kept alive.
pub fn watch_files(
    roots: Vec<PathBuf>,
) -> anyhow::Result<(watch::Receiver<Arc<Store>>, notify::RecommendedWatcher)> {
    let (store, errors) = load(&roots);
    for e in &errors {
        tracing::warn!("{e}");
    }
    let (tx, rx) = watch::channel(Arc::new(store));
    let (msg_tx, mut msg_rx) = tokio::sync::mpsc::channel(64);
    let watcher = crate::io::manifests::watch::spawn(roots.clone(), msg_tx)?;
    tokio::spawn(async move {
        while msg_rx.recv().await.is_some() {
            // The watcher already merged a burst; take whatever else is queued with it.
            while msg_rx.try_recv().is_ok() {}
            let (store, errors) = load(&roots);
            for e in &errors {
                tracing::warn!("{e}");
            }
            if tx.send(Arc::new(store)).is_err() {
                return;
            }
        }
    });
    Ok((rx, watcher))
}
