//! Applying Kubernetes source events: a synced kind is swapped in whole; single events are
//! applied one object at a time. Rows and lint are refreshed on the next tick, not per event,
//! so thousands of events per second stay smooth.

use crate::io::kube::{ConnState, KubeEvent};
use crate::state::{KubeView, State};

pub fn on_event(state: &mut State, ev: KubeEvent) {
    let view = state.kube.get_or_insert_with(KubeView::default);
    match ev {
        KubeEvent::Discovered { context, versions } => {
            view.context = context;
            for (kind, version) in versions {
                match version {
                    Some(v) => {
                        view.versions.insert(kind, v);
                    }
                    None => {
                        view.states.insert(kind, ConnState::NotInstalled);
                    }
                }
            }
        }
        KubeEvent::Connection { kind, state: conn } => {
            view.states.insert(kind, conn);
        }
        KubeEvent::Synced { kind, entries } => {
            let keep: std::collections::HashSet<_> =
                entries.iter().map(|e| e.object.key()).collect();
            let gone: Vec<_> = state
                .store
                .keys(kind)
                .filter(|k| !keep.contains(*k))
                .cloned()
                .collect();
            for k in gone {
                state.store.remove(&k);
            }
            for e in entries {
                state.store.upsert(e);
            }
            state.stale_rows = true;
        }
        KubeEvent::Upsert(entry) => {
            state.store.upsert(*entry);
            state.stale_rows = true;
            confirm_pending(state);
        }
        KubeEvent::Delete(key) => {
            state.store.remove(&key);
            state.stale_rows = true;
        }
    }
}

/// Pending edits the watch has now delivered are done: say so.
fn confirm_pending(state: &mut State) {
    if state.pending.is_empty() {
        return;
    }
    let (seen, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.pending)
        .into_iter()
        .partition(|e| super::edit::is_visible(state, e));
    state.pending = waiting;
    if !seen.is_empty() {
        let what: Vec<String> = seen.iter().map(|e| e.describe()).collect();
        state.status = Some((
            crate::state::Level::Info,
            format!("in the cluster: {}", what.join("; ")),
        ));
    }
}
