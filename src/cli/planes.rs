//! The control and data planes for headless commands: `--xds` servers and `--envoy-admin`
//! proxies, asked once, with what they answer turned into the model's types.

use crate::io::envoy::poll::{self, DataEvent, PollTarget};
use crate::io::kube::through::{ClusterPlanes, Istiod, POD_PREFIX, Through};
use crate::io::xds::identity::{self, Identity, ServiceAccount};
use crate::io::xds::session::{self, Config};
use crate::io::xds::stream::Protocol;
use crate::io::xds::target::BearerToken;
use crate::io::xds::{Target, Tls, XdsEvent};
use crate::model::planes::control::{Connection, ControlView, ProxySync};
use crate::model::planes::data::ProxyData;
use clap::Args;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, watch};

/// How long a headless command waits for an xDS server's answer.
pub const WAIT: Duration = Duration::from_secs(5);

#[derive(Args, Debug, Clone, Default)]
pub struct PlaneArgs {
    /// An xDS server to ask what the control plane sends (HOST:PORT); repeatable.
    #[arg(long = "xds", global = true, value_name = "HOST:PORT")]
    pub xds: Vec<String>,
    /// Speak Delta xDS to it instead of state-of-the-world.
    #[arg(long, global = true)]
    pub xds_delta: bool,
    /// Connect with TLS, trusting this CA (PEM; istiod: configmap istio-ca-root-cert).
    #[arg(long, global = true, value_name = "FILE")]
    pub xds_ca: Option<PathBuf>,
    /// The name the server's certificate must carry (default: the host of --xds).
    #[arg(long, global = true, value_name = "NAME")]
    pub xds_server_name: Option<String>,
    /// A file holding a bearer token (istiod 15012: a token with audience istio-ca).
    #[arg(long, global = true, value_name = "FILE")]
    pub xds_token_file: Option<PathBuf>,
    /// The namespace the console node claims where no token says it (plaintext, e.g. istiod's
    /// 15010); with a token the node is always in the token's namespace, as istiod requires.
    #[arg(long, global = true, value_name = "NS")]
    pub xds_namespace: Option<String>,
    /// See the registry as a proxy in this namespace sees it (which ServiceEntry it gets for
    /// each host: exportTo, Sidecar egress, duplicates). Default: the console node's
    /// namespace when an xDS server is asked — what that server's answers are for.
    #[arg(long, global = true, value_name = "NS")]
    pub view_namespace: Option<String>,
    /// Istio's mesh config as YAML: defaultServiceExportTo, rootNamespace, and meshNetworks
    /// (`networks:`, top level or under `meshNetworks:`). Default: everything exported,
    /// root namespace istio-system, networks unknown.
    #[arg(long, global = true, value_name = "FILE")]
    pub mesh_config: Option<PathBuf>,
    /// And from this locality (REGION/ZONE/SUBZONE), for locality load balancing.
    #[arg(long, global = true, value_name = "LOCALITY")]
    pub view_locality: Option<String>,
    /// An Envoy admin API to read (/clusters): [NAME=]HOST:PORT; repeatable.
    #[arg(long = "envoy-admin", global = true, value_name = "[NAME=]HOST:PORT")]
    pub envoy_admin: Vec<String>,
    /// Read that Envoy's stats as Prometheus text here (Istio: 15090 or 15020) instead of
    /// its admin /stats: NAME=HOST:PORT, NAME as in --envoy-admin; repeatable.
    #[arg(
        long = "envoy-prometheus",
        global = true,
        value_name = "NAME=HOST:PORT"
    )]
    pub envoy_prometheus: Vec<String>,
    /// Read every proxy's cluster stats from this Prometheus server (http://HOST:PORT), one
    /// query a second for the clusters on screen, instead of asking each Envoy; a proxy is its
    /// series' pod label. `meshdeck demo --prometheus` starts one scraping the demo's Envoys.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        num_args = 0..=1,
        default_missing_value = ""
    )]
    pub prometheus: Option<String>,
    /// Serve Envoy's metrics service (envoy.stat_sinks.metrics_service) here; Envoys that
    /// push are not polled for stats.
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub metrics_listen: Option<String>,
    /// Find istiod through the cluster: every istiod pod, port-forwarded (15012 with TLS and a
    /// token, or 15010 with --istiod-plaintext), each replica its own xDS server.
    #[arg(long, global = true)]
    pub istiod: bool,
    /// The namespace istiod runs in.
    #[arg(long, global = true, value_name = "NS", default_value = "istio-system")]
    pub istiod_namespace: String,
    /// 15010 plaintext instead: EDS without identity, but no syncz (istiod answers debug types
    /// on 15012 only).
    #[arg(long, global = true)]
    pub istiod_plaintext: bool,
    /// The service account whose token (audience istio-ca) meshdeck presents: NAME in istiod's
    /// namespace, or NS/NAME.
    #[arg(
        long,
        global = true,
        value_name = "[NS/]NAME",
        default_value = "default"
    )]
    pub istiod_sa: String,
    /// The cluster to reach istiod and `pod/NS/NAME` admins through (from --kubeconfig/--context).
    #[arg(skip)]
    pub kube: Option<crate::io::kube::client::Target>,
}

