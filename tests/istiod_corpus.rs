//! The console's derivation against what a real istiod (1.14) sent a real Envoy, scenario by
//! scenario and endpoint by endpoint (../shared/fixtures/istiod). Where they differ, the
//! recording is right.

mod common;
use common::corpus::{self, Probe};
use meshdeck::model::expected;
use std::collections::{BTreeMap, BTreeSet};

/// Every difference between what the console expects this probe to get and what it got.
fn differences(p: &Probe) -> Vec<String> {
    let store = p.store();
    let ours = expected::clusters(&store, &p.viewpoint());
    let mut out = Vec::new();
    let names: BTreeSet<&String> = ours.keys().chain(p.sent.keys()).collect();
    for name in names {
        match (ours.get(name), p.sent.get(name)) {
            (Some(_), None) => out.push(format!(
                "{}: {name}: the console expects this cluster; istiod sent none",
                p.name()
            )),
            (None, Some(_)) => out.push(format!(
                "{}: {name}: istiod sent this cluster; the console expects none",
                p.name()
            )),
            (Some(o), Some(r)) => {
                if o.dns != r.dns {
                    out.push(format!(
                        "{}: {name}: DNS cluster: console {}, istiod {}",
                        p.name(),
                        o.dns,
                        r.dns
                    ));
                }
                let mine: BTreeSet<_> = o.endpoints().into_iter().collect();
                for e in mine.difference(&r.endpoints) {
                    out.push(format!(
                        "{}: {name}: console expects {e:?}, not sent so",
                        p.name()
                    ));
                }
                for e in r.endpoints.difference(&mine) {
                    out.push(format!(
                        "{}: {name}: istiod sent {e:?}, the console does not expect it",
                        p.name()
                    ));
                }
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn the_console_derives_what_istiod_sent_to_every_probe() {
    let probes = corpus::probes();
    assert!(probes.len() >= 12, "the corpus has {} probes", probes.len());
    let mut failures = Vec::new();
    let mut compared: BTreeMap<String, usize> = BTreeMap::new();
    for p in &probes {
        failures.extend(differences(p));
        *compared.entry(p.scenario.clone()).or_default() +=
            p.sent.values().map(|c| c.endpoints.len()).sum::<usize>();
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared.values().sum::<usize>() > 40, "{compared:?}");
}

/// The corpus reader itself: the recorded facts its README states come out of the files.
#[test]
fn the_corpus_reads_as_its_readme_says() {
    let probes = corpus::probes();
    let by = |name: &str| {
        probes
            .iter()
            .find(|p| p.name() == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let w = &by("02-weights/cx-weights").sent["outbound|80||weights.cx.test"];
    assert!(w.endpoints.iter().all(|e| e.locality_weight == 52), "{w:?}");
    assert!(by("06-exportto/cx-exp-out").sent.is_empty());
    let fo = &by("08-failover/cx-fo-ra.1-failover").sent["outbound|80||fo.cx.test"];
    let prio: BTreeSet<(String, u32)> = fo
        .endpoints
        .iter()
        .map(|e| (e.locality.clone(), e.priority))
        .collect();
    assert!(prio.contains(&("rb/z1/s1".to_string(), 2)), "{prio:?}");
    assert!(by("10-dns/cx-dns").sent.values().all(|c| c.dns));
    let health = by("04-health/cx-health").store();
    assert_eq!(
        health.count(meshdeck::model::object::Kind::WorkloadEntry),
        4
    );
}

/// The embedded control plane (`meshdeck serve`, the demo) translates the same registry for
/// a node in the probe's namespace, locality and labels: a real Envoy holds what the recorded
/// Envoy held, host by host. DNS clusters are compared as sent (CDS load_assignment): a real
/// Envoy would resolve their names, and tests reach nothing but loopback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_control_plane_gives_a_real_envoy_what_istiod_gave_it() {
    use common::mesh::{ControlPlane, Proxy};
    use meshdeck::controlplane::any::CLUSTER;
    use meshdeck::controlplane::node::NodeInfo;
    use meshdeck::controlplane::translate;
    use meshdeck::model::object::{Kind, Object};
    use prost::Message;
    let mut failures = Vec::new();
    let mut hosts_compared = 0;
    for p in corpus::probes() {
        let store = p.store();
        let node = NodeInfo {
            id: "probe".into(),
            locality: p.locality.clone(),
            namespace: Some(p.namespace.clone()),
            labels: p.labels.clone(),
            ..Default::default()
        };
        let sent = translate::resources(&store, &node, p.viewpoint().rule);
        let clusters = sent.of(CLUSTER).cloned().unwrap_or_default();
        for (name, rec) in p.sent.iter().filter(|(_, c)| c.dns) {
            let Some(v) = clusters.get(name) else {
                failures.push(format!("{}: {name}: not sent", p.name()));
                continue;
            };
            let c = envoy_types::pb::envoy::config::cluster::v3::Cluster::decode(
                v.any.value.as_slice(),
            )
            .unwrap();
            let ours = cla_endpoints(&c.load_assignment.unwrap_or_default());
            if ours != rec.endpoints {
                failures.push(format!(
                    "{}: {name}: sent {ours:?}, istiod sent {:?}",
                    p.name(),
                    rec.endpoints
                ));
            }
        }
        // The rest through a real Envoy: every ServiceEntry but the DNS ones.
        let mut eds_store = store.clone();
        let dns: Vec<_> = store
            .entries(Kind::ServiceEntry)
            .filter(|e| matches!(&e.object, Object::ServiceEntry(se) if se.spec.resolution_or_default().starts_with("DNS")))
            .map(|e| e.object.key())
            .collect();
        for k in &dns {
            eds_store.remove(k);
        }
        let want: BTreeMap<_, _> = p
            .envoy
            .iter()
            .filter(|(n, _)| !p.sent.get(*n).is_some_and(|c| c.dns))
            .map(|(n, h)| (n.clone(), h.clone()))
            .collect();
        let cp = ControlPlane::start_with(
            "127.0.0.1:0".parse().unwrap(),
            eds_store,
            common::mesh::Options {
                istiod_version: Some(corpus::ISTIOD_VERSION.into()),
                ..Default::default()
            },
        )
        .await;
        let locality = p
            .locality
            .as_ref()
            .map(|l| l.to_string())
            .unwrap_or_default();
        let proxy = Proxy::start_in("probe", &locality, &p.namespace, &p.labels, cp.addr).await;
        // An Envoy asks for EDS only when it has an EDS cluster.
        let types: &[&str] = if want.is_empty() {
            &[CLUSTER, meshdeck::controlplane::any::LISTENER]
        } else {
            &meshdeck::controlplane::any::PUSH_ORDER
        };
        cp.wait_acked("probe", types).await;
        let body = meshdeck::io::envoy::admin::get(&proxy.admin, "/clusters?format=json")
            .await
            .unwrap();
        let got = corpus::envoy_hosts(&serde_json::from_slice(&body).unwrap());
        let names: BTreeSet<&String> = got.keys().chain(want.keys()).collect();
        for name in names {
            match (got.get(name), want.get(name)) {
                (Some(g), Some(w)) if g == w => hosts_compared += w.len(),
                (g, w) => failures.push(format!(
                    "{}: {name}: Envoy holds {g:?}; the recorded Envoy held {w:?}",
                    p.name()
                )),
            }
        }
        drop(proxy);
        cp.stop().await;
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(hosts_compared > 30, "only {hosts_compared} hosts compared");
}

/// A ClusterLoadAssignment the control plane built, as the corpus compares endpoints.
fn cla_endpoints(
    cla: &envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment,
) -> BTreeSet<meshdeck::model::expected::SentEndpoint> {
    use envoy_types::pb::envoy::config::core::v3::{address, socket_address};
    use envoy_types::pb::envoy::config::endpoint::v3::lb_endpoint::HostIdentifier;
    let mut out = BTreeSet::new();
    for g in &cla.endpoints {
        let locality = g
            .locality
            .as_ref()
            .map(|l| {
                meshdeck::model::locality::Locality {
                    region: l.region.clone(),
                    zone: l.zone.clone(),
                    subzone: l.sub_zone.clone(),
                }
                .to_string()
            })
            .unwrap_or_default();
        for lb in &g.lb_endpoints {
            let Some(HostIdentifier::Endpoint(e)) = &lb.host_identifier else {
                continue;
            };
            let Some(address::Address::SocketAddress(sa)) =
                e.address.as_ref().and_then(|a| a.address.as_ref())
            else {
                continue;
            };
            let port = match sa.port_specifier {
                Some(socket_address::PortSpecifier::PortValue(p)) => p,
                _ => 0,
            };
            out.insert(meshdeck::model::expected::SentEndpoint {
                address: sa.address.clone(),
                port,
                weight: lb.load_balancing_weight.map_or(1, |w| w.value),
                locality: locality.clone(),
                priority: g.priority,
                locality_weight: g.load_balancing_weight.map_or(0, |w| w.value),
            });
        }
    }
    out
}
