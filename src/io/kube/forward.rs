//! `kubectl port-forward` inside meshdeck: a loopback port whose every connection is carried to
//! a pod's port through the API server (a WebSocket per connection), so the xDS client and the
//! admin poller reach istiod and sidecars without knowing they are remote.

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio_util::task::AbortOnDropHandle;

/// A running forward; dropping it closes the local port and every connection through it.
pub struct Forward {
    pub local: SocketAddr,
    pub pod: String,
    pub port: u16,
    _task: AbortOnDropHandle<()>,
}

/// Opens one forward to check the pod is there and the API server lets us in (a clear error
/// now beats a connection reset later), then serves a loopback port.
pub async fn start(
    client: Client,
    namespace: &str,
    pod: &str,
    port: u16,
) -> Result<Forward, String> {
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let what = format!("port-forward to {namespace}/{pod}:{port}");
    let probe = pods
        .portforward(pod, &[port])
        .await
        .map_err(|e| format!("{what}: {}", crate::io::error_chain(&e)))?;
    probe.abort();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("{what}: a local port: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("{what}: {e}"))?;
    let name = pod.to_string();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                continue;
            };
            let pods = pods.clone();
            let name = name.clone();
            tokio::spawn(async move {
                let mut pf = match pods.portforward(&name, &[port]).await {
                    Ok(pf) => pf,
                    Err(e) => {
                        tracing::warn!(pod = %name, port, "port-forward: {e}");
                        return;
                    }
                };
                let errors = pf.take_error(port);
                if let Some(mut upstream) = pf.take_stream(port) {
                    let copied = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
                    if let Err(e) = copied {
                        tracing::debug!(pod = %name, port, "port-forward connection: {e}");
                    }
                }
                if let Some(errors) = errors
                    && let Ok(Some(e)) =
                        tokio::time::timeout(std::time::Duration::from_millis(100), errors).await
                {
                    tracing::warn!(pod = %name, port, "port-forward: the pod said {e}");
                }
                pf.abort();
            });
        }
    });
    Ok(Forward {
        local,
        pod: pod.to_string(),
        port,
        _task: AbortOnDropHandle::new(task),
    })
}
