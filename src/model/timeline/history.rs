//! What the cluster already knows about the recent past, read once at start: managedFields
//! (a manager and a time per set of fields) and Kubernetes Events on Istio objects. Neither
//! keeps the value a field had before, and a manager's time is its latest write, so a field
//! it owns was set then or earlier: the timeline says so instead of guessing.

use super::diff::{self, classify, display_path};
use super::observed::summary;
use super::{Change, ChangeKind, Origin, Seen};
use crate::model::meta::{LAST_APPLIED, ManagedBy};
use crate::model::object::{Object, ObjectKey};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// An Event as the timeline reads it (io turns the API's Event into this).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub at: SystemTime,
    pub object: ObjectKey,
    pub reason: String,
    pub message: String,
    /// The component that reported it (`meshdeck`, `istiod`, …).
    pub component: Option<String>,
}

/// meshdeck's own Event reason: its message names the field, both values and the user.
pub const EDIT_REASON: &str = "MeshdeckEdit";

/// A field list longer than this is summed up: a creation writes a dozen at once.
const FIELDS_SHOWN: usize = 3;

pub fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s).ok()
}

/// The changes at or after `since` that the objects' managedFields and the events tell of.
pub fn at_start<'a>(
    objects: impl IntoIterator<Item = &'a Object>,
    events: &[RecordedEvent],
    since: SystemTime,
) -> Vec<Change> {
    let mut out: Vec<Change> = events
        .iter()
        .filter(|e| e.at >= since)
        .map(from_event)
        .collect();
    // meshdeck's write shows both as its Event (with the user) and as its managedFields entry.
    let edits: Vec<(&ObjectKey, SystemTime)> = events
        .iter()
        .filter(|e| e.reason == EDIT_REASON)
        .map(|e| (&e.object, e.at))
        .collect();
    for obj in objects {
        let key = obj.key();
        for change in from_managed_fields(obj, since) {
            let echoed = change.who.as_deref() == Some("meshdeck")
                && edits
                    .iter()
                    .any(|(k, at)| **k == key && near(*at, change.at, Duration::from_secs(2)));
            if !echoed {
                out.push(change);
            }
        }
    }
    out.sort_by_key(|c| c.at);
    out
}

fn near(a: SystemTime, b: SystemTime, within: Duration) -> bool {
    a.duration_since(b)
        .or_else(|_| b.duration_since(a))
        .is_ok_and(|d| d <= within)
}

/// One line per manager and kind of change written at or after `since`: "created" for the
/// manager that made the object, else the fields it owns with their values now.
pub fn from_managed_fields(obj: &Object, since: SystemTime) -> Vec<Change> {
    let meta = obj.meta();
    let created = meta.creation_timestamp.as_deref().and_then(parse_time);
    // The manager that made the object wrote at its creation time (and has not written since);
    // the two times are taken apart, so they may fall either side of a second.
    let creator = meta
        .managed_fields
        .iter()
        .filter_map(|m| Some((m, m.time.as_deref().and_then(parse_time)?)))
        .filter(|(_, at)| created.is_some_and(|c| near(*at, c, Duration::from_secs(1))))
        .min_by_key(|(_, at)| *at)
        .map(|(m, _)| m);
    // Serialized only for an object written inside the window: most are not, at start-up.
    let mut now: Option<BTreeMap<String, String>> = None;
    let mut out = Vec::new();
    for m in &meta.managed_fields {
        let Some(at) = m.time.as_deref().and_then(parse_time) else {
            continue;
        };
        if at < since {
            continue;
        }
        let made_it = creator.is_some_and(|c| std::ptr::eq(c, m));
        if made_it {
            out.push(created_at(obj, at, Some(m.manager.clone())));
            continue;
        }
        for (kind, paths) in owned_by_kind(m) {
            out.push(Change {
                at,
                kind,
                object: Some(obj.key()),
                target: String::new(),
                field: field_list(&paths),
                old: Seen::Unknown,
                new: value_now(&paths, now.get_or_insert_with(|| diff::leaves(obj))),
                who: Some(m.manager.clone()),
                origin: Origin::ManagedFields,
            });
        }
    }
    if out.is_empty()
        && let Some(at) = created.filter(|t| *t >= since)
    {
        // No managedFields (a file, an old server): the creation time is all there is.
        out.push(created_at(obj, at, None));
    }
    out
}

fn created_at(obj: &Object, at: SystemTime, who: Option<String>) -> Change {
    Change {
        at,
        kind: ChangeKind::Registry,
        object: Some(obj.key()),
        target: String::new(),
        field: "created".into(),
        old: Seen::Absent,
        new: summary(obj),
        who,
        origin: Origin::ManagedFields,
    }
}

fn owned_by_kind(m: &ManagedBy) -> BTreeMap<ChangeKind, Vec<String>> {
    let mut by: BTreeMap<ChangeKind, Vec<String>> = BTreeMap::new();
    for f in m.fields() {
        let path = display_path(f);
        if path.ends_with(LAST_APPLIED) || diff::is_noise(&path) {
            continue;
        }
        by.entry(classify(&path)).or_default().push(path);
    }
    by
}

fn field_list(paths: &[String]) -> String {
    if paths.len() <= FIELDS_SHOWN {
        return paths.join(", ");
    }
    format!(
        "{} and {} more",
        paths[..FIELDS_SHOWN].join(", "),
        paths.len() - FIELDS_SHOWN
    )
}

/// What the fields hold now, which is what their owner set: one field's value, or nothing
/// said for several.
fn value_now(paths: &[String], now: &BTreeMap<String, String>) -> Seen {
    match paths {
        [one] => now
            .get(one)
            .map_or(Seen::Unknown, |v| Seen::Value(v.clone())),
        _ => Seen::Unknown,
    }
}

/// An Event as a change; meshdeck's own say which field, both values and the user.
pub fn from_event(e: &RecordedEvent) -> Change {
    let mut change = Change {
        at: e.at,
        kind: ChangeKind::Registry,
        object: Some(e.object.clone()),
        target: String::new(),
        field: e.reason.clone(),
        old: Seen::Unknown,
        new: Seen::Value(e.message.clone()),
        who: e.component.clone(),
        origin: Origin::Event,
    };
    if e.reason == EDIT_REASON
        && let Some((field, from, to, user)) = parse_edit_message(&e.message)
    {
        change.kind = ChangeKind::Edit;
        change.field = field;
        change.old = Seen::Value(from);
        change.new = Seen::Value(to);
        change.who = Some(user);
    }
    change
}

/// `weight 3 → 5 by alice with meshdeck (context prod)` → (weight, 3, 5, alice).
fn parse_edit_message(m: &str) -> Option<(String, String, String, String)> {
    let (what, by) = m.rsplit_once(" by ")?;
    let user = by.split(" with meshdeck").next()?.trim();
    let (field, values) = what.split_once(' ')?;
    let (from, to) = values.split_once(" → ")?;
    Some((
        field.to_string(),
        from.to_string(),
        to.to_string(),
        user.to_string(),
    ))
}
