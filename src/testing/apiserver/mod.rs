//! An in-process fake of kube-apiserver for the networking.istio.io kinds, faithful to the
//! responses recorded from a real kube-apiserver 1.36 in ../shared/fixtures/kube: discovery,
//! LIST with limit/continue (and 410 for expired tokens), WATCH with BOOKMARKs, initial-events-end
//! and 410 ERROR events, GET/404, 403 for forbidden users. Plain HTTP on loopback.

mod cluster;
mod core;
mod http;
pub mod managed;
pub mod patch;
pub mod schema;
pub mod status;

pub use cluster::{Cluster, Event, KINDS, kind_of, plural_of};

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

pub struct Shared {
    pub cluster: Mutex<Cluster>,
    pub events: broadcast::Sender<Event>,
    /// Bumped to cut every open watch, as a restarting API server or a dropped connection does.
    pub epoch: watch::Sender<u64>,
    pub bookmark_every: Mutex<Duration>,
    /// While true, new watches wait before they start (to let a client fall behind).
    pub paused: watch::Sender<bool>,
    /// Requests served, for tests that count LISTs (meshdeck must never re-list on a timer).
    pub requests: Mutex<Vec<String>>,
    /// core/v1 Events created (meshdeck records one per applied edit).
    pub events_created: Mutex<Vec<serde_json::Value>>,
    /// ConfigMap data by (namespace, name).
    pub config_maps: Mutex<BTreeMap<(String, String), serde_json::Value>>,
    /// Tokens issued by the TokenRequest API, with the audiences asked for.
    pub tokens: Mutex<Vec<(String, serde_json::Value)>>,
    /// Where a pod's port is "inside the cluster": (namespace, pod, port) → a loopback address.
    pub forwards: Mutex<BTreeMap<(String, String, u16), SocketAddr>>,
}

pub struct FakeApiServer {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeApiServer {
    pub async fn start() -> std::io::Result<FakeApiServer> {
        Self::start_on("127.0.0.1:0".parse().expect("an address")).await
    }

