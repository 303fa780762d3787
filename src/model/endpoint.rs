//! Endpoints of a ServiceEntry port, derived as istiod derives them: inline `spec.endpoints`
//! plus every selected WorkloadEntry, with port, weight, locality, network and health resolved.

use super::cluster::Cluster;
use super::health::{self, Health};
use super::locality::{LOCALITY_LABEL, Locality};
use super::meta::Labels;
use super::object::{DestinationRule, Object, ObjectKey, ServiceEntry};
use super::service_entry::ServicePort;
use super::share::{self, Policy, ShareInput, Viewpoint};
use super::store::{Store, we_labels};
use super::visibility::{self, Hidden};
use super::workload_entry::WorkloadEntrySpec;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind")]
pub enum EndpointSource {
    WorkloadEntry {
        namespace: String,
        name: String,
        #[serde(skip_serializing_if = "Cluster::is_only")]
        cluster: Cluster,
    },
    /// A pod the ServiceEntry's workloadSelector selects (cluster only; never edited here).
    Pod {
        namespace: String,
        name: String,
        #[serde(skip_serializing_if = "Cluster::is_only")]
        cluster: Cluster,
    },
    /// `spec.endpoints[index]` of the ServiceEntry itself.
    ServiceEntry {
        namespace: String,
        name: String,
        index: usize,
        #[serde(skip_serializing_if = "Cluster::is_only")]
        cluster: Cluster,
    },
}

impl EndpointSource {
    /// The cluster the object it comes from is in.
    pub fn cluster(&self) -> &Cluster {
        match self {
            EndpointSource::WorkloadEntry { cluster, .. }
            | EndpointSource::Pod { cluster, .. }
            | EndpointSource::ServiceEntry { cluster, .. } => cluster,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Endpoint {
    pub source: EndpointSource,
    pub address: String,
    pub port: u32,
    /// As declared; `None` when the field is absent.
    pub declared_weight: Option<u32>,
    /// What istiod sends: 0 or absent becomes 1.
    pub weight: u32,
    pub locality: Locality,
    pub network: String,
    pub health: Health,
    #[serde(skip)]
    pub labels: Labels,
    /// `None`: not sent to the viewpoint (unhealthy, or outside `distribute`).
    pub priority: Option<u32>,
    pub share: f64,
    /// The locality as written: istiod groups endpoints by this string, so `a/b/c` and
    /// `a/b/c/d` are two groups of the same locality.
    #[serde(skip)]
    pub locality_label: String,
    /// The locality weight `distribute` gives this endpoint's locality.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality_weight: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortEndpoints {
    pub port_name: String,
    pub port_number: u32,
    pub endpoints: Vec<Endpoint>,
}

/// Everything derived for one ServiceEntry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceEndpoints {
    pub service: ObjectKey,
    pub hosts: Vec<String>,
    pub destination_rule: Option<ObjectKey>,
    pub ports: Vec<PortEndpoints>,
    /// Per host, why the viewpoint's proxy does not get this ServiceEntry for it (empty when
    /// it does, or when the viewpoint has no namespace).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub hidden: BTreeMap<String, Hidden>,
    /// Per host this ServiceEntry wins for the viewpoint, the other declarations of it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub beats: BTreeMap<String, Vec<ObjectKey>>,
}

impl ServiceEndpoints {
    /// Why the viewpoint (in `namespace`) does not get this ServiceEntry for `host`.
    pub fn hidden_host(
        &self,
        host: &str,
        namespace: Option<&str>,
    ) -> Option<super::planes::drift::HiddenHost> {
        Some(super::planes::drift::HiddenHost {
            hidden: self.hidden.get(host)?.clone(),
            host: host.to_string(),
            namespace: namespace?.to_string(),
        })
    }
}

impl ServiceEndpoints {
    pub fn healthy_total(&self) -> (usize, usize) {
        let mut seen = std::collections::BTreeSet::new();
        let mut healthy = 0;
        for ep in self.ports.iter().flat_map(|p| &p.endpoints) {
            if seen.insert(&ep.source) && ep.health.is_healthy() {
                healthy += 1;
            }
        }
        (healthy, seen.len())
    }
}

pub fn source_key(src: &EndpointSource) -> ObjectKey {
    use super::object::Kind;
    let key = match src {
        EndpointSource::WorkloadEntry {
            namespace, name, ..
        } => ObjectKey::new(Kind::WorkloadEntry, namespace, name),
        EndpointSource::Pod {
            namespace, name, ..
        } => ObjectKey::new(Kind::Pod, namespace, name),
        EndpointSource::ServiceEntry {
            namespace, name, ..
        } => ObjectKey::new(Kind::ServiceEntry, namespace, name),
    };
    key.in_cluster(src.cluster())
}

/// Locality of a WorkloadEntry or inline endpoint: `spec.locality` only. istiod ignores the
/// `topology.istio.io/locality` and `istio-locality` labels of entries (recorded: 03-locality).
pub fn locality_of(spec: &WorkloadEntrySpec, _labels: &Labels) -> Locality {
    spec.locality
        .as_deref()
        .map(Locality::parse)
        .unwrap_or_default()
}

/// Locality of a pod: its `topology.istio.io/locality` label (dots for slashes; label values
/// cannot hold `/`).
pub fn pod_locality(labels: &Labels) -> Locality {
    labels
        .get(LOCALITY_LABEL)
        .map(|l| Locality::parse(&l.replace('.', "/")))
        .unwrap_or_default()
}

/// Port a workload serves a service port on: `ports[name]` > `targetPort` > port number.
pub fn endpoint_port(spec: &WorkloadEntrySpec, port: &ServicePort) -> u32 {
    spec.ports
        .get(&port.name)
        .copied()
        .or(port.target_port)
        .unwrap_or(port.number)
}

fn endpoint(
    source: EndpointSource,
    spec: &WorkloadEntrySpec,
    labels: Labels,
    health: Health,
    port: &ServicePort,
) -> Endpoint {
    Endpoint {
        source,
        address: spec.address.clone().unwrap_or_default(),
        port: endpoint_port(spec, port),
        declared_weight: spec.weight,
        weight: spec.weight.unwrap_or(0).max(1),
        locality: locality_of(spec, &labels),
        network: spec.network.clone().unwrap_or_default(),
        health,
        labels,
        priority: None,
        share: 0.0,
        locality_label: spec.locality.clone().unwrap_or_default(),
        locality_weight: None,
    }
}

pub fn destination_rule<'a>(store: &'a Store, se: &ServiceEntry) -> Option<&'a DestinationRule> {
    let ns = se.metadata.namespace.as_deref().unwrap_or_default();
    se.spec.hosts.iter().find_map(|h| {
        store
            .destination_rules_for(h, ns)
            .into_iter()
            .find_map(|k| match store.get(k).map(|e| &e.object) {
                Some(Object::DestinationRule(dr)) => Some(dr.as_ref()),
                _ => None,
            })
    })
}

