//! Starting and running the demo mesh: loopback VMs, the embedded control plane on the demo
//! registry, two real Envoys, and a bounded load generator. Everything stops when this is
//! dropped: tasks are aborted and Envoys killed (and die with meshdeck even on SIGKILL).

use super::load::Caller;
use super::topology::{self, PROXIES};
use super::vm::{self, VmHandle, VmSwitch};
use crate::controlplane::any::PUSH_ORDER;
use crate::controlplane::server::{Ads, serve};
use crate::controlplane::status::StatusBoard;
use crate::io::envoy::bootstrap::{ApiType, ProxySpec};
use crate::io::envoy::process::EnvoyProcess;
use crate::model::locality::Locality;
use crate::msg::{Cmd, Msg};
use crate::state::{Level, Traffic};
use envoy_types::pb::envoy::service::status::v3::ConfigStatus;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Requests per second each proxy sends, across the demo services.
pub const RATE_PER_PROXY: u64 = 30;
/// The load generator stops by itself after this long, demo or not.
pub const MAX_LOAD_TIME: Duration = Duration::from_secs(4 * 3600);

pub struct Proxy {
    pub id: String,
    pub locality: String,
    pub listen: SocketAddr,
    pub admin: SocketAddr,
    pub envoy: EnvoyProcess,
}

/// The sidecar of one VM (`--ssh`): its Envoy's admin on the VM's loopback, reached by the
/// console only through the demo's sshd on the VM's address.
pub struct VmSidecar {
    pub sshd: super::sshd::Sshd,
    pub proxy: Proxy,
    pub access: topology::SidecarAccess,
}

pub struct Demo {
    pub dir: PathBuf,
    /// `--ssh`: the VM sidecar behind a real sshd.
    pub sidecar: Option<VmSidecar>,
    pub xds: SocketAddr,
    pub status: Arc<StatusBoard>,
    pub vms: Vec<VmHandle>,
    pub proxies: Arc<tokio::sync::Mutex<Vec<Proxy>>>,
    /// (proxy, vm name) → requests answered by that VM through that proxy.
    pub counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
    /// Where the Envoys push stats (metrics service); the console takes it and serves it.
    pub metrics_listener: Option<std::net::TcpListener>,
    tasks: Vec<JoinHandle<()>>,
    _watcher: notify::RecommendedWatcher,
}

impl Drop for Demo {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Demo {
    /// Starts everything; `say` reports progress (the console is not up yet).
    /// With `ssh`, one VM also runs a sidecar reached only through a real sshd.
    pub async fn start(envoy: &Path, ssh: bool, say: impl Fn(&str)) -> anyhow::Result<Demo> {
        Demo::start_at(envoy, ssh, RATE_PER_PROXY, say).await
    }

