//! What the control plane needs to know about a connected proxy, read from its Node.

use crate::model::locality::Locality;
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::google::protobuf::value::Kind;

/// Node metadata key for the address the proxy's HTTP listener binds (default below).
pub const LISTEN_KEY: &str = "MESHDECK_LISTEN";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:15001";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NodeInfo {
    pub id: String,
    pub cluster: String,
    pub locality: Option<Locality>,
    pub listen: String,
    /// The namespace istiod would read the proxy's config from (metadata NAMESPACE, else the
    /// id's DNS domain); it decides which ServiceEntries the proxy gets.
    pub namespace: Option<String>,
    /// Metadata LABELS: what `failoverPriority` and Sidecar selectors compare.
    pub labels: crate::model::meta::Labels,
}

impl NodeInfo {
    pub fn from_node(node: &Node) -> NodeInfo {
        let locality = node.locality.as_ref().map(|l| Locality {
            region: l.region.clone(),
            zone: l.zone.clone(),
            subzone: l.sub_zone.clone(),
        });
        let listen = node
            .metadata
            .as_ref()
            .and_then(|m| m.fields.get(LISTEN_KEY))
            .and_then(|v| match &v.kind {
                Some(Kind::StringValue(s)) => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let labels = node
            .metadata
            .as_ref()
            .and_then(|m| m.fields.get("LABELS"))
            .and_then(|v| match &v.kind {
                Some(Kind::StructValue(s)) => Some(
                    s.fields
                        .iter()
                        .filter_map(|(k, v)| match &v.kind {
                            Some(Kind::StringValue(s)) => Some((k.clone(), s.clone())),
                            _ => None,
                        })
                        .collect(),
                ),
                _ => None,
            })
            .unwrap_or_default();
        let namespace = super::auth::config_namespace(node);
        NodeInfo {
            id: node.id.clone(),
            cluster: node.cluster.clone(),
            locality: locality.filter(|l| !l.is_empty()),
            listen,
            namespace: (!namespace.is_empty()).then_some(namespace),
            labels,
        }
    }
}
