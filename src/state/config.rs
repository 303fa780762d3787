//! What the console starts with: everything the start-up (main, a benchmark, a test) decides
//! before the first message. `State::new` takes it whole, so nothing outside `update` writes a
//! field of `State`.

use crate::config::ConfigError;
use crate::config::keymap::Keymap;
use crate::model::locality::Locality;
use crate::model::store::Store;
use crate::model::visibility::Mesh;

pub struct Config {
    /// What the title bar says the registry comes from.
    pub source_label: String,
    pub readonly: bool,
    pub keymap: Keymap,
    /// Who runs the console (the local user, the host): named in what a drain writes.
    pub who: super::setup::Who,
    /// Broken keymap or theme files, named in the status bar.
    pub config_errors: Vec<ConfigError>,
    /// `--mesh-config`: the mesh defaults the viewpoint's visibility follows.
    pub mesh: Mesh,
    /// `-n`: the namespace shown (None: all).
    pub namespace: Option<String>,
    /// The first screen's hint (a warning goes in front: `with_warning`).
    pub notice: Option<String>,
    /// Running as `meshdeck demo`: the demo keys work and traffic is observed.
    pub demo: bool,
    /// On clusters: each one's tag and context, and whether the watchers cover one namespace
    /// only. One entry tagged `Cluster::ONLY` for a single cluster; none for files.
    pub clusters: Vec<(crate::model::cluster::Cluster, String, bool)>,
    /// The planes watched, when an xDS server or Envoys are configured.
    pub planes: Option<PlanesStart>,
    /// A registry already loaded (benchmarks); the sources fill it otherwise.
    pub store: Store,
}

/// The planes at start: the Envoys polled and the viewpoint the control plane's answers are for.
pub struct PlanesStart {
    pub view: super::planes::PlanesView,
    /// The viewpoint's namespace: `--view-namespace`, else the console node's.
    pub view_namespace: Option<String>,
    pub view_locality: Option<Locality>,
}

impl Config {
    /// Something that did not start goes first in the first screen's hint: a lost connection
    /// still shows in front of it, and it stays until a key is pressed.
    pub fn with_warning(mut self, warning: Option<String>) -> Config {
        self.notice = match (warning, self.notice.take()) {
            (Some(w), Some(n)) => Some(format!("{w}; {n}")),
            (w, n) => w.or(n),
        };
        self
    }

    /// Defaults for everything but the label, `--readonly` and the keymap.
    pub fn new(source_label: impl Into<String>, readonly: bool, keymap: Keymap) -> Config {
        Config {
            source_label: source_label.into(),
            readonly,
            keymap,
            who: super::setup::Who::named("unknown"),
            config_errors: Vec::new(),
            mesh: Mesh::default(),
            namespace: None,
            notice: None,
            demo: false,
            clusters: Vec::new(),
            planes: None,
            store: Store::new(),
        }
    }
}
