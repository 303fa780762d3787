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
        Msg::Kube(KubeEvent::Discovered {
            context: "fake".into(),
            versions,
        }),
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
            Msg::Kube(KubeEvent::Synced {
                kind,
                shard: Box::new(of_kind.into_iter().collect()),
            }),
        );
        update(
            &mut s,
            Msg::Kube(KubeEvent::Connection {
                kind,
                state: ConnState::Watching,
            }),
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
        Msg::Kube(KubeEvent::Synced {
            kind: Kind::WorkloadEntry,
            shard: Box::new(fewer.into_iter().collect()),
        }),
    );
    assert!(
        update(&mut s, Msg::Tick).contains(&Cmd::Redraw),
        "rows are rebuilt on the tick after events"
    );
    assert_eq!(s.list().unwrap().rows.len(), 2);
    update(
        &mut s,
        Msg::Kube(KubeEvent::Delete(ObjectKey::new(
            Kind::WorkloadEntry,
            "shop",
            "payments-vm-2",
        ))),
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
            Msg::Kube(KubeEvent::Connection {
                kind,
                state: ConnState::Watching,
            }),
        );
    }
    s.ui.notice = None;
    let text = screen(&s, 160, 48);
    assert!(text.contains("ctx fake: watching 5/5"), "{text}");
    let since = SystemTime::now() - Duration::from_secs(42);
    update(
        &mut s,
        Msg::Kube(KubeEvent::Connection {
            kind: Kind::ServiceEntry,
            state: ConnState::Retrying {
                since,
                error: "connection refused".into(),
            },
        }),
    );
    let text = screen(&s, 160, 48);
    assert!(text.contains("STALE"), "{text}");
    assert!(
        text.contains("se disconnected 42s ago, data may be stale: connection refused"),
        "{text}"
    );
    update(
        &mut s,
        Msg::Kube(KubeEvent::Connection {
            kind: Kind::Sidecar,
            state: ConnState::Forbidden("no".into()),
        }),
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
        Msg::Kube(KubeEvent::Synced {
            kind: Kind::WorkloadEntry,
            shard: Box::new(wes.into_iter().collect()),
        }),
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
        Msg::Kube(KubeEvent::Synced {
            kind: Kind::ServiceEntry,
            shard: Box::new(entries(se).into_iter().collect()),
        }),
    );
    let pod = Pod {
        namespace: "ns1".into(),
        name: "api-7d9".into(),
        labels: [("app".to_string(), "api".to_string())]
            .into_iter()
            .collect(),
        ip: Some("10.1.2.3".into()),
        ready: true,
    };
    update(&mut s, Msg::Kube(KubeEvent::PodsSynced(vec![pod])));
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
        Msg::Kube(KubeEvent::Namespaces(vec!["ns1".into(), "shop".into()])),
    );
    typed(&mut s, ":ns nope\n");
    assert!(
        matches!(&s.ui.status, Some((meshdeck::state::Level::Error, m)) if m.contains("namespace nope does not exist"))
    );
    assert_eq!(s.ui.namespace, None, "nothing changed");
    typed(&mut s, ":ns shop\n");
    assert_eq!(s.ui.namespace.as_deref(), Some("shop"));
}
