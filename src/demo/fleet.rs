//! A synthetic fleet for Prometheus to scrape: one loopback endpoint exposing the Envoy cluster
//! stats of `proxies` proxies (each its own `pod` label) for `clusters` clusters, named as
//! Envoy's Prometheus output names them. Counters grow with time at a steady, known rate, so a
//! test can check what Prometheus sums; the text is built per scrape and bounded by the sizes.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;

/// Requests a second each proxy sends to each cluster; one in fifty answered 5xx.
pub const RATE: u64 = 10;
/// The sizes a benchmark or test may ask for.
pub const MAX_PROXIES: usize = 10_000;
pub const MAX_CLUSTERS: usize = 50;

/// The name of cluster `k` (what the console asks Prometheus for).
pub fn cluster(k: usize) -> String {
    format!("outbound|80||svc-{k}.fleet.internal")
}

pub struct Fleet {
    /// `HOST:PORT` serving `/metrics`.
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The exposition at `secs` after the start.
pub fn text(proxies: usize, clusters: usize, secs: f64) -> String {
    let total = (RATE as f64 * secs) as u64;
    let errors = total / 50;
    let mut out = String::with_capacity(proxies * clusters * 400);
    for p in 0..proxies {
        let pod = format!("fleet-{p:05}");
        for k in 0..clusters {
            let c = format!("outbound|80||svc-{k}");
            let l = format!("envoy_cluster_name=\"{c}\",pod=\"{pod}\"");
            let _ = writeln!(
                out,
                "envoy_cluster_fleet_internal_upstream_rq_total{{{l}}} {total}"
            );
            let _ = writeln!(
                out,
                "envoy_cluster_fleet_internal_upstream_rq_xx{{envoy_response_code_class=\"2\",{l}}} {}",
                total - errors
            );
            let _ = writeln!(
                out,
                "envoy_cluster_fleet_internal_upstream_rq_xx{{envoy_response_code_class=\"5\",{l}}} {errors}"
            );
            let _ = writeln!(
                out,
                "envoy_cluster_fleet_internal_upstream_cx_active{{{l}}} 2"
            );
            // Nine in ten under 5 ms, the rest under 50.
            for (le, n) in [("5", total * 9 / 10), ("50", total), ("+Inf", total)] {
                let _ = writeln!(
                    out,
                    "envoy_cluster_fleet_internal_upstream_rq_time_bucket{{{l},le=\"{le}\"}} {n}"
                );
            }
        }
    }
    out
}

/// Serves the fleet on a loopback port (port 0: the kernel's pick) until dropped.
pub async fn start(proxies: usize, clusters: usize) -> std::io::Result<Fleet> {
    let (proxies, clusters) = (proxies.min(MAX_PROXIES), clusters.min(MAX_CLUSTERS));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let started = Arc::new(Instant::now());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let started = started.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req: Request<Incoming>| {
                    let body = text(proxies, clusters, started.elapsed().as_secs_f64());
                    async move {
                        Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(
                            body,
                        ))))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(Fleet { address, task })
}
