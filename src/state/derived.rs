//! What is derived from the registry for the lists, kept per store generation so that neither
//! a frame nor a key press derives it again: the endpoint counts of every ServiceEntry (its
//! ENDPOINTS cell) and the sort keys of the column a list is sorted by. Filled by
//! `update/rows.rs`; views only read it.

use crate::model::object::{Kind, ObjectKey};
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct Derived {
    /// The store generation the counts are for.
    pub counts_at: Option<u64>,
    /// ServiceEntry → (healthy, all) endpoints.
    pub endpoint_counts: HashMap<ObjectKey, (usize, usize)>,
    /// (kind, column, generation) the sort keys are for.
    pub sorted_by: Option<(Kind, usize, u64)>,
    pub sort_keys: HashMap<ObjectKey, String>,
    /// How many derivations of a service's endpoints the cache has run (for `bench`).
    pub derivations: u64,
}

impl Derived {
    pub fn counts(&self, key: &ObjectKey) -> Option<(usize, usize)> {
        self.endpoint_counts.get(key).copied()
    }
}
