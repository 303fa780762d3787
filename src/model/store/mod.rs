//! The registry store: every object by key plus the indexes the screens need, kept up to date
//! one object at a time so that a watch event or a file edit never rebuilds the world.

use super::cluster::Cluster;
use super::meta::Labels;
use super::object::{Kind, Object, ObjectKey, WorkloadEntry};
use super::pod::Pod;
use super::selector;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

mod shard;

pub const AUTO_REGISTRATION_GROUP: &str = "istio.io/autoRegistrationGroup";

/// Where an object came from, so that an edit can be written back to the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub path: PathBuf,
    /// Index of the YAML document within the file.
    pub doc: usize,
    /// 1-based line where the document starts.
    pub line: usize,
    /// Hash of the file's content when it was read; a write refuses if the file moved on.
    pub revision: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub object: Object,
    pub origin: Option<Origin>,
}

/// A namespace of one cluster: selection never crosses either.
type Scope = (Cluster, String);
type PairKey = (Scope, String, String);
/// A pod: its cluster, namespace and name.
type PodId = (Cluster, String, String);

#[derive(Debug, Default, Clone)]
pub struct Store {
    objects: HashMap<ObjectKey, Entry>,
    /// Per kind, in namespace/name order, each object's search text (`search_text`), made as
    /// it is stored: a filter walks keys and texts together, with no lookup and no formatting.
    by_kind: BTreeMap<Kind, BTreeMap<ObjectKey, Arc<str>>>,
    /// SEs by (namespace, one label of their selector); the full selector is checked on lookup.
    se_by_pair: HashMap<PairKey, HashSet<ObjectKey>>,
    /// SEs whose workloadSelector has no labels: they select every WE in their namespace.
    se_select_all: HashMap<Scope, HashSet<ObjectKey>>,
    we_by_pair: HashMap<PairKey, HashSet<ObjectKey>>,
    we_by_ns: HashMap<Scope, HashSet<ObjectKey>>,
    se_selects: HashMap<ObjectKey, BTreeSet<ObjectKey>>,
    we_selected_by: HashMap<ObjectKey, BTreeSet<ObjectKey>>,
    wg_entries: HashMap<ObjectKey, BTreeSet<ObjectKey>>,
    dr_by_host: HashMap<String, BTreeSet<ObjectKey>>,
    /// SEs by each host they declare (a host may be declared in several namespaces).
    se_by_host: HashMap<String, BTreeSet<ObjectKey>>,
    /// Pods (from a cluster), by (cluster, namespace, name), and by label for selection.
    pods: BTreeMap<PodId, Pod>,
    pod_by_pair: HashMap<PairKey, BTreeSet<PodId>>,
    generation: u64,
}

/// What a row is found by: names, addresses, hosts, localities, labels.
pub fn search_text(obj: &Object) -> String {
    let key = obj.key();
    let mut s = format!("{}/{}", key.namespace, key.name);
    if !key.cluster.is_only() {
        s.push(' ');
        s.push_str(key.cluster.name());
    }
    let mut push = |t: &str| {
        s.push(' ');
        s.push_str(t);
    };
    match obj {
        Object::ServiceEntry(se) => se.spec.hosts.iter().for_each(|h| push(h)),
        Object::WorkloadEntry(we) => {
            push(we.spec.address.as_deref().unwrap_or(""));
            push(we.spec.locality.as_deref().unwrap_or(""));
            we.spec
                .labels
                .iter()
                .for_each(|(k, v)| push(&format!("{k}={v}")));
        }
        Object::DestinationRule(dr) => push(&dr.spec.host),
        Object::WorkloadGroup(_) | Object::Sidecar(_) => {}
    }
    s
}

/// Labels a WorkloadEntry is selected by: spec labels, with metadata labels over them (istiod
/// merges both, metadata winning).
pub fn we_labels(we: &WorkloadEntry) -> Labels {
    let mut l = we.spec.labels.clone();
    for (k, v) in &we.metadata.labels {
        l.insert(k.clone(), v.clone());
    }
    l
}

fn selector_of(obj: &Object) -> Option<&Labels> {
    match obj {
        Object::ServiceEntry(se) => se.spec.workload_selector.as_ref().map(|s| &s.labels),
        _ => None,
    }
}

