//! The three planes of one endpoint: what was declared (the store), what the control plane
//! sends (EDS/CDS as an xDS client receives them), what each Envoy holds and does (`/clusters`
//! and counters) — and where they disagree. Pure data and pure functions: the xDS client and
//! the admin poller in `io/` fill these types, `update` stores them, views and `get` read them.

pub mod control;
pub mod data;
pub mod drift;
pub mod series;
pub mod stats;
pub mod verify;

use control::{ControlView, ProxySync};
use data::ProxyData;
use serde::Serialize;

/// What every plane shows now, borrowed for one question: the drift of an endpoint
/// (`drift.rs`) or a step of the edit-verify loop (`verify.rs`).
pub struct Planes<'a> {
    pub control: Option<&'a ControlView>,
    pub syncs: &'a [ProxySync],
    pub proxies: Vec<&'a ProxyData>,
}

/// Envoy's name for the cluster of one ServiceEntry host and port, as istiod names it.
pub fn cluster_name(port: u32, host: &str) -> String {
    format!("outbound|{port}||{host}")
}

/// Envoy's name for one DestinationRule subset of a ServiceEntry host and port.
pub fn subset_cluster_name(port: u32, subset: &str, host: &str) -> String {
    format!("outbound|{port}|{subset}|{host}")
}

/// `outbound|PORT|SUBSET|HOST` → (port, host); None for any other cluster (inbound, admin, …).
pub fn parse_cluster_name(name: &str) -> Option<(u32, &str)> {
    let mut it = name.splitn(4, '|');
    if it.next()? != "outbound" {
        return None;
    }
    let port = it.next()?.parse().ok()?;
    let _subset = it.next()?;
    Some((port, it.next()?))
}

/// An endpoint as every plane can name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct HostKey {
    pub address: String,
    pub port: u32,
}

impl HostKey {
    pub fn new(address: impl Into<String>, port: u32) -> HostKey {
        HostKey {
            address: address.into(),
            port,
        }
    }
}

impl std::fmt::Display for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.address, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names_round_trip() {
        assert_eq!(
            parse_cluster_name(&cluster_name(8080, "a.b.internal")),
            Some((8080, "a.b.internal"))
        );
        assert_eq!(
            parse_cluster_name("outbound|80|v1|a.internal"),
            Some((80, "a.internal"))
        );
        assert_eq!(parse_cluster_name("inbound|80||a"), None);
        assert_eq!(parse_cluster_name("outbound|x||a"), None);
    }
}