impl PlaneArgs {
    pub fn is_empty(&self) -> bool {
        self.xds.is_empty() && self.envoy_admin.is_empty() && !self.istiod
    }

    pub fn xds_targets(&self) -> Result<Vec<Target>, String> {
        let ca = match &self.xds_ca {
            Some(p) => {
                Some(std::fs::read(p).map_err(|e| format!("--xds-ca {}: {e}", p.display()))?)
            }
            None => None,
        };
        let token = match &self.xds_token_file {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| format!("--xds-token-file {}: {e}", p.display()))?
                    .trim()
                    .to_string(),
            ),
            None => None,
        };
        if token.is_some() && ca.is_none() {
            return Err("--xds-token-file needs --xds-ca: a token is only sent over TLS".into());
        }
        let identity = match &token {
            Some(t) => Identity::Token(self.token_account(t)?),
            None => self.plain_identity(),
        };
        self.xds
            .iter()
            .map(|addr| {
                let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h);
                if host.is_empty() || !addr.contains(':') {
                    return Err(format!("--xds {addr:?}: expected HOST:PORT"));
                }
                Ok(Target {
                    addr: addr.clone(),
                    tls: ca.as_ref().map(|pem| Tls {
                        ca_pem: pem.clone(),
                        server_name: self
                            .xds_server_name
                            .clone()
                            .unwrap_or_else(|| host.trim_matches(['[', ']']).to_string()),
                    }),
                    token: token.clone().map(BearerToken::new),
                    label: addr.clone(),
                    identity: identity.clone(),
                })
            })
            .collect()
    }

    /// The account a token file was issued for; `--xds-namespace` may only agree with it, or
    /// stand in for it when the token is not a JWT.
    fn token_account(&self, token: &str) -> Result<ServiceAccount, String> {
        match (identity::service_account(token), &self.xds_namespace) {
            (Ok(sa), Some(ns)) if *ns != sa.namespace => Err(format!(
                "--xds-namespace {ns} contradicts --xds-token-file, which is for {sa}: istiod accepts a node only in its token's namespace"
            )),
            (Ok(sa), _) => Ok(sa),
            (Err(_), Some(ns)) => Ok(ServiceAccount {
                namespace: ns.clone(),
                name: String::new(),
            }),
            (Err(e), None) => Err(format!(
                "--xds-token-file: cannot tell which service account it is for ({e}); pass --xds-namespace with its namespace (istiod accepts a node only in its token's namespace)"
            )),
        }
    }

    fn plain_identity(&self) -> Identity {
        Identity::Plain {
            namespace: self
                .xds_namespace
                .clone()
                .unwrap_or_else(|| identity::DEFAULT_NAMESPACE.to_string()),
        }
    }

    /// The mesh config `--mesh-config` names, or the defaults.
    pub fn mesh(&self) -> Result<crate::model::visibility::Mesh, String> {
        let Some(p) = &self.mesh_config else {
            return Ok(Default::default());
        };
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("--mesh-config {}: {e}", p.display()))?;
        crate::model::visibility::Mesh::from_yaml(&text)
            .map_err(|e| format!("--mesh-config {}: {e}", p.display()))
    }

    pub fn protocol(&self) -> Protocol {
        if self.xds_delta {
            Protocol::Delta
        } else {
            Protocol::StateOfTheWorld
        }
    }

    pub fn admin_targets(&self) -> Result<Vec<PollTarget>, String> {
        let mut targets: Vec<PollTarget> = self
            .envoy_admin
            .iter()
            .map(|s| admin_target(s))
            .collect::<Result<_, _>>()?;
        for s in &self.envoy_prometheus {
            let Some((name, _)) = s.split_once('=') else {
                return Err(format!(
                    "--envoy-prometheus {s:?}: expected NAME=HOST:PORT, NAME as in --envoy-admin"
                ));
            };
            let url = admin_target(s)
                .map_err(|e| e.replace("--envoy-admin", "--envoy-prometheus"))?
                .admin;
            match targets.iter_mut().find(|t| t.name == name) {
                Some(t) => t.prometheus = Some(url),
                None => {
                    return Err(format!(
                        "--envoy-prometheus {s:?}: no --envoy-admin named {name:?} (its /clusters is read too)"
                    ));
                }
            }
        }
        Ok(targets)
    }
}

