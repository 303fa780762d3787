use super::diff::{self, display_path};
use super::history::{self, RecordedEvent};
use super::observed;
use super::*;
use crate::model::object::{Kind, Object};
use serde_json::json;
use std::time::{Duration, UNIX_EPOCH};

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn rfc(secs: u64) -> String {
    humantime::format_rfc3339_seconds(t(secs)).to_string()
}

fn change(at: SystemTime, field: &str) -> Change {
    Change {
        at,
        kind: ChangeKind::Registry,
        object: None,
        target: "x".into(),
        field: field.into(),
        old: Seen::Unknown,
        new: Seen::Value("1".into()),
        who: None,
        origin: Origin::Watched,
    }
}

fn we(weight: u32, healthy: &str, managed: serde_json::Value) -> Object {
    Object::from_value(
        json!({
            "apiVersion": "networking.istio.io/v1",
            "kind": "WorkloadEntry",
            "metadata": {
                "name": "vm1", "namespace": "ns1", "resourceVersion": weight.to_string(),
                "creationTimestamp": rfc(0),
                "labels": {"app": "web"},
                "managedFields": managed,
            },
            "spec": {"address": "10.0.0.1", "weight": weight, "ports": {"http": 8080}},
            "status": {"conditions": [{"type": "Healthy", "status": healthy,
                "lastTransitionTime": rfc(weight as u64)}]},
        }),
        "ns1",
    )
    .unwrap()
}

fn managed(manager: &str, op: &str, at: u64, fields: serde_json::Value) -> serde_json::Value {
    json!({"manager": manager, "operation": op, "time": rfc(at), "fieldsType": "FieldsV1",
           "fieldsV1": fields})
}

#[test]
fn changes_stay_in_time_order_when_one_arrives_late() {
    let mut tl = Timeline::default();
    tl.push(change(t(10), "a"));
    tl.push(change(t(30), "c"));
    tl.push(change(t(20), "b"));
    tl.push(change(t(30), "d"));
    let fields: Vec<_> = tl.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["a", "b", "c", "d"]);
    tl.extend([change(t(5), "first"), change(t(25), "between")]);
    let fields: Vec<_> = tl.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["first", "a", "b", "between", "c", "d"]);
    // The same history read again adds nothing.
    tl.extend([change(t(5), "first"), change(t(25), "between")]);
    assert_eq!(tl.len(), 6);
}

#[test]
fn the_ring_keeps_the_newest_and_counts_what_it_dropped() {
    let mut tl = Timeline::with_cap(1000);
    for i in 0..5000 {
        tl.push(change(t(i), &i.to_string()));
    }
    assert_eq!(tl.len(), 1000);
    assert_eq!(tl.dropped(), 4000);
    assert_eq!(tl.iter().next().unwrap().field, "4000");
    assert_eq!(tl.iter().last().unwrap().field, "4999");
    // A late arrival older than everything kept is the oldest: it is the one dropped.
    tl.push(change(t(1), "late"));
    assert_eq!(tl.len(), 1000);
    assert_eq!(tl.dropped(), 4001);
    assert!(tl.iter().all(|c| c.field != "late"));
    // One that falls between stays, and the oldest makes room.
    tl.push(change(t(4500), "between"));
    assert_eq!(tl.iter().next().unwrap().field, "4001");
    assert!(tl.iter().any(|c| c.field == "between"));
}

