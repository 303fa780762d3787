//! The console's behaviour through `update` alone: navigation, filter, commands, the edit loop
//! and its error paths. No terminal, no I/O: the Cmds are checked instead.

mod common;
use common::*;
use meshdeck::io::source::{Applied, ApplyError, Change, FieldError};
use meshdeck::model::endpoint::EndpointSource;
use meshdeck::model::object::Kind;
use meshdeck::msg::{Cmd, Msg};
use meshdeck::state::{EditStage, Level, RowId, Screen};
use meshdeck::update::update;
use std::path::PathBuf;

fn selected_name(s: &meshdeck::state::State) -> String {
    match s.list().and_then(|l| l.selected_row()) {
        Some(RowId::Object(k)) => k.name.clone(),
        other => format!("{other:?}"),
    }
}

#[test]
fn substring_fuzzy_and_regex_filters_narrow_the_rows() {
    let mut s = example_state();
    typed(&mut s, "2/vm-");
    assert_eq!(s.list().unwrap().rows.len(), 3, "the text anywhere");
    typed(&mut s, "\x1b/VM-");
    assert_eq!(s.list().unwrap().rows.len(), 0, "a capital makes it exact");
    typed(&mut s, "\x1b/pvm3");
    assert_eq!(s.list().unwrap().rows.len(), 0, "not fuzzy unless asked");
    typed(&mut s, "\x1b/~pvm3");
    assert_eq!(s.list().unwrap().rows.len(), 1);
    assert_eq!(selected_name(&s), "payments-vm-3");
    typed(&mut s, "\x1b/");
    typed(&mut s, "/^shop/ratings-10\\.10\\.2\\.2[12]\n");
    assert_eq!(s.list().unwrap().rows.len(), 2);
    typed(&mut s, "/[\n");
    assert_eq!(
        s.list().unwrap().rows.len(),
        0,
        "a broken regex matches nothing"
    );
    typed(&mut s, "\x1b");
    assert_eq!(s.list().unwrap().rows.len(), 5, "esc clears the filter");
}

#[test]
fn commands_switch_screens_and_namespaces() {
    let mut s = example_state();
    typed(&mut s, ":wg\n");
    assert_eq!(s.screen(), &Screen::List(Kind::WorkloadGroup));
    typed(&mut s, ":ns legacy\n:se\n");
    assert_eq!(s.list().unwrap().rows.len(), 2);
    typed(&mut s, ":nosuch\n");
    assert!(
        matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("unknown command :nosuch"))
    );
    typed(&mut s, ":ns all\n");
    assert_eq!(s.list().unwrap().rows.len(), 4);
}

#[test]
fn sequences_and_sorting() {
    let mut s = example_state();
    typed(&mut s, "2G");
    assert_eq!(selected_name(&s), "ratings-10.10.2.22");
    typed(&mut s, "gg");
    assert_eq!(selected_name(&s), "payments-vm-1");
    // Sort by WEIGHT (column 3): numbers first (10, 20, 70), then "-" (unset).
    typed(&mut s, "sss");
    assert_eq!(s.list().unwrap().sort_column, 3);
    assert_eq!(selected_name(&s), "payments-vm-3");
    typed(&mut s, "jj");
    assert_eq!(selected_name(&s), "payments-vm-1");
    typed(&mut s, "S");
    typed(&mut s, "G");
    assert_eq!(selected_name(&s), "payments-vm-3");
}

#[test]
fn enter_drills_down_and_esc_comes_back() {
    let mut s = example_state();
    typed(&mut s, "jj\n");
    assert!(matches!(s.screen(), Screen::Endpoints(k) if k.name == "payments"));
    assert_eq!(s.list().unwrap().rows.len(), 3);
    typed(&mut s, "y");
    assert!(matches!(s.screen(), Screen::Yaml(k) if k.name == "payments-vm-1"));
    typed(&mut s, "\x1b\x1b");
    assert_eq!(s.screen(), &Screen::List(Kind::ServiceEntry));
}

