//! A staged shift's plan and steps on a cluster (the fake API server with the recorded test
//! data): the plan is the ServiceEntry's annotation, one console's at a time, written at the
//! resourceVersion it read; each step's weights are guarded writes with an Event and an audit
//! line, and the rollback puts the start weights back.

mod common;
use meshdeck::cli::shift_io::Registry;
use meshdeck::io::shift_plan::{PlanLock, Refused};
use meshdeck::model::endpoint::EndpointSource;
use meshdeck::model::object::{Kind, ObjectKey};
use meshdeck::model::shift::plan::Request;
use meshdeck::model::shift::{Gates, Plan, SHIFT_ANNOTATION, Shift, parse_steps};
use std::time::{Duration, SystemTime};

fn vm1() -> EndpointSource {
    EndpointSource::WorkloadEntry {
        cluster: Default::default(),
        namespace: "ns1".into(),
        name: "vm1".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_one_consoles_annotation_and_the_steps_are_guarded_writes() {
    let (fake, source, dir) = common::kube::source("admin").await;
    let service = ObjectKey::new(Kind::ServiceEntry, "ns1", "svc1");
    let lock = PlanLock::for_cluster(&source, &service).unwrap();
    let mut registry = Registry::Cluster {
        source: Box::new(source),
        namespace: "ns1".into(),
    };
    let store = registry.store().await.unwrap();
    let to = [vm1()];
    let plan = Plan::new(
        &store,
        Request {
            service: &service,
            to: &to,
            steps: parse_steps("50,100").unwrap(),
            hold: Duration::from_secs(30),
            gates: Gates {
                max_errors: 0.01,
                max_p99_ms: None,
            },
            by: "admin",
            owner: "admin@a:1",
            now: SystemTime::now(),
        },
    )
    .unwrap();
    assert!(lock.read().await.unwrap().is_none());
    lock.create(&plan).await.unwrap();
    let stored = fake.object("serviceentries", "ns1", "svc1").unwrap();
    let kept = stored["metadata"]["annotations"][SHIFT_ANNOTATION]
        .as_str()
        .expect("the plan is an annotation");
    assert_eq!(Plan::from_json(kept).unwrap(), plan);

    // A second console is refused with the first one's plan, and cannot write over it.
    let mut other = plan.clone();
    other.owner = "bob@b:2".into();
    match lock.create(&other).await {
        Err(Refused::Held(h)) => assert_eq!(h.owner, "admin@a:1"),
        r => panic!("{r:?}"),
    }
    let e = lock.save(&other, Some("bob@b:2")).await.unwrap_err();
    assert!(e.contains("now admin's (admin@a:1)"), "{e}");

    // Someone else's edit of the ServiceEntry since: each write reads the version it is based on.
    let mut svc = fake.object("serviceentries", "ns1", "svc1").unwrap();
    svc["metadata"]["labels"] = serde_json::json!({"team": "pay"});
    svc["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    fake.apply_yaml(&svc.to_string()).unwrap();
    let mut s = Shift::new(plan.clone());
    s.plan.touch(SystemTime::now());
    lock.save(&s.plan, Some("admin@a:1")).await.unwrap();

    // Step 1, then the rollback: guarded writes, each with an Event.
    let w = s.wanted().unwrap();
    let store = registry.store().await.unwrap();
    let written = registry.write(&store, &s.plan, &w).await.unwrap();
    assert_eq!(written.len(), 2, "{written:?}");
    let weight = |name: &str| {
        fake.object("workloadentries", "ns1", name).unwrap()["spec"]["weight"]
            .as_u64()
            .unwrap()
    };
    assert_eq!((weight("vm1"), weight("vm2")), (5000, 5000));
    let store = registry.store().await.unwrap();
    registry
        .write(&store, &s.plan, &s.plan.start_weights())
        .await
        .unwrap();
    assert_eq!((weight("vm1"), weight("vm2")), (20, 80));
    let events = fake.events_created();
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(
        events[0]["message"]
            .as_str()
            .unwrap()
            .contains("weight 20 → 5000 by admin"),
        "{}",
        events[0]
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 4, "{audit}");

    // Removing it leaves the other annotations and the label alone.
    lock.remove("admin@a:1").await.unwrap();
    let stored = fake.object("serviceentries", "ns1", "svc1").unwrap();
    assert!(stored["metadata"]["annotations"][SHIFT_ANNOTATION].is_null());
    assert_eq!(stored["metadata"]["labels"]["team"], "pay");
    assert!(lock.read().await.unwrap().is_none());

    // An unset weight is put back by taking the field away (a merge patch with null).
    let Registry::Cluster { source, .. } = &mut registry else {
        unreachable!()
    };
    let rv = fake.object("workloadentries", "ns1", "vm1").unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .map(String::from);
    let unset = meshdeck::io::source::FieldEdit {
        target: vm1(),
        change: meshdeck::io::source::Change::UnsetWeight { from: 20 },
        revision: rv,
        origin: None,
        mode: meshdeck::io::source::WriteMode::Precondition,
    };
    meshdeck::io::source::Source::apply(source.as_mut(), vec![unset])
        .await
        .unwrap();
    let spec = &fake.object("workloadentries", "ns1", "vm1").unwrap()["spec"];
    assert!(spec.get("weight").is_none(), "{spec}");
}
