//! `meshdeck bench --terminal`: bytes the console writes per second in steady live mode. It
//! runs `meshdeck demo` in a pseudo-terminal of 120x40, opens the busiest screen (the test
//! service's endpoints with all three planes, two Envoys under load), waits for it to settle
//! and counts what the console writes for a while. SSH users pay for every byte.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const COLS: u16 = 120;
const ROWS: u16 = 40;

fn open_pty() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut master = -1;
    let mut slave = -1;
    let size = libc::winsize {
        ws_row: ROWS,
        ws_col: COLS,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the given ints; the size is read only.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just opened by openpty and are owned here alone.
    Ok(unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) })
}

pub fn run(seconds: u64, out: &mut dyn Write) -> anyhow::Result<i32> {
    let (master, slave) = open_pty()?;
    let exe = std::env::current_exe()?;
    let log = std::env::temp_dir().join(format!(
        "meshdeck-bench-terminal-{}.log",
        std::process::id()
    ));
    let mut cmd = Command::new(exe);
    cmd.args(["demo", "--log-file"])
        .arg(&log)
        .env("TERM", "xterm-256color")
        .stdin(Stdio::from(slave.try_clone()?))
        .stdout(Stdio::from(slave.try_clone()?))
        .stderr(Stdio::from(slave));
    // SAFETY: setsid and TIOCSCTTY are async-signal-safe; they make the pty the child's
    // controlling terminal, as a login shell's would be.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let mut reader = File::from(master.try_clone()?);
    let mut writer = File::from(master);
    let bytes = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
    let (b, s) = (bytes.clone(), seen.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            b.fetch_add(n as u64, Ordering::Relaxed);
            if let Ok(mut s) = s.lock() {
                s.extend_from_slice(&buf[..n]);
                let len = s.len();
                if len > 1 << 20 {
                    s.drain(..len - (1 << 16));
                }
            }
        }
    });
    let wait_for = |text: &str, within: Duration| -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if seen
                .lock()
                .is_ok_and(|s| String::from_utf8_lossy(&s).contains(text))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    let result = (|| -> anyhow::Result<(u64, f64)> {
        if !wait_for("test.demo.internal", Duration::from_secs(60)) {
            anyhow::bail!("the demo did not come up in 60 s (needs Envoy: scripts/setup-envoy.sh)");
        }
        for k in ["j", "j", "j", "\r"] {
            writer.write_all(k.as_bytes())?;
            std::thread::sleep(Duration::from_millis(100));
        }
        if !wait_for("the three planes agree", Duration::from_secs(30)) {
            anyhow::bail!("the Endpoints screen never showed the three planes");
        }
        // Let the rates settle (their window is five seconds).
        std::thread::sleep(Duration::from_secs(6));
        let start = bytes.load(Ordering::Relaxed);
        let t = Instant::now();
        std::thread::sleep(Duration::from_secs(seconds));
        Ok((
            bytes.load(Ordering::Relaxed) - start,
            t.elapsed().as_secs_f64(),
        ))
    })();
    let _ = writer.write_all(b"q");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait()?.is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = std::fs::remove_file(&log);
    let (n, secs) = result?;
    writeln!(
        out,
        "terminal at {COLS}x{ROWS}, demo Endpoints screen live (2 Envoys, 60 req/s): {n} bytes in {secs:.1} s = {:.0} B/s",
        n as f64 / secs
    )?;
    Ok(0)
}
