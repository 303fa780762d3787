//! Envoy's admin API over plain HTTP/1.1: on loopback, or on a VM's loopback through ssh
//! (`ssh://[USER@]HOST[:PORT]/ADMIN`).

use crate::model::planes::stats::{Readings, filter_for};
use bytes::Bytes;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("admin {0}: {1}")]
    Http(String, String),
    #[error("admin {0}: answered {1}")]
    Status(String, u16),
    #[error("admin {0}: {1}")]
    Parse(String, String),
    #[error("{0}")]
    Ssh(String),
}

/// How long Envoy's admin may take to answer once reached.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

pub async fn get(base: &str, path: &str) -> Result<Bytes, AdminError> {
    if base.starts_with(crate::io::ssh::destination::SCHEME) {
        return over_ssh(base, path).await;
    }
    let url = format!("{base}{path}");
    let (status, body) = crate::io::http::get(&url, ANSWER_WITHIN)
        .await
        .map_err(|e| AdminError::Http(url.clone(), e))?;
    if status != 200 {
        return Err(AdminError::Status(url, status));
    }
    Ok(body)
}

async fn over_ssh(base: &str, path: &str) -> Result<Bytes, AdminError> {
    let route = crate::io::ssh::Route::parse(base).map_err(|e| AdminError::Http(base.into(), e))?;
    // The reason alone: it already names the host, and the Proxies screen names the proxy.
    let answer = crate::io::ssh::pool()
        .get(&route, path, ANSWER_WITHIN)
        .await
        .map_err(AdminError::Ssh)?;
    if answer.status != 200 {
        return Err(AdminError::Status(format!("{base}{path}"), answer.status));
    }
    Ok(answer.body)
}

/// A query parameter value, percent-encoded (stat filters are regular expressions).
pub fn query_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len() * 2);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/stats?format=json&usedonly&filter=…` for the cluster stats charts read.
pub async fn cluster_stats(base: &str, clusters: &[String]) -> Result<Readings, AdminError> {
    let filter = query_value(&filter_for(clusters.iter().map(String::as_str)));
    let body = get(
        base,
        &format!("/stats?format=json&usedonly&filter={filter}"),
    )
    .await?;
    let stats = super::stats::parse(&body)
        .map_err(|e| AdminError::Parse(format!("{base}/stats"), e.to_string()))?;
    Ok(stats.readings())
}

/// The same stats as Prometheus text from `base` (admin, 15090 or 15020): `/stats/prometheus`.
pub async fn prometheus_stats(base: &str, clusters: &[String]) -> Result<Readings, AdminError> {
    let filter = query_value(&filter_for(clusters.iter().map(String::as_str)));
    let body = get(base, &format!("/stats/prometheus?usedonly&filter={filter}")).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|e| AdminError::Parse(format!("{base}/stats/prometheus"), e.to_string()))?;
    Ok(super::prometheus::readings(
        text,
        clusters.iter().map(String::as_str),
    ))
}

/// `/clusters?format=json`, as much of it as meshdeck reads.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct Clusters {
    #[serde(default)]
    pub cluster_statuses: Vec<ClusterStatus>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct ClusterStatus {
    pub name: String,
    #[serde(default)]
    pub host_statuses: Vec<HostStatus>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct HostStatus {
    #[serde(default)]
    pub address: Option<serde_json::Value>,
    #[serde(default)]
    pub weight: Option<u32>,
    #[serde(default)]
    pub priority: Option<u32>,
    #[serde(default)]
    pub locality: Option<serde_json::Value>,
    #[serde(default)]
    pub health_status: serde_json::Value,
    #[serde(default)]
    pub stats: Vec<serde_json::Value>,
}

impl HostStatus {
    pub fn socket(&self) -> Option<(String, u32)> {
        let sa = self.address.as_ref()?.get("socket_address")?;
        Some((
            sa.get("address")?.as_str()?.to_string(),
            sa.get("port_value")?.as_u64()? as u32,
        ))
    }

    /// Envoy's per-host health flags that are set (`failed_active_health_check`, ...), and the
    /// EDS health status when it is not HEALTHY.
    pub fn flags(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(obj) = self.health_status.as_object() {
            for (k, v) in obj {
                match v {
                    serde_json::Value::Bool(true) => out.push(k.clone()),
                    serde_json::Value::String(s) if k == "eds_health_status" && s != "HEALTHY" => {
                        out.push(format!("eds:{s}"))
                    }
                    _ => {}
                }
            }
        }
        out
    }

    pub fn counter(&self, name: &str) -> Option<u64> {
        self.stats
            .iter()
            .find(|s| s.get("name").and_then(|n| n.as_str()) == Some(name))
            .and_then(|s| s.get("value"))
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()))
    }
}

pub async fn clusters(base: &str) -> Result<Clusters, AdminError> {
    let body = get(base, "/clusters?format=json").await?;
    serde_json::from_slice(&body)
        .map_err(|e| AdminError::Parse(format!("{base}/clusters"), e.to_string()))
}
