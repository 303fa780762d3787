//! The keys of every object of one kind in table order, and their search texts, built once per
//! store generation so that typing a filter only matches, never re-formats 100k rows. The texts
//! are made only when a filter asks for them: an unfiltered list (the first paint after a sync)
//! needs the keys alone.

use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::store::Store;

#[derive(Debug, Default)]
pub struct SearchIndex {
    pub generation: Option<u64>,
    /// In the store's namespace/name order.
    pub keys: Vec<ObjectKey>,
    /// Parallel to `keys` once `texts` has been called for this generation; empty before.
    texts: Vec<Box<str>>,
}

impl SearchIndex {
    pub fn refresh(&mut self, store: &Store, kind: Kind) {
        if self.generation == Some(store.generation()) {
            return;
        }
        self.keys = store.keys(kind).cloned().collect();
        self.texts.clear();
        self.generation = Some(store.generation());
    }

    pub fn texts(&mut self, store: &Store, text: impl Fn(&Object) -> String) -> &[Box<str>] {
        if self.texts.len() != self.keys.len() {
            self.texts = self
                .keys
                .iter()
                .map(|k| store.get(k).map_or_else(String::new, |e| text(&e.object)))
                .map(String::into_boxed_str)
                .collect();
        }
        &self.texts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::store::Entry;
    use serde_json::json;

    fn we(name: &str) -> Entry {
        let v = json!({"apiVersion": "networking.istio.io/v1", "kind": "WorkloadEntry",
            "metadata": {"name": name, "namespace": "ns"}, "spec": {"address": "10.0.0.1"}});
        Entry {
            object: Object::from_value(v, "default").unwrap(),
            origin: None,
        }
    }

    #[test]
    fn texts_follow_the_keys_of_the_current_generation() {
        let mut store: Store = [we("b"), we("a")].into_iter().collect();
        let mut index = SearchIndex::default();
        index.refresh(&store, Kind::WorkloadEntry);
        assert!(index.texts.is_empty(), "no texts until a filter asks");
        let name = |o: &Object| o.key().name;
        assert_eq!(index.texts(&store, name).join(","), "a,b");
        store.upsert(we("c"));
        index.refresh(&store, Kind::WorkloadEntry);
        assert_eq!(index.texts(&store, name).join(","), "a,b,c");
    }
}
