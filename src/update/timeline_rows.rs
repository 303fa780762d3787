//! The Timeline's rows: newest first, narrowed to a service or an entry, a kind of change,
//! the namespace and the filter; the selection stays on the change it was on.

use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::timeline::Change;
use crate::present::changes::search_text;
use crate::present::filter::Filter;
use crate::state::{ListView, RowId, State};
use std::collections::BTreeSet;

/// What belongs to one object's timeline: the objects, and the words that name it in a
/// change of the planes (its hosts, in cluster names; its address).
struct Scope {
    objects: BTreeSet<ObjectKey>,
    needles: Vec<String>,
}

fn scope_of(state: &State, key: &ObjectKey) -> Scope {
    let store = &state.registry.store;
    let mut objects = BTreeSet::from([key.clone()]);
    let mut needles = Vec::new();
    match store.get(key).map(|e| &e.object) {
        Some(Object::ServiceEntry(se)) => {
            objects.extend(store.selected_wes(key).cloned());
            for host in &se.spec.hosts {
                objects.extend(
                    store
                        .destination_rules_for(host, &key.namespace)
                        .into_iter()
                        .cloned(),
                );
                needles.push(format!("||{host}"));
            }
            for ep in &se.spec.endpoints {
                if let Some(a) = &ep.address {
                    needles.push(format!("{a}:"));
                }
            }
        }
        Some(Object::WorkloadEntry(we)) => {
            if let Some(a) = &we.spec.address {
                needles.push(format!("{a}:"));
            }
        }
        _ => {}
    }
    if key.kind == Kind::ServiceEntry {
        // Entries it selected that are gone now still belong to its past.
        objects.extend(
            state
                .timeline
                .changes
                .iter()
                .filter_map(|c| c.object.as_ref())
                .filter(|o| o.kind == Kind::WorkloadEntry && o.namespace == key.namespace)
                .filter(|o| store.get(o).is_none())
                .cloned()
                .collect::<Vec<_>>(),
        );
    }
    Scope { objects, needles }
}

impl Scope {
    fn holds(&self, c: &Change) -> bool {
        match &c.object {
            Some(k) => self.objects.contains(k),
            None => self
                .needles
                .iter()
                .any(|n| c.target.contains(n.as_str()) || c.field.contains(n.as_str())),
        }
    }
}

pub fn rebuild(state: &State, view: &mut ListView, scope: Option<&ObjectKey>, filter: &mut Filter) {
    let changes = &state.timeline.changes;
    let kind = state.timeline.kind;
    let ns = state.ui.namespace.as_deref();
    let scope = scope.map(|k| scope_of(state, k));
    // The change the selection was on, to find it again wherever it moved.
    let selected = match view.selected_row() {
        Some(RowId::Change(i)) if view.selected > 0 => changes.get(*i).cloned(),
        _ => None,
    };
    view.total = changes.len();
    view.rows = (0..changes.len())
        .rev()
        .filter(|i| {
            let Some(c) = changes.get(*i) else {
                return false;
            };
            kind.is_none_or(|k| c.kind == k)
                && ns.is_none_or(|n| c.object.as_ref().is_none_or(|o| o.namespace == n))
                && scope.as_ref().is_none_or(|s| s.holds(c))
                && (matches!(*filter, Filter::All) || filter.matches(&search_text(c)))
        })
        .map(RowId::Change)
        .collect();
    if let Some(was) = selected {
        let at = view.rows.iter().position(|r| match r {
            RowId::Change(i) => changes.get(*i) == Some(&was),
            _ => false,
        });
        if let Some(at) = at {
            view.selected = at;
        }
    }
}
