//! Received resources → the model's control-plane types.

use crate::model::locality::Locality;
use crate::model::planes::HostKey;
use crate::model::planes::control::{SentCluster, SentEndpoint};
use envoy_types::pb::envoy::config::cluster::v3::{Cluster, cluster};
use envoy_types::pb::envoy::config::core::v3::{HealthStatus, address, socket_address};
use envoy_types::pb::envoy::config::endpoint::v3::{ClusterLoadAssignment, lb_endpoint};
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use std::collections::BTreeMap;

pub const CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
pub const ENDPOINT: &str = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

pub type Endpoints = BTreeMap<HostKey, SentEndpoint>;

fn check_type(any: &Any, want: &str) -> Result<(), String> {
    if any.type_url != want {
        return Err(format!("expected {want}, got {}", any.type_url));
    }
    Ok(())
}

pub fn cluster(any: &Any) -> Result<(String, SentCluster), String> {
    check_type(any, CLUSTER)?;
    let c = Cluster::decode(any.value.as_slice()).map_err(|e| format!("Cluster: {e}"))?;
    let discovery = match c.cluster_discovery_type {
        Some(cluster::ClusterDiscoveryType::Type(t)) => cluster::DiscoveryType::try_from(t)
            .map(|d| d.as_str_name().to_string())
            .unwrap_or_else(|_| format!("type {t}")),
        Some(cluster::ClusterDiscoveryType::ClusterType(ct)) => ct.name,
        None => "STATIC".into(),
    };
    // Non-EDS clusters carry their endpoints inline.
    let endpoints = if discovery == "EDS" {
        None
    } else {
        Some(
            c.load_assignment
                .as_ref()
                .map(assignment_endpoints)
                .unwrap_or_default(),
        )
    };
    Ok((
        c.name,
        SentCluster {
            discovery,
            endpoints,
        },
    ))
}

pub fn assignment(any: &Any) -> Result<(String, Endpoints), String> {
    check_type(any, ENDPOINT)?;
    let cla = ClusterLoadAssignment::decode(any.value.as_slice())
        .map_err(|e| format!("ClusterLoadAssignment: {e}"))?;
    let eps = assignment_endpoints(&cla);
    Ok((cla.cluster_name, eps))
}

fn assignment_endpoints(cla: &ClusterLoadAssignment) -> Endpoints {
    let mut out = BTreeMap::new();
    for group in &cla.endpoints {
        let locality = group
            .locality
            .as_ref()
            .map(|l| Locality {
                region: l.region.clone(),
                zone: l.zone.clone(),
                subzone: l.sub_zone.clone(),
            })
            .unwrap_or_default();
        for lb in &group.lb_endpoints {
            let Some(lb_endpoint::HostIdentifier::Endpoint(ep)) = &lb.host_identifier else {
                continue;
            };
            let Some(address::Address::SocketAddress(sa)) =
                ep.address.as_ref().and_then(|a| a.address.as_ref())
            else {
                continue;
            };
            let port = match sa.port_specifier {
                Some(socket_address::PortSpecifier::PortValue(p)) => p,
                _ => 0,
            };
            let health = HealthStatus::try_from(lb.health_status)
                .map(|h| h.as_str_name().to_string())
                .unwrap_or_else(|_| "UNKNOWN".into());
            out.insert(
                HostKey::new(sa.address.clone(), port),
                SentEndpoint {
                    // Envoy's default when the weight is absent.
                    weight: lb.load_balancing_weight.as_ref().map_or(1, |w| w.value),
                    locality: locality.clone(),
                    priority: group.priority,
                    health,
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controlplane::translate;
    use crate::model::store::Store;

    #[test]
    fn decodes_what_the_embedded_control_plane_sends() {
        let text = std::fs::read_to_string("examples/registry/ratings.yaml").unwrap();
        let mut store = Store::new();
        for e in
            crate::io::manifests::parse::parse_text(std::path::Path::new("x.yaml"), &text).entries
        {
            store.upsert(e);
        }
        let node = crate::controlplane::node::NodeInfo::default();
        let res = translate::resources(&store, &node, Default::default());
        let clusters = res.of(CLUSTER).unwrap();
        assert!(!clusters.is_empty());
        for v in clusters.values() {
            let (name, c) = cluster(&v.any).unwrap();
            assert!(name.starts_with("outbound|"), "{name}");
            assert!(!c.discovery.is_empty());
        }
        let eds = res.of(ENDPOINT).unwrap();
        let mut seen = 0;
        for v in eds.values() {
            let (_, eps) = assignment(&v.any).unwrap();
            seen += eps.len();
            assert!(
                eps.values()
                    .all(|e| e.weight >= 1 && e.health == "UNKNOWN" || e.health == "HEALTHY")
            );
        }
        assert!(seen > 0);
        assert!(
            assignment(&clusters.values().next().unwrap().any).is_err(),
            "wrong type is an error"
        );
    }
}
