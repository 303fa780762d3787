//! The flight recorder and the replay together: a console on manifest files records its start
//! and an edit of a file; the recording, written by the recorder and read back, opens as a
//! replay that shows both moments, and refuses to write.

mod common;
use common::*;
use meshdeck::config::keymap::Keymap;
use meshdeck::io::manifests::load::load_all;
use meshdeck::io::recorder::Recorder;
use meshdeck::msg::{Cmd, Msg};
use meshdeck::state::{Config, State};
use meshdeck::update::update;

fn recorded(cmds: Vec<Cmd>, into: &mut Recorder) {
    for c in cmds {
        if let Cmd::Record(lines) = c {
            into.write(&lines).unwrap();
        }
    }
}

#[test]
fn a_recorded_console_opens_again_at_each_moment() {
    let (_dir, root) = example_copy();
    let record = root.join("flight").join("timeline.jsonl");
    let mut recorder = Recorder::open(&record, meshdeck::io::recorder::MAX_BYTES).unwrap();
    let mut live = State::new(Config::new("files", false, Keymap::load(None, None).0));
    recorded(update(&mut live, Msg::Recording), &mut recorder);
    let (files, _) = load_all(std::slice::from_ref(&root));
    recorded(update(&mut live, Msg::FilesLoaded(files)), &mut recorder);
    let loaded_at = std::time::SystemTime::now();
    // Someone edits a file by hand; the watcher brings it back (the same message).
    let payments = root.join("payments.yaml");
    let text = read(&payments).replace("weight: 20", "weight: 60");
    std::fs::write(&payments, text).unwrap();
    let (files, _) = load_all(std::slice::from_ref(&root));
    // Apart from the first load by more than the recording's millisecond, as a person's is.
    while loaded_at.elapsed().unwrap_or_default() < std::time::Duration::from_millis(2) {
        std::thread::yield_now();
    }
    recorded(update(&mut live, Msg::FilesLoaded(files)), &mut recorder);
    drop(recorder);

    let loaded = meshdeck::io::replay::read(&record).unwrap();
    assert_eq!(loaded.unread, 0, "{:?}", loaded.problems);
    let mut replay = State::new(Config::new("replay", true, Keymap::load(None, None).0));
    update(&mut replay, Msg::Replay(Box::new(loaded)));
    meshdeck::update::init(&mut replay);
    typed(&mut replay, "2");
    let end = screen(&replay, 160, 48);
    assert!(
        end.contains("payments-vm-2") && end.contains(" 60 "),
        "{end}"
    );
    assert_eq!(
        replay.registry.store.len(),
        live.registry.store.len(),
        "the whole registry is in the recording"
    );
    // One moment back: the file before the edit; the Timeline has not seen the edit yet.
    typed(&mut replay, "[");
    let start = screen(&replay, 160, 48);
    assert!(!start.contains(" 60 "), "{start}");
    assert!(start.contains("(1/2)"), "{start}");
    typed(&mut replay, "8");
    assert!(!screen(&replay, 160, 48).contains("20 → 60"));
    typed(&mut replay, "]");
    let timeline = screen(&replay, 160, 48);
    assert!(timeline.contains("20 → 60"), "{timeline}");
    // Nothing is written from a replay.
    typed(&mut replay, "2e");
    let refused = screen(&replay, 160, 48);
    assert!(refused.contains("read-only: this is a replay"), "{refused}");
    // Outside a replay, the keys say what they are for.
    typed(&mut live, "[");
    assert!(screen(&live, 160, 48).contains("only in a replay"));
}