pub fn derive(store: &Store, se_key: &ObjectKey, view: &Viewpoint) -> Option<ServiceEndpoints> {
    let Some(Object::ServiceEntry(se)) = store.get(se_key).map(|e| &e.object) else {
        return None;
    };
    let dr = destination_rule(store, se);
    let policy = policy_for(store, se_key);
    let hidden: BTreeMap<String, Hidden> = match view.proxy() {
        Some(proxy) => se
            .spec
            .hosts
            .iter()
            .filter_map(|h| Some((h.clone(), visibility::hidden(store, se, h, &proxy)?)))
            .collect(),
        None => BTreeMap::new(),
    };
    let beats: BTreeMap<String, Vec<ObjectKey>> = match view.proxy() {
        Some(_) => se
            .spec
            .hosts
            .iter()
            .filter(|h| !hidden.contains_key(*h))
            .filter_map(|h| {
                let others: Vec<ObjectKey> = store
                    .services_for_host(h)
                    .filter(|o| o.metadata.cluster == se_key.cluster)
                    .map(|o| {
                        ObjectKey::new(
                            super::object::Kind::ServiceEntry,
                            o.metadata.namespace.clone().unwrap_or_default(),
                            o.metadata.name.clone(),
                        )
                    })
                    .filter(|k| k != se_key)
                    .collect();
                (!others.is_empty()).then(|| (h.clone(), others))
            })
            .collect(),
        None => BTreeMap::new(),
    };
    let sent = se.spec.hosts.iter().any(|h| !hidden.contains_key(h));
    // Namespace sameness across clusters: the same host declared in the same namespace of
    // another watched cluster is one service, and a multi-primary istiod sends the endpoints of
    // all of them, each with its cluster and network.
    let peers: Vec<(&ObjectKey, &ServiceEntry)> = peers_in_other_clusters(store, se_key, se);
    let mut ports = Vec::with_capacity(se.spec.ports.len());
    for port in &se.spec.ports {
        let mut eps = endpoints_of(store, se_key, se, port);
        for (peer_key, peer) in &peers {
            if let Some(peer_port) = peer.spec.ports.iter().find(|p| p.number == port.number) {
                eps.extend(endpoints_of(store, peer_key, peer, peer_port));
            }
        }
        if sent {
            apply_shares(&mut eps, policy, view);
        }
        ports.push(PortEndpoints {
            port_name: port.name.clone(),
            port_number: port.number,
            endpoints: eps,
        });
    }
    Some(ServiceEndpoints {
        service: se_key.clone(),
        hosts: se.spec.hosts.clone(),
        destination_rule: dr.map(|d| {
            ObjectKey::new(
                super::object::Kind::DestinationRule,
                d.metadata.namespace.clone().unwrap_or_default(),
                d.metadata.name.clone(),
            )
        }),
        ports,
        hidden,
        beats,
    })
}