/// The viewpoint a headless command derives endpoints for: `--view-namespace` (else the
/// namespace the console node claimed), `--view-locality`, and the host rule of the istiod
/// that answered (its version), the current release's when none named one.
pub fn viewpoint(
    args: &PlaneArgs,
    gathered: Option<&Gathered>,
    mesh: crate::model::visibility::Mesh,
) -> crate::model::share::Viewpoint {
    let version = gathered
        .into_iter()
        .flat_map(|g| &g.control)
        .find_map(|c| c.version());
    crate::model::share::Viewpoint {
        locality: args
            .view_locality
            .as_deref()
            .map(crate::model::locality::Locality::parse),
        namespace: args
            .view_namespace
            .clone()
            .or_else(|| gathered.and_then(|g| g.node_namespace.clone())),
        rule: crate::model::visibility::HostRule::for_version(version.as_deref()),
        mesh,
        ..Default::default()
    }
}

/// `NAME=HOST:PORT`, `HOST:PORT`, a URL, or `[NAME=]pod/NS/POD` (port-forwarded to 15000).
pub fn admin_target(s: &str) -> Result<PollTarget, String> {
    let (name, addr) = match s.split_once('=') {
        Some((n, a)) => (n.to_string(), a.to_string()),
        None => (s.to_string(), s.to_string()),
    };
    if let Some(pod) = addr.strip_prefix(POD_PREFIX) {
        if pod.split('/').count() != 2 || pod.split('/').any(str::is_empty) {
            return Err(format!("--envoy-admin {s:?}: expected pod/NAMESPACE/NAME"));
        }
        let name = if s.contains('=') {
            name
        } else {
            pod.rsplit('/').next().unwrap_or(pod).to_string()
        };
        return Ok(PollTarget::new(name, addr));
    }
    let admin = if addr.starts_with("http://") {
        addr.trim_end_matches('/').to_string()
    } else if addr.contains("://") {
        return Err(format!(
            "--envoy-admin {s:?}: only http:// is spoken to Envoy's admin API"
        ));
    } else {
        format!("http://{addr}")
    };
    if !admin["http://".len()..].contains(':') {
        return Err(format!("--envoy-admin {s:?}: expected [NAME=]HOST:PORT"));
    }
    Ok(PollTarget::new(name, admin))
}

#[derive(Debug, Default)]
pub struct Gathered {
    /// The namespace the console node claimed to the servers (their answers are for it).
    pub node_namespace: Option<String>,
    pub control: Vec<ControlView>,
    pub syncs: Vec<ProxySync>,
    pub proxies: Vec<ProxyData>,
}

impl PlaneArgs {
    /// What the planes need of the cluster: `--istiod` and `pod/NS/NAME` admins.
    pub fn through(&self) -> Result<Through, String> {
        Ok(Through {
            admins: self.admin_targets()?,
            istiod: self.istiod.then(|| Istiod {
                namespace: self.istiod_namespace.clone(),
                service_account: self.istiod_sa.clone(),
                plaintext: self.istiod_plaintext.then(|| self.plain_identity()),
            }),
            kube: self.kube.clone().unwrap_or_default(),
        })
    }
}

/// Resolves `--istiod` and `pod/NS/NAME` admins through the cluster (see `io/kube/through`).
pub async fn through_cluster(args: &PlaneArgs) -> Result<ClusterPlanes, String> {
    crate::io::kube::through::resolve(args.through()?).await
}

/// Asks every server and proxy once. EDS is requested for `clusters`; syncz when `syncz`.
pub async fn gather(
    args: &PlaneArgs,
    clusters: BTreeSet<String>,
    syncz: bool,
) -> Result<Gathered, String> {
    let mut out = Gathered::default();
    // Port-forwards live until the end of this function: everything is asked by then.
    let cluster = through_cluster(args).await?;
    let mut targets = args.xds_targets()?;
    targets.extend(cluster.xds.iter().cloned());
    out.node_namespace = targets
        .first()
        .map(|t| t.identity.node_namespace().to_string());
    for target in targets {
        let (view, syncs) = ask(target, args.protocol(), clusters.clone(), syncz).await?;
        out.control.push(view);
        out.syncs.extend(syncs);
    }
    for t in cluster.admins.iter().cloned() {
        let mut p = ProxyData::new(&t.name, &t.admin);
        match poll::poll_clusters(&t).await {
            DataEvent::Clusters {
                clusters, at, wall, ..
            } => p.record(clusters, at, wall),
            DataEvent::Failed { error, .. } | DataEvent::StatsFailed { error, .. } => {
                return Err(error);
            }
            DataEvent::Stats { .. } => {}
        }
        out.proxies.push(p);
    }
    Ok(out)
}

