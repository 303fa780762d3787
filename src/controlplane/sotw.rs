//! A state-of-the-world ADS stream: per type, the subscription, what was last sent and its
//! nonce. ACKs and NACKs are matched by nonce; a stale nonce is ignored, as the protocol says.

use super::any::{CLUSTER, LISTENER, PUSH_ORDER, SYNCZ, short};
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
    conn: u64,
    shared: Arc<Shared>,
    out: mpsc::Sender<Result<DiscoveryResponse, Status>>,
    types: BTreeMap<String, TypeState>,
    resources: Option<Resources>,
    node: Option<super::node::NodeInfo>,
    nonce: u64,
    /// The token's account, until the first request's node has been checked against it.
    unchecked: Option<ServiceAccount>,
}

impl Stream {
    pub fn new(
        conn: u64,
        shared: Arc<Shared>,
        out: mpsc::Sender<Result<DiscoveryResponse, Status>>,
        caller: Option<ServiceAccount>,
    ) -> Self {
        Stream {
            conn,
            shared,
            out,
            types: BTreeMap::new(),
            resources: None,
            node: None,
            nonce: 0,
            unchecked: caller,
        }
    }

    pub async fn run(mut self, mut inbound: tonic::Streaming<DiscoveryRequest>) {
        let mut registry = self.shared.registry.clone();
        let mut board = self.shared.status.subscribe();
        loop {
            tokio::select! {
                req = inbound.message() => match req {
                    Ok(Some(req)) => {
                        if self.on_request(req).await.is_err() {
                            break;
                        }
                    }
                    _ => break,
                },
                changed = registry.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    self.recompute();
                    for t in PUSH_ORDER {
                        if self.send_if_changed(t).await.is_err() {
                            break;
                        }
                    }
                }
                changed = board.changed(), if self.types.contains_key(SYNCZ) => {
                    if changed.is_err() || self.send_syncz().await.is_err() {
                        break;
                    }
                }
            }
        }
        self.shared.status.disconnect(self.conn);
    }

    fn recompute(&mut self) {
        self.resources = super::peer::resources(&self.shared, self.node.as_ref());
    }

    async fn on_request(&mut self, req: DiscoveryRequest) -> Result<(), ()> {
        let t = req.type_url.clone();
        if let Err(status) = super::peer::admit(&mut self.unchecked, req.node.as_ref()) {
            let _ = self.out.send(Err(status)).await;
            return Err(());
        }
        if t == SYNCZ {
            self.types.entry(t).or_default();
            return self.send_syncz().await;
        }
        match super::peer::identify(
            &self.shared,
            self.conn,
            &mut self.node,
            req.node.as_ref(),
            Mode::StateOfTheWorld,
        ) {
            Ok(true) => self.recompute(),
            Ok(false) => {}
            Err(status) => {
                let _ = self.out.send(Err(status)).await;
                return Err(());
            }
        }
        let state = self.types.entry(t.clone()).or_default();
        if !req.response_nonce.is_empty() {
            if state.nonce.as_deref() != Some(req.response_nonce.as_str()) {
                tracing::debug!(
                    conn = self.conn,
                    "{}: stale nonce {}",
                    short(&t),
                    req.response_nonce
                );
                return Ok(());
            }
            super::peer::record_reply(
                &self.shared,
                self.conn,
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

    fn selected(&self, t: &str) -> Vec<(&String, &Versioned)> {
        let (Some(state), Some(res)) = (self.types.get(t), self.resources.as_ref()) else {
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
        if !self.types.contains_key(t) || self.resources.is_none() {
            return Ok(());
        }
        let items = self.selected(t);
        let version = Resources::set_version(items.iter().copied());
        if self.types.get(t).and_then(|s| s.sent_version.as_deref()) == Some(version.as_str()) {
            return Ok(());
        }
        let resources = items.iter().map(|(_, v)| v.any.clone()).collect();
        self.nonce += 1;
        let nonce = format!("{}-{}", self.conn, self.nonce);
        let resp = DiscoveryResponse {
            version_info: version.clone(),
            resources,
            type_url: t.to_string(),
            nonce: nonce.clone(),
            control_plane: self.shared.control_plane(),
            ..Default::default()
        };
        if let Some(s) = self.types.get_mut(t) {
            s.sent_version = Some(version.clone());
            s.nonce = Some(nonce.clone());
        }
        self.shared.status.sent(self.conn, t, &version, &nonce);
        self.out.send(Ok(resp)).await.map_err(|_| ())
    }

    async fn send_syncz(&mut self) -> Result<(), ()> {
        self.nonce += 1;
        let resources = self.shared.status.syncz();
        let resp = DiscoveryResponse {
            version_info: format!("{}", self.nonce),
            resources,
            type_url: SYNCZ.into(),
            nonce: format!("{}-{}", self.conn, self.nonce),
            control_plane: self.shared.control_plane(),
            ..Default::default()
        };
        self.out.send(Ok(resp)).await.map_err(|_| ())
    }
}
