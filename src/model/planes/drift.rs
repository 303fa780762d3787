//! Where the three planes disagree about one endpoint, each with a stable code and a one-line
//! reason a person on call can act on.

use super::data::ProxyData;
use super::{HostKey, Planes};
use crate::model::endpoint::Endpoint;
use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    pub code: &'static str,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
}

/// Declared, but the control plane does not send it.
pub const NOT_SENT: &str = "not-sent";
/// The control plane sends a weight other than the declared one.
pub const WEIGHT_DIFFERS: &str = "weight-differs";
pub const LOCALITY_DIFFERS: &str = "locality-differs";
/// The proxy has not ACKed what it was sent (syncz STALE).
pub const PROXY_STALE: &str = "proxy-stale";
/// The proxy rejected what it was sent (syncz ERROR).
pub const PROXY_NACK: &str = "proxy-nack";
/// Sent, but the Envoy does not hold it.
pub const NOT_IN_ENVOY: &str = "not-in-envoy";
/// Not sent (any more), but the Envoy still holds it.
pub const ENVOY_HOLDS_OLD: &str = "envoy-holds-old";
pub const ENVOY_WEIGHT_DIFFERS: &str = "envoy-weight-differs";
/// Declared healthy, yet ejected by outlier detection.
pub const EJECTED: &str = "ejected";
/// Declared healthy, yet failing Envoy's active health check.
pub const FAILING_HEALTH_CHECK: &str = "failing-health-check";
/// Declared healthy, yet Envoy marks it unhealthy for another reason.
pub const UNHEALTHY_IN_ENVOY: &str = "unhealthy-in-envoy";
/// Weight above 0 and should get requests, but got none while its cluster had traffic.
pub const NO_TRAFFIC: &str = "no-traffic";

/// Why a proxy in `namespace` does not get this ServiceEntry for `host` (codes `shadowed`,
/// `not-exported`, `outside-sidecar-egress`).
#[derive(Debug, Clone, PartialEq)]
pub struct HiddenHost {
    pub hidden: crate::model::visibility::Hidden,
    pub host: String,
    pub namespace: String,
}

impl HiddenHost {
    pub fn reason(&self) -> String {
        self.hidden.reason(&self.host, &self.namespace)
    }
}

/// How far back "no traffic" looks, and how many requests the host must have been due.
pub const NO_TRAFFIC_WINDOW: Duration = Duration::from_secs(10);
const NO_TRAFFIC_DUE: f64 = 10.0;

