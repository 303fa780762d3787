//! Snapshots of every screen at 80x24 and 160x48.

mod common;
use common::*;
use meshdeck::msg::Msg;
use meshdeck::state::State;
use meshdeck::update::update;
use std::path::PathBuf;

fn both(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), screen(state, 160, 48));
}

#[test]
fn services() {
    both("services", &example_state());
}

#[test]
fn workload_entries() {
    let mut s = example_state();
    typed(&mut s, "2");
    both("workload_entries", &s);
}

#[test]
fn workload_groups() {
    let mut s = example_state();
    typed(&mut s, "3");
    both("workload_groups", &s);
}

#[test]
fn destination_rules() {
    let mut s = example_state();
    typed(&mut s, ":dr\n");
    both("destination_rules", &s);
}

#[test]
fn endpoints_with_viewpoint() {
    let mut s = example_state();
    typed(&mut s, "jj\n:view us-east1/us-east1-b\n");
    both("endpoints", &s);
}

/// A host declared in two namespaces, seen from a proxy in the newer one's namespace: the
/// older declaration says it is shadowed and why; the winner says over whom.
#[test]
fn endpoints_of_a_shadowed_host() {
    let mut s = state_on(&[PathBuf::from("tests/data/duplicate-host.yaml")], false);
    typed(&mut s, ":view seed1\n/ns1\n\n");
    both("endpoints_shadowed", &s);
    let mut s = state_on(&[PathBuf::from("tests/data/duplicate-host.yaml")], false);
    typed(&mut s, ":view seed1\nG\n");
    both("endpoints_winner", &s);
    let mut s = state_on(&[PathBuf::from("tests/data/duplicate-host.yaml")], false);
    typed(&mut s, ":view ns1\n/private\n\n");
    both("endpoints_not_exported", &s);
}

#[test]
fn problems() {
    let mut s = state_on(&[PathBuf::from("tests/data/lint-all.yaml")], false);
    typed(&mut s, "5");
    both("problems", &s);
}

#[test]
fn yaml_detail() {
    let mut s = example_state();
    typed(&mut s, "2y");
    both("yaml", &s);
}

#[test]
fn help() {
    let mut s = example_state();
    typed(&mut s, "?");
    both("help", &s);
}

#[test]
fn edit_form_with_preview() {
    let mut s = example_state();
    typed(&mut s, "2e\x08\x0835");
    both("edit_single", &s);
}

#[test]
fn bulk_edit_with_error() {
    let mut s = example_state();
    typed(&mut s, "2  e");
    for _ in 0..5 {
        typed(&mut s, "\x08");
    }
    typed(&mut s, "90/10/5");
    both("edit_bulk_error", &s);
}

#[test]
fn filter_and_readonly() {
    let mut s = state_on(&[PathBuf::from("examples/registry")], true);
    typed(&mut s, "2/ratings");
    both("filter_readonly", &s);
}

#[test]
fn broken_user_config_is_named_in_the_status_bar() {
    let mut s = example_state();
    s.ui.notice = None;
    s.setup.config_errors.push(meshdeck::config::ConfigError {
        file: "/home/me/.config/meshdeck/keymap.toml".into(),
        line: 3,
        message: "key \"q\" is bound to both quit and edit".into(),
    });
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("config: /home/me/.config/meshdeck/keymap.toml:3: key \"q\""),
        "{text}"
    );
    both("config_error", &s);
}

#[test]
fn endpoints_with_observed_traffic() {
    let mut s = example_state();
    typed(&mut s, "jj\n");
    let mut t = meshdeck::state::Traffic::default();
    t.localities
        .insert("proxy-east".into(), "us-east1/us-east1-b".into());
    t.per_proxy.insert(
        "proxy-east".into(),
        [
            ("10.10.1.11".to_string(), 14.0),
            ("10.10.1.12".to_string(), 4.0),
            ("10.20.1.13".to_string(), 2.0),
        ]
        .into(),
    );
    // As the demo sends it: the rows follow on the next tick.
    update(&mut s, Msg::Traffic(t));
    update(&mut s, Msg::Tick);
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("OBSERVED") && text.contains("14.0/s  70%"),
        "{text}"
    );
    both("endpoints_observed", &s);
}

