//! Cluster stats from one real Envoy three ways — pushed to the console's metrics service,
//! polled from the admin's `/stats` JSON with a tight filter, and read as Prometheus text —
//! and that they agree on what that Envoy did.

mod common;
use common::mesh::*;
use meshdeck::demo::load::Caller;
use meshdeck::demo::vm::Behaviour;
use meshdeck::io::envoy::admin;
use meshdeck::io::envoy::metrics_push;
use meshdeck::io::envoy::poll::DataEvent;
use meshdeck::model::planes::stats::{Field, Latency, Readings, StatsSource};
use std::time::Duration;
use tokio::sync::mpsc;

const HOST: &str = "stats.demo.internal";
const CLUSTER: &str = "outbound|80||stats.demo.internal";

/// The next pushed reading of CLUSTER that satisfies `ok`, within 20 s.
async fn pushed(rx: &mut mpsc::Receiver<DataEvent>, ok: impl Fn(&Readings) -> bool) -> Readings {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("a matching push within 20 s")
            .expect("receiver open");
        if let DataEvent::Stats {
            proxy,
            source,
            readings,
            ..
        } = ev
        {
            assert_eq!(proxy, "east", "named by its node id");
            assert_eq!(source, StatsSource::Pushed);
            if ok(&readings) {
                return readings;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_polled_and_prometheus_stats_agree() {
    let vms = vms(&[("s-1", 51), ("s-2", 52)]).await;
    vms[1].set(Behaviour::Errors);
    let text = service_yaml(HOST, "s", &[(&vms[0], 1, "r1/z1"), (&vms[1], 1, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&text)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = listener.local_addr().unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let receiver = tokio::spawn(metrics_push::serve(listener, tx));
    let proxy = Proxy::start_pushing("east", "r1/z1", cp.addr, metrics).await;
    cp.wait_synced("east").await;

    Caller::default()
        .split(proxy.listen().await, HOST, 40)
        .await;
    let during = pushed(&mut rx, |r| {
        r.get(CLUSTER).is_some_and(|c| {
            c.values.get(&Field::RqTotal) >= Some(&40)
                && matches!(c.latency, Some(Latency::Quantiles { p50: Some(_), .. }))
        })
    })
    .await;
    let c = &during[CLUSTER];
    assert!(
        c.values[&Field::Rq5xx] >= 1,
        "the erroring VM's 503s: {c:?}"
    );
    // Traffic has stopped: the next push, /stats and Prometheus text all say the same, once
    // Envoy has merged its histograms (on its flush timer).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let (json, prom) = loop {
        tick.tick().await;
        let json = admin::cluster_stats(&proxy.admin, &[CLUSTER.to_string()])
            .await
            .expect("admin /stats");
        let prom = admin::prometheus_stats(&proxy.admin, &[CLUSTER.to_string()])
            .await
            .expect("admin /stats/prometheus");
        let total = json[CLUSTER].values.get(&Field::RqTotal).copied();
        let merged = match &prom[CLUSTER].latency {
            Some(Latency::Buckets(b)) => b.last().map(|l| l.1),
            _ => None,
        };
        if total.is_some() && merged == total {
            break (json, prom);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "histograms never merged: /stats {json:?}, prometheus {prom:?}"
        );
    };
    let total = json[CLUSTER].values[&Field::RqTotal];
    let after = pushed(&mut rx, |r| {
        r.get(CLUSTER)
            .is_some_and(|c| c.values.get(&Field::RqTotal) == Some(&total))
    })
    .await;
    assert_eq!(
        json.keys().collect::<Vec<_>>(),
        vec![CLUSTER],
        "the filter keeps one cluster"
    );
    for field in [Field::RqTotal, Field::Rq2xx, Field::Rq5xx] {
        let j = json[CLUSTER].values.get(&field);
        assert_eq!(
            prom[CLUSTER].values.get(&field),
            j,
            "{field:?} prometheus vs json"
        );
        assert_eq!(
            after[CLUSTER].values.get(&field),
            j,
            "{field:?} pushed vs json"
        );
    }
    assert_eq!(
        json[CLUSTER].values[&Field::Rq2xx] + json[CLUSTER].values[&Field::Rq5xx],
        total
    );
    match &prom[CLUSTER].latency {
        Some(Latency::Buckets(b)) => assert_eq!(b.last().unwrap().1, total, "{b:?}"),
        other => panic!("Prometheus latency should be buckets: {other:?}"),
    }
    assert!(
        matches!(json[CLUSTER].latency, Some(Latency::Quantiles { .. })),
        "{:?}",
        json[CLUSTER].latency
    );
    receiver.abort();
}
