//! Cluster events through `update`: a synced kind is swapped in whole (the screen never shows
//! half a list), single events apply incrementally, and the connection state is on screen.

mod common;
use common::*;
use meshdeck::config::keymap::Keymap;
use meshdeck::io::kube::{ConnState, KubeEvent};
use meshdeck::io::manifests::parse::parse_text;
use meshdeck::model::object::{Kind, ObjectKey};
use meshdeck::msg::{Cmd, Msg};
use meshdeck::state::State;
use meshdeck::update::{self, update};
use std::time::{Duration, SystemTime};

fn entries(text: &str) -> Vec<meshdeck::model::store::Entry> {
    let mut v = parse_text(std::path::Path::new("x"), text).entries;
    for e in &mut v {
        e.origin = None;
    }
    v
}

fn cluster_state() -> State {
    cluster_state_writable(false)
}

fn cluster_state_writable(writable: bool) -> State {
    let mut s = State::new(meshdeck::state::Config::new(
        "cluster fake",
        !writable,
        Keymap::load(None, None).0,
    ));
    let versions = Kind::ALL
        .iter()
        .map(|k| (*k, Some("v1".to_string())))
        .collect();
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Discovered {
                context: "fake".into(),
                versions,
            },
        ),
    );
    update::init(&mut s);
    s
}

#[test]
fn a_relist_swaps_the_kind_and_events_apply_one_by_one() {
    let mut s = cluster_state();
    let text = read(std::path::Path::new("examples/registry/payments.yaml"));
    for kind in [
        Kind::ServiceEntry,
        Kind::WorkloadEntry,
        Kind::DestinationRule,
    ] {
        let of_kind: Vec<_> = entries(&text)
            .into_iter()
            .filter(|e| e.object.kind() == kind)
            .collect();
        update(
            &mut s,
            Msg::Kube(
                Default::default(),
                KubeEvent::Synced {
                    kind,
                    shard: Box::new(of_kind.into_iter().collect()),
                },
            ),
        );
        update(
            &mut s,
            Msg::Kube(
                Default::default(),
                KubeEvent::Connection {
                    kind,
                    state: ConnState::Watching,
                },
            ),
        );
    }
    update(&mut s, Msg::Tick);
    typed(&mut s, "2");
    assert_eq!(s.list().unwrap().rows.len(), 3);
    // A relist that no longer has vm-3 removes it; the others stay.
    let fewer: Vec<_> = entries(&text)
        .into_iter()
        .filter(|e| {
            e.object.kind() == Kind::WorkloadEntry && e.object.key().name != "payments-vm-3"
        })
        .collect();
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Synced {
                kind: Kind::WorkloadEntry,
                shard: Box::new(fewer.into_iter().collect()),
            },
        ),
    );
    assert!(
        update(&mut s, Msg::Tick).contains(&Cmd::Redraw),
        "rows are rebuilt on the tick after events"
    );
    assert_eq!(s.list().unwrap().rows.len(), 2);
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Delete(ObjectKey::new(Kind::WorkloadEntry, "shop", "payments-vm-2")),
        ),
    );
    update(&mut s, Msg::Tick);
    assert_eq!(s.list().unwrap().rows.len(), 1);
    // The tick after a rebuild runs the (deferred) lint; then there is nothing left to do.
    update(&mut s, Msg::Tick);
    assert!(!s.findings_outdated());
    assert!(
        update(&mut s, Msg::Tick).is_empty(),
        "nothing to do: no redraw"
    );
}

#[test]
fn connection_state_is_shown_and_stale_kinds_are_marked() {
    let mut s = cluster_state();
    for kind in Kind::ALL {
        update(
            &mut s,
            Msg::Kube(
                Default::default(),
                KubeEvent::Connection {
                    kind,
                    state: ConnState::Watching,
                },
            ),
        );
    }
    s.ui.notice = None;
    let text = screen(&s, 160, 48);
    assert!(text.contains("ctx fake: watching 5/5"), "{text}");
    let since = SystemTime::now() - Duration::from_secs(42);
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Connection {
                kind: Kind::ServiceEntry,
                state: ConnState::Retrying {
                    since,
                    error: "connection refused".into(),
                },
            },
        ),
    );
    let text = screen(&s, 160, 48);
    assert!(text.contains("STALE"), "{text}");
    assert!(
        text.contains("se disconnected 42s ago, data may be stale: connection refused"),
        "{text}"
    );
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Connection {
                kind: Kind::Sidecar,
                state: ConnState::Forbidden("no".into()),
            },
        ),
    );
    assert!(screen(&s, 160, 48).contains("sidecar forbidden"));
}

