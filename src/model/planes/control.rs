//! The control plane's side: the clusters and endpoints an xDS server sends to a console node,
//! and the sync status it reports per proxy (istiod's syncz).

use super::HostKey;
use crate::model::locality::Locality;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::SystemTime;

/// One endpoint as sent in a ClusterLoadAssignment (or inline in a DNS cluster).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentEndpoint {
    pub weight: u32,
    pub locality: Locality,
    pub priority: u32,
    /// Envoy's HealthStatus name as sent (`HEALTHY`, `UNHEALTHY`, `UNKNOWN`, …).
    pub health: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SentCluster {
    /// `EDS`, `STATIC`, `STRICT_DNS`, `LOGICAL_DNS`, … as the Cluster says.
    pub discovery: String,
    /// None until an EDS cluster's assignment arrived.
    pub endpoints: Option<BTreeMap<HostKey, SentEndpoint>>,
}

/// Everything received from one xDS server, with the versions it came in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ControlView {
    pub server: String,
    pub clusters: BTreeMap<String, SentCluster>,
    /// The version of the last EDS response: which answer SENT comes from.
    pub eds_version: String,
    /// Per cluster, when its endpoints last changed — the "in the control plane" stage.
    pub eds_changed_at: BTreeMap<String, SystemTime>,
    pub connection: Connection,
    /// What the server says it is (`control_plane.identifier` of its responses; istiod:
    /// JSON naming its pod and version).
    pub identifier: Option<String>,
}

impl ControlView {
    /// The version the server names, when it is an istiod that does.
    pub fn version(&self) -> Option<String> {
        istiod_version(self.identifier.as_deref()?)
    }
}