    /// On a given address: a server that comes back where a stopped one was.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeApiServer> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cluster: Mutex::new(Cluster::default()),
            events: broadcast::channel(65_536).0,
            epoch: watch::channel(0).0,
            bookmark_every: Mutex::new(Duration::from_secs(10)),
            paused: watch::channel(false).0,
            requests: Mutex::new(Vec::new()),
            events_created: Mutex::new(Vec::new()),
            config_maps: Mutex::new(BTreeMap::new()),
            tokens: Mutex::new(Vec::new()),
            forwards: Mutex::new(BTreeMap::new()),
        });
        let task = tokio::spawn(http::serve(listener, shared.clone()));
        Ok(FakeApiServer { addr, shared, task })
    }

    /// Goes down: every connection closes and the port refuses, while what it stores stays
    /// (an API server whose etcd outlives it). `resume` brings it back on the same address.
    pub fn stop(&mut self) {
        self.task.abort();
    }

    pub async fn resume(&mut self) -> std::io::Result<()> {
        let listener = tokio::net::TcpListener::bind(self.addr).await?;
        self.task = tokio::spawn(http::serve(listener, self.shared.clone()));
        Ok(())
    }

    fn cluster(&self) -> std::sync::MutexGuard<'_, Cluster> {
        self.shared
            .cluster
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Stores `obj` (a JSON object with kind and metadata) as `kubectl apply` would: with the
    /// last-applied annotation and kubectl's managedFields entry; tells the watchers.
    pub fn upsert(&self, mut obj: serde_json::Value) -> Result<serde_json::Value, String> {
        let stored = {
            let mut c = self.cluster();
            let mut fields = Vec::new();
            patch::leaves(&obj["spec"], ".spec", &mut fields);
            if obj["metadata"].is_object()
                && plural_of(obj["kind"].as_str().unwrap_or(""))
                    .is_some_and(|p| !matches!(p, "pods" | "namespaces"))
            {
                let text = managed::last_applied(&obj);
                let meta = &mut obj["metadata"];
                if !meta["annotations"].is_object() {
                    meta["annotations"] = serde_json::json!({});
                }
                meta["annotations"][managed::LAST_APPLIED] = serde_json::Value::String(text);
            }
            let stored = c.upsert(obj)?;
            // What kubectl wrote, kubectl owns.
            let key = (
                plural_of(stored["kind"].as_str().unwrap_or(""))
                    .unwrap_or("")
                    .to_string(),
                stored["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                stored["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
            let manager = c.default_manager.clone();
            c.record_write(&key, &manager, "Update", fields);
            if let Some(ev) = c.history.last() {
                let _ = self.shared.events.send(ev.clone());
            }
            c.objects.get(&key).cloned().unwrap_or(stored)
        };
        Ok(stored)
    }

    /// Applies every networking.istio.io document of a YAML text (others are skipped).
    pub fn apply_yaml(&self, text: &str) -> Result<usize, String> {
        let mut n = 0;
        for span in crate::io::manifests::documents::split(text) {
            let v: serde_json::Value =
                serde_saphyr::from_str(&text[span.start..span.end]).map_err(|e| e.to_string())?;
            if v["kind"].as_str().and_then(plural_of).is_some() {
                self.upsert(v)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The stored object, as a GET would return it.
    pub fn object(&self, plural: &str, ns: &str, name: &str) -> Option<serde_json::Value> {
        self.cluster()
            .objects
            .get(&(plural.to_string(), ns.to_string(), name.to_string()))
            .cloned()
    }

    pub fn delete(&self, plural: &str, ns: &str, name: &str) -> bool {
        let mut c = self.cluster();
        let gone = c.delete(plural, ns, name).is_some();
        if gone && let Some(ev) = c.history.last() {
            let _ = self.shared.events.send(ev.clone());
        }
        gone
    }

    pub fn compact(&self) {
        self.cluster().compact();
    }

    pub fn resource_version(&self) -> u64 {
        self.cluster().rv
    }

    pub fn forbid(&self, user: &str, plural: &str) {
        self.cluster()
            .forbidden
            .insert((user.into(), plural.into()));
    }

    /// Cuts every open watch stream.
    pub fn drop_watches(&self) {
        self.shared.epoch.send_modify(|e| *e += 1);
    }

    /// Holds new watch requests until `resume_watches`: with `drop_watches` and `compact`,
    /// this makes a client come back with a resourceVersion that is gone.
    pub fn pause_watches(&self) {
        self.shared.paused.send_replace(true);
    }

    pub fn resume_watches(&self) {
        self.shared.paused.send_replace(false);
    }

    pub fn set_bookmark_interval(&self, every: Duration) {
        *self
            .shared
            .bookmark_every
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = every;
    }

    pub fn events_created(&self) -> Vec<serde_json::Value> {
        self.shared
            .events_created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// An Event another component reported before the test's console started.
    pub fn add_event(&self, event: serde_json::Value) {
        self.shared
            .events_created
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }

    pub fn set_config_map(&self, namespace: &str, name: &str, data: serde_json::Value) {
        self.shared
            .config_maps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((namespace.into(), name.into()), data);
    }

    /// Makes `pod`'s `port` reachable by port-forward: connections go to `to`.
    pub fn forward(&self, namespace: &str, pod: &str, port: u16, to: SocketAddr) {
        self.shared
            .forwards
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((namespace.into(), pod.into(), port), to);
    }

    /// (token, audiences) of every TokenRequest answered.
    pub fn tokens(&self) -> Vec<(String, serde_json::Value)> {
        self.shared
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What istiod does with a bearer token (a TokenReview against this server): accepted
    /// when this server issued it for audience istio-ca, as the account its claims name.
    pub fn istio_ca_authenticator(&self) -> crate::controlplane::auth::Authenticator {
        let shared = self.shared.clone();
        crate::controlplane::auth::Authenticator::new(move |token| {
            let issued = shared.tokens.lock().unwrap_or_else(|p| p.into_inner());
            let (_, audiences) = issued
                .iter()
                .find(|(t, _)| t == token)
                .ok_or("the API server did not issue this token")?;
            if !audiences
                .as_array()
                .is_some_and(|a| a.iter().any(|v| v == "istio-ca"))
            {
                return Err(format!(
                    "token audiences {audiences} do not include istio-ca"
                ));
            }
            crate::io::xds::identity::service_account(token)
        })
    }

    pub fn requests(&self) -> Vec<String> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A kubeconfig whose current context points here as `user` (its bearer token is the
    /// user name; "viewer" and "admin" are what the fixtures were recorded with).
    pub fn write_kubeconfig(
        &self,
        path: &Path,
        user: &str,
        namespace: Option<&str>,
    ) -> std::io::Result<()> {
        let ns = namespace
            .map(|n| format!("\n    namespace: {n}"))
            .unwrap_or_default();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{addr}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: {user}{ns}\n- name: other\n  context:\n    cluster: fake\n    user: {user}\n    namespace: ns2\ncurrent-context: fake\nusers:\n- name: {user}\n  user:\n    token: {user}\n",
            addr = self.addr
        );
        std::fs::write(path, text)
    }
}
