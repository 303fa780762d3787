//! What each connected proxy was sent, ACKed and NACKed, per type — the control plane's side of
//! the edit-verify loop, and the answer to `istio.io/debug/syncz`.

use super::any::{CLIENT_CONFIG, PUSH_ORDER};
use super::node::NodeInfo;
use envoy_types::pb::envoy::admin::v3::UpdateFailureState;
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::status::v3::{
    ClientConfig, ConfigStatus, client_config::GenericXdsConfig,
};
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    StateOfTheWorld,
    Delta,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TypeStatus {
    pub sent_version: String,
    pub sent_nonce: String,
    pub acked_version: String,
    pub acked_nonce: String,
    /// The version and error of the last NACK, cleared by the next ACK.
    pub nack: Option<(String, String)>,
    pub sent_at: Option<SystemTime>,
    pub acked_at: Option<SystemTime>,
}

impl TypeStatus {
    pub fn config_status(&self) -> ConfigStatus {
        if self.sent_nonce.is_empty() {
            ConfigStatus::NotSent
        } else if self.nack.is_some() {
            ConfigStatus::Error
        } else if self.acked_nonce == self.sent_nonce {
            ConfigStatus::Synced
        } else {
            ConfigStatus::Stale
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProxyStatus {
    pub node: Node,
    pub info: NodeInfo,
    pub mode: Mode,
    pub connected_at: SystemTime,
    pub types: BTreeMap<String, TypeStatus>,
}

/// Shared between the connection tasks; every change bumps `changes` so that syncz
/// subscribers (and tests) can wait for it.
pub struct StatusBoard {
    proxies: Mutex<BTreeMap<u64, ProxyStatus>>,
    changes: watch::Sender<u64>,
    next_conn: std::sync::atomic::AtomicU64,
}

impl Default for StatusBoard {
    fn default() -> Self {
        StatusBoard {
            proxies: Mutex::new(BTreeMap::new()),
            changes: watch::channel(0).0,
            next_conn: std::sync::atomic::AtomicU64::new(1),
        }
    }
}

impl StatusBoard {
    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<u64, ProxyStatus>) -> R) -> R {
        let r = {
            let mut guard = self.proxies.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        };
        self.changes.send_modify(|n| *n += 1);
        r
    }

    /// A connection id no other stream on this board has, whichever server accepted it (two
    /// listeners, e.g. plaintext and TLS, may share one board).
    pub fn new_conn(&self) -> u64 {
        self.next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub fn connect(&self, conn: u64, node: Node, mode: Mode) {
        let info = NodeInfo::from_node(&node);
        self.with(|m| {
            m.insert(
                conn,
                ProxyStatus {
                    node,
                    info,
                    mode,
                    connected_at: SystemTime::now(),
                    types: BTreeMap::new(),
                },
            );
        });
    }

    pub fn disconnect(&self, conn: u64) {
        self.with(|m| m.remove(&conn));
    }

    fn update(&self, conn: u64, type_url: &str, f: impl FnOnce(&mut TypeStatus)) {
        self.with(|m| {
            if let Some(p) = m.get_mut(&conn) {
                f(p.types.entry(type_url.to_string()).or_default());
            }
        });
    }

    pub fn sent(&self, conn: u64, type_url: &str, version: &str, nonce: &str) {
        self.update(conn, type_url, |t| {
            t.sent_version = version.into();
            t.sent_nonce = nonce.into();
            t.sent_at = Some(SystemTime::now());
        });
    }

    pub fn acked(&self, conn: u64, type_url: &str, version: &str, nonce: &str) {
        self.update(conn, type_url, |t| {
            t.acked_version = version.into();
            t.acked_nonce = nonce.into();
            t.acked_at = Some(SystemTime::now());
            t.nack = None;
        });
    }

    pub fn nacked(&self, conn: u64, type_url: &str, version: &str, message: &str) {
        self.update(conn, type_url, |t| {
            t.nack = Some((version.into(), message.into()))
        });
    }

    pub fn proxies(&self) -> Vec<ProxyStatus> {
        self.proxies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// One `ClientConfig` per connected proxy, as istiod's syncz answers.
    pub fn syncz(&self) -> Vec<Any> {
        self.proxies()
            .into_iter()
            .map(|p| {
                let generic_xds_configs = PUSH_ORDER
                    .iter()
                    .map(|t| {
                        let s = p.types.get(*t).cloned().unwrap_or_default();
                        GenericXdsConfig {
                            type_url: t.to_string(),
                            version_info: s.sent_version.clone(),
                            config_status: s.config_status() as i32,
                            error_state: s.nack.as_ref().map(|(v, m)| UpdateFailureState {
                                details: m.clone(),
                                version_info: v.clone(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        }
                    })
                    .collect();
                let cc = ClientConfig {
                    node: Some(p.node.clone()),
                    generic_xds_configs,
                    ..Default::default()
                };
                Any {
                    type_url: CLIENT_CONFIG.into(),
                    value: cc.encode_to_vec(),
                }
            })
            .collect()
    }
}
