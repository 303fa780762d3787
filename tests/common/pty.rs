//! The real binary in a pseudo-terminal: send keys, read the screen as a person sees it.
#![allow(dead_code)]

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Pty {
    pub screen: Arc<Mutex<vt100::Parser>>,
    pub raw: Arc<Mutex<Vec<u8>>>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    /// Set when the terminal has nothing more to read: the program and its children are gone.
    closed: Arc<std::sync::atomic::AtomicBool>,
}

impl Pty {
    pub fn start(args: &[&str]) -> Pty {
        Self::start_env(args, &[])
    }

    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Pty {
        Self::start_sized(args, env, 24, 80)
    }

    /// As `start_env`, on a terminal of `rows` by `cols`.
    pub fn start_sized(args: &[&str], env: &[(&str, &str)], rows: u16, cols: u16) -> Pty {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("pty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_meshdeck"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).expect("spawn");
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().expect("reader");
        let writer = pty.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (screen.clone(), raw.clone());
        let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let done = closed.clone();
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
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Pty {
            screen,
            raw,
            writer,
            child,
            closed,
        }
    }

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    pub fn wait_for(&self, text: &str) {
        self.wait_for_within(text, Duration::from_secs(15));
    }

    /// Waits until the screen satisfies `ok` (at most 15 s); `what` names it in the failure.
    pub fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) {
        self.wait_until_within(what, Duration::from_secs(15), ok);
    }

    pub fn wait_until_within(&self, what: &str, within: Duration, ok: impl Fn(&str) -> bool) {
        let screen = || self.contents();
        super::wait::until_blocking(what, within, screen, |s| ok(s));
    }

    pub fn wait_for_within(&self, text: &str, within: Duration) {
        let what = format!("{text:?} is on screen");
        let screen = || self.contents();
        super::wait::until_blocking(&what, within, screen, |s| s.contains(text));
    }

    pub fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // One key per read keeps crossterm's parser from seeing pasted bursts.
        std::thread::sleep(Duration::from_millis(60));
    }

    pub fn keys(&mut self, keys: &str) {
        for c in keys.chars() {
            self.send(&c.to_string());
        }
    }
}

impl Pty {
    /// Everything the program wrote, once it has all been read (the program has exited).
    pub fn all_output(&self) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.closed.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the terminal never closed");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.raw.lock().unwrap().clone()
    }

    /// Waits for the process to end, at most 10 s.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "meshdeck did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
