//! A real Prometheus on loopback (the distribution's binary: `scripts/setup-debian.sh`),
//! started with a generated config that scrapes Envoys' `/stats/prometheus` once a second,
//! each target labelled `pod` with the proxy's name as Istio's scrape config labels sidecars.
//! It binds port 0 and the port is read back from its log. Killed when dropped and when
//! meshdeck dies; its data lives in a temporary directory that goes with it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// One scrape target: the proxy it is, and the `HOST:PORT` serving `/stats/prometheus`.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub proxy: String,
    pub address: String,
}

impl Scrape {
    /// A target whose series name their own proxies (`pod` in the exposition: a fleet's
    /// exporter), read at `/metrics`.
    pub fn many(address: impl Into<String>) -> Scrape {
        Scrape {
            proxy: String::new(),
            address: address.into(),
        }
    }
}

pub struct Prometheus {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _child: Child,
    _dir: tempfile::TempDir,
}

/// How long Prometheus may take to say where it listens.
const LISTENING_WITHIN: Duration = Duration::from_secs(30);

/// The binary: `MESHDECK_PROMETHEUS`, else `prometheus` on the PATH.
pub fn binary() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("MESHDECK_PROMETHEUS") {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("prometheus"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "prometheus is not installed: scripts/setup-debian.sh installs the distribution's package (or set MESHDECK_PROMETHEUS)".into()
        })
}

/// The scrape config: Envoys in one job, each with its `pod` label; targets that name their
/// own proxies in another, their labels kept.
pub fn config(targets: &[Scrape], every: Duration) -> String {
    let mut out = format!(
        "global:\n  scrape_interval: {0}ms\n  evaluation_interval: {0}ms\nscrape_configs:\n",
        every.as_millis()
    );
    let (one, many): (Vec<&Scrape>, Vec<&Scrape>) =
        targets.iter().partition(|t| !t.proxy.is_empty());
    if !one.is_empty() {
        out.push_str(
            "  - job_name: envoy\n    metrics_path: /stats/prometheus\n    static_configs:\n",
        );
        for t in one {
            out.push_str(&format!(
                "      - targets: ['{}']\n        labels: {{pod: '{}'}}\n",
                t.address.replace('\'', ""),
                t.proxy.replace('\'', "")
            ));
        }
    }
    if !many.is_empty() {
        out.push_str("  - job_name: fleet\n    honor_labels: true\n    metrics_path: /metrics\n    static_configs:\n");
        for t in many {
            out.push_str(&format!(
                "      - targets: ['{}']\n",
                t.address.replace('\'', "")
            ));
        }
    }
    out
}

impl Prometheus {
    pub async fn start(targets: &[Scrape], every: Duration) -> anyhow::Result<Prometheus> {
        let binary = binary().map_err(|e| anyhow::anyhow!(e))?;
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config(targets, every))?;
        let mut cmd = Command::new(&binary);
        // SAFETY: prctl is async-signal-safe; it asks the kernel to SIGKILL this child when
        // meshdeck dies, so no Prometheus outlives a crashed console or test.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .args([
                "--web.listen-address=127.0.0.1:0",
                "--storage.tsdb.retention.time=1h",
                "--log.level=info",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| anyhow::anyhow!("{}: {e}", binary.display()))?;
        let stderr = child.stderr.take().expect("piped");
        let mut lines = BufReader::new(stderr).lines();
        let deadline = Instant::now() + LISTENING_WITHIN;
        let mut seen = Vec::new();
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match tokio::time::timeout(left, lines.next_line()).await {
                Ok(Ok(Some(l))) => l,
                Ok(_) => anyhow::bail!("prometheus exited: {}", seen.join(" / ")),
                Err(_) => anyhow::bail!(
                    "prometheus did not say where it listens within {LISTENING_WITHIN:?}: {}",
                    seen.join(" / ")
                ),
            };
            if let Some(addr) = listening_on(&line) {
                break format!("http://{addr}");
            }
            seen.push(line);
            if seen.len() > 5 {
                seen.remove(0);
            }
        };
        // Its log goes on; nobody reads it, but a full pipe must not stop it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        // It listens before its storage is open (queries get 503 until then).
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            let ready =
                crate::io::http::get(&format!("{url}/-/ready"), Duration::from_secs(2)).await;
            if matches!(ready, Ok((200, _))) {
                break;
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "prometheus at {url} was not ready within {LISTENING_WITHIN:?}: {ready:?}"
                );
            }
        }
        Ok(Prometheus {
            url,
            _child: child,
            _dir: dir,
        })
    }
}

/// `… msg="Listening on" address=127.0.0.1:40123` → the address.
fn listening_on(line: &str) -> Option<&str> {
    if !line.contains("msg=\"Listening on\"") {
        return None;
    }
    let addr = line.split("address=").nth(1)?.split_whitespace().next()?;
    addr.rsplit_once(':')
        .is_some_and(|(_, port)| port != "0")
        .then_some(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_port_is_read_from_the_log() {
        let bound = r#"ts=2026-12-04T04:33:19.213Z caller=tls_config.go:232 level=info component=web msg="Listening on" address=127.0.0.1:32889"#;
        assert_eq!(listening_on(bound), Some("127.0.0.1:32889"));
        let asked = r#"ts=2026-12-04T04:33:19.209Z caller=web.go:503 level=info component=web msg="Start listening for connections" address=127.0.0.1:0"#;
        assert_eq!(listening_on(asked), None);
    }

    #[test]
    fn every_target_is_scraped_with_its_proxy_as_pod() {
        let c = config(
            &[Scrape {
                proxy: "proxy-east".into(),
                address: "127.0.0.1:15000".into(),
            }],
            Duration::from_secs(1),
        );
        assert!(c.contains("scrape_interval: 1000ms"), "{c}");
        assert!(c.contains("metrics_path: /stats/prometheus"), "{c}");
        assert!(
            c.contains("- targets: ['127.0.0.1:15000']\n        labels: {pod: 'proxy-east'}"),
            "{c}"
        );
    }
}