/// One server: connect, subscribe, and wait until CDS, the EDS of every wanted cluster the
/// server has, and (when wanted) syncz have arrived.
async fn ask(
    target: Target,
    protocol: Protocol,
    clusters: BTreeSet<String>,
    want_syncz: bool,
) -> Result<(ControlView, Vec<ProxySync>), String> {
    let label = target.label.clone();
    let (_names_tx, names) = watch::channel(clusters.clone());
    let (tx, mut rx) = mpsc::channel(64);
    let cfg = Config {
        target,
        protocol,
        locality: None,
        syncz: want_syncz,
    };
    let task = tokio::spawn(session::run(cfg, names, tx));
    let mut view = ControlView {
        server: label.clone(),
        ..Default::default()
    };
    let mut syncs: Option<Vec<ProxySync>> = None;
    let mut cds = false;
    let mut last_error = String::from("no answer");
    let deadline = Instant::now() + WAIT;
    let result = loop {
        let eds_done = cds
            && clusters.iter().all(|c| match view.clusters.get(c) {
                Some(sc) => sc.endpoints.is_some(),
                None => true,
            });
        if eds_done && (!want_syncz || syncs.is_some()) {
            break Ok(());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(ev)) = tokio::time::timeout(left, rx.recv()).await else {
            break Err(format!(
                "xDS {label}: no answer in {}s ({last_error})",
                WAIT.as_secs()
            ));
        };
        match &ev {
            XdsEvent::Connection {
                state: Connection::Retrying { error, .. },
                ..
            } => last_error = error.clone(),
            // Waiting would only be refused again: say what the refusal means now.
            XdsEvent::Connection {
                state: Connection::Refused { reason, .. },
                ..
            } => break Err(format!("xDS {label}: {reason}")),
            XdsEvent::Clusters { .. } => cds = true,
            _ => {}
        }
        match ev.fold_into(&mut view, SystemTime::now()) {
            Some(XdsEvent::Rejected {
                type_url, error, ..
            }) => last_error = format!("rejected {type_url}: {error}"),
            Some(XdsEvent::Syncz { proxies, .. }) => syncs = Some(proxies),
            Some(XdsEvent::SynczUnavailable { error, .. }) => {
                eprintln!("warning: xDS {label}: no proxy sync status (syncz): {error}");
                syncs = Some(Vec::new());
            }
            _ => {}
        }
    };
    task.abort();
    result.map(|()| (view, syncs.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_targets_take_names_and_urls() {
        let t = admin_target("east=127.0.0.1:15000").unwrap();
        assert_eq!(
            (t.name.as_str(), t.admin.as_str()),
            ("east", "http://127.0.0.1:15000")
        );
        assert_eq!(
            admin_target("http://[::1]:15000/").unwrap().admin,
            "http://[::1]:15000"
        );
        assert!(admin_target("https://x:1").is_err());
        assert!(admin_target("localhost").is_err());
    }

    #[test]
    fn a_token_needs_tls() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("t");
        std::fs::write(&token, "abc\n").unwrap();
        let mut a = PlaneArgs {
            xds: vec!["127.0.0.1:15012".into()],
            xds_token_file: Some(token),
            ..Default::default()
        };
        assert!(a.xds_targets().unwrap_err().contains("needs --xds-ca"));
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "PEM").unwrap();
        a.xds_ca = Some(ca);
        // An opaque token names no account: the node's namespace must be given.
        assert!(
            a.xds_targets()
                .unwrap_err()
                .contains("cannot tell which service account")
        );
        a.xds_namespace = Some("ops".into());
        let t = &a.xds_targets().unwrap()[0];
        assert_eq!(t.identity.node_namespace(), "ops");
        assert_eq!(t.token.as_ref().map(|t| t.get()).as_deref(), Some("abc"));
        assert_eq!(t.tls.as_ref().unwrap().server_name, "127.0.0.1");
        a.xds = vec!["nohostport".into()];
        assert!(a.xds_targets().is_err());
    }
}
