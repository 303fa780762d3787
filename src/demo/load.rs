//! Requests through a proxy: one at a time (for tests) or a bounded steady rate (the demo).

use super::vm::VM_HEADER;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Clone)]
pub struct Caller {
    client: Client<HttpConnector, Empty<Bytes>>,
}

impl Default for Caller {
    fn default() -> Self {
        Caller {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

/// The answer to one request: status and the VM that served it (if it said).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub vm: Option<String>,
}

impl Caller {
    pub async fn call(&self, proxy: SocketAddr, host: &str, path: &str) -> Result<Answer, String> {
        let req = hyper::Request::get(format!("http://{proxy}{path}"))
            .header("host", host)
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(Duration::from_secs(5), self.client.request(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let vm = resp
            .headers()
            .get(VM_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        let _ = resp.into_body().collect().await;
        Ok(Answer { status, vm })
    }

    /// `n` sequential requests; how many each VM served, and how many failed (key "error").
    pub async fn split(&self, proxy: SocketAddr, host: &str, n: usize) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for _ in 0..n {
            let key = match self.call(proxy, host, "/").await {
                Ok(Answer {
                    status: 200,
                    vm: Some(vm),
                }) => vm,
                Ok(a) => format!("status {}", a.status),
                Err(_) => "error".to_string(),
            };
            *counts.entry(key).or_insert(0) += 1;
        }
        counts
    }
}
