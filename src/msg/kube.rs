//! What the watch tasks tell `update`.

use crate::model::object::{Kind, ObjectKey};
use crate::model::store::{Entry, Store};
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    /// The CRD is not installed (discovery does not list the kind).
    NotInstalled,
    /// Listing or watching is forbidden for this user.
    Forbidden(String),
    /// Initial list in progress (the previous content stays on screen until it completes).
    Syncing,
    Watching,
    /// The watch failed and is retrying with backoff; what is shown may be stale.
    Retrying {
        since: SystemTime,
        error: String,
    },
}

#[derive(Debug, Clone)]
pub enum KubeEvent {
    /// A complete list of one kind, already indexed (off the screen's thread): replaces
    /// everything of that kind at once.
    Synced {
        kind: Kind,
        shard: Box<Store>,
    },
    Upsert(Box<Entry>),
    Delete(ObjectKey),
    /// Events on Istio objects from before the console started (read once per context).
    Events(Vec<crate::model::timeline::history::RecordedEvent>),
    /// The Events could not be read (most often: no permission to list them).
    EventsUnreadable(String),
    Connection {
        kind: Kind,
        state: ConnState,
    },
    /// The API server cannot be used (not reachable, or discovery refused) since `since`;
    /// the session retries. What is shown stays, marked stale.
    Unreachable {
        context: String,
        server: String,
        since: SystemTime,
        error: String,
    },
    /// Which version of each kind the server serves, for the status line.
    Discovered {
        context: String,
        versions: Vec<(Kind, Option<String>)>,
    },
    /// Kinds the user may not patch (SelfSubjectAccessReview said no).
    WriteDenied(Vec<(Kind, String)>),
    /// Every namespace name (when the user may list them).
    Namespaces(Vec<String>),
    NamespaceAdded(String),
    NamespaceDeleted(String),
    /// The complete list of pods in scope (replaces the previous one).
    PodsSynced(Vec<crate::model::pod::Pod>),
    PodUpsert(crate::model::pod::Pod),
    PodDelete {
        namespace: String,
        name: String,
    },
    /// A `:ctx` switch completed: what was shown belongs to the old context.
    /// Sent before the watchers of another context or namespace start: everything shown so
    /// far goes, so that nothing the new watchers sync can be wiped after it arrived.
    Resetting,
    ContextSwitched(String),
    /// The cluster is no longer watched (`:ctx` named others): its objects and its line go.
    Left,
    /// A scoped session now watches this namespace (or "all").
    NamespaceSwitched(String),
}
