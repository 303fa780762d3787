//! A state-of-the-world ADS stream: per type, the subscription, what was last sent and its
//! nonce. ACKs and NACKs are matched by nonce; a stale nonce is ignored, as the protocol says.

use super::any::{CLUSTER, LISTENER, PUSH_ORDER, SYNCZ};
use super::peer::{Peer, Waits, Wake};
use super::resources::{Resources, Versioned};
use super::server::Shared;
use super::status::Mode;
use crate::io::xds::identity::ServiceAccount;
use envoy_types::pb::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tokio::sync::mpsc;
use tonic::Status;

#[derive(Default)]
struct TypeState {
    wildcard: bool,
    names: BTreeSet<String>,
    sent_version: Option<String>,
    nonce: Option<String>,
}

pub struct Stream {
    peer: Peer,
    out: mpsc::Sender<Result<DiscoveryResponse, Status>>,
    types: BTreeMap<String, TypeState>,
}

impl Stream {
    pub fn new(
        conn: u64,
        shared: Arc<Shared>,
        out: mpsc::Sender<Result<DiscoveryResponse, Status>>,
        caller: Option<ServiceAccount>,
    ) -> Self {
        Stream {
            peer: Peer::new(conn, shared, caller),
            out,
            types: BTreeMap::new(),
        }
    }

    pub async fn run(mut self, inbound: tonic::Streaming<DiscoveryRequest>) {
        let mut waits = Waits::new(inbound, &self.peer.shared);
        loop {
            let sent = match waits.next(self.types.contains_key(SYNCZ)).await {
                Wake::Request(req) => self.on_request(req).await,
                Wake::Registry => {
                    self.peer.recompute();
                    self.push_all().await
                }
                Wake::Board => self.send_syncz().await,
                Wake::Closed => Err(()),
            };
            if sent.is_err() {
                break;
            }
        }
        self.peer.disconnect();
    }

    async fn on_request(&mut self, req: DiscoveryRequest) -> Result<(), ()> {
        let t = req.type_url.clone();
        if t == SYNCZ {
            // A syncz client is not a proxy: it is admitted, not registered.
            if let Err(status) = self.peer.admit(req.node.as_ref()) {
                let _ = self.out.send(Err(status)).await;
                return Err(());
            }
            self.types.entry(t).or_default();
            return self.send_syncz().await;
        }
        if let Err(status) = self.peer.greet(req.node.as_ref(), Mode::StateOfTheWorld) {
            let _ = self.out.send(Err(status)).await;
            return Err(());
        }
        let state = self.types.entry(t.clone()).or_default();
        if !req.response_nonce.is_empty() {
            if !self
                .peer
                .answers(&t, state.nonce.as_deref(), &req.response_nonce)
            {
                return Ok(());
            }
            self.peer.record_reply(
                &t,
                &req.version_info,
                &req.response_nonce,
                req.error_detail.as_ref(),
            );
        }
        let names: BTreeSet<String> = req.resource_names.iter().cloned().collect();
        let wildcard_type = t == CLUSTER || t == LISTENER;
        let wildcard = (wildcard_type && names.is_empty()) || names.contains("*");
        let first = state.nonce.is_none();
        let changed = wildcard != state.wildcard || names != state.names;
        state.wildcard = wildcard;
        state.names = names.into_iter().filter(|n| n != "*").collect();
        if first || changed {
            // A new subscription is answered even when nothing changed, so the client never waits.
            if changed {
                state.sent_version = None;
            }
            return self.send_if_changed(&t).await;
        }
        Ok(())
    }

    async fn push_all(&mut self) -> Result<(), ()> {
        for t in PUSH_ORDER {
            self.send_if_changed(t).await?;
        }
        Ok(())
    }

    fn selected(&self, t: &str) -> Vec<(&String, &Versioned)> {
        let (Some(state), Some(res)) = (self.types.get(t), self.peer.resources.as_ref()) else {
            return Vec::new();
        };
        let Some(all) = res.of(t) else {
            return Vec::new();
        };
        if state.wildcard {
            all.iter().collect()
        } else {
            state
                .names
                .iter()
                .filter_map(|n| all.get_key_value(n))
                .collect()
        }
    }

    async fn send_if_changed(&mut self, t: &str) -> Result<(), ()> {
        if !self.types.contains_key(t) || self.peer.resources.is_none() {
            return Ok(());
        }
        let items = self.selected(t);
        let version = Resources::set_version(items.iter().copied());
        if self.types.get(t).and_then(|s| s.sent_version.as_deref()) == Some(version.as_str()) {
            return Ok(());
        }
        let resources = items.iter().map(|(_, v)| v.any.clone()).collect();
        let nonce = self.peer.next_nonce();
        let resp = DiscoveryResponse {
            version_info: version.clone(),
            resources,
            type_url: t.to_string(),
            nonce: nonce.clone(),
            control_plane: self.peer.shared.control_plane(),
            ..Default::default()
        };
        if let Some(s) = self.types.get_mut(t) {
            s.sent_version = Some(version.clone());
            s.nonce = Some(nonce.clone());
        }
        self.peer
            .shared
            .status
            .sent(self.peer.conn, t, &version, &nonce);
        self.out.send(Ok(resp)).await.map_err(|_| ())
    }

    async fn send_syncz(&mut self) -> Result<(), ()> {
        let nonce = self.peer.next_nonce();
        let resources = self.peer.shared.status.syncz();
        let resp = DiscoveryResponse {
            version_info: self.peer.responses().to_string(),
            resources,
            type_url: SYNCZ.into(),
            nonce,
            control_plane: self.peer.shared.control_plane(),
            ..Default::default()
        };
        self.out.send(Ok(resp)).await.map_err(|_| ())
    }
}
