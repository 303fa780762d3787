//! A stand-in VM: an HTTP server on a loopback address that answers with its own name (like
//! whoami) and has a /health path. Its behaviour can be switched while it runs.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use tokio::net::TcpListener;

pub const VM_HEADER: &str = "x-meshdeck-vm";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Behaviour {
    Healthy = 0,
    /// /health answers 503; requests are still served.
    ProbeFailing = 1,
    /// Every request answers 503 (outlier detection ejects it).
    Errors = 2,
    /// Requests answer 503 while /health still answers 200: a bad release whose health check
    /// passes, which only the request errors give away.
    RequestErrors = 3,
}

#[derive(Debug, Clone)]
pub struct VmSwitch(Arc<AtomicU8>);

impl VmSwitch {
    pub fn set(&self, b: Behaviour) {
        self.0.store(b as u8, Ordering::Relaxed);
    }
}

#[derive(Debug)]
pub struct VmHandle {
    pub name: String,
    pub addr: SocketAddr,
    behaviour: Arc<AtomicU8>,
    pub served: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl VmHandle {
    pub fn set(&self, b: Behaviour) {
        self.behaviour.store(b as u8, Ordering::Relaxed);
    }

    /// A switch that outlives borrows of the handle, for the demo's command task.
    pub fn switch(&self) -> VmSwitch {
        VmSwitch(self.behaviour.clone())
    }
}

impl Drop for VmHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `addr` (port 0 picks one) and serves until the handle is dropped.
pub async fn start(name: &str, addr: SocketAddr) -> std::io::Result<VmHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let behaviour = Arc::new(AtomicU8::new(Behaviour::Healthy as u8));
    let served = Arc::new(AtomicU64::new(0));
    let (b, s, n) = (behaviour.clone(), served.clone(), name.to_string());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (b, s, n) = (b.clone(), s.clone(), n.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    let (b, s, n) = (b.clone(), s.clone(), n.clone());
                    async move { Ok::<_, std::convert::Infallible>(answer(&req, &b, &s, &n)) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(VmHandle {
        name: name.to_string(),
        addr,
        behaviour,
        served,
        task,
    })
}

fn answer(
    req: &Request<Incoming>,
    b: &AtomicU8,
    served: &AtomicU64,
    name: &str,
) -> Response<Full<Bytes>> {
    let mode = b.load(Ordering::Relaxed);
    let health = req.uri().path() == "/health";
    let probe_fails = mode == Behaviour::ProbeFailing as u8 || mode == Behaviour::Errors as u8;
    let requests_fail = mode == Behaviour::Errors as u8 || mode == Behaviour::RequestErrors as u8;
    let failing = if health { probe_fails } else { requests_fail };
    if !health {
        served.fetch_add(1, Ordering::Relaxed);
    }
    let (status, body) = if failing {
        (503, format!("{name}: failing\n"))
    } else {
        (200, format!("{name}\n"))
    };
    Response::builder()
        .status(status)
        .header(VM_HEADER, name)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}
