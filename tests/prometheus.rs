//! A real Prometheus (the distribution's package) scraping a real Envoy's `/stats/prometheus`
//! on loopback: meshdeck's one query for the clusters wanted gives the same readings per proxy
//! as the Envoy's own text, named by the `pod` label; a server that is gone is said.

mod common;
use common::mesh::*;
use meshdeck::demo::load::Caller;
use meshdeck::demo::prometheus::{Prometheus, Scrape};
use meshdeck::io::envoy::admin;
use meshdeck::io::envoy::bootstrap::ApiType;
use meshdeck::model::planes::stats::Field;
use std::time::Duration;

const HOST: &str = "prom.demo.internal";
const CLUSTER: &str = "outbound|80||prom.demo.internal";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_server_gives_each_proxys_cluster_stats_in_one_query() {
    let vms = vms(&[("p-1", 61), ("p-2", 62)]).await;
    let text = service_yaml(HOST, "p", &[(&vms[0], 1, "r1/z1"), (&vms[1], 1, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&text)).await;
    let proxy = Proxy::start("east", "r1/z1", cp.addr, ApiType::Delta).await;
    cp.wait_synced("east").await;
    Caller::default()
        .split(proxy.listen().await, HOST, 30)
        .await;

    let address = proxy.admin.trim_start_matches("http://").to_string();
    let prom = Prometheus::start(
        &[Scrape {
            proxy: "proxy-east".into(),
            address,
        }],
        Duration::from_millis(500),
    )
    .await
    .expect("prometheus starts (scripts/setup-debian.sh installs it)");
    assert!(prom.url.starts_with("http://127.0.0.1:"), "{}", prom.url);

    // Once scraped, the query's answer is what Envoy's own text says.
    let clusters = [CLUSTER.to_string()];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let from_server = loop {
        tick.tick().await;
        let by_proxy = meshdeck::io::prometheus::readings(&prom.url, &clusters)
            .await
            .expect("the query answers");
        if let Some(r) = by_proxy.get("proxy-east").and_then(|r| r.get(CLUSTER))
            && r.values.get(&Field::RqTotal) >= Some(&30)
        {
            assert_eq!(by_proxy.len(), 1, "one proxy scraped: {by_proxy:?}");
            break r.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no scrape of {CLUSTER} with 30 requests within 30 s: {by_proxy:?}"
        );
    };
    let own = admin::prometheus_stats(&proxy.admin, &clusters)
        .await
        .expect("admin /stats/prometheus");
    assert_eq!(
        from_server.values[&Field::RqTotal],
        own[CLUSTER].values[&Field::RqTotal],
        "no request since: the server and Envoy agree"
    );
    assert!(from_server.latency.is_some(), "{from_server:?}");

    // The server gone: the reason names it.
    let url = prom.url.clone();
    drop(prom);
    let gone = loop {
        tick.tick().await;
        if let Err(e) = meshdeck::io::prometheus::readings(&url, &clusters).await {
            break e;
        }
    };
    assert!(gone.contains(&url), "{gone}");
}

/// A fleet of 1,000 proxies behind one exporter, scraped by the real Prometheus: they are
/// counted, and each cluster comes summed over all of them in one query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_is_counted_and_summed_by_the_server() {
    use meshdeck::demo::fleet;
    let proxies = 1_000;
    let exporter = fleet::start(proxies, 2).await.unwrap();
    let prom = Prometheus::start(
        &[Scrape::many(exporter.address.to_string())],
        Duration::from_secs(1),
    )
    .await
    .expect("prometheus starts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let n = meshdeck::io::prometheus::proxies(&prom.url)
            .await
            .unwrap_or(0);
        if n == proxies {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} of {proxies} proxies counted within 60 s"
        );
    }
    let clusters = [fleet::cluster(1)];
    let summed = meshdeck::io::prometheus::summed(&prom.url, &clusters)
        .await
        .expect("the summed query answers");
    let every = &summed[meshdeck::io::prometheus::EVERY_PROXY][&clusters[0]];
    let total = every.values[&Field::RqTotal];
    // Every proxy said the same at one scrape: the sum is a thousand of them.
    assert!(total > 0 && total % proxies as u64 == 0, "{every:?}");
    assert_eq!(
        every.values[&Field::Rq5xx],
        proxies as u64 * (total / proxies as u64 / 50),
        "{every:?}"
    );
    assert_eq!(summed.len(), 1, "one set of sums, not a thousand proxies");
    assert!(every.latency.is_some(), "{every:?}");
}
