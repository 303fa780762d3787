//! The data plane's side: what one Envoy holds for each cluster (`/clusters`) and a bounded
//! history of its per-host counters, from which rates and "did traffic move" are computed.

use super::HostKey;
use super::series::{GaugeSeries, RateSeries};
use crate::model::locality::Locality;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime};

/// One host as Envoy holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostState {
    pub weight: u32,
    pub priority: u32,
    pub locality: Locality,
    /// Set health flags: `failed_active_health_check`, `failed_outlier_check`, `eds:UNHEALTHY`, …
    pub flags: Vec<String>,
    pub rq_total: u64,
    pub rq_error: u64,
    pub cx_active: u64,
}

impl HostState {
    pub fn is_failing(&self) -> bool {
        !self.flags.is_empty()
    }
}

pub type EnvoyClusters = BTreeMap<String, BTreeMap<HostKey, HostState>>;

/// Samples kept per proxy: five minutes at the one-per-second poll.
pub const HISTORY: usize = 300;

#[derive(Debug, Clone)]
struct Sample {
    at: Instant,
    rq_total: BTreeMap<(String, HostKey), u64>,
}

/// One host's chartable series, from `/clusters` counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostSeries {
    pub rq: RateSeries,
    pub errors: RateSeries,
    pub cx: GaugeSeries,
    /// 1 while Envoy's outlier detection has the host ejected.
    pub ejected: GaugeSeries,
}

impl HostSeries {
    fn record(&mut self, at_ms: u64, h: &HostState) {
        self.rq.record(at_ms, h.rq_total);
        self.errors.record(at_ms, h.rq_error);
        self.cx.record(at_ms, Some(h.cx_active as f64));
        let ejected = h.flags.iter().any(|f| f == "failed_outlier_check");
        self.ejected
            .record(at_ms, Some(if ejected { 1.0 } else { 0.0 }));
    }
}

/// One Envoy the user opened: where its admin API is, what it last answered, and its history.
#[derive(Debug, Clone)]
pub struct ProxyData {
    pub name: String,
    pub admin: String,
    /// Where its Prometheus text is read, when the user gave one (else the admin's `/stats`).
    pub prometheus: Option<String>,
    pub clusters: EnvoyClusters,
    pub fetched_at: Option<SystemTime>,
    /// The last poll failed: the data shown is from `fetched_at`.
    pub error: Option<String>,
    /// Per (cluster, host): five minutes of per-second series for the charts.
    pub series: BTreeMap<(String, HostKey), HostSeries>,
    history: VecDeque<Sample>,
}

impl ProxyData {
    pub fn new(name: &str, admin: &str) -> ProxyData {
        ProxyData {
            name: name.into(),
            admin: admin.into(),
            prometheus: None,
            clusters: BTreeMap::new(),
            fetched_at: None,
            error: None,
            series: BTreeMap::new(),
            history: VecDeque::new(),
        }
    }

    pub fn is_stale(&self) -> bool {
        self.error.is_some()
    }

    pub fn record(&mut self, clusters: EnvoyClusters, at: Instant, wall: SystemTime) {
        let rq_total = clusters
            .iter()
            .flat_map(|(c, hosts)| {
                hosts
                    .iter()
                    .map(move |(k, h)| ((c.clone(), k.clone()), h.rq_total))
            })
            .collect();
        self.history.push_back(Sample { at, rq_total });
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        let at_ms = unix_ms(wall);
        self.series
            .retain(|(c, k), _| clusters.get(c).is_some_and(|hs| hs.contains_key(k)));
        for (c, hosts) in &clusters {
            for (k, h) in hosts {
                self.series
                    .entry((c.clone(), k.clone()))
                    .or_default()
                    .record(at_ms, h);
            }
        }
        self.clusters = clusters;
        self.fetched_at = Some(wall);
        self.error = None;
    }

    pub fn failed(&mut self, error: String) {
        self.error = Some(error);
    }

    pub fn host(&self, cluster: &str, key: &HostKey) -> Option<&HostState> {
        self.clusters.get(cluster)?.get(key)
    }

    /// Requests per host of `cluster` between the oldest sample within `window` and the newest,
    /// and the seconds between them. None without two samples.
    pub fn deltas(&self, cluster: &str, window: Duration) -> Option<(BTreeMap<HostKey, u64>, f64)> {
        let last = self.history.back()?;
        let first = self
            .history
            .iter()
            .find(|s| last.at.duration_since(s.at) <= window)?;
        self.between(cluster, first, last)
    }

    /// Requests per host of `cluster` counted by samples taken at or after `since`.
    pub fn deltas_since(
        &self,
        cluster: &str,
        since: Instant,
    ) -> Option<(BTreeMap<HostKey, u64>, f64)> {
        let last = self.history.back()?;
        let first = self.history.iter().find(|s| s.at >= since)?;
        self.between(cluster, first, last)
    }

    fn between(
        &self,
        cluster: &str,
        first: &Sample,
        last: &Sample,
    ) -> Option<(BTreeMap<HostKey, u64>, f64)> {
        let secs = last.at.duration_since(first.at).as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        let mut out = BTreeMap::new();
        for ((c, k), n) in &last.rq_total {
            if c != cluster {
                continue;
            }
            // A host that appeared after the first sample counts from zero; a counter that
            // went backwards (Envoy restarted) counts from zero too.
            let before = first
                .rq_total
                .get(&(c.clone(), k.clone()))
                .copied()
                .unwrap_or(0);
            out.insert(k.clone(), if *n >= before { n - before } else { *n });
        }
        Some((out, secs))
    }

