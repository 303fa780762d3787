//! What both ADS flavours do the same way for a connected proxy: check and learn its node from
//! the first request, translate the registry for it, number the responses, and tell a reply to
//! the latest response (an ACK or a NACK) from a stale one.

use super::any::short;
use super::node::NodeInfo;
use super::resources::Resources;
use super::server::Shared;
use super::status::Mode;
use crate::io::xds::identity::ServiceAccount;
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::google::rpc::Status as RpcStatus;
use std::sync::Arc;
use tonic::Status;

fn first_node(node: Option<&Node>) -> Result<&Node, Status> {
    node.ok_or_else(|| Status::invalid_argument("the first request must carry a node"))
}

/// What woke a stream's task.
pub enum Wake<R> {
    Request(R),
    /// The registry changed: translate again and push what moved.
    Registry,
    /// The status board changed (for a syncz subscriber).
    Board,
    /// The client went away, or the server is shutting down.
    Closed,
}

/// What a stream waits on: its client's requests, the registry, and (for syncz) the board.
pub struct Waits<R> {
    pub inbound: tonic::Streaming<R>,
    registry: tokio::sync::watch::Receiver<Arc<crate::model::store::Store>>,
    board: tokio::sync::watch::Receiver<u64>,
}

impl<R> Waits<R> {
    pub fn new(inbound: tonic::Streaming<R>, shared: &Shared) -> Self {
        Waits {
            inbound,
            registry: shared.registry.clone(),
            board: shared.status.subscribe(),
        }
    }

    /// The next thing to do; the board counts only when `board` (someone asked for syncz).
    pub async fn next(&mut self, board: bool) -> Wake<R> {
        tokio::select! {
            req = self.inbound.message() => match req {
                Ok(Some(r)) => Wake::Request(r),
                _ => Wake::Closed,
            },
            changed = self.registry.changed() => match changed {
                Ok(()) => Wake::Registry,
                Err(_) => Wake::Closed,
            },
            changed = self.board.changed(), if board => match changed {
                Ok(()) => Wake::Board,
                Err(_) => Wake::Closed,
            },
        }
    }
}

pub struct Peer {
    pub conn: u64,
    pub shared: Arc<Shared>,
    pub node: Option<NodeInfo>,
    /// The registry translated for this proxy, or nothing before it said who it is.
    pub resources: Option<Resources>,
    /// The token's account, until the first request's node has been checked against it.
    unchecked: Option<ServiceAccount>,
    responses: u64,
}

impl Peer {
    pub fn new(conn: u64, shared: Arc<Shared>, caller: Option<ServiceAccount>) -> Peer {
        Peer {
            conn,
            shared,
            node: None,
            resources: None,
            unchecked: caller,
            responses: 0,
        }
    }

    /// istiod's check of a stream opened with a token: on its first request, the node must
    /// be in the token's namespace (see `auth`). Later requests are not checked again.
    pub fn admit(&mut self, node: Option<&Node>) -> Result<(), Status> {
        let Some(caller) = self.unchecked.take() else {
            return Ok(());
        };
        super::auth::authorize(Some(&caller), first_node(node)?)
    }

    /// Every proxy request passes here first: `admit`, then the node the protocol requires
    /// on the first request registers the proxy.
    pub fn greet(&mut self, node: Option<&Node>, mode: Mode) -> Result<(), Status> {
        self.admit(node)?;
        if self.node.is_none() {
            let node = first_node(node)?;
            self.node = Some(NodeInfo::from_node(node));
            self.shared.status.connect(self.conn, node.clone(), mode);
            self.recompute();
        }
        Ok(())
    }

    /// Translates the registry again (it changed, or the node is known now).
    pub fn recompute(&mut self) {
        self.resources = self.node.as_ref().map(|node| {
            let store = self.shared.registry.borrow().clone();
            super::translate::resources(&store, node, self.shared.host_rule())
        });
    }

    /// A fresh nonce for the next response on this stream.
    pub fn next_nonce(&mut self) -> String {
        self.responses += 1;
        format!("{}-{}", self.conn, self.responses)
    }

    pub fn responses(&self) -> u64 {
        self.responses
    }

    /// Whether a request answers the response `sent` (a stale nonce is logged and ignored, as
    /// the protocol says). An empty nonce answers nothing.
    pub fn answers(&self, type_url: &str, sent: Option<&str>, nonce: &str) -> bool {
        if nonce.is_empty() {
            return false;
        }
        let fresh = sent == Some(nonce);
        if !fresh {
            tracing::debug!(conn = self.conn, "{}: stale nonce {nonce}", short(type_url));
        }
        fresh
    }

    /// An answer to our response `nonce`: NACK when it carries an error, ACK otherwise.
    pub fn record_reply(
        &self,
        type_url: &str,
        version: &str,
        nonce: &str,
        error: Option<&RpcStatus>,
    ) {
        let conn = self.conn;
        match error {
            Some(err) => {
                tracing::warn!(
                    conn,
                    "{} NACK of {version}: {}",
                    short(type_url),
                    err.message
                );
                self.shared
                    .status
                    .nacked(conn, type_url, version, &err.message);
            }
            None => self.shared.status.acked(conn, type_url, version, nonce),
        }
    }

    pub fn disconnect(&self) {
        self.shared.status.disconnect(self.conn);
    }
}
