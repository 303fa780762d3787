//! Registry → Envoy resources for one proxy, as istiod builds them for these kinds: a cluster
//! `outbound|PORT||HOST` per ServiceEntry port and host, its endpoints (EDS) with weight,
//! locality and priority relative to the proxy, DR load balancing and outlier detection, active
//! health checks from a WorkloadGroup probe, and one HTTP listener with routes by Host.

mod cluster;
mod duration;
mod endpoints;
mod listener;

pub use listener::{LISTENER_NAME, ROUTE_NAME};

use super::any::{CLUSTER, ENDPOINT, LISTENER, ROUTE, pack};
use super::node::NodeInfo;
use super::resources::Resources;
use crate::model::endpoint::destination_rule;
use crate::model::expected::{self, ExpectedCluster};
use crate::model::object::{DestinationRule, Object, ServiceEntry};
use crate::model::share::Viewpoint;
use crate::model::store::Store;

pub use crate::model::planes::cluster_name;

/// One cluster as the translation sees it: what the model expects the proxy to get, and the
/// objects it comes from.
pub struct PortContext<'a> {
    pub se: &'a ServiceEntry,
    /// The DestinationRule that applies, looked up once per cluster.
    pub dr: Option<&'a DestinationRule>,
    pub cluster: &'a ExpectedCluster,
}

/// `rule`: how the istiod this stands in for picks among namespaces declaring one host.
pub fn resources(
    store: &Store,
    node: &NodeInfo,
    rule: crate::model::visibility::HostRule,
) -> Resources {
    let mut out = Resources::default();
    let view = Viewpoint {
        locality: node.locality.clone(),
        labels: node.labels.clone(),
        namespace: node.namespace.clone(),
        rule,
        ..Default::default()
    };
    let mut routes = listener::RouteBuilder::default();
    for (name, ec) in &expected::clusters(store, &view) {
        let Some(Object::ServiceEntry(se)) = store.get(&ec.service).map(|e| &e.object) else {
            continue;
        };
        let dr = destination_rule(store, se);
        let ctx = PortContext {
            se,
            dr,
            cluster: ec,
        };
        let Some(c) = cluster::build(store, &ctx, name) else {
            continue;
        };
        let eds = cluster::is_eds(&c);
        out.insert(CLUSTER, name.clone(), pack(&c));
        if eds {
            out.insert(
                ENDPOINT,
                name.clone(),
                pack(&endpoints::load_assignment(store, &ctx, name)),
            );
        }
        if ec.subset.is_none() {
            let hash = dr
                .and_then(|d| d.spec.traffic_policy.as_ref())
                .and_then(|t| t.load_balancer.as_ref())
                .and_then(|l| l.consistent_hash.as_ref());
            if let Some(port) = se.spec.ports.get(ec.port_index) {
                routes.add(&ec.host, port, name, hash);
            }
        }
    }
    out.insert(
        LISTENER,
        LISTENER_NAME.to_string(),
        pack(&listener::http_listener(&node.listen)),
    );
    out.insert(ROUTE, ROUTE_NAME.to_string(), pack(&routes.build()));
    // Every type exists, even when empty, so wildcard subscribers get an answer.
    for t in super::any::PUSH_ORDER {
        out.by_type.entry(t.to_string()).or_default();
    }
    out
}
