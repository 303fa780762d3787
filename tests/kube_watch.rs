//! The Kubernetes source against the in-process fake API server: discovery, paginated initial
//! sync, live updates, relist after 410 without losing the screen, reconnect after a dropped
//! watch, forbidden kinds — and the fake's answers compared with the recorded ones.

mod common;
use meshdeck::io::kube::tagged::KubeTx;
use meshdeck::io::kube::{ConnState, KubeEvent, client, discovery, watch};
use meshdeck::model::object::{Kind, ObjectKey};
use meshdeck::msg::Msg;
use meshdeck::testing::apiserver::FakeApiServer;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;

fn we(ns: &str, name: &str, weight: u32) -> Value {
    json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"address": "10.0.0.1", "labels": {"app": "x"}, "weight": weight}})
}

async fn client_for(fake: &FakeApiServer, dir: &Path, user: &str) -> client::Connected {
    let path = dir.join("kubeconfig");
    fake.write_kubeconfig(&path, user, None).unwrap();
    client::connect(&client::Target {
        kubeconfig: Some(path),
        context: None,
    })
    .await
    .expect("connect")
}

async fn next_kube(rx: &mut mpsc::Receiver<Msg>) -> KubeEvent {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("an event within 10 s")
        {
            Some(Msg::Kube(_, ev)) => return ev,
            Some(_) => continue,
            None => panic!("watch task ended"),
        }
    }
}

