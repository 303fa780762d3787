//! End to end: the real binary in a pseudo-terminal on a manifest directory. Filter, edit a
//! weight, confirm, check the file changed only at that scalar, undo, quit, and check the
//! terminal was restored.

mod common;
use common::*;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Pty {
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
}

impl Pty {
    fn start(args: &[&str]) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_meshdeck"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        let child = pty.slave.spawn_command(cmd).expect("spawn");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(24, 80, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let _master = pty.master;
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            screen,
            raw,
            writer,
            child,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if self.contents().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(40));
        }
        panic!(
            "timed out waiting for {text:?}; screen:\n{}",
            self.contents()
        );
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // One key per read keeps crossterm's parser from seeing pasted bursts.
        std::thread::sleep(Duration::from_millis(60));
    }

    fn keys(&mut self, keys: &str) {
        for c in keys.chars() {
            self.send(&c.to_string());
        }
    }
}

#[test]
fn filter_edit_confirm_undo_quit() {
    let (_dir, root) = example_copy();
    let path = root.join("payments.yaml");
    let original = read(&path);
    let log = root.join("meshdeck.log");
    let mut pty = Pty::start(&[
        "--manifests",
        root.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
    ]);
    pty.wait_for("ServiceEntries");
    pty.keys("2");
    pty.wait_for("WorkloadEntries [5]");
    pty.keys("/vm-2");
    pty.send("\r");
    pty.wait_for("WorkloadEntries [2/5]");
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
    pty.wait_for("35");
    pty.keys("u");
    pty.wait_for("undone: we shop/payments-vm-2 weight 35 → 20");
    assert_eq!(read(&path), original);
    pty.keys("q");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = pty.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "meshdeck did not exit on q");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    std::thread::sleep(Duration::from_millis(200));
    let raw = pty.raw.lock().unwrap().clone();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..]).to_string();
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
    let log = root.join("meshdeck.log");
    let mut pty = Pty::start(&[
        "--manifests",
        root.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
        "--readonly",
    ]);
    pty.wait_for("broken.yaml:");
    pty.wait_for("ServiceEntries [4]");
    assert!(pty.contents().contains("READ-ONLY"));
    pty.keys("2e");
    pty.wait_for("read-only");
    pty.send("\x03");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pty.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "ctrl-c did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigterm_restores_the_terminal() {
    let (_dir, root) = example_copy();
    let log = root.join("meshdeck.log");
    let mut pty = Pty::start(&[
        "--manifests",
        root.to_str().unwrap(),
        "--log-file",
        log.to_str().unwrap(),
    ]);
    pty.wait_for("ServiceEntries");
    let pid = pty.child.process_id().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while pty.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "SIGTERM did not stop meshdeck");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    let raw = pty.raw.lock().unwrap().clone();
    let tail = String::from_utf8_lossy(&raw[raw.len().saturating_sub(200)..]).to_string();
    assert!(
        tail.contains("\x1b[?1049l"),
        "left the alternate screen: {tail:?}"
    );
}
