//! What the console knows of the control and data planes: one view per xDS server, the sync
//! status per proxy, the Envoys the user can open, and the edit being followed through them.

use crate::model::endpoint::Endpoint;
use crate::model::planes::control::{ControlView, ProxySync};
use crate::model::planes::data::HostSeries;
use crate::model::planes::data::ProxyData;
use crate::model::planes::drift::Drift;
use crate::model::planes::series::{self, Series};
use crate::model::planes::stats::{Metric, ProxyStats, StatsSource};
use crate::model::planes::verify::Verify;
use crate::model::planes::{HostKey, Planes};
use crate::msg::data::PollTarget;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct PlanesView {
    /// Per xDS server (its label).
    pub control: BTreeMap<String, ControlView>,
    /// Every proxy of every server, as syncz reports it (`control_plane` names the server).
    pub syncs: Vec<ProxySync>,
    /// Servers that do not answer syncz, and why.
    pub syncz_unavailable: BTreeMap<String, String>,
    /// Every Envoy the console can read, by name; polled only while a screen needs them.
    pub proxies: BTreeMap<String, ProxyData>,
    /// Per server, what the console itself could not use (and NACKed) until the server sends
    /// something usable again.
    pub rejected: BTreeMap<String, String>,
    /// The last weight or locality edit, followed until traffic moved (or given up).
    pub verify: Option<Verify>,
    /// Per proxy (by its short name), cluster stats for the charts: pushed or polled.
    pub stats: BTreeMap<String, ProxyStats>,
    /// The namespace the console node claims to the xDS servers: what SENT is computed for,
    /// so the viewpoint's namespace unless the user chose another.
    pub node_namespace: Option<String>,
    /// WorkloadEntries' sidecars reached through ssh (`--ssh`): which are followed now.
    pub vms: Option<VmReach>,
    /// `--prometheus URL`: every proxy's cluster stats come from there, none from an admin.
    pub prometheus: Option<String>,
}

/// How VM sidecars are reached, and which the console followed lately.
#[derive(Debug, Clone, PartialEq)]
pub struct VmReach {
    pub ssh: crate::config::ssh::SshConfig,
    /// At most this many are kept in `proxies`; the least recently needed go first.
    pub max: usize,
    /// Proxy name → when it was last needed (a counter of follow rounds).
    pub needed: BTreeMap<String, u64>,
    pub round: u64,
    /// What the last round was computed for (screen, selection, store generation, the edit
    /// followed): the same inputs give the same sidecars.
    pub followed_for: Option<FollowInputs>,
}

pub type FollowInputs = (
    crate::state::Screen,
    Option<(usize, usize)>,
    u64,
    Option<std::time::SystemTime>,
);

impl VmReach {
    pub fn new(ssh: crate::config::ssh::SshConfig, max: usize) -> VmReach {
        VmReach {
            ssh,
            max: max.max(1),
            needed: BTreeMap::new(),
            round: 0,
            followed_for: None,
        }
    }
}

impl PlanesView {
    pub fn with_proxies(targets: &[PollTarget]) -> PlanesView {
        PlanesView {
            proxies: targets
                .iter()
                .map(|t| {
                    let mut p = ProxyData::new(&t.name, &t.admin);
                    p.prometheus = t.prometheus.clone();
                    (t.name.clone(), p)
                })
                .collect(),
            ..Default::default()
        }
    }

    /// What is wrong with the connections to the planes, worst first, for the status bar:
    /// an xDS server that is lost (SENT is then what it last sent) or an Envoy that cannot be
    /// read (ENVOY is then its last answer).
    pub fn trouble(&self) -> Option<String> {
        use crate::model::planes::control::Connection;
        let mut out = Vec::new();
        for c in self.control.values() {
            match &c.connection {
                Connection::Retrying { since, error } => {
                    let ago = since.elapsed().map(|d| d.as_secs()).unwrap_or(0);
                    out.push(format!(
                        "xDS {} lost {ago}s ago, retrying (SENT is what it last sent): {error}",
                        c.server
                    ));
                }
                // A refusal outranks everything: nothing will be sent until it is fixed.
                Connection::Refused { reason, .. } => {
                    out.insert(0, format!("xDS {}: {reason}", c.server));
                }
                Connection::Connecting | Connection::Connected => {}
            }
        }
        for (server, why) in &self.rejected {
            out.push(format!("xDS {server}: {why} (SENT may be old)"));
        }
        for p in self.proxies.values() {
            if let Some(e) = &p.error {
                out.push(format!(
                    "Envoy {} not answering (ENVOY is its last answer): {e}",
                    p.name
                ));
            }
        }
        (!out.is_empty()).then(|| out.join("; "))
    }

