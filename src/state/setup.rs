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
    /// Who runs the console: named in what a drain writes and in a shift's plan.
    pub who: Who,
    /// Broken keymap or theme files, named in the status bar.
    pub config_errors: Vec<ConfigError>,
}

/// Who runs the console: the local user, and the host a shift's plan names its owner by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub user: String,
    pub host: String,
}

impl Who {
    pub fn named(user: impl Into<String>) -> Who {
        Who {
            user: user.into(),
            host: "localhost".into(),
        }
    }

    /// What a shift's plan names its owner: `alice@jump-1:4242`, this process.
    pub fn owner(&self) -> String {
        format!("{}@{}:{}", self.user, self.host, std::process::id())
    }
}
