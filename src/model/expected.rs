//! What istiod sends one proxy, cluster by cluster: for every ServiceEntry host the proxy gets
//! (`visibility`), a cluster per port (`outbound|PORT||HOST`) and per DestinationRule subset
//! (`outbound|PORT|SUBSET|HOST`), its endpoints grouped by priority and locality as written,
//! each group weighted by `distribute` or by the uint32 sum of its endpoints' weights (which
//! wraps, as istiod's does). DNS services carry their endpoints in the cluster itself, and
//! the host alone when they declare none. The embedded control plane translates exactly this;
//! the conformance corpus checks it against what a real istiod sent.

use super::endpoint::{
    Endpoint, PortEndpoints, apply_shares, derive, destination_rule, policy_for,
};
use super::locality::Locality;
use super::object::{Kind, Object, ObjectKey};
use super::selector;
use super::share::Viewpoint;
use super::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;

/// Endpoints of one priority and one locality (as written), with the group's weight.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalityGroup {
    pub priority: u32,
    pub locality: Locality,
    pub weight: u32,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedCluster {
    pub service: ObjectKey,
    pub host: String,
    pub port_index: usize,
    pub port: u32,
    pub subset: Option<String>,
    /// Endpoints live in the cluster (STRICT_DNS / LOGICAL_DNS), not in EDS.
    pub dns: bool,
    pub groups: Vec<LocalityGroup>,
    /// Every endpoint the registry has for this port (sent or not): what a WorkloadGroup
    /// probe is looked up from.
    pub declared: Vec<Endpoint>,
}

/// One endpoint as a proxy receives it: the fields the conformance corpus compares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SentEndpoint {
    pub address: String,
    pub port: u32,
    pub weight: u32,
    pub locality: String,
    pub priority: u32,
    pub locality_weight: u32,
}

impl ExpectedCluster {
    pub fn endpoints(&self) -> Vec<SentEndpoint> {
        let mut out: Vec<SentEndpoint> = self
            .groups
            .iter()
            .flat_map(|g| {
                g.endpoints.iter().map(|e| SentEndpoint {
                    address: e.address.clone(),
                    port: e.port,
                    weight: e.weight,
                    locality: g.locality.to_string(),
                    priority: g.priority,
                    locality_weight: g.weight,
                })
            })
            .collect();
        out.sort();
        out
    }
}

fn is_dns(resolution: &str) -> bool {
    matches!(resolution, "DNS" | "DNS_ROUND_ROBIN")
}

/// The sent endpoints of one port grouped as istiod groups them. STATIC services send IP
/// addresses (and unix sockets) only.
pub fn groups(endpoints: &[Endpoint], dns: bool) -> Vec<LocalityGroup> {
    let mut by: BTreeMap<(u32, &str), LocalityGroup> = BTreeMap::new();
    for ep in endpoints {
        let Some(priority) = ep.priority else {
            continue;
        };
        if !dns
            && ep.address.parse::<std::net::IpAddr>().is_err()
            && !ep.address.starts_with("unix://")
        {
            continue;
        }
        let g = by
            .entry((priority, ep.locality_label.as_str()))
            .or_insert_with(|| LocalityGroup {
                priority,
                locality: ep.locality.clone(),
                weight: 0,
                endpoints: Vec::new(),
            });
        g.weight = match ep.locality_weight {
            Some(w) => w,
            None => g.weight.wrapping_add(ep.weight),
        };
        g.endpoints.push(ep.clone());
    }
    by.into_values().collect()
}

/// A DNS service's port with no endpoints: the host itself is the endpoint.
fn host_alone(host: &str, port: u32) -> LocalityGroup {
    LocalityGroup {
        priority: 0,
        locality: Locality::default(),
        weight: 1,
        endpoints: vec![Endpoint {
            source: super::endpoint::EndpointSource::ServiceEntry {
                namespace: String::new(),
                name: String::new(),
                index: 0,
                cluster: Default::default(),
            },
            address: host.to_string(),
            port,
            declared_weight: None,
            weight: 1,
            locality: Locality::default(),
            network: String::new(),
            health: super::health::Health::Healthy,
            labels: Default::default(),
            priority: Some(0),
            share: 1.0,
            locality_label: String::new(),
            locality_weight: None,
        }],
    }
}

