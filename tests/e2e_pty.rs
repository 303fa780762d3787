//! End to end: the real binary in a pseudo-terminal on a manifest directory. Filter, edit a
//! weight, confirm, check the file changed only at that scalar, undo, quit, and check the
//! terminal was restored.

mod common;
use common::pty::Pty;
use common::*;

fn console_on(root: &std::path::Path, extra: &[&str]) -> Pty {
    let log = root.join("meshdeck.log");
    let mut args = vec![
        "--manifests",
        root.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Pty::start(&args)
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// What the console wrote last, once it has exited.
fn last_output(pty: &Pty) -> String {
    let raw = pty.all_output();
    String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..]).to_string()
}

#[test]
fn filter_edit_confirm_undo_quit() {
    let (_dir, root) = example_copy();
    let path = root.join("payments.yaml");
    let original = read(&path);
    let mut pty = console_on(&root, &[]);
    pty.wait_for("ServiceEntries");
    pty.keys("2");
    pty.wait_for("WorkloadEntries [5]");
    pty.keys("/vm-2");
    pty.send("\r");
    pty.wait_for("WorkloadEntries [1/5]");
    assert!(pty.contents().contains("payments-vm-2"));
    pty.keys("e");
    pty.wait_for("edit we shop/payments-vm-2");
    pty.send("\x7f");
    pty.send("\x7f");
    pty.keys("35");
    pty.wait_for("weight    35");
    pty.send("\r");
    pty.wait_for("apply these changes?");
    pty.send("\r");
    pty.wait_for("applied: we shop/payments-vm-2 weight 20 → 35");
    assert_eq!(
        read(&path),
        original.replacen("  weight: 20\n", "  weight: 35\n", 1),
        "only the scalar changed"
    );
    // The table row itself shows the new weight (the status line already did).
    pty.wait_until("the row of payments-vm-2 shows weight 35", |screen| {
        screen
            .lines()
            .filter(|l| l.contains("payments-vm-2") && !l.contains('→'))
            .any(|l| l.split_whitespace().any(|c| c == "35"))
    });
    pty.keys("u");
    pty.wait_for("undone: we shop/payments-vm-2 weight 35 → 20");
    // c puts the selection on the clipboard with OSC 52, which works through SSH and tmux.
    pty.keys("c");
    pty.wait_for("copied shop/payments-vm-2");
    let osc52 = format!("\x1b]52;c;{}\x07", base64_of("shop/payments-vm-2"));
    assert!(
        String::from_utf8_lossy(&pty.raw.lock().unwrap()).contains(&osc52),
        "no OSC 52 for the selection"
    );
    assert_eq!(read(&path), original);
    pty.keys("q");
    let status = pty.wait_exit();
    assert!(status.success(), "{status:?}");
    let tail = last_output(&pty);
    assert!(
        tail.contains("\x1b[?1049l"),
        "left the alternate screen: {tail:?}"
    );
    assert!(tail.contains("\x1b[?25h"), "cursor shown again: {tail:?}");
}

#[test]
fn a_broken_manifest_is_reported_and_the_rest_loads() {
    let (_dir, root) = example_copy();
    std::fs::write(root.join("broken.yaml"), "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: x\nspec:\n  weight: [\n").unwrap();
    let mut pty = console_on(&root, &["--readonly"]);
    pty.wait_for("broken.yaml:");
    pty.wait_for("ServiceEntries [4]");
    assert!(pty.contents().contains("READ-ONLY"));
    pty.keys("2e");
    pty.wait_for("read-only");
    pty.send("\x03");
    pty.wait_exit();
}

#[test]
fn sigterm_restores_the_terminal() {
    let (_dir, root) = example_copy();
    let mut pty = console_on(&root, &[]);
    pty.wait_for("ServiceEntries");
    let pid = pty.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    pty.wait_exit();
    let tail = last_output(&pty);
    assert!(
        tail.contains("\x1b[?1049l"),
        "left the alternate screen: {tail:?}"
    );
}

/// tmux with `set-clipboard on` takes meshdeck's OSC 52 copy into its paste buffer, as it
/// does for a console run in tmux on a jump host.
#[test]
fn tmux_receives_the_copy() {
    let (dir, root) = example_copy();
    let socket = dir.path().join("tmux.sock");
    let conf = dir.path().join("tmux.conf");
    std::fs::write(&conf, "set -g set-clipboard on\n").unwrap();
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .arg("-f")
            .arg(&conf)
            .args(args)
            .output()
            .expect("tmux (scripts/setup-debian.sh installs it)")
    };
    let console = format!(
        "NO_COLOR=1 XDG_CONFIG_HOME={} {} -m {}",
        dir.path().display(),
        env!("CARGO_BIN_EXE_meshdeck"),
        root.display()
    );
    let started = tmux(&["new-session", "-d", "-x", "120", "-y", "40", &console]);
    assert!(started.status.success(), "{started:?}");
    let pane = || String::from_utf8_lossy(&tmux(&["capture-pane", "-p"]).stdout).into_owned();
    common::wait::until_blocking(
        "the console is up in tmux",
        std::time::Duration::from_secs(15),
        pane,
        |s| s.contains("ServiceEntries"),
    );
    tmux(&["send-keys", "2"]);
    common::wait::until_blocking(
        "the entries list",
        std::time::Duration::from_secs(15),
        pane,
        |s| s.contains("WorkloadEntries") && s.contains("payments-vm-1"),
    );
    tmux(&["send-keys", "c"]);
    let buffer = || String::from_utf8_lossy(&tmux(&["show-buffer"]).stdout).into_owned();
    let got = common::wait::until_blocking(
        "tmux's buffer holds the copy",
        std::time::Duration::from_secs(15),
        buffer,
        |b| b.starts_with("shop/"),
    );
    assert_eq!(got, "shop/payments-vm-1");
    tmux(&["kill-server"]);
}

/// `--record` on manifest files, then `meshdeck replay`: the recording holds the registry as
/// the console first loaded it (not only what changed after), and the edit made by hand.
#[test]
fn a_recording_of_files_replays_from_their_first_load() {
    let (dir, root) = common::example_copy();
    let record = dir.path().join("rec").join("flight.jsonl");
    let mut pty = console_on(&root, &["--record", record.to_str().unwrap()]);
    pty.wait_for("ServiceEntries [");
    let payments = root.join("payments.yaml");
    let text = common::read(&payments).replace("weight: 20", "weight: 35");
    std::fs::write(&payments, text).unwrap();
    pty.keys("8");
    pty.wait_for("20 → 35");
    pty.keys("q");
    assert!(pty.wait_exit().success());
    let mut replay = Pty::start(&[
        "replay",
        record.to_str().unwrap(),
        "--at",
        "start",
        "--log-file",
        dir.path().join("replay.log").to_str().unwrap(),
    ]);
    replay.wait_for("REPLAY");
    replay.keys("2");
    replay.wait_for("WorkloadEntries [5]");
    replay.wait_for(" 20 ");
    assert!(!replay.contents().contains(" 35 "), "{}", replay.contents());
    replay.keys("]");
    replay.wait_for(" 35 ");
    replay.keys("q");
    assert!(replay.wait_exit().success());
}
