//! Watching manifest paths: changed files are re-read here, in the background, and their whole
//! new content is sent to `update`. Bursts of events (editors write several times) are merged.

use super::load::{expand, is_manifest, load_file};
use crate::msg::Msg;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

const SETTLE: Duration = Duration::from_millis(25);

/// Starts watching; the returned watcher must be kept alive.
pub fn spawn(
    roots: Vec<PathBuf>,
    tx: mpsc::Sender<Msg>,
) -> notify::Result<notify::RecommendedWatcher> {
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            for p in ev.paths {
                let _ = raw_tx.send(p);
            }
        }
    })?;
    for root in &roots {
        watcher.watch(root, RecursiveMode::Recursive)?;
    }
    let known: BTreeSet<PathBuf> = expand(&roots).0.into_iter().collect();
    tokio::spawn(async move {
        let mut known = known;
        while let Some(first) = raw_rx.recv().await {
            let mut changed = BTreeSet::from([first]);
            tokio::time::sleep(SETTLE).await;
            while let Ok(p) = raw_rx.try_recv() {
                changed.insert(p);
            }
            let mut loaded = Vec::new();
            for p in changed {
                if !is_manifest(&p) && !known.contains(&p) {
                    continue;
                }
                if p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                if p.is_file() {
                    known.insert(p.clone());
                    loaded.push(load_file(&p));
                } else if known.remove(&p) && tx.send(Msg::FileRemoved(p)).await.is_err() {
                    return;
                }
            }
            if !loaded.is_empty() && tx.send(Msg::FilesLoaded(loaded)).await.is_err() {
                return;
            }
        }
    });
    Ok(watcher)
}