/// The example service's endpoints seen by an xDS server and one Envoy, with drift: the first
/// agrees but is ejected, the second is sent with another weight, the third is not sent.
fn with_planes(s: &mut State) {
    use meshdeck::model::planes::control::{
        Connection, ControlView, ProxySync, SentCluster, SentEndpoint, TypeSync,
    };
    use meshdeck::model::planes::data::{HostState, ProxyData};
    use meshdeck::model::planes::{HostKey, cluster_name};
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant, SystemTime};
    let d = s.registry.endpoints.clone().expect("an Endpoints screen");
    let cluster = cluster_name(d.ports[0].port_number, &d.hosts[0]);
    let eps = &d.ports[0].endpoints;
    assert!(eps.len() >= 3, "{eps:#?}");
    let key = |i: usize| HostKey::new(eps[i].address.clone(), eps[i].port);
    let sent = |w: u32| SentEndpoint {
        weight: w,
        locality: eps[0].locality.clone(),
        priority: 0,
        health: "HEALTHY".into(),
    };
    let mut control = ControlView {
        server: "127.0.0.1:15010".into(),
        connection: Connection::Connected,
        ..Default::default()
    };
    control.clusters.insert(
        cluster.clone(),
        SentCluster {
            discovery: "EDS".into(),
            endpoints: Some(BTreeMap::from([
                (key(0), sent(eps[0].weight)),
                (key(1), sent(eps[1].weight + 7)),
            ])),
        },
    );
    s.planes.control.insert(control.server.clone(), control);
    let host = |w: u32, flags: &[&str], rq: u64| HostState {
        weight: w,
        flags: flags.iter().map(|f| f.to_string()).collect(),
        rq_total: rq,
        ..Default::default()
    };
    let t0 = Instant::now();
    let wall = SystemTime::now();
    let mut east = ProxyData::new("proxy-east", "http://127.0.0.1:15000");
    for (i, rq) in [(0u64, 0u64), (4, 40)] {
        east.record(
            BTreeMap::from([(
                cluster.clone(),
                BTreeMap::from([
                    (key(0), host(eps[0].weight, &["failed_outlier_check"], rq)),
                    (key(1), host(eps[1].weight + 7, &[], rq / 2)),
                ]),
            )]),
            t0 + Duration::from_secs(i),
            wall,
        );
    }
    let mut eu = ProxyData::new("proxy-eu", "http://127.0.0.1:15001");
    eu.record(BTreeMap::new(), t0, wall - Duration::from_secs(42));
    eu.failed("admin http://127.0.0.1:15001/clusters?format=json: connection refused".into());
    s.planes.proxies.insert(east.name.clone(), east);
    s.planes.proxies.insert(eu.name.clone(), eu);
    let status = |st: &str, err: Option<&str>| TypeSync {
        status: st.into(),
        version: "4f2a9c".into(),
        error: err.map(String::from),
    };
    s.planes.syncs.extend([
        ProxySync {
            id: "proxy-east".into(),
            cluster: "demo".into(),
            locality: "us-east1/us-east1-b".into(),
            control_plane: "127.0.0.1:15010".into(),
            types: ["CDS", "LDS", "EDS", "RDS"]
                .iter()
                .map(|t| (t.to_string(), status("SYNCED", None)))
                .collect(),
        },
        ProxySync {
            id: "proxy-eu".into(),
            cluster: "demo".into(),
            locality: "eu-west1/eu-west1-a".into(),
            control_plane: "127.0.0.1:15010".into(),
            types: [
                ("CDS", status("SYNCED", None)),
                ("LDS", status("SYNCED", None)),
                (
                    "EDS",
                    status("ERROR", Some("malformed IP address: 10.0.0.300")),
                ),
                ("RDS", status("STALE", None)),
            ]
            .into_iter()
            .map(|(t, st)| (t.to_string(), st))
            .collect(),
        },
    ]);
}

