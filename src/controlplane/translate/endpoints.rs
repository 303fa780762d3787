//! ClusterLoadAssignment: the healthy endpoints of one service port, grouped by locality and
//! priority as seen from the proxy, each with its weight.

use super::PortContext;
use super::cluster::{group_probe, probe_port};
use crate::model::endpoint::Endpoint;
use crate::model::locality::Locality;
use envoy_types::pb::envoy::config::core::v3::{self as core, address, socket_address};
use envoy_types::pb::envoy::config::endpoint::v3::{
    ClusterLoadAssignment, Endpoint as EnvoyEndpoint, LbEndpoint, LocalityLbEndpoints, endpoint,
    lb_endpoint,
};
use envoy_types::pb::google::protobuf::UInt32Value;

pub fn socket(addr: &str, port: u32) -> core::Address {
    let inner = match addr.strip_prefix("unix://") {
        Some(path) => address::Address::Pipe(core::Pipe {
            path: path.to_string(),
            mode: 0,
        }),
        None => address::Address::SocketAddress(core::SocketAddress {
            address: addr.to_string(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ..Default::default()
        }),
    };
    core::Address {
        address: Some(inner),
    }
}

fn lb_endpoint(ep: &Endpoint, health_port: Option<u32>) -> LbEndpoint {
    LbEndpoint {
        host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(EnvoyEndpoint {
            address: Some(socket(&ep.address, ep.port)),
            health_check_config: health_port.map(|p| endpoint::HealthCheckConfig {
                port_value: p,
                ..Default::default()
            }),
            ..Default::default()
        })),
        load_balancing_weight: Some(UInt32Value {
            value: ep.weight.max(1),
        }),
        ..Default::default()
    }
}

fn envoy_locality(l: &Locality) -> Option<core::Locality> {
    (!l.is_empty()).then(|| core::Locality {
        region: l.region.clone(),
        zone: l.zone.clone(),
        sub_zone: l.subzone.clone(),
    })
}

/// The endpoints the model expects this proxy to get (healthy ones only: istiod drops the
/// others), one LocalityLbEndpoints per priority and locality as written, weighted as istiod
/// weighs them.
pub fn load_assignment(
    store: &crate::model::store::Store,
    ctx: &PortContext<'_>,
    name: &str,
) -> ClusterLoadAssignment {
    let health_port = group_probe(store, ctx).as_ref().and_then(probe_port);
    let endpoints = ctx
        .cluster
        .groups
        .iter()
        .map(|g| LocalityLbEndpoints {
            locality: envoy_locality(&g.locality),
            lb_endpoints: g
                .endpoints
                .iter()
                .map(|ep| lb_endpoint(ep, health_port))
                .collect(),
            // Envoy refuses a zero weight; only a uint32 sum that wraps to exactly 0 has one.
            load_balancing_weight: Some(UInt32Value {
                value: g.weight.max(1),
            }),
            priority: g.priority,
            ..Default::default()
        })
        .collect();
    ClusterLoadAssignment {
        cluster_name: name.into(),
        endpoints,
        ..Default::default()
    }
}
