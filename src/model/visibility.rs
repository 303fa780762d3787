//! Which ServiceEntry a proxy gets for a host, as istiod decides per proxy namespace:
//! `exportTo` (per object, else the mesh's `defaultServiceExportTo`), the egress hosts of the
//! Sidecar that applies to the namespace, and — for a host declared in several namespaces —
//! one winner: the oldest visible (Istio 1.14, recorded), or the proxy's own namespace first
//! and then the oldest (current Istio, `pickBestVisibleNamespace`).

use super::meta::Labels;
use super::object::{Kind, Object, ObjectKey, ServiceEntry, Sidecar};
use super::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What istiod's mesh config says about visibility and networks.
#[derive(Debug, Clone, PartialEq)]
pub struct Mesh {
    pub default_service_export_to: Vec<String>,
    pub root_namespace: String,
    /// meshNetworks: per network, how many gateways it has. None: not known to the console.
    pub networks: Option<BTreeMap<String, usize>>,
}

impl Default for Mesh {
    fn default() -> Self {
        Mesh {
            default_service_export_to: vec!["*".into()],
            root_namespace: "istio-system".into(),
            networks: None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MeshFile {
    default_service_export_to: Option<Vec<String>>,
    root_namespace: Option<String>,
    /// meshNetworks' own shape: `networks: {NAME: {endpoints: […], gateways: […]}}`.
    networks: Option<BTreeMap<String, NetworkFile>>,
    /// Or nested, as in the `istio` ConfigMap's values.
    mesh_networks: Option<Box<MeshFile>>,
}

#[derive(Deserialize, Default)]
struct NetworkFile {
    #[serde(default)]
    gateways: Vec<serde_json::Value>,
}

impl Mesh {
    /// Istio's mesh config (`defaultServiceExportTo`, `rootNamespace`) and meshNetworks
    /// (`networks:`, top level or under `meshNetworks:`), from one YAML document.
    pub fn from_yaml(text: &str) -> Result<Mesh, String> {
        let f: MeshFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        let mut mesh = Mesh::default();
        if let Some(e) = f.default_service_export_to {
            mesh.default_service_export_to = e;
        }
        if let Some(r) = f.root_namespace {
            mesh.root_namespace = r;
        }
        let networks = f.networks.or(f.mesh_networks.and_then(|m| m.networks));
        mesh.networks =
            networks.map(|n| n.into_iter().map(|(k, v)| (k, v.gateways.len())).collect());
        Ok(mesh)
    }
}

/// How istiod picks one ServiceEntry among several namespaces declaring a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostRule {
    /// Istio before 1.20 (recorded with 1.14): the oldest visible, for every proxy.
    OldestVisible,
    /// Current Istio: the proxy's own namespace, then the oldest visible.
    #[default]
    OwnNamespaceFirst,
}

/// The release that changed the rule, as far as the console knows: a server that names an
/// older version gets `OldestVisible`.
pub const OWN_NAMESPACE_FIRST_SINCE: (u32, u32) = (1, 20);

impl HostRule {
    /// The rule of an istiod that names its version (`1.14-maistra-2.3`, `1.28.0`); the
    /// current release's rule when it is unknown.
    pub fn for_version(version: Option<&str>) -> HostRule {
        let parsed = version.and_then(|v| {
            let mut it = v.trim_start_matches('v').split(['.', '-']);
            Some((
                it.next()?.parse::<u32>().ok()?,
                it.next()?.parse::<u32>().ok()?,
            ))
        });
        match parsed {
            Some(v) if v < OWN_NAMESPACE_FIRST_SINCE => HostRule::OldestVisible,
            _ => HostRule::OwnNamespaceFirst,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            HostRule::OldestVisible => "oldest visible declaration wins (Istio < 1.20)",
            HostRule::OwnNamespaceFirst => {
                "the proxy's own namespace wins, then the oldest visible (current Istio)"
            }
        }
    }
}

/// The proxy the question is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Proxy<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub rule: HostRule,
    pub mesh: &'a Mesh,
}

/// Why a ServiceEntry's host is not what this proxy gets.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Hidden {
    /// `exportTo` (or the mesh default) leaves the proxy's namespace out.
    NotExported { export_to: Vec<String> },
    /// The Sidecar of the proxy's namespace does not list the host among its egress hosts.
    OutsideSidecarEgress { sidecar: String },
    /// Another namespace's ServiceEntry for the same host is the one this proxy gets.
    Shadowed { winner: String, why: String },
}