/// The WorkloadGroup an entry was generated from, if any.
pub fn owning_group(we: &WorkloadEntry) -> Option<String> {
    we.metadata
        .owner_references
        .iter()
        .find(|o| o.kind == "WorkloadGroup")
        .map(|o| o.name.clone())
        .or_else(|| {
            we.metadata
                .annotations
                .get(AUTO_REGISTRATION_GROUP)
                .cloned()
        })
}

impl Store {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bumped by every change; caches derived from the store compare it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.by_kind.get(&kind).map_or(0, |s| s.len())
    }

    pub fn get(&self, key: &ObjectKey) -> Option<&Entry> {
        self.objects.get(key)
    }

    /// What `key` is found by in a filter ("" when it is not stored).
    pub fn search_text(&self, key: &ObjectKey) -> &str {
        self.by_kind
            .get(&key.kind)
            .and_then(|m| m.get(key))
            .map_or("", |t| t)
    }

    /// Keys of one kind in namespace/name order, each with its search text.
    pub fn keys_with_text(&self, kind: Kind) -> impl Iterator<Item = (&ObjectKey, &Arc<str>)> {
        self.by_kind.get(&kind).into_iter().flatten()
    }

    /// Keys of one kind in namespace/name order.
    pub fn keys(&self, kind: Kind) -> impl Iterator<Item = &ObjectKey> {
        self.by_kind.get(&kind).into_iter().flat_map(|m| m.keys())
    }

    pub fn entries(&self, kind: Kind) -> impl Iterator<Item = &Entry> {
        self.keys(kind).filter_map(|k| self.objects.get(k))
    }

    pub fn namespaces(&self) -> BTreeSet<&str> {
        self.objects.keys().map(|k| k.namespace.as_str()).collect()
    }

    pub fn selected_wes(&self, se: &ObjectKey) -> impl Iterator<Item = &ObjectKey> {
        self.se_selects.get(se).into_iter().flatten()
    }

    pub fn selecting_ses(&self, we: &ObjectKey) -> impl Iterator<Item = &ObjectKey> {
        self.we_selected_by.get(we).into_iter().flatten()
    }

    pub fn group_entries(&self, wg: &ObjectKey) -> impl Iterator<Item = &ObjectKey> {
        self.wg_entries.get(wg).into_iter().flatten()
    }

    /// DestinationRules whose host is exactly `host` or a wildcard covering it, those in
    /// `prefer_ns` first (Istio prefers the rule in the service's own namespace).
    pub fn destination_rules_for(&self, host: &str, prefer_ns: &str) -> Vec<&ObjectKey> {
        let mut out: Vec<&ObjectKey> = self.dr_by_host.get(host).into_iter().flatten().collect();
        for (pattern, keys) in &self.dr_by_host {
            if let Some(suffix) = pattern.strip_prefix('*')
                && host.ends_with(suffix)
                && pattern != host
            {
                out.extend(keys);
            }
        }
        out.sort_by_key(|k| (k.namespace != prefer_ns, *k));
        out
    }

    /// Every ServiceEntry that declares `host`, in key order.
    pub fn services_for_host<'a>(
        &'a self,
        host: &str,
    ) -> impl Iterator<Item = &'a super::object::ServiceEntry> + 'a {
        self.se_by_host
            .get(host)
            .into_iter()
            .flatten()
            .filter_map(|k| match self.objects.get(k).map(|e| &e.object) {
                Some(Object::ServiceEntry(se)) => Some(se),
                _ => None,
            })
    }

    /// The keys of every ServiceEntry that declares `host`, in key order.
    pub fn service_keys_for_host(&self, host: &str) -> impl Iterator<Item = &ObjectKey> {
        self.se_by_host.get(host).into_iter().flatten()
    }

    /// Makes room for `n` more objects at once (a synced list), instead of growing step by step.
    pub fn reserve(&mut self, n: usize) {
        self.objects.reserve(n);
        self.we_selected_by.reserve(n);
    }

    pub fn pod_ids(&self) -> Vec<PodId> {
        self.pods.keys().cloned().collect()
    }

    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    pub fn upsert_pod(&mut self, pod: Pod) {
        let id = (pod.cluster.clone(), pod.namespace.clone(), pod.name.clone());
        if self.pods.get(&id) == Some(&pod) {
            return;
        }
        self.remove_pod(&id);
        let scope = (id.0.clone(), id.1.clone());
        for (k, v) in &pod.labels {
            self.pod_by_pair
                .entry((scope.clone(), k.clone(), v.clone()))
                .or_default()
                .insert(id.clone());
        }
        self.pods.insert(id, pod);
        self.generation += 1;
    }

    pub fn remove_pod(&mut self, id: &PodId) {
        if let Some(old) = self.pods.remove(id) {
            let scope = (id.0.clone(), id.1.clone());
            for (k, v) in old.labels {
                remove_from(&mut self.pod_by_pair, &(scope.clone(), k, v), id);
            }
            self.generation += 1;
        }
    }

    /// Pods in the namespace of `se` (and its cluster) whose labels carry every label of
    /// `selector` (none for an empty selector: Istio does not select every pod of a namespace
    /// with `{}`).
    pub fn pods_selected(&self, se: &ObjectKey, selector: &Labels) -> Vec<&Pod> {
        let scope = scope_of(se);
        let smallest = selector
            .iter()
            .map(|(k, v)| (scope.clone(), k.clone(), v.clone()))
            .min_by_key(|p| self.pod_by_pair.get(p).map_or(0, |s| s.len()));
        let Some(pair) = smallest else {
            return Vec::new();
        };
        self.pod_by_pair
            .get(&pair)
            .into_iter()
            .flatten()
            .filter_map(|id| self.pods.get(id))
            .filter(|p| selector::matches(selector, &p.labels))
            .collect()
    }

    /// Inserts or replaces one object and updates every index it takes part in.
    pub fn upsert(&mut self, entry: Entry) {
        let key = entry.object.key();
        if let Some(old) = self.objects.get(&key)
            && old == &entry
        {
            return;
        }
        self.unindex(&key);
        self.by_kind
            .entry(key.kind)
            .or_default()
            .insert(key.clone(), search_text(&entry.object).into());
        self.objects.insert(key.clone(), entry);
        self.index(&key);
        self.generation += 1;
    }

    pub fn remove(&mut self, key: &ObjectKey) -> Option<Entry> {
        if !self.objects.contains_key(key) {
            return None;
        }
        self.unindex(key);
        if let Some(set) = self.by_kind.get_mut(&key.kind) {
            set.remove(key);
        }
        self.generation += 1;
        self.objects.remove(key)
    }

    fn index(&mut self, key: &ObjectKey) {
        let Some(entry) = self.objects.get(key) else {
            return;
        };
        match &entry.object {
            Object::ServiceEntry(se) => {
                for h in se.spec.hosts.clone() {
                    self.se_by_host.entry(h).or_default().insert(key.clone());
                }
                let sel = selector_of(&entry.object).cloned();
                if let Some(sel) = sel {
                    self.index_se_selector(key, &sel);
                }
            }
            Object::WorkloadEntry(we) => {
                let labels = we_labels(we);
                let group = owning_group(we);
                self.index_we(key, &labels, group);
            }
            Object::DestinationRule(dr) => {
                let host = dr.spec.host.clone();
                self.dr_by_host.entry(host).or_default().insert(key.clone());
            }
            Object::WorkloadGroup(_) | Object::Sidecar(_) => {}
        }
    }

    fn index_se_selector(&mut self, se: &ObjectKey, sel: &Labels) {
        let ns = scope_of(se);
        let matches: BTreeSet<ObjectKey> = match sel.iter().next() {
            None => {
                self.se_select_all
                    .entry(ns.clone())
                    .or_default()
                    .insert(se.clone());
                self.we_by_ns
                    .get(&ns)
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect()
            }
            Some(_) => {
                // Scan the smallest posting list among the selector's labels.
                let smallest = sel
                    .iter()
                    .map(|(k, v)| (ns.clone(), k.clone(), v.clone()))
                    .min_by_key(|p| self.we_by_pair.get(p).map_or(0, |s| s.len()));
                let first = sel
                    .iter()
                    .next()
                    .map(|(k, v)| (ns.clone(), k.clone(), v.clone()));
                if let Some(first) = first {
                    self.se_by_pair.entry(first).or_default().insert(se.clone());
                }
                let candidates = smallest.and_then(|p| self.we_by_pair.get(&p));
                candidates
                    .into_iter()
                    .flatten()
                    .filter(|we| {
                        self.objects.get(*we).is_some_and(|e| match &e.object {
                            Object::WorkloadEntry(w) => selector::matches(sel, &we_labels(w)),
                            _ => false,
                        })
                    })
                    .cloned()
                    .collect()
            }
        };
        for we in &matches {
            self.we_selected_by
                .entry(we.clone())
                .or_default()
                .insert(se.clone());
        }
        self.se_selects.insert(se.clone(), matches);
    }

    fn index_we(&mut self, we: &ObjectKey, labels: &Labels, group: Option<String>) {
        let ns = scope_of(we);
        self.we_by_ns
            .entry(ns.clone())
            .or_default()
            .insert(we.clone());
        let mut candidates: HashSet<ObjectKey> =
            self.se_select_all.get(&ns).cloned().unwrap_or_default();
        for (k, v) in labels {
            let pair = (ns.clone(), k.clone(), v.clone());
            if let Some(ses) = self.se_by_pair.get(&pair) {
                candidates.extend(ses.iter().cloned());
            }
            self.we_by_pair.entry(pair).or_default().insert(we.clone());
        }
        let selected: BTreeSet<ObjectKey> = candidates
            .into_iter()
            .filter(|se| {
                self.objects
                    .get(se)
                    .and_then(|e| selector_of(&e.object))
                    .is_some_and(|sel| selector::matches(sel, labels))
            })
            .collect();
        for se in &selected {
            self.se_selects
                .entry(se.clone())
                .or_default()
                .insert(we.clone());
        }
        if !selected.is_empty() {
            self.we_selected_by.insert(we.clone(), selected);
        }
        if let Some(g) = group {
            let wg = ObjectKey::new(Kind::WorkloadGroup, ns.1, g).in_cluster(&ns.0);
            self.wg_entries.entry(wg).or_default().insert(we.clone());
        }
    }

    fn unindex(&mut self, key: &ObjectKey) {
        let Some(entry) = self.objects.get(key) else {
            return;
        };
        match &entry.object {
            Object::ServiceEntry(se) => {
                for h in &se.spec.hosts {
                    remove_from(&mut self.se_by_host, h, key);
                }
                if let Some(sel) = selector_of(&entry.object) {
                    let ns = scope_of(key);
                    match sel.iter().next() {
                        None => remove_from(&mut self.se_select_all, &ns, key),
                        Some((k, v)) => {
                            let pair = (ns, k.clone(), v.clone());
                            remove_from(&mut self.se_by_pair, &pair, key);
                        }
                    }
                }
                for we in self.se_selects.remove(key).unwrap_or_default() {
                    remove_from(&mut self.we_selected_by, &we, key);
                }
            }
            Object::WorkloadEntry(we) => {
                let ns = scope_of(key);
                for (k, v) in we_labels(we) {
                    remove_from(&mut self.we_by_pair, &(ns.clone(), k, v), key);
                }
                remove_from(&mut self.we_by_ns, &ns, key);
                if let Some(g) = owning_group(we) {
                    let wg = ObjectKey::new(Kind::WorkloadGroup, ns.1, g).in_cluster(&ns.0);
                    remove_from(&mut self.wg_entries, &wg, key);
                }
                // An SE keeps its (maybe now empty) set: it is still indexed.
                for se in self.we_selected_by.remove(key).unwrap_or_default() {
                    if let Some(set) = self.se_selects.get_mut(&se) {
                        set.remove(key);
                    }
                }
            }
            Object::DestinationRule(dr) => {
                let host = dr.spec.host.clone();
                remove_from(&mut self.dr_by_host, &host, key);
            }
            Object::WorkloadGroup(_) | Object::Sidecar(_) => {}
        }
    }
}

fn scope_of(key: &ObjectKey) -> Scope {
    (key.cluster.clone(), key.namespace.clone())
}

/// A set in an index map: removing a member says whether the set is now empty.
trait Members<V> {
    fn remove_member(&mut self, v: &V) -> bool;
}

impl<V: Ord> Members<V> for BTreeSet<V> {
    fn remove_member(&mut self, v: &V) -> bool {
        self.remove(v);
        self.is_empty()
    }
}

impl<V: std::hash::Hash + Eq> Members<V> for HashSet<V> {
    fn remove_member(&mut self, v: &V) -> bool {
        self.remove(v);
        self.is_empty()
    }
}

/// Takes `v` out of the set under `k`, and the set out of the map once it is empty.
fn remove_from<K: std::hash::Hash + Eq, V, S: Members<V>>(map: &mut HashMap<K, S>, k: &K, v: &V) {
    if map.get_mut(k).is_some_and(|set| set.remove_member(v)) {
        map.remove(k);
    }
}
