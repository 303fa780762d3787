//! One HTTP/1.1 GET to an address on a VM, over the byte stream of `ssh -W ADDR HOST` (which
//! the master connection multiplexes): Envoy's admin API stays on the VM's loopback.

use super::destination::Route;
use super::failure;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::io::AsyncReadExt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl super::Pool {
    /// GETs `path` from `route.to` on `route.via`, within the connect timeout plus `answer_within`.
    pub async fn get(
        &self,
        route: &Route,
        path: &str,
        answer_within: Duration,
    ) -> Result<Answer, String> {
        let pool = self;
        let mut slot = Some(pool.slot(&route.via).await);
        let mut cmd = pool
            .command(&route.via)
            .map_err(|e| format!("ssh control directory: {e}"))?;
        cmd.stdin(std::process::Stdio::piped())
            .arg("-W")
            .arg(&route.to)
            .arg("--")
            .arg(&route.via.host);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", pool.settings().program.display()))?;
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err("ssh started without its pipes".into());
        };
        let errors = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let exchange = async {
            let io = TokioIo::new(tokio::io::join(stdout, stdin));
            let (mut send, conn) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io)
                .await
                .map_err(|e| e.to_string())?;
            let conn = tokio::spawn(conn);
            let req = hyper::Request::get(path)
                .header(hyper::header::HOST, route.to.as_str())
                .body(Empty::new())
                .map_err(|e| e.to_string())?;
            let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let body = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            conn.abort();
            Ok::<_, String>(Answer { status, body })
        };
        let limit = pool.settings().connect_timeout + answer_within;
        let result = tokio::time::timeout(limit, exchange).await;
        // The stream is done with either way; a master it opened stays (ControlPersist).
        let _ = child.start_kill();
        let status = child.wait().await.ok().and_then(|s| s.code());
        slot.take();
        match result {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(http_error)) => {
                let stderr = errors.await.unwrap_or_default();
                if stderr.trim().is_empty() {
                    Err(format!("admin {route}: {http_error}"))
                } else {
                    Err(failure::describe(
                        &route.via,
                        Some(&route.to),
                        &stderr,
                        status,
                    ))
                }
            }
            Err(_) => {
                errors.abort();
                Err(format!(
                    "timed out after {} s reaching {} on {}",
                    limit.as_secs(),
                    route.to,
                    route.via
                ))
            }
        }
    }
}
