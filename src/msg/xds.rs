//! What the xDS client reports to `update` (and to headless commands).

use crate::model::planes::HostKey;
use crate::model::planes::control::{Connection, ProxySync, SentCluster, SentEndpoint};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum XdsEvent {
    Connection {
        server: String,
        state: Connection,
    },
    /// The server named itself (`control_plane.identifier`), first or differently.
    ControlPlane {
        server: String,
        identifier: String,
    },
    /// The whole set of clusters (CDS).
    Clusters {
        server: String,
        clusters: BTreeMap<String, SentCluster>,
    },
    /// Every subscribed cluster's endpoints as now held (EDS).
    Endpoints {
        server: String,
        version: String,
        assignments: BTreeMap<String, BTreeMap<HostKey, SentEndpoint>>,
    },
    /// The console could not use what it was sent (and NACKed it).
    Rejected {
        server: String,
        type_url: String,
        error: String,
    },
    /// Sync status of every proxy connected to this server.
    Syncz {
        server: String,
        proxies: Vec<ProxySync>,
    },
    /// syncz is not available here (plain port, no credentials); the reason, once.
    SynczUnavailable {
        server: String,
        error: String,
    },
}

impl XdsEvent {
    /// What a server's event says of the server itself (connection, name, clusters,
    /// endpoints), applied to its view; the events about other things (a rejection, the
    /// proxies' sync status) come back for the caller. The console and `meshdeck get` fold
    /// the same way.
    pub fn fold_into(
        self,
        view: &mut crate::model::planes::control::ControlView,
        now: std::time::SystemTime,
    ) -> Option<XdsEvent> {
        match self {
            XdsEvent::Connection { state, .. } => view.connection = state,
            XdsEvent::ControlPlane { identifier, .. } => view.identifier = Some(identifier),
            XdsEvent::Clusters { clusters, .. } => {
                view.set_clusters(clusters);
            }
            XdsEvent::Endpoints {
                version,
                assignments,
                ..
            } => {
                view.set_endpoints(version, assignments, now);
            }
            other => return Some(other),
        }
        None
    }

    pub fn server(&self) -> &str {
        match self {
            XdsEvent::Connection { server, .. }
            | XdsEvent::ControlPlane { server, .. }
            | XdsEvent::Clusters { server, .. }
            | XdsEvent::Endpoints { server, .. }
            | XdsEvent::Rejected { server, .. }
            | XdsEvent::Syncz { server, .. }
            | XdsEvent::SynczUnavailable { server, .. } => server,
        }
    }
}
