//! What changed, in one ordered list: registry fields, health, WorkloadGroup connections,
//! control-plane events and the console's own edits, each with who and when as far as anyone
//! knows. Bounded: a long-running console keeps the newest `CAP` changes and counts the rest.

pub mod diff;
pub mod history;
pub mod observed;
pub mod recording;
pub mod replay;
pub mod versions;

use crate::model::object::ObjectKey;
use std::collections::VecDeque;
use std::time::SystemTime;

/// What a change is about; the Timeline filters on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// A field of an object: spec, labels, annotations; an object created or deleted.
    Registry,
    /// The Healthy condition of an entry, an Envoy ejecting a host or failing its checks.
    Health,
    /// A WorkloadGroup's VM connecting or disconnecting (`istio.io/connectedAt`/`disconnectedAt`).
    Connection,
    /// The xDS server: pushes, NACKs, proxies connecting and leaving.
    ControlPlane,
    /// An edit made through meshdeck (this console, or another one's Event).
    Edit,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::Registry,
        ChangeKind::Health,
        ChangeKind::Connection,
        ChangeKind::ControlPlane,
        ChangeKind::Edit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Registry => "registry",
            ChangeKind::Health => "health",
            ChangeKind::Connection => "connection",
            ChangeKind::ControlPlane => "control-plane",
            ChangeKind::Edit => "edit",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        let s = s.to_ascii_lowercase();
        // The KIND column's short names work too: what is on screen can be typed.
        match s.as_str() {
            "cp" | "xds" => return Some(ChangeKind::ControlPlane),
            "connect" => return Some(ChangeKind::Connection),
            _ => {}
        }
        // A prefix will do (`health`, `heal`), but not so short that it means two.
        let found: Vec<_> = ChangeKind::ALL
            .into_iter()
            .filter(|k| k.as_str().starts_with(&s))
            .collect();
        match found.as_slice() {
            [one] if !s.is_empty() => Some(*one),
            _ => None,
        }
    }
}

/// A value before or after a change, or that nobody saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// Never seen: the change was read from history (managedFields, an Event), not watched.
    Unknown,
    /// The field was not there.
    Absent,
    Value(String),
}

impl Seen {
    pub fn text(&self) -> &str {
        match self {
            Seen::Unknown => "?",
            Seen::Absent => "—",
            Seen::Value(v) => v,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Seen::Unknown => serde_json::Value::Null,
            Seen::Absent => serde_json::json!({"absent": true}),
            Seen::Value(v) => v.clone().into(),
        }
    }
}

/// How the console learned of a change: what can be trusted about its old value and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Seen by the watch or the file watcher while the console ran: both values known.
    Watched,
    /// Read at start from managedFields: manager and time known, the old value not.
    ManagedFields,
    /// A Kubernetes Event on the object.
    Event,
    /// This console's own edit, answered by the source.
    Console,
    /// The control plane or an Envoy, as the console follows them.
    Planes,
}

impl Origin {
    pub const ALL: [Origin; 5] = [
        Origin::Watched,
        Origin::ManagedFields,
        Origin::Event,
        Origin::Console,
        Origin::Planes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Watched => "watch",
            Origin::ManagedFields => "managedFields",
            Origin::Event => "event",
            Origin::Console => "console",
            Origin::Planes => "planes",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub at: SystemTime,
    pub kind: ChangeKind,
    /// The object changed; None for a proxy or a server.
    pub object: Option<ObjectKey>,
    /// What else it is about: a proxy id, an xDS server, an endpoint address.
    pub target: String,
    pub field: String,
    pub old: Seen,
    pub new: Seen,
    /// The manager, user or component that made it; None when nobody can tell.
    pub who: Option<String>,
    pub origin: Origin,
}

impl Change {
    /// What the OBJECT column shows: the object, or the proxy or server.
    pub fn subject(&self) -> String {
        match &self.object {
            Some(k) if self.target.is_empty() => k.to_string(),
            Some(k) => format!("{k} {}", self.target),
            None => self.target.clone(),
        }
    }

    pub fn who_text(&self) -> &str {
        self.who.as_deref().unwrap_or("unknown")
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "time": humantime::format_rfc3339_seconds(self.at).to_string(),
            "kind": self.kind.as_str(),
            "object": self.object.as_ref().map(|k| serde_json::json!({
                "kind": k.kind.as_str(),
                "namespace": k.namespace,
                "name": k.name,
            })),
            "target": (!self.target.is_empty()).then_some(&self.target),
            "field": self.field,
            "old": self.old.to_json(),
            "new": self.new.to_json(),
            "who": self.who,
            "origin": self.origin.as_str(),
        })
    }
}

