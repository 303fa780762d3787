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
}

pub fn bootstrap(p: &ProxySpec) -> Value {
    let sock = |a: &SocketAddr| json!({"socket_address": {"address": a.ip().to_string(), "port_value": a.port()}});
    json!({
        "node": {
            "id": p.id,
            "cluster": "meshdeck-demo",
            "locality": {"region": p.locality.region, "zone": p.locality.zone, "sub_zone": p.locality.subzone},
            "metadata": {LISTEN_KEY: p.listen.to_string()}
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
        "static_resources": {
            "clusters": [{
                "name": "meshdeck_xds",
                "type": "STATIC",
                "connect_timeout": "1s",
                "typed_extension_protocol_options": {
                    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                        "explicit_http_config": {"http2_protocol_options": {}}
                    }
                },
                "load_assignment": {
                    "cluster_name": "meshdeck_xds",
                    "endpoints": [{"lb_endpoints": [{"endpoint": {"address": sock(&p.xds)}}]}]
                }
            }]
        }
    })
}
