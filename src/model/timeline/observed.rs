//! Changes seen while the console runs: one object's old and new versions, field by field.

use super::diff::{self, FieldChange};
use super::{Change, ChangeKind, Origin, Seen};
use crate::model::object::Object;
use std::time::SystemTime;

/// What happened between two versions of one object (None: it did not exist), as the watch
/// or the file watcher showed them; who is the newest manager owning each field.
pub fn changes(old: Option<&Object>, new: Option<&Object>, at: SystemTime) -> Vec<Change> {
    match (old, new) {
        (None, None) => Vec::new(),
        (None, Some(obj)) => vec![whole(obj, at, "created", Seen::Absent, summary(obj))],
        (Some(obj), None) => vec![whole(obj, at, "deleted", summary(obj), Seen::Absent)],
        (Some(a), Some(b)) => diff::diff(a, b)
            .into_iter()
            .map(|FieldChange { path, old, new }| Change {
                at,
                kind: diff::classify(&path),
                object: Some(b.key()),
                target: String::new(),
                who: diff::owner(b.meta(), &path).map(|m| m.manager.clone()),
                field: path,
                old,
                new,
                origin: Origin::Watched,
            })
            .collect(),
    }
}

fn whole(obj: &Object, at: SystemTime, what: &str, old: Seen, new: Seen) -> Change {
    // The manager with the oldest entry made it; a deletion leaves no managedFields to read.
    let who = (what == "created")
        .then(|| {
            obj.meta()
                .managed_fields
                .iter()
                .min_by(|a, b| a.time.cmp(&b.time))
                .map(|m| m.manager.clone())
        })
        .flatten();
    Change {
        at,
        kind: ChangeKind::Registry,
        object: Some(obj.key()),
        target: String::new(),
        field: what.to_string(),
        old,
        new,
        who,
        origin: Origin::Watched,
    }
}

/// An object in a few words: what a WorkloadEntry points at, which hosts a ServiceEntry
/// declares.
pub fn summary(obj: &Object) -> Seen {
    let text = match obj {
        Object::WorkloadEntry(we) => {
            let mut s = we.spec.address.clone().unwrap_or_default();
            if let Some(w) = we.spec.weight {
                s.push_str(&format!(" weight {w}"));
            }
            s
        }
        Object::ServiceEntry(se) => se.spec.hosts.join(","),
        _ => String::new(),
    };
    if text.trim().is_empty() {
        Seen::Absent
    } else {
        Seen::Value(text.trim().to_string())
    }
}