#[test]
fn a_weight_change_names_the_field_both_values_and_its_manager() {
    let owner = managed(
        "kubectl-edit",
        "Update",
        50,
        json!({"f:spec": {"f:weight": {}}}),
    );
    let creator = managed(
        "kubectl-client-side-apply",
        "Update",
        0,
        json!({"f:spec": {"f:address": {}, "f:ports": {}}}),
    );
    let a = we(3, "True", json!([creator.clone()]));
    let b = we(5, "True", json!([creator, owner]));
    let changes = observed::changes(Some(&a), Some(&b), t(51));
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = &changes[0];
    assert_eq!(c.field, "spec.weight");
    assert_eq!(c.old, Seen::Value("3".into()));
    assert_eq!(c.new, Seen::Value("5".into()));
    assert_eq!(c.who.as_deref(), Some("kubectl-edit"));
    assert_eq!(c.kind, ChangeKind::Registry);
    assert_eq!(
        c.object,
        Some(ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm1"))
    );
}

#[test]
fn the_healthy_condition_is_a_health_change_and_its_timestamp_is_not_one() {
    let status_owner = managed(
        "meshdeck",
        "Update",
        60,
        json!({"f:status": {"f:conditions": {
            "k:{\"type\":\"Healthy\"}": {".": {}, "f:status": {}, "f:type": {}}}}}),
    );
    let a = we(3, "True", json!([]));
    let mut b = we(3, "False", json!([status_owner]));
    if let Object::WorkloadEntry(w) = &mut b {
        w.status.as_mut().unwrap().conditions[0].last_transition_time = Some(rfc(60));
    }
    let changes = observed::changes(Some(&a), Some(&b), t(61));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].field, "status.conditions[Healthy].status");
    assert_eq!(changes[0].kind, ChangeKind::Health);
    assert_eq!(changes[0].who.as_deref(), Some("meshdeck"));
}

#[test]
fn a_connection_annotation_is_a_connection_change() {
    assert_eq!(
        diff::classify("metadata.annotations.istio.io/connectedAt"),
        ChangeKind::Connection
    );
    assert_eq!(
        diff::classify("metadata.annotations.istio.io/disconnectedAt"),
        ChangeKind::Connection
    );
    assert_eq!(diff::classify("metadata.labels.app"), ChangeKind::Registry);
}

#[test]
fn created_and_deleted_are_one_line_each() {
    let a = we(
        3,
        "True",
        json!([managed("pilot-discovery", "Update", 0, json!({}))]),
    );
    let made = observed::changes(None, Some(&a), t(1));
    assert_eq!(made.len(), 1);
    assert_eq!(made[0].field, "created");
    assert_eq!(made[0].new, Seen::Value("10.0.0.1 weight 3".into()));
    assert_eq!(made[0].who.as_deref(), Some("pilot-discovery"));
    let gone = observed::changes(Some(&a), None, t(2));
    assert_eq!(gone[0].field, "deleted");
    assert_eq!(gone[0].new, Seen::Absent);
    assert_eq!(gone[0].who, None, "a deletion leaves no managedFields");
}

#[test]
fn managed_paths_read_like_the_timelines() {
    assert_eq!(
        display_path("status.conditions[{\"type\":\"Healthy\"}].status"),
        "status.conditions[Healthy].status"
    );
    assert_eq!(display_path("spec.ports.http"), "spec.ports.http");
    assert_eq!(display_path("spec.x[{\"port\":80}].y"), "spec.x[80].y");
}

#[test]
fn the_newest_owner_of_a_field_wins() {
    let older = managed("a", "Update", 10, json!({"f:spec": {"f:weight": {}}}));
    let newer = managed("b", "Apply", 20, json!({"f:spec": {"f:weight": {}}}));
    let other = managed("c", "Update", 30, json!({"f:spec": {"f:address": {}}}));
    let obj = we(1, "True", json!([older, newer, other]));
    assert_eq!(
        diff::owner(obj.meta(), "spec.weight").map(|m| m.manager.as_str()),
        Some("b")
    );
    // An atomic map owned whole covers the fields inside it.
    let ports = managed("d", "Update", 5, json!({"f:spec": {"f:ports": {}}}));
    let obj = we(1, "True", json!([ports]));
    assert_eq!(
        diff::owner(obj.meta(), "spec.ports.http").map(|m| m.manager.as_str()),
        Some("d")
    );
    assert!(diff::owner(obj.meta(), "spec.portsx").is_none());
}

