//! The three planes against the embedded control plane and a real Envoy: the console's xDS
//! client (SotW and Delta, resubscribing after a restart), the admin poller, and each drift
//! case produced for real and found by `meshdeck get endpoints --xds --envoy-admin`.

mod common;
use common::mesh::*;
use meshdeck::cli::args::Scope;
use meshdeck::cli::planes::{Gathered, PlaneArgs, gather};
use meshdeck::demo::load::Caller;
use meshdeck::demo::vm::Behaviour;
use meshdeck::io::envoy::bootstrap::ApiType;
use meshdeck::io::envoy::poll::{self, DataEvent, PollTarget};
use meshdeck::io::xds::Target;
use meshdeck::io::xds::XdsEvent;
use meshdeck::io::xds::session::{self, Config};
use meshdeck::io::xds::stream::Protocol;
use meshdeck::model::planes::HostKey;
use meshdeck::model::planes::control::Connection;
use meshdeck::model::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

const HOST: &str = "planes.demo.internal";
const CLUSTER: &str = "outbound|80||planes.demo.internal";

fn args(xds: &str, admin: &str) -> PlaneArgs {
    PlaneArgs {
        xds: vec![xds.to_string()],
        envoy_admin: vec![format!("east={admin}")],
        ..Default::default()
    }
}

/// `get endpoints HOST -o json` over `declared`, with what the planes answered.
async fn endpoints_json(declared: &Store, planes: &PlaneArgs) -> Vec<Value> {
    let wanted =
        meshdeck::cli::get::wanted_clusters(declared, "endpoints", Some(HOST), &Scope::default());
    assert_eq!(wanted, BTreeSet::from([CLUSTER.to_string()]));
    let g: Gathered = gather(planes, wanted, true).await.expect("planes answer");
    let mut out = Vec::new();
    let code = meshdeck::cli::get::print(
        declared,
        &meshdeck::cli::get::Query {
            resource: "endpoints",
            name: Some(HOST),
            scope: &Scope::default(),
        },
        meshdeck::cli::args::Output::Json,
        Some(&g),
        &meshdeck::cli::planes::viewpoint(planes, Some(&g), Default::default()),
        &mut out,
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_slice(&out).unwrap();
    v.as_array().unwrap().clone()
}

fn by_address<'a>(eps: &'a [Value], addr: &str) -> &'a Value {
    eps.iter()
        .find(|e| e["address"] == addr)
        .unwrap_or_else(|| panic!("no endpoint {addr} in {eps:#?}"))
}

