//! Drain and restore from the console, through `update` and the file source: what the
//! confirmation says, what is sent, what the file holds after each step, and the refusals.

mod common;
use common::*;
use meshdeck::io::manifests::load::load_file;
use meshdeck::io::source::files::FileSource;
use meshdeck::io::source::{Change, FieldEdit, Source};
use meshdeck::model::health::{Health, of_workload_entry};
use meshdeck::model::object::{Kind, Object, ObjectKey};
use meshdeck::msg::{Cmd, Msg};
use meshdeck::state::{Level, State};
use meshdeck::update::update;

fn on(root: &std::path::Path) -> State {
    let mut config = meshdeck::state::Config::new(
        "files: test",
        false,
        meshdeck::config::keymap::Keymap::load(None, None).0,
    );
    config.who = meshdeck::state::setup::Who::named("alice");
    state_configured(&[root.to_path_buf()], config)
}

fn sent(cmds: &[Cmd]) -> (u64, Vec<FieldEdit>) {
    match cmds {
        [Cmd::Apply { id, edits }] => (*id, edits.clone()),
        other => panic!("expected one Apply, got {other:?}"),
    }
}

/// Applies what the console sent to the files, answers it and reloads them, as the source
/// task and the watcher do.
async fn carry_out(s: &mut State, root: &std::path::Path, cmds: &[Cmd]) {
    let (id, edits) = sent(cmds);
    let mut src = FileSource::new(vec![root.to_path_buf()], false);
    let result = src.apply(edits).await;
    assert!(result.is_ok(), "{result:?}");
    update(s, Msg::Applied { id, result });
    let files = std::fs::read_dir(root)
        .unwrap()
        .map(|e| load_file(&e.unwrap().path()))
        .collect();
    update(s, Msg::FilesLoaded(files));
    update(s, Msg::Tick);
}

