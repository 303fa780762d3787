//! What the console knows of the control and data planes: one view per xDS server, the sync
//! status per proxy, the Envoys the user can open, and the edit being followed through them.

use crate::io::envoy::poll::PollTarget;
use crate::model::endpoint::Endpoint;
use crate::model::planes::HostKey;
use crate::model::planes::control::{ControlView, ProxySync};
use crate::model::planes::data::ProxyData;
use crate::model::planes::drift::{Drift, Planes};
use crate::model::planes::verify::{Observed, Verify};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct PlanesView {
    /// Per xDS server (its label).
    pub control: BTreeMap<String, ControlView>,
    pub syncs: BTreeMap<String, Vec<ProxySync>>,
    /// Servers that do not answer syncz, and why.
    pub syncz_unavailable: BTreeMap<String, String>,
    /// Every Envoy the console can read, by name; polled only while a screen needs them.
    pub proxies: BTreeMap<String, ProxyData>,
    /// The last thing the console itself NACKed.
    pub rejected: Option<String>,
    /// The last weight or locality edit, followed until traffic moved (or given up).
    pub verify: Option<Verify>,
}

impl PlanesView {
    pub fn with_proxies(
        targets: &[PollTarget],
        locality: impl Fn(&str) -> Option<crate::model::locality::Locality>,
    ) -> PlanesView {
        PlanesView {
            proxies: targets
                .iter()
                .map(|t| {
                    (
                        t.name.clone(),
                        ProxyData::new(&t.name, &t.admin, locality(&t.name)),
                    )
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Whether there is anything beyond the declared plane to show.
    pub fn is_active(&self) -> bool {
        !self.control.is_empty() || !self.proxies.is_empty()
    }

    pub fn all_syncs(&self) -> Vec<ProxySync> {
        self.syncs.values().flatten().cloned().collect()
    }

    /// The first server that has sent this cluster's endpoints.
    pub fn control_for(&self, cluster: &str) -> Option<&ControlView> {
        self.control
            .values()
            .find(|c| c.knows(cluster))
            .or_else(|| self.control.values().next())
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
        let syncs = self.all_syncs();
        let proxies: Vec<&ProxyData> = self.proxies.values().collect();
        Planes {
            control: self.control_for(cluster),
            syncs: &syncs,
            proxies: &proxies,
        }
        .drift(cluster, ep)
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

    /// Hands the verify loop what every plane shows now.
    pub fn observe_verify(&mut self, now: std::time::SystemTime, at: std::time::Instant) {
        let Some(mut v) = self.verify.take() else {
            return;
        };
        let syncs = self.all_syncs();
        let proxies: Vec<&ProxyData> = self.proxies.values().collect();
        let control = v.targets.first().and_then(|t| self.control_for(&t.cluster));
        v.observe(
            &Observed {
                control,
                syncs: &syncs,
                proxies: &proxies,
            },
            now,
            at,
        );
        self.verify = Some(v);
    }
}
