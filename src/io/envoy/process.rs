//! A running Envoy: started with its bootstrap, killed when dropped.

use super::bootstrap::{ProxySpec, bootstrap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::{Child, Command};

pub struct EnvoyProcess {
    pub spec: ProxySpec,
    pub child: Child,
    pub log: PathBuf,
    /// Where Envoy writes the admin address it bound (`--admin-address-path`): with port 0 in
    /// the spec, the kernel picks a free port and nobody has to guess one.
    admin_path: PathBuf,
}

/// How long an Envoy may take to bind its admin or receive its listener.
const BIND_WITHIN: std::time::Duration = std::time::Duration::from_secs(20);

impl EnvoyProcess {
    /// Starts `binary` with a bootstrap written under `dir`; its log goes to `dir/ID.log`.
    pub fn start(binary: &Path, spec: ProxySpec, dir: &Path) -> std::io::Result<EnvoyProcess> {
        let config = dir.join(format!("{}.bootstrap.json", spec.id));
        std::fs::write(&config, serde_json::to_vec_pretty(&bootstrap(&spec))?)?;
        let log = dir.join(format!("{}.log", spec.id));
        let log_file = std::fs::File::create(&log)?;
        let admin_path = dir.join(format!("{}.admin", spec.id));
        let _ = std::fs::remove_file(&admin_path);
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
            .arg("--admin-address-path")
            .arg(&admin_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()?;
        Ok(EnvoyProcess {
            spec,
            child,
            log,
            admin_path,
        })
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.spec.admin)
    }

    fn died(&mut self) -> Option<std::io::Error> {
        (!self.is_running()).then(|| {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            std::io::Error::other(format!(
                "envoy {} exited: {}",
                self.spec.id,
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ))
        })
    }

    /// Asks `probe` every 20 ms until it answers, Envoy exits, or `BIND_WITHIN` passes.
    async fn wait_for<T, F: Future<Output = Option<T>>>(
        &mut self,
        what: &str,
        mut probe: impl FnMut() -> F,
    ) -> std::io::Result<T> {
        let deadline = tokio::time::Instant::now() + BIND_WITHIN;
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            tick.tick().await;
            if let Some(found) = probe().await {
                return Ok(found);
            }
            if let Some(e) = self.died() {
                return Err(e);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(std::io::Error::other(format!(
                    "envoy {} {what} in {BIND_WITHIN:?}",
                    self.spec.id
                )));
            }
        }
    }

    /// Waits until the admin API listens and returns its address (the one the kernel picked
    /// when the spec asked for port 0); `spec.admin` holds it afterwards.
    pub async fn admin_bound(&mut self) -> std::io::Result<std::net::SocketAddr> {
        let path = self.admin_path.clone();
        // Envoy writes the file once the admin listener is bound.
        let read = || {
            let text = std::fs::read_to_string(&path).ok();
            async move { text?.trim().parse().ok() }
        };
        let addr = self.wait_for("bound no admin address", read).await?;
        self.spec.admin = addr;
        Ok(addr)
    }

    /// Waits until the listener the control plane sent is bound and returns its address (the
    /// kernel's pick when the spec's `listen` has port 0); `spec.listen` holds it afterwards.
    pub async fn listener_bound(&mut self) -> std::io::Result<std::net::SocketAddr> {
        let admin = format!("http://{}", self.admin_bound().await?);
        let addr = self
            .wait_for("got no listener", || listener_address(&admin))
            .await?;
        self.spec.listen = addr;
        Ok(addr)
    }

    /// Whether it is still running (it may have died on a bad config or been killed).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// The address an Envoy's listener is bound to, as its admin API at `admin` says; None until
/// it has one.
pub async fn listener_address(admin: &str) -> Option<std::net::SocketAddr> {
    let body = super::admin::get(admin, "/listeners?format=json")
        .await
        .ok()?;
    bound_listener(&body)
}

/// The address of the first listener `/listeners?format=json` lists.
fn bound_listener(body: &[u8]) -> Option<std::net::SocketAddr> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let sock = &v["listener_statuses"][0]["local_address"]["socket_address"];
    let ip: std::net::IpAddr = sock["address"].as_str()?.parse().ok()?;
    let port = u16::try_from(sock["port_value"].as_u64()?).ok()?;
    Some(std::net::SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bound_listener_is_read_from_the_admin_listing() {
        let body = br#"{"listener_statuses":[{"name":"meshdeck_http","local_address":{"socket_address":{"address":"127.0.0.1","port_value":40123}}}]}"#;
        assert_eq!(
            super::bound_listener(body),
            Some("127.0.0.1:40123".parse().unwrap())
        );
        assert_eq!(super::bound_listener(br#"{"listener_statuses":[]}"#), None);
    }
}
