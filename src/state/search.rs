//! Search texts of every object of one kind, built once per store generation so that typing a
//! filter only matches, never re-formats 100k rows.

use crate::model::object::{Kind, ObjectKey};
use crate::model::store::Store;

#[derive(Debug, Default)]
pub struct SearchIndex {
    pub generation: Option<u64>,
    /// In the store's namespace/name order.
    pub entries: Vec<(ObjectKey, Box<str>)>,
}

impl SearchIndex {
    pub fn refresh(
        &mut self,
        store: &Store,
        kind: Kind,
        text: impl Fn(&crate::model::object::Object) -> String,
    ) {
        if self.generation == Some(store.generation()) {
            return;
        }
        self.entries = store
            .entries(kind)
            .map(|e| (e.object.key(), text(&e.object).into_boxed_str()))
            .collect();
        self.generation = Some(store.generation());
    }
}
