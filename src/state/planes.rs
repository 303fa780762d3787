//! What the console knows of the control and data planes: one view per xDS server, the sync
//! status per proxy, the Envoys the user can open, and the edit being followed through them.

use crate::io::envoy::poll::PollTarget;
use crate::model::endpoint::Endpoint;
use crate::model::planes::control::{ControlView, ProxySync};
use crate::model::planes::data::ProxyData;
use crate::model::planes::drift::Drift;
use crate::model::planes::verify::Verify;
use crate::model::planes::{HostKey, Planes};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct PlanesView {
    /// Per xDS server (its label).
    pub control: BTreeMap<String, ControlView>,
    /// Every proxy of every server, as syncz reports it (`control_plane` names the server).
    pub syncs: Vec<ProxySync>,
    /// Servers that do not answer syncz, and why.
    pub syncz_unavailable: BTreeMap<String, String>,
    /// Every Envoy the console can read, by name; polled only while a screen needs them.
    pub proxies: BTreeMap<String, ProxyData>,
    /// Per server, what the console itself could not use (and NACKed) until the server sends
    /// something usable again.
    pub rejected: BTreeMap<String, String>,
    /// The last weight or locality edit, followed until traffic moved (or given up).
    pub verify: Option<Verify>,
}

impl PlanesView {
    pub fn with_proxies(targets: &[PollTarget]) -> PlanesView {
        PlanesView {
            proxies: targets
                .iter()
                .map(|t| (t.name.clone(), ProxyData::new(&t.name, &t.admin)))
                .collect(),
            ..Default::default()
        }
    }

    /// What is wrong with the connections to the planes, worst first, for the status bar:
    /// an xDS server that is lost (SENT is then what it last sent) or an Envoy that cannot be
    /// read (ENVOY is then its last answer).
    pub fn trouble(&self) -> Option<String> {
        use crate::model::planes::control::Connection;
        let mut out = Vec::new();
        for c in self.control.values() {
            if let Connection::Retrying { since, error } = &c.connection {
                let ago = since.elapsed().map(|d| d.as_secs()).unwrap_or(0);
                out.push(format!(
                    "xDS {} lost {ago}s ago, retrying (SENT is what it last sent): {error}",
                    c.server
                ));
            }
        }
        for (server, why) in &self.rejected {
            out.push(format!("xDS {server}: {why} (SENT may be old)"));
        }
        for p in self.proxies.values() {
            if let Some(e) = &p.error {
                out.push(format!(
                    "Envoy {} not answering (ENVOY is its last answer): {e}",
                    p.name
                ));
            }
        }
        (!out.is_empty()).then(|| out.join("; "))
    }

    /// Whether there is anything beyond the declared plane to show.
    pub fn is_active(&self) -> bool {
        !self.control.is_empty() || !self.proxies.is_empty()
    }

    /// The first server that has sent this cluster's endpoints (else the first server).
    pub fn control_for(&self, cluster: &str) -> Option<&ControlView> {
        self.control
            .values()
            .find(|c| c.knows(cluster))
            .or_else(|| self.control.values().next())
    }

    /// Everything the planes show now about `cluster`, for drift and for the loop.
    pub fn planes(&self, cluster: &str) -> Planes<'_> {
        Planes {
            control: self.control_for(cluster),
            syncs: &self.syncs,
            proxies: self.proxies.values().collect(),
        }
    }

    pub fn poll_targets(&self) -> Vec<PollTarget> {
        self.proxies
            .values()
            .map(|p| PollTarget {
                name: p.name.clone(),
                admin: p.admin.clone(),
            })
            .collect()
    }

    pub fn drift(&self, cluster: &str, ep: &Endpoint) -> Vec<Drift> {
        self.planes(cluster).drift(cluster, ep)
    }

    /// Requests per second each Envoy sent `key` in `cluster` over the last few seconds.
    pub fn rate(&self, cluster: &str, key: &HostKey) -> Option<f64> {
        let window = std::time::Duration::from_secs(5);
        let mut any = false;
        let mut sum = 0.0;
        for p in self.proxies.values() {
            if let Some(r) = p.rates(cluster, window).get(key) {
                any = true;
                sum += r;
            }
        }
        any.then_some(sum)
    }
}
