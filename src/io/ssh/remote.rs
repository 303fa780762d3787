//! A command run on a VM (reading its sidecar's log), its output read line by line as it comes.

use super::destination::Destination;
use super::failure;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

pub struct RemoteLines {
    dest: Destination,
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Option<tokio::task::JoinHandle<String>>,
    /// Held until the first line (or the end): by then a master to the host is up.
    slot: Option<super::Slot>,
}

impl super::Pool {
    /// Starts `command` on `dest` (the remote shell runs it, as `ssh HOST COMMAND` does).
    pub async fn lines(&self, dest: &Destination, command: &str) -> Result<RemoteLines, String> {
        let pool = self;
        let slot = pool.slot(dest).await;
        let mut cmd = pool
            .command(dest)
            .map_err(|e| format!("ssh control directory: {e}"))?;
        // -T: no terminal on the VM, so that nothing there waits for input.
        cmd.arg("-T").arg("--").arg(&dest.host).arg(command);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", pool.settings().program.display()))?;
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err("ssh started without its pipes".into());
        };
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        Ok(RemoteLines {
            dest: dest.clone(),
            child,
            lines: BufReader::new(stdout).lines(),
            stderr: Some(stderr),
            slot: Some(slot),
        })
    }
}

impl RemoteLines {
    /// The next line; `Ok(None)` when the command ended well, `Err` with the reason otherwise.
    pub async fn next(&mut self) -> Result<Option<String>, String> {
        let line = self.lines.next_line().await;
        self.slot = None;
        match line {
            Ok(Some(l)) => Ok(Some(l)),
            Ok(None) | Err(_) => {
                let status = self.child.wait().await.ok();
                // Awaited in place, so that a caller's timeout cannot lose what ssh said.
                let stderr = match self.stderr.as_mut() {
                    Some(h) => h.await.unwrap_or_default(),
                    None => String::new(),
                };
                self.stderr = None;
                match status.and_then(|s| s.code()) {
                    Some(0) => Ok(None),
                    code => Err(failure::describe(&self.dest, None, &stderr, code)),
                }
            }
        }
    }
}
