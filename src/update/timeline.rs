//! Recording what changed: every source of change hands its news here, and only here is the
//! timeline written (objects from the watch and the files, the console's edits, the planes).

use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::planes::control::{Connection, ProxySync};
use crate::model::planes::data::EnvoyClusters;
use crate::model::timeline::history::{self, RecordedEvent};
use crate::model::timeline::recording::Line;
use crate::model::timeline::{Change, ChangeKind, Origin, Seen, observed};
use crate::state::dirty::Dirty;
use crate::state::{Screen, State};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

/// How long after an edit the watch's echo of it is taken for the edit itself.
const ECHO: Duration = Duration::from_secs(30);

fn record(state: &mut State, changes: Vec<Change>) {
    if changes.is_empty() {
        return;
    }
    let tl = &mut state.timeline.changes;
    for c in changes {
        let echo = c.origin == Origin::Watched
            && c.at
                .checked_sub(ECHO)
                .is_some_and(|after| tl.echoes_edit(&c, after));
        if !echo {
            if let Some(out) = state.timeline.outbox.as_mut() {
                out.push(Line::Change(c.clone()));
            }
            tl.push(c);
        }
    }
    if matches!(state.screen(), Screen::Timeline(_)) {
        state.registry.dirty |= Dirty::ROWS;
    }
}

/// The store is about to have `key` replaced by `new`: what changed.
pub fn upsert(state: &mut State, new: &Object) {
    let now = SystemTime::now();
    let key = new.key();
    let changes = {
        let old = state.registry.store.get(&key).map(|e| &e.object);
        observed::changes(old, Some(new), now)
    };
    keep_version(state, &changes, now, key);
    // A file read again holds every object of it: only what changed is written.
    if !changes.is_empty() {
        record_object(state, now, Some(new), None);
    }
    record(state, changes);
}

pub fn delete(state: &mut State, key: &ObjectKey) {
    let now = SystemTime::now();
    let changes = {
        let old = state.registry.store.get(key).map(|e| &e.object);
        observed::changes(old, None, now)
    };
    keep_version(state, &changes, now, key.clone());
    if !changes.is_empty() {
        record_object(state, now, None, Some(key));
    }
    record(state, changes);
}

/// `--record`: the object itself as written (or that it is gone), for a replay's registry.
fn record_object(
    state: &mut State,
    at: SystemTime,
    new: Option<&Object>,
    gone: Option<&ObjectKey>,
) {
    let Some(out) = state.timeline.outbox.as_mut() else {
        return;
    };
    match (new, gone) {
        (Some(o), _) => out.push(Line::Object {
            at,
            object: Box::new(o.clone()),
        }),
        (None, Some(key)) => out.push(Line::Deleted {
            at,
            key: key.clone(),
        }),
        (None, None) => {}
    }
}

/// `--record`: every object of a first load or sync, where a replay starts.
pub fn record_snapshot<'a>(state: &mut State, objects: impl Iterator<Item = &'a Object>) {
    let Some(out) = state.timeline.outbox.as_mut() else {
        return;
    };
    let at = SystemTime::now();
    out.extend(objects.map(|o| Line::Snapshot {
        at,
        object: Box::new(o.clone()),
    }));
}

/// `--record`: the registry shown is gone (another context or namespace follows).
pub fn record_reset(state: &mut State) {
    if let Some(out) = state.timeline.outbox.as_mut() {
        out.push(Line::Reset {
            at: SystemTime::now(),
        });
    }
}

/// What the object was before a change, for "as it was at T".
fn keep_version(state: &mut State, changes: &[Change], at: SystemTime, key: ObjectKey) {
    if changes.is_empty() {
        return;
    }
    let before = state.registry.store.get(&key).cloned();
    state.timeline.versions.record(at, key, before);
}