    /// Whether there is anything beyond the declared plane to show.
    pub fn is_active(&self) -> bool {
        !self.control.is_empty() || !self.proxies.is_empty() || self.vms.is_some()
    }

    /// The first server that has sent this cluster's endpoints (else the first server).
    pub fn control_for(&self, cluster: &str) -> Option<&ControlView> {
        self.control
            .values()
            .find(|c| c.knows(cluster))
            .or_else(|| self.control.values().next())
    }

    /// Everything the planes show now about `cluster`, for drift and for the loop.
    pub fn planes(&self, cluster: &str) -> Planes<'_> {
        Planes {
            control: self.control_for(cluster),
            syncs: &self.syncs,
            proxies: self.proxies.values().collect(),
        }
    }

    /// What to poll of every known Envoy: `/clusters`, and the stats of `charted` clusters
    /// unless that Envoy pushes its stats (it did within `PUSH_FRESH` of `now_ms`).
    pub fn poll_targets(&self, charted: &[String], now_ms: u64, quick: bool) -> Vec<PollTarget> {
        self.proxies
            .values()
            .map(|p| PollTarget {
                quick,
                name: p.name.clone(),
                admin: p.admin.clone(),
                prometheus: p.prometheus.clone(),
                stats: if self.pushes(&p.name, now_ms) || self.prometheus.is_some() {
                    Vec::new()
                } else {
                    charted.to_vec()
                },
            })
            .collect()
    }

    /// Whether `proxy` pushes its stats to the console's metrics service (lately).
    pub fn pushes(&self, proxy: &str, now_ms: u64) -> bool {
        self.stats.get(proxy).is_some_and(|s| {
            s.source == StatsSource::Pushed
                && s.updated_ms.is_some()
                && s.stopped_for(now_ms).is_none()
        })
    }

    /// `n` seconds of `metric` for `cluster` ending at `end`, across every proxy that reports
    /// it: rates and counts summed, latency the worst proxy's.
    pub fn cluster_window(
        &self,
        cluster: &str,
        metric: Metric,
        end: u64,
        n: usize,
    ) -> Vec<Option<f64>> {
        let windows: Vec<_> = self
            .stats
            .values()
            .filter_map(|s| s.clusters.get(cluster))
            .map(|c| c.get(metric).window(end, n))
            .collect();
        if metric.adds_up() {
            series::sum(&windows)
        } else {
            series::max(&windows)
        }
    }

    /// `n` seconds of one host series (picked by `pick`) summed across the polled Envoys.
    pub fn host_window(
        &self,
        cluster: &str,
        key: &HostKey,
        pick: impl Fn(&HostSeries) -> &Series,
        end: u64,
        n: usize,
    ) -> Vec<Option<f64>> {
        let id = (cluster.to_string(), key.clone());
        let windows: Vec<_> = self
            .proxies
            .values()
            .filter_map(|p| p.series.get(&id))
            .map(|h| pick(h).window(end, n))
            .collect();
        series::sum(&windows)
    }

    /// Every host any polled Envoy holds for `cluster`.
    pub fn cluster_hosts(&self, cluster: &str) -> Vec<HostKey> {
        let mut keys: Vec<HostKey> = self
            .proxies
            .values()
            .filter_map(|p| p.clusters.get(cluster))
            .flat_map(|hosts| hosts.keys().cloned())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The newest second any chart has data for: charts end there, so a paused feed shows
    /// as a gap growing from the right only once something else moves.
    pub fn chart_clock(&self) -> Option<u64> {
        let stats = self.stats.values().filter_map(|s| s.updated_ms);
        let polls = self
            .proxies
            .values()
            .filter_map(|p| p.fetched_at.map(crate::model::planes::data::unix_ms));
        stats.chain(polls).max().map(|ms| ms / 1000)
    }

    pub fn drift(
        &self,
        cluster: &str,
        ep: &Endpoint,
        hidden: Option<&crate::model::planes::drift::HiddenHost>,
    ) -> Vec<Drift> {
        self.planes(cluster).drift(cluster, ep, hidden)
    }

    /// Requests per second each Envoy sent `key` in `cluster` over the last few seconds.
    pub fn rate(&self, cluster: &str, key: &HostKey) -> Option<f64> {
        let window = std::time::Duration::from_secs(5);
        let mut any = false;
        let mut sum = 0.0;
        for p in self.proxies.values() {
            if let Some(r) = p.rates(cluster, window).get(key) {
                any = true;
                sum += r;
            }
        }
        any.then_some(sum)
    }
}
