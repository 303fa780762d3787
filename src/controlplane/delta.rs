//! An incremental (Delta) ADS stream: per type, the subscribed names (or wildcard) and the
//! version of each resource the client holds; a push carries only what changed and the names
//! that disappeared.

use super::any::{CLUSTER, LISTENER, PUSH_ORDER};
use super::peer::{Peer, Waits, Wake};
use super::resources::Resources;
use super::server::Shared;
use super::status::Mode;
use crate::io::xds::identity::ServiceAccount;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, Resource,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::Status;

#[derive(Default)]
struct TypeState {
    wildcard: bool,
    names: BTreeSet<String>,
    /// What the client holds: name → version.
    client_has: BTreeMap<String, String>,
    nonce: Option<String>,
    started: bool,
}

pub struct Stream {
    peer: Peer,
    out: mpsc::Sender<Result<DeltaDiscoveryResponse, Status>>,
    types: BTreeMap<String, TypeState>,
}

impl Stream {
    pub fn new(
        conn: u64,
        shared: Arc<Shared>,
        out: mpsc::Sender<Result<DeltaDiscoveryResponse, Status>>,
        caller: Option<ServiceAccount>,
    ) -> Self {
        Stream {
            peer: Peer::new(conn, shared, caller),
            out,
            types: BTreeMap::new(),
        }
    }

    pub async fn run(mut self, inbound: tonic::Streaming<DeltaDiscoveryRequest>) {
        let mut waits = Waits::new(inbound, &self.peer.shared);
        loop {
            let sent = match waits.next(false).await {
                Wake::Request(req) => self.on_request(req).await,
                Wake::Registry => {
                    self.peer.recompute();
                    self.push_all().await
                }
                Wake::Board => Ok(()),
                Wake::Closed => Err(()),
            };
            if sent.is_err() {
                break;
            }
        }
        self.peer.disconnect();
    }

    async fn on_request(&mut self, req: DeltaDiscoveryRequest) -> Result<(), ()> {
        let t = req.type_url.clone();
        if let Err(status) = self.peer.greet(req.node.as_ref(), Mode::Delta) {
            let _ = self.out.send(Err(status)).await;
            return Err(());
        }
        let state = self.types.entry(t.clone()).or_default();
        let n = &req.response_nonce;
        if self.peer.answers(&t, state.nonce.as_deref(), n) {
            // Delta has no version per type in the reply: the nonce names what was sent.
            self.peer.record_reply(&t, n, n, req.error_detail.as_ref());
        }
        let mut changed = false;
        if !state.started {
            state.started = true;
            changed = true;
            state.client_has = req.initial_resource_versions.clone().into_iter().collect();
            // A first request for CDS/LDS without names is the legacy wildcard.
            if (t == CLUSTER || t == LISTENER) && req.resource_names_subscribe.is_empty() {
                state.wildcard = true;
            }
        }
        for n in &req.resource_names_subscribe {
            changed = true;
            if n == "*" {
                state.wildcard = true;
            } else {
                state.names.insert(n.clone());
                // Asked again: the client wants it even if it had it.
                state.client_has.remove(n);
            }
        }
        for n in &req.resource_names_unsubscribe {
            changed = true;
            if n == "*" {
                state.wildcard = false;
            } else {
                state.names.remove(n);
                state.client_has.remove(n);
            }
        }
        if changed {
            let first = self.types.get(&t).is_some_and(|s| s.nonce.is_none());
            self.push(&t).await?;
            // A reconnecting client that already holds every current version gets nothing
            // and is in sync: record it so, rather than "not sent".
            if first && self.types.get(&t).is_some_and(|s| s.nonce.is_none()) {
                let version = self
                    .peer
                    .resources
                    .as_ref()
                    .and_then(|r| r.of(&t))
                    .map(|all| Resources::set_version(all.iter()))
                    .unwrap_or_default();
                let status = &self.peer.shared.status;
                status.sent(self.peer.conn, &t, &version, "initial");
                status.acked(self.peer.conn, &t, &version, "initial");
            }
        }
        Ok(())
    }

    async fn push_all(&mut self) -> Result<(), ()> {
        for t in PUSH_ORDER {
            self.push(t).await?;
        }
        Ok(())
    }

    async fn push(&mut self, t: &str) -> Result<(), ()> {
        let (Some(state), Some(res)) = (self.types.get(t), self.peer.resources.as_ref()) else {
            return Ok(());
        };
        let empty = BTreeMap::new();
        let all = res.of(t).unwrap_or(&empty);
        let wanted = |n: &String| state.wildcard || state.names.contains(n);
        let updated: Vec<Resource> = all
            .iter()
            .filter(|(n, v)| wanted(n) && state.client_has.get(*n) != Some(&v.version))
            .map(|(n, v)| Resource {
                name: n.clone(),
                version: v.version.clone(),
                resource: Some(v.any.clone()),
                ..Default::default()
            })
            .collect();
        let removed: Vec<String> = state
            .client_has
            .keys()
            .filter(|n| !all.contains_key(*n))
            .cloned()
            .collect();
        if updated.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let version = Resources::set_version(all.iter());
        let nonce = self.peer.next_nonce();
        if let Some(state) = self.types.get_mut(t) {
            for r in &updated {
                state.client_has.insert(r.name.clone(), r.version.clone());
            }
            for n in &removed {
                state.client_has.remove(n);
            }
            state.nonce = Some(nonce.clone());
        }
        let peer = &self.peer;
        peer.shared.status.sent(peer.conn, t, &version, &nonce);
        let resp = DeltaDiscoveryResponse {
            system_version_info: version,
            resources: updated,
            type_url: t.to_string(),
            removed_resources: removed,
            nonce,
            control_plane: peer.shared.control_plane(),
            ..Default::default()
        };
        self.out.send(Ok(resp)).await.map_err(|_| ())
    }
}