#[test]
fn a_weight_edit_is_validated_previewed_confirmed_and_sent() {
    let mut s = example_state();
    typed(&mut s, "2e\x08\x08-5");
    let e = s.edits.form.as_ref().unwrap();
    assert!(e.field_errors.weight.as_ref().unwrap().contains("negative"));
    assert!(
        typed(&mut s, "\n").is_empty(),
        "enter with an error sends nothing"
    );
    assert_eq!(s.edits.form.as_ref().unwrap().stage, EditStage::Editing);
    typed(&mut s, "\x08\x0830");
    let e = s.edits.form.as_ref().unwrap();
    assert!(e.field_errors.weight.is_none());
    let vm1 = e
        .preview
        .iter()
        .find(|r| r.endpoint == "payments-vm-1")
        .unwrap();
    assert!(
        (vm1.before - 0.7).abs() < 1e-9 && (vm1.after - 0.5).abs() < 1e-9,
        "{vm1:?}"
    );
    assert!(
        typed(&mut s, "\n").is_empty(),
        "first enter only asks to confirm"
    );
    assert_eq!(s.edits.form.as_ref().unwrap().stage, EditStage::Confirm);
    let cmds = typed(&mut s, "\n");
    let [Cmd::Apply { id, edits }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0].change,
        Change::Weight {
            from: Some(70),
            to: 30
        }
    );
    assert_eq!(edits[0].path(), "spec.weight");
    assert!(edits[0].origin.is_some() && edits[0].revision.is_some());
    // The source answers: the form closes and the edit can be undone.
    let applied = vec![Applied {
        edit: edits[0].clone(),
        revision: Some("r2".into()),
        warnings: Vec::new(),
    }];
    update(
        &mut s,
        Msg::Applied {
            id: *id,
            result: Ok(applied),
        },
    );
    assert!(s.edits.form.is_none());
    let undo = typed(&mut s, "u");
    let [Cmd::Apply { edits, .. }] = undo.as_slice() else {
        panic!("{undo:?}")
    };
    assert_eq!(
        edits[0].change,
        Change::Weight {
            from: Some(30),
            to: 70
        }
    );
    assert_eq!(edits[0].revision.as_deref(), Some("r2"));
}