#[test]
fn endpoints_with_the_three_planes() {
    let mut s = example_state();
    typed(&mut s, "jj\n");
    with_planes(&mut s);
    let text = screen(&s, 160, 48);
    for want in [
        "SENT",
        "ENVOY",
        "RQ/S",
        "DRIFT",
        "⚠ weight-differs",
        "not sent",
        "w70 EJ",
        "proxy-eu rejected EDS: malformed IP",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    // The selected (first) endpoint: its reasons are spelled out below the table.
    assert!(
        text.contains("proxy-east ejected it (outlier detection), though declared healthy"),
        "{text}"
    );
    both("endpoints_planes", &s);
}

#[test]
fn proxies() {
    let mut s = example_state();
    typed(&mut s, "jj\n");
    with_planes(&mut s);
    typed(&mut s, "6");
    let text = screen(&s, 160, 48);
    for want in [
        "proxy-east",
        "SYNCED",
        "ERROR",
        "STALE since 42s ago",
        "1 cluster(s), 2 host(s)",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    typed(&mut s, "j");
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("EDS rejected: malformed IP address: 10.0.0.300"),
        "{text}"
    );
    both("proxies", &s);
}

#[test]
fn proxies_without_planes_says_how_to_get_them() {
    let mut s = example_state();
    typed(&mut s, "6");
    let text = screen(&s, 80, 24);
    assert!(text.contains("--xds HOST:PORT"), "{text}");
}

#[test]
fn a_lost_xds_server_and_a_silent_envoy_are_said_on_every_screen() {
    use meshdeck::model::planes::control::Connection;
    use std::time::{Duration, SystemTime};
    let mut s = example_state();
    typed(&mut s, "jj\n");
    with_planes(&mut s);
    typed(&mut s, "1");
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("Envoy proxy-eu not answering (ENVOY is its last answer)"),
        "{text}"
    );
    for c in s.planes.control.values_mut() {
        c.connection = Connection::Retrying {
            since: SystemTime::now() - Duration::from_secs(42),
            error: "tcp connect error: Connection refused".into(),
        };
    }
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("xDS 127.0.0.1:15010 lost 42s ago, retrying (SENT is what it last sent): tcp connect error"),
        "{text}"
    );
}

