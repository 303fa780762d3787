//! One plain HTTP/1.1 GET, bounded in time: Envoy's admin API and a Prometheus server's.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The status and the body of `url`, or why there is none (the URL named in the reason).
pub async fn get(url: &str, within: Duration) -> Result<(u16, Bytes), String> {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
    let resp = tokio::time::timeout(within, client.get(uri))
        .await
        .map_err(|_| format!("timed out after {} s", within.as_secs()))?
        .map_err(|e| crate::io::error_chain(&e))?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}
