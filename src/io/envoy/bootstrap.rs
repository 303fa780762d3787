//! Bootstrap for an Envoy that gets everything from meshdeck's control plane over ADS.

use crate::controlplane::node::LISTEN_KEY;
use crate::model::locality::Locality;
use serde_json::{Value, json};
use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiType {
    StateOfTheWorld,
    Delta,
}

#[derive(Debug, Clone)]
pub struct ProxySpec {
    pub id: String,
    pub locality: Locality,
    pub xds: SocketAddr,
    pub admin: SocketAddr,
    pub listen: SocketAddr,
    pub api: ApiType,
    /// A metrics service to push stats to every second (meshdeck's receiver).
    pub metrics: Option<SocketAddr>,
    /// Node metadata NAMESPACE and LABELS, as an Istio sidecar sends them: the namespace
    /// decides which ServiceEntries the proxy gets, the labels failoverPriority.
    pub namespace: Option<String>,
    pub labels: crate::model::meta::Labels,
}

/// A static gRPC (HTTP/2) cluster with one loopback endpoint.
fn grpc_cluster(name: &str, addr: &SocketAddr) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}}
            }
        },
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address": sock(addr)}}]}]
        }
    })
}

fn sock(a: &SocketAddr) -> Value {
    json!({"socket_address": {"address": a.ip().to_string(), "port_value": a.port()}})
}

fn node_metadata(p: &ProxySpec) -> Value {
    let mut m = json!({LISTEN_KEY: p.listen.to_string()});
    if let Some(ns) = &p.namespace {
        m["NAMESPACE"] = json!(ns);
    }
    if !p.labels.is_empty() {
        m["LABELS"] = json!(p.labels);
    }
    m
}

pub fn bootstrap(p: &ProxySpec) -> Value {
    let mut clusters = vec![grpc_cluster("meshdeck_xds", &p.xds)];
    let mut b = json!({
        "node": {
            "id": p.id,
            "cluster": "meshdeck-demo",
            "locality": {"region": p.locality.region, "zone": p.locality.zone, "sub_zone": p.locality.subzone},
            "metadata": node_metadata(p)
        },
        "admin": {"address": sock(&p.admin)},
        "dynamic_resources": {
            "ads_config": {
                "api_type": match p.api { ApiType::StateOfTheWorld => "GRPC", ApiType::Delta => "DELTA_GRPC" },
                "transport_api_version": "V3",
                "set_node_on_first_message_only": true,
                "grpc_services": [{"envoy_grpc": {"cluster_name": "meshdeck_xds"}}]
            },
            "cds_config": {"ads": {}, "resource_api_version": "V3"},
            "lds_config": {"ads": {}, "resource_api_version": "V3"}
        },
    });
    if let Some(m) = &p.metrics {
        clusters.push(grpc_cluster("meshdeck_metrics", m));
        // Full stat names (no tags as labels) and Envoy's own interval quantiles: what
        // `io/envoy/metrics_push.rs` reads.
        b["stats_sinks"] = json!([{
            "name": "envoy.stat_sinks.metrics_service",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.config.metrics.v3.MetricsServiceConfig",
                "transport_api_version": "V3",
                "histogram_emit_mode": "SUMMARY",
                "grpc_service": {"envoy_grpc": {"cluster_name": "meshdeck_metrics"}}
            }
        }]);
        b["stats_flush_interval"] = json!("1s");
    }
    b["static_resources"] = json!({ "clusters": clusters });
    b
}
