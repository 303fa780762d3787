//! One Istio object of any kind meshdeck understands, and the key that names it.

use super::cluster::Cluster;
use super::destination_rule::DestinationRuleSpec;
use super::meta::{Extra, ObjectMeta, Status};
use super::service_entry::ServiceEntrySpec;
use super::sidecar::SidecarSpec;
use super::workload_entry::WorkloadEntrySpec;
use super::workload_group::WorkloadGroupSpec;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const GROUP: &str = "networking.istio.io";
/// Versions of networking.istio.io whose schema for these kinds is the same as v1.
pub const ACCEPTED_VERSIONS: [&str; 3] = ["v1", "v1beta1", "v1alpha3"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    ServiceEntry,
    WorkloadEntry,
    WorkloadGroup,
    DestinationRule,
    Sidecar,
    /// Not an Istio kind: pods a ServiceEntry selects, shown as its endpoints (not in ALL).
    Pod,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::ServiceEntry,
        Kind::WorkloadEntry,
        Kind::WorkloadGroup,
        Kind::DestinationRule,
        Kind::Sidecar,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ServiceEntry => "ServiceEntry",
            Kind::WorkloadEntry => "WorkloadEntry",
            Kind::WorkloadGroup => "WorkloadGroup",
            Kind::DestinationRule => "DestinationRule",
            Kind::Sidecar => "Sidecar",
            Kind::Pod => "Pod",
        }
    }
    pub fn short(self) -> &'static str {
        match self {
            Kind::ServiceEntry => "se",
            Kind::WorkloadEntry => "we",
            Kind::WorkloadGroup => "wg",
            Kind::DestinationRule => "dr",
            Kind::Sidecar => "sidecar",
            Kind::Pod => "pod",
        }
    }
    pub fn plural(self) -> &'static str {
        match self {
            Kind::ServiceEntry => "ServiceEntries",
            Kind::WorkloadEntry => "WorkloadEntries",
            Kind::WorkloadGroup => "WorkloadGroups",
            Kind::DestinationRule => "DestinationRules",
            Kind::Sidecar => "Sidecars",
            Kind::Pod => "Pods",
        }
    }
    pub fn from_kind_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// kubectl-style names: short name, singular or plural, any case.
    pub fn from_alias(s: &str) -> Option<Kind> {
        let s = s.to_ascii_lowercase();
        Kind::ALL.into_iter().find(|k| {
            let full = k.as_str().to_ascii_lowercase();
            s == k.short() || s == full || s == k.plural().to_ascii_lowercase()
        })
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    pub kind: Kind,
    pub namespace: String,
    pub name: String,
    /// Last, so that one cluster's order is namespace/name and the same object in two
    /// clusters sorts side by side.
    #[serde(skip_serializing_if = "Cluster::is_only")]
    pub cluster: Cluster,
}

impl ObjectKey {
    pub fn new(kind: Kind, namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectKey {
            kind,
            namespace: namespace.into(),
            name: name.into(),
            cluster: Cluster::ONLY,
        }
    }

    /// The same key in `cluster`.
    pub fn in_cluster(mut self, cluster: &Cluster) -> Self {
        self.cluster = cluster.clone();
        self
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind.short(), self.namespace, self.name)?;
        if !self.cluster.is_only() {
            write!(f, " @{}", self.cluster)?;
        }
        Ok(())
    }
}

/// An object as stored: apiVersion/kind/metadata/status are common, spec is per kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource<S> {
    // Defaulted so a list item that omits them still reads; every reader checks them after.
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: S,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    #[serde(flatten)]
    pub extra: Extra,
}

pub type ServiceEntry = Resource<ServiceEntrySpec>;
pub type WorkloadEntry = Resource<WorkloadEntrySpec>;
pub type WorkloadGroup = Resource<WorkloadGroupSpec>;
pub type DestinationRule = Resource<DestinationRuleSpec>;
pub type Sidecar = Resource<SidecarSpec>;

#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    ServiceEntry(ServiceEntry),
    WorkloadEntry(WorkloadEntry),
    // Boxed: rare and large; the common WorkloadEntry stays inline and small.
    WorkloadGroup(Box<WorkloadGroup>),
    DestinationRule(Box<DestinationRule>),
    Sidecar(Box<Sidecar>),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ObjectError {
    #[error("not an Istio networking object (apiVersion {api_version:?}, kind {kind:?})")]
    NotIstio { api_version: String, kind: String },
    #[error("apiVersion {0} is not served for these kinds; use networking.istio.io/v1")]
    UnknownVersion(String),
    #[error("metadata.name is missing")]
    NoName,
    #[error("{path}: {message}")]
    Field { path: String, message: String },
}