#[test]
fn a_rejected_edit_keeps_the_input_and_shows_why() {
    let mut s = example_state();
    typed(&mut s, "2e\t");
    for _ in 0..10 {
        typed(&mut s, "\x08");
    }
    typed(&mut s, "zz");
    let cmds = typed(&mut s, "\n\n");
    let [Cmd::Apply { id, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let err = ApplyError::Invalid(vec![FieldError {
        field: "spec.locality".into(),
        message: "zone zz does not exist".into(),
    }]);
    update(
        &mut s,
        Msg::Applied {
            id: *id,
            result: Err(err),
        },
    );
    let e = s.edits.form.as_ref().expect("form stays open");
    assert_eq!(e.stage, EditStage::Editing);
    assert_eq!(e.locality_text(), "us-east1/zz");
    assert_eq!(
        e.field_errors.locality.as_deref(),
        Some("zone zz does not exist")
    );
    let cmds = typed(&mut s, "\n\n");
    let [Cmd::Apply { id, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let conflict = ApplyError::Conflict {
        object: "we shop/payments-vm-1".into(),
        message: "changed on disk".into(),
    };
    update(
        &mut s,
        Msg::Applied {
            id: *id,
            result: Err(conflict),
        },
    );
    assert!(
        s.edits
            .form
            .as_ref()
            .unwrap()
            .source_error
            .as_ref()
            .unwrap()
            .contains("changed on disk")
    );
}

#[test]
fn bulk_edit_splits_weights_across_marked_entries() {
    let mut s = example_state();
    typed(&mut s, "2  ");
    assert_eq!(s.list().unwrap().marked.len(), 2);
    typed(&mut s, "e");
    let e = s.edits.form.as_ref().unwrap();
    assert_eq!(e.weight_text(), "70/20");
    for _ in 0..5 {
        typed(&mut s, "\x08");
    }
    let cmds = typed(&mut s, "90/10\n\n");
    let [Cmd::Apply { edits, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let changes: Vec<_> = edits
        .iter()
        .map(|e| (e.target.clone(), e.change.clone()))
        .collect();
    assert_eq!(
        changes,
        vec![
            (
                EndpointSource::WorkloadEntry {
                    namespace: "shop".into(),
                    name: "payments-vm-1".into(),
                    cluster: Default::default()
                },
                Change::Weight {
                    from: Some(70),
                    to: 90
                }
            ),
            (
                EndpointSource::WorkloadEntry {
                    namespace: "shop".into(),
                    name: "payments-vm-2".into(),
                    cluster: Default::default()
                },
                Change::Weight {
                    from: Some(20),
                    to: 10
                }
            ),
        ]
    );
}

#[test]
fn inline_endpoints_are_editable_from_the_endpoints_screen() {
    let mut s = example_state();
    typed(&mut s, "j\nje\x08");
    let cmds = typed(&mut s, "4\n\n");
    let [Cmd::Apply { edits, .. }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert_eq!(edits[0].path(), "spec.endpoints[1].weight");
    assert_eq!(
        edits[0].change,
        Change::Weight {
            from: Some(1),
            to: 4
        }
    );
}

#[test]
fn readonly_never_opens_the_form_nor_undoes() {
    let mut s = state_on(&[PathBuf::from("examples/registry")], true);
    assert!(typed(&mut s, "2e").is_empty());
    assert!(s.edits.form.is_none());
    assert!(matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("read-only")));
    assert!(typed(&mut s, "u").is_empty());
}

#[test]
fn ctrl_c_quits_even_from_the_form() {
    let mut s = example_state();
    typed(&mut s, "2e");
    let cmds = update(
        &mut s,
        Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char('c'),
            ratatui::crossterm::event::KeyModifiers::CONTROL,
        )),
    );
    assert_eq!(cmds, vec![Cmd::Quit]);
}

#[test]
fn reloading_a_file_replaces_its_objects() {
    let (_dir, root) = example_copy();
    let mut s = state_on(std::slice::from_ref(&root), false);
    let path = root.join("payments.yaml");
    let text = read(&path).replace("payments-vm-3", "payments-vm-9");
    std::fs::write(&path, text).unwrap();
    update(
        &mut s,
        Msg::FilesLoaded(vec![meshdeck::io::manifests::load::load_file(&path)]),
    );
    let names: Vec<_> = s
        .registry
        .store
        .keys(Kind::WorkloadEntry)
        .map(|k| k.name.clone())
        .collect();
    assert!(
        names.contains(&"payments-vm-9".to_string())
            && !names.contains(&"payments-vm-3".to_string())
    );
    update(&mut s, Msg::FileRemoved(path));
    assert_eq!(s.registry.store.count(Kind::ServiceEntry), 3);
}

/// With planes configured: the screens decide what is subscribed and polled, and an applied
/// weight edit is followed through EDS and Envoy by the messages the plane tasks send.
#[test]
fn an_applied_edit_is_followed_through_the_planes() {
    use meshdeck::io::envoy::poll::{DataEvent, PollTarget};
    use meshdeck::io::xds::XdsEvent;
    use meshdeck::model::planes::HostKey;
    use meshdeck::model::planes::control::{ControlView, SentEndpoint};
    use meshdeck::model::planes::data::HostState;
    use meshdeck::model::planes::verify::Stage;
    use meshdeck::state::planes::PlanesView;
    use meshdeck::update::planes::{wanted_clusters, wanted_proxies};
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant, SystemTime};

    let east = PollTarget::new("east", "http://127.0.0.1:15000");
    let mut view = PlanesView::with_proxies(std::slice::from_ref(&east));
    view.control.insert("xds".into(), ControlView::default());
    let mut s = example_with(|c| c.planes = planes_of(view));
    assert!(wanted_proxies(&s).is_empty(), "nothing polled on a list");
    assert!(wanted_clusters(&s).is_empty());
    typed(&mut s, "jj\n");
    let cluster = "outbound|80||payments.shop.internal".to_string();
    assert_eq!(
        wanted_clusters(&s).into_iter().collect::<Vec<_>>(),
        std::slice::from_ref(&cluster)
    );
    assert_eq!(wanted_proxies(&s), std::slice::from_ref(&east));

    // Weight 70 → 30 on payments-vm-1 (10.10.1.11:8080), applied by the source.
    let cmds = typed(&mut s, "e\x08\x0830\n\n");
    let [Cmd::Apply { id, edits }] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    update(
        &mut s,
        Msg::Applied {
            id: *id,
            result: Ok(vec![Applied {
                edit: edits[0].clone(),
                revision: None,
                warnings: vec!["unknown field \"spec.wieght\"".into()],
            }]),
        },
    );
    // A server warning stays in view, in the error style.
    let Some((meshdeck::state::Level::Error, text)) = &s.ui.status else {
        panic!("{:?}", s.ui.status)
    };
    assert!(
        text.contains("the API server warned: unknown field \"spec.wieght\""),
        "{text}"
    );
    let v = s.planes.verify.as_ref().expect("the edit is followed");
    assert_eq!(v.waiting_for(), Some(Stage::ControlPlane));
    let target = HostKey::new("10.10.1.11", 8080);
    assert!(
        v.targets
            .iter()
            .any(|t| t.cluster == cluster && t.host == target && t.weight == Some(30)),
        "{:?}",
        v.targets
    );
    // Away from the endpoints the followed clusters and proxies stay wanted until it finishes.
    typed(&mut s, "1");
    assert!(wanted_clusters(&s).contains(&cluster));
    assert_eq!(wanted_proxies(&s).len(), 1);

    let sent = |w: u32| SentEndpoint {
        weight: w,
        locality: Default::default(),
        priority: 0,
        health: "HEALTHY".into(),
    };
    update(
        &mut s,
        Msg::Xds(XdsEvent::Endpoints {
            server: "xds".into(),
            version: "2".into(),
            assignments: BTreeMap::from([(
                cluster.clone(),
                BTreeMap::from([
                    (target.clone(), sent(30)),
                    (HostKey::new("10.10.1.12", 8080), sent(20)),
                ]),
            )]),
        }),
    );
    assert_eq!(
        s.planes.verify.as_ref().unwrap().waiting_for(),
        Some(Stage::Acked),
        "no syncz: Envoy holding it will count as the ACK"
    );
    let hosts = |a: u64, b: u64| {
        BTreeMap::from([(
            cluster.clone(),
            BTreeMap::from([
                (
                    target.clone(),
                    HostState {
                        weight: 30,
                        rq_total: a,
                        ..Default::default()
                    },
                ),
                (
                    HostKey::new("10.10.1.12", 8080),
                    HostState {
                        weight: 20,
                        rq_total: b,
                        ..Default::default()
                    },
                ),
            ]),
        )])
    };
    let t0 = Instant::now();
    for (secs, a, b) in [(0, 0, 0), (5, 60, 40), (10, 120, 80)] {
        update(
            &mut s,
            Msg::Data(DataEvent::Clusters {
                proxy: "east".into(),
                clusters: hosts(a, b),
                at: t0 + Duration::from_secs(secs),
                wall: SystemTime::now(),
            }),
        );
    }
    let v = s.planes.verify.as_ref().unwrap();
    assert!(v.done.is_some(), "{}", v.summary());
    assert!(
        v.summary().contains("east 60%/60% of 100 rq"),
        "{}",
        v.summary()
    );
    assert!(
        wanted_proxies(&s).is_empty(),
        "polling stops once it is done and off screen"
    );
    // A failed poll marks the proxy stale.
    update(
        &mut s,
        Msg::Data(DataEvent::Failed {
            proxy: "east".into(),
            error: "refused".into(),
        }),
    );
    assert!(s.planes.proxies["east"].is_stale());
    // Something the console cannot use is said until the server sends something usable.
    update(
        &mut s,
        Msg::Xds(XdsEvent::Rejected {
            server: "xds".into(),
            type_url: "ClusterLoadAssignment".into(),
            error: "bad bytes".into(),
        }),
    );
    let trouble = s.planes.trouble().unwrap();
    assert!(
        trouble.contains(
            "xDS xds: meshdeck could not use the ClusterLoadAssignment it sent: bad bytes"
        ),
        "{trouble}"
    );
    update(
        &mut s,
        Msg::Xds(XdsEvent::Endpoints {
            server: "xds".into(),
            version: "3".into(),
            assignments: BTreeMap::new(),
        }),
    );
    assert!(!s.planes.trouble().unwrap().contains("could not use"));
}

#[test]
fn charts_poll_stats_for_the_rows_on_screen_until_the_envoy_pushes_them() {
    use meshdeck::io::envoy::poll::{DataEvent, PollTarget};
    use meshdeck::model::planes::data::unix_ms;
    use meshdeck::model::planes::stats::{ClusterReading, Field, Metric, Readings, StatsSource};
    use meshdeck::state::planes::PlanesView;
    use meshdeck::state::{RowId, Screen};
    use meshdeck::update::planes::wanted_proxies;
    use std::time::SystemTime;

    let view = PlanesView::with_proxies(&[PollTarget::new("east", "http://127.0.0.1:15000")]);
    let mut s = example_with(|c| c.planes = planes_of(view));
    assert!(wanted_proxies(&s).is_empty(), "nothing polled on a list");
    typed(&mut s, "7");
    assert_eq!(s.screen(), &Screen::Charts);
    let rows: Vec<String> = s
        .list()
        .unwrap()
        .rows
        .iter()
        .map(|r| match r {
            RowId::Cluster(c) => c.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        rows.contains(&"outbound|80||payments.shop.internal".to_string()),
        "{rows:?}"
    );
    assert!(
        rows.contains(&"outbound|9080||ratings.shop.internal".to_string()),
        "{rows:?}"
    );
    let polled = wanted_proxies(&s);
    assert_eq!(polled.len(), 1);
    assert_eq!(
        polled[0].stats, rows,
        "every row is near the selection here"
    );

    // The Envoy starts pushing: its stats are no longer polled, and a cluster only it
    // reports joins the rows.
    let now = unix_ms(SystemTime::now());
    let reading = |rq: u64| {
        let mut r = ClusterReading::default();
        r.values.insert(Field::RqTotal, rq);
        Readings::from([("outbound|8443||extra.mesh.internal".to_string(), r)])
    };
    for (i, rq) in [(0u64, 100u64), (1, 130)] {
        meshdeck::update::update(
            &mut s,
            meshdeck::msg::Msg::Data(DataEvent::Stats {
                proxy: "east".into(),
                source: StatsSource::Pushed,
                at_ms: now - 1000 + i * 1000,
                readings: reading(rq),
            }),
        );
    }
    update(&mut s, Msg::Tick);
    assert!(
        wanted_proxies(&s)[0].stats.is_empty(),
        "pushed stats are not polled"
    );
    assert!(
        s.list()
            .unwrap()
            .rows
            .contains(&RowId::Cluster("outbound|8443||extra.mesh.internal".into()))
    );
    let clock = s.planes.chart_clock().unwrap();
    let w = s
        .planes
        .cluster_window("outbound|8443||extra.mesh.internal", Metric::Rq, clock, 1);
    assert_eq!(w, vec![Some(30.0)]);
}

#[test]
fn the_filter_vm_12_keeps_exactly_the_entries_whose_name_has_it() {
    use meshdeck::io::manifests::{load::into_store, parse::parse_text};
    let text = meshdeck::cli::bench::generate(10_000, 100);
    let parsed = parse_text(std::path::Path::new("bench.yaml"), &text);
    let keymap = meshdeck::config::keymap::Keymap::load(None, None).0;
    let mut s = meshdeck::state::State::new(meshdeck::state::Config {
        store: into_store(vec![parsed]),
        ..meshdeck::state::Config::new("bench", false, keymap)
    });
    meshdeck::update::init(&mut s);
    typed(&mut s, "2/vm-12");
    let rows = &s.list().unwrap().rows;
    assert_eq!(rows.len(), 111);
    assert_eq!(selected_name(&s), "vm-12", "the whole name ranks first");
    assert!(
        rows.iter()
            .all(|r| matches!(r, RowId::Object(k) if k.name.contains("vm-12")))
    );
}

fn ctrl(c: char) -> Msg {
    Msg::Key(ratatui::crossterm::event::KeyEvent::new(
        ratatui::crossterm::event::KeyCode::Char(c),
        ratatui::crossterm::event::KeyModifiers::CONTROL,
    ))
}

#[test]
fn the_vim_keymap_remaps_the_form_and_the_command_line() {
    let vim = meshdeck::config::keymap::Keymap::load(Some("vim"), None).0;
    let mut s = example_with(|c| c.keymap = vim);
    typed(&mut s, "2e");
    let focus = |s: &meshdeck::state::State| s.edits.form.as_ref().map(|e| e.focus);
    assert_eq!(focus(&s), Some(meshdeck::state::EditFocus::Weight));
    update(&mut s, ctrl('n'));
    assert_eq!(focus(&s), Some(meshdeck::state::EditFocus::Locality));
    update(&mut s, ctrl('p'));
    assert_eq!(focus(&s), Some(meshdeck::state::EditFocus::Weight));
    typed(&mut s, "\x1b");
    assert!(s.edits.form.is_none());
    // The default keymap leaves ctrl-n alone in the form: nothing moves.
    let mut d = example_state();
    typed(&mut d, "2e");
    update(&mut d, ctrl('n'));
    assert_eq!(focus(&d), Some(meshdeck::state::EditFocus::Weight));
    // The command line: ctrl-n completes under vim, ctrl-h deletes a character.
    typed(&mut s, ":lin");
    update(&mut s, ctrl('n'));
    assert_eq!(s.ui.input, "lint ");
    update(&mut s, ctrl('h'));
    assert_eq!(s.ui.input, "lint");
    typed(&mut s, "\n");
    assert_eq!(s.screen(), &Screen::Problems);
}

#[test]
fn tab_completes_commands_and_namespaces_and_ctrl_w_deletes_a_word() {
    let mut s = example_state();
    typed(&mut s, ":pro\t");
    assert_eq!(
        s.ui.input, "pro",
        "problem, problems, proxies, proxy: the common part"
    );
    assert!(
        matches!(&s.ui.status, Some((Level::Info, m)) if m.contains("problems") && m.contains("proxies")),
        "{:?}",
        s.ui.status
    );
    typed(&mut s, "x\t");
    assert_eq!(s.ui.input, "prox");
    typed(&mut s, "ie\t");
    assert_eq!(s.ui.input, "proxies ");
    update(&mut s, ctrl('w'));
    assert_eq!(s.ui.input, "");
    typed(&mut s, "ns le\t");
    assert_eq!(s.ui.input, "ns legacy ");
    typed(&mut s, "\n:se\n");
    assert_eq!(s.list().unwrap().rows.len(), 2);
    typed(&mut s, ":zz\t");
    assert!(matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("nothing completes")));
}

#[test]
fn a_page_is_what_the_terminal_shows() {
    use ratatui::crossterm::event::KeyCode;
    let mut s = example_state();
    typed(&mut s, "2");
    update(
        &mut s,
        Msg::Resize {
            width: 80,
            height: 7,
        },
    );
    update(&mut s, key(KeyCode::PageDown));
    assert_eq!(
        s.list().unwrap().selected,
        2,
        "two rows fit between the chrome"
    );
    update(
        &mut s,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    update(&mut s, key(KeyCode::PageUp));
    assert_eq!(s.list().unwrap().selected, 0);
}

#[test]
fn sorting_services_derives_each_once_per_store_change_not_per_key() {
    let (_dir, root) = example_copy();
    let mut s = state_on(std::slice::from_ref(&root), false);
    typed(&mut s, "1ssssss");
    assert_eq!(s.list().unwrap().sort_column, 6, "ENDPOINTS");
    let sorted = s.registry.derived.derivations;
    assert_eq!(sorted, 4, "one derivation per service");
    typed(&mut s, "/a\x08p\n");
    typed(&mut s, "S");
    assert_eq!(
        s.registry.derived.derivations, sorted,
        "filtering and reversing derive nothing"
    );
    // A changed registry: derived again, once.
    let path = root.join("payments.yaml");
    std::fs::write(&path, read(&path).replace("weight: 20", "weight: 21")).unwrap();
    update(
        &mut s,
        Msg::FilesLoaded(vec![meshdeck::io::manifests::load::load_file(&path)]),
    );
    update(&mut s, Msg::Tick);
    assert_eq!(s.registry.derived.derivations, 2 * sorted);
}

#[test]
fn c_copies_the_selection_and_capital_c_a_kubectl_command() {
    let mut s = example_state();
    let cmds = typed(&mut s, "2c");
    assert_eq!(cmds, vec![Cmd::Copy("shop/payments-vm-1".into())]);
    assert!(matches!(&s.ui.status, Some((Level::Info, m)) if m == "copied shop/payments-vm-1"));
    let cmds = typed(&mut s, "C");
    assert_eq!(
        cmds,
        vec![Cmd::Copy(
            "kubectl -n shop get workloadentries.networking.istio.io payments-vm-1 -o yaml".into()
        )]
    );
    // On the YAML screen: the whole object.
    let cmds = typed(&mut s, "y");
    assert!(cmds.is_empty());
    let cmds = typed(&mut s, "c");
    let [Cmd::Copy(yaml)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    assert!(yaml.contains("kind: WorkloadEntry") && yaml.contains("name: payments-vm-1"));
    // Nothing selected: said, nothing copied.
    let cmds = typed(&mut s, "\x1b5c");
    assert!(cmds.is_empty());
    assert!(matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("nothing selected")));
}

/// The planes' news on the timeline: the console's stream, pushes (not its own subscription
/// changes), proxies coming, going and NACKing, an Envoy ejecting a host and taking it back.
#[test]
fn the_planes_changes_are_on_the_timeline() {
    use meshdeck::io::envoy::poll::DataEvent;
    use meshdeck::io::xds::XdsEvent;
    use meshdeck::model::planes::HostKey;
    use meshdeck::model::planes::control::{Connection, ProxySync, TypeSync};
    use meshdeck::model::planes::data::{EnvoyClusters, HostState};
    use meshdeck::model::timeline::ChangeKind;
    use std::collections::BTreeMap;
    let mut s = example_state();
    let server = "127.0.0.1:15010".to_string();
    let eds = |version: &str, clusters: &[&str]| {
        Msg::Xds(XdsEvent::Endpoints {
            server: server.clone(),
            version: version.into(),
            assignments: clusters
                .iter()
                .map(|c| (c.to_string(), BTreeMap::new()))
                .collect(),
        })
    };
    let proxy = |id: &str, eds: &str, error: Option<&str>| ProxySync {
        id: id.into(),
        cluster: String::new(),
        locality: String::new(),
        control_plane: server.clone(),
        types: BTreeMap::from([(
            "EDS".to_string(),
            TypeSync {
                status: eds.into(),
                version: "1".into(),
                error: error.map(str::to_string),
            },
        )]),
    };
    let syncz = |proxies: Vec<ProxySync>| {
        Msg::Xds(XdsEvent::Syncz {
            server: server.clone(),
            proxies,
        })
    };
    let told = |s: &meshdeck::state::State| -> Vec<String> {
        s.timeline
            .changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} {}",
                    c.subject(),
                    c.field,
                    c.old.text(),
                    c.new.text()
                )
            })
            .collect()
    };
    update(
        &mut s,
        Msg::Xds(XdsEvent::Connection {
            server: server.clone(),
            state: Connection::Connected,
        }),
    );
    update(&mut s, eds("v1", &["a"]));
    update(&mut s, eds("v2", &["a", "b"])); // the console subscribed to b: no push
    update(&mut s, eds("v3", &["a", "b"])); // a push
    update(
        &mut s,
        syncz(vec![proxy(
            "sidecar~10.0.0.1~edge-a.shop~shop.svc.cluster.local",
            "SYNCED",
            None,
        )]),
    );
    update(
        &mut s,
        syncz(vec![
            proxy(
                "sidecar~10.0.0.1~edge-a.shop~shop.svc.cluster.local",
                "ERROR",
                Some("bad cluster"),
            ),
            proxy(
                "sidecar~10.0.0.2~edge-b.shop~shop.svc.cluster.local",
                "SYNCED",
                None,
            ),
        ]),
    );
    update(
        &mut s,
        syncz(vec![proxy(
            "sidecar~10.0.0.2~edge-b.shop~shop.svc.cluster.local",
            "SYNCED",
            None,
        )]),
    );
    let envoy = |flags: &[&str]| {
        let mut hosts = BTreeMap::new();
        hosts.insert(
            HostKey::new("10.10.1.11", 8080),
            HostState {
                flags: flags.iter().map(|f| f.to_string()).collect(),
                ..HostState::default()
            },
        );
        let clusters: EnvoyClusters =
            BTreeMap::from([("outbound|80||payments.shop.internal".to_string(), hosts)]);
        Msg::Data(DataEvent::Clusters {
            proxy: "edge-a".into(),
            clusters,
            at: std::time::Instant::now(),
            wall: std::time::SystemTime::now(),
        })
    };
    update(&mut s, envoy(&[]));
    update(&mut s, envoy(&["failed_outlier_check"]));
    update(&mut s, envoy(&["failed_outlier_check"]));
    update(&mut s, envoy(&[]));
    assert_eq!(
        told(&s),
        [
            "127.0.0.1:15010 xDS stream — connected",
            "127.0.0.1:15010 (2 clusters) EDS push v2 v3",
            "edge-a.shop @ 127.0.0.1:15010 EDS SYNCED NACK: bad cluster",
            "edge-b.shop @ 127.0.0.1:15010 proxy — connected",
            "edge-a.shop @ 127.0.0.1:15010 proxy connected left",
            "10.10.1.11:8080 in edge-a envoy outbound|80||payments.shop.internal healthy failed_outlier_check",
            "10.10.1.11:8080 in edge-a envoy outbound|80||payments.shop.internal failed_outlier_check healthy",
        ]
    );
    let kinds: Vec<_> = s.timeline.changes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == ChangeKind::Health).count(),
        2
    );
    // A service's timeline takes in its hosts' Envoy clusters.
    typed(&mut s, "/payments\n\n8");
    assert_eq!(s.list().unwrap().rows.len(), 2, "{}", screen(&s, 120, 24));
}

