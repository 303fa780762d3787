//! Per-cluster stats of one Envoy as charts need them: the few stats read (by full name, the
//! same whether pushed, read from `/stats` or from Prometheus text), one reading per flush or
//! poll, and five minutes of per-second series made from the readings.

use super::series::{GaugeSeries, RateSeries, Series};
use std::collections::BTreeMap;

/// The cluster stats meshdeck reads; nothing else is asked for or kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    RqTotal,
    Rq2xx,
    Rq5xx,
    CxActive,
    EjectionsActive,
    RqTime,
}

impl Field {
    pub const ALL: [Field; 6] = [
        Field::RqTotal,
        Field::Rq2xx,
        Field::Rq5xx,
        Field::CxActive,
        Field::EjectionsActive,
        Field::RqTime,
    ];

    /// The stat's name after `cluster.<name>.`.
    pub fn suffix(self) -> &'static str {
        match self {
            Field::RqTotal => "upstream_rq_total",
            Field::Rq2xx => "upstream_rq_2xx",
            Field::Rq5xx => "upstream_rq_5xx",
            Field::CxActive => "upstream_cx_active",
            Field::EjectionsActive => "outlier_detection.ejections_active",
            Field::RqTime => "upstream_rq_time",
        }
    }
}

/// `cluster.<NAME>.<suffix>` → (NAME, field). Cluster names contain dots, so the known
/// suffix decides where the name ends.
pub fn split_full_name(name: &str) -> Option<(&str, Field)> {
    let rest = name.strip_prefix("cluster.")?;
    Field::ALL.into_iter().find_map(|f| {
        let cluster = rest.strip_suffix(f.suffix())?.strip_suffix('.')?;
        (!cluster.is_empty()).then_some((cluster, f))
    })
}

/// Envoy also counts a cluster's requests per origin (`cluster.NAME.external.upstream_rq_2xx`,
/// `.internal.`, `.canary.`) and per zone pair (`cluster.NAME.zone.FROM.TO.upstream_rq_2xx`);
/// split by suffix those look like clusters of their own. `name` is such a sub-stat when the
/// cluster it extends is in the same readings.
pub fn is_sub_stat(name: &str, readings: &Readings) -> bool {
    let origin = [".external", ".internal", ".canary"]
        .iter()
        .find_map(|s| name.strip_suffix(s));
    let zone = name.rsplitn(4, '.').collect::<Vec<_>>();
    let zone = (zone.len() == 4 && zone[2] == "zone").then(|| zone[3]);
    origin
        .into_iter()
        .chain(zone)
        .any(|base| readings.contains_key(base))
}

/// The admin API's `filter=` (RE2) that matches exactly these clusters' fields, so Envoy's
/// main thread renders a few lines instead of every stat.
pub fn filter_for<'a>(clusters: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<String> = clusters.into_iter().map(regex::escape).collect();
    let fields: Vec<String> = Field::ALL
        .iter()
        .map(|f| regex::escape(f.suffix()))
        .collect();
    format!("^cluster\\.({})\\.({})$", names.join("|"), fields.join("|"))
}

/// Request latency over the last interval, as the source gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Latency {
    /// Envoy's own interval quantiles (metrics service summary, `/stats` JSON); None when
    /// no request finished in the interval.
    Quantiles { p50: Option<f64>, p99: Option<f64> },
    /// Cumulative buckets since start (Prometheus text): (upper bound in ms, count). The
    /// interval's quantiles come from the difference to the previous reading.
    Buckets(Vec<(f64, u64)>),
}

impl Latency {
    /// p50 and p99 out of (quantile, value) pairs as Envoy reports them; a missing or NaN
    /// value (no request in the interval) is unknown.
    pub fn from_quantiles(pairs: impl IntoIterator<Item = (f64, Option<f64>)>) -> Latency {
        let (mut p50, mut p99) = (None, None);
        for (q, v) in pairs {
            let v = v.filter(|v| v.is_finite());
            if (q - 0.5).abs() < 1e-9 {
                p50 = v;
            } else if (q - 0.99).abs() < 1e-9 {
                p99 = v;
            }
        }
        Latency::Quantiles { p50, p99 }
    }
}