#[test]
fn a_forbidden_patch_turns_editing_off_for_that_kind() {
    use meshdeck::io::source::ApplyError;
    let mut s = cluster_state_writable(true);
    let text = read(std::path::Path::new("examples/registry/payments.yaml"));
    let wes: Vec<_> = entries(&text)
        .into_iter()
        .filter(|e| e.object.kind() == Kind::WorkloadEntry)
        .collect();
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Synced {
                kind: Kind::WorkloadEntry,
                shard: Box::new(wes.into_iter().collect()),
            },
        ),
    );
    update(&mut s, Msg::Tick);
    let cmds = typed(&mut s, "2e\x08\x0855\n\n");
    let [meshdeck::msg::Cmd::Apply { id, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    update(
        &mut s,
        Msg::Applied {
            id: *id,
            result: Err(ApplyError::Forbidden(
                "User \"viewer\" cannot patch resource \"workloadentries\"".into(),
            )),
        },
    );
    typed(&mut s, "\x1b");
    assert!(screen(&s, 160, 48).contains("EDIT FORBIDDEN"));
    assert!(typed(&mut s, "e").is_empty());
    assert!(s.edits.form.is_none());
    assert!(
        matches!(&s.ui.status, Some((meshdeck::state::Level::Error, m)) if m.contains("editing WorkloadEntries is off"))
    );
}

#[test]
fn pods_show_as_endpoints_and_are_not_edited_here() {
    use meshdeck::model::pod::Pod;
    let mut s = cluster_state_writable(true);
    let se = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: api, namespace: ns1}\nspec:\n  hosts: [api.ns1]\n  resolution: STATIC\n  ports: [{number: 80, name: http}]\n  workloadSelector: {labels: {app: api}}\n";
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Synced {
                kind: Kind::ServiceEntry,
                shard: Box::new(entries(se).into_iter().collect()),
            },
        ),
    );
    let pod = Pod {
        cluster: Default::default(),
        namespace: "ns1".into(),
        name: "api-7d9".into(),
        labels: [("app".to_string(), "api".to_string())]
            .into_iter()
            .collect(),
        ip: Some("10.1.2.3".into()),
        ready: true,
    };
    update(
        &mut s,
        Msg::Kube(Default::default(), KubeEvent::PodsSynced(vec![pod])),
    );
    update(&mut s, Msg::Tick);
    typed(&mut s, "\n");
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("pod/api-7d9") && text.contains("10.1.2.3:80") && text.contains("100.0%"),
        "{text}"
    );
    assert!(typed(&mut s, "e").is_empty());
    assert!(
        matches!(&s.ui.status, Some((meshdeck::state::Level::Error, m)) if m.contains("pod api-7d9 is not edited here"))
    );
}

#[test]
fn ns_refuses_a_namespace_the_cluster_does_not_have() {
    let mut s = cluster_state();
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Namespaces(vec!["ns1".into(), "shop".into()]),
        ),
    );
    typed(&mut s, ":ns nope\n");
    assert!(
        matches!(&s.ui.status, Some((meshdeck::state::Level::Error, m)) if m.contains("namespace nope does not exist"))
    );
    assert_eq!(s.ui.namespace, None, "nothing changed");
    typed(&mut s, ":ns shop\n");
    assert_eq!(s.ui.namespace.as_deref(), Some("shop"));
}

fn ago(secs: u64) -> String {
    humantime::format_rfc3339_seconds(SystemTime::now() - Duration::from_secs(secs)).to_string()
}

/// A WorkloadEntry as a real API server serves it: who wrote which fields, and when.
fn managed_entry(weight: u32, managers: &[(&str, u64, &str)]) -> meshdeck::model::store::Entry {
    let fields: Vec<String> = managers
        .iter()
        .map(|(manager, secs, fields)| {
            format!(
                r#"{{"manager":"{manager}","operation":"Update","time":"{}","fieldsType":"FieldsV1","fieldsV1":{fields}}}"#,
                ago(*secs)
            )
        })
        .collect();
    let text = format!(
        r#"{{"apiVersion":"networking.istio.io/v1","kind":"WorkloadEntry",
            "metadata":{{"name":"vm1","namespace":"shop","resourceVersion":"{weight}",
                "creationTimestamp":"{}","managedFields":[{}]}},
            "spec":{{"address":"10.0.0.1","labels":{{"app":"payments"}},"weight":{weight}}}}}"#,
        ago(600),
        fields.join(",")
    );
    entries(&text).remove(0)
}

const CREATOR: (&str, u64, &str) = (
    "kubectl-client-side-apply",
    600,
    r#"{"f:spec":{"f:address":{},"f:labels":{"f:app":{}}}}"#,
);

fn synced(s: &mut State, entries: Vec<meshdeck::model::store::Entry>) {
    update(
        s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Synced {
                kind: Kind::WorkloadEntry,
                shard: Box::new(entries.into_iter().collect()),
            },
        ),
    );
}

