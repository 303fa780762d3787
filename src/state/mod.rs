//! Plain data: everything the console knows. Only `update` changes it; views borrow it.

pub mod config;
pub mod derived;
pub mod dirty;
pub mod edit;
pub mod edits;
pub mod list;
pub mod logs;
pub mod planes;
pub mod registry;
pub mod search;
pub mod setup;
pub mod timeline;
pub mod ui;

pub use config::{Config, PlanesStart};
pub use edit::{EditFocus, EditSession, EditStage, EditTarget, PreviewRow};
pub use list::{ListView, RowId, Screen};

use crate::model::share::Viewpoint;
use std::collections::BTreeMap;

pub use ui::Mode;

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

    /// Every watched cluster's line, those in trouble first (None: no cluster).
    pub fn summary_of<'a>(views: impl Iterator<Item = &'a KubeView>) -> Option<(bool, String)> {
        let mut lines: Vec<(bool, String)> = views.map(KubeView::summary).collect();
        if lines.is_empty() {
            return None;
        }
        lines.sort_by_key(|(bad, _)| !*bad);
        let bad = lines[0].0;
        let text = lines
            .into_iter()
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
            .join(" | ");
        Some((bad, text))
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

pub use registry::FileInfo;

/// Everything the console knows, in parts each changed by its own update module.
pub struct State {
    pub registry: registry::Registry,
    pub ui: ui::Ui,
    pub edits: edits::Edits,
    pub setup: setup::Setup,
    /// Which proxy the endpoints, shares and drift are seen from.
    pub viewpoint: Viewpoint,
    /// Each watched cluster's connection (empty when the registry came from files).
    pub kube: BTreeMap<crate::model::cluster::Cluster, KubeView>,
    /// The control and data planes, when an xDS server or Envoys are configured.
    pub planes: planes::PlanesView,
    /// Observed traffic (the demo's own counters).
    pub traffic: Option<Traffic>,
    /// The sidecar log being read, while its screen is open.
    pub logs: Option<logs::LogPane>,
    /// What changed: registry, health, connections, the control plane, edits.
    pub timeline: timeline::TimelineView,
}

impl State {
    pub fn new(config: Config) -> State {
        let Config {
            source_label,
            readonly,
            keymap,
            who,
            config_errors,
            mesh,
            namespace,
            notice,
            demo,
            clusters,
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
            registry: registry::Registry::new(store),
            ui: ui::Ui::new(namespace, notice),
            edits: edits::Edits::default(),
            setup: setup::Setup {
                source_label,
                readonly,
                demo,
                keymap,
                who,
                config_errors,
            },
            viewpoint,
            kube: clusters
                .into_iter()
                .map(|(cluster, context, scoped)| {
                    let view = KubeView {
                        context,
                        scoped,
                        ..Default::default()
                    };
                    (cluster, view)
                })
                .collect(),
            planes,
            traffic: None,
            logs: None,
            timeline: timeline::TimelineView::default(),
        }
    }

    /// The registry comes from one cluster or more (not files).
    pub fn on_cluster(&self) -> bool {
        !self.kube.is_empty()
    }

    /// Why the cluster that holds `key` refuses writes to its kind, if it does.
    pub fn write_denied(&self, key: &crate::model::object::ObjectKey) -> Option<&String> {
        self.kube
            .get(&key.cluster)
            .and_then(|k| k.no_write.get(&key.kind))
    }

    /// Several clusters are watched: rows say which one each object is in.
    pub fn several_clusters(&self) -> bool {
        self.kube.len() > 1
    }

    /// Namespace names every watched cluster listed, together (None: none could tell).
    pub fn known_namespaces(&self) -> Option<std::collections::BTreeSet<&str>> {
        let lists: Vec<_> = self
            .kube
            .values()
            .filter_map(|k| k.namespaces.as_ref())
            .collect();
        (!lists.is_empty()).then(|| lists.into_iter().flatten().map(String::as_str).collect())
    }

    pub fn screen(&self) -> &Screen {
        self.ui
            .screens
            .last()
            .unwrap_or(&Screen::List(crate::model::object::Kind::ServiceEntry))
    }

    pub fn list(&self) -> Option<&ListView> {
        self.ui.lists.get(self.screen())
    }

    /// Rows a page of a list holds: the screen less the title, rule, header, hints and status.
    pub fn page_size(&self) -> usize {
        usize::from(self.ui.viewport.1.saturating_sub(5)).max(1)
    }

    /// The endpoint a row of the Endpoints screen points at.
    pub fn endpoint_at(
        &self,
        port: usize,
        index: usize,
    ) -> Option<&crate::model::endpoint::Endpoint> {
        self.registry
            .endpoints
            .as_ref()?
            .ports
            .get(port)?
            .endpoints
            .get(index)
    }

    pub fn load_errors(&self) -> impl Iterator<Item = &crate::msg::files::LoadError> {
        self.registry.load_errors()
    }

    pub fn findings_outdated(&self) -> bool {
        self.registry.findings_outdated()
    }

    /// Lint runs again only when the store moved on since the last run.
    /// Why edits are off, for the message that refuses one.
    pub fn readonly_why(&self) -> &'static str {
        if self.timeline.replay.is_some() {
            "this is a replay of a recording"
        } else {
            "meshdeck was started with --readonly"
        }
    }

    pub fn refresh_findings(&mut self) {
        self.registry.refresh_findings(&self.viewpoint.mesh);
    }
}
