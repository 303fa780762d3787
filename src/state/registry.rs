//! The registry as the console holds it: the objects, the files they came from, lint findings,
//! and what is derived from them for the lists. Changed by `update/registry.rs`,
//! `update/kube.rs` and `update/rows.rs`.

use super::derived::Derived;
use super::search::SearchIndex;
use crate::model::endpoint::ServiceEndpoints;
use crate::model::lint::Finding;
use crate::model::object::{Kind, ObjectKey};
use crate::model::store::Store;
use crate::model::visibility::Mesh;
use crate::msg::files::LoadError;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

#[derive(Debug, Default, Clone)]
pub struct FileInfo {
    pub keys: Vec<ObjectKey>,
    pub revision: String,
    pub errors: Vec<LoadError>,
}

#[derive(Default)]
pub struct Registry {
    pub store: Store,
    pub findings: Vec<Finding>,
    /// The store generation the findings are for (None: never linted).
    findings_at: Option<u64>,
    pub files: BTreeMap<PathBuf, FileInfo>,
    pub search: HashMap<Kind, SearchIndex>,
    /// Endpoint counts and sort keys per store generation.
    pub derived: Derived,
    /// Derived endpoints of the service on the Endpoints screen.
    pub endpoints: Option<ServiceEndpoints>,
    /// Observed requests per second and share of its port, per port index and address, of
    /// those endpoints (the demo's counters; None when the planes are watched instead).
    pub observed: Option<Vec<BTreeMap<String, (f64, f64)>>>,
    /// What to derive again before the next frame (see `dirty.rs`).
    pub dirty: super::dirty::Dirty,
    pub last_lint: Option<std::time::Instant>,
}

impl Registry {
    pub fn new(store: Store) -> Registry {
        Registry {
            store,
            ..Registry::default()
        }
    }

    pub fn load_errors(&self) -> impl Iterator<Item = &LoadError> {
        self.files.values().flat_map(|f| f.errors.iter())
    }

    pub fn findings_outdated(&self) -> bool {
        self.findings_at != Some(self.store.generation())
    }

    /// Lint runs again only when the store moved on since the last run.
    pub fn refresh_findings(&mut self, mesh: &Mesh) {
        if self.findings_outdated() {
            self.findings = crate::model::lint::run_with(&self.store, mesh);
            self.findings_at = Some(self.store.generation());
        }
    }
}
