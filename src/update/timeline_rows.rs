//! The Timeline's rows: newest first, narrowed to a service or an entry, a kind of change,
//! the namespace and the filter; the selection stays on the change it was on.

use crate::model::endpoint::{ServiceEndpoints, derive};
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::timeline::Change;
use crate::present::changes::search_text;
use crate::present::filter::Filter;
use crate::state::timeline::{AsOf, AsOfRow};
use crate::state::{Level, Screen};
use crate::state::{ListView, RowId, State};
use std::collections::BTreeSet;
use std::time::SystemTime;

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
    // A replay shows what had happened by the moment it shows.
    let until = state.timeline.replay.as_ref().map(|r| r.at());
    view.total = changes.len();
    view.rows = (0..changes.len())
        .rev()
        .filter(|i| {
            let Some(c) = changes.get(*i) else {
                return false;
            };
            until.is_none_or(|u| c.at <= u)
                && kind.is_none_or(|k| c.kind == k)
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

/// `t` on a change: its service as the console knew it at that moment, beside now.
pub fn open_as_of(state: &mut State) {
    let Some(RowId::Change(i)) = state.list().and_then(|l| l.selected_row()).cloned() else {
        state.ui.status = Some((
            Level::Error,
            "pick a change on the Timeline (8) first".into(),
        ));
        return;
    };
    let Some(change) = state.timeline.changes.get(i).cloned() else {
        return;
    };
    let then = state
        .timeline
        .versions
        .store_before(&state.registry.store, change.at);
    let service = match &change.object {
        Some(k) if k.kind == Kind::ServiceEntry => Some(k.clone()),
        Some(k) if k.kind == Kind::WorkloadEntry => then
            .selecting_ses(k)
            .next()
            .or_else(|| state.registry.store.selecting_ses(k).next())
            .cloned(),
        _ => host_in(&change.field)
            .or_else(|| host_in(&change.target))
            .and_then(|h| {
                state
                    .registry
                    .store
                    .services_for_host(h)
                    .next()
                    .map(|se| Object::ServiceEntry(se.clone()).key())
            }),
    };
    match service {
        Some(se) => super::actions::push(state, Screen::AsOf(se, change.at)),
        None => {
            state.ui.status = Some((
                Level::Error,
                format!(
                    "{}: no service to show as it was (pick a change of a service, an entry or an Envoy cluster)",
                    change.subject()
                ),
            ));
        }
    }
}

/// The host in an Envoy cluster name (`outbound|80||host`) somewhere in a text.
fn host_in(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("||")?;
    rest.split_whitespace().next().filter(|h| !h.is_empty())
}

/// The rows of the "as it was" screen: every endpoint then or now, by port and address.
pub fn as_of(state: &mut State, view: &mut ListView, service: &ObjectKey, at: SystemTime) {
    let store_then = state
        .timeline
        .versions
        .store_before(&state.registry.store, at);
    let then = derive(&store_then, service, &state.viewpoint);
    let now = derive(&state.registry.store, service, &state.viewpoint);
    let mut rows: Vec<AsOfRow> = Vec::new();
    let place = |side: &Option<ServiceEndpoints>, is_now: bool, rows: &mut Vec<AsOfRow>| {
        let Some(d) = side else { return };
        for (pi, p) in d.ports.iter().enumerate() {
            for (ei, e) in p.endpoints.iter().enumerate() {
                let found = rows
                    .iter_mut()
                    .find(|r| r.port == p.port_number && r.address == e.address);
                let row = match found {
                    Some(r) => r,
                    None => {
                        rows.push(AsOfRow {
                            port: p.port_number,
                            address: e.address.clone(),
                            then: None,
                            now: None,
                        });
                        rows.last_mut().expect("just pushed")
                    }
                };
                if is_now {
                    row.now = Some((pi, ei));
                } else {
                    row.then = Some((pi, ei));
                }
            }
        }
    };
    place(&then, false, &mut rows);
    place(&now, true, &mut rows);
    let beyond_horizon = state.timeline.versions.horizon().is_some_and(|h| at < h);
    view.total = rows.len();
    view.rows = (0..rows.len()).map(RowId::Line).collect();
    state.timeline.as_of = Some(AsOf {
        service: service.clone(),
        at,
        then,
        now,
        rows,
        beyond_horizon,
    });
}