/// A minute of stats from two proxies (one pushing, one polled) and one Envoy's hosts, at
/// fixed times so the charts are the same on every run.
fn with_stats(s: &mut State) {
    use meshdeck::model::planes::HostKey;
    use meshdeck::model::planes::data::{HostState, ProxyData};
    use meshdeck::model::planes::stats::{
        ClusterReading, Field, Latency, ProxyStats, Readings, StatsSource,
    };
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant, SystemTime};
    let payments = "outbound|80||payments.shop.internal";
    let ratings = "outbound|9080||ratings.shop.internal";
    let t0: u64 = 1_800_000_000;
    let reading = |rq: u64, err: u64, cx: u64, ej: u64, p50: f64, p99: f64| {
        let mut r = ClusterReading::default();
        r.values.insert(Field::RqTotal, rq);
        r.values.insert(Field::Rq2xx, rq - err);
        r.values.insert(Field::Rq5xx, err);
        r.values.insert(Field::CxActive, cx);
        r.values.insert(Field::EjectionsActive, ej);
        r.latency = Some(Latency::Quantiles {
            p50: Some(p50),
            p99: Some(p99),
        });
        r
    };
    let mut east = ProxyStats::new(StatsSource::Pushed);
    let mut eu = ProxyStats::new(StatsSource::AdminJson);
    let mut east_data = ProxyData::new("proxy-east", "http://127.0.0.1:15000");
    let (mut rq, mut err, mut eu_rq, mut host_rq) = (0u64, 0u64, 0u64, [0u64, 0u64]);
    let t = Instant::now();
    for i in 0..=60u64 {
        let failing = i > 50;
        rq += 20 + i % 10;
        err += if failing { 3 } else { 0 };
        eu_rq += 10;
        let at = (t0 + i) * 1000;
        east.record(
            at,
            &Readings::from([(
                payments.to_string(),
                reading(rq, err, 3, failing as u64, 1.5 + (i % 5) as f64 * 0.25, 9.0),
            )]),
        );
        eu.record(
            at,
            &Readings::from([
                (payments.to_string(), reading(eu_rq, 0, 1, 0, 1.0, 4.0)),
                (ratings.to_string(), reading(eu_rq / 2, 0, 1, 0, 2.0, 6.0)),
            ]),
        );
        host_rq[0] += 12 + i % 10;
        host_rq[1] += 8;
        let flags = |bad: bool| {
            if bad {
                vec!["failed_outlier_check".to_string()]
            } else {
                vec![]
            }
        };
        east_data.record(
            BTreeMap::from([(
                payments.to_string(),
                BTreeMap::from([
                    (
                        HostKey::new("10.10.1.11", 8080),
                        HostState {
                            weight: 70,
                            rq_total: host_rq[0],
                            rq_error: if failing { i - 50 } else { 0 },
                            cx_active: 2,
                            flags: flags(failing),
                            ..Default::default()
                        },
                    ),
                    (
                        HostKey::new("10.10.1.12", 8080),
                        HostState {
                            weight: 30,
                            rq_total: host_rq[1],
                            cx_active: 1,
                            ..Default::default()
                        },
                    ),
                ]),
            )]),
            t + Duration::from_secs(i),
            SystemTime::UNIX_EPOCH + Duration::from_secs(t0 + i),
        );
    }
    s.planes.stats.insert("proxy-east".into(), east);
    s.planes.stats.insert("proxy-eu".into(), eu);
    s.planes.proxies.insert("proxy-east".into(), east_data);
}

