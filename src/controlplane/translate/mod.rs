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
use crate::model::endpoint::{ServiceEndpoints, derive, destination_rule};
use crate::model::object::{DestinationRule, Kind, Object, ServiceEntry};
use crate::model::share::Viewpoint;
use crate::model::store::Store;

pub use crate::model::planes::cluster_name;

/// One service port as the translation sees it.
pub struct PortContext<'a> {
    pub se: &'a ServiceEntry,
    /// The DestinationRule that applies, looked up once per ServiceEntry.
    pub dr: Option<&'a DestinationRule>,
    pub derived: &'a ServiceEndpoints,
    pub port_index: usize,
    pub host: &'a str,
}

pub fn resources(store: &Store, node: &NodeInfo) -> Resources {
    let mut out = Resources::default();
    let view = Viewpoint {
        locality: node.locality.clone(),
        ..Default::default()
    };
    let mut routes = listener::RouteBuilder::default();
    for entry in store.entries(Kind::ServiceEntry) {
        let Object::ServiceEntry(se) = &entry.object else {
            continue;
        };
        let Some(derived) = derive(store, &entry.object.key(), &view) else {
            continue;
        };
        let dr = destination_rule(store, se);
        let hash = dr
            .and_then(|d| d.spec.traffic_policy.as_ref())
            .and_then(|t| t.load_balancer.as_ref())
            .and_then(|l| l.consistent_hash.as_ref());
        for (port_index, port) in se.spec.ports.iter().enumerate() {
            for host in &se.spec.hosts {
                let ctx = PortContext {
                    se,
                    dr,
                    derived: &derived,
                    port_index,
                    host,
                };
                let name = cluster_name(port.number, host);
                let Some(c) = cluster::build(store, &ctx, &name) else {
                    continue;
                };
                let eds = cluster::is_eds(&c);
                out.insert(CLUSTER, name.clone(), pack(&c));
                if eds {
                    out.insert(
                        ENDPOINT,
                        name.clone(),
                        pack(&endpoints::load_assignment(store, &ctx, &name)),
                    );
                }
                routes.add(host, port, &name, hash);
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
