//! The demo mesh headless: traffic flows through both real Envoys, proxy-eu sees the test
//! service's 20/80 split, a weight edit in the registry file moves it, and a killed Envoy is
//! reported.

mod common;
use meshdeck::demo::run::Demo;
use meshdeck::demo::topology::{TEST_V1, TEST_V2};
use meshdeck::io::envoy::find::envoy_binary;
use meshdeck::msg::Msg;
use meshdeck::state::Level;
use std::time::{Duration, Instant};

fn share_v1(demo: &Demo, since: &std::collections::BTreeMap<(String, String), u64>) -> (f64, u64) {
    let now = demo.counts.lock().unwrap().clone();
    let get = |m: &std::collections::BTreeMap<(String, String), u64>, vm: &str| {
        m.get(&("proxy-eu".to_string(), vm.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let v1 = get(&now, TEST_V1.name) - get(since, TEST_V1.name);
    let v2 = get(&now, TEST_V2.name) - get(since, TEST_V2.name);
    (v1 as f64 / (v1 + v2).max(1) as f64, v1 + v2)
}

/// v1's share through proxy-eu over the next 60 requests (at most 20 s).
async fn measure_v1(demo: &Demo) -> (f64, u64) {
    let start = demo.counts.lock().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (v1, n) = share_v1(demo, &start);
        if n >= 60 || Instant::now() > deadline {
            return (v1, n);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_splits_moves_and_reports_a_dead_proxy() {
    let envoy = envoy_binary().unwrap_or_else(|e| panic!("{e}"));
    let mut demo = Demo::start(&envoy, false, |_| {})
        .await
        .expect("demo starts");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _cmds = demo.attach(tx);
    // Bounded wait for enough requests through proxy-eu.
    let (v1, n) = measure_v1(&demo).await;
    assert!(n >= 60, "only {n} requests in 20 s");
    assert!(
        (v1 - 0.2).abs() < 0.08,
        "proxy-eu v1 share {v1:.2} over {n}, want 0.20"
    );

    // Edit the registry file as the console would: v1 20 → 80.
    let path = demo.dir.join("test.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("  weight: 20\n", "  weight: 80\n", 1)).unwrap();
    // Measure once proxy-eu's Envoy holds the new weight.
    let admin = {
        let proxies = demo.proxies.lock().await;
        let eu = proxies.iter().find(|p| p.id == "proxy-eu").unwrap();
        format!("http://{}", eu.admin)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let held = meshdeck::io::envoy::admin::clusters(&admin).await.ok();
        let has_80 = held
            .iter()
            .flat_map(|c| &c.cluster_statuses)
            .any(|c| c.host_statuses.iter().any(|h| h.weight == Some(80)));
        if has_80 {
            break;
        }
        assert!(Instant::now() < deadline, "proxy-eu never held weight 80");
    }
    let (v1, n) = measure_v1(&demo).await;
    assert!(
        (v1 - 0.5).abs() < 0.1,
        "after the edit proxy-eu v1 share {v1:.2} over {n}, want 0.50"
    );

    // Traffic messages reach the console.
    let got_traffic = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(Msg::Traffic(t)) = rx.recv().await
                && t.per_proxy.contains_key("proxy-eu")
            {
                return t;
            }
        }
    })
    .await
    .expect("traffic within 5 s");
    assert!(got_traffic.rates(Some("eu-west1")).values().sum::<f64>() > 0.0);

    // Kill proxy-eu: the console is told.
    demo.proxies
        .lock()
        .await
        .iter_mut()
        .find(|p| p.id == "proxy-eu")
        .unwrap()
        .envoy
        .kill()
        .await;
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(Msg::Event(Level::Error, text)) = rx.recv().await {
                return text;
            }
        }
    })
    .await
    .expect("an error event within 5 s");
    assert!(
        event.contains("proxy-eu") && event.contains("exited"),
        "{event}"
    );
}
