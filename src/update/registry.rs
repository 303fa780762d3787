//! Applying reloaded files to the store, one object at a time.

use crate::io::manifests::parse::ParsedFile;
use crate::state::dirty::Dirty;
use crate::state::{FileInfo, State};
use std::collections::BTreeSet;
use std::path::Path;

pub fn files_loaded(state: &mut State, files: Vec<ParsedFile>) {
    for f in files {
        let old: BTreeSet<_> = state
            .registry
            .files
            .get(&f.path)
            .map(|i| i.keys.iter().cloned().collect())
            .unwrap_or_default();
        let new: BTreeSet<_> = f.entries.iter().map(|e| e.object.key()).collect();
        for gone in old.difference(&new) {
            if state.timeline.files_read {
                super::timeline::delete(state, gone);
            }
            state.registry.store.remove(gone);
        }
        if !state.timeline.files_read {
            super::timeline::record_snapshot(state, f.entries.iter().map(|e| &e.object));
        }
        for e in f.entries {
            if state.timeline.files_read {
                super::timeline::upsert(state, &e.object);
            }
            state.registry.store.upsert(e);
        }
        state.registry.files.insert(
            f.path.clone(),
            FileInfo {
                keys: new.into_iter().collect(),
                revision: f.revision,
                errors: f.errors,
            },
        );
    }
    // What the first load holds is where the console starts, not what changed.
    state.timeline.files_read = true;
    refreshed(state);
}

pub fn file_removed(state: &mut State, path: &Path) {
    if let Some(info) = state.registry.files.remove(path) {
        for k in info.keys {
            super::timeline::delete(state, &k);
            state.registry.store.remove(&k);
        }
    }
    refreshed(state);
}

fn refreshed(state: &mut State) {
    state.refresh_findings();
    state.registry.dirty |= Dirty::ROWS;
    state.registry.dirty |= Dirty::PREVIEW;
}
