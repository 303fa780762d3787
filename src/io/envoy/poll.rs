//! Polls the admin API of the proxies the user has open — only those, at most once a second
//! each, since admin calls run on Envoy's main thread — and reports what each holds.

use super::admin::{self, Clusters};
use crate::model::locality::Locality;
use crate::model::planes::HostKey;
use crate::model::planes::data::{EnvoyClusters, HostState, unix_ms};
use crate::model::planes::stats::StatsSource;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, watch};
use tokio_util::task::AbortOnDropHandle;

pub const INTERVAL: Duration = Duration::from_secs(1);

pub use crate::msg::data::{DataEvent, PollTarget};

/// `/clusters?format=json` → what the model compares. Hosts without a socket address (pipes)
/// are left out.
pub fn to_model(c: &Clusters) -> EnvoyClusters {
    let mut out = EnvoyClusters::new();
    for cs in &c.cluster_statuses {
        let hosts = out.entry(cs.name.clone()).or_default();
        for h in &cs.host_statuses {
            let Some((address, port)) = h.socket() else {
                continue;
            };
            let locality = h
                .locality
                .as_ref()
                .map(|l| {
                    let s = |k: &str| l.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    Locality {
                        region: s("region"),
                        zone: s("zone"),
                        subzone: s("sub_zone"),
                    }
                })
                .unwrap_or_default();
            hosts.insert(
                HostKey::new(address, port),
                HostState {
                    weight: h.weight.unwrap_or(1),
                    priority: h.priority.unwrap_or(0),
                    locality,
                    flags: h.flags(),
                    rq_total: h.counter("rq_total").unwrap_or(0),
                    rq_error: h.counter("rq_error").unwrap_or(0),
                    cx_active: h.counter("cx_active").unwrap_or(0),
                },
            );
        }
    }
    out
}

/// What one poll of `t` says: its clusters, and its stats when charts want them.
pub async fn poll_once(t: &PollTarget) -> Vec<DataEvent> {
    let stats = async {
        if t.stats.is_empty() {
            return None;
        }
        let (source, answer) = match &t.prometheus {
            Some(base) => (
                StatsSource::Prometheus,
                admin::prometheus_stats(base, &t.stats).await,
            ),
            None => (
                StatsSource::AdminJson,
                admin::cluster_stats(&t.admin, &t.stats).await,
            ),
        };
        Some(match answer {
            Ok(readings) => DataEvent::Stats {
                proxy: t.name.clone(),
                source,
                at_ms: unix_ms(SystemTime::now()),
                readings,
            },
            Err(e) => DataEvent::StatsFailed {
                proxy: t.name.clone(),
                error: e.to_string(),
            },
        })
    };
    let (clusters, stats) = tokio::join!(poll_clusters(t), stats);
    std::iter::once(clusters).chain(stats).collect()
}

pub async fn poll_clusters(t: &PollTarget) -> DataEvent {
    match admin::clusters(&t.admin).await {
        Ok(c) => DataEvent::Clusters {
            proxy: t.name.clone(),
            clusters: to_model(&c),
            at: Instant::now(),
            wall: SystemTime::now(),
        },
        Err(e) => DataEvent::Failed {
            proxy: t.name.clone(),
            error: e.to_string(),
        },
    }
}

/// Polls every target in `targets` (the console changes the set as screens change) until the
/// console goes away. Each target has its own loop: a VM that takes its whole timeout to fail
/// never delays the others' answers.
pub async fn run(targets: watch::Receiver<Vec<PollTarget>>, events: mpsc::Sender<DataEvent>) {
    run_every(INTERVAL, targets, events).await
}

/// As `run`, each proxy at most once per `every` (never faster than `INTERVAL`).
pub async fn run_every(
    every: Duration,
    mut targets: watch::Receiver<Vec<PollTarget>>,
    events: mpsc::Sender<DataEvent>,
) {
    let every = every.max(INTERVAL);
    // Dropped (a target no longer wanted, or this task aborted): its loop stops with it.
    let mut running: HashMap<PollTarget, AbortOnDropHandle<()>> = HashMap::new();
    loop {
        let now: Vec<PollTarget> = targets.borrow_and_update().clone();
        running.retain(|t, _| now.contains(t));
        for t in now {
            // A newly wanted proxy is polled right away; its interval keeps the pace.
            running.entry(t.clone()).or_insert_with(|| {
                AbortOnDropHandle::new(tokio::spawn(poll_forever(every, t, events.clone())))
            });
        }
        if targets.changed().await.is_err() {
            return;
        }
    }
}

async fn poll_forever(every: Duration, t: PollTarget, events: mpsc::Sender<DataEvent>) {
    let every = if t.quick && !t.admin.starts_with("ssh://") {
        crate::model::planes::verify::READ_EVERY
    } else {
        every
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        for r in poll_once(&t).await {
            if events.send(r).await.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hosts_flags_and_counters() {
        let body = r#"{"cluster_statuses":[{"name":"outbound|80||a","host_statuses":[
          {"address":{"socket_address":{"address":"127.0.0.2","port_value":8080}},
           "stats":[{"name":"rq_total","value":"42"},{"name":"rq_error","value":"2"},{"name":"cx_active","value":1,"type":"GAUGE"}],
           "health_status":{"eds_health_status":"HEALTHY","failed_outlier_check":true},
           "weight":5,"priority":1,"locality":{"region":"r1","zone":"z1"}}]}]}"#;
        let c: Clusters = serde_json::from_str(body).unwrap();
        let m = to_model(&c);
        let h = &m["outbound|80||a"][&HostKey::new("127.0.0.2", 8080)];
        assert_eq!(
            (h.weight, h.priority, h.rq_total, h.rq_error, h.cx_active),
            (5, 1, 42, 2, 1)
        );
        assert_eq!(h.flags, vec!["failed_outlier_check".to_string()]);
        assert_eq!(h.locality.to_string(), "r1/z1");
    }
}