/// The Proxies screen sorts: by a sync status the worst first (a NACK, then stale), and back;
/// the filter narrows the sorted rows.
#[test]
fn the_proxies_screen_sorts_worst_first_and_filters() {
    use meshdeck::model::planes::control::{ProxySync, TypeSync};
    use meshdeck::msg::xds::XdsEvent;
    let mut s = example_with(|c| {
        c.planes = planes_of(meshdeck::state::planes::PlanesView::default());
    });
    let proxy = |id: &str, cds: &str| ProxySync {
        id: id.into(),
        cluster: String::new(),
        locality: String::new(),
        control_plane: "istiod-0".into(),
        types: std::collections::BTreeMap::from([(
            "CDS".to_string(),
            TypeSync {
                status: cds.into(),
                version: "v1".into(),
                error: None,
            },
        )]),
    };
    update(
        &mut s,
        Msg::Xds(XdsEvent::Syncz {
            server: "istiod".into(),
            proxies: vec![
                proxy("a-ok.ns", "SYNCED"),
                proxy("b-nack.ns", "ERROR"),
                proxy("c-stale.ns", "STALE"),
            ],
        }),
    );
    update(&mut s, Msg::Tick);
    typed(&mut s, "6");
    let order = |s: &meshdeck::state::State| -> Vec<String> {
        s.list()
            .unwrap()
            .rows
            .iter()
            .map(|r| match r {
                RowId::Proxy(n) => n.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    };
    let names = order(&s);
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names[0].starts_with("a-ok"), "by name first: {names:?}");
    typed(&mut s, "s");
    let names = order(&s);
    assert!(
        names[0].starts_with("b-nack") && names[1].starts_with("c-stale"),
        "CDS, worst first: {names:?}"
    );
    typed(&mut s, "S");
    assert!(order(&s)[0].starts_with("a-ok"), "{:?}", order(&s));
    typed(&mut s, "/stale\n");
    assert_eq!(order(&s).len(), 1);
}
