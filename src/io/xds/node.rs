//! The Node the console sends. It must look like a proxy to istiod (a `sidecar~IP~ID~DOMAIN`
//! id in the namespace of its credential) without ever being mistaken for a workload: an IP
//! from the documentation range that no workload has, and none of the metadata that makes
//! istiod register or configure a workload (PROXY_CONFIG, AUTO_REGISTER_GROUP, WORKLOAD_ENTRY).

use crate::model::locality::Locality;
use envoy_types::pb::envoy::config::core::v3::{self as core, Node};
use envoy_types::pb::google::protobuf::{Struct, Value, value::Kind};
use std::collections::HashMap;

/// TEST-NET-1 (RFC 5737): never a workload's address.
pub const CONSOLE_IP: &str = "192.0.2.1";
/// Metadata key that tells any reader (and meshdeck's own control plane) this is a console.
pub const CONSOLE_KEY: &str = "MESHDECK_CONSOLE";
/// Keys a console must never send: each makes istiod treat the node as a workload.
pub const FORBIDDEN_KEYS: [&str; 3] = ["PROXY_CONFIG", "AUTO_REGISTER_GROUP", "WORKLOAD_ENTRY"];
/// The Istio release whose protocol the console speaks; istiod gates features on it.
pub const ISTIO_VERSION: &str = "1.28.0";

pub fn console_node(namespace: &str, locality: Option<&Locality>) -> Node {
    let pid = std::process::id();
    let mut fields = HashMap::new();
    for (k, v) in [
        ("ISTIO_VERSION", ISTIO_VERSION.to_string()),
        ("NAMESPACE", namespace.to_string()),
        (CONSOLE_KEY, "true".to_string()),
    ] {
        fields.insert(
            k.to_string(),
            Value {
                kind: Some(Kind::StringValue(v)),
            },
        );
    }
    Node {
        id: format!(
            "sidecar~{CONSOLE_IP}~meshdeck-{pid}.{namespace}~{namespace}.svc.cluster.local"
        ),
        cluster: "meshdeck".into(),
        metadata: Some(Struct { fields }),
        locality: locality.map(|l| core::Locality {
            region: l.region.clone(),
            zone: l.zone.clone(),
            sub_zone: l.subzone.clone(),
        }),
        user_agent_name: "meshdeck".into(),
        user_agent_version_type: Some(core::node::UserAgentVersionType::UserAgentVersion(
            env!("CARGO_PKG_VERSION").into(),
        )),
        ..Default::default()
    }
}

pub fn is_console(node: &Node) -> bool {
    node.metadata
        .as_ref()
        .is_some_and(|m| m.fields.contains_key(CONSOLE_KEY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_node_is_no_workload() {
        let n = console_node("istio-system", None);
        let parts: Vec<&str> = n.id.split('~').collect();
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0], "sidecar");
        assert_eq!(parts[1], CONSOLE_IP);
        assert!(parts[2].ends_with(".istio-system"));
        let md = n.metadata.as_ref().unwrap();
        for k in FORBIDDEN_KEYS {
            assert!(!md.fields.contains_key(k), "{k} must not be sent");
        }
        assert!(
            !md.fields.contains_key("LABELS"),
            "labels could match a workloadSelector"
        );
        assert!(is_console(&n));
    }
}