#[test]
fn charts() {
    let mut s = example_state();
    with_stats(&mut s);
    typed(&mut s, "7");
    let rows = screen(&s, 80, 24);
    assert!(rows.contains("payments.shop.internal:80"), "{rows}");
    typed(&mut s, "/payments\n");
    let text = screen(&s, 160, 48);
    for want in [
        "requests/s",
        "p99 ms",
        "ejected hosts",
        "proxy-east: metrics service",
        "proxy-eu: admin /stats",
        "10.10.1.11:8080",
        "HOST (from /clusters)",
        "█",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    // Summed over both proxies: 20 + 10 requests a second now, 3 of them 5xx, one host
    // ejected; latency is the worse proxy's.
    let row = text
        .lines()
        .find(|l| l.starts_with("> payments.shop.internal:80"))
        .unwrap_or_else(|| panic!("{text}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[2..],
        ["30", "█▆▇▇▇▇▇▇███▆", "27", "3", "1.5", "9", "4", "1"],
        "{row}"
    );
    both("charts", &s);
}

#[test]
fn charts_without_stats_say_where_they_come_from() {
    let mut s = example_state();
    typed(&mut s, "7");
    let text = screen(&s, 80, 24);
    assert!(text.contains("--metrics-listen"), "{text}");
    assert!(text.contains("--envoy-prometheus"), "{text}");
}

#[test]
fn charts_say_why_a_polled_proxy_has_no_numbers() {
    let mut s = example_state();
    with_stats(&mut s);
    s.planes.stats.get_mut("proxy-eu").unwrap().error =
        Some("admin http://127.0.0.1:15001/stats: answered 503".into());
    typed(&mut s, "7");
    typed(&mut s, "/payments\n");
    let text = screen(&s, 160, 48);
    assert!(
        text.contains("proxy-eu: admin /stats failed (below)"),
        "{text}"
    );
    assert!(
        text.contains("proxy-eu stats: admin http://127.0.0.1:15001/stats: answered 503"),
        "{text}"
    );
}

#[test]
fn help_scrolled_to_the_command_table() {
    let mut s = example_state();
    typed(&mut s, "?");
    typed(&mut s, &"j".repeat(70));
    both("help_commands", &s);
}

/// A timeline of every kind of change, with fixed times so the snapshot holds still.
fn with_changes(s: &mut State) {
    use meshdeck::model::object::{Kind, ObjectKey};
    use meshdeck::model::timeline::{Change, ChangeKind, Origin, Seen};
    use std::time::{Duration, UNIX_EPOCH};
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(1_796_292_000 + secs);
    let we = |name: &str| Some(ObjectKey::new(Kind::WorkloadEntry, "shop", name));
    let v = |s: &str| Seen::Value(s.into());
    let change =
        |secs, kind, object, target: &str, field: &str, old, new, who: Option<&str>, origin| {
            Change {
                at: at(secs),
                kind,
                object,
                target: target.into(),
                field: field.into(),
                old,
                new,
                who: who.map(str::to_string),
                origin,
            }
        };
    s.timeline.changes.extend([
        change(
            0,
            ChangeKind::Registry,
            we("payments-vm-3"),
            "",
            "created",
            Seen::Absent,
            v("10.20.1.13 weight 10"),
            Some("kubectl-client-side-apply"),
            Origin::ManagedFields,
        ),
        change(
            60,
            ChangeKind::Registry,
            we("payments-vm-1"),
            "",
            "spec.weight",
            Seen::Unknown,
            v("70"),
            Some("kubectl-edit"),
            Origin::ManagedFields,
        ),
        change(
            120,
            ChangeKind::Edit,
            we("payments-vm-2"),
            "",
            "weight",
            v("10"),
            v("20"),
            Some("alice"),
            Origin::Event,
        ),
        change(
            200,
            ChangeKind::ControlPlane,
            None,
            "127.0.0.1:15010 (4 clusters)",
            "EDS push",
            v("41"),
            v("42"),
            None,
            Origin::Planes,
        ),
        change(
            230,
            ChangeKind::Health,
            we("payments-vm-3"),
            "",
            "status.conditions[Healthy].status",
            v("True"),
            v("False"),
            Some("meshdeck"),
            Origin::Watched,
        ),
        change(
            231,
            ChangeKind::Health,
            None,
            "10.20.1.13:8080 in edge-a",
            "envoy outbound|80||payments.shop.internal",
            v("healthy"),
            v("failed_outlier_check"),
            Some("envoy"),
            Origin::Planes,
        ),
        change(
            240,
            ChangeKind::Connection,
            we("payments-vm-2"),
            "",
            "metadata.annotations.istio.io/disconnectedAt",
            Seen::Absent,
            v("2026-12-03T09:24:00Z"),
            Some("pilot-discovery"),
            Origin::Watched,
        ),
        change(
            250,
            ChangeKind::ControlPlane,
            None,
            "edge-b.shop @ 127.0.0.1:15010",
            "EDS",
            v("SYNCED"),
            v("NACK: malformed cluster"),
            None,
            Origin::Planes,
        ),
        change(
            300,
            ChangeKind::Edit,
            we("payments-vm-1"),
            "",
            "weight",
            v("70"),
            v("50"),
            Some("bob"),
            Origin::Console,
        ),
    ]);
}

#[test]
fn timeline() {
    let mut s = example_state();
    with_changes(&mut s);
    typed(&mut s, "8");
    both("timeline", &s);
    // The selected change in full, below the table.
    typed(&mut s, "jj");
    both("timeline_selected", &s);
}

#[test]
fn timeline_of_one_service_from_its_endpoints() {
    let mut s = example_state();
    with_changes(&mut s);
    typed(&mut s, "/payments\n\n8");
    both("timeline_of_a_service", &s);
}

#[test]
fn timeline_empty_says_where_history_comes_from() {
    let mut s = example_state();
    typed(&mut s, ":timeline health\n");
    both("timeline_empty", &s);
}

#[test]
fn as_it_was_beside_now() {
    use meshdeck::model::object::{Kind, Object, ObjectKey};
    use meshdeck::model::timeline::{Change, ChangeKind, Origin, Seen};
    use std::time::{Duration, UNIX_EPOCH};
    let mut s = example_state();
    let key = ObjectKey::new(Kind::WorkloadEntry, "shop", "payments-vm-2");
    let before = s.registry.store.get(&key).unwrap().clone();
    let mut after = before.clone();
    if let Object::WorkloadEntry(we) = &mut after.object {
        we.spec.weight = Some(60);
    }
    s.registry.store.upsert(after);
    let at = UNIX_EPOCH + Duration::from_secs(1_796_292_230);
    s.timeline.versions.record(at, key.clone(), Some(before));
    s.timeline.changes.push(Change {
        at,
        kind: ChangeKind::Registry,
        object: Some(key),
        target: String::new(),
        field: "spec.weight".into(),
        old: Seen::Value("20".into()),
        new: Seen::Value("60".into()),
        who: Some("kubectl-edit".into()),
        origin: Origin::Watched,
    });
    typed(&mut s, "8t");
    both("as_it_was", &s);
}

/// A replay of a recording (`meshdeck replay FILE`): the registry one moment before its end,
/// the moment in the status bar, and the Timeline as far as it had come.
#[test]
fn replay_one_moment_back() {
    use meshdeck::model::object::{Kind, Object, ObjectKey};
    use meshdeck::model::timeline::recording::Line;
    use meshdeck::model::timeline::replay::Replay;
    use meshdeck::model::timeline::{Change, ChangeKind, Origin, Seen};
    use std::time::{Duration, UNIX_EPOCH};
    let example = example_state();
    let t = |s: u64| UNIX_EPOCH + Duration::from_secs(1_796_292_200 + s);
    let mut lines: Vec<Line> = Kind::ALL
        .into_iter()
        .flat_map(|k| example.registry.store.entries(k))
        .map(|e| Line::Object {
            at: t(0),
            object: Box::new(e.object.clone()),
        })
        .collect();
    let key = ObjectKey::new(Kind::WorkloadEntry, "shop", "payments-vm-2");
    let mut after = example.registry.store.get(&key).unwrap().object.clone();
    if let Object::WorkloadEntry(we) = &mut after {
        we.spec.weight = Some(60);
    }
    lines.push(Line::Change(Change {
        at: t(30),
        kind: ChangeKind::Registry,
        object: Some(key),
        target: String::new(),
        field: "spec.weight".into(),
        old: Seen::Value("20".into()),
        new: Seen::Value("60".into()),
        who: Some("kubectl-edit".into()),
        origin: Origin::Watched,
    }));
    lines.push(Line::Object {
        at: t(30),
        object: Box::new(after),
    });
    let text = lines.iter().enumerate().map(|(i, l)| {
        (
            format!("flight.jsonl:{}", i + 1),
            Ok(l.to_json().to_string()),
        )
    });
    let loaded = Replay::read("flight.jsonl", text);
    let mut s = State::new(meshdeck::state::Config::new(
        "replay",
        true,
        meshdeck::config::keymap::Keymap::load(None, None).0,
    ));
    update(&mut s, Msg::Replay(Box::new(loaded)));
    meshdeck::update::init(&mut s);
    typed(&mut s, "2[");
    both("replay_workload_entries", &s);
    typed(&mut s, "]8");
    both("replay_timeline", &s);
}

/// A shift running on the payments Endpoints: its line under the table, with its keys.
#[test]
fn endpoints_with_a_running_shift() {
    use meshdeck::io::source::Applied;
    use meshdeck::msg::Cmd;
    use meshdeck::msg::shift::{PlanAnswer, PlanOp};
    let mut s = example_state();
    typed(&mut s, "jj\n");
    with_planes(&mut s);
    typed(&mut s, "jj");
    // The form, with its defaults; esc leaves it.
    typed(&mut s, ":shift\n");
    typed(&mut s, &"\x08".repeat(13));
    typed(&mut s, "25,50,100\t\t\t250ms");
    both("endpoints_shift_form", &s);
    typed(&mut s, "\x1b");
    assert!(s.edits.shift_form.is_none());
    // First the steps, for a yes.
    let cmds = typed(&mut s, ":shift 25,50,100 30s 1% 250ms\n");
    assert!(cmds.is_empty(), "{cmds:?}");
    both("endpoints_shift_confirm", &s);
    let cmds = typed(&mut s, "y");
    let [Cmd::ShiftPlan(op @ PlanOp::Create(_))] = cmds.as_slice() else {
        panic!("{cmds:?} {:?}", s.ui.status)
    };
    let cmds = update(&mut s, Msg::ShiftPlan(op.clone(), PlanAnswer::Done));
    let [Cmd::Apply { id, edits }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let applied = edits
        .iter()
        .map(|e| Applied {
            edit: e.clone(),
            revision: None,
            warnings: Vec::new(),
        })
        .collect();
    update(
        &mut s,
        Msg::Applied {
            id: *id,
            result: Ok(applied),
        },
    );
    let line = &s.edits.shift.as_ref().expect("running").line;
    assert!(
        line.contains("step 1 of 3 (25%)") && line.contains("A abort"),
        "{line}"
    );
    both("endpoints_shift", &s);
}

/// The example registry in two clusters, west's watch lost: a CLUSTER column, a line per
/// cluster (the troubled one first), and a service's endpoints from both.
fn two_clusters_state() -> State {
    use meshdeck::io::kube::{ConnState, KubeEvent};
    use meshdeck::model::cluster::Cluster;
    use meshdeck::model::object::Kind;
    let (east, west) = (Cluster::named("east"), Cluster::named("west"));
    let mut c = meshdeck::state::Config::new(
        "clusters east, west",
        false,
        meshdeck::config::keymap::Keymap::load(None, None).0,
    );
    c.clusters = vec![
        (east.clone(), "east".into(), false),
        (west.clone(), "west".into(), false),
    ];
    let mut s = State::new(c);
    let files = meshdeck::cli::get::load_files(&[std::path::PathBuf::from("examples/registry")]);
    for cluster in [&east, &west] {
        for kind in Kind::ALL {
            let shard: meshdeck::model::store::Store = files
                .entries(kind)
                .cloned()
                .map(|mut e| {
                    e.object.set_cluster(cluster);
                    e.origin = None;
                    e
                })
                .collect();
            let synced = KubeEvent::Synced {
                kind,
                shard: Box::new(shard),
            };
            meshdeck::update::update(&mut s, Msg::Kube(cluster.clone(), synced));
            let watching = KubeEvent::Connection {
                kind,
                state: ConnState::Watching,
            };
            meshdeck::update::update(&mut s, Msg::Kube(cluster.clone(), watching));
        }
    }
    let lost = KubeEvent::Connection {
        kind: Kind::WorkloadEntry,
        state: ConnState::Retrying {
            since: std::time::SystemTime::now(),
            error: "connection refused".into(),
        },
    };
    meshdeck::update::update(&mut s, Msg::Kube(west, lost));
    meshdeck::update::update(&mut s, Msg::Tick);
    s
}

#[test]
fn two_clusters_side_by_side() {
    let mut s = two_clusters_state();
    typed(&mut s, "2");
    both("two_clusters_workload_entries", &s);
    typed(&mut s, "1");
    typed(&mut s, "/payments\n\n");
    both("two_clusters_endpoints", &s);
}