impl Planes<'_> {
    /// Everything that disagrees for `declared`, an endpoint of `cluster`. `hidden` says why
    /// the viewpoint's proxy does not get its ServiceEntry for the cluster's host, if it
    /// does not: that, not "not sent", is what an unsent endpoint is then told with.
    pub fn drift(
        &self,
        cluster: &str,
        declared: &Endpoint,
        hidden: Option<&HiddenHost>,
    ) -> Vec<Drift> {
        let key = HostKey::new(declared.address.clone(), declared.port);
        let mut out = Vec::new();
        let sent = self.control.and_then(|c| c.endpoint(cluster, &key));
        let knows = self.control.is_some_and(|c| c.knows(cluster));
        if let Some(s) = sent {
            if s.weight != declared.weight {
                out.push(drift(
                    WEIGHT_DIFFERS,
                    format!("sent weight {}, declared {}", s.weight, declared.weight),
                    None,
                ));
            }
            if s.locality != declared.locality {
                out.push(drift(
                    LOCALITY_DIFFERS,
                    format!(
                        "sent locality {}, declared {}",
                        or_none(&s.locality.to_string()),
                        or_none(&declared.locality.to_string())
                    ),
                    None,
                ));
            }
        } else if let Some(h) = hidden {
            out.push(drift(h.hidden.code(), h.reason(), None));
        } else if knows {
            let why = if declared.health.is_healthy() {
                "declared but not sent by the control plane"
            } else {
                "declared but not sent: not Healthy=True, so the control plane drops it"
            };
            out.push(drift(NOT_SENT, why.into(), None));
        }
        for p in &self.proxies {
            self.data_drift(
                p,
                cluster,
                &key,
                declared,
                sent.map(|s| s.weight),
                knows,
                &mut out,
            );
        }
        // Proxy-wide trouble last: it concerns every endpoint, the ones above only this one.
        for sync in self.syncs {
            for t in ["CDS", "EDS"] {
                let Some(ts) = sync.types.get(t) else {
                    continue;
                };
                match ts.status.as_str() {
                    "STALE" => out.push(drift(
                        PROXY_STALE,
                        format!(
                            "{} has not ACKed {t} version {} (STALE)",
                            sync.short_id(),
                            ts.version
                        ),
                        Some(sync.short_id()),
                    )),
                    "ERROR" => out.push(drift(
                        PROXY_NACK,
                        format!(
                            "{} rejected {t}: {}",
                            sync.short_id(),
                            ts.error.as_deref().unwrap_or("no detail")
                        ),
                        Some(sync.short_id()),
                    )),
                    _ => {}
                }
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn data_drift(
        &self,
        p: &ProxyData,
        cluster: &str,
        key: &HostKey,
        declared: &Endpoint,
        sent_weight: Option<u32>,
        knows: bool,
        out: &mut Vec<Drift>,
    ) {
        if p.fetched_at.is_none() {
            return;
        }
        let name = Some(p.name.as_str());
        let held = p.host(cluster, key);
        match (held, sent_weight) {
            (None, Some(_)) => out.push(drift(
                NOT_IN_ENVOY,
                format!("{} does not hold it, though it is sent", p.name),
                name,
            )),
            (None, None)
                if !knows && declared.health.is_healthy() && p.clusters.contains_key(cluster) =>
            {
                out.push(drift(
                    NOT_IN_ENVOY,
                    format!("{} does not hold it", p.name),
                    name,
                ))
            }
            (Some(_), None) if knows => out.push(drift(
                ENVOY_HOLDS_OLD,
                format!("{} still holds it, though it is no longer sent", p.name),
                name,
            )),
            (Some(h), Some(w)) if h.weight != w => out.push(drift(
                ENVOY_WEIGHT_DIFFERS,
                format!("{} holds weight {}, sent {w}", p.name, h.weight),
                name,
            )),
            _ => {}
        }
        let Some(h) = held else { return };
        if declared.health.is_healthy() {
            for f in &h.flags {
                let (code, what) = match f.as_str() {
                    "failed_outlier_check" => (EJECTED, "ejected it (outlier detection)"),
                    "failed_active_health_check" => {
                        (FAILING_HEALTH_CHECK, "fails its active health check")
                    }
                    _ => (UNHEALTHY_IN_ENVOY, f.as_str()),
                };
                let text = if code == UNHEALTHY_IN_ENVOY {
                    format!("{} marks it {what}", p.name)
                } else if code == EJECTED {
                    format!("{} {what}", p.name)
                } else {
                    format!("it {what} in {}", p.name)
                };
                out.push(drift(
                    code,
                    format!("{text}, though declared healthy"),
                    name,
                ));
            }
        }
        if let Some(d) = no_traffic(p, cluster, key) {
            out.push(d);
        }
    }
}

/// A host Envoy should be sending requests to (weight > 0, lowest healthy priority) that got
/// none in the window while it was due at least NO_TRAFFIC_DUE of the cluster's requests.
fn no_traffic(p: &ProxyData, cluster: &str, key: &HostKey) -> Option<Drift> {
    let h = p.host(cluster, key)?;
    if h.weight == 0 || h.is_failing() {
        return None;
    }
    let (deltas, secs) = p.deltas(cluster, NO_TRAFFIC_WINDOW)?;
    if secs + 0.5 < NO_TRAFFIC_WINDOW.as_secs_f64() {
        return None;
    }
    let total: u64 = deltas.values().sum();
    let share = p.expected_shares(cluster).get(key).copied().unwrap_or(0.0);
    let mine = deltas.get(key).copied().unwrap_or(0);
    (mine == 0 && total as f64 * share >= NO_TRAFFIC_DUE).then(|| {
        drift(
            NO_TRAFFIC,
            format!(
                "{} sent it no requests in {secs:.0}s though its weight is {} ({:.1} rq/s to the cluster)",
                p.name,
                h.weight,
                total as f64 / secs
            ),
            Some(&p.name),
        )
    })
}

fn drift(code: &'static str, reason: String, proxy: Option<&str>) -> Drift {
    Drift {
        code,
        reason,
        proxy: proxy.map(String::from),
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "(none)" } else { s }
}

#[cfg(test)]
mod tests {
    use super::super::control::{ControlView, ProxySync, SentCluster, SentEndpoint, TypeSync};
    use super::super::data::{EnvoyClusters, HostState};
    use super::*;
    use crate::model::endpoint::EndpointSource;
    use crate::model::health::Health;
    use crate::model::locality::Locality;
    use std::collections::BTreeMap;
    use std::time::{Instant, SystemTime};

    const C: &str = "outbound|80||a.internal";

    fn declared(addr: &str, weight: u32, health: Health) -> Endpoint {
        Endpoint {
            source: EndpointSource::WorkloadEntry {
                cluster: Default::default(),
                namespace: "ns".into(),
                name: addr.into(),
            },
            address: addr.into(),
            port: 80,
            declared_weight: Some(weight),
            weight,
            locality: Locality::default(),
            network: String::new(),
            health,
            labels: Default::default(),
            priority: None,
            share: 0.0,
            locality_label: String::new(),
            locality_weight: None,
        }
    }

    fn control(eps: &[(&str, u32)]) -> ControlView {
        let mut v = ControlView::default();
        v.clusters.insert(
            C.into(),
            SentCluster {
                discovery: "EDS".into(),
                endpoints: Some(
                    eps.iter()
                        .map(|(a, w)| {
                            (
                                HostKey::new(*a, 80),
                                SentEndpoint {
                                    weight: *w,
                                    locality: Locality::default(),
                                    priority: 0,
                                    health: "HEALTHY".into(),
                                },
                            )
                        })
                        .collect(),
                ),
            },
        );
        v
    }

    fn envoy(hosts: &[(&str, u32, &[&str], u64)]) -> EnvoyClusters {
        let m = hosts
            .iter()
            .map(|(a, w, flags, rq)| {
                (
                    HostKey::new(*a, 80),
                    HostState {
                        weight: *w,
                        flags: flags.iter().map(|f| f.to_string()).collect(),
                        rq_total: *rq,
                        ..Default::default()
                    },
                )
            })
            .collect();
        BTreeMap::from([(C.to_string(), m)])
    }

    fn codes(d: &[Drift]) -> Vec<&'static str> {
        d.iter().map(|d| d.code).collect()
    }

    #[test]
    fn agreement_is_silent() {
        let c = control(&[("a", 5)]);
        let mut p = ProxyData::new("east", "x");
        p.record(
            envoy(&[("a", 5, &[], 0)]),
            Instant::now(),
            SystemTime::now(),
        );
        let planes = Planes {
            control: Some(&c),
            syncs: &[],
            proxies: vec![&p],
        };
        assert!(
            planes
                .drift(C, &declared("a", 5, Health::Healthy), None)
                .is_empty()
        );
    }

    #[test]
    fn control_plane_drifts() {
        let c = control(&[("a", 3)]);
        let planes = Planes {
            control: Some(&c),
            syncs: &[],
            proxies: vec![],
        };
        assert_eq!(
            codes(&planes.drift(C, &declared("a", 5, Health::Healthy), None)),
            [WEIGHT_DIFFERS]
        );
        let d = planes.drift(C, &declared("b", 5, Health::Unhealthy), None);
        assert_eq!(codes(&d), [NOT_SENT]);
        assert!(d[0].reason.contains("Healthy=True"), "{}", d[0].reason);
        // Unknown cluster (EDS not arrived): nothing can be said.
        let empty = ControlView::default();
        let planes = Planes {
            control: Some(&empty),
            syncs: &[],
            proxies: vec![],
        };
        assert!(
            planes
                .drift(C, &declared("b", 5, Health::Healthy), None)
                .is_empty()
        );
    }

    #[test]
    fn proxy_sync_drifts() {
        let sync = ProxySync {
            id: "sidecar~1.2.3.4~east.ns~ns.svc.cluster.local".into(),
            cluster: String::new(),
            locality: String::new(),
            control_plane: String::new(),
            types: BTreeMap::from([
                (
                    "EDS".to_string(),
                    TypeSync {
                        status: "STALE".into(),
                        version: "v2".into(),
                        error: None,
                    },
                ),
                (
                    "CDS".to_string(),
                    TypeSync {
                        status: "ERROR".into(),
                        version: "v1".into(),
                        error: Some("bad port".into()),
                    },
                ),
            ]),
        };
        let planes = Planes {
            control: None,
            syncs: std::slice::from_ref(&sync),
            proxies: vec![],
        };
        let d = planes.drift(C, &declared("a", 1, Health::Healthy), None);
        assert_eq!(codes(&d), [PROXY_NACK, PROXY_STALE]);
        assert!(
            d[0].reason.contains("east.ns rejected CDS: bad port"),
            "{}",
            d[0].reason
        );
    }

    #[test]
    fn data_plane_drifts() {
        let c = control(&[("a", 5), ("b", 1)]);
        let mut p = ProxyData::new("east", "x");
        p.record(
            envoy(&[
                ("a", 2, &["failed_outlier_check"], 0),
                ("c", 1, &["failed_active_health_check"], 0),
            ]),
            Instant::now(),
            SystemTime::now(),
        );
        let planes = Planes {
            control: Some(&c),
            syncs: &[],
            proxies: vec![&p],
        };
        assert_eq!(
            codes(&planes.drift(C, &declared("a", 5, Health::Healthy), None)),
            [ENVOY_WEIGHT_DIFFERS, EJECTED]
        );
        assert_eq!(
            codes(&planes.drift(C, &declared("b", 1, Health::Healthy), None)),
            [NOT_IN_ENVOY]
        );
        assert_eq!(
            codes(&planes.drift(C, &declared("c", 1, Health::Healthy), None)),
            [NOT_SENT, ENVOY_HOLDS_OLD, FAILING_HEALTH_CHECK]
        );
    }

    #[test]
    fn no_traffic_needs_a_full_window_and_a_due_share() {
        let c = control(&[("a", 1), ("b", 1)]);
        let mut p = ProxyData::new("east", "x");
        let t0 = Instant::now();
        p.record(
            envoy(&[("a", 1, &[], 0), ("b", 1, &[], 0)]),
            t0,
            SystemTime::now(),
        );
        p.record(
            envoy(&[("a", 1, &[], 100), ("b", 1, &[], 0)]),
            t0 + Duration::from_secs(5),
            SystemTime::now(),
        );
        let planes = Planes {
            control: Some(&c),
            syncs: &[],
            proxies: vec![&p],
        };
        assert!(
            planes
                .drift(C, &declared("b", 1, Health::Healthy), None)
                .is_empty(),
            "window too short"
        );
        p.record(
            envoy(&[("a", 1, &[], 200), ("b", 1, &[], 0)]),
            t0 + NO_TRAFFIC_WINDOW,
            SystemTime::now(),
        );
        let planes = Planes {
            control: Some(&c),
            syncs: &[],
            proxies: vec![&p],
        };
        let d = planes.drift(C, &declared("b", 1, Health::Healthy), None);
        assert_eq!(codes(&d), [NO_TRAFFIC]);
        assert!(
            d[0].reason.contains("no requests in 10s"),
            "{}",
            d[0].reason
        );
        assert!(
            planes
                .drift(C, &declared("a", 1, Health::Healthy), None)
                .is_empty()
        );
    }
}