async fn until_synced(rx: &mut mpsc::Receiver<Msg>) -> Vec<meshdeck::model::store::Entry> {
    loop {
        if let KubeEvent::Synced { shard, .. } = next_kube(rx).await {
            return shard.into_entries();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_finds_every_kind_in_v1() {
    let fake = FakeApiServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = client_for(&fake, dir.path(), "admin").await;
    let versions = discovery::versions(&c.client).await.unwrap();
    assert_eq!(versions.len(), 5);
    assert!(
        versions.iter().all(|(_, v)| v.as_deref() == Some("v1")),
        "{versions:?}"
    );
    assert_eq!(c.context, "fake");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paginated_sync_then_live_updates_relist_and_reconnect() {
    let fake = FakeApiServer::start().await.unwrap();
    fake.set_bookmark_interval(Duration::from_millis(200));
    for i in 0..1200 {
        fake.upsert(we("ns1", &format!("vm{i:04}"), 1)).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let c = client_for(&fake, dir.path(), "admin").await;
    let (tx, mut rx) = mpsc::channel(4096);
    tokio::spawn(watch::run(
        c.client.clone(),
        Kind::WorkloadEntry,
        "v1".into(),
        None,
        KubeTx::new(Default::default(), tx),
    ));
    let entries = until_synced(&mut rx).await;
    assert_eq!(entries.len(), 1200);
    let lists: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("workloadentries") && !r.contains("watch="))
        .collect();
    assert_eq!(
        lists.len(),
        3,
        "500 per page: {:?}",
        &lists[..lists.len().min(5)]
    );
    assert!(
        lists[0].contains("limit=500") && lists[1].contains("continue="),
        "{lists:?}"
    );

    // A live change arrives as one event.
    fake.upsert(we("ns1", "vm0007", 42)).unwrap();
    loop {
        if let KubeEvent::Upsert(e) = next_kube(&mut rx).await {
            assert_eq!(
                e.object.key(),
                ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm0007")
            );
            assert_eq!(e.object.to_value()["spec"]["weight"], 42);
            break;
        }
    }

    // The watch is cut, the client misses events, the history is compacted: it comes back with
    // a version that is gone, gets 410, and relists whole.
    fake.pause_watches();
    fake.drop_watches();
    fake.upsert(we("ns1", "vm-new", 1)).unwrap();
    fake.compact();
    fake.resume_watches();
    let entries = until_synced(&mut rx).await;
    assert_eq!(
        entries.len(),
        1201,
        "the relist brings everything, including what changed meanwhile"
    );

    // A dropped watch without compaction resumes from the last version: no relist.
    let lists_before = fake
        .requests()
        .iter()
        .filter(|r| !r.contains("watch="))
        .count();
    fake.drop_watches();
    fake.delete("workloadentries", "ns1", "vm0001");
    loop {
        match next_kube(&mut rx).await {
            KubeEvent::Delete(k) => {
                assert_eq!(k.name, "vm0001");
                break;
            }
            KubeEvent::Synced { .. } => panic!("a dropped watch must not relist"),
            _ => {}
        }
    }
    let lists_after = fake
        .requests()
        .iter()
        .filter(|r| !r.contains("watch="))
        .count();
    assert_eq!(lists_before, lists_after, "no LIST after a plain reconnect");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_kind_shows_as_forbidden() {
    let fake = FakeApiServer::start().await.unwrap();
    fake.forbid("viewer", "workloadentries");
    let dir = tempfile::tempdir().unwrap();
    let c = client_for(&fake, dir.path(), "viewer").await;
    let (tx, mut rx) = mpsc::channel(64);
    tokio::spawn(watch::run(
        c.client.clone(),
        Kind::WorkloadEntry,
        "v1".into(),
        Some("ns1".into()),
        KubeTx::new(Default::default(), tx),
    ));
    loop {
        if let KubeEvent::Connection {
            state: ConnState::Forbidden(msg),
            ..
        } = next_kube(&mut rx).await
        {
            assert!(
                msg.contains("User \"viewer\" cannot list resource \"workloadentries\""),
                "{msg}"
            );
            break;
        }
    }
}

fn recorded(name: &str) -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/kube")
        .join(name);
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).expect("recorded JSON"))
}

async fn get(fake: &FakeApiServer, path: &str, token: &str) -> (u16, Value) {
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-w",
            "\n%{http_code}",
            "-H",
            &format!("Authorization: Bearer {token}"),
            &format!("http://{}{path}", fake.addr),
        ])
        .output()
        .await
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (
        code.parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_answers_as_the_recorded_server() {
    let Some(list_ns1) = recorded("list-workloadentries-ns1.json") else {
        panic!(
            "../shared/fixtures/kube is missing: these tests compare against the recorded responses"
        );
    };
    let fake = FakeApiServer::start().await.unwrap();
    fake.apply_yaml(include_str!("../../shared/fixtures/kube/testdata.yaml"))
        .unwrap();
    fake.forbid("viewer", "workloadentries");
    // Discovery bodies are the recorded ones.
    assert_eq!(
        get(&fake, "/apis/networking.istio.io/v1", "admin").await.1,
        recorded("discovery-apis-networking.istio.io-v1.json").unwrap()
    );
    // A list has the recorded envelope.
    let (code, list) = get(
        &fake,
        "/apis/networking.istio.io/v1/namespaces/ns1/workloadentries",
        "admin",
    )
    .await;
    assert_eq!(code, 200);
    for k in ["apiVersion", "kind"] {
        assert_eq!(list[k], list_ns1[k]);
    }
    assert_eq!(list["metadata"]["continue"], "");
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("vm1"), json!("vm2")]);
    // Pages: a continue token and remainingItemCount, as recorded.
    let (_, page1) = get(
        &fake,
        "/apis/networking.istio.io/v1/workloadentries?limit=1",
        "admin",
    )
    .await;
    let rec1 = recorded("list-workloadentries-all-limit1-page1.json").unwrap();
    assert_eq!(
        page1["metadata"]["remainingItemCount"],
        rec1["metadata"]["remainingItemCount"]
    );
    assert!(!page1["metadata"]["continue"].as_str().unwrap().is_empty());
    // Errors are byte-for-byte the recorded Status objects.
    assert_eq!(
        get(
            &fake,
            "/apis/networking.istio.io/v1/namespaces/ns1/workloadentries/does-not-exist",
            "admin"
        )
        .await,
        (404, recorded("get-workloadentry-missing-404.json").unwrap())
    );
    assert_eq!(
        get(
            &fake,
            "/apis/networking.istio.io/v1/namespaces/ns1/workloadentries",
            "viewer"
        )
        .await,
        (
            403,
            recorded("forbidden-viewer-list-workloadentries-ns1.json").unwrap()
        )
    );
    assert_eq!(
        get(
            &fake,
            "/apis/networking.istio.io/v1/workloadentries",
            "viewer"
        )
        .await,
        (
            403,
            recorded("forbidden-viewer-list-workloadentries-all.json").unwrap()
        )
    );
    // An expired continue token: the recorded 410.
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    fake.upsert(we("ns1", "later", 1)).unwrap();
    fake.compact();
    let (code, gone) = get(
        &fake,
        &format!("/apis/networking.istio.io/v1/workloadentries?limit=1&continue={token}"),
        "admin",
    )
    .await;
    let rec = recorded("list-continue-expired-410.json").unwrap();
    assert_eq!(code, 410);
    assert_eq!(gone["message"], rec["message"]);
    assert_eq!(gone["reason"], rec["reason"]);
    assert_eq!(gone["code"], rec["code"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_get_gives_the_same_json_from_a_cluster_as_from_files() {
    let fake = FakeApiServer::start().await.unwrap();
    fake.apply_yaml(&std::fs::read_to_string("examples/registry/payments.yaml").unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kc, "admin", None).unwrap();
    let run = |args: Vec<String>| async move {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
            .args(&args)
            .env("HOME", "/nonexistent")
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let from_cluster = run(vec![
        "get".into(),
        "endpoints".into(),
        "-o".into(),
        "json".into(),
        "--kubeconfig".into(),
        kc.display().to_string(),
    ])
    .await;
    let from_files = run(vec![
        "get".into(),
        "endpoints".into(),
        "-o".into(),
        "json".into(),
        "-m".into(),
        "examples/registry/payments.yaml".into(),
    ])
    .await;
    assert_eq!(from_cluster, from_files);
    assert_eq!(from_cluster.as_array().unwrap().len(), 3);
    let we = run(vec![
        "get".into(),
        "we".into(),
        "-n".into(),
        "shop".into(),
        "-o".into(),
        "json".into(),
        "--kubeconfig".into(),
        kc.display().to_string(),
    ])
    .await;
    assert_eq!(we.as_array().unwrap().len(), 3);
    assert!(
        we[0]["metadata"]["resourceVersion"].is_string(),
        "cluster objects carry their resourceVersion"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_set_against_a_cluster_needs_force_for_owned_fields() {
    let fake = FakeApiServer::start().await.unwrap();
    fake.apply_yaml(&std::fs::read_to_string("examples/registry/payments.yaml").unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kc, "admin", None).unwrap();
    let set = |extra: &[&str]| {
        let mut args = vec![
            "set",
            "weight",
            "shop/payments-vm-1",
            "12",
            "--kubeconfig",
            kc.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.into_iter().map(String::from).collect();
        let home = dir.path().to_path_buf();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_meshdeck"))
                .args(&args)
                .env("HOME", home)
                .env_remove("XDG_STATE_HOME")
                .output()
                .await
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).to_string(),
            )
        }
    };
    let weight = || {
        fake.object("workloadentries", "shop", "payments-vm-1")
            .unwrap()["spec"]["weight"]
            .clone()
    };
    let (code, out) = set(&[]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("kubectl-client-side-apply") && out.contains("--force"),
        "{out}"
    );
    let (code, out) = set(&["--force", "--dry-run"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("server dry run accepted"), "{out}");
    assert_eq!(weight(), 70, "a dry run writes nothing");
    let (code, out) = set(&["--force"]).await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(weight(), 12);
    let (code, _) = set(&["--readonly"]).await;
    assert_eq!(code, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_review_that_says_no_turns_editing_off_before_any_edit() {
    use meshdeck::io::kube::session::{self, Session};
    let fake = FakeApiServer::start().await.unwrap();
    fake.forbid("viewer", "workloadentries");
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    fake.write_kubeconfig(&kc, "viewer", None).unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let s = Session {
        target: client::Target {
            kubeconfig: Some(kc),
            context: None,
        },
        namespace: None,
        readonly: false,
        cluster: Default::default(),
    };
    let _cmds = session::spawn(s, tx).await.unwrap();
    loop {
        if let KubeEvent::WriteDenied(kinds) = next_kube(&mut rx).await {
            assert_eq!(kinds.len(), 1, "{kinds:?}");
            assert_eq!(kinds[0].0, Kind::WorkloadEntry);
            break;
        }
    }
    let reviews = fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("selfsubjectaccessreviews"))
        .count();
    assert_eq!(reviews, 5, "one review per served kind");
}

fn pod(ns: &str, name: &str, app: &str, ip: &str, ready: bool) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
        "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_selected_by_a_service_entry_are_its_endpoints() {
    use meshdeck::config::keymap::Keymap;
    use meshdeck::state::State;
    let fake = FakeApiServer::start().await.unwrap();
    fake.apply_yaml(include_str!("../../shared/fixtures/kube/testdata.yaml"))
        .unwrap();
    fake.upsert(pod("ns1", "foo-abc", "foo", "127.0.0.91", true))
        .unwrap();
    fake.upsert(pod("ns1", "foo-def", "foo", "127.0.0.92", false))
        .unwrap();
    fake.upsert(pod("ns1", "bar-1", "bar", "127.0.0.93", true))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = client_for(&fake, dir.path(), "admin").await;
    let (tx, mut rx) = mpsc::channel(1024);
    tokio::spawn(meshdeck::io::kube::pods::run(
        c.client.clone(),
        None,
        KubeTx::new(Default::default(), tx.clone()),
    ));
    tokio::spawn(watch::run(
        c.client.clone(),
        Kind::ServiceEntry,
        "v1".into(),
        None,
        KubeTx::new(Default::default(), tx.clone()),
    ));
    tokio::spawn(watch::run(
        c.client.clone(),
        Kind::WorkloadEntry,
        "v1".into(),
        None,
        KubeTx::new(Default::default(), tx),
    ));
    let mut state = State::new(meshdeck::state::Config::new(
        "fake",
        false,
        Keymap::load(None, None).0,
    ));
    let mut synced = 0;
    while synced < 3 {
        let ev = next_kube(&mut rx).await;
        if matches!(ev, KubeEvent::Synced { .. } | KubeEvent::PodsSynced(_)) {
            synced += 1;
        }
        meshdeck::update::update(&mut state, Msg::Kube(Default::default(), ev));
    }
    assert_eq!(state.registry.store.pod_count(), 3);
    let se = ObjectKey::new(Kind::ServiceEntry, "ns1", "svc1");
    let d =
        meshdeck::model::endpoint::derive(&state.registry.store, &se, &Default::default()).unwrap();
    let eps = &d.ports[0].endpoints;
    let pods: Vec<_> = eps
        .iter()
        .filter(|e| {
            matches!(
                e.source,
                meshdeck::model::endpoint::EndpointSource::Pod { .. }
            )
        })
        .collect();
    assert_eq!(pods.len(), 2, "app=foo pods only: {eps:#?}");
    assert_eq!(pods[0].port, 8080, "a pod serves on targetPort");
    assert!(
        pods.iter()
            .any(|p| p.address == "127.0.0.92" && !p.health.is_healthy() && p.share == 0.0)
    );
    // A pod that becomes ready arrives as one event.
    fake.upsert(pod("ns1", "foo-def", "foo", "127.0.0.92", true))
        .unwrap();
    loop {
        let ev = next_kube(&mut rx).await;
        let done = matches!(&ev, KubeEvent::PodUpsert(p) if p.name == "foo-def" && p.ready);
        meshdeck::update::update(&mut state, Msg::Kube(Default::default(), ev));
        if done {
            break;
        }
    }
    let d =
        meshdeck::model::endpoint::derive(&state.registry.store, &se, &Default::default()).unwrap();
    assert!(
        d.ports[0]
            .endpoints
            .iter()
            .filter(|e| e.address.starts_with("127.0.0.9"))
            .all(|e| e.health.is_healthy())
    );
}

/// The recorded PATCH with a misspelt field: 200, the field pruned, and the same Warning header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_field_is_pruned_with_the_recorded_warning() {
    let meta = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/kube/unknown-field-pruned-warning-200.meta.txt"),
    )
    .expect("../shared/fixtures/kube is missing");
    let recorded_warning = meta
        .lines()
        .find_map(|l| l.trim().strip_prefix("Warning: "))
        .expect("the recording has a Warning header")
        .to_string();
    let rec = recorded("unknown-field-pruned-warning-200.json").unwrap();
    let fake = FakeApiServer::start().await.unwrap();
    fake.apply_yaml(include_str!("../../shared/fixtures/kube/testdata.yaml"))
        .unwrap();
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-i",
            "-X",
            "PATCH",
            "-H",
            "Authorization: Bearer admin",
            "-H",
            "Content-Type: application/merge-patch+json",
            "--data",
            r#"{"spec": {"wieght": 7}}"#,
            &format!(
                "http://{}/apis/networking.istio.io/v1/namespaces/ns1/workloadentries/vm2?fieldManager=mesh-console",
                fake.addr
            ),
        ])
        .output()
        .await
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let warning = head
        .lines()
        .find_map(|l| l.strip_prefix("warning: ").or(l.strip_prefix("Warning: ")))
        .expect("a Warning header");
    assert_eq!(warning, recorded_warning);
    let body: Value = serde_json::from_str(body).unwrap();
    // The recording came after other edits to vm2: its values differ, its fields do not.
    let fields = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v["spec"].as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        fields(&body),
        fields(&rec),
        "pruned as the real server pruned it"
    );
    assert!(body["spec"].get("wieght").is_none());
}

/// The fake's schemas are the real CRDs' (v1, descriptions left out).
#[test]
fn the_fake_prunes_with_the_real_crd_schemas() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/crds/istio-crds.yaml"),
    )
    .expect("../shared/crds is missing");
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("description");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let embedded: Value =
        serde_json::from_str(meshdeck::testing::apiserver::schema::SCHEMAS_JSON).unwrap();
    let mut found = 0;
    for doc in meshdeck::io::manifests::documents::split(&text) {
        let Ok(crd) = serde_saphyr::from_str::<Value>(&text[doc.start..doc.end]) else {
            continue;
        };
        let kind = crd["spec"]["names"]["kind"].as_str().unwrap_or("");
        let Some(want) = embedded.get(kind) else {
            continue;
        };
        let v1 = crd["spec"]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "v1")
            .unwrap();
        let mut schema = v1["schema"]["openAPIV3Schema"].clone();
        strip(&mut schema);
        assert_eq!(&schema, want, "{kind}");
        found += 1;
    }
    assert_eq!(found, 5);
}
