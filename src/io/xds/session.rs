//! The task that keeps the console subscribed: connect, stream, and on any failure report
//! the connection as retrying, wait (250 ms doubling to 10 s, reset after a stream that
//! lived a while) and start over with the current subscription.

use super::event::XdsEvent;
use super::stream::{Protocol, Stream};
use super::syncz;
use super::target::Target;
use crate::model::planes::control::Connection;
use envoy_types::pb::envoy::config::core::v3::Node;
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, watch};

pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub protocol: Protocol,
    pub node: Node,
    /// Also poll istio.io/debug/syncz for every proxy's sync status.
    pub syncz: bool,
}

/// Runs until the console drops `events`.
pub async fn run(
    cfg: Config,
    mut names: watch::Receiver<BTreeSet<String>>,
    events: mpsc::Sender<XdsEvent>,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut since: Option<SystemTime> = None;
    loop {
        let started = Instant::now();
        let error = match cfg.target.connect().await {
            Ok(channel) => {
                let stream = Stream {
                    target: &cfg.target,
                    node: cfg.node.clone(),
                    names: &mut names,
                    events: &events,
                };
                let sync = async {
                    if !cfg.syncz {
                        return std::future::pending().await;
                    }
                    let error =
                        syncz::poll(&cfg.target, channel.clone(), cfg.node.clone(), &events).await;
                    let _ = events
                        .send(XdsEvent::SynczUnavailable {
                            server: cfg.target.label.clone(),
                            error,
                        })
                        .await;
                    std::future::pending::<()>().await
                };
                tokio::select! {
                    e = stream.run(channel.clone(), cfg.protocol) => e,
                    _ = sync => unreachable!("the syncz future never completes"),
                }
            }
            Err(e) => e.to_string(),
        };
        if events.is_closed() {
            return;
        }
        if started.elapsed() > MAX_BACKOFF {
            backoff = FIRST_BACKOFF;
            since = None;
        }
        let since = *since.get_or_insert_with(SystemTime::now);
        tracing::info!(server = %cfg.target.label, "xDS stream ended: {error}; retrying in {backoff:?}");
        if events
            .send(XdsEvent::Connection {
                server: cfg.target.label.clone(),
                state: Connection::Retrying { since, error },
            })
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
