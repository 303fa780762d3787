//! A small mesh for data-plane tests: the embedded control plane on loopback, loopback VMs, and
//! real Envoy processes bootstrapped against it.
#![allow(dead_code)]

use envoy_types::pb::envoy::service::status::v3::ConfigStatus;
use meshdeck::controlplane::any::PUSH_ORDER;
pub use meshdeck::controlplane::server::Options;
use meshdeck::controlplane::server::{Ads, serve};
use meshdeck::controlplane::status::StatusBoard;
use meshdeck::demo::vm::{self, VmHandle};
use meshdeck::io::envoy::bootstrap::{ApiType, ProxySpec};
use meshdeck::io::envoy::find::envoy_binary;
use meshdeck::io::envoy::process::EnvoyProcess;
use meshdeck::io::manifests::load::into_store;
use meshdeck::io::manifests::parse::parse_text;
use meshdeck::model::locality::Locality;
use meshdeck::model::store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{oneshot, watch};

pub fn loopback(last: u8, port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, last], port))
}

pub fn store_of(text: &str) -> Store {
    let p = parse_text(std::path::Path::new("test.yaml"), text);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
    into_store(vec![p])
}

pub struct ControlPlane {
    pub addr: SocketAddr,
    pub registry: watch::Sender<Arc<Store>>,
    pub status: Arc<StatusBoard>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ControlPlane {
    pub async fn start(store: Store) -> ControlPlane {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), store).await
    }

    pub async fn start_on(addr: SocketAddr, store: Store) -> ControlPlane {
        Self::start_with(addr, store, Options::default()).await
    }

    /// Standing in for an istiod: `options` says which release, and whether tokens count.
    pub async fn start_with(addr: SocketAddr, store: Store, options: Options) -> ControlPlane {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind xds");
        let addr = listener.local_addr().unwrap();
        let (registry, rx) = watch::channel(Arc::new(store));
        let status = Arc::new(StatusBoard::default());
        let ads = Ads::with_options(rx, status.clone(), options);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = serve(listener, ads, async {
                let _ = stopped.await;
            })
            .await;
        });
        ControlPlane {
            addr,
            registry,
            status,
            stop: Some(stop),
            task,
        }
    }

    pub fn publish(&self, store: Store) {
        self.registry.send_replace(Arc::new(store));
    }

    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.abort();
        let _ = self.task.await;
    }

    /// Waits until proxy `id` has ACKed every type, and returns the versions it ACKed.
    pub async fn wait_synced(&self, id: &str) -> Vec<String> {
        self.wait_acked(id, &PUSH_ORDER).await
    }

    /// Waits until proxy `id` has ACKed each of `types`, and returns the versions it ACKed.
    pub async fn wait_acked(&self, id: &str, types: &[&str]) -> Vec<String> {
        let synced = |p: &Option<meshdeck::controlplane::status::ProxyStatus>| {
            p.as_ref().is_some_and(|p| {
                types.iter().all(|t| {
                    p.types
                        .get(*t)
                        .is_some_and(|s| s.config_status() == ConfigStatus::Synced)
                })
            })
        };
        let what = format!("proxy {id} syncs {types:?}");
        let probe = async || self.status.proxies().into_iter().find(|p| p.info.id == id);
        let p = super::wait::until(&what, Duration::from_secs(20), probe, synced)
            .await
            .expect("synced");
        types
            .iter()
            .map(|t| p.types[*t].acked_version.clone())
            .collect()
    }
}

pub struct Proxy {
    pub envoy: EnvoyProcess,
    /// `http://IP:PORT` of its admin API, bound by Envoy on a port the kernel picked.
    pub admin: String,
    _dir: tempfile::TempDir,
}

/// Port 0: the kernel picks, Envoy says what it got (admin address file, `/listeners`).
const ANY_PORT: u16 = 0;

