//! Edits through the Kubernetes API against the fake server: server-side apply after a dry run,
//! a conflict with the field's owner that only a confirmed force takes over, 422 causes mapped
//! to fields, stale resourceVersions refused, forbidden patches reported, read-only sending nothing.

mod common;
use meshdeck::io::kube::apply::KubeSource;
use meshdeck::io::source::{ApplyError, Change, FieldEdit, Source, WriteMode};
use meshdeck::model::endpoint::EndpointSource;
use meshdeck::testing::apiserver::FakeApiServer;

async fn setup(user: &str) -> (FakeApiServer, KubeSource, tempfile::TempDir) {
    common::kube::source(user).await
}

fn weight(name: &str, from: u32, to: u32, mode: WriteMode) -> FieldEdit {
    FieldEdit {
        target: EndpointSource::WorkloadEntry {
            cluster: Default::default(),
            namespace: "ns1".into(),
            name: name.into(),
        },
        change: Change::Weight {
            from: Some(from),
            to,
        },
        revision: None,
        origin: None,
        mode,
    }
}

fn stored_weight(fake: &FakeApiServer, name: &str) -> serde_json::Value {
    fake.object("workloadentries", "ns1", name).unwrap()["spec"]["weight"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_conflicts_with_the_owner_until_forced() {
    let (fake, mut src, _d) = setup("admin").await;
    let err = src
        .apply(vec![weight("vm1", 20, 30, WriteMode::Apply)])
        .await
        .unwrap_err();
    match &err {
        ApplyError::Owned { field, manager, .. } => {
            assert_eq!(field, "spec.weight");
            assert_eq!(manager, "kubectl-client-side-apply");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        stored_weight(&fake, "vm1"),
        20,
        "nothing written, not even by the dry run"
    );
    let done = src
        .apply(vec![weight("vm1", 20, 30, WriteMode::ForceApply)])
        .await
        .unwrap();
    assert_eq!(stored_weight(&fake, "vm1"), 30);
    assert!(done[0].revision.is_some());
    // meshdeck owns it now: a plain apply goes through.
    src.apply(vec![weight("vm1", 30, 31, WriteMode::Apply)])
        .await
        .unwrap();
    assert_eq!(stored_weight(&fake, "vm1"), 31);
    // Each applied edit left an Event on the object and a line in the audit log.
    let events = fake.events_created();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["reason"], "MeshdeckEdit");
    assert_eq!(events[0]["involvedObject"]["name"], "vm1");
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap()
            .contains("weight 20 → 30 by admin"),
        "{}",
        events[0]
    );
    let audit = std::fs::read_to_string(_d.path().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (
            lines[0]["from"].as_str(),
            lines[0]["to"].as_str(),
            lines[0]["mode"].as_str()
        ),
        (Some("20"), Some("30"), Some("ForceApply"))
    );
    let patches: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("PATCH"))
        .collect();
    assert!(
        patches.iter().any(|r| r.contains("dryRun=All")),
        "{patches:?}"
    );
    assert!(
        patches.iter().all(|r| r.contains("fieldManager=meshdeck")),
        "{patches:?}"
    );
    assert_eq!(
        patches.iter().filter(|r| r.contains("force=true")).count(),
        2,
        "force only when asked (dry run + write)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_errors_stale_versions_and_forbidden_patches() {
    let (fake, mut src, _d) = setup("admin").await;
    let mut long = FieldEdit {
        target: EndpointSource::WorkloadEntry {
            cluster: Default::default(),
            namespace: "ns1".into(),
            name: "vm2".into(),
        },
        change: Change::Locality {
            from: None,
            to: "x".repeat(3000),
        },
        revision: None,
        origin: None,
        mode: WriteMode::ForceApply,
    };
    match src.apply(vec![long.clone()]).await.unwrap_err() {
        ApplyError::Invalid(f) => {
            assert_eq!(f[0].field, "spec.locality");
            assert!(f[0].message.contains("Too long"), "{f:?}");
        }
        other => panic!("{other:?}"),
    }
    // Undo-style writes carry the version they were based on: a stale one is a conflict.
    long.change = Change::Weight {
        from: Some(80),
        to: 81,
    };
    long.mode = WriteMode::Precondition;
    long.revision = Some("1".into());
    match src.apply(vec![long.clone()]).await.unwrap_err() {
        ApplyError::Conflict { message, .. } => assert!(
            message.contains("the object has been modified"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(stored_weight(&fake, "vm2"), 80);
    let current =
        fake.object("workloadentries", "ns1", "vm2").unwrap()["metadata"]["resourceVersion"]
            .clone();
    long.revision = current.as_str().map(String::from);
    src.apply(vec![long]).await.unwrap();
    assert_eq!(stored_weight(&fake, "vm2"), 81);

    let (fake, mut viewer, _d) = setup("viewer").await;
    fake.forbid("viewer", "workloadentries");
    match viewer
        .apply(vec![weight("vm1", 20, 30, WriteMode::Apply)])
        .await
        .unwrap_err()
    {
        ApplyError::Forbidden(m) => assert!(
            m.contains("cannot patch resource \"workloadentries\""),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    viewer.readonly = true;
    let before = fake.requests().len();
    assert_eq!(
        viewer
            .apply(vec![weight("vm1", 20, 30, WriteMode::Apply)])
            .await
            .unwrap_err(),
        ApplyError::ReadOnly
    );
    assert_eq!(fake.requests().len(), before, "read-only sends nothing");
}

/// A field the cluster's CRD does not declare (left in an endpoint from an older schema) is
/// dropped by the server on the next write; the 299 warning comes back with the edit, into the
/// audit log, and the edit itself still lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pruned_unknown_field_comes_back_as_a_warning() {
    let (fake, mut source, dir) = setup("admin").await;
    fake.upsert(serde_json::json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
        "metadata": {"name": "legacy", "namespace": "ns1"},
        "spec": {"hosts": ["legacy.example"], "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                 "endpoints": [{"address": "10.0.0.9", "weight": 1, "wieght": 5}]}}))
    .unwrap();
    let edit = FieldEdit {
        target: EndpointSource::ServiceEntry {
            cluster: Default::default(),
            namespace: "ns1".into(),
            name: "legacy".into(),
            index: 0,
        },
        change: Change::Weight {
            from: Some(1),
            to: 3,
        },
        revision: None,
        origin: None,
        mode: WriteMode::Precondition,
    };
    let applied = source.apply(vec![edit]).await.expect("accepted");
    assert_eq!(
        applied[0].warnings,
        ["unknown field \"spec.endpoints[0].wieght\""],
        "the dry run and the write warn alike: said once"
    );
    let stored = fake.object("serviceentries", "ns1", "legacy").unwrap();
    assert_eq!(
        stored["spec"]["endpoints"][0],
        serde_json::json!({"address": "10.0.0.9", "weight": 3})
    );
    let log = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(
        line["warnings"][0],
        "unknown field \"spec.endpoints[0].wieght\""
    );
}
