//! Type URLs and packing messages into `google.protobuf.Any`.

use envoy_types::pb::google::protobuf::Any;

pub const CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
pub const ENDPOINT: &str = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
pub const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
pub const ROUTE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
/// istiod's debug type: sync status of every connected proxy.
pub const SYNCZ: &str = "istio.io/debug/syncz";
pub const CLIENT_CONFIG: &str = "type.googleapis.com/envoy.service.status.v3.ClientConfig";

/// The order in which a change is pushed: clusters before their endpoints, listeners before
/// their routes, so that Envoy never points at something it does not have.
pub const PUSH_ORDER: [&str; 4] = [CLUSTER, ENDPOINT, LISTENER, ROUTE];

pub fn pack<M: prost::Message + prost::Name>(m: &M) -> Any {
    Any {
        type_url: M::type_url(),
        value: m.encode_to_vec(),
    }
}

pub fn short(type_url: &str) -> &str {
    match type_url {
        CLUSTER => "CDS",
        ENDPOINT => "EDS",
        LISTENER => "LDS",
        ROUTE => "RDS",
        SYNCZ => "syncz",
        other => other.rsplit('.').next().unwrap_or(other),
    }
}
