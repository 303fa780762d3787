//! A store filled with one kind alone (the watcher builds it off the screen's thread while the
//! pages of a list arrive) and joined into the main store at once when the list is complete.

use super::{Entry, Store, selector_of};
use crate::model::cluster::Cluster;
use crate::model::object::{Kind, ObjectKey};
use std::collections::HashMap;
use std::hash::Hash;

impl FromIterator<Entry> for Store {
    fn from_iter<I: IntoIterator<Item = Entry>>(entries: I) -> Self {
        let mut store = Store::new();
        for e in entries {
            store.upsert(e);
        }
        store
    }
}

impl Store {
    /// Every entry, kind by kind in namespace/name order.
    pub fn into_entries(mut self) -> Vec<Entry> {
        let keys: Vec<ObjectKey> = std::mem::take(&mut self.by_kind)
            .into_values()
            .flat_map(|m| m.into_keys())
            .collect();
        keys.iter().filter_map(|k| self.objects.remove(k)).collect()
    }

    /// Replaces every object of `kind` in `cluster` with those of `shard`, a store holding
    /// that kind of that cluster alone. The first time (none of the kind here yet) the shard's
    /// own indexes are taken over whole and only the links to other kinds are computed, per
    /// ServiceEntry; after that (a relist, or another cluster's list) each object is compared
    /// and upserted, and those of `cluster` the list no longer has are removed.
    pub fn replace_kind(&mut self, kind: Kind, cluster: &Cluster, shard: Store) {
        debug_assert!(shard.objects.keys().all(|k| k.kind == kind));
        if self.count(kind) > 0 {
            let gone: Vec<ObjectKey> = self
                .keys(kind)
                .filter(|k| k.cluster == *cluster && !shard.objects.contains_key(*k))
                .cloned()
                .collect();
            for k in &gone {
                self.remove(k);
            }
            self.reserve(shard.len());
            for e in shard.objects.into_values() {
                self.upsert(e);
            }
            return;
        }
        let Store {
            objects,
            mut by_kind,
            se_by_pair,
            se_select_all,
            we_by_pair,
            we_by_ns,
            wg_entries,
            dr_by_host,
            se_by_host,
            ..
        } = shard;
        if objects.is_empty() {
            return;
        }
        absorb(&mut self.objects, objects);
        if let Some(keys) = by_kind.remove(&kind) {
            self.by_kind.insert(kind, keys);
        }
        absorb_sets(&mut self.se_by_pair, se_by_pair);
        absorb_sets(&mut self.se_select_all, se_select_all);
        absorb_sets(&mut self.we_by_pair, we_by_pair);
        absorb_sets(&mut self.we_by_ns, we_by_ns);
        absorb_sets(&mut self.wg_entries, wg_entries);
        absorb_sets(&mut self.dr_by_host, dr_by_host);
        absorb_sets(&mut self.se_by_host, se_by_host);
        // The links between ServiceEntries and WorkloadEntries: one posting-list lookup per SE,
        // from whichever side just arrived.
        if matches!(kind, Kind::ServiceEntry | Kind::WorkloadEntry) {
            let selectors: Vec<_> = self
                .entries(Kind::ServiceEntry)
                .filter_map(|e| Some((e.object.key(), selector_of(&e.object)?.clone())))
                .collect();
            for (se, sel) in selectors {
                self.index_se_selector(&se, &sel);
            }
        }
        self.generation += 1;
    }
}

/// Moves `from` into `into`, inserting the smaller map into the larger.
fn absorb<K: Hash + Eq, V>(into: &mut HashMap<K, V>, mut from: HashMap<K, V>) {
    if from.len() > into.len() {
        std::mem::swap(into, &mut from);
    }
    into.extend(from);
}

fn absorb_sets<K: Hash + Eq, S>(into: &mut HashMap<K, S>, mut from: HashMap<K, S>)
where
    S: Default + Extend<ObjectKey> + IntoIterator<Item = ObjectKey>,
{
    if from.len() > into.len() {
        std::mem::swap(into, &mut from);
    }
    for (k, set) in from {
        into.entry(k).or_default().extend(set);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::object::Object;
    use serde_json::json;

    fn entry(v: serde_json::Value) -> Entry {
        Entry {
            object: Object::from_value(v, "default").unwrap(),
            origin: None,
        }
    }

    fn we(name: &str, app: &str, group: Option<&str>) -> Entry {
        let mut v = json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"address": "10.0.0.1", "labels": {"app": app}}});
        if let Some(g) = group {
            v["metadata"]["annotations"] = json!({"istio.io/autoRegistrationGroup": g});
        }
        entry(v)
    }

    fn se(name: &str, app: &str) -> Entry {
        entry(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"hosts": [format!("{name}.example")], "workloadSelector": {"labels": {"app": app}}}}),
        )
    }

    fn key(kind: Kind, name: &str) -> ObjectKey {
        ObjectKey::new(kind, "ns", name)
    }

    fn selected(store: &Store, se: &str) -> Vec<String> {
        store
            .selected_wes(&key(Kind::ServiceEntry, se))
            .map(|k| k.name.clone())
            .collect()
    }

    #[test]
    fn a_first_sync_joins_both_ways() {
        let mut store = Store::new();
        store.replace_kind(
            Kind::ServiceEntry,
            &Cluster::ONLY,
            [se("a", "x"), se("b", "y")].into_iter().collect(),
        );
        store.replace_kind(
            Kind::WorkloadEntry,
            &Cluster::ONLY,
            [
                we("w1", "x", Some("g")),
                we("w2", "y", None),
                we("w3", "x", None),
            ]
            .into_iter()
            .collect(),
        );
        assert_eq!(selected(&store, "a"), ["w1", "w3"]);
        assert_eq!(selected(&store, "b"), ["w2"]);
        let ses: Vec<_> = store
            .selecting_ses(&key(Kind::WorkloadEntry, "w2"))
            .map(|k| k.name.clone())
            .collect();
        assert_eq!(ses, ["b"]);
        let group: Vec<_> = store
            .group_entries(&key(Kind::WorkloadGroup, "g"))
            .map(|k| k.name.clone())
            .collect();
        assert_eq!(group, ["w1"]);
        assert_eq!(store.count(Kind::WorkloadEntry), 3);
    }

    #[test]
    fn a_relist_removes_what_the_list_no_longer_has_and_keeps_the_links() {
        let mut store: Store = [se("a", "x"), we("w1", "x", None), we("w2", "x", None)]
            .into_iter()
            .collect();
        let before = store.generation();
        store.replace_kind(
            Kind::WorkloadEntry,
            &Cluster::ONLY,
            [we("w2", "x", None), we("w4", "x", None)]
                .into_iter()
                .collect(),
        );
        assert_eq!(selected(&store, "a"), ["w2", "w4"]);
        assert!(store.get(&key(Kind::WorkloadEntry, "w1")).is_none());
        assert!(store.generation() > before);
        // An empty list empties the kind.
        store.replace_kind(Kind::WorkloadEntry, &Cluster::ONLY, Store::new());
        assert_eq!(store.count(Kind::WorkloadEntry), 0);
        assert!(selected(&store, "a").is_empty());
    }

    #[test]
    fn entries_come_back_in_key_order() {
        let store: Store = [we("b", "x", None), se("z", "x"), we("a", "x", None)]
            .into_iter()
            .collect();
        let names: Vec<_> = store
            .into_entries()
            .into_iter()
            .map(|e| e.object.key().to_string())
            .collect();
        assert_eq!(names, ["se ns/z", "we ns/a", "we ns/b"]);
    }
}
