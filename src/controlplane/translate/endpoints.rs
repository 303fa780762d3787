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
use std::collections::BTreeMap;

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

/// Healthy endpoints only: istiod drops unhealthy WorkloadEntries instead of sending them.
pub fn load_assignment(
    store: &crate::model::store::Store,
    ctx: &PortContext<'_>,
    name: &str,
) -> ClusterLoadAssignment {
    let Some(port) = ctx.derived.ports.get(ctx.port_index) else {
        return ClusterLoadAssignment {
            cluster_name: name.into(),
            ..Default::default()
        };
    };
    let health_port = group_probe(store, ctx).as_ref().and_then(probe_port);
    let mut groups: BTreeMap<(u32, &Locality), (Vec<LbEndpoint>, f64, u32)> = BTreeMap::new();
    for ep in port.endpoints.iter().filter(|e| e.health.is_healthy()) {
        // Envoy wants IPs in EDS; names belong to DNS clusters.
        if ctx.se.spec.resolution_or_default() == "STATIC"
            && ep.address.parse::<std::net::IpAddr>().is_err()
            && !ep.address.starts_with("unix://")
        {
            continue;
        }
        let priority = ep.priority.unwrap_or(0);
        let g = groups.entry((priority, &ep.locality)).or_default();
        g.0.push(lb_endpoint(ep, health_port));
        g.1 += ep.share;
        g.2 += ep.weight.max(1);
    }
    let endpoints = groups
        .into_iter()
        .map(
            |((priority, loc), (lb_endpoints, share, weight_sum))| LocalityLbEndpoints {
                locality: envoy_locality(loc),
                lb_endpoints,
                // With locality-weighted LB (DR distribute) Envoy splits by these; otherwise they
                // are the sum of the endpoint weights, as istiod sends them.
                load_balancing_weight: Some(UInt32Value {
                    value: if share > 0.0 && weight_sum > 0 {
                        ((share * 10_000.0).round() as u32).max(1)
                    } else {
                        weight_sum.max(1)
                    },
                }),
                priority,
                ..Default::default()
            },
        )
        .collect();
    ClusterLoadAssignment {
        cluster_name: name.into(),
        endpoints,
        ..Default::default()
    }
}

/// A DNS service with no endpoints: the host name itself.
pub fn single(name: &str, host: &str, port: u32) -> ClusterLoadAssignment {
    ClusterLoadAssignment {
        cluster_name: name.into(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints: vec![LbEndpoint {
                host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(EnvoyEndpoint {
                    address: Some(socket(host, port)),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}