    /// As `start`, with `rate` requests a second through each proxy (a benchmark's load).
    pub async fn start_at(
        envoy: &Path,
        ssh: bool,
        rate: u64,
        say: impl Fn(&str),
    ) -> anyhow::Result<Demo> {
        let vms = start_vms().await?;
        let port = vms[0].addr.port();
        let dir = std::env::temp_dir().join(format!("meshdeck-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        for (name, text) in topology::manifests(port, None) {
            std::fs::write(dir.join(name), text)?;
        }
        say(&format!(
            "registry: {} (VMs on 127.0.0.x:{port})",
            dir.display()
        ));
        let (registry, watcher) = crate::controlplane::registry::watch_files(vec![dir.clone()])?;
        let status = Arc::new(StatusBoard::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let xds = listener.local_addr()?;
        let ads = Ads::new(registry, status.clone());
        let mut tasks = vec![tokio::spawn(async move {
            if let Err(e) = serve(listener, ads, std::future::pending()).await {
                tracing::error!("xDS server stopped: {e}");
            }
        })];
        say(&format!("control plane: xDS on {xds}"));
        // The Envoys push their stats here; the console serves it (it is bound now so the
        // Envoys can be told where it is).
        let metrics_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let metrics = Some(metrics_listener.local_addr()?);
        let mut proxies = Vec::new();
        for (i, (id, locality)) in PROXIES.iter().enumerate() {
            // Port 0 for both: the kernel picks, Envoy says what it got.
            let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
            // One proxy on each protocol flavour, so the demo exercises both.
            let api = if i == 0 {
                ApiType::StateOfTheWorld
            } else {
                ApiType::Delta
            };
            let spec = ProxySpec {
                id: id.to_string(),
                locality: Locality::parse(locality),
                xds,
                admin: any_port,
                listen: any_port,
                api,
                metrics,
                namespace: None,
                labels: Default::default(),
            };
            let mut envoy = EnvoyProcess::start(envoy, spec, &dir)?;
            let admin = envoy.admin_bound().await?;
            proxies.push(Proxy {
                id: id.to_string(),
                locality: locality.to_string(),
                listen: any_port,
                admin,
                envoy,
            });
        }
        let mut sidecar = match ssh {
            true => Some(start_sidecar(envoy, &dir, xds, port, &say).await?),
            false => None,
        };
        let expected = PROXIES.len() + usize::from(sidecar.is_some());
        wait_synced(&status, expected, Duration::from_secs(30))
            .await
            .map_err(|e| anyhow::anyhow!("{e}; Envoy logs are in {}", dir.display()))?;
        for p in &mut proxies {
            p.listen = p.envoy.listener_bound().await?;
            say(&format!(
                "envoy {} ({}): listener {}, admin http://{}",
                p.id, p.locality, p.listen, p.admin
            ));
        }
        say(&format!("{expected} proxies synced"));
        let counts = Arc::new(Mutex::new(BTreeMap::new()));
        let mut loaded: Vec<(String, SocketAddr)> =
            proxies.iter().map(|p| (p.id.clone(), p.listen)).collect();
        if let Some(s) = sidecar.as_mut() {
            s.proxy.listen = s.proxy.envoy.listener_bound().await?;
            loaded.push((s.proxy.id.clone(), s.proxy.listen));
        }
        for (id, listen) in loaded {
            tasks.push(tokio::spawn(generate_load(
                id,
                listen,
                rate,
                counts.clone(),
            )));
        }
        Ok(Demo {
            dir,
            sidecar,
            xds,
            status,
            vms,
            proxies: Arc::new(tokio::sync::Mutex::new(proxies)),
            counts,
            metrics_listener: Some(metrics_listener),
            tasks,
            _watcher: watcher,
        })
    }

    /// The demo's Envoys as the console polls them.
    pub async fn admin_targets(&self) -> Vec<crate::io::envoy::poll::PollTarget> {
        self.proxies
            .lock()
            .await
            .iter()
            .map(|p| crate::io::envoy::poll::PollTarget::new(&p.id, format!("http://{}", p.admin)))
            .collect()
    }

    /// Feeds the console: traffic rates every second, proxies that die, and VM commands.
    pub fn attach(&mut self, tx: mpsc::Sender<Msg>) -> mpsc::Sender<Cmd> {
        let (cmd_tx, mut cmd_rx) = mpsc::channel::<Cmd>(16);
        let vms: Vec<(String, VmSwitch)> = self
            .vms
            .iter()
            .map(|v| (v.addr.ip().to_string(), v.switch()))
            .collect();
        let names: BTreeMap<String, String> = self
            .vms
            .iter()
            .map(|v| (v.name.clone(), v.addr.ip().to_string()))
            .collect();
        let mut localities: BTreeMap<String, String> = PROXIES
            .iter()
            .map(|(p, l)| (p.to_string(), l.to_string()))
            .collect();
        if let Some(s) = &self.sidecar {
            localities.insert(s.proxy.id.clone(), s.proxy.locality.clone());
        }
        let counts = self.counts.clone();
        let proxies = self.proxies.clone();
        let events = tx.clone();
        self.tasks.push(tokio::spawn(async move {
            while let Some(cmd) = cmd_rx.recv().await {
                if let Cmd::Demo { address, behaviour } = cmd {
                    match vms.iter().find(|(a, _)| *a == address) {
                        Some((_, switch)) => switch.set(behaviour),
                        None => {
                            let _ = events
                                .send(Msg::Event(
                                    Level::Error,
                                    format!("{address} is not one of the demo's VMs"),
                                ))
                                .await;
                        }
                    }
                }
            }
        }));
        self.tasks.push(tokio::spawn(async move {
            let mut last: BTreeMap<(String, String), u64> = BTreeMap::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut dead: Vec<String> = Vec::new();
            loop {
                tick.tick().await;
                let now = counts.lock().map(|c| c.clone()).unwrap_or_default();
                let mut per_proxy: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
                for ((proxy, vm), n) in &now {
                    let rate = n.saturating_sub(
                        last.get(&(proxy.clone(), vm.clone())).copied().unwrap_or(0),
                    ) as f64;
                    let addr = names.get(vm).cloned().unwrap_or_else(|| vm.clone());
                    *per_proxy
                        .entry(proxy.clone())
                        .or_default()
                        .entry(addr)
                        .or_insert(0.0) += rate;
                }
                last = now;
                if tx
                    .send(Msg::Traffic(Traffic {
                        per_proxy,
                        localities: localities.clone(),
                    }))
                    .await
                    .is_err()
                {
                    return;
                }
                for p in proxies.lock().await.iter_mut() {
                    if !p.envoy.is_running() && !dead.contains(&p.id) {
                        dead.push(p.id.clone());
                        let text = format!(
                            "Envoy {} exited: no traffic through it; log {}",
                            p.id,
                            p.envoy.log.display()
                        );
                        let _ = tx.send(Msg::Event(Level::Error, text)).await;
                    }
                }
            }
        }));
        cmd_tx
    }
}

/// The sshd on the sidecar VM's address and its sidecar Envoy (admin on 127.0.0.1, port
/// picked by the kernel); the VM's WorkloadEntry is then annotated with how to reach it.
async fn start_sidecar(
    envoy: &Path,
    dir: &Path,
    xds: SocketAddr,
    port: u16,
    say: &impl Fn(&str),
) -> anyhow::Result<VmSidecar> {
    let vm = topology::SIDECAR_VM;
    let sshd = super::sshd::Sshd::start(std::net::IpAddr::from(vm.ip), &dir.join("sshd"))
        .await
        .map_err(|e| anyhow::anyhow!("--ssh: {e}"))?;
    let id = format!("{}.demo", vm.name);
    let locality = "us-east1/us-east1-b";
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    let spec = ProxySpec {
        id: id.clone(),
        locality: Locality::parse(locality),
        xds,
        admin: any_port,
        listen: any_port,
        api: ApiType::StateOfTheWorld,
        // Its stats are read over ssh from its admin, as on a VM nothing pushes them.
        metrics: None,
        namespace: Some("demo".into()),
        labels: [("app".to_string(), "ratings".to_string())]
            .into_iter()
            .collect(),
    };
    let mut envoy = EnvoyProcess::start(envoy, spec, dir)?;
    let admin = envoy.admin_bound().await?;
    let access = topology::SidecarAccess {
        ssh: sshd.destination(),
        admin: admin.to_string(),
    };
    for (name, text) in topology::manifests(port, Some(&access)) {
        std::fs::write(dir.join(name), text)?;
    }
    say(&format!(
        "VM {} sidecar {id}: admin {admin} on the VM, reached through sshd {}",
        vm.name, access.ssh
    ));
    Ok(VmSidecar {
        sshd,
        proxy: Proxy {
            id,
            locality: locality.into(),
            listen: any_port,
            admin,
            envoy,
        },
        access,
    })
}

async fn start_vms() -> std::io::Result<Vec<VmHandle>> {
    let all = topology::all();
    let first = vm::start(all[0].name, SocketAddr::from((all[0].ip, 0))).await?;
    let port = first.addr.port();
    let mut out = vec![first];
    for v in &all[1..] {
        out.push(vm::start(v.name, SocketAddr::from((v.ip, port))).await?);
    }
    Ok(out)
}

async fn wait_synced(
    status: &StatusBoard,
    expected: usize,
    within: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + within;
    loop {
        let proxies = status.proxies();
        let synced = proxies
            .iter()
            .filter(|p| {
                PUSH_ORDER.iter().all(|t| {
                    p.types
                        .get(*t)
                        .is_some_and(|s| s.config_status() == ConfigStatus::Synced)
                })
            })
            .count();
        if synced == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "only {synced} of {expected} proxies synced within {within:?}"
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Steady, bounded load through one proxy: `rate` requests a second over the demo's hosts,
/// for at most MAX_LOAD_TIME.
async fn generate_load(
    proxy: String,
    listen: SocketAddr,
    rate: u64,
    counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
) {
    let caller = Caller::default();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut i = 0usize;
    while started.elapsed() < MAX_LOAD_TIME {
        tick.tick().await;
        // The test service gets half the load, so its split is easy to read.
        let host = if i.is_multiple_of(2) {
            "test.demo.internal"
        } else {
            topology::HOSTS[(i / 2) % 2]
        };
        i += 1;
        let key = match caller.call(listen, host, "/").await {
            Ok(a) if a.status == 200 => a.vm.unwrap_or_else(|| "unknown".into()),
            Ok(a) => format!("status-{}", a.status),
            Err(_) => "error".into(),
        };
        if let Ok(mut c) = counts.lock() {
            *c.entry((proxy.clone(), key)).or_insert(0) += 1;
        }
    }
}
