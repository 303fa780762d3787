//! The embedded control plane against a real Envoy 1.40: every type ACKed in SotW and Delta, an
//! invalid resource NACKed, weights moving traffic, restarts resynced.

mod common;
use common::mesh::*;
use common::wait::until;
use envoy_types::pb::envoy::service::status::v3::ConfigStatus;
use meshdeck::controlplane::any::{CLUSTER, ENDPOINT};
use meshdeck::demo::load::Caller;
use meshdeck::io::envoy::admin;
use meshdeck::io::envoy::bootstrap::ApiType;
use std::time::Duration;

const HOST: &str = "test.demo.internal";

fn share(counts: &std::collections::BTreeMap<String, usize>, vm: &str) -> f64 {
    let total: usize = counts.values().sum();
    counts.get(vm).copied().unwrap_or(0) as f64 / total.max(1) as f64
}

async fn weights_in_envoy(admin_url: &str) -> Vec<(u32, u32)> {
    let c = admin::clusters(admin_url).await.expect("clusters");
    let cluster = c
        .cluster_statuses
        .iter()
        .find(|c| c.name == format!("outbound|80||{HOST}"))
        .expect("cluster present");
    let mut v: Vec<(u32, u32)> = cluster
        .host_statuses
        .iter()
        .map(|h| (h.socket().unwrap().1, h.weight.unwrap_or(1)))
        .collect();
    v.sort();
    v
}