/// The changes in time order, newest last, at most `cap` of them.
#[derive(Debug, Clone)]
pub struct Timeline {
    changes: VecDeque<Change>,
    cap: usize,
    dropped: u64,
    /// Moves on every change, so rows built from it know when they are stale.
    generation: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline::with_cap(Timeline::CAP)
    }
}

impl Timeline {
    /// A ring of this many changes bounds memory however long the console runs (about
    /// 30 MiB when full: `bench` prints the figure).
    pub const CAP: usize = 100_000;

    pub fn with_cap(cap: usize) -> Timeline {
        Timeline {
            changes: VecDeque::new(),
            cap: cap.max(1),
            dropped: 0,
            generation: 0,
        }
    }

    /// Adds one change in its place by time (history read late lands before what was seen).
    pub fn push(&mut self, change: Change) {
        let at = change.at;
        if self.changes.back().is_none_or(|last| last.at <= at) {
            self.changes.push_back(change);
        } else {
            let i = self.changes.partition_point(|c| c.at <= at);
            self.changes.insert(i, change);
        }
        self.generation += 1;
        self.trim();
    }

    /// Adds many at once (the history read at start): one sort instead of one insert each.
    /// History read again (another namespace, the same context again) is not told twice.
    pub fn extend(&mut self, changes: impl IntoIterator<Item = Change>) {
        let before = self.changes.len();
        let fresh: Vec<Change> = changes.into_iter().filter(|c| !self.contains(c)).collect();
        self.changes.extend(fresh);
        if self.changes.len() == before {
            return;
        }
        // Stable: changes with one time keep the order they were given in.
        self.changes.make_contiguous().sort_by_key(|c| c.at);
        self.generation += 1;
        self.trim();
    }

    fn trim(&mut self) {
        while self.changes.len() > self.cap {
            self.changes.pop_front();
            self.dropped += 1;
        }
    }

    /// Whether this change is held already: the same write, however its values read now
    /// (history read twice tells the value of the second reading).
    pub fn contains(&self, change: &Change) -> bool {
        let from = self.changes.partition_point(|c| c.at < change.at);
        let same = |c: &Change| {
            c.kind == change.kind
                && c.object == change.object
                && c.target == change.target
                && c.field == change.field
                && c.who == change.who
                && c.origin == change.origin
        };
        self.changes
            .range(from..)
            .take_while(|c| c.at == change.at)
            .any(same)
    }

    /// Whether the console saw this field of this object change at or after `at` (less a
    /// little for clocks): history that says "written at `at`" then tells nothing new.
    pub fn saw_since(&self, change: &Change) -> bool {
        let after = change.at.checked_sub(std::time::Duration::from_secs(2));
        self.changes
            .iter()
            .rev()
            .take_while(|c| after.is_none_or(|a| c.at >= a))
            .any(|c| {
                matches!(c.origin, Origin::Watched | Origin::Console)
                    && c.object == change.object
                    && change.field.split(", ").any(|f| f == c.field)
            })
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Change> + ExactSizeIterator {
        self.changes.iter()
    }

    pub fn get(&self, i: usize) -> Option<&Change> {
        self.changes.get(i)
    }

    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How many old changes made room for newer ones.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Takes back what the watch showed of an edit before the source answered it (the watch
    /// can be quicker): the edit, with its user, tells it.
    pub fn forget_echo(&mut self, edit: &Change, after: SystemTime) {
        let echo = self.changes.iter().rposition(|c| {
            c.at >= after
                && c.origin == Origin::Watched
                && c.object == edit.object
                && c.new == edit.new
        });
        if let Some(i) = echo {
            self.changes.remove(i);
            self.generation += 1;
        }
    }

    /// Whether this change (seen by the watch) is the echo of an edit the console recorded
    /// since `after`, with its user: the same object given the same value.
    pub fn echoes_edit(&self, seen: &Change, after: SystemTime) -> bool {
        self.changes
            .iter()
            .rev()
            .take_while(|c| c.at >= after)
            .any(|c| c.origin == Origin::Console && c.object == seen.object && c.new == seen.new)
    }
}

#[cfg(test)]
mod tests;
