//! The user's settings file, `$XDG_CONFIG_HOME/meshdeck/config.toml`: defaults for every
//! console, and per kube context overrides (as k9s does), so that a production context can be
//! read-only and red. Flags win over the file; a context's table wins over the top level.
//! A broken file is reported as file:line and meshdeck starts on its defaults.

use super::ConfigError;
use super::ssh::{SshConfig, SshLayer};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// What one table of the file may set. The file's top level is a layer too; only there may
/// `[context.NAME]` tables stand.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub readonly: Option<bool>,
    pub theme: Option<String>,
    pub namespace: Option<String>,
    pub keymap: Option<String>,
    pub ssh: Option<SshLayer>,
    pub refresh: Option<RefreshLayer>,
    #[serde(default)]
    pub context: BTreeMap<String, Layer>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshLayer {
    /// At most this many VM sidecars are followed at once (the least recently needed go).
    pub max_vm_proxies: Option<usize>,
    /// How often each Envoy's admin is asked (at least 1s: admin calls run on Envoy's main
    /// thread).
    pub admin_interval: Option<String>,
}

/// The settings in force for one console.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub readonly: bool,
    pub theme: Option<String>,
    pub namespace: Option<String>,
    pub keymap: Option<String>,
    pub ssh: SshConfig,
    pub max_vm_proxies: usize,
    pub admin_interval: std::time::Duration,
    /// The context whose overrides applied, if the file has a table for it.
    pub context: Option<String>,
}

pub const DEFAULT_MAX_VM_PROXIES: usize = 32;
pub const DEFAULT_ADMIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            readonly: false,
            theme: None,
            namespace: None,
            keymap: None,
            ssh: SshConfig::default(),
            max_vm_proxies: DEFAULT_MAX_VM_PROXIES,
            admin_interval: DEFAULT_ADMIN_INTERVAL,
            context: None,
        }
    }
}

impl Layer {
    fn over(self, base: Layer) -> Layer {
        Layer {
            readonly: self.readonly.or(base.readonly),
            theme: self.theme.or(base.theme),
            namespace: self.namespace.or(base.namespace),
            keymap: self.keymap.or(base.keymap),
            ssh: match (self.ssh, base.ssh) {
                (Some(a), Some(b)) => Some(a.over(b)),
                (a, b) => a.or(b),
            },
            refresh: match (self.refresh, base.refresh) {
                (Some(a), Some(b)) => Some(RefreshLayer {
                    max_vm_proxies: a.max_vm_proxies.or(b.max_vm_proxies),
                    admin_interval: a.admin_interval.or(b.admin_interval),
                }),
                (a, b) => a.or(b),
            },
            context: BTreeMap::new(),
        }
    }
}

/// Reads `text` (named `file` in messages) for kube context `context`.
pub fn parse(text: &str, file: &str, context: Option<&str>) -> Result<Settings, ConfigError> {
    let mut top: Layer = toml::from_str(text).map_err(|e| ConfigError {
        file: file.to_string(),
        line: e.span().map_or(1, |s| super::line_of(text, s.start)),
        message: e.message().to_string(),
    })?;
    let mut contexts = std::mem::take(&mut top.context);
    let at_key = |key: &str, message: String| ConfigError {
        file: file.to_string(),
        line: super::line_of_key(text, key),
        message,
    };
    if let Some((name, _)) = contexts.iter().find(|(_, l)| !l.context.is_empty()) {
        return Err(at_key(
            "context",
            format!("[context.{name}] cannot hold context tables of its own"),
        ));
    }
    let matched = context.and_then(|c| contexts.remove_entry(c));
    let (applied, layer) = match matched {
        Some((name, l)) => (Some(name), l.over(top)),
        None => (None, top),
    };
    let ssh = SshConfig::resolve(layer.ssh.unwrap_or_default())
        .map_err(|(key, message)| at_key(key, message))?;
    let refresh = layer.refresh.unwrap_or_default();
    let max_vm_proxies = refresh.max_vm_proxies.unwrap_or(DEFAULT_MAX_VM_PROXIES);
    if max_vm_proxies == 0 {
        return Err(at_key("max_vm_proxies", "must be at least 1".into()));
    }
    let admin_interval = super::ssh::duration(
        "admin_interval",
        refresh.admin_interval,
        DEFAULT_ADMIN_INTERVAL,
    )
    .map_err(|(key, message)| at_key(key, message))?;
    if admin_interval < DEFAULT_ADMIN_INTERVAL {
        return Err(at_key(
            "admin_interval",
            "admin_interval must be at least 1s (admin calls run on Envoy's main thread)".into(),
        ));
    }
    Ok(Settings {
        readonly: layer.readonly.unwrap_or(false),
        theme: layer.theme,
        namespace: layer.namespace,
        keymap: layer.keymap,
        ssh,
        max_vm_proxies,
        admin_interval,
        context: applied,
    })
}

/// The user's file for `context`: its settings, or the defaults and why.
pub fn load(path: &Path, context: Option<&str>) -> (Settings, Option<ConfigError>) {
    let Some(text) = super::read_user_file(path) else {
        return (Settings::default(), None);
    };
    match parse(&text, &path.display().to_string(), context) {
        Ok(s) => (s, None),
        Err(e) => (Settings::default(), Some(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
theme = "dark"
namespace = "payments"

[ssh]
user = "ops"
host = "{name}.{namespace}.vms.example"

[context.prod-eu]
readonly = true
theme = "prod-red"

[context.prod-eu.ssh]
user = "oncall"
"#;

    #[test]
    fn a_context_table_wins_over_the_top_level() {
        let s = parse(FILE, "config.toml", Some("prod-eu")).unwrap();
        assert!(s.readonly);
        assert_eq!(s.theme.as_deref(), Some("prod-red"));
        assert_eq!(s.namespace.as_deref(), Some("payments"));
        assert_eq!(s.ssh.user.as_deref(), Some("oncall"));
        assert_eq!(s.ssh.host, "{name}.{namespace}.vms.example");
        assert_eq!(s.context.as_deref(), Some("prod-eu"));
        let other = parse(FILE, "config.toml", Some("staging")).unwrap();
        assert!(!other.readonly);
        assert_eq!(other.theme.as_deref(), Some("dark"));
        assert_eq!(other.ssh.user.as_deref(), Some("ops"));
        assert_eq!(other.context, None);
    }

    #[test]
    fn a_broken_file_names_its_line() {
        let e = parse("theme = \"dark\"\nreadonly = maybe\n", "c.toml", None).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("c.toml", 2));
        let e = parse("\n\n[ssh]\nusr = \"ops\"\n", "c.toml", None).unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.message.contains("unknown field `usr`"), "{}", e.message);
        let e = parse("\n[refresh]\nadmin_interval = \"100ms\"\n", "c.toml", None).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("at least 1s"), "{}", e.message);
        let e = parse("[ssh]\nconnect_timeout = \"soon\"\n", "c.toml", None).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("connect_timeout"), "{}", e.message);
    }

    #[test]
    fn a_missing_file_is_the_defaults() {
        let (s, e) = load(Path::new("/nonexistent/meshdeck/config.toml"), Some("x"));
        assert_eq!((s, e), (Settings::default(), None));
    }

    #[test]
    fn the_shipped_example_parses_for_every_context_it_names() {
        let text = include_str!("../../examples/config.toml");
        let s = parse(text, "examples/config.toml", Some("prod")).unwrap();
        assert!(s.readonly);
        assert_eq!(s.theme.as_deref(), Some("prod-red"));
        parse(text, "examples/config.toml", None).unwrap();
    }
}