async fn split_moves_with_weights(api: ApiType) {
    let vms = vms(&[("v1", 21), ("v2", 22)]).await;
    let text = service_yaml(
        HOST,
        "test",
        &[(&vms[0], 20, "r1/z1"), (&vms[1], 80, "r1/z2")],
    );
    let cp = ControlPlane::start(store_of(&text)).await;
    let proxy = Proxy::start("proxy-a", "r1/z1", cp.addr, api).await;
    cp.wait_synced("proxy-a").await;
    let caller = Caller::default();
    let counts = caller.split(proxy.listen().await, HOST, 300).await;
    let v2 = share(&counts, "v2");
    assert!(
        (v2 - 0.8).abs() < 0.07,
        "20/80 gave {counts:?}; envoy log:\n{}",
        proxy.log()
    );

    // Edit: 50/50. The control plane pushes, Envoy ACKs, the split follows.
    let text = service_yaml(
        HOST,
        "test",
        &[(&vms[0], 50, "r1/z1"), (&vms[1], 50, "r1/z2")],
    );
    let before = cp.status.proxies()[0].types[ENDPOINT].acked_version.clone();
    cp.publish(store_of(&text));
    until(
        "the new weights reach Envoy",
        Duration::from_secs(10),
        async || weights_in_envoy(&proxy.admin).await,
        |w| w.iter().all(|(_, w)| *w == 50),
    )
    .await;
    let after = cp.wait_synced("proxy-a").await;
    assert_ne!(after[1], before, "EDS version moved");
    let counts = caller.split(proxy.listen().await, HOST, 300).await;
    let v2 = share(&counts, "v2");
    assert!((v2 - 0.5).abs() < 0.07, "50/50 gave {counts:?}");
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sotw_every_type_acked_and_weights_move_traffic() {
    split_moves_with_weights(ApiType::StateOfTheWorld).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delta_every_type_acked_and_weights_move_traffic() {
    split_moves_with_weights(ApiType::Delta).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_endpoint_is_nacked_and_shows_as_error() {
    let vms = vms(&[("v1", 23)]).await;
    let good = service_yaml(HOST, "test", &[(&vms[0], 1, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&good)).await;
    let _proxy = Proxy::start("proxy-n", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("proxy-n").await;
    // A port Envoy cannot use: the API server accepts it, Envoy refuses the assignment.
    let bad = good.replace(&format!("http: {}", vms[0].addr.port()), "http: 70000");
    cp.publish(store_of(&bad));
    let nacked = |p: &meshdeck::controlplane::status::ProxyStatus| {
        p.types
            .get(ENDPOINT)
            .is_some_and(|t| t.config_status() == ConfigStatus::Error)
    };
    let p = until(
        "Envoy NACKs the endpoint",
        Duration::from_secs(10),
        async || {
            let all = cp.status.proxies();
            all.into_iter().find(|p| p.info.id == "proxy-n").unwrap()
        },
        nacked,
    )
    .await;
    let (_, msg) = p.types[ENDPOINT].nack.clone().unwrap();
    assert!(
        msg.contains("70000") || msg.to_lowercase().contains("port"),
        "{msg}"
    );
    assert_eq!(p.types[CLUSTER].config_status(), ConfigStatus::Synced);
    // Fixing it clears the error.
    cp.publish(store_of(&good.replace("weight: 1", "weight: 2")));
    cp.wait_synced("proxy-n").await;
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_resyncs_after_a_control_plane_restart() {
    let vms = vms(&[("v1", 24)]).await;
    let text = service_yaml(HOST, "test", &[(&vms[0], 7, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&text)).await;
    let addr = cp.addr;
    let mut proxy = Proxy::start("proxy-r", "r1/z1", addr, ApiType::Delta).await;
    cp.wait_synced("proxy-r").await;
    cp.stop().await;
    let cp = ControlPlane::start_on(addr, store_of(&text.replace("weight: 7", "weight: 9"))).await;
    cp.wait_synced("proxy-r").await;
    let want = vec![(vms[0].addr.port() as u32, 9)];
    until(
        "the weight sent after the restart reaches Envoy",
        Duration::from_secs(10),
        async || weights_in_envoy(&proxy.admin).await,
        |w| *w == want,
    )
    .await;
    assert!(proxy.envoy.is_running());
    // Killing Envoy: the control plane notices the stream is gone.
    proxy.envoy.kill().await;
    until(
        "the killed proxy leaves the status board",
        Duration::from_secs(10),
        async || cp.status.proxies().iter().any(|p| p.info.id == "proxy-r"),
        |listed| !listed,
    )
    .await;
    cp.stop().await;
}

/// Drains `name` in the file at `path` the way the console does, or restores it.
async fn rotate(path: &std::path::Path, name: &str, drain: bool) -> meshdeck::model::store::Store {
    use meshdeck::io::manifests::load::{into_store, load_file};
    use meshdeck::io::source::{Change, FieldEdit, Source, WriteMode};
    use meshdeck::model::object::{Kind, ObjectKey};
    let store = into_store(vec![load_file(path)]);
    let key = ObjectKey::new(Kind::WorkloadEntry, "demo", name);
    let change = if drain {
        let plan = meshdeck::model::drain::plan(&store, &key, "test", "2026-12-02T10:00:00Z")
            .expect("drainable");
        Change::Drain {
            record: plan.record,
        }
    } else {
        Change::Restore {
            record: meshdeck::model::drain::restore_plan(&store, &key).expect("drained"),
        }
    };
    let entry = store.get(&key).unwrap();
    let edit = FieldEdit {
        target: meshdeck::model::endpoint::EndpointSource::WorkloadEntry {
            namespace: "demo".into(),
            name: name.into(),
            cluster: Default::default(),
        },
        change,
        revision: entry.origin.as_ref().map(|o| o.revision.clone()),
        origin: entry.origin.clone(),
        mode: WriteMode::Precondition,
    };
    let dir = path.parent().unwrap().to_path_buf();
    meshdeck::io::source::files::FileSource::new(vec![dir], false)
        .apply(vec![edit])
        .await
        .expect("written");
    into_store(vec![load_file(path)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drained_entry_leaves_eds_and_envoy_and_its_restore_brings_it_back() {
    let vms = vms(&[("v1", 24), ("v2", 25)]).await;
    let text = service_yaml(
        HOST,
        "test",
        &[(&vms[0], 50, "r1/z1"), (&vms[1], 50, "r1/z1")],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mesh.yaml");
    std::fs::write(&path, &text).unwrap();
    let cp = ControlPlane::start(store_of(&text)).await;
    let proxy = Proxy::start("proxy-d", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("proxy-d").await;
    let port_of = |i: usize| vms[i].addr.port() as u32;
    until(
        "both entries in Envoy",
        Duration::from_secs(10),
        async || weights_in_envoy(&proxy.admin).await,
        |w| w.len() == 2,
    )
    .await;

    cp.publish(rotate(&path, "v1", true).await);
    until(
        "the drained entry leaves Envoy",
        Duration::from_secs(10),
        async || weights_in_envoy(&proxy.admin).await,
        |w| w.iter().map(|(p, _)| *p).collect::<Vec<_>>() == vec![port_of(1)],
    )
    .await;
    let caller = Caller::default();
    let counts = caller.split(proxy.listen().await, HOST, 100).await;
    assert_eq!(
        counts.get("v1"),
        None,
        "no request reaches a drained entry: {counts:?}"
    );
    assert_eq!(counts.get("v2"), Some(&100), "{counts:?}");

    cp.publish(rotate(&path, "v1", false).await);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "restored byte for byte"
    );
    until(
        "the restored entry is back in Envoy",
        Duration::from_secs(10),
        async || weights_in_envoy(&proxy.admin).await,
        |w| w.len() == 2,
    )
    .await;
    let counts = caller.split(proxy.listen().await, HOST, 100).await;
    assert!(counts.get("v1").is_some_and(|n| *n > 30), "{counts:?}");
    cp.stop().await;
}
