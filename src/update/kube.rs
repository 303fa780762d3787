//! Applying Kubernetes source events: a synced kind is swapped in whole; single events are
//! applied one object at a time. Rows and lint are refreshed on the next tick, not per event,
//! so thousands of events per second stay smooth.

use crate::io::kube::{ConnState, KubeEvent};
use crate::model::cluster::Cluster;
use crate::state::State;
use crate::state::dirty::Dirty;

pub fn on_event(state: &mut State, cluster: Cluster, ev: KubeEvent) {
    let several = state.several_clusters();
    // A session `:ctx` stopped may still have had something on its way: it is not shown.
    let starts = matches!(
        ev,
        KubeEvent::Discovered { .. } | KubeEvent::Unreachable { .. }
    );
    if !state.kube.is_empty() && !state.kube.contains_key(&cluster) && !starts {
        return;
    }
    let view = state.kube.entry(cluster.clone()).or_default();
    match ev {
        KubeEvent::Unreachable {
            context,
            server,
            since,
            error,
        } => {
            view.context = context;
            view.down = Some(crate::state::Down {
                server,
                since,
                error,
            });
        }
        KubeEvent::Discovered { context, versions } => {
            view.down = None;
            if !several {
                state.setup.source_label = format!("cluster {context}");
            }
            if view.context != context {
                view.states.clear();
                view.versions.clear();
            }
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
        KubeEvent::Namespaces(names) => view.namespaces = Some(names.into_iter().collect()),
        KubeEvent::NamespaceAdded(name) => {
            view.namespaces
                .get_or_insert_with(Default::default)
                .insert(name);
        }
        KubeEvent::NamespaceDeleted(name) => {
            if let Some(n) = view.namespaces.as_mut() {
                n.remove(&name);
            }
        }
        KubeEvent::PodsSynced(pods) => {
            let keep: std::collections::HashSet<_> = pods
                .iter()
                .map(|p| (p.cluster.clone(), p.namespace.clone(), p.name.clone()))
                .collect();
            for id in state.registry.store.pod_ids() {
                if id.0 == cluster && !keep.contains(&id) {
                    state.registry.store.remove_pod(&id);
                }
            }
            for p in pods {
                state.registry.store.upsert_pod(p);
            }
            state.registry.dirty |= Dirty::ROWS;
        }
        KubeEvent::PodUpsert(p) => {
            state.registry.store.upsert_pod(p);
            state.registry.dirty |= Dirty::ROWS;
        }
        KubeEvent::PodDelete { namespace, name } => {
            state.registry.store.remove_pod(&(cluster, namespace, name));
            state.registry.dirty |= Dirty::ROWS;
        }
        KubeEvent::WriteDenied(kinds) => {
            for (kind, why) in kinds {
                view.no_write.insert(kind, why);
            }
        }
        KubeEvent::Events(events) => super::timeline::events(state, events),
        KubeEvent::EventsUnreadable(why) => state.timeline.history_note = Some(why),
        KubeEvent::Resetting => {
            // The next context's lists are its history, not a thousand creations.
            state.timeline.read.retain(|(c, _)| *c != cluster);
            super::timeline::record_reset(state);
            clear_registry(state, &cluster);
            state.registry.dirty |= Dirty::ROWS;
        }
        KubeEvent::Left => {
            state.timeline.read.retain(|(c, _)| *c != cluster);
            clear_registry(state, &cluster);
            state.kube.remove(&cluster);
            state.edits.pending.clear();
            state.edits.undo.clear();
        }
        KubeEvent::NamespaceSwitched(ns) => {
            state.ui.status = Some((
                crate::state::Level::Info,
                format!("watching namespace {ns}"),
            ));
        }
        KubeEvent::ContextSwitched(name) => {
            // The registry was cleared (Resetting) before the new context's watchers started.
            if let Some(view) = state.kube.get_mut(&cluster) {
                view.no_write.clear();
            }
            state.edits.pending.clear();
            state.edits.undo.clear();
            if !several {
                state.setup.source_label = format!("cluster {name}");
            }
            state.ui.status = Some((
                crate::state::Level::Info,
                format!("switched to context {name}"),
            ));
            state.registry.dirty |= Dirty::ROWS;
        }
        KubeEvent::Connection { kind, state: conn } => {
            view.states.insert(kind, conn);
        }
        KubeEvent::Synced { kind, shard } => {
            super::timeline::synced(state, &cluster, kind, &shard);
            state.registry.store.replace_kind(kind, &cluster, *shard);
            state.registry.dirty |= Dirty::ROWS;
        }
        KubeEvent::Upsert(entry) => {
            super::timeline::upsert(state, &entry.object);
            state.registry.store.upsert(*entry);
            state.registry.dirty |= Dirty::ROWS;
            super::edit::confirm_pending(state);
        }
        KubeEvent::Delete(key) => {
            super::timeline::delete(state, &key);
            state.registry.store.remove(&key);
            state.registry.dirty |= Dirty::ROWS;
        }
    }
}

/// Forgets every object of `cluster`: its new watchers are about to resync from a different
/// scope.
fn clear_registry(state: &mut State, cluster: &Cluster) {
    for id in state.registry.store.pod_ids() {
        if id.0 == *cluster {
            state.registry.store.remove_pod(&id);
        }
    }
    for kind in crate::model::object::Kind::ALL {
        let keys: Vec<_> = state
            .registry
            .store
            .keys(kind)
            .filter(|k| k.cluster == *cluster)
            .cloned()
            .collect();
        for k in keys {
            state.registry.store.remove(&k);
        }
    }
    state.registry.dirty |= Dirty::ROWS;
}