/// A kind was listed whole. The first time, its objects' managedFields tell what changed
/// before the console started; after a lost watch, the new list is compared with the store.
pub fn synced(
    state: &mut State,
    cluster: &crate::model::cluster::Cluster,
    kind: Kind,
    shard: &crate::model::store::Store,
) {
    let now = SystemTime::now();
    if state.timeline.read.insert((cluster.clone(), kind)) {
        let since = now.checked_sub(state.timeline.since).unwrap_or(now);
        let objects = shard.entries(kind).map(|e| &e.object);
        let tl = &state.timeline.changes;
        let changes: Vec<Change> = history::at_start(objects, &[], since)
            .into_iter()
            .filter(|c| !tl.saw_since(c) && !tl.contains(c))
            .collect();
        extend(state, changes);
        record_snapshot(state, shard.entries(kind).map(|e| &e.object));
        return;
    }
    let mut changes = Vec::new();
    let mut moved = Vec::new();
    for e in shard.entries(kind) {
        let key = e.object.key();
        let old = state.registry.store.get(&key).map(|o| &o.object);
        if old.is_some_and(|o| o.meta().resource_version == e.object.meta().resource_version) {
            continue;
        }
        let told = observed::changes(old, Some(&e.object), now);
        if !told.is_empty() {
            moved.push(key);
        }
        changes.extend(told);
    }
    for old in state.registry.store.entries(kind) {
        if old.object.meta().cluster == *cluster && shard.get(&old.object.key()).is_none() {
            moved.push(old.object.key());
            changes.extend(observed::changes(Some(&old.object), None, now));
        }
    }
    for key in moved {
        let before = state.registry.store.get(&key).cloned();
        state.timeline.versions.record(now, key.clone(), before);
        record_object(state, now, shard.get(&key).map(|e| &e.object), Some(&key));
    }
    record(state, changes);
}

/// Events on Istio objects read at start: meshdeck's own edits (with the user and both
/// values) and whatever else reported on them.
pub fn events(state: &mut State, events: Vec<RecordedEvent>) {
    let now = SystemTime::now();
    let since = now.checked_sub(state.timeline.since).unwrap_or(now);
    let changes: Vec<Change> = events
        .iter()
        .filter(|e| e.at >= since)
        .map(history::from_event)
        .filter(|c| !state.timeline.changes.contains(c))
        .collect();
    extend(state, changes);
}

/// History, many changes at once and not in time order.
fn extend(state: &mut State, changes: Vec<Change>) {
    if let Some(out) = state.timeline.outbox.as_mut() {
        out.extend(changes.iter().cloned().map(Line::Change));
    }
    state.timeline.changes.extend(changes);
    if matches!(state.screen(), Screen::Timeline(_)) {
        state.registry.dirty |= Dirty::ROWS;
    }
}

/// This console's edit, as the source accepted it: the user's name, both values.
pub fn edited(state: &mut State, applied: &[crate::model::edit::Applied]) {
    let now = SystemTime::now();
    let user = state.setup.who.user.clone();
    let changes = applied
        .iter()
        .map(|a| {
            let (field, from, to) = a.edit.values();
            Change {
                at: now,
                kind: ChangeKind::Edit,
                object: Some(a.edit.object()),
                target: String::new(),
                field: field.to_string(),
                old: Seen::Value(from),
                new: Seen::Value(to),
                who: Some(user.clone()),
                origin: Origin::Console,
            }
        })
        .collect::<Vec<_>>();
    if let Some(after) = now.checked_sub(ECHO) {
        for c in &changes {
            state.timeline.changes.forget_echo(c, after);
        }
    }
    record(state, changes);
}

fn plane_change(server: &str, field: &str, old: Seen, new: Seen) -> Change {
    Change {
        at: SystemTime::now(),
        kind: ChangeKind::ControlPlane,
        object: None,
        target: server.to_string(),
        field: field.to_string(),
        old,
        new,
        who: None,
        origin: Origin::Planes,
    }
}

fn known(v: Option<String>) -> Seen {
    v.map_or(Seen::Unknown, Seen::Value)
}

/// The console's own connection to an xDS server.
pub fn connection(state: &mut State, server: &str, conn: &Connection) {
    let now = match conn {
        Connection::Connecting => return,
        Connection::Connected => "connected".to_string(),
        Connection::Retrying { error, .. } => format!("lost: {error}"),
        Connection::Refused { reason, .. } => format!("refused: {reason}"),
    };
    let before = state
        .timeline
        .seen
        .connections
        .insert(server.to_string(), now.clone());
    if before.as_deref() == Some(now.as_str()) {
        return;
    }
    let old = before.map_or(Seen::Absent, Seen::Value);
    let c = plane_change(server, "xDS stream", old, Seen::Value(now));
    record(state, vec![c]);
}

