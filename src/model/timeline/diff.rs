//! What differs between two versions of an object, field by field, and who owns a field
//! according to managedFields.

use super::{ChangeKind, Seen};
use crate::model::meta::{ManagedBy, ObjectMeta};
use crate::model::object::Object;
use serde_json::Value;
use std::collections::BTreeMap;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub path: String,
    pub old: Seen,
    pub new: Seen,
}

/// Bookkeeping the API server changes on every write: not a change anyone made.
const NOT_CHANGES: [&str; 6] = [
    "metadata.resourceVersion",
    "metadata.generation",
    "metadata.uid",
    "metadata.creationTimestamp",
    "metadata.selfLink",
    "metadata.managedFields",
];

/// Condition fields that move with the status they describe.
const CONDITION_NOISE: [&str; 3] = ["lastTransitionTime", "lastProbeTime", "observedGeneration"];

/// Every leaf field of an object as `path → value`: `spec.weight → 3`,
/// `metadata.labels.app → web`, `status.conditions[Healthy].status → True`.
pub fn leaves(obj: &Object) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    flatten(&obj.to_value(), "", &mut out);
    for skip in ["apiVersion", "kind", "metadata.name", "metadata.namespace"] {
        out.remove(skip);
    }
    out.retain(|path, _| !NOT_CHANGES.iter().any(|n| path.starts_with(n)) && !is_noise(path));
    out
}

/// A condition's timestamps and generation: they move with the status they describe.
pub fn is_noise(path: &str) -> bool {
    path.starts_with("status.conditions[")
        && CONDITION_NOISE
            .iter()
            .any(|n| path.rsplit('.').next() == Some(n))
}

fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &path, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, &format!("{prefix}[{}]", item_key(item, i)), out);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

/// A list item by what names it (a condition's type, a port's name, an endpoint's address),
/// so one item changing does not read as every later item moving; by index otherwise.
fn item_key(item: &Value, i: usize) -> String {
    for key in ["type", "name", "address"] {
        if let Some(s) = item.get(key).and_then(Value::as_str) {
            return s.to_string();
        }
    }
    match item {
        Value::String(s) => s.clone(),
        _ => i.to_string(),
    }
}

/// The fields that differ, in path order.
pub fn diff(old: &Object, new: &Object) -> Vec<FieldChange> {
    diff_leaves(&leaves(old), &leaves(new))
}

pub fn diff_leaves(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for (path, before) in old {
        match new.get(path) {
            Some(after) if after == before => {}
            Some(after) => out.push(FieldChange {
                path: path.clone(),
                old: Seen::Value(before.clone()),
                new: Seen::Value(after.clone()),
            }),
            None => out.push(FieldChange {
                path: path.clone(),
                old: Seen::Value(before.clone()),
                new: Seen::Absent,
            }),
        }
    }
    for (path, after) in new {
        if !old.contains_key(path) {
            out.push(FieldChange {
                path: path.clone(),
                old: Seen::Absent,
                new: Seen::Value(after.clone()),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

pub const CONNECTED_AT: &str = "istio.io/connectedAt";
pub const DISCONNECTED_AT: &str = "istio.io/disconnectedAt";

/// Which kind of change a field's path is.
pub fn classify(path: &str) -> ChangeKind {
    let path = display_path(path);
    if path.starts_with("status.conditions[Healthy]") {
        return ChangeKind::Health;
    }
    match path.strip_prefix("metadata.annotations.") {
        Some(CONNECTED_AT | DISCONNECTED_AT) => ChangeKind::Connection,
        _ => ChangeKind::Registry,
    }
}

/// managedFields names a keyed list item by its key object (`[{"type":"Healthy"}]`); the
/// timeline by the key's value (`[Healthy]`), as `leaves` does.
pub fn display_path(path: &str) -> String {
    if !path.contains("[{") {
        return path.to_string();
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(start) = rest.find("[{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find("}]") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &after[..=end];
        let name = serde_json::from_str::<serde_json::Map<String, Value>>(key)
            .ok()
            .and_then(|m| {
                m.values()
                    .next()
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            })
            .unwrap_or_else(|| key.to_string());
        out.push('[');
        out.push_str(&name);
        out.push(']');
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Whether a field a manager owns covers this path: the field itself, or an atomic list or
/// map the path lies inside (`spec.ports` covers `spec.ports[http].number`).
fn covers(owned: &str, path: &str) -> bool {
    path == owned
        || path
            .strip_prefix(owned)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// The manager that last wrote this field: of those owning it, the newest by time.
pub fn owner<'a>(meta: &'a ObjectMeta, path: &str) -> Option<&'a ManagedBy> {
    meta.managed_fields
        .iter()
        .filter(|m| m.fields().any(|f| covers(&display_path(f), path)))
        .max_by(|a, b| a.time.cmp(&b.time))
}