impl Object {
    /// Reads an object from a JSON value (what the YAML loader and the API server both give).
    /// `default_ns` fills a missing metadata.namespace, as `kubectl apply -n` would.
    pub fn from_value(v: serde_json::Value, default_ns: &str) -> Result<Object, ObjectError> {
        let field = |name: &str| {
            v.get(name)
                .and_then(|s| s.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let kind = istio_kind(&field("apiVersion"), &field("kind"))?;
        let obj = match kind {
            Kind::ServiceEntry => Object::ServiceEntry(typed(v)?),
            Kind::WorkloadEntry => Object::WorkloadEntry(typed(v)?),
            Kind::WorkloadGroup => Object::WorkloadGroup(Box::new(typed(v)?)),
            Kind::DestinationRule => Object::DestinationRule(Box::new(typed(v)?)),
            Kind::Sidecar => Object::Sidecar(Box::new(typed(v)?)),
            Kind::Pod => unreachable!("istio_kind never answers Pod"),
        };
        obj.finish(default_ns)
    }

    /// Reads an object of a known kind from JSON text straight into its type, with no JSON tree
    /// in between (the watcher's path: ten thousand objects at a time). A list item may omit
    /// apiVersion and kind; they are then taken from what was asked for.
    pub fn from_json(
        text: &str,
        kind: Kind,
        api_version: &str,
        default_ns: &str,
    ) -> Result<Object, ObjectError> {
        fn read<S>(text: &str, kind: Kind, api_version: &str) -> Result<Resource<S>, ObjectError>
        where
            Resource<S>: serde::de::DeserializeOwned,
        {
            let mut r: Resource<S> = match serde_json::from_str(text) {
                Ok(r) => r,
                Err(_) => {
                    let mut de = serde_json::Deserializer::from_str(text);
                    return Err(path_error(
                        serde_path_to_error::deserialize::<_, Resource<S>>(&mut de),
                    ));
                }
            };
            if r.api_version.is_empty() {
                r.api_version = api_version.to_string();
            }
            if r.kind.is_empty() {
                r.kind = kind.as_str().to_string();
            }
            if istio_kind(&r.api_version, &r.kind)? != kind {
                return Err(ObjectError::Field {
                    path: ".kind".into(),
                    message: format!("{} where {kind} was asked for", r.kind),
                });
            }
            Ok(r)
        }
        let obj = match kind {
            Kind::ServiceEntry => Object::ServiceEntry(read(text, kind, api_version)?),
            Kind::WorkloadEntry => Object::WorkloadEntry(read(text, kind, api_version)?),
            Kind::WorkloadGroup => Object::WorkloadGroup(Box::new(read(text, kind, api_version)?)),
            Kind::DestinationRule => {
                Object::DestinationRule(Box::new(read(text, kind, api_version)?))
            }
            Kind::Sidecar => Object::Sidecar(Box::new(read(text, kind, api_version)?)),
            Kind::Pod => {
                return Err(ObjectError::NotIstio {
                    api_version: api_version.to_string(),
                    kind: kind.as_str().to_string(),
                });
            }
        };
        obj.finish(default_ns)
    }

    /// What every reader checks last: a name, and the namespace an unnamespaced object gets.
    fn finish(mut self, default_ns: &str) -> Result<Object, ObjectError> {
        let meta = self.meta_mut();
        if meta.name.is_empty() {
            return Err(ObjectError::NoName);
        }
        if meta.namespace.as_deref().unwrap_or("").is_empty() {
            meta.namespace = Some(default_ns.to_string());
        }
        Ok(self)
    }

    pub fn to_value(&self) -> serde_json::Value {
        let r = match self {
            Object::ServiceEntry(o) => serde_json::to_value(o),
            Object::WorkloadEntry(o) => serde_json::to_value(o),
            Object::WorkloadGroup(o) => serde_json::to_value(o),
            Object::DestinationRule(o) => serde_json::to_value(o),
            Object::Sidecar(o) => serde_json::to_value(o),
        };
        r.unwrap_or(serde_json::Value::Null)
    }

    pub fn kind(&self) -> Kind {
        match self {
            Object::ServiceEntry(_) => Kind::ServiceEntry,
            Object::WorkloadEntry(_) => Kind::WorkloadEntry,
            Object::WorkloadGroup(_) => Kind::WorkloadGroup,
            Object::DestinationRule(_) => Kind::DestinationRule,
            Object::Sidecar(_) => Kind::Sidecar,
        }
    }

    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Object::ServiceEntry(o) => &o.metadata,
            Object::WorkloadEntry(o) => &o.metadata,
            Object::WorkloadGroup(o) => &o.metadata,
            Object::DestinationRule(o) => &o.metadata,
            Object::Sidecar(o) => &o.metadata,
        }
    }

