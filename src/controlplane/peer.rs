//! What both ADS flavours do the same way for a connected proxy: learn its node from the first
//! request, translate the registry for it, and record an ACK or a NACK.

use super::any::short;
use super::node::NodeInfo;
use super::resources::Resources;
use super::server::Shared;
use super::status::Mode;
use crate::io::xds::identity::ServiceAccount;
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::google::rpc::Status as RpcStatus;
use tonic::Status;

/// Registers the proxy on its first request; the protocol requires that request to carry the
/// node. Returns whether this request identified it.
pub fn identify(
    shared: &Shared,
    conn: u64,
    slot: &mut Option<NodeInfo>,
    node: Option<&Node>,
    mode: Mode,
) -> Result<bool, Status> {
    if slot.is_some() {
        return Ok(false);
    }
    let node =
        node.ok_or_else(|| Status::invalid_argument("the first request must carry a node"))?;
    *slot = Some(NodeInfo::from_node(node));
    shared.status.connect(conn, node.clone(), mode);
    Ok(true)
}

/// istiod's check of the first request on a stream opened with a token: the node must be
/// in the token's namespace (see `auth`). Later requests are not checked again.
pub fn admit(unchecked: &mut Option<ServiceAccount>, node: Option<&Node>) -> Result<(), Status> {
    let Some(caller) = unchecked.take() else {
        return Ok(());
    };
    let node =
        node.ok_or_else(|| Status::invalid_argument("the first request must carry a node"))?;
    super::auth::authorize(Some(&caller), node)
}

/// The registry translated for this proxy, or nothing before it said who it is.
pub fn resources(shared: &Shared, node: Option<&NodeInfo>) -> Option<Resources> {
    let node = node?;
    let store = shared.registry.borrow().clone();
    Some(super::translate::resources(
        &store,
        node,
        shared.host_rule(),
    ))
}

/// An answer to our response `nonce`: NACK when it carries an error, ACK otherwise.
pub fn record_reply(
    shared: &Shared,
    conn: u64,
    type_url: &str,
    version: &str,
    nonce: &str,
    error: Option<&RpcStatus>,
) {
    match error {
        Some(err) => {
            tracing::warn!(
                conn,
                "{} NACK of {version}: {}",
                short(type_url),
                err.message
            );
            shared.status.nacked(conn, type_url, version, &err.message);
        }
        None => shared.status.acked(conn, type_url, version, nonce),
    }
}