#[test]
fn at_start_managed_fields_say_who_and_when_and_that_the_old_value_is_unknown() {
    let creator = managed(
        "kubectl-client-side-apply",
        "Update",
        0,
        json!({"f:metadata": {"f:annotations": {"f:kubectl.kubernetes.io/last-applied-configuration": {}}},
               "f:spec": {"f:address": {}, "f:ports": {}}}),
    );
    let edit = managed(
        "kubectl-edit",
        "Update",
        3000,
        json!({"f:spec": {"f:weight": {}}}),
    );
    let obj = we(5, "True", json!([creator, edit]));
    let since = t(0);
    let changes = history::from_managed_fields(&obj, since);
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0].field, "created");
    assert_eq!(changes[0].who.as_deref(), Some("kubectl-client-side-apply"));
    assert_eq!(changes[1].field, "spec.weight");
    assert_eq!(changes[1].old, Seen::Unknown, "nobody saw the value before");
    assert_eq!(changes[1].new, Seen::Value("5".into()));
    assert_eq!(changes[1].at, t(3000));
    assert_eq!(changes[1].origin, Origin::ManagedFields);
    // Outside the window: only the later write is told.
    let later = history::from_managed_fields(&obj, t(10));
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].field, "spec.weight");
    assert!(history::from_managed_fields(&obj, t(3001)).is_empty());
}

#[test]
fn a_long_field_list_is_summed_up() {
    let many = managed(
        "helm",
        "Update",
        100,
        json!({"f:metadata": {"f:labels": {"f:a": {}, "f:b": {}, "f:c": {}, "f:d": {}, "f:e": {}}}}),
    );
    let obj = we(
        5,
        "True",
        json!([managed("x", "Update", 0, json!({})), many]),
    );
    let changes = history::from_managed_fields(&obj, t(50));
    assert_eq!(changes.len(), 1);
    assert_eq!(
        changes[0].field,
        "metadata.labels.a, metadata.labels.b, metadata.labels.c and 2 more"
    );
    assert_eq!(changes[0].new, Seen::Unknown);
}

#[test]
fn meshdecks_event_gives_field_values_and_user_and_hides_its_managed_fields_echo() {
    let key = ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm1");
    let ev = RecordedEvent {
        at: t(200),
        object: key.clone(),
        reason: history::EDIT_REASON.into(),
        message: "weight 3 → 5 by alice with meshdeck (context prod)".into(),
        component: Some("meshdeck".into()),
    };
    let by_meshdeck = managed(
        "meshdeck",
        "Apply",
        200,
        json!({"f:spec": {"f:weight": {}}}),
    );
    let obj = we(
        5,
        "True",
        json!([managed("x", "Update", 0, json!({})), by_meshdeck]),
    );
    let changes = history::at_start([&obj], &[ev], t(100));
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = &changes[0];
    assert_eq!(c.kind, ChangeKind::Edit);
    assert_eq!(
        (c.field.as_str(), c.old.text(), c.new.text(), c.who_text()),
        ("weight", "3", "5", "alice")
    );
    assert_eq!(c.origin, Origin::Event);
}

#[test]
fn another_components_event_is_told_as_it_came() {
    let ev = RecordedEvent {
        at: t(5),
        object: ObjectKey::new(Kind::WorkloadGroup, "ns1", "g"),
        reason: "Unhealthy".into(),
        message: "probe failed".into(),
        component: Some("istiod".into()),
    };
    let c = history::from_event(&ev);
    assert_eq!(c.field, "Unhealthy");
    assert_eq!(c.new.text(), "probe failed");
    assert_eq!(c.old, Seen::Unknown);
    assert_eq!(c.who_text(), "istiod");
}

