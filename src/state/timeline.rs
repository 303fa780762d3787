//! The Timeline's part of State: every change the console knows of, and what it needs to see
//! the next one (which kinds' history was read, what each plane showed last).

use crate::model::endpoint::ServiceEndpoints;
use crate::model::object::Kind;
use crate::model::object::ObjectKey;
use crate::model::timeline::Timeline;
use crate::model::timeline::versions::Versions;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use std::time::SystemTime;

#[derive(Debug, Clone)]
pub struct TimelineView {
    pub changes: Timeline,
    /// What objects were before they changed: the registry as it was at a moment.
    pub versions: Versions,
    /// The service as it was at a change, beside now (the "as it was" screen).
    pub as_of: Option<AsOf>,
    /// How far back the history read at start goes (managedFields, Events).
    pub since: Duration,
    /// Kinds whose first sync was read for history; a later sync is diffed against the store.
    pub read: BTreeSet<(crate::model::cluster::Cluster, Kind)>,
    /// What each plane showed last, so the next difference is a change.
    pub seen: LastSeen,
    /// Why part of the history could not be read (Events forbidden, say), to say so.
    pub history_note: Option<String>,
    /// Only changes of this kind are shown (`:timeline health`).
    pub kind: Option<crate::model::timeline::ChangeKind>,
    /// `--record`: changes and objects wait here for the next `Cmd::Record` (None: not
    /// recording).
    pub outbox: Option<Vec<crate::model::timeline::recording::Line>>,
    /// The manifests' first load is done: what files change after it is news.
    pub files_read: bool,
    /// `meshdeck replay FILE`: the recording in place of a source, and where it is shown at.
    pub replay: Option<crate::model::timeline::replay::Replay>,
}

/// What the planes showed last.
#[derive(Debug, Clone, Default)]
pub struct LastSeen {
    /// Per server, each proxy and its per-type sync status as syncz last said: a proxy that
    /// appears, leaves or starts NACKing is a change.
    pub proxies: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// Per server, the EDS version last held and for which clusters: a new version for the
    /// same clusters is a push.
    pub pushes: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Per proxy and host address, what its Envoy last said of the host's health.
    pub envoy_health: BTreeMap<(String, String), String>,
    /// Per server, its connection as last shown ("connected", "retrying: …").
    pub connections: BTreeMap<String, String>,
}

/// The history read at start reaches back this far unless `--since` says otherwise.
pub const DEFAULT_SINCE: Duration = Duration::from_secs(3600);

impl Default for TimelineView {
    fn default() -> Self {
        TimelineView {
            changes: Timeline::default(),
            versions: Versions::default(),
            as_of: None,
            since: DEFAULT_SINCE,
            read: BTreeSet::new(),
            seen: LastSeen::default(),
            files_read: false,
            replay: None,
            outbox: None,
            kind: None,
            history_note: None,
        }
    }
}

/// One service's endpoints as the console knew them at a moment, and now.
#[derive(Debug, Clone, PartialEq)]
pub struct AsOf {
    pub service: ObjectKey,
    pub at: SystemTime,
    pub then: Option<ServiceEndpoints>,
    pub now: Option<ServiceEndpoints>,
    /// The rows: an endpoint by (port number, address), with its place then and now.
    pub rows: Vec<AsOfRow>,
    /// Changes older than what is kept cannot be undone: the picture may be newer than `at`.
    pub beyond_horizon: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AsOfRow {
    pub port: u32,
    pub address: String,
    /// (port index, endpoint index) in `then` and in `now`.
    pub then: Option<(usize, usize)>,
    pub now: Option<(usize, usize)>,
}