fn health(s: &State, name: &str) -> Health {
    let key = ObjectKey::new(Kind::WorkloadEntry, "shop", name);
    match &s.registry.store.get(&key).unwrap().object {
        Object::WorkloadEntry(we) => of_workload_entry(we),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn d_drains_after_a_yes_and_r_puts_the_file_back_byte_for_byte() {
    let (_dir, root) = example_copy();
    let file = root.join("payments.yaml");
    let original = read(&file);
    let mut s = on(&root);
    typed(&mut s, "2/payments-vm-1\n");
    assert!(
        typed(&mut s, "d").is_empty(),
        "nothing is sent before the yes"
    );
    let c = s.edits.confirm.as_ref().expect("a confirmation");
    assert_eq!(c.lines.len(), 1);
    assert!(
        c.lines[0].contains("shop/payments-vm-1: out of EDS"),
        "{:?}",
        c.lines
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let cmds = typed(&mut s, "y");
    let (_, edits) = sent(&cmds);
    let Change::Drain { record } = &edits[0].change else {
        panic!("{:?}", edits[0].change)
    };
    assert_eq!(record.by, "alice");
    carry_out(&mut s, &root, &cmds).await;
    assert_eq!(health(&s, "payments-vm-1"), Health::Unhealthy);
    let drained = read(&file);
    assert!(
        drained.contains("proxy.istio.io/health-checks-enabled: \"true\""),
        "{drained}"
    );
    assert!(drained.contains("meshdeck.io/drained:"), "{drained}");

    // A second drain is refused by what the file says.
    typed(&mut s, "d");
    assert!(s.edits.confirm.is_none());
    assert!(
        matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("already drained (by alice")),
        "{:?}",
        s.ui.status
    );

    typed(&mut s, "r");
    let c = s.edits.confirm.as_ref().expect("a confirmation");
    assert!(
        c.lines[0].contains("back in EDS (health checks off again"),
        "{:?}",
        c.lines
    );
    let cmds = typed(&mut s, "y");
    carry_out(&mut s, &root, &cmds).await;
    assert_eq!(health(&s, "payments-vm-1"), Health::Healthy);
    assert_eq!(read(&file), original);
}

#[tokio::test]
async fn undo_after_a_drain_restores() {
    let (_dir, root) = example_copy();
    let original = read(&root.join("payments.yaml"));
    let mut s = on(&root);
    typed(&mut s, "2/payments-vm-2\n");
    typed(&mut s, "d");
    let cmds = typed(&mut s, "\n");
    carry_out(&mut s, &root, &cmds).await;
    let cmds = typed(&mut s, "u");
    let (_, edits) = sent(&cmds);
    assert!(
        matches!(edits[0].change, Change::Restore { .. }),
        "{edits:?}"
    );
    carry_out(&mut s, &root, &cmds).await;
    assert_eq!(read(&root.join("payments.yaml")), original);
}

#[test]
fn a_probed_entry_and_the_last_healthy_one_are_warned_about() {
    let mut s = example_state();
    typed(&mut s, "2/ratings-10.10.2.21\n");
    typed(&mut s, "d");
    let c = s.edits.confirm.as_ref().expect("a confirmation");
    let all = c.warnings.join("\n");
    assert!(
        all.contains("VM agent's probes (WorkloadGroup ratings)"),
        "{all}"
    );
    assert!(
        all.contains("last healthy endpoint of se shop/ratings port 9080"),
        "{all}"
    );
    let screen80 = screen(&s, 80, 24);
    assert!(
        screen80.contains("drain we shop/ratings-10.10.2.21?"),
        "{screen80}"
    );
    insta::assert_snapshot!("drain_confirm_80x24", screen80);
    insta::assert_snapshot!("drain_confirm_160x48", screen(&s, 160, 48));
    assert!(typed(&mut s, "n").is_empty());
    assert!(s.edits.confirm.is_none());
    assert!(
        matches!(&s.ui.status, Some((Level::Info, m)) if m == "drain cancelled; nothing was written")
    );
}

#[test]
fn what_cannot_be_drained_says_why() {
    let mut s = example_state();
    // An inline endpoint: the legacy inventory service.
    typed(&mut s, "1/inventory\n\n");
    typed(&mut s, "d");
    assert!(s.edits.confirm.is_none());
    assert!(
        matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("an inline endpoint has no health")),
        "{:?}",
        s.ui.status
    );
    let mut s = example_state();
    typed(&mut s, "2r");
    assert!(
        matches!(&s.ui.status, Some((Level::Error, m)) if m.contains("is not drained by meshdeck")),
        "{:?}",
        s.ui.status
    );
    let mut s = state_on(&[std::path::PathBuf::from("examples/registry")], true);
    typed(&mut s, "2d");
    assert!(s.edits.confirm.is_none());
    assert!(
        matches!(&s.ui.status, Some((Level::Error, m)) if m.starts_with("read-only")),
        "{:?}",
        s.ui.status
    );
}

/// The console's own edit is told once, with its user (the reload that shows it is its echo);
/// a hand edit of the file is told with both values and no one to name.
#[tokio::test]
async fn the_timeline_tells_an_edit_once_with_its_user_and_a_hand_edit_with_both_values() {
    use meshdeck::model::timeline::{ChangeKind, Origin};
    let (_dir, root) = example_copy();
    let mut s = on(&root);
    typed(&mut s, "2/payments-vm-1\n");
    let cmds = typed(&mut s, "e\x08\x0850\n\n");
    carry_out(&mut s, &root, &cmds).await;
    let told: Vec<_> = s.timeline.changes.iter().collect();
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(told[0].kind, ChangeKind::Edit);
    assert_eq!(told[0].origin, Origin::Console);
    assert_eq!((told[0].old.text(), told[0].new.text()), ("70", "50"));
    assert_eq!(told[0].who_text(), "alice");

    let file = root.join("payments.yaml");
    let text = read(&file).replace("weight: 20", "weight: 25");
    std::fs::write(&file, text).unwrap();
    update(&mut s, Msg::FilesLoaded(vec![load_file(&file)]));
    let last = s.timeline.changes.iter().last().unwrap();
    assert_eq!(
        last.object,
        Some(ObjectKey::new(Kind::WorkloadEntry, "shop", "payments-vm-2"))
    );
    assert_eq!(
        (
            last.field.as_str(),
            last.old.text(),
            last.new.text(),
            last.who_text()
        ),
        ("spec.weight", "20", "25", "unknown")
    );
    assert_eq!(last.origin, Origin::Watched);
    // From the entry's YAML, 8 is that entry's timeline (the list's filter was vm-1's).
    typed(&mut s, "2/\x082\ny8");
    assert_eq!(s.list().unwrap().rows.len(), 1, "{}", screen(&s, 120, 24));
    assert!(screen(&s, 80, 24).contains("Timeline of shop/payments-vm-2"));
}

/// `t` on a change: the service just before it, beside now, what moved marked.
#[tokio::test]
async fn as_it_was_shows_the_service_before_the_change_beside_now() {
    let (_dir, root) = example_copy();
    let mut s = on(&root);
    let file = root.join("payments.yaml");
    let text = read(&file).replace("weight: 20", "weight: 25");
    std::fs::write(&file, text).unwrap();
    update(&mut s, Msg::FilesLoaded(vec![load_file(&file)]));
    typed(&mut s, "8t");
    let shown = screen(&s, 100, 24);
    assert!(shown.contains("shop/payments just before"), "{shown}");
    let vm2 = shown.lines().find(|l| l.contains("10.10.1.12")).unwrap();
    assert!(vm2.contains("20 → 25"), "{shown}");
    assert!(vm2.contains("20% → 24%"), "{shown}");
    let vm1 = shown.lines().find(|l| l.contains("10.10.1.11")).unwrap();
    assert!(vm1.contains(" 70 ") && vm1.contains("70% → 67%"), "{shown}");
    // enter on a row is that endpoint's entry.
    typed(&mut s, "j\n");
    assert!(
        screen(&s, 100, 24).contains("YAML WorkloadEntry shop/payments-vm-2"),
        "{}",
        screen(&s, 100, 24)
    );
}
