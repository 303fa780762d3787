//! A running Envoy: started with its bootstrap, killed when dropped.

use super::bootstrap::{ProxySpec, bootstrap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::{Child, Command};

pub struct EnvoyProcess {
    pub spec: ProxySpec,
    pub child: Child,
    pub log: PathBuf,
}

impl EnvoyProcess {
    /// Starts `binary` with a bootstrap written under `dir`; its log goes to `dir/ID.log`.
    pub fn start(binary: &Path, spec: ProxySpec, dir: &Path) -> std::io::Result<EnvoyProcess> {
        let config = dir.join(format!("{}.bootstrap.json", spec.id));
        std::fs::write(&config, serde_json::to_vec_pretty(&bootstrap(&spec))?)?;
        let log = dir.join(format!("{}.log", spec.id));
        let log_file = std::fs::File::create(&log)?;
        let mut cmd = Command::new(binary);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL this child when
        // meshdeck dies, so that no Envoy outlives a crashed or killed console.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd
            .arg("-c")
            .arg(&config)
            .args([
                "--disable-hot-restart",
                "--concurrency",
                "1",
                "--log-level",
                "warn",
            ])
            .arg("--log-path")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()?;
        Ok(EnvoyProcess { spec, child, log })
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.spec.admin)
    }

    /// Whether it is still running (it may have died on a bad config or been killed).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}