/// What one flush or poll said about one cluster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterReading {
    /// Counters and gauges by field (everything but `RqTime`).
    pub values: BTreeMap<Field, u64>,
    pub latency: Option<Latency>,
}

/// Per-cluster readings of one flush or poll.
pub type Readings = BTreeMap<String, ClusterReading>;

/// Where a proxy's stats come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsSource {
    Pushed,
    AdminJson,
    /// Envoy's own Prometheus text (`/stats/prometheus`, 15090, 15020).
    Prometheus,
    /// A Prometheus server that scrapes it (`--prometheus URL`).
    Server,
}

impl std::fmt::Display for StatsSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StatsSource::Pushed => "metrics service",
            StatsSource::AdminJson => "admin /stats",
            StatsSource::Prometheus => "prometheus",
            StatsSource::Server => "prometheus server",
        })
    }
}

/// What a chart can show for a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    Rq,
    Ok2xx,
    Err5xx,
    P50,
    P99,
    Cx,
    Ejected,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Rq,
        Metric::Ok2xx,
        Metric::Err5xx,
        Metric::P50,
        Metric::P99,
        Metric::Cx,
        Metric::Ejected,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Metric::Rq => "requests/s",
            Metric::Ok2xx => "2xx/s",
            Metric::Err5xx => "5xx/s",
            Metric::P50 => "p50 ms",
            Metric::P99 => "p99 ms",
            Metric::Cx => "connections",
            Metric::Ejected => "ejected hosts",
        }
    }

    /// Across proxies, rates and counts add up; for latency the worst proxy is what matters.
    pub fn adds_up(self) -> bool {
        !matches!(self, Metric::P50 | Metric::P99)
    }
}

/// One cluster's series as one Envoy reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterSeries {
    rq: RateSeries,
    ok: RateSeries,
    err: RateSeries,
    cx: GaugeSeries,
    ejected: GaugeSeries,
    p50: GaugeSeries,
    p99: GaugeSeries,
    buckets: Option<Vec<(f64, u64)>>,
}

impl ClusterSeries {
    pub fn record(&mut self, at_ms: u64, r: &ClusterReading) {
        // Envoy creates a response-class counter at its first response of that class: with
        // requests counted, a class not there yet is zero, not unknown.
        if r.values.contains_key(&Field::RqTotal) {
            for f in [Field::Rq2xx, Field::Rq5xx] {
                if !r.values.contains_key(&f) {
                    self.record_value(at_ms, f, 0);
                }
            }
        }
        for (field, v) in &r.values {
            self.record_value(at_ms, *field, *v);
        }
        let (p50, p99) = match &r.latency {
            None => return,
            Some(Latency::Quantiles { p50, p99 }) => (*p50, *p99),
            Some(Latency::Buckets(now)) => {
                let Some(before) = self.buckets.replace(now.clone()) else {
                    return;
                };
                let interval = bucket_delta(&before, now);
                (quantile(&interval, 0.5), quantile(&interval, 0.99))
            }
        };
        self.p50.record(at_ms, p50);
        self.p99.record(at_ms, p99);
    }

    fn record_value(&mut self, at_ms: u64, field: Field, v: u64) {
        match field {
            Field::RqTotal => self.rq.record(at_ms, v),
            Field::Rq2xx => self.ok.record(at_ms, v),
            Field::Rq5xx => self.err.record(at_ms, v),
            Field::CxActive => self.cx.record(at_ms, Some(v as f64)),
            Field::EjectionsActive => self.ejected.record(at_ms, Some(v as f64)),
            Field::RqTime => {}
        }
    }

    pub fn get(&self, m: Metric) -> &Series {
        match m {
            Metric::Rq => &self.rq.series,
            Metric::Ok2xx => &self.ok.series,
            Metric::Err5xx => &self.err.series,
            Metric::P50 => &self.p50.series,
            Metric::P99 => &self.p99.series,
            Metric::Cx => &self.cx.series,
            Metric::Ejected => &self.ejected.series,
        }
    }
}