impl Hidden {
    pub fn code(&self) -> &'static str {
        match self {
            Hidden::NotExported { .. } => "not-exported",
            Hidden::OutsideSidecarEgress { .. } => "outside-sidecar-egress",
            Hidden::Shadowed { .. } => "shadowed",
        }
    }

    pub fn reason(&self, host: &str, proxy_ns: &str) -> String {
        match self {
            Hidden::NotExported { export_to } => format!(
                "{host} is exported to [{}], not to {proxy_ns}; add {proxy_ns} (or \"*\") to exportTo",
                export_to.join(", ")
            ),
            Hidden::OutsideSidecarEgress { sidecar } => format!(
                "Sidecar {sidecar} does not list {host} in its egress hosts; proxies in {proxy_ns} get no cluster for it"
            ),
            Hidden::Shadowed { winner, why } => {
                format!("{host} is also declared by {winner}, which {proxy_ns} gets: {why}")
            }
        }
    }
}

fn export_list<'a>(se: &'a ServiceEntry, mesh: &'a Mesh) -> &'a [String] {
    if se.spec.export_to.is_empty() {
        &mesh.default_service_export_to
    } else {
        &se.spec.export_to
    }
}

/// `exportTo`: `*` everyone, `.` its own namespace, `~` no one, else the namespaces listed
/// (a list without `.` hides it from its own namespace, as recorded in 06-exportto).
pub fn exported_to(se: &ServiceEntry, proxy_ns: &str, mesh: &Mesh) -> bool {
    let own = se.metadata.namespace.as_deref().unwrap_or_default();
    export_list(se, mesh).iter().any(|e| match e.as_str() {
        "*" => true,
        "~" => false,
        "." => own == proxy_ns,
        ns => ns == proxy_ns,
    })
}

/// A host pattern of an egress entry (`*`, `*.example.com`, or a name) against a host.
fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix('*') {
        Some("") => true,
        Some(suffix) => host.ends_with(suffix),
        None => pattern == host,
    }
}

/// The Sidecar that scopes a proxy: one in its namespace selecting its labels, else one in
/// its namespace without a selector, else the root namespace's default.
pub fn sidecar_for<'a>(store: &'a Store, proxy: &Proxy<'_>) -> Option<&'a Sidecar> {
    let sidecars: Vec<&Sidecar> = store
        .entries(Kind::Sidecar)
        .filter_map(|e| match &e.object {
            Object::Sidecar(s) => Some(s.as_ref()),
            _ => None,
        })
        .collect();
    let ns_of = |s: &Sidecar| s.metadata.namespace.clone().unwrap_or_default();
    let selects = |s: &Sidecar| {
        s.spec.workload_selector.as_ref().is_some_and(|w| {
            !w.labels.is_empty() && w.labels.iter().all(|(k, v)| proxy.labels.get(k) == Some(v))
        })
    };
    let default_of = |s: &Sidecar| {
        s.spec
            .workload_selector
            .as_ref()
            .is_none_or(|w| w.labels.is_empty())
    };
    sidecars
        .iter()
        .find(|s| ns_of(s) == proxy.namespace && selects(s))
        .or_else(|| {
            sidecars
                .iter()
                .find(|s| ns_of(s) == proxy.namespace && default_of(s))
        })
        .or_else(|| {
            sidecars
                .iter()
                .find(|s| ns_of(s) == proxy.mesh.root_namespace && default_of(s))
        })
        .copied()
}

/// Whether a Sidecar's egress lets a proxy see `host` of a ServiceEntry in `se_ns`.
pub fn egress_allows(sidecar: &Sidecar, se_ns: &str, host: &str) -> bool {
    let own = sidecar.metadata.namespace.as_deref().unwrap_or_default();
    sidecar
        .spec
        .egress
        .iter()
        .flat_map(|e| &e.hosts)
        .any(|entry| {
            let (ns, h) = entry.split_once('/').unwrap_or(("*", entry));
            let ns_ok = match ns {
                "*" => true,
                "~" => false,
                "." => se_ns == own,
                ns => ns == se_ns,
            };
            ns_ok && host_matches(h, host)
        })
}

