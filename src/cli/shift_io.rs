//! What `meshdeck shift` reads and writes besides its plan: the registry a step's weights go
//! to (manifest files or the cluster, read again before each step so every edit says what it
//! replaces) and the data plane its gates read (each Envoy's `/clusters`, and its stats when a
//! p99 limit is set).

use crate::io::envoy::admin;
use crate::io::envoy::poll::{DataEvent, PollTarget, poll_clusters};
use crate::io::kube::apply::KubeSource;
use crate::io::source::files::FileSource;
use crate::io::source::{FieldEdit, Source};
use crate::model::planes::HostKey;
use crate::model::planes::data::ProxyData;
use crate::model::planes::stats::Latency;
use crate::model::shift::edits::{Hosts, step_edits};
use crate::model::shift::{Plan, Reading};
use crate::model::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

pub enum Registry {
    Files {
        roots: Vec<PathBuf>,
        readonly: bool,
    },
    Cluster {
        source: Box<KubeSource>,
        namespace: String,
    },
}

impl Registry {
    pub async fn store(&self) -> Result<Store, String> {
        match self {
            Registry::Files { roots, .. } => Ok(super::get::load_files(roots)),
            Registry::Cluster { source, namespace } => {
                crate::io::kube::list::store(&source.client, Some(namespace))
                    .await
                    .map_err(|e| format!("the cluster could not be read: {e:#}"))
            }
        }
    }

    /// Writes `weights` (one per member of `plan`; None: unset, as before the shift) where they
    /// differ from `store`. Returns what was written.
    pub async fn write(
        &mut self,
        store: &Store,
        plan: &Plan,
        weights: &[Option<u32>],
    ) -> Result<Vec<FieldEdit>, String> {
        let edits = step_edits(
            store,
            plan,
            weights,
            matches!(self, Registry::Cluster { .. }),
        )?;
        if edits.is_empty() {
            return Ok(edits);
        }
        match self {
            Registry::Files { roots, readonly } => {
                FileSource::new(roots.clone(), *readonly)
                    .apply(edits.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                // The cluster source writes its own Event and audit line; files keep the line.
                if let Some(log) = crate::io::kube::audit::default_log() {
                    let user = crate::io::kube::audit::who();
                    for e in &edits {
                        if let Err(err) =
                            crate::io::kube::audit::append(&log, &user, "files", e, None, &[])
                        {
                            tracing::warn!("audit log {}: {err}", log.display());
                        }
                    }
                }
            }
            Registry::Cluster { source, .. } => {
                source
                    .apply(edits.clone())
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(edits)
    }
}

/// The Envoys the gates read, and what each said last.
pub struct DataPlane {
    admins: Vec<PollTarget>,
    proxies: BTreeMap<String, ProxyData>,
    hosts: Hosts,
    /// The service's clusters, whose p99 is read when a limit is set.
    p99_of: Option<Vec<String>>,
}

impl DataPlane {
    pub fn new(admins: Vec<PollTarget>, hosts: Hosts, p99: bool) -> DataPlane {
        let clusters: BTreeSet<String> = hosts
            .0
            .iter()
            .chain(&hosts.1)
            .map(|(c, _)| c.clone())
            .collect();
        DataPlane {
            admins,
            proxies: BTreeMap::new(),
            hosts,
            p99_of: p99.then(|| clusters.into_iter().collect()),
        }
    }

    pub fn targets(&self) -> &[(String, HostKey)] {
        &self.hosts.0
    }

    /// Asks every Envoy once, together; None when none answered.
    pub async fn read(&mut self) -> Option<Reading> {
        let polled = futures::future::join_all(self.admins.iter().map(poll_clusters)).await;
        for ev in polled {
            match ev {
                DataEvent::Clusters {
                    proxy,
                    clusters,
                    at,
                    wall,
                } => self.entry(&proxy).record(clusters, at, wall),
                DataEvent::Failed { proxy, error } | DataEvent::StatsFailed { proxy, error } => {
                    self.entry(&proxy).failed(error)
                }
                DataEvent::Stats { .. } => {}
            }
        }
        let mut p99 = BTreeMap::new();
        if let Some(clusters) = &self.p99_of {
            let asked = futures::future::join_all(
                self.admins
                    .iter()
                    .map(|t| admin::cluster_stats(&t.admin, clusters)),
            )
            .await;
            for (t, readings) in self.admins.iter().zip(asked) {
                let worst = readings
                    .ok()
                    .into_iter()
                    .flat_map(|r| r.into_values())
                    .filter_map(|c| match c.latency {
                        Some(Latency::Quantiles { p99, .. }) => p99,
                        _ => None,
                    })
                    .reduce(f64::max);
                if let Some(v) = worst {
                    p99.insert(t.name.clone(), v);
                }
            }
        }
        let r = Reading::from_proxies(self.proxies.values(), &self.hosts.0, &self.hosts.1, &p99);
        (!r.proxies.is_empty()).then_some(r)
    }

    fn entry(&mut self, name: &str) -> &mut ProxyData {
        let admin = self
            .admins
            .iter()
            .find(|t| t.name == name)
            .map_or("", |t| t.admin.as_str());
        self.proxies
            .entry(name.to_string())
            .or_insert_with(|| ProxyData::new(name, admin))
    }
}
