//! VM sidecars in the console (`--ssh`), without a network: which entries become proxies as
//! the screen moves, how many are kept, and the log pane — opened, followed, paused, filtered,
//! and stopped when left.

mod common;
use common::*;
use meshdeck::config::ssh::SshConfig;
use meshdeck::model::object::{Kind, ObjectKey};
use meshdeck::msg::logs::{LogEvent, LogRequest};
use meshdeck::msg::{Cmd, Msg};
use meshdeck::state::planes::{PlanesView, VmReach};
use meshdeck::state::{Level, Screen, State};
use meshdeck::update::update;

fn with_ssh(max: usize) -> State {
    example_with(|c| {
        c.planes = planes_of(PlanesView {
            vms: Some(VmReach::new(SshConfig::default(), max)),
            ..Default::default()
        })
    })
}

fn vm_proxies(s: &State) -> Vec<(String, String)> {
    s.planes
        .proxies
        .values()
        .map(|p| (p.name.clone(), p.admin.clone()))
        .collect()
}

#[test]
fn the_entries_on_screen_become_proxies_reached_over_ssh() {
    let mut s = with_ssh(8);
    assert!(
        vm_proxies(&s).is_empty(),
        "nothing is followed on the services list"
    );
    typed(&mut s, "2");
    // Named as istiod names a VM's proxy; reached at the entry's address (data only: no
    // connection is made by update).
    let want = [
        ("payments-vm-1.shop", "ssh://10.10.1.11/127.0.0.1:15000"),
        ("payments-vm-2.shop", "ssh://10.10.1.12/127.0.0.1:15000"),
        ("payments-vm-3.shop", "ssh://10.20.1.13/127.0.0.1:15000"),
        (
            "ratings-10.10.2.21.shop",
            "ssh://10.10.2.21/127.0.0.1:15000",
        ),
        (
            "ratings-10.10.2.22.shop",
            "ssh://10.10.2.22/127.0.0.1:15000",
        ),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(n, a)| (n.to_string(), a.to_string()))
        .collect();
    assert_eq!(vm_proxies(&s), want);
    assert!(
        screen(&s, 160, 48).contains("L log"),
        "the hint line offers the log"
    );
}

#[test]
fn at_most_max_sidecars_are_kept_the_selection_first() {
    let mut s = with_ssh(2);
    typed(&mut s, "2");
    let first = vm_proxies(&s);
    assert_eq!(first.len(), 2, "{first:?}");
    let selected =
        meshdeck::update::vms::proxy_name(&match s.list().and_then(|l| l.selected_row()) {
            Some(meshdeck::state::RowId::Object(k)) => k.clone(),
            other => panic!("{other:?}"),
        });
    assert!(
        first.iter().any(|(n, _)| *n == selected),
        "{selected} in {first:?}"
    );
    typed(&mut s, "G");
    let last = vm_proxies(&s);
    assert_eq!(last.len(), 2);
    let selected = match s.list().and_then(|l| l.selected_row()) {
        Some(meshdeck::state::RowId::Object(k)) => meshdeck::update::vms::proxy_name(k),
        other => panic!("{other:?}"),
    };
    assert!(
        last.iter().any(|(n, _)| *n == selected),
        "{selected} in {last:?}"
    );
}

#[test]
fn logs_without_ssh_say_how_to_get_them() {
    let mut s = example_state();
    let cmds = typed(&mut s, "2L");
    assert!(cmds.is_empty(), "{cmds:?}");
    let (level, text) = s.ui.status.clone().unwrap();
    assert_eq!(level, Level::Error);
    assert!(text.contains("--ssh"), "{text}");
}

fn lines(key: &ObjectKey, lines: &[&str]) -> Msg {
    Msg::Log(LogEvent::Lines {
        key: key.clone(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
    })
}

#[test]
fn a_log_is_followed_paused_filtered_and_stopped_when_left() {
    let mut s = with_ssh(8);
    let cmds = typed(&mut s, "2L");
    let Some(Cmd::Logs(Some(LogRequest {
        key,
        destination,
        command,
    }))) = cmds.last().cloned()
    else {
        panic!("{cmds:?}")
    };
    assert_eq!(key.kind, Kind::WorkloadEntry);
    assert!(
        !destination.is_empty() && !destination.contains('/'),
        "{destination}"
    );
    assert!(
        command.contains("tail -n 500 -F /var/log/istio/istio.log"),
        "{command}"
    );
    assert!(
        command.contains("journalctl --no-pager -u istio"),
        "{command}"
    );
    assert_eq!(s.screen(), &Screen::Logs(key.clone()));
    update(
        &mut s,
        lines(
            &key,
            &[
                "2026-12-02T10:00:00Z\tinfo\tads\tconnected",
                "2026-12-02T10:00:01Z\terror\tads\tpush failed",
                "2026-12-02T10:00:02Z\tinfo\tads\tretrying",
            ],
        ),
    );
    update(&mut s, Msg::Tick);
    let list = s.list().unwrap();
    assert_eq!(
        (list.rows.len(), list.selected),
        (3, 2),
        "following: at the newest"
    );
    let text = screen(&s, 80, 24);
    assert!(text.contains("3 lines · following"), "{text}");
    // Paused: new lines wait, the view does not move.
    typed(&mut s, "f");
    update(&mut s, lines(&key, &["late 1", "late 2"]));
    update(&mut s, Msg::Tick);
    assert_eq!(s.list().unwrap().rows.len(), 3);
    assert!(screen(&s, 80, 24).contains("paused, 2 new"));
    typed(&mut s, "f");
    assert_eq!(s.list().unwrap().rows.len(), 5);
    typed(&mut s, "/error\n");
    assert_eq!(s.list().unwrap().rows.len(), 1);
    both_sizes("log", &s);
    update(
        &mut s,
        Msg::Log(LogEvent::Ended {
            key: key.clone(),
            error: Some("ssh to ops@vm: connection lost".into()),
        }),
    );
    update(&mut s, Msg::Tick);
    assert!(screen(&s, 160, 48).contains("stopped: ssh to ops@vm: connection lost"));
    // Leaving the screen stops the reader.
    let cmds = typed(&mut s, "\x1b\x1b");
    assert!(cmds.contains(&Cmd::Logs(None)), "{cmds:?}");
    assert!(s.logs.is_none());
}

fn both_sizes(name: &str, state: &State) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(state, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), screen(state, 160, 48));
}
