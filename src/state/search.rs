//! The keys of every object of one kind in table order, taken once per store generation; the
//! texts a filter matches are the store's own (`Store::search_text`), made as objects are
//! stored, so typing a filter only matches, never re-formats 100k rows.

use crate::model::object::{Kind, ObjectKey};
use crate::model::store::Store;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct SearchIndex {
    pub generation: Option<u64>,
    /// In the store's namespace/name order.
    pub keys: Vec<ObjectKey>,
    /// Parallel to `keys`: the store's texts, shared, not copied.
    pub texts: Vec<Arc<str>>,
}

impl SearchIndex {
    pub fn refresh(&mut self, store: &Store, kind: Kind) {
        if self.generation == Some(store.generation()) {
            return;
        }
        (self.keys, self.texts) = store
            .keys_with_text(kind)
            .map(|(k, t)| (k.clone(), t.clone()))
            .unzip();
        self.generation = Some(store.generation());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::object::Object;
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
    fn keys_and_texts_follow_the_store() {
        let mut store: Store = [we("b"), we("a")].into_iter().collect();
        let mut index = SearchIndex::default();
        index.refresh(&store, Kind::WorkloadEntry);
        let names = |i: &SearchIndex| i.keys.iter().map(|k| k.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&index), ["a", "b"]);
        assert_eq!(store.search_text(&index.keys[0]), "ns/a 10.0.0.1 ");
        store.upsert(we("c"));
        index.refresh(&store, Kind::WorkloadEntry);
        assert_eq!(names(&index), ["a", "b", "c"]);
        let c = index.keys[2].clone();
        store.remove(&c);
        assert_eq!(
            store.search_text(&c),
            "",
            "a removed object's text goes with it"
        );
    }
}