/// Cumulative bucket counts of the interval between two readings; a reset (Envoy restarted)
/// counts from zero.
fn bucket_delta(before: &[(f64, u64)], now: &[(f64, u64)]) -> Vec<(f64, u64)> {
    let reset = now
        .iter()
        .any(|(le, n)| before.iter().any(|(b, m)| b == le && m > n));
    now.iter()
        .map(|(le, n)| {
            let prev = if reset {
                0
            } else {
                before.iter().find(|(b, _)| b == le).map_or(0, |(_, m)| *m)
            };
            (*le, n.saturating_sub(prev))
        })
        .collect()
}

/// The q-quantile of cumulative buckets, interpolated inside its bucket as Prometheus'
/// `histogram_quantile` does; None without samples.
pub fn quantile(cumulative: &[(f64, u64)], q: f64) -> Option<f64> {
    let total = cumulative.iter().map(|(_, n)| *n).max()?;
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut lower = (0.0, 0u64);
    for (le, n) in cumulative {
        if *n as f64 >= rank {
            if le.is_infinite() {
                return Some(lower.0);
            }
            let inside = (*n - lower.1) as f64;
            let frac = if inside == 0.0 {
                1.0
            } else {
                (rank - lower.1 as f64) / inside
            };
            return Some(lower.0 + (le - lower.0) * frac);
        }
        lower = (*le, *n);
    }
    Some(lower.0)
}

/// A feed silent for this long has stopped (and a proxy that pushed is polled again).
pub const PUSH_FRESH_MS: u64 = 15_000;

/// One proxy's stats: per cluster series, where they come from, and whether they still come.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyStats {
    pub source: StatsSource,
    pub clusters: BTreeMap<String, ClusterSeries>,
    /// Unix ms of the last reading.
    pub updated_ms: Option<u64>,
    /// The last poll failed (pushed stats have no error: they just stop).
    pub error: Option<String>,
}

impl ProxyStats {
    pub fn new(source: StatsSource) -> ProxyStats {
        ProxyStats {
            source,
            clusters: BTreeMap::new(),
            updated_ms: None,
            error: None,
        }
    }

    /// Seconds since the last reading, when that is longer than `PUSH_FRESH_MS` before `now_ms`:
    /// the feed has stopped. None while it is fresh (or never started).
    pub fn stopped_for(&self, now_ms: u64) -> Option<u64> {
        let last = self.updated_ms?;
        (now_ms.saturating_sub(last) >= PUSH_FRESH_MS).then(|| (now_ms - last) / 1000)
    }

