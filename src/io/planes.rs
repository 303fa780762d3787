//! Starts the console's plane tasks — one xDS session per server, one admin poller — and
//! forwards what they report into the console's message channel. The console steers them
//! through two watch channels: the clusters it needs EDS for, and the Envoys to poll.

use super::envoy::metrics_push;
use super::envoy::poll::{self, PollTarget};
use super::xds::session::{self, Config};
use crate::msg::Msg;
use std::collections::BTreeSet;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// The console's handles on its plane tasks; dropping it stops them (a `JoinSet` aborts its
/// tasks when dropped).
pub struct PlaneLinks {
    pub names: watch::Sender<BTreeSet<String>>,
    pub proxies: watch::Sender<Vec<PollTarget>>,
    /// With a Prometheus server: the clusters whose stats it is asked for.
    pub stats: watch::Sender<Vec<String>>,
    _tasks: JoinSet<()>,
}

impl PlaneLinks {
    /// Hands the tasks what the console wants now, waking them only on a change.
    pub fn want(&self, names: BTreeSet<String>, proxies: Vec<PollTarget>, stats: Vec<String>) {
        self.stats.send_if_modified(|cur| {
            let changed = *cur != stats;
            if changed {
                *cur = stats;
            }
            changed
        });
        self.names.send_if_modified(|cur| {
            let changed = *cur != names;
            if changed {
                *cur = names;
            }
            changed
        });
        self.proxies.send_if_modified(|cur| {
            let changed = *cur != proxies;
            if changed {
                *cur = proxies;
            }
            changed
        });
    }
}

/// Starts the plane tasks; `metrics` is a bound listener for Envoys that push their stats.
pub fn spawn(
    servers: Vec<Config>,
    metrics: Option<std::net::TcpListener>,
    poll_every: std::time::Duration,
    prometheus: Option<String>,
    tx: mpsc::Sender<Msg>,
) -> PlaneLinks {
    let (names, names_rx) = watch::channel(BTreeSet::new());
    let (proxies, proxies_rx) = watch::channel(Vec::new());
    let (stats, stats_rx) = watch::channel(Vec::new());
    let mut tasks = JoinSet::new();
    for cfg in servers {
        let (etx, mut erx) = mpsc::channel(64);
        tasks.spawn(session::run(cfg, names_rx.clone(), etx));
        let tx = tx.clone();
        tasks.spawn(async move {
            while let Some(ev) = erx.recv().await {
                if tx.send(Msg::Xds(ev)).await.is_err() {
                    return;
                }
            }
        });
    }
    let (dtx, mut drx) = mpsc::channel(64);
    if let Some(listener) = metrics {
        let dtx = dtx.clone();
        tasks.spawn(async move {
            let listener = listener
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(listener));
            let served = match listener {
                Ok(l) => metrics_push::serve(l, dtx).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = served {
                tracing::error!("metrics service stopped: {e}");
            }
        });
    }
    if let Some(url) = prometheus {
        tasks.spawn(super::prometheus::poll::run(
            url,
            poll_every.max(poll::INTERVAL),
            stats_rx,
            dtx.clone(),
        ));
    }
    tasks.spawn(poll::run_every(poll_every, proxies_rx, dtx));
    tasks.spawn(async move {
        while let Some(ev) = drx.recv().await {
            if tx.send(Msg::Data(ev)).await.is_err() {
                return;
            }
        }
    });
    PlaneLinks {
        names,
        proxies,
        stats,
        _tasks: tasks,
    }
}