/// A new EDS version for the same clusters is a push. The first one is where the console
/// starts, and one for other clusters answers the console subscribing to them: neither is.
pub fn pushed(state: &mut State, server: &str, version: &str, clusters: BTreeSet<String>) {
    let count = clusters.len();
    let before = state
        .timeline
        .seen
        .pushes
        .insert(server.to_string(), (version.to_string(), clusters.clone()));
    let Some((was, held)) = before else {
        return;
    };
    if was == version || held != clusters {
        return;
    }
    let mut c = plane_change(
        server,
        "EDS push",
        Seen::Value(was),
        Seen::Value(version.to_string()),
    );
    c.target = format!("{server} ({count} clusters)");
    record(state, vec![c]);
}

/// The console NACKed what a server sent.
pub fn rejected(state: &mut State, server: &str, type_url: &str, error: &str) {
    let short = type_url.rsplit('.').next().unwrap_or(type_url);
    let c = plane_change(
        server,
        &format!("NACK {short}"),
        Seen::Unknown,
        Seen::Value(error.to_string()),
    );
    record(state, vec![c]);
}

/// syncz from one server: proxies that connected, left, or started or stopped NACKing.
pub fn syncz(state: &mut State, server: &str, proxies: &[ProxySync]) {
    let now: BTreeMap<String, BTreeMap<String, String>> = proxies
        .iter()
        .map(|p| {
            let types = p
                .types
                .iter()
                .map(|(t, s)| {
                    let status = match &s.error {
                        Some(e) if s.status == "ERROR" => format!("NACK: {e}"),
                        _ => s.status.clone(),
                    };
                    (t.clone(), status)
                })
                .collect();
            (p.short_id().to_string(), types)
        })
        .collect();
    let first = !state.timeline.seen.proxies.contains_key(server);
    let before = state
        .timeline
        .seen
        .proxies
        .insert(server.to_string(), now.clone())
        .unwrap_or_default();
    // The first answer is who is there, not who came.
    if first {
        return;
    }
    let mut changes = Vec::new();
    let proxy_change = |proxy: &str, field: &str, old: Seen, new: Seen| {
        let mut c = plane_change(server, field, old, new);
        c.target = format!("{proxy} @ {server}");
        c
    };
    for (proxy, types) in &now {
        match before.get(proxy) {
            None => changes.push(proxy_change(
                proxy,
                "proxy",
                Seen::Absent,
                Seen::Value("connected".into()),
            )),
            Some(old) => {
                for (t, status) in types {
                    let was = old.get(t);
                    let nack_moved = (status.starts_with("NACK")
                        || was.is_some_and(|w| w.starts_with("NACK")))
                        && was != Some(status);
                    if nack_moved {
                        changes.push(proxy_change(
                            proxy,
                            t,
                            was.map_or(Seen::Absent, |w| Seen::Value(w.clone())),
                            Seen::Value(status.clone()),
                        ));
                    }
                }
            }
        }
    }
    for proxy in before.keys().filter(|p| !now.contains_key(*p)) {
        changes.push(proxy_change(
            proxy,
            "proxy",
            Seen::Value("connected".into()),
            Seen::Value("left".into()),
        ));
    }
    record(state, changes);
}

/// What an Envoy says of each host's health: an ejection or a failing check, and the way
/// back, are health changes.
pub fn envoy_health(state: &mut State, proxy: &str, clusters: &EnvoyClusters) {
    let mut changes = Vec::new();
    for (cluster, hosts) in clusters {
        for (host, h) in hosts {
            let now = if h.flags.is_empty() {
                "healthy".to_string()
            } else {
                h.flags.join(",")
            };
            let key = (proxy.to_string(), format!("{cluster} {host}"));
            let before = state.timeline.seen.envoy_health.insert(key, now.clone());
            let moved = match &before {
                Some(b) => *b != now,
                // A host first seen healthy is news to nobody.
                None => now != "healthy",
            };
            if moved {
                changes.push(Change {
                    at: SystemTime::now(),
                    kind: ChangeKind::Health,
                    object: None,
                    target: format!("{host} in {proxy}"),
                    field: format!("envoy {cluster}"),
                    old: known(before),
                    new: Seen::Value(now),
                    who: Some("envoy".into()),
                    origin: Origin::Planes,
                });
            }
        }
    }
    record(state, changes);
}
