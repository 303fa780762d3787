//! Kubernetes object metadata and status, as much as meshdeck reads; everything else is kept in
//! `extra` so that an object written back loses nothing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Sorted maps in one vector: an object has a handful of labels and unknown fields, and a
/// B-tree's node holds room for eleven — at ten thousand objects, most of their memory.
pub type Extra = super::small_map::SmallMap<String, Value>;
pub type Labels = super::small_map::SmallMap<String, String>;

pub use super::small_map::is_empty;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pub labels: Labels,
    /// Without kubectl's last-applied-configuration: a second copy of the object that the
    /// console never reads, and a quarter of a real object's size.
    #[serde(
        default,
        skip_serializing_if = "is_empty",
        deserialize_with = "without_last_applied"
    )]
    pub annotations: Labels,
    /// Who set which fields and when (`managedFields`), kept small: manager, operation, time
    /// and the paths it owns, not the FieldsV1 tree. Never written back (the API server keeps
    /// it), and not shown in YAML, as kubectl does by default.
    #[serde(
        default,
        rename = "managedFields",
        skip_serializing,
        deserialize_with = "compact_managed_fields"
    )]
    pub managed_fields: Vec<ManagedBy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owner_references: Vec<OwnerReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// Read by istiod's "oldest declaration wins" rule; a field of its own so that most
    /// objects have no unknown fields at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// Not Kubernetes': the context it was read from when several are watched.
    #[serde(skip)]
    pub cluster: super::cluster::Cluster,
    #[serde(flatten)]
    pub extra: Extra,
}

/// kubectl's copy of what it applied, dropped when an object is read.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn without_last_applied<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
    let mut labels = Labels::deserialize(d)?;
    labels.remove(LAST_APPLIED);
    Ok(labels)
}

/// One `managedFields` entry, as much as a timeline needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManagedBy {
    pub manager: String,
    pub operation: String,
    pub time: Option<String>,
    /// Leaf paths it owns, one per line (`spec.weight\nmetadata.labels.app`): one allocation
    /// per entry instead of one per path; read them with `fields()`.
    pub paths: Box<str>,
}

impl ManagedBy {
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.paths.split('\n').filter(|p| !p.is_empty())
    }
}

fn compact_managed_fields<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<ManagedBy>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(default)]
        manager: String,
        #[serde(default)]
        operation: String,
        #[serde(default)]
        time: Option<String>,
        #[serde(default, rename = "fieldsV1")]
        fields_v1: Option<Value>,
    }
    let raw: Vec<Raw> = Vec::deserialize(d)?;
    Ok(raw
        .into_iter()
        .map(|r| {
            let mut fields = Vec::new();
            if let Some(tree) = &r.fields_v1 {
                leaf_paths(tree, "", &mut fields);
            }
            ManagedBy {
                manager: r.manager,
                operation: r.operation,
                time: r.time,
                paths: fields.join("\n").into_boxed_str(),
            }
        })
        .collect())
}

/// `{"f:spec": {".": {}, "f:weight": {}}}` → `spec.weight`; list items (`k:{…}`, `v:…`) keep
/// their key in brackets.
fn leaf_paths(tree: &Value, prefix: &str, out: &mut Vec<String>) {
    let Some(map) = tree.as_object() else { return };
    let mut leaf = true;
    for (k, v) in map {
        if k == "." {
            continue;
        }
        leaf = false;
        let seg = match k.split_once(':') {
            Some(("f", name)) => name.to_string(),
            Some((_, item)) => format!("[{item}]"),
            None => k.clone(),
        };
        let path = match (prefix.is_empty(), seg.starts_with('[')) {
            (true, _) => seg,
            (false, true) => format!("{prefix}{seg}"),
            (false, false) => format!("{prefix}.{seg}"),
        };
        leaf_paths(v, &path, out);
    }
    if leaf && !prefix.is_empty() {
        out.push(prefix.to_string());
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<bool>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Status {
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_object_keeps_who_and_when_but_not_the_copies() {
        let text = include_str!("../../../shared/fixtures/kube/get-workloadentry-vm1.json");
        #[derive(Deserialize)]
        struct Obj {
            metadata: ObjectMeta,
        }
        let o: Obj = serde_json::from_str(text).unwrap();
        assert!(!o.metadata.annotations.contains_key(LAST_APPLIED));
        assert!(!o.metadata.extra.contains_key("managedFields"));
        let m = &o.metadata.managed_fields[0];
        assert_eq!(
            (m.manager.as_str(), m.operation.as_str(), m.time.as_deref()),
            (
                "kubectl-client-side-apply",
                "Update",
                Some("2026-11-21T04:51:51Z")
            )
        );
        let fields: Vec<&str> = m.fields().collect();
        assert!(fields.contains(&"spec.weight"), "{fields:?}");
        assert!(fields.contains(&"spec.labels.app"));
        let annotation = format!("metadata.annotations.{LAST_APPLIED}");
        assert!(fields.contains(&annotation.as_str()));
        let yaml = serde_json::to_string(&o.metadata).unwrap();
        assert!(
            !yaml.contains("managedFields") && !yaml.contains("last-applied"),
            "{yaml}"
        );
    }
}