/// A proxy `id` at `locality` on the control plane at `xds`: state of the world, ports picked
/// by the kernel, no metrics, no namespace.
fn spec(id: &str, locality: &str, xds: SocketAddr) -> ProxySpec {
    ProxySpec {
        id: id.into(),
        locality: Locality::parse(locality),
        xds,
        admin: loopback(1, ANY_PORT),
        listen: loopback(1, ANY_PORT),
        api: ApiType::StateOfTheWorld,
        metrics: None,
        namespace: None,
        labels: Default::default(),
    }
}

impl Proxy {
    pub async fn start(id: &str, locality: &str, xds: SocketAddr, api: ApiType) -> Proxy {
        Self::launch(ProxySpec {
            api,
            ..spec(id, locality, xds)
        })
        .await
    }

    /// As `start`, pushing its stats every second to the metrics service at `metrics`.
    pub async fn start_pushing(
        id: &str,
        locality: &str,
        xds: SocketAddr,
        metrics: SocketAddr,
    ) -> Proxy {
        Self::launch(ProxySpec {
            metrics: Some(metrics),
            ..spec(id, locality, xds)
        })
        .await
    }

    /// As `start`, with the admin API on `admin` (`http://IP:PORT`): where a killed one was.
    pub async fn start_with_admin(
        id: &str,
        locality: &str,
        xds: SocketAddr,
        api: ApiType,
        admin: &str,
    ) -> Proxy {
        Self::launch(ProxySpec {
            api,
            admin: admin.trim_start_matches("http://").parse().unwrap(),
            ..spec(id, locality, xds)
        })
        .await
    }

    /// A sidecar as istiod would see it: node metadata NAMESPACE and LABELS.
    pub async fn start_in(
        id: &str,
        locality: &str,
        namespace: &str,
        labels: &meshdeck::model::meta::Labels,
        xds: SocketAddr,
    ) -> Proxy {
        Self::launch(ProxySpec {
            namespace: Some(namespace.to_string()),
            labels: labels.clone(),
            ..spec(id, locality, xds)
        })
        .await
    }

    async fn launch(spec: ProxySpec) -> Proxy {
        let binary = envoy_binary().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap();
        let mut envoy = EnvoyProcess::start(&binary, spec, dir.path()).expect("start envoy");
        let admin = envoy.admin_bound().await.expect("envoy admin");
        Proxy {
            envoy,
            admin: format!("http://{admin}"),
            _dir: dir,
        }
    }

    /// Where its listener is bound, once the control plane has sent it.
    pub async fn listen(&self) -> SocketAddr {
        let what = format!("envoy {} binds its listener", self.envoy.spec.id);
        let probe = async || meshdeck::io::envoy::process::listener_address(&self.admin).await;
        super::wait::until(&what, Duration::from_secs(20), probe, Option::is_some)
            .await
            .expect("bound")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.envoy.log).unwrap_or_default()
    }
}

pub async fn vms(names: &[(&str, u8)]) -> Vec<VmHandle> {
    let mut out = Vec::new();
    for (name, last) in names {
        out.push(vm::start(name, loopback(*last, 0)).await.expect("start vm"));
    }
    out
}

/// VMs on one port (as a fleet behind a WorkloadGroup is), each on its own loopback address.
pub async fn vms_on_one_port(names: &[(&str, u8)]) -> Vec<VmHandle> {
    let first = vm::start(names[0].0, loopback(names[0].1, 0))
        .await
        .expect("start vm");
    let port = first.addr.port();
    let mut out = vec![first];
    for (name, last) in &names[1..] {
        out.push(
            vm::start(name, loopback(*last, port))
                .await
                .expect("start vm"),
        );
    }
    out
}

