//! The core/v1 pieces that reaching istiod through a cluster needs: GET of a ConfigMap, the
//! TokenRequest subresource of a ServiceAccount, and a pod's `portforward` subresource over
//! WebSocket (`v4.channel.k8s.io`: per port a data and an error channel, each opened by a
//! frame carrying the port number, then frames prefixed by their channel byte).

use super::Shared;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

pub fn config_map(shared: &Shared, ns: &str, name: &str) -> (u16, Value) {
    let maps = shared.config_maps.lock().unwrap_or_else(|p| p.into_inner());
    match maps.get(&(ns.to_string(), name.to_string())) {
        Some(data) => (
            200,
            json!({"kind": "ConfigMap", "apiVersion": "v1",
                "metadata": {"name": name, "namespace": ns, "resourceVersion": "1"}, "data": data}),
        ),
        None => (404, super::status::not_found("configmaps", name)),
    }
}

/// POST …/serviceaccounts/NAME/token: a token naming the account and its audiences.
pub fn token(shared: &Shared, user: &str, ns: &str, sa: &str, body: &[u8]) -> (u16, Value) {
    let forbidden = shared
        .cluster
        .lock()
        .map(|c| {
            c.forbidden
                .contains(&(user.to_string(), "serviceaccounts/token".to_string()))
        })
        .unwrap_or(false);
    if forbidden {
        return (
            403,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("serviceaccounts \"{sa}\" is forbidden: User \"{user}\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"{ns}\""),
                "reason": "Forbidden", "details": {"name": sa, "kind": "serviceaccounts"}, "code": 403}),
        );
    }
    let mut req: Value = serde_json::from_slice(body).unwrap_or_default();
    let audiences = req["spec"]["audiences"].clone();
    let mut issued = shared.tokens.lock().unwrap_or_else(|p| p.into_inner());
    let account = crate::io::xds::identity::ServiceAccount {
        namespace: ns.to_string(),
        name: sa.to_string(),
    };
    let audience_list: Vec<String> = audiences
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    // Shaped as the real API server's projected tokens: a JWT whose claims name the account.
    let token =
        crate::io::xds::identity::unsigned_token(&account, &audience_list, issued.len() + 1);
    issued.push((token.clone(), audiences));
    req["metadata"] = json!({"name": sa, "namespace": ns, "creationTimestamp": null});
    // As the API server: valid for what was asked (an hour when nothing was).
    let seconds = req["spec"]["expirationSeconds"].as_i64().unwrap_or(3600);
    let expires = k8s_openapi::jiff::Timestamp::now()
        .checked_add(k8s_openapi::jiff::SignedDuration::from_secs(seconds))
        .unwrap_or(k8s_openapi::jiff::Timestamp::MAX);
    req["status"] = json!({"token": token, "expirationTimestamp": expires.to_string()});
    (201, req)
}

/// GET …/pods/NAME/portforward?ports=P with a WebSocket upgrade: carried to the loopback
/// address the test registered for that pod and port.
pub fn portforward(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    ns: &str,
    pod: &str,
) -> Result<Response<super::http::Body>, Value> {
    let port: u16 = super::http::query(&req)
        .get("ports")
        .and_then(|p| p.split(',').next().and_then(|p| p.parse().ok()))
        .ok_or_else(|| super::status::bad_request("portforward needs ?ports=".into()))?;
    let target = shared
        .forwards
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&(ns.to_string(), pod.to_string(), port))
        .copied()
        .ok_or_else(|| super::status::not_found("pods", pod))?;
    let key = req
        .headers()
        .get("sec-websocket-key")
        .and_then(|k| k.to_str().ok())
        .ok_or_else(|| super::status::bad_request("portforward is a WebSocket upgrade".into()))?
        .to_string();
    let offered = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|k| k.to_str().ok())
        .unwrap_or("");
    if !offered.split(',').any(|p| p.trim() == "v4.channel.k8s.io") {
        return Err(super::status::bad_request(format!(
            "unsupported WebSocket subprotocols {offered:?}"
        )));
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        carry(ws, target, port).await;
    });
    Ok(Response::builder()
        .status(101)
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", accept)
        .header("sec-websocket-protocol", "v4.channel.k8s.io")
        .body(super::http::empty())
        .unwrap_or_default())
}

async fn carry<S>(ws: WebSocketStream<S>, target: std::net::SocketAddr, port: u16)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    let [lo, hi] = port.to_le_bytes();
    for ch in [0u8, 1] {
        if sink
            .send(Message::Binary(Bytes::from(vec![ch, lo, hi])))
            .await
            .is_err()
        {
            return;
        }
    }
    let tcp = match tokio::net::TcpStream::connect(target).await {
        Ok(t) => t,
        Err(e) => {
            let text = format!("error forwarding port {port} to pod: {e}");
            let mut frame = vec![1u8];
            frame.extend(text.into_bytes());
            let _ = sink.send(Message::Binary(Bytes::from(frame))).await;
            let _ = sink.close().await;
            return;
        }
    };
    let (mut rd, mut wr) = tcp.into_split();
    let up = async {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Binary(b)
                    if b.len() > 1 && b[0] == 0 && wr.write_all(&b[1..]).await.is_err() =>
                {
                    break;
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = wr.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut frame = Vec::with_capacity(n + 1);
                    frame.push(0u8);
                    frame.extend_from_slice(&buf[..n]);
                    if sink
                        .send(Message::Binary(Bytes::from(frame)))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = sink.close().await;
    };
    tokio::join!(up, down);
}