/// Every cluster the viewpoint's proxy gets from the registry, by name.
pub fn clusters(store: &Store, view: &Viewpoint) -> BTreeMap<String, ExpectedCluster> {
    let mut out = BTreeMap::new();
    for entry in store.entries(Kind::ServiceEntry) {
        let Object::ServiceEntry(se) = &entry.object else {
            continue;
        };
        let key = entry.object.key();
        let Some(derived) = derive(store, &key, view) else {
            continue;
        };
        let dns = is_dns(se.spec.resolution_or_default());
        let dr = destination_rule(store, se);
        let policy = policy_for(store, &key);
        for host in &se.spec.hosts {
            if derived.hidden.contains_key(host) {
                continue;
            }
            for (port_index, port) in derived.ports.iter().enumerate() {
                let base = ExpectedCluster {
                    service: key.clone(),
                    host: host.clone(),
                    port_index,
                    port: port.port_number,
                    subset: None,
                    dns,
                    groups: Vec::new(),
                    declared: port.endpoints.clone(),
                };
                let groups_of = |eps: &[Endpoint]| {
                    let mut g = groups(eps, dns);
                    if g.is_empty() && dns {
                        g.push(host_alone(host, port.port_number));
                    }
                    g
                };
                let name = super::planes::cluster_name(port.port_number, host);
                // Without a namespace every declaration is shown; the first (in key order)
                // stands for a host declared twice.
                out.entry(name).or_insert_with(|| ExpectedCluster {
                    groups: groups_of(&port.endpoints),
                    ..base.clone()
                });
                for subset in dr.iter().flat_map(|d| &d.spec.subsets) {
                    let eps = subset_endpoints(port, &subset.labels, policy, view);
                    let name =
                        super::planes::subset_cluster_name(port.port_number, &subset.name, host);
                    out.entry(name).or_insert_with(|| ExpectedCluster {
                        subset: Some(subset.name.clone()),
                        groups: groups_of(&eps),
                        ..base.clone()
                    });
                }
            }
        }
    }
    out
}

/// The endpoints of a port that a subset's labels select, their shares and priorities
/// computed among themselves (a subset is a cluster of its own).
fn subset_endpoints(
    port: &PortEndpoints,
    labels: &super::meta::Labels,
    policy: super::share::Policy<'_>,
    view: &Viewpoint,
) -> Vec<Endpoint> {
    let mut eps: Vec<Endpoint> = port
        .endpoints
        .iter()
        .filter(|e| selector::matches(labels, &e.labels))
        .cloned()
        .collect();
    if eps.iter().any(|e| e.priority.is_some()) {
        apply_shares(&mut eps, policy, view);
    }
    eps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::manifests::load::into_store;
    use crate::io::manifests::parse::parse_text;

    fn store(text: &str) -> Store {
        let p = parse_text(std::path::Path::new("t.yaml"), text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        into_store(vec![p])
    }

    /// Recorded 02-weights: 0 and unset are sent as 1, and the locality weight is the uint32
    /// sum, which wraps (1+1+50+1+4294967295 is sent as 52).
    #[test]
    fn the_locality_weight_wraps_as_istiod_sends_it() {
        let mut text = String::from(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: w, namespace: shop}\nspec:\n  hosts: [w.test]\n  resolution: STATIC\n  ports: [{number: 80, name: http}]\n  workloadSelector: {labels: {app: w}}\n",
        );
        for (i, w) in ["0", "1", "50", "", "4294967295"].iter().enumerate() {
            let weight = if w.is_empty() {
                String::new()
            } else {
                format!(", weight: {w}")
            };
            text.push_str(&format!(
                "---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {{name: w{i}, namespace: shop}}\nspec: {{address: 192.0.2.1{i}, labels: {{app: w}}{weight}}}\n"
            ));
        }
        let c = clusters(&store(&text), &Viewpoint::default());
        let eps = c["outbound|80||w.test"].endpoints();
        let weights: Vec<u32> = eps.iter().map(|e| e.weight).collect();
        assert_eq!(weights, vec![1, 1, 50, 1, 4294967295]);
        assert!(eps.iter().all(|e| e.locality_weight == 52), "{eps:?}");
    }

    #[test]
    fn a_dns_service_without_endpoints_sends_its_host() {
        let s = store(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: d, namespace: shop}\nspec:\n  hosts: [d.test]\n  resolution: DNS\n  ports: [{number: 80, name: http}]\n",
        );
        let c = clusters(&s, &Viewpoint::default());
        let d = &c["outbound|80||d.test"];
        assert!(d.dns);
        assert_eq!(d.endpoints()[0].address, "d.test");
        assert_eq!(d.endpoints()[0].port, 80);
    }
}