    /// Records one flush or poll; returns whether it named a cluster not seen before.
    pub fn record(&mut self, at_ms: u64, readings: &Readings) -> bool {
        let known = self.clusters.len();
        for (cluster, r) in readings {
            // Every source goes through here, so Envoy's sub-stats are left out once.
            if is_sub_stat(cluster, readings) {
                continue;
            }
            self.clusters
                .entry(cluster.clone())
                .or_default()
                .record(at_ms, r);
        }
        self.updated_ms = Some(self.updated_ms.map_or(at_ms, |u| u.max(at_ms)));
        self.error = None;
        self.clusters.len() > known
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_split_at_the_known_suffix_though_cluster_names_have_dots() {
        assert_eq!(
            split_full_name("cluster.outbound|80||api.demo.svc.upstream_rq_total"),
            Some(("outbound|80||api.demo.svc", Field::RqTotal))
        );
        assert_eq!(
            split_full_name("cluster.x.y.outlier_detection.ejections_active"),
            Some(("x.y", Field::EjectionsActive))
        );
        assert_eq!(split_full_name("cluster.x.upstream_rq_retry"), None);
        assert_eq!(split_full_name("listener.x.upstream_rq_total"), None);
        assert_eq!(split_full_name("cluster.upstream_rq_total"), None);
    }

    #[test]
    fn per_origin_and_per_zone_stats_are_not_clusters() {
        let mut r = Readings::new();
        for name in [
            "outbound|80||a.b",
            "outbound|80||a.b.external",
            "outbound|80||a.b.zone.eu-west1-a.us-east1-b",
            "outbound|80||lonely.internal",
        ] {
            r.insert(name.to_string(), ClusterReading::default());
        }
        let mut p = ProxyStats::new(StatsSource::Pushed);
        assert!(p.record(1_000, &r), "new clusters");
        assert!(!p.record(2_000, &r), "nothing new");
        assert_eq!(
            p.clusters.keys().collect::<Vec<_>>(),
            ["outbound|80||a.b", "outbound|80||lonely.internal"]
        );
    }

    #[test]
    fn the_filter_matches_exactly_the_asked_clusters_fields() {
        let f = regex::Regex::new(&filter_for(["outbound|80||a.b"])).unwrap();
        assert!(f.is_match("cluster.outbound|80||a.b.upstream_rq_total"));
        assert!(f.is_match("cluster.outbound|80||a.b.outlier_detection.ejections_active"));
        assert!(!f.is_match("cluster.outbound|80||aXb.upstream_rq_total"));
        assert!(!f.is_match("cluster.outbound|80||a.b.upstream_rq_total_extra"));
        assert!(!f.is_match("cluster.outbound|81||a.b.upstream_rq_total"));
    }

    #[test]
    fn quantiles_interpolate_inside_the_bucket() {
        let b = [(1.0, 50), (10.0, 90), (100.0, 100), (f64::INFINITY, 100)];
        assert_eq!(quantile(&b, 0.5), Some(1.0));
        assert_eq!(quantile(&b, 0.7), Some(1.0 + 9.0 * 0.5));
        assert_eq!(quantile(&b, 0.99), Some(10.0 + 90.0 * 0.9));
        assert_eq!(quantile(&[(1.0, 0), (f64::INFINITY, 0)], 0.5), None);
        assert_eq!(quantile(&[(1.0, 0), (f64::INFINITY, 4)], 0.5), Some(1.0));
    }

    #[test]
    fn bucket_readings_chart_the_interval_not_the_lifetime() {
        let mut c = ClusterSeries::default();
        let reading = |fast: u64, slow: u64| ClusterReading {
            values: BTreeMap::new(),
            latency: Some(Latency::Buckets(vec![
                (1.0, fast),
                (100.0, fast + slow),
                (f64::INFINITY, fast + slow),
            ])),
        };
        c.record(1_000, &reading(1000, 0));
        c.record(2_000, &reading(1000, 10)); // only slow requests in this second
        assert!(c.get(Metric::P50).at(2).unwrap() > 1.0);
        c.record(3_000, &reading(1010, 10)); // only fast ones
        assert!((c.get(Metric::P99).at(3).unwrap() - 0.99).abs() < 1e-6);
        c.record(4_000, &reading(1010, 10)); // none
        assert_eq!(c.get(Metric::P50).at(4), None);
    }

    #[test]
    fn counters_become_rates_and_gauges_stay_values() {
        let mut p = ProxyStats::new(StatsSource::Pushed);
        let at = |rq: u64, cx: u64| {
            let mut r = ClusterReading::default();
            r.values.insert(Field::RqTotal, rq);
            r.values.insert(Field::CxActive, cx);
            r.latency = Some(Latency::Quantiles {
                p50: Some(2.0),
                p99: None,
            });
            Readings::from([("c".to_string(), r)])
        };
        p.record(10_000, &at(100, 3));
        p.record(11_000, &at(130, 4));
        let c = &p.clusters["c"];
        assert_eq!(c.get(Metric::Rq).at(11), Some(30.0));
        assert_eq!(c.get(Metric::Cx).window(11, 2), vec![Some(3.0), Some(4.0)]);
        assert_eq!(c.get(Metric::P50).at(11), Some(2.0));
        assert_eq!(c.get(Metric::P99).at(11), None);
        assert_eq!(
            c.get(Metric::Err5xx).at(11),
            Some(0.0),
            "no 5xx counter yet: zero"
        );
        assert_eq!(
            c.get(Metric::Ejected).at(11),
            None,
            "no outlier detection: unknown"
        );
        assert_eq!(p.updated_ms, Some(11_000));
    }
}