/// Why `se` is not visible to the proxy at all (before any host is compared).
fn invisible(store: &Store, se: &ServiceEntry, host: &str, proxy: &Proxy<'_>) -> Option<Hidden> {
    if !exported_to(se, proxy.namespace, proxy.mesh) {
        return Some(Hidden::NotExported {
            export_to: export_list(se, proxy.mesh).to_vec(),
        });
    }
    let se_ns = se.metadata.namespace.as_deref().unwrap_or_default();
    if let Some(sc) = sidecar_for(store, proxy)
        && !sc.spec.egress.is_empty()
        && !egress_allows(sc, se_ns, host)
    {
        return Some(Hidden::OutsideSidecarEgress {
            sidecar: format!(
                "{}/{}",
                sc.metadata.namespace.as_deref().unwrap_or_default(),
                sc.metadata.name
            ),
        });
    }
    None
}

fn created(se: &ServiceEntry) -> Option<&str> {
    se.metadata.creation_timestamp.as_deref()
}

/// Oldest first; objects without a creation time (manifest files) after those with one, then
/// by namespace and name so the order is the same every time.
fn age_order(a: &ServiceEntry, b: &ServiceEntry) -> std::cmp::Ordering {
    let key = |s: &ServiceEntry| {
        (
            created(s).is_none(),
            created(s).map(str::to_string),
            s.metadata.namespace.clone().unwrap_or_default(),
            s.metadata.name.clone(),
        )
    };
    key(a).cmp(&key(b))
}

fn key_of(se: &ServiceEntry) -> ObjectKey {
    ObjectKey::new(
        Kind::ServiceEntry,
        se.metadata.namespace.clone().unwrap_or_default(),
        se.metadata.name.clone(),
    )
    .in_cluster(&se.metadata.cluster)
}

/// The ServiceEntry this proxy gets for `host`, with the others that declare it and why
/// they lose. None when no declaration is visible.
pub fn winner<'a>(store: &'a Store, host: &str, proxy: &Proxy<'_>) -> Option<&'a ServiceEntry> {
    winner_in(store, host, proxy, None)
}

/// The winner among the declarations of one cluster (each cluster's istiod picks its own;
/// the clusters' endpoints are then merged), or of all when `cluster` is None.
pub fn winner_in<'a>(
    store: &'a Store,
    host: &str,
    proxy: &Proxy<'_>,
    cluster: Option<&crate::model::cluster::Cluster>,
) -> Option<&'a ServiceEntry> {
    let mut visible: Vec<&ServiceEntry> = store
        .services_for_host(host)
        .filter(|se| cluster.is_none_or(|c| se.metadata.cluster == *c))
        .filter(|se| invisible(store, se, host, proxy).is_none())
        .collect();
    visible.sort_by(|a, b| age_order(a, b));
    if proxy.rule == HostRule::OwnNamespaceFirst
        && let Some(own) = visible
            .iter()
            .find(|se| se.metadata.namespace.as_deref() == Some(proxy.namespace))
    {
        return Some(own);
    }
    visible.first().copied()
}

/// Why this ServiceEntry's `host` is not what the proxy gets; None when it is.
pub fn hidden(store: &Store, se: &ServiceEntry, host: &str, proxy: &Proxy<'_>) -> Option<Hidden> {
    if let Some(h) = invisible(store, se, host, proxy) {
        return Some(h);
    }
    let win = winner_in(store, host, proxy, Some(&se.metadata.cluster))?;
    if key_of(win) == key_of(se) {
        return None;
    }
    let win_ns = win.metadata.namespace.as_deref().unwrap_or_default();
    let why = match proxy.rule {
        HostRule::OwnNamespaceFirst if win_ns == proxy.namespace => {
            "a proxy's own namespace wins".to_string()
        }
        rule => {
            let when = match (created(win), created(se)) {
                (Some(w), Some(s)) => format!("created {w}, before {s}"),
                (Some(w), None) => format!("created {w}"),
                _ => "no creation times known; taken in namespace order".to_string(),
            };
            match rule {
                HostRule::OldestVisible => format!(
                    "the oldest declaration wins for every proxy ({when}); {} rule",
                    "Istio < 1.20"
                ),
                HostRule::OwnNamespaceFirst => format!(
                    "older ({when}); only proxies in {} get this one",
                    se.metadata.namespace.as_deref().unwrap_or_default()
                ),
            }
        }
    };
    Some(Hidden::Shadowed {
        winner: key_of(win).to_string(),
        why,
    })
}

#[cfg(test)]
mod tests;
