//! The fake's state: objects, a global resourceVersion, a watch-cache history with a
//! compaction point, and the users who are forbidden what.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub const GROUP_VERSION: &str = "networking.istio.io/v1";

/// plural → Kind, for the kinds meshdeck watches.
pub const KINDS: [(&str, &str); 7] = [
    ("serviceentries", "ServiceEntry"),
    ("workloadentries", "WorkloadEntry"),
    ("workloadgroups", "WorkloadGroup"),
    ("destinationrules", "DestinationRule"),
    ("sidecars", "Sidecar"),
    // Core v1, for the pods a ServiceEntry's workloadSelector selects.
    ("pods", "Pod"),
    ("namespaces", "Namespace"),
];

pub fn api_version_of(kind: &str) -> &'static str {
    if matches!(kind, "Pod" | "Namespace") {
        "v1"
    } else {
        GROUP_VERSION
    }
}

pub fn kind_of(plural: &str) -> Option<&'static str> {
    KINDS.iter().find(|(p, _)| *p == plural).map(|(_, k)| *k)
}

pub fn plural_of(kind: &str) -> Option<&'static str> {
    KINDS.iter().find(|(_, k)| *k == kind).map(|(p, _)| *p)
}

#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub plural: String,
    pub namespace: String,
    pub kind: &'static str,
    pub object: Value,
}

pub type Key = (String, String, String);

#[derive(Debug)]
pub struct Cluster {
    pub rv: u64,
    pub objects: BTreeMap<Key, Value>,
    pub history: Vec<Event>,
    /// Watches and continue tokens from at or before this resourceVersion get 410 Gone.
    pub compacted: u64,
    /// (user, plural) pairs that get 403 on every verb.
    pub forbidden: BTreeSet<(String, String)>,
    /// Field ownership per object (a simplified managedFields): `.spec.weight` → manager.
    pub owners: BTreeMap<Key, BTreeMap<String, String>>,
    /// The manager that owns the fields of objects stored through `upsert` (kubectl apply).
    pub default_manager: String,
    /// Per object and manager: its last operation (Apply, Update) and when.
    pub writes: BTreeMap<Key, BTreeMap<String, (String, String)>>,
    next_uid: u64,
}

impl Default for Cluster {
    fn default() -> Self {
        // The recorded cluster's list RV was 267; start near it so fixtures read naturally.
        Cluster {
            rv: 260,
            objects: BTreeMap::new(),
            history: Vec::new(),
            compacted: 0,
            forbidden: BTreeSet::new(),
            owners: BTreeMap::new(),
            default_manager: super::managed::KUBECTL.into(),
            writes: BTreeMap::new(),
            next_uid: 1,
        }
    }
}

impl Cluster {
    /// Inserts or replaces an object as the API server would store it, and records the event.
    pub fn upsert(&mut self, mut obj: Value) -> Result<Value, String> {
        let kind = obj["kind"]
            .as_str()
            .ok_or("object has no kind")?
            .to_string();
        let plural = plural_of(&kind).ok_or_else(|| format!("kind {kind} is not served"))?;
        let name = obj["metadata"]["name"]
            .as_str()
            .ok_or("object has no metadata.name")?
            .to_string();
        // Namespaces themselves are cluster-scoped.
        let ns = if kind == "Namespace" {
            String::new()
        } else {
            obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        };
        let key = (plural.to_string(), ns.clone(), name);
        self.rv += 1;
        let existing = self.objects.get(&key).cloned();
        obj["apiVersion"] = json!(api_version_of(&kind));
        let meta = obj["metadata"]
            .as_object_mut()
            .ok_or("metadata is not an object")?;
        if !ns.is_empty() {
            meta.insert("namespace".into(), json!(ns));
        }
        meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
        match &existing {
            Some(old) => {
                for k in ["uid", "creationTimestamp"] {
                    meta.insert(k.into(), old["metadata"][k].clone());
                }
                let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
                let spec_changed = old.get("spec") != obj.get("spec");
                obj["metadata"]["generation"] = json!(if spec_changed {
                    generation + 1
                } else {
                    generation
                });
            }
            None => {
                meta.insert(
                    "uid".into(),
                    json!(format!("00000000-0000-4000-8000-{:012x}", self.next_uid)),
                );
                // As the real server: the time of the create, the time its first write has.
                meta.insert("creationTimestamp".into(), json!(super::managed::now()));
                meta.insert("generation".into(), json!(1));
                self.next_uid += 1;
            }
        }
        let kind_ev = if existing.is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        self.objects.insert(key.clone(), obj.clone());
        self.history.push(Event {
            rv: self.rv,
            plural: key.0,
            namespace: key.1,
            kind: kind_ev,
            object: obj.clone(),
        });
        Ok(obj)
    }

    /// `manager` set `fields` of `key` by `operation`: it owns them now, and the stored object
    /// (and the watch event just recorded for it) carries the managedFields that say so.
    pub fn record_write(&mut self, key: &Key, manager: &str, operation: &str, fields: Vec<String>) {
        let owners = self.owners.entry(key.clone()).or_default();
        for f in fields {
            owners.insert(f, manager.to_string());
        }
        self.writes.entry(key.clone()).or_default().insert(
            manager.to_string(),
            (operation.to_string(), super::managed::now()),
        );
        let Some(obj) = self.objects.get_mut(key) else {
            return;
        };
        let last_applied = obj["metadata"]["annotations"]
            .get(super::managed::LAST_APPLIED)
            .is_some();
        let rendered = super::managed::render(&self.owners[key], &self.writes[key], last_applied);
        obj["metadata"]["managedFields"] = rendered.clone();
        if let Some(ev) = self.history.last_mut()
            && ev.plural == key.0
            && ev.namespace == key.1
            && ev.object["metadata"]["name"].as_str() == Some(key.2.as_str())
        {
            ev.object["metadata"]["managedFields"] = rendered;
        }
    }

    pub fn delete(&mut self, plural: &str, ns: &str, name: &str) -> Option<Value> {
        let key = (plural.to_string(), ns.to_string(), name.to_string());
        let mut obj = self.objects.remove(&key)?;
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.history.push(Event {
            rv: self.rv,
            plural: key.0,
            namespace: key.1,
            kind: "DELETED",
            object: obj.clone(),
        });
        Some(obj)
    }

    /// Forgets history up to now, as an etcd compaction past the watch-cache window does.
    pub fn compact(&mut self) {
        self.compacted = self.rv;
        self.history.clear();
    }

    pub fn list(&self, plural: &str, ns: Option<&str>) -> Vec<&Value> {
        self.page(plural, ns, None, usize::MAX).0
    }

    /// Up to `limit` objects of `plural` (in `ns`) after `(namespace, name)`, in key order, and
    /// how many remain after them. A range scan, so paging through 100k objects stays linear.
    pub fn page(
        &self,
        plural: &str,
        ns: Option<&str>,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> (Vec<&Value>, usize) {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let lo = match after {
            Some((n, name)) => Excluded((plural.to_string(), n.to_string(), name.to_string())),
            None => Included((
                plural.to_string(),
                ns.unwrap_or("").to_string(),
                String::new(),
            )),
        };
        let mut it = self
            .objects
            .range((lo, Unbounded))
            .take_while(|((p, n, _), _)| p == plural && ns.is_none_or(|want| want == n))
            .map(|(_, v)| v);
        let page: Vec<&Value> = it.by_ref().take(limit).collect();
        (page, it.count())
    }
}
