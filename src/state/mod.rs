//! Plain data: everything the console knows. Only `update` changes it; views borrow it.

pub mod config;
pub mod derived;
pub mod edit;
pub mod list;
pub mod planes;
pub mod search;

pub use config::{Config, PlanesStart};
pub use edit::{EditFocus, EditSession, EditStage, EditTarget, PreviewRow};
pub use list::{ListView, RowId, Screen};

use crate::config::ConfigError;
use crate::config::key::Key;
use crate::config::keymap::Keymap;
use crate::model::edit::Applied;
use crate::model::endpoint::ServiceEndpoints;
use crate::model::lint::Finding;
use crate::model::object::ObjectKey;
use crate::model::share::Viewpoint;
use crate::model::store::Store;
use crate::msg::files::LoadError;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Command,
    Filter,
}

pub use crate::msg::Level;

/// The cluster connection as the status bar shows it.
#[derive(Debug, Default, Clone)]
pub struct KubeView {
    pub context: String,
    pub versions: BTreeMap<crate::model::object::Kind, String>,
    pub states: BTreeMap<crate::model::object::Kind, crate::msg::kube::ConnState>,
    /// Namespace names, once listed (None: unknown or not allowed).
    pub namespaces: Option<std::collections::BTreeSet<String>>,
    /// The watchers cover one namespace (-n), so `:ns` moves them instead of filtering.
    pub scoped: bool,
    /// Kinds this user may not patch (a 403 came back): editing is off for them.
    pub no_write: BTreeMap<crate::model::object::Kind, String>,
    /// The API server could not be used since then; the session retries.
    pub down: Option<Down>,
}

#[derive(Debug, Clone)]
pub struct Down {
    pub server: String,
    pub since: std::time::SystemTime,
    pub error: String,
}

impl KubeView {
    /// One line: `ctx prod: watching 5/5`, or what is wrong, worst first.
    pub fn summary(&self) -> (bool, String) {
        use crate::msg::kube::ConnState::*;
        if let Some(d) = &self.down {
            let ago = d.since.elapsed().map(|d| d.as_secs()).unwrap_or(0);
            let at = if d.server.is_empty() {
                String::new()
            } else {
                format!(" at {}", d.server)
            };
            // The cause first: on an 80-column line it is what must not be cut off.
            return (
                true,
                format!(
                    "ctx {}: {}{at}; retrying since {ago}s",
                    self.context, d.error
                ),
            );
        }
        let total = self.states.len();
        let watching = self
            .states
            .values()
            .filter(|s| matches!(s, Watching))
            .count();
        let mut problems: Vec<String> = Vec::new();
        for (k, s) in &self.states {
            match s {
                Retrying { since, error } => {
                    let ago = since.elapsed().map(|d| d.as_secs()).unwrap_or(0);
                    problems.push(format!(
                        "{} disconnected {ago}s ago, data may be stale: {error}",
                        k.short()
                    ));
                }
                Forbidden(_) => problems.push(format!("{} forbidden", k.short())),
                Syncing => problems.push(format!("{} syncing", k.short())),
                NotInstalled | Watching => {}
            }
        }
        let bad = problems
            .iter()
            .any(|p| p.contains("disconnected") || p.contains("forbidden"));
        let head = format!("ctx {}: watching {watching}/{total}", self.context);
        if problems.is_empty() {
            (false, head)
        } else {
            (bad, format!("{head}; {}", problems.join("; ")))
        }
    }

    pub fn is_stale(&self, kind: crate::model::object::Kind) -> bool {
        matches!(
            self.states.get(&kind),
            Some(crate::msg::kube::ConnState::Retrying { .. })
        )
    }
}

/// Observed traffic: proxy id → endpoint address → requests per second.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Traffic {
    pub per_proxy: BTreeMap<String, BTreeMap<String, f64>>,
    /// Proxy id → its locality, to match the viewpoint.
    pub localities: BTreeMap<String, String>,
}

impl Traffic {
    /// Requests per second per address as seen from proxies in `locality` (all when None).
    pub fn rates(&self, locality: Option<&str>) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (proxy, rates) in &self.per_proxy {
            let here = self.localities.get(proxy).map(String::as_str);
            if locality.is_some_and(|l| here.is_none_or(|h| !h.starts_with(l))) {
                continue;
            }
            for (addr, r) in rates {
                *out.entry(addr.clone()).or_insert(0.0) += r;
            }
        }
        out
    }
}

#[derive(Debug, Default, Clone)]
pub struct FileInfo {
    pub keys: Vec<ObjectKey>,
    pub revision: String,
    pub errors: Vec<LoadError>,
}