    /// Marks the object as read from `cluster` (its key follows).
    pub fn set_cluster(&mut self, cluster: &Cluster) {
        self.meta_mut().cluster = cluster.clone();
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::ServiceEntry(o) => &mut o.metadata,
            Object::WorkloadEntry(o) => &mut o.metadata,
            Object::WorkloadGroup(o) => &mut o.metadata,
            Object::DestinationRule(o) => &mut o.metadata,
            Object::Sidecar(o) => &mut o.metadata,
        }
    }

    pub fn key(&self) -> ObjectKey {
        let m = self.meta();
        ObjectKey::new(
            self.kind(),
            m.namespace.clone().unwrap_or_default(),
            m.name.clone(),
        )
        .in_cluster(&m.cluster)
    }
}

/// The Istio kind an apiVersion and kind name stand for, if meshdeck reads it.
fn istio_kind(api_version: &str, kind_name: &str) -> Result<Kind, ObjectError> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", ""));
    match Kind::from_kind_name(kind_name) {
        Some(k) if group == GROUP && ACCEPTED_VERSIONS.contains(&version) => Ok(k),
        Some(_) if group == GROUP => Err(ObjectError::UnknownVersion(api_version.to_string())),
        _ => Err(ObjectError::NotIstio {
            api_version: api_version.to_string(),
            kind: kind_name.to_string(),
        }),
    }
}

/// The fast path first; only a failure pays for a second pass that finds the field's path.
fn typed<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, ObjectError> {
    match T::deserialize(&v) {
        Ok(t) => Ok(t),
        Err(_) => Err(path_error(serde_path_to_error::deserialize::<_, T>(v))),
    }
}

/// The second, slower pass after a failed read: where it failed, as a field error.
fn path_error<T, E: std::fmt::Display>(
    second: Result<T, serde_path_to_error::Error<E>>,
) -> ObjectError {
    match second {
        Err(e) => ObjectError::Field {
            path: e.path().to_string(),
            message: e.inner().to_string(),
        },
        // The same input failed once; should the second pass read it, say so plainly.
        Ok(_) => ObjectError::Field {
            path: ".".into(),
            message: "could not be read".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let v = json!({"apiVersion": "networking.istio.io/v1beta1", "kind": "WorkloadEntry",
            "metadata": {"name": "vm1", "namespace": "ns1", "finalizers": ["x"]},
            "spec": {"address": "10.0.0.1", "futureField": {"a": 1}}});
        let o = Object::from_value(v.clone(), "default").unwrap();
        assert_eq!(o.to_value(), v);
    }

    #[test]
    fn missing_namespace_takes_the_default() {
        let v = json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
            "metadata": {"name": "vm1"}, "spec": {}});
        let o = Object::from_value(v, "prod").unwrap();
        assert_eq!(o.key(), ObjectKey::new(Kind::WorkloadEntry, "prod", "vm1"));
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let v = json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
            "metadata": {"name": "vm1"}, "spec": {"weight": -3}});
        let err = Object::from_value(v, "default").unwrap_err();
        match err {
            ObjectError::Field { path, .. } => assert_eq!(path, "spec.weight"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn other_groups_and_versions_are_refused() {
        let v = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}});
        assert!(matches!(
            Object::from_value(v, "d"),
            Err(ObjectError::NotIstio { .. })
        ));
        let v = json!({"apiVersion": "networking.istio.io/v2", "kind": "WorkloadEntry", "metadata": {"name": "x"}});
        assert!(matches!(
            Object::from_value(v, "d"),
            Err(ObjectError::UnknownVersion(_))
        ));
    }

    #[test]
    fn aliases_resolve_like_kubectl() {
        assert_eq!(Kind::from_alias("we"), Some(Kind::WorkloadEntry));
        assert_eq!(Kind::from_alias("ServiceEntries"), Some(Kind::ServiceEntry));
        assert_eq!(Kind::from_alias("workloadgroup"), Some(Kind::WorkloadGroup));
        assert_eq!(Kind::from_alias("pods"), None);
    }
}