#[test]
fn the_watch_echo_of_a_console_edit_is_found_and_an_old_or_different_one_is_not() {
    let mut tl = Timeline::default();
    let key = Some(ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm1"));
    let mut edit = change(t(100), "weight");
    edit.object = key.clone();
    edit.origin = Origin::Console;
    tl.push(edit);
    let mut seen = change(t(101), "spec.weight");
    seen.object = key;
    assert!(tl.echoes_edit(&seen, t(90)));
    assert!(!tl.echoes_edit(&seen, t(101)), "too long after the edit");
    let mut other = seen.clone();
    other.new = Seen::Value("2".into());
    assert!(!tl.echoes_edit(&other, t(90)), "another value");
    other.new = seen.new.clone();
    other.object = Some(ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm2"));
    assert!(!tl.echoes_edit(&other, t(90)), "another object");
}

#[test]
fn kinds_parse_by_name_or_an_unambiguous_prefix() {
    assert_eq!(ChangeKind::parse("health"), Some(ChangeKind::Health));
    assert_eq!(ChangeKind::parse("Heal"), Some(ChangeKind::Health));
    assert_eq!(ChangeKind::parse("cp"), Some(ChangeKind::ControlPlane));
    assert_eq!(ChangeKind::parse("xds"), Some(ChangeKind::ControlPlane));
    assert_eq!(ChangeKind::parse("connect"), Some(ChangeKind::Connection));
    assert_eq!(ChangeKind::parse("conn"), Some(ChangeKind::Connection));
    assert_eq!(ChangeKind::parse("co"), None, "connection or control-plane");
    assert_eq!(ChangeKind::parse(""), None);
}

#[test]
fn json_says_unknown_as_null_and_absent_as_absent() {
    let mut c = change(t(0), "spec.weight");
    c.old = Seen::Unknown;
    c.new = Seen::Absent;
    let j = c.to_json();
    assert!(j["old"].is_null());
    assert_eq!(j["new"], json!({"absent": true}));
    assert_eq!(j["time"], "2027-01-15T08:00:00Z");
}

#[test]
fn an_edit_takes_back_the_watch_echo_that_came_before_it() {
    let mut tl = Timeline::default();
    let key = Some(ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm1"));
    let mut seen = change(t(100), "spec.weight");
    seen.object = key.clone();
    let mut other = seen.clone();
    other.new = Seen::Value("9".into());
    tl.push(other);
    tl.push(seen);
    let mut edit = change(t(101), "weight");
    edit.object = key;
    edit.origin = Origin::Console;
    tl.forget_echo(&edit, t(90));
    assert_eq!(tl.len(), 1, "only the echo goes");
    assert_eq!(tl.iter().next().unwrap().new, Seen::Value("9".into()));
}

#[test]
fn the_registry_just_before_a_moment_takes_back_every_change_from_then_on() {
    use super::versions::Versions;
    use crate::model::store::{Entry, Store};
    let entry = |weight: u32| Entry {
        object: we(weight, "True", json!([])),
        origin: None,
    };
    let other = Entry {
        object: Object::from_value(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
                   "metadata": {"name": "vm2", "namespace": "ns1"},
                   "spec": {"address": "10.0.0.2"}}),
            "ns1",
        )
        .unwrap(),
        origin: None,
    };
    let key = ObjectKey::new(Kind::WorkloadEntry, "ns1", "vm1");
    let weight_in = |s: &Store| match s.get(&key).map(|e| &e.object) {
        Some(Object::WorkloadEntry(w)) => w.spec.weight,
        _ => None,
    };
    // vm1: 3 until t(10), 5 until t(20), then 7; vm2 created at t(15).
    let mut now = Store::new();
    now.upsert(entry(7));
    now.upsert(other.clone());
    let mut v = Versions::default();
    v.record(t(10), key.clone(), Some(entry(3)));
    v.record(t(15), other.object.key(), None);
    v.record(t(20), key.clone(), Some(entry(5)));
    assert_eq!(weight_in(&v.store_before(&now, t(10))), Some(3));
    assert_eq!(weight_in(&v.store_before(&now, t(11))), Some(5));
    assert_eq!(weight_in(&v.store_before(&now, t(20))), Some(5));
    assert_eq!(weight_in(&v.store_before(&now, t(21))), Some(7));
    assert!(
        v.store_before(&now, t(15))
            .get(&other.object.key())
            .is_none()
    );
    assert!(
        v.store_before(&now, t(16))
            .get(&other.object.key())
            .is_some()
    );
    assert_eq!(v.horizon(), None, "nothing dropped yet");
    // Bounded: the oldest versions go, and how far back it reaches is said.
    let mut small = Versions::with_cap(2);
    small.record(t(1), key.clone(), Some(entry(1)));
    small.record(t(2), key.clone(), Some(entry(2)));
    small.record(t(3), key.clone(), Some(entry(3)));
    assert_eq!(small.len(), 2);
    assert_eq!(small.horizon(), Some(t(2)));
}