    /// Requests per second per host of `cluster` over `window`.
    pub fn rates(&self, cluster: &str, window: Duration) -> BTreeMap<HostKey, f64> {
        self.deltas(cluster, window)
            .map(|(d, secs)| d.into_iter().map(|(k, n)| (k, n as f64 / secs)).collect())
            .unwrap_or_default()
    }

    /// The share of requests Envoy should give each host of `cluster` by what it holds:
    /// weight over the sum of weights at the lowest priority that has a host not failing.
    pub fn expected_shares(&self, cluster: &str) -> BTreeMap<HostKey, f64> {
        let Some(hosts) = self.clusters.get(cluster) else {
            return BTreeMap::new();
        };
        let Some(top) = hosts
            .values()
            .filter(|h| !h.is_failing())
            .map(|h| h.priority)
            .min()
        else {
            return BTreeMap::new();
        };
        let total: u64 = hosts
            .values()
            .filter(|h| h.priority == top && !h.is_failing())
            .map(|h| h.weight.max(1) as u64)
            .sum();
        hosts
            .iter()
            .map(|(k, h)| {
                let share = if h.priority == top && !h.is_failing() {
                    h.weight.max(1) as f64 / total as f64
                } else {
                    0.0
                };
                (k.clone(), share)
            })
            .collect()
    }
}

pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(counts: &[(&str, u32, u32, u64)]) -> EnvoyClusters {
        let mut m = BTreeMap::new();
        for (addr, weight, priority, rq) in counts {
            m.insert(
                HostKey::new(*addr, 80),
                HostState {
                    weight: *weight,
                    priority: *priority,
                    rq_total: *rq,
                    ..Default::default()
                },
            );
        }
        BTreeMap::from([("c".to_string(), m)])
    }

    #[test]
    fn rates_come_from_the_window_and_survive_restarts() {
        let t0 = Instant::now();
        let mut p = ProxyData::new("p", "http://127.0.0.1:1");
        p.record(
            hosts(&[("a", 1, 0, 100), ("b", 1, 0, 50)]),
            t0,
            SystemTime::now(),
        );
        p.record(
            hosts(&[("a", 1, 0, 110), ("b", 1, 0, 70)]),
            t0 + Duration::from_secs(2),
            SystemTime::now(),
        );
        let r = p.rates("c", Duration::from_secs(10));
        assert_eq!(r[&HostKey::new("a", 80)], 5.0);
        assert_eq!(r[&HostKey::new("b", 80)], 10.0);
        // Envoy restarted: counters start over and count from zero.
        p.record(
            hosts(&[("a", 1, 0, 3), ("b", 1, 0, 1)]),
            t0 + Duration::from_secs(3),
            SystemTime::now(),
        );
        let (d, secs) = p.deltas_since("c", t0 + Duration::from_secs(2)).unwrap();
        assert_eq!(secs, 1.0);
        assert_eq!(d[&HostKey::new("a", 80)], 3);
    }

    #[test]
    fn host_series_follow_the_counters_and_forget_removed_hosts() {
        let t0 = Instant::now();
        let w0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut p = ProxyData::new("p", "x");
        p.record(hosts(&[("a", 1, 0, 10), ("b", 1, 0, 0)]), t0, w0);
        let mut later = hosts(&[("a", 1, 0, 40)]);
        later.get_mut("c").unwrap().values_mut().for_each(|h| {
            h.flags.push("failed_outlier_check".into());
            h.cx_active = 2;
        });
        p.record(later, t0, w0 + Duration::from_secs(2));
        let a = &p.series[&("c".to_string(), HostKey::new("a", 80))];
        assert_eq!(a.rq.series.window(1002, 2), vec![Some(15.0), Some(15.0)]);
        assert_eq!(a.ejected.series.at(1002), Some(1.0));
        assert_eq!(a.ejected.series.at(1000), Some(0.0));
        assert_eq!(a.cx.series.at(1002), Some(2.0));
        assert!(
            !p.series
                .contains_key(&("c".to_string(), HostKey::new("b", 80)))
        );
    }

    #[test]
    fn history_is_bounded() {
        let t0 = Instant::now();
        let mut p = ProxyData::new("p", "x");
        for i in 0..(HISTORY as u64 + 50) {
            p.record(
                hosts(&[("a", 1, 0, i)]),
                t0 + Duration::from_secs(i),
                SystemTime::now(),
            );
        }
        let (_, secs) = p.deltas("c", Duration::from_secs(100_000)).unwrap();
        assert_eq!(secs, (HISTORY - 1) as f64);
    }

    #[test]
    fn expected_shares_follow_the_lowest_healthy_priority() {
        let mut p = ProxyData::new("p", "x");
        p.record(
            hosts(&[("a", 1, 0, 0), ("b", 3, 0, 0), ("c", 5, 1, 0)]),
            Instant::now(),
            SystemTime::now(),
        );
        let s = p.expected_shares("c");
        assert_eq!(s[&HostKey::new("a", 80)], 0.25);
        assert_eq!(s[&HostKey::new("b", 80)], 0.75);
        assert_eq!(s[&HostKey::new("c", 80)], 0.0);
        for h in p.clusters.get_mut("c").unwrap().values_mut() {
            if h.priority == 0 {
                h.flags.push("failed_outlier_check".into());
            }
        }
        assert_eq!(p.expected_shares("c")[&HostKey::new("c", 80)], 1.0);
    }
}