pub struct State {
    pub store: Store,
    pub findings: Vec<Finding>,
    findings_generation: u64,
    pub files: BTreeMap<PathBuf, FileInfo>,
    pub source_label: String,
    pub notice: Option<String>,
    pub readonly: bool,
    pub namespace: Option<String>,
    pub viewpoint: Viewpoint,
    pub screens: Vec<Screen>,
    pub lists: HashMap<Screen, ListView>,
    pub search: HashMap<crate::model::object::Kind, search::SearchIndex>,
    /// Endpoint counts and sort keys per store generation.
    pub derived: derived::Derived,
    /// Derived endpoints of the service on the Endpoints screen.
    pub endpoints: Option<ServiceEndpoints>,
    pub mode: Mode,
    pub input: String,
    pub edit: Option<EditSession>,
    pub undo: Vec<Vec<Applied>>,
    /// Edits sent to the source and not answered yet: id → what they do.
    pub in_flight: BTreeMap<u64, (bool, String)>,
    pub next_request: u64,
    pub status: Option<(Level, String)>,
    pub config_errors: Vec<ConfigError>,
    pub keymap: Keymap,
    pub pending_keys: Vec<Key>,
    pub show_help: bool,
    /// Lines scrolled down in the help.
    pub help_scroll: u16,
    /// The terminal's width and height, as the last resize said.
    pub viewport: (u16, u16),
    pub quit: bool,
    /// Running as `meshdeck demo`: the demo keys work and traffic is observed.
    pub demo: bool,
    pub traffic: Option<Traffic>,
    /// Set when the registry came from a cluster.
    pub kube: Option<KubeView>,
    /// Edits the API server accepted that the watch has not delivered yet: shown as pending.
    pub pending: Vec<crate::model::edit::FieldEdit>,
    /// Rows to rebuild on the next tick (after a burst of watch events).
    pub stale_rows: bool,
    pub last_lint: Option<std::time::Instant>,
    /// The control and data planes, when an xDS server or Envoys are configured.
    pub planes: planes::PlanesView,
}

impl State {
    pub fn new(config: Config) -> State {
        let Config {
            source_label,
            readonly,
            keymap,
            config_errors,
            mesh,
            namespace,
            notice,
            demo,
            cluster,
            planes,
            store,
        } = config;
        let mut viewpoint = Viewpoint {
            mesh,
            ..Viewpoint::default()
        };
        let planes = planes.map_or_else(planes::PlanesView::default, |p| {
            viewpoint.namespace = p.view_namespace;
            viewpoint.locality = p.view_locality;
            p.view
        });
        State {
            store,
            findings: Vec::new(),
            findings_generation: u64::MAX,
            files: BTreeMap::new(),
            source_label,
            notice,
            readonly,
            namespace,
            viewpoint,
            screens: vec![Screen::List(crate::model::object::Kind::ServiceEntry)],
            lists: HashMap::new(),
            search: HashMap::new(),
            derived: derived::Derived::default(),
            endpoints: None,
            mode: Mode::Normal,
            input: String::new(),
            edit: None,
            undo: Vec::new(),
            in_flight: BTreeMap::new(),
            next_request: 1,
            status: None,
            config_errors,
            keymap,
            pending_keys: Vec::new(),
            show_help: false,
            help_scroll: 0,
            viewport: (80, 24),
            quit: false,
            demo,
            traffic: None,
            kube: cluster.map(|(context, scoped)| KubeView {
                context,
                scoped,
                ..Default::default()
            }),
            pending: Vec::new(),
            stale_rows: false,
            last_lint: None,
            planes,
        }
    }

    pub fn screen(&self) -> &Screen {
        self.screens
            .last()
            .unwrap_or(&Screen::List(crate::model::object::Kind::ServiceEntry))
    }

    /// Rows a page of a list holds: the screen less the title, rule, header, hints and status.
    pub fn page_size(&self) -> usize {
        usize::from(self.viewport.1.saturating_sub(5)).max(1)
    }

    pub fn list(&self) -> Option<&ListView> {
        self.lists.get(self.screen())
    }

    /// The endpoint a row of the Endpoints screen points at.
    pub fn endpoint_at(
        &self,
        port: usize,
        index: usize,
    ) -> Option<&crate::model::endpoint::Endpoint> {
        self.endpoints
            .as_ref()?
            .ports
            .get(port)?
            .endpoints
            .get(index)
    }

    pub fn load_errors(&self) -> impl Iterator<Item = &LoadError> {
        self.files.values().flat_map(|f| f.errors.iter())
    }

    pub fn findings_outdated(&self) -> bool {
        self.findings_generation != self.store.generation()
    }

    /// Lint runs again only when the store moved on since the last run.
    pub fn refresh_findings(&mut self) {
        if self.findings_generation != self.store.generation() {
            self.findings = crate::model::lint::run_with(&self.store, &self.viewpoint.mesh);
            self.findings_generation = self.store.generation();
        }
    }
}
