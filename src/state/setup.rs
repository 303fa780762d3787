//! What the console was started with and does not change while it runs: where the registry
//! comes from, `--readonly`, the demo, the keymap and the config files' errors.

use crate::config::ConfigError;
use crate::config::keymap::Keymap;

pub struct Setup {
    /// What the title bar says the registry comes from (the context, after a `:ctx`).
    pub source_label: String,
    pub readonly: bool,
    /// Running as `meshdeck demo`: the demo keys work and traffic is observed.
    pub demo: bool,
    pub keymap: Keymap,
    /// Who runs the console: named in what a drain writes.
    pub user: String,
    /// Broken keymap or theme files, named in the status bar.
    pub config_errors: Vec<ConfigError>,
}