/// What one ServiceEntry of one cluster contributes to a port: its inline endpoints, the pods
/// and WorkloadEntries its selector picks (in its own cluster and namespace).
fn endpoints_of(
    store: &Store,
    se_key: &ObjectKey,
    se: &ServiceEntry,
    port: &ServicePort,
) -> Vec<Endpoint> {
    let wes: Vec<_> = store
        .selected_wes(se_key)
        .filter_map(|k| match store.get(k).map(|e| &e.object) {
            Some(Object::WorkloadEntry(we)) => Some((k, we)),
            _ => None,
        })
        .collect();
    let mut eps = Vec::new();
    for (index, inline) in se.spec.endpoints.iter().enumerate() {
        let src = EndpointSource::ServiceEntry {
            namespace: se_key.namespace.clone(),
            name: se_key.name.clone(),
            index,
            cluster: se_key.cluster.clone(),
        };
        eps.push(endpoint(
            src,
            inline,
            inline.labels.clone(),
            Health::Healthy,
            port,
        ));
    }
    let selector = se.spec.workload_selector.as_ref().map(|s| &s.labels);
    for pod in selector
        .map(|sel| store.pods_selected(se_key, sel))
        .unwrap_or_default()
    {
        let Some(ip) = pod.ip.clone() else { continue };
        let src = EndpointSource::Pod {
            namespace: pod.namespace.clone(),
            name: pod.name.clone(),
            cluster: pod.cluster.clone(),
        };
        let locality = pod_locality(&pod.labels).to_string();
        let spec = WorkloadEntrySpec {
            address: Some(ip),
            locality: (!locality.is_empty()).then_some(locality),
            ..Default::default()
        };
        let health = if pod.ready {
            Health::Healthy
        } else {
            Health::Unhealthy
        };
        eps.push(endpoint(src, &spec, pod.labels.clone(), health, port));
    }
    for (k, we) in &wes {
        let src = EndpointSource::WorkloadEntry {
            namespace: k.namespace.clone(),
            name: k.name.clone(),
            cluster: k.cluster.clone(),
        };
        let health = health::of_workload_entry(we);
        eps.push(endpoint(src, &we.spec, we_labels(we), health, port));
    }
    eps
}

/// The ServiceEntries of the other watched clusters that declare one of `se`'s hosts in the
/// same namespace, one per cluster (the first by name).
fn peers_in_other_clusters<'a>(
    store: &'a Store,
    se_key: &ObjectKey,
    se: &ServiceEntry,
) -> Vec<(&'a ObjectKey, &'a ServiceEntry)> {
    let mut out: Vec<(&ObjectKey, &ServiceEntry)> = Vec::new();
    for host in &se.spec.hosts {
        for key in store.service_keys_for_host(host) {
            if key.cluster == se_key.cluster
                || key.namespace != se_key.namespace
                || out.iter().any(|(k, _)| k.cluster == key.cluster)
            {
                continue;
            }
            if let Some(Object::ServiceEntry(peer)) = store.get(key).map(|e| &e.object) {
                out.push((key, peer));
            }
        }
    }
    out
}

pub fn apply_shares(eps: &mut [Endpoint], policy: Policy<'_>, view: &Viewpoint) {
    let inputs: Vec<ShareInput> = eps
        .iter()
        .map(|e| ShareInput {
            weight: e.weight,
            locality: e.locality.clone(),
            healthy: e.health.is_healthy(),
            labels: e.labels.clone(),
        })
        .collect();
    for (e, s) in eps.iter_mut().zip(share::compute(&inputs, policy, view)) {
        e.share = s.share;
        e.priority = s.priority;
        e.locality_weight = s.locality_weight;
    }
}

/// The traffic policy that applies to a ServiceEntry's endpoints.
pub fn policy_for<'a>(store: &'a Store, se_key: &ObjectKey) -> Policy<'a> {
    let dr = match store.get(se_key).map(|e| &e.object) {
        Some(Object::ServiceEntry(se)) => destination_rule(store, se),
        _ => None,
    };
    let setting = dr
        .and_then(|d| d.spec.traffic_policy.as_ref())
        .and_then(|t| t.load_balancer.as_ref())
        .and_then(|l| l.locality_lb_setting.as_ref());
    Policy {
        locality_lb: setting,
        locality_lb_disabled: setting.is_some_and(|l| l.enabled == Some(false)),
        outlier_detection: dr.is_some_and(|d| d.spec.has_outlier_detection()),
    }
}
