//! The Prometheus poller: the clusters a screen wants, one query a second, every proxy in the
//! answer sent to `update` as its stats (as the admin poller sends one Envoy's). A fleet (more
//! than `FLEET` proxies, counted every half minute) is asked for each cluster summed over all
//! of them instead. A failing server is said against every proxy it answered for before, or
//! against itself.

use crate::model::planes::data::unix_ms;
use crate::model::planes::stats::Readings;
use crate::model::planes::stats::StatsSource;
use crate::msg::data::DataEvent;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

/// How often the proxies are counted (a fleet grows or shrinks slowly).
const COUNT_EVERY: Duration = Duration::from_secs(30);
use tokio::sync::{mpsc, watch};

pub async fn run(
    base: String,
    every: Duration,
    mut clusters: watch::Receiver<Vec<String>>,
    events: mpsc::Sender<DataEvent>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut known: BTreeSet<String> = BTreeSet::new();
    // What each proxy's last answer said: Prometheus scrapes less often than it is asked, and
    // an answer that did not move is no new reading (a rate is taken between two scrapes).
    let mut last: BTreeMap<String, Readings> = BTreeMap::new();
    let mut counted: Option<Instant> = None;
    let mut fleet = false;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            // A new set of clusters is asked for at once, not at the next tick.
            changed = clusters.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        let wanted = clusters.borrow_and_update().clone();
        if wanted.is_empty() {
            continue;
        }
        if counted.is_none_or(|t| t.elapsed() >= COUNT_EVERY) {
            if let Ok(n) = super::proxies(&base).await {
                fleet = n > super::FLEET;
            }
            counted = Some(Instant::now());
        }
        let asked = Instant::now();
        let answer = if fleet {
            super::summed(&base, &wanted).await
        } else {
            super::readings(&base, &wanted).await
        };
        // A query that takes most of the interval (a fleet's sums) is not asked back to back:
        // the server is left at least as long again before the next one.
        let took = asked.elapsed();
        if took * 2 > every {
            tokio::time::sleep(took * 2 - every).await;
        }
        let sent = match answer {
            Ok(by_proxy) => {
                let at_ms = unix_ms(SystemTime::now());
                let mut out = Vec::new();
                for (proxy, readings) in by_proxy {
                    known.insert(proxy.clone());
                    if last.get(&proxy) == Some(&readings) {
                        continue;
                    }
                    last.insert(proxy.clone(), readings.clone());
                    out.push(DataEvent::Stats {
                        proxy,
                        source: StatsSource::Server,
                        at_ms,
                        readings,
                    });
                }
                out
            }
            Err(error) => {
                let names: Vec<String> = if known.is_empty() {
                    vec![base.clone()]
                } else {
                    known.iter().cloned().collect()
                };
                names
                    .into_iter()
                    .map(|proxy| DataEvent::StatsFailed {
                        proxy,
                        error: error.clone(),
                    })
                    .collect()
            }
        };
        for e in sent {
            if events.send(e).await.is_err() {
                return;
            }
        }
    }
}