fn codes(ep: &Value) -> Vec<String> {
    ep["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// Repeats `probe` until `ok`, up to 20 s.
async fn until<T: std::fmt::Debug>(probe: impl AsyncFnMut() -> T, ok: impl Fn(&T) -> bool) -> T {
    common::wait::until("the planes agree", Duration::from_secs(20), probe, ok).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_drift_is_found_against_a_real_envoy() {
    let vms = vms_on_one_port(&[("p-a", 41), ("p-b", 42), ("p-c", 43)]).await;
    let mut served = service_yaml(
        HOST,
        "planes",
        &[
            (&vms[0], 3, "r1/z1"),
            (&vms[1], 1, "r1/z1"),
            (&vms[2], 1, "r1/z1"),
        ],
    );
    served = served.replace(
        "trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}",
        "trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}, outlierDetection: {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 60s, maxEjectionPercent: 100}}",
    );
    // p-c has health checks on and no Healthy condition: the control plane drops it.
    let unhealthy = served.replace(
        "metadata: {name: p-c, namespace: demo}",
        "metadata: {name: p-c, namespace: demo, annotations: {proxy.istio.io/health-checks-enabled: \"true\"}}",
    );
    assert_ne!(unhealthy, served);
    let cp = ControlPlane::start(store_of(&unhealthy)).await;
    let proxy = Proxy::start("east", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("east").await;
    let planes = args(&cp.addr.to_string(), &proxy.admin);

    // `meshdeck proxies` lists the Envoy (and not itself) with every type SYNCED.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args(["proxies", "--xds", &cp.addr.to_string(), "-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(listed[0]["id"], "east");
    for t in ["CDS", "EDS", "LDS", "RDS"] {
        assert_eq!(listed[0]["types"][t]["status"], "SYNCED", "{listed:#?}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args(["proxies"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --xds"));

    // What the console reads says p-a has weight 5; the control plane still serves 3.
    let declared = store_of(&unhealthy.replace("weight: 3", "weight: 5"));
    let eps = endpoints_json(&declared, &planes).await;
    let a = by_address(&eps, "127.0.0.41");
    assert_eq!(a["control"]["weight"], 3, "{a:#}");
    assert!(
        a["control"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "the EDS version SENT comes from: {a:#}"
    );
    assert_eq!(a["data"]["east"]["weight"], 3, "{a:#}");
    assert_eq!(codes(a), ["weight-differs"], "{a:#}");
    let b = by_address(&eps, "127.0.0.42");
    assert!(codes(b).is_empty(), "{b:#}");
    assert_eq!(b["data"]["east"]["priority"], 0);
    let c = by_address(&eps, "127.0.0.43");
    assert_eq!(c["control"], Value::Null);
    assert_eq!(c["data"]["east"], Value::Null);
    assert_eq!(codes(c), ["not-sent"], "{c:#}");
    assert!(
        c["drift"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("Healthy=True")
    );

    // p-b answers 503s: outlier detection ejects it while it is declared healthy.
    vms[1].set(Behaviour::Errors);
    let caller = Caller::default();
    let declared = store_of(&unhealthy);
    let eps = until(
        async || {
            caller.split(proxy.listen().await, HOST, 10).await;
            endpoints_json(&declared, &planes).await
        },
        |eps| codes(by_address(eps, "127.0.0.42")).contains(&"ejected".to_string()),
    )
    .await;
    let b = by_address(&eps, "127.0.0.42");
    assert!(
        b["data"]["east"]["rq_error"].as_u64().unwrap() >= 2,
        "{b:#}"
    );
    assert!(
        b["data"]["east"]["health_flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "failed_outlier_check")
    );
    assert!(
        by_address(&eps, "127.0.0.41")["data"]["east"]["rq_total"]
            .as_u64()
            .unwrap()
            > 0
    );

    // An assignment Envoy refuses: the proxy NACKs, syncz says ERROR, every endpoint shows it.
    let bad = unhealthy.replace(&format!("http: {}", vms[0].addr.port()), "http: 70000");
    cp.publish(store_of(&bad));
    let eps = until(
        async || endpoints_json(&declared, &planes).await,
        |eps| codes(by_address(eps, "127.0.0.42")).contains(&"proxy-nack".to_string()),
    )
    .await;
    let nack = by_address(&eps, "127.0.0.42")["drift"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "proxy-nack")
        .unwrap()
        .clone();
    assert!(
        nack["reason"]
            .as_str()
            .unwrap()
            .contains("east rejected EDS"),
        "{nack:#}"
    );
    // The control plane sends port 70000 for every entry of the group, so none of the declared
    // entries is sent as declared, and the Envoy holds the old ones.
    let a = by_address(&eps, "127.0.0.41");
    assert!(
        codes(a).contains(&"not-sent".to_string())
            && codes(a).contains(&"envoy-holds-old".to_string()),
        "{a:#}"
    );
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_probe_shows_as_failing_health_check_while_declared_healthy() {
    let vms = vms_on_one_port(&[("h-1", 44), ("h-2", 45)]).await;
    let mut text = service_yaml(HOST, "hc", &[(&vms[0], 1, "r1/z1"), (&vms[1], 1, "r1/z1")]);
    text = text.replace(
        "kind: WorkloadEntry\nmetadata: {name: ",
        "kind: WorkloadEntry\nmetadata: {annotations: {istio.io/autoRegistrationGroup: hc}, name: ",
    );
    text.push_str(&format!(
        "---\napiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {{name: hc, namespace: demo}}\nspec:\n  metadata: {{labels: {{app: hc}}}}\n  template: {{ports: {{http: 1}}}}\n  probe: {{periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1, successThreshold: 1, httpGet: {{path: /health, port: {}}}}}\n",
        vms[1].addr.port()
    ));
    let cp = ControlPlane::start(store_of(&text)).await;
    let proxy = Proxy::start("east", "r1/z1", cp.addr, ApiType::Delta).await;
    cp.wait_synced("east").await;
    vms[1].set(Behaviour::ProbeFailing);
    let planes = PlaneArgs {
        xds_delta: true,
        ..args(&cp.addr.to_string(), &proxy.admin)
    };
    let declared = store_of(&text);
    let eps = until(
        async || endpoints_json(&declared, &planes).await,
        |eps| codes(by_address(eps, "127.0.0.45")) == ["failing-health-check"],
    )
    .await;
    assert!(codes(by_address(&eps, "127.0.0.44")).is_empty());
    let reason = eps
        .iter()
        .flat_map(|e| e["drift"].as_array().unwrap())
        .next()
        .unwrap()["reason"]
        .clone();
    assert_eq!(
        reason,
        "it fails its active health check in east, though declared healthy"
    );
    cp.stop().await;
}

/// The console's xDS session against `addr`, and its events.
fn console_session(
    addr: std::net::SocketAddr,
    protocol: Protocol,
    names: watch::Receiver<BTreeSet<String>>,
    syncz: bool,
) -> (tokio::task::JoinHandle<()>, mpsc::Receiver<XdsEvent>) {
    let (tx, rx) = mpsc::channel(64);
    let task = tokio::spawn(session::run(
        Config {
            target: Target::plaintext(&addr.to_string()),
            protocol,
            locality: None,
            syncz,
        },
        names,
        tx,
    ));
    (task, rx)
}

/// The next event that `want`s, within 15 s.
async fn next_event(
    rx: &mut mpsc::Receiver<XdsEvent>,
    want: &dyn Fn(&XdsEvent) -> bool,
) -> XdsEvent {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(15), rx.recv())
            .await
            .expect("an event")
            .expect("open");
        if want(&ev) {
            return ev;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_resubscribes_after_a_restart_and_follows_its_names() {
    let vms = vms(&[("r-1", 46)]).await;
    let text = service_yaml(HOST, "re", &[(&vms[0], 4, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&text)).await;
    let addr = cp.addr;
    for protocol in [Protocol::Delta, Protocol::StateOfTheWorld] {
        let (names_tx, names) = watch::channel(BTreeSet::new());
        let (task, mut rx) = console_session(addr, protocol, names, false);
        let ev = next_event(&mut rx, &|e| matches!(e, XdsEvent::Clusters { .. })).await;
        let XdsEvent::Clusters { clusters, .. } = ev else {
            unreachable!()
        };
        assert_eq!(clusters[CLUSTER].discovery, "EDS");
        names_tx.send_replace(BTreeSet::from([CLUSTER.to_string()]));
        let ev = next_event(&mut rx, &|e| matches!(e, XdsEvent::Endpoints { assignments, .. } if assignments.contains_key(CLUSTER))).await;
        let XdsEvent::Endpoints { assignments, .. } = ev else {
            unreachable!()
        };
        assert_eq!(
            assignments[CLUSTER][&HostKey::new("127.0.0.46", vms[0].addr.port() as u32)].weight,
            4
        );
        task.abort();
    }

    // A restart on the same address: the client reports the loss, reconnects and gets the
    // endpoints again without being asked.
    let (names_tx, names) = watch::channel(BTreeSet::from([CLUSTER.to_string()]));
    let (_task, mut rx) = console_session(addr, Protocol::Delta, names, true);
    next_event(&mut rx, &|e| matches!(e, XdsEvent::Endpoints { .. })).await;
    cp.stop().await;
    next_event(&mut rx, &|e| {
        matches!(
            e,
            XdsEvent::Connection {
                state: Connection::Retrying { .. },
                ..
            }
        )
    })
    .await;
    let cp = ControlPlane::start_on(addr, store_of(&text.replace("weight: 4", "weight: 6"))).await;
    next_event(&mut rx, &|e| {
        matches!(
            e,
            XdsEvent::Connection {
                state: Connection::Connected,
                ..
            }
        )
    })
    .await;
    let ev = next_event(&mut rx, &|e| matches!(e, XdsEvent::Endpoints { assignments, .. } if assignments.contains_key(CLUSTER))).await;
    let XdsEvent::Endpoints { assignments, .. } = ev else {
        unreachable!()
    };
    assert_eq!(assignments[CLUSTER].values().next().unwrap().weight, 6);
    // The console's own node is not listed among the proxies.
    let ev = next_event(&mut rx, &|e| matches!(e, XdsEvent::Syncz { .. })).await;
    let XdsEvent::Syncz { proxies, .. } = ev else {
        unreachable!()
    };
    assert!(proxies.is_empty(), "{proxies:#?}");
    drop(names_tx);
    cp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_envoy_is_reported_and_its_return_noticed() {
    let vms = vms(&[("k-1", 47)]).await;
    let text = service_yaml(HOST, "k", &[(&vms[0], 2, "r1/z1")]);
    let cp = ControlPlane::start(store_of(&text)).await;
    let mut proxy = Proxy::start("east", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("east").await;
    let (targets_tx, targets) = watch::channel(vec![PollTarget::new("east", proxy.admin.clone())]);
    let (tx, mut rx) = mpsc::channel(16);
    let poller = tokio::spawn(poll::run(targets, tx));
    let next = async |rx: &mut mpsc::Receiver<DataEvent>| {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a poll within 10 s")
            .expect("open")
    };
    let DataEvent::Clusters { clusters, .. } = next(&mut rx).await else {
        panic!("first poll failed")
    };
    assert_eq!(clusters[CLUSTER].values().next().unwrap().weight, 2);
    let admin = proxy.admin.clone();
    proxy.envoy.kill().await;
    let failed = loop {
        if let DataEvent::Failed { error, .. } = next(&mut rx).await {
            break error;
        }
    };
    assert!(failed.contains(&admin), "{failed}");
    // Started again on the same admin address, it is read again.
    let again =
        Proxy::start_with_admin("east", "r1/z1", cp.addr, ApiType::StateOfTheWorld, &admin).await;
    cp.wait_synced("east").await;
    loop {
        if let DataEvent::Clusters { clusters, .. } = next(&mut rx).await
            && clusters.contains_key(CLUSTER)
        {
            break;
        }
    }
    // Closed screens stop the polling.
    targets_tx.send_replace(Vec::new());
    drop(again);
    poller.abort();
    cp.stop().await;
}

/// Consistent hashing on the source address sends every request of one client to one host:
/// the other host, weight 1 and healthy in Envoy, gets nothing, and the console says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_consistent_hashing_never_picks_shows_no_traffic() {
    use meshdeck::model::endpoint::derive;
    use meshdeck::model::object::{Kind, ObjectKey};
    use meshdeck::model::planes::Planes;
    use meshdeck::model::planes::data::ProxyData;
    use meshdeck::model::planes::drift::{NO_TRAFFIC, NO_TRAFFIC_WINDOW};
    use meshdeck::model::share::Viewpoint;
    let vms = vms_on_one_port(&[("h-a", 44), ("h-b", 45)]).await;
    let served = service_yaml(
        HOST,
        "planes",
        &[(&vms[0], 1, "r1/z1"), (&vms[1], 1, "r1/z1")],
    )
    .replace(
        "trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}",
        "trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}",
    );
    assert!(served.contains("consistentHash"));
    let store = store_of(&served);
    let cp = ControlPlane::start(store.clone()).await;
    let proxy = Proxy::start("east", "r1/z1", cp.addr, ApiType::StateOfTheWorld).await;
    cp.wait_synced("east").await;
    let caller = Caller::default();
    let split = caller.split(proxy.listen().await, HOST, 20).await;
    assert_eq!(split.values().sum::<usize>(), 20, "{split:?}");
    assert_eq!(split.len(), 1, "one source, one host: {split:?}");

    let target = PollTarget::new("east", proxy.admin.clone());
    let mut data = ProxyData::new("east", &proxy.admin);
    let started = Instant::now();
    while started.elapsed() < NO_TRAFFIC_WINDOW + Duration::from_secs(2) {
        match poll::poll_clusters(&target).await {
            DataEvent::Clusters {
                clusters, at, wall, ..
            } => data.record(clusters, at, wall),
            other => panic!("{other:?}"),
        }
        caller.split(proxy.listen().await, HOST, 5).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let derived = derive(
        &store,
        &ObjectKey::new(Kind::ServiceEntry, "demo", "planes"),
        &Viewpoint::default(),
    )
    .unwrap();
    let planes = Planes {
        control: None,
        syncs: &[],
        proxies: vec![&data],
    };
    let idle: Vec<String> = derived.ports[0]
        .endpoints
        .iter()
        .filter(|ep| {
            planes
                .drift(CLUSTER, ep, None)
                .iter()
                .any(|d| d.code == NO_TRAFFIC && d.reason.contains("no requests"))
        })
        .map(|ep| ep.address.clone())
        .collect();
    let never_picked = if split.contains_key("h-a") {
        "127.0.0.45"
    } else {
        "127.0.0.44"
    };
    assert_eq!(
        idle,
        [never_picked],
        "the host the hash never picks ({split:?})"
    );
    cp.stop().await;
}

/// A host declared in two namespaces, against a control plane standing in for istiod: the
/// console takes the host rule from the release the server names, and `get endpoints` says
/// which declaration won instead of `not-sent`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_declared_twice_names_the_winner_by_the_servers_release() {
    let store = store_of(include_str!("data/duplicate-host.yaml"));
    let json = |planes: PlaneArgs, store: Store| async move {
        let wanted = meshdeck::cli::get::wanted_clusters(
            &store,
            "endpoints",
            Some("svc1.internal.com"),
            &Scope::default(),
        );
        let g = gather(&planes, wanted, false).await.expect("planes answer");
        let view = meshdeck::cli::planes::viewpoint(&planes, Some(&g), Default::default());
        let mut out = Vec::new();
        let code = meshdeck::cli::get::print(
            &store,
            &meshdeck::cli::get::Query {
                resource: "endpoints",
                name: Some("svc1.internal.com"),
                scope: &Scope::default(),
            },
            meshdeck::cli::args::Output::Json,
            Some(&g),
            &view,
            &mut out,
        );
        assert_eq!(code, 0);
        let v: Value = serde_json::from_slice(&out).unwrap();
        v.as_array().unwrap().clone()
    };
    let codes = |eps: &[Value], addr: &str| -> Vec<String> {
        by_address(eps, addr)["drift"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect()
    };
    // Istio 1.14: the oldest (ns1) for every proxy, seed1's included.
    let old = ControlPlane::start_with(
        "127.0.0.1:0".parse().unwrap(),
        store.clone(),
        Options {
            istiod_version: Some("1.14-maistra-2.3".into()),
            ..Default::default()
        },
    )
    .await;
    let in_seed1 = PlaneArgs {
        xds: vec![old.addr.to_string()],
        xds_namespace: Some("seed1".into()),
        ..Default::default()
    };
    let eps = json(in_seed1.clone(), store.clone()).await;
    assert_eq!(codes(&eps, "10.1.0.11"), Vec::<String>::new(), "{eps:#?}");
    assert_eq!(codes(&eps, "10.2.0.11"), vec!["shadowed"], "{eps:#?}");
    let reason = by_address(&eps, "10.2.0.11")["drift"][0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("also declared by se ns1/svc1") && reason.contains("Istio < 1.20"),
        "{reason}"
    );
    old.stop().await;

    // Current Istio: a proxy's own namespace first.
    let new = ControlPlane::start(store.clone()).await;
    let in_seed1 = PlaneArgs {
        xds: vec![new.addr.to_string()],
        ..in_seed1
    };
    let eps = json(in_seed1, store.clone()).await;
    assert_eq!(codes(&eps, "10.2.0.11"), Vec::<String>::new(), "{eps:#?}");
    assert_eq!(codes(&eps, "10.1.0.11"), vec!["shadowed"], "{eps:#?}");
    assert_eq!(
        by_address(&eps, "10.1.0.11")["not_sent_to_viewpoint"]["namespace"],
        "seed1"
    );
    new.stop().await;
}