fn timeline(s: &State) -> Vec<(String, String, String, String)> {
    s.timeline
        .changes
        .iter()
        .map(|c| {
            (
                c.field.clone(),
                c.old.text().to_string(),
                c.new.text().to_string(),
                c.who_text().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_timeline_starts_from_managed_fields_then_tells_each_change_with_its_manager() {
    let mut s = cluster_state();
    let weight_by = |secs| ("kubectl-edit", secs, r#"{"f:spec":{"f:weight":{}}}"#);
    // Two hours ago is outside the hour the history covers.
    let old = ("helm", 7200, r#"{"f:metadata":{"f:labels":{"f:team":{}}}}"#);
    synced(
        &mut s,
        vec![managed_entry(70, &[CREATOR, weight_by(60), old])],
    );
    assert_eq!(
        timeline(&s),
        [
            (
                "created".into(),
                "—".into(),
                "10.0.0.1 weight 70".into(),
                "kubectl-client-side-apply".into()
            ),
            (
                "spec.weight".into(),
                "?".into(),
                "70".into(),
                "kubectl-edit".into()
            ),
        ],
        "the value before a managedFields write is unknown, and said so"
    );
    // While watching, both values are known.
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Upsert(Box::new(managed_entry(50, &[CREATOR, weight_by(1)]))),
        ),
    );
    assert_eq!(
        timeline(&s).last().unwrap(),
        &(
            "spec.weight".into(),
            "70".into(),
            "50".into(),
            "kubectl-edit".into()
        )
    );
    // A relist after a lost watch is compared with what was held.
    synced(&mut s, vec![managed_entry(40, &[CREATOR, weight_by(0)])]);
    assert_eq!(timeline(&s).last().unwrap().2, "40");
    assert_eq!(s.timeline.changes.len(), 4);
    // The same context again (a namespace switch) reads the same history: nothing is told
    // twice, and a write the watch showed is not told again as history.
    update(&mut s, Msg::Kube(Default::default(), KubeEvent::Resetting));
    synced(&mut s, vec![managed_entry(40, &[CREATOR, weight_by(0)])]);
    assert_eq!(s.timeline.changes.len(), 4, "{:?}", timeline(&s));

    // Newest first on screen; enter goes to the object.
    typed(&mut s, "8");
    let rows = &s.list().unwrap().rows;
    assert_eq!(rows.len(), 4);
    let shown = screen(&s, 120, 20);
    let first = shown.lines().find(|l| l.contains("spec.weight")).unwrap();
    assert!(first.contains("50 → 40"), "{shown}");
    typed(&mut s, "\n");
    assert_eq!(
        s.screen(),
        &meshdeck::state::Screen::Yaml(ObjectKey::new(Kind::WorkloadEntry, "shop", "vm1"))
    );
}

#[test]
fn meshdecks_events_from_before_the_start_name_the_user_and_both_values() {
    use meshdeck::model::timeline::history::RecordedEvent;
    let mut s = cluster_state();
    let key = ObjectKey::new(Kind::WorkloadEntry, "shop", "vm1");
    let event = |secs: u64, reason: &str, message: &str| RecordedEvent {
        at: SystemTime::now() - Duration::from_secs(secs),
        object: key.clone(),
        reason: reason.into(),
        message: message.into(),
        component: Some("meshdeck".into()),
    };
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::Events(vec![
                event(
                    300,
                    "MeshdeckEdit",
                    "weight 3 → 5 by alice with meshdeck (context prod)",
                ),
                event(
                    7200,
                    "MeshdeckEdit",
                    "weight 1 → 3 by carol with meshdeck (context prod)",
                ),
            ]),
        ),
    );
    assert_eq!(
        timeline(&s),
        [("weight".into(), "3".into(), "5".into(), "alice".into())],
        "an Event older than the window is left out"
    );
    // A forbidden list is said where the history is explained.
    update(
        &mut s,
        Msg::Kube(
            Default::default(),
            KubeEvent::EventsUnreadable("Events not read: forbidden".into()),
        ),
    );
    typed(&mut s, "8");
    assert!(
        screen(&s, 80, 24).contains("forbidden"),
        "{}",
        screen(&s, 80, 24)
    );
}

#[test]
fn timeline_kind_filter_and_unknown_kind() {
    let mut s = cluster_state();
    synced(&mut s, vec![managed_entry(70, &[CREATOR])]);
    typed(&mut s, ":timeline health\n");
    assert!(s.list().unwrap().rows.is_empty());
    typed(&mut s, ":timeline registry\n");
    assert_eq!(s.list().unwrap().rows.len(), 1);
    typed(&mut s, ":timeline nonsense\n");
    let status = s.ui.status.clone().unwrap().1;
    assert!(
        status.contains("no kind of change") && status.contains("health"),
        "{status}"
    );
}