/// A ServiceEntry `HOST` on port 80 selecting `app: APP`, one WorkloadEntry per VM, and a
/// ROUND_ROBIN DestinationRule so that splits are deterministic (LEAST_REQUEST picks randomly
/// among equal weights).
pub fn service_yaml(host: &str, app: &str, entries: &[(&VmHandle, u32, &str)]) -> String {
    let mut s = format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {app}, namespace: demo}}\nspec:\n  host: {host}\n  trafficPolicy: {{loadBalancer: {{simple: ROUND_ROBIN}}}}\n---\n"
    );
    s.push_str(&format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: {app}, namespace: demo}}\nspec:\n  hosts: [{host}]\n  location: MESH_INTERNAL\n  resolution: STATIC\n  ports: [{{number: 80, name: http, protocol: HTTP}}]\n  workloadSelector: {{labels: {{app: {app}}}}}\n"
    ));
    for (vm, weight, locality) in entries {
        s.push_str(&format!(
            "---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {{name: {}, namespace: demo}}\nspec:\n  address: {}\n  ports: {{http: {}}}\n  labels: {{app: {app}}}\n  weight: {weight}\n  locality: {locality}\n",
            vm.name,
            vm.addr.ip(),
            vm.addr.port()
        ));
    }
    s
}

pub type Response = envoy_types::pb::envoy::service::discovery::v3::DiscoveryResponse;
pub type Request = envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest;

/// An ADS stream to `addr` opened with a first request for `type_url` as node `id`; the sender
/// is for the ACKs and further requests.
pub async fn ads_stream(
    addr: SocketAddr,
    id: &str,
    type_url: &str,
) -> (
    tokio::sync::mpsc::Sender<Request>,
    tonic::Streaming<Response>,
) {
    use envoy_types::pb::envoy::config::core::v3::Node;
    use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
    let mut client = None;
    for _ in 0..100 {
        if let Ok(c) = AggregatedDiscoveryServiceClient::connect(format!("http://{addr}")).await {
            client = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut client = client.expect("the xDS server listens");
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let node = Node {
        id: id.into(),
        ..Default::default()
    };
    tx.send(Request {
        type_url: type_url.into(),
        node: Some(node),
        ..Default::default()
    })
    .await
    .unwrap();
    let stream = client
        .stream_aggregated_resources(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    (tx, stream)
}

/// The next response, within 10 s.
pub async fn next_response(s: &mut tonic::Streaming<Response>) -> Response {
    tokio::time::timeout(Duration::from_secs(10), s.message())
        .await
        .expect("an answer in 10 s")
        .unwrap()
        .unwrap()
}

/// The embedded control plane serving the manifests under `dir` and watching them, as
/// `meshdeck serve` does: edits to the files reach the Envoys connected to `xds`.
pub struct ServedFiles {
    pub xds: SocketAddr,
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl ServedFiles {
    pub async fn start(dir: &std::path::Path) -> ServedFiles {
        let (rx, watcher) =
            meshdeck::controlplane::registry::watch_files(vec![dir.to_path_buf()]).unwrap();
        let listener = meshdeck::controlplane::server::bind(loopback(1, 0))
            .await
            .unwrap();
        let xds = listener.local_addr().unwrap();
        let ads = Ads::new(rx, Arc::new(StatusBoard::default()));
        // Never stopped gracefully: an Envoy's stream would keep a graceful stop waiting.
        let task = tokio::spawn(async move {
            let _ = serve(listener, ads, std::future::pending::<()>()).await;
        });
        ServedFiles {
            xds,
            _watcher: watcher,
            task,
        }
    }
}

impl Drop for ServedFiles {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Requests to `host` through the Envoy listening on `listen`, `burst` at a time (then a pause
/// to fill `every`), until stopped or `max` has passed.
pub struct Load {
    busy: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Load {
    pub fn start(
        listen: SocketAddr,
        host: &'static str,
        burst: usize,
        every: Duration,
        max: Duration,
    ) -> Load {
        use std::sync::atomic::{AtomicBool, Ordering};
        let busy = Arc::new(AtomicBool::new(true));
        let running = busy.clone();
        let task = tokio::spawn(async move {
            let caller = meshdeck::demo::load::Caller::default();
            let until = std::time::Instant::now() + max;
            while running.load(Ordering::Relaxed) && std::time::Instant::now() < until {
                let started = std::time::Instant::now();
                caller.split(listen, host, burst).await;
                tokio::time::sleep(every.saturating_sub(started.elapsed())).await;
            }
        });
        Load { busy, task }
    }

    pub async fn stop(self) {
        self.busy.store(false, std::sync::atomic::Ordering::Relaxed);
        self.task.await.unwrap();
    }
}
