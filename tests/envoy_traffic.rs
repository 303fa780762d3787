//! Traffic through a real Envoy: locality failover when the local endpoints fail, a failing
//! WorkloadGroup probe taking its endpoint out, and syncz answering in istiod's shape.

mod common;
use common::mesh::*;
use envoy_types::pb::envoy::service::status::v3::{ClientConfig, ConfigStatus};
use meshdeck::controlplane::any::{CLIENT_CONFIG, SYNCZ};
use meshdeck::demo::load::Caller;
use meshdeck::demo::vm::Behaviour;
use meshdeck::io::envoy::bootstrap::ApiType;
use prost::Message;
use std::time::{Duration, Instant};

const HOST: &str = "test.demo.internal";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_local_endpoints_move_traffic_to_the_failover_region() {
    let vms = vms(&[("local", 31), ("remote", 32)]).await;
    let mut text = service_yaml(
        HOST,
        "test",
        &[(&vms[0], 50, "r1/z1"), (&vms[1], 50, "r2/z1")],
    );
    text = text.replace(
        "trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}",
        "trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, localityLbSetting: {enabled: true, failover: [{from: r1, to: r2}]}}, outlierDetection: {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}}",
    );
    let cp = ControlPlane::start(store_of(&text)).await;
    let proxy = Proxy::start("proxy-f", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("proxy-f").await;
    let caller = Caller::default();
    let counts = caller.split(proxy.listen().await, HOST, 50).await;
    assert_eq!(
        counts.get("local"),
        Some(&50),
        "priority 0 takes everything: {counts:?}"
    );
    vms[0].set(Behaviour::Errors);
    // A few 503s eject the local host; then the failover region serves.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let counts = caller.split(proxy.listen().await, HOST, 20).await;
        if counts.get("remote") == Some(&20) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "traffic never failed over: {counts:?}"
        );
    }
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_probe_takes_the_endpoint_out() {
    let vms = vms_on_one_port(&[("r-1", 33), ("r-2", 34), ("r-3", 35)]).await;
    let mut text = service_yaml(
        HOST,
        "ratings",
        &[
            (&vms[0], 1, "r1/z1"),
            (&vms[1], 1, "r1/z1"),
            (&vms[2], 1, "r1/z1"),
        ],
    );
    // The entries belong to a group whose probe Envoy runs as an active health check.
    text = text.replace("kind: WorkloadEntry\nmetadata: {name: ", "kind: WorkloadEntry\nmetadata: {annotations: {istio.io/autoRegistrationGroup: ratings}, name: ");
    text.push_str(&format!(
        "---\napiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {{name: ratings, namespace: demo}}\nspec:\n  metadata: {{labels: {{app: ratings}}}}\n  template: {{ports: {{http: 1}}}}\n  probe: {{periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1, successThreshold: 1, httpGet: {{path: /health, port: {}}}}}\n",
        vms[1].addr.port()
    ));
    let cp = ControlPlane::start(store_of(&text)).await;
    let proxy = Proxy::start("proxy-p", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("proxy-p").await;
    vms[1].set(Behaviour::ProbeFailing);
    let caller = Caller::default();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let counts = caller.split(proxy.listen().await, HOST, 30).await;
        if !counts.contains_key("r-2") && counts.values().sum::<usize>() == 30 && counts.len() == 2
        {
            break;
        }
        if Instant::now() >= deadline {
            let stats = meshdeck::io::envoy::admin::get(&proxy.admin, "/stats?filter=health_check")
                .await
                .unwrap();
            panic!(
                "r-2 still serves after its probe failed: {counts:?}\n{}",
                String::from_utf8_lossy(&stats)
            );
        }
    }
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncz_lists_each_proxy_with_its_sync_status() {
    let vms = vms(&[("v1", 36)]).await;
    let cp = ControlPlane::start(store_of(&service_yaml(
        HOST,
        "test",
        &[(&vms[0], 1, "r1/z1")],
    )))
    .await;
    let _proxy = Proxy::start("proxy-s", "r1/z1", cp.addr, ApiType::Delta).await;
    cp.wait_synced("proxy-s").await;
    let (_tx, mut stream) = ads_stream(cp.addr, "meshdeck-console", SYNCZ).await;
    let resp = next_response(&mut stream).await;
    assert_eq!(resp.type_url, SYNCZ);
    assert_eq!(resp.resources.len(), 1, "the console itself is not a proxy");
    assert_eq!(resp.resources[0].type_url, CLIENT_CONFIG);
    let cc = ClientConfig::decode(resp.resources[0].value.as_slice()).unwrap();
    assert_eq!(cc.node.unwrap().id, "proxy-s");
    assert_eq!(cc.generic_xds_configs.len(), 4);
    for g in &cc.generic_xds_configs {
        assert_eq!(g.config_status, ConfigStatus::Synced as i32, "{g:?}");
        assert!(!g.version_info.is_empty());
    }
    cp.stop().await;
}
