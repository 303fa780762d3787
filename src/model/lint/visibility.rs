//! Rules on who gets which ServiceEntry: a host declared in several namespaces, an exportTo
//! that leaves out every namespace with proxies, and entries on a network meshNetworks gives
//! no gateway.

use super::finding::{Code, Finding, Severity};
use crate::model::object::{Kind, Object, ObjectKey, ServiceEntry};
use crate::model::store::Store;
use crate::model::visibility::{self, HostRule, Mesh, Proxy};
use std::collections::{BTreeMap, BTreeSet};

pub fn check(store: &Store, mesh: &Mesh, out: &mut Vec<Finding>) {
    duplicate_hosts(store, mesh, out);
    exported_to_no_proxies(store, mesh, out);
    networks_without_gateway(store, mesh, out);
}

fn key_of(se: &ServiceEntry) -> ObjectKey {
    ObjectKey::new(
        Kind::ServiceEntry,
        se.metadata.namespace.clone().unwrap_or_default(),
        se.metadata.name.clone(),
    )
    .in_cluster(&se.metadata.cluster)
}

fn services(store: &Store) -> impl Iterator<Item = &ServiceEntry> {
    store
        .entries(Kind::ServiceEntry)
        .filter_map(|e| match &e.object {
            Object::ServiceEntry(se) => Some(se),
            _ => None,
        })
}

/// One finding per declaration of a host that several namespaces declare, saying who gets
/// which under both rules istiod has had.
fn duplicate_hosts(store: &Store, mesh: &Mesh, out: &mut Vec<Finding>) {
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    for se in services(store) {
        hosts.extend(se.spec.hosts.iter().map(String::as_str));
    }
    let none = Default::default();
    // Each cluster's istiod resolves its own declarations: a host in the same namespace of
    // two clusters is one service, not a conflict.
    let clusters: BTreeSet<&crate::model::cluster::Cluster> =
        services(store).map(|se| &se.metadata.cluster).collect();
    for (host, cluster) in hosts
        .iter()
        .flat_map(|h| clusters.iter().map(move |c| (*h, *c)))
    {
        let decls: Vec<&ServiceEntry> = store
            .services_for_host(host)
            .filter(|se| se.metadata.cluster == *cluster)
            .collect();
        let namespaces: BTreeSet<&str> = decls
            .iter()
            .filter_map(|s| s.metadata.namespace.as_deref())
            .collect();
        if namespaces.len() < 2 {
            continue;
        }
        // Whom a proxy in no declaring namespace gets: the same under both rules.
        let outsider = Proxy {
            namespace: "",
            labels: &none,
            rule: HostRule::OldestVisible,
            mesh,
        };
        let oldest = visibility::winner_in(store, host, &outsider, Some(cluster)).map(key_of);
        for se in &decls {
            let key = key_of(se);
            let others: Vec<String> = decls
                .iter()
                .map(|o| key_of(o))
                .filter(|k| *k != key)
                .map(|k| format!("{}/{}", k.namespace, k.name))
                .collect();
            let who = if oldest.as_ref() == Some(&key) {
                format!(
                    "this one is the oldest visible: Istio < 1.20 gives it to every proxy; current Istio to every proxy outside {}",
                    others
                        .iter()
                        .map(|o| o.split('/').next().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(
                    "Istio < 1.20 never sends this one (the oldest, {}, wins everywhere); current Istio sends it only to proxies in {}",
                    oldest.as_ref().map_or("unknown".to_string(), |k| format!(
                        "{}/{}",
                        k.namespace, k.name
                    )),
                    key.namespace
                )
            };
            out.push(Finding::new(
                store,
                Code::HostInSeveralNamespaces,
                Severity::Warning,
                &key,
                "spec.hosts",
                format!(
                    "{host} is also declared by {}: {who}; give the hosts distinct names or narrow exportTo",
                    others.join(", ")
                ),
            ));
        }
    }
}

/// Namespaces the registry shows proxies in: WorkloadEntries (VM sidecars), pods, and the
/// namespaces Sidecars configure.
fn proxy_namespaces(store: &Store) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = [Kind::WorkloadEntry, Kind::Sidecar]
        .iter()
        .flat_map(|k| store.keys(*k))
        .map(|k| k.namespace.clone())
        .collect();
    out.extend(store.pod_ids().into_iter().map(|(_, ns, _)| ns));
    out
}

fn exported_to_no_proxies(store: &Store, mesh: &Mesh, out: &mut Vec<Finding>) {
    let with_proxies = proxy_namespaces(store);
    if with_proxies.is_empty() {
        return;
    }
    for se in services(store) {
        let list = if se.spec.export_to.is_empty() {
            &mesh.default_service_export_to
        } else {
            &se.spec.export_to
        };
        if list.iter().any(|e| e == "*") {
            continue;
        }
        if with_proxies
            .iter()
            .any(|ns| visibility::exported_to(se, ns, mesh))
        {
            continue;
        }
        out.push(Finding::new(
            store,
            Code::ExportedToNoProxies,
            Severity::Warning,
            &key_of(se),
            "spec.exportTo",
            format!(
                "exportTo [{}] leaves out every namespace with proxies ({}): no proxy gets a cluster for {}",
                list.join(", "),
                with_proxies.iter().cloned().collect::<Vec<_>>().join(", "),
                se.spec.hosts.join(", ")
            ),
        ));
    }
}

fn networks_without_gateway(store: &Store, mesh: &Mesh, out: &mut Vec<Finding>) {
    let mut by_network: BTreeMap<&str, Vec<ObjectKey>> = BTreeMap::new();
    for e in store.entries(Kind::WorkloadEntry) {
        if let Object::WorkloadEntry(we) = &e.object
            && let Some(net) = we.spec.network.as_deref().filter(|n| !n.is_empty())
        {
            by_network.entry(net).or_default().push(e.object.key());
        }
    }
    for (net, keys) in by_network {
        let gateways = mesh.networks.as_ref().and_then(|n| n.get(net)).copied();
        if gateways.is_some_and(|g| g > 0) {
            continue;
        }
        let known = match &mesh.networks {
            None => "meshdeck was given no meshNetworks (--mesh-config FILE)",
            Some(_) => "meshNetworks has no gateway for it",
        };
        for key in keys {
            out.push(Finding::new(
                store,
                Code::NetworkWithoutGateway,
                Severity::Warning,
                &key,
                "spec.network",
                format!(
                    "on network {net}, and {known}: istiod then sends its address to proxies on every network as if it were reachable (recorded with Istio 1.14); add a gateway for {net} to meshNetworks, or drop spec.network if it shares the default network"
                ),
            ));
        }
    }
}
