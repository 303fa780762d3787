//! Drain and restore through the Kubernetes API against the fake server, which serves the
//! status subresource as the real one does: the condition goes through /status, the
//! annotations on the object, a 403 on /status stops the drain before anything is written, and
//! restore leaves the object as it was.

mod common;
use meshdeck::io::kube::apply::KubeSource;
use meshdeck::io::source::{ApplyError, Change, FieldEdit, Source, WriteMode};
use meshdeck::model::drain::{DRAIN_REASON, DRAINED_ANNOTATION, DrainRecord};
use meshdeck::model::endpoint::EndpointSource;
use meshdeck::model::health::HEALTH_CHECKS_ANNOTATION;
use meshdeck::model::object::Kind;
use meshdeck::testing::apiserver::FakeApiServer;
use serde_json::{Value, json};

async fn setup(user: &str) -> (FakeApiServer, KubeSource, tempfile::TempDir) {
    common::kube::source(user).await
}

fn record(before: &Value) -> DrainRecord {
    DrainRecord {
        by: "alice".into(),
        at: "2026-12-02T10:00:00Z".into(),
        annotation_before: before["metadata"]["annotations"][HEALTH_CHECKS_ANNOTATION]
            .as_str()
            .map(String::from),
        condition_before: before["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == "Healthy"))
            .map(|c| serde_json::from_value(c.clone()).unwrap()),
    }
}

fn edit(name: &str, change: Change) -> FieldEdit {
    FieldEdit {
        target: EndpointSource::WorkloadEntry {
            namespace: "ns1".into(),
            name: name.into(),
            cluster: Default::default(),
        },
        change,
        revision: None,
        origin: None,
        mode: WriteMode::Precondition,
    }
}

/// What a drain may touch, and nothing it may not: spec, labels, annotations, status.
fn visible(v: &Value) -> Value {
    json!({
        "spec": v["spec"],
        "labels": v["metadata"]["labels"],
        "annotations": v["metadata"]["annotations"],
        "status": v["status"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_writes_status_and_annotations_and_restore_puts_back_exactly_that() {
    let (fake, mut src, _d) = setup("admin").await;
    // A probe had reported it healthy, with an annotation someone else set.
    let mut we = fake.object("workloadentries", "ns1", "vm1").unwrap();
    we["metadata"]["annotations"] = json!({"team": "pay"});
    we["status"] = json!({"conditions": [
        {"type": "Healthy", "status": "True", "lastProbeTime": "2026-12-02T06:46:00Z"},
        {"type": "Other", "status": "True"}]});
    fake.upsert(we).unwrap();
    let before = fake.object("workloadentries", "ns1", "vm1").unwrap();

    let r = record(&before);
    src.apply(vec![edit("vm1", Change::Drain { record: r.clone() })])
        .await
        .unwrap();
    let drained = fake.object("workloadentries", "ns1", "vm1").unwrap();
    let ann = &drained["metadata"]["annotations"];
    assert_eq!(ann[HEALTH_CHECKS_ANNOTATION], "true");
    assert_eq!(ann["team"], "pay");
    let on_object: DrainRecord =
        serde_json::from_str(ann[DRAINED_ANNOTATION].as_str().unwrap()).unwrap();
    assert_eq!(on_object, r);
    let conditions = drained["status"]["conditions"].as_array().unwrap();
    let healthy = conditions.iter().find(|c| c["type"] == "Healthy").unwrap();
    assert_eq!(healthy["status"], "False");
    assert_eq!(healthy["reason"], DRAIN_REASON);
    assert!(healthy["message"].as_str().unwrap().contains("alice"));
    assert!(conditions.iter().any(|c| c["type"] == "Other"));
    assert_eq!(drained["spec"], before["spec"]);
    let status_writes = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("PATCH") && r.contains("/vm1/status"))
        .count();
    assert_eq!(
        status_writes,
        2,
        "a dry run and the write: {:?}",
        fake.requests()
    );

    // Draining again is refused by what the object says, not by what the console remembers.
    let again = src
        .apply(vec![edit("vm1", Change::Drain { record: r.clone() })])
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("already drained (by alice)"),
        "{again}"
    );

    src.apply(vec![edit("vm1", Change::Restore { record: r })])
        .await
        .unwrap();
    let restored = fake.object("workloadentries", "ns1", "vm1").unwrap();
    assert_eq!(visible(&restored), visible(&before));
    let restore_again = src
        .apply(vec![edit(
            "vm1",
            Change::Restore {
                record: record(&before),
            },
        )])
        .await
        .unwrap_err();
    assert!(
        restore_again.to_string().contains("not drained"),
        "{restore_again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_without_health_checks_loses_them_again_on_restore() {
    let (fake, mut src, _d) = setup("admin").await;
    let before = fake.object("workloadentries", "ns1", "vm2").unwrap();
    let r = record(&before);
    assert_eq!(r.annotation_before, None);
    src.apply(vec![edit("vm2", Change::Drain { record: r.clone() })])
        .await
        .unwrap();
    let drained = fake.object("workloadentries", "ns1", "vm2").unwrap();
    let we: meshdeck::model::object::WorkloadEntry = serde_json::from_value(drained).unwrap();
    assert!(!meshdeck::model::health::of_workload_entry(&we).is_healthy());
    src.apply(vec![edit("vm2", Change::Restore { record: r })])
        .await
        .unwrap();
    let restored = fake.object("workloadentries", "ns1", "vm2").unwrap();
    assert_eq!(visible(&restored), visible(&before));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_permission_on_status_nothing_is_written_and_the_role_is_named() {
    let (fake, mut src, _d) = setup("editor").await;
    fake.forbid("editor", "workloadentries/status");
    let before = fake.object("workloadentries", "ns1", "vm1").unwrap();
    let err = src
        .apply(vec![edit(
            "vm1",
            Change::Drain {
                record: record(&before),
            },
        )])
        .await
        .unwrap_err();
    let ApplyError::Forbidden(message) = &err else {
        panic!("{err:?}");
    };
    assert!(
        message.contains("cannot patch resource \"workloadentries/status\"")
            && message.contains("needs patch on workloadentries/status"),
        "{message}"
    );
    assert_eq!(
        fake.object("workloadentries", "ns1", "vm1").unwrap(),
        before
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_object_ignores_status_and_the_status_subresource_ignores_the_rest() {
    // As kube-apiserver does for a CRD with `subresources: {status: {}}`.
    let (fake, src, _d) = setup("admin").await;
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        src.client.clone(),
        "ns1",
        &meshdeck::io::kube::watch::api_resource(Kind::WorkloadEntry, "v1"),
    );
    let pp = kube::api::PatchParams::default();
    let patch = json!({"spec": {"weight": 7}, "status": {"conditions": [{"type": "Healthy", "status": "False"}]}});
    api.patch("vm2", &pp, &kube::api::Patch::Merge(&patch))
        .await
        .unwrap();
    let v = fake.object("workloadentries", "ns1", "vm2").unwrap();
    assert_eq!(v["spec"]["weight"], 7);
    assert!(
        v.get("status")
            .is_none_or(|s| s.get("conditions").is_none()),
        "{v}"
    );
    let patch = json!({"spec": {"weight": 9}, "status": {"conditions": [{"type": "Healthy", "status": "False"}]}});
    api.patch_status("vm2", &pp, &kube::api::Patch::Merge(&patch))
        .await
        .unwrap();
    let v = fake.object("workloadentries", "ns1", "vm2").unwrap();
    assert_eq!(v["spec"]["weight"], 7);
    assert_eq!(v["status"]["conditions"][0]["status"], "False");
}