/// istiod's `{"Component":"istiod","ID":POD,"Info":{"version":"1.14-…",…}}` → its version.
pub fn istiod_version(identifier: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(identifier).ok()?;
    v.get("Info")?
        .get("version")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[derive(Debug, Clone, Default, PartialEq)]
pub enum Connection {
    #[default]
    Connecting,
    Connected,
    /// Lost; the client retries. What is on screen is what was last received.
    Retrying {
        since: SystemTime,
        error: String,
    },
    /// The server will not serve this identity (istiod's PermissionDenied/Unauthenticated);
    /// tried again only when the credential changes, or once a minute.
    Refused {
        since: SystemTime,
        reason: String,
    },
}

impl ControlView {
    pub fn endpoint(&self, cluster: &str, key: &HostKey) -> Option<&SentEndpoint> {
        self.clusters.get(cluster)?.endpoints.as_ref()?.get(key)
    }

    /// True when the server told us this cluster exists and its endpoints arrived, so "not
    /// sent" can be said with confidence.
    pub fn knows(&self, cluster: &str) -> bool {
        self.clusters
            .get(cluster)
            .is_some_and(|c| c.endpoints.is_some())
    }

    /// Applies a received set of clusters: keeps endpoints already known for EDS clusters.
    pub fn set_clusters(&mut self, clusters: BTreeMap<String, SentCluster>) {
        let mut next = clusters;
        for (name, c) in next.iter_mut() {
            if c.endpoints.is_none()
                && let Some(old) = self.clusters.get_mut(name)
            {
                c.endpoints = old.endpoints.take();
            }
        }
        self.clusters = next;
    }

    /// Applies received assignments; returns the clusters whose endpoints changed.
    pub fn set_endpoints(
        &mut self,
        version: String,
        assignments: BTreeMap<String, BTreeMap<HostKey, SentEndpoint>>,
        now: SystemTime,
    ) -> Vec<String> {
        let mut changed = Vec::new();
        for (name, eps) in assignments {
            let c = self
                .clusters
                .entry(name.clone())
                .or_insert_with(|| SentCluster {
                    discovery: "EDS".into(),
                    endpoints: None,
                });
            if c.endpoints.as_ref() != Some(&eps) {
                c.endpoints = Some(eps);
                self.eds_changed_at.insert(name.clone(), now);
                changed.push(name);
            }
        }
        self.eds_version = version;
        changed
    }
}

/// A proxy's sync status as the control plane reports it (syncz / `istioctl proxy-status`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProxySync {
    pub id: String,
    pub cluster: String,
    pub locality: String,
    /// Which control plane replica answered (istiod pod or xDS address).
    pub control_plane: String,
    /// Per xDS type short name (CDS, EDS, LDS, RDS): status and version.
    pub types: BTreeMap<String, TypeSync>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeSync {
    /// SYNCED, STALE, NOT_SENT, ERROR (a NACK), UNKNOWN.
    pub status: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ProxySync {
    /// The node id's short form: `sidecar~10.0.0.1~name.ns~…` → `name.ns`; others as they are.
    pub fn short_id(&self) -> &str {
        short_node_id(&self.id)
    }

    /// The proxy's namespace as istiod names it: the DNS domain of a full node id
    /// (`sidecar~IP~NAME.NS~NS.svc.cluster.local`), or the last label of its proxy id
    /// (`NAME.NS`, as istiod's syncz lists proxies).
    pub fn namespace(&self) -> Option<&str> {
        let parts: Vec<&str> = self.id.split('~').collect();
        if parts.len() == 4 {
            return parts[3].split('.').next().filter(|s| !s.is_empty());
        }
        self.id
            .rsplit_once('.')
            .map(|(_, ns)| ns)
            .filter(|s| !s.is_empty())
    }

    pub fn status_of(&self, t: &str) -> &str {
        self.types.get(t).map_or("-", |s| s.status.as_str())
    }
}

pub fn short_node_id(id: &str) -> &str {
    let parts: Vec<&str> = id.split('~').collect();
    if parts.len() == 4 { parts[2] } else { id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istiod_names_its_version_in_the_identifier() {
        let id = r#"{"Component":"istiod","ID":"istiod-5d8f9c7b4-x2x9q","Info":{"version":"1.14-maistra-2.3","revision":"cfcee59343565b84f01152af35fe1cb7fcda3d6c","golang_version":"go1.18","status":"Clean","tag":"1.14"}}"#;
        assert_eq!(istiod_version(id).as_deref(), Some("1.14-maistra-2.3"));
        assert_eq!(istiod_version("meshdeck"), None);
    }

    fn ep(w: u32) -> SentEndpoint {
        SentEndpoint {
            weight: w,
            locality: Locality::default(),
            priority: 0,
            health: "HEALTHY".into(),
        }
    }

    #[test]
    fn endpoints_survive_a_cds_update_and_changes_are_timed() {
        let mut v = ControlView::default();
        let t0 = SystemTime::UNIX_EPOCH;
        let a = HostKey::new("127.0.0.2", 80);
        let mut eps = BTreeMap::new();
        eps.insert(a.clone(), ep(1));
        let changed = v.set_endpoints(
            "1".into(),
            BTreeMap::from([("c".to_string(), eps.clone())]),
            t0,
        );
        assert_eq!(changed, vec!["c".to_string()]);
        v.set_clusters(BTreeMap::from([(
            "c".to_string(),
            SentCluster {
                discovery: "EDS".into(),
                endpoints: None,
            },
        )]));
        assert!(v.knows("c"));
        assert_eq!(v.endpoint("c", &a).map(|e| e.weight), Some(1));
        // The same assignment again is not a change.
        let again = v.set_endpoints(
            "3".into(),
            BTreeMap::from([("c".to_string(), eps)]),
            t0 + std::time::Duration::from_secs(5),
        );
        assert!(again.is_empty());
        assert_eq!(v.eds_changed_at["c"], t0);
    }

    #[test]
    fn short_ids() {
        assert_eq!(
            short_node_id("sidecar~10.0.0.1~ratings-1.default~default.svc.cluster.local"),
            "ratings-1.default"
        );
        assert_eq!(short_node_id("proxy-east"), "proxy-east");
        let sync = |id: &str| ProxySync {
            id: id.into(),
            ..Default::default()
        };
        assert_eq!(sync("probe-net.cx-net").namespace(), Some("cx-net"));
        assert_eq!(
            sync("sidecar~10.0.0.1~ratings-1.default~default.svc.cluster.local").namespace(),
            Some("default")
        );
        assert_eq!(sync("proxy-east").namespace(), None);
    }
}
