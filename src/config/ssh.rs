//! The `[ssh]` settings: how a WorkloadEntry's sidecar is reached from the jump host, and how
//! its log is read. Host and admin come from the entry's annotations when it has them.

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Overrides the host meshdeck ssh-es to for this entry: `[USER@]HOST[:PORT]`.
pub const SSH_ANNOTATION: &str = "meshdeck.io/ssh";
/// Where the entry's Envoy admin listens on its host (default 127.0.0.1:15000).
pub const ADMIN_ANNOTATION: &str = "meshdeck.io/admin";

pub const DEFAULT_HOST: &str = "{address}";
pub const DEFAULT_ADMIN: &str = "127.0.0.1:15000";
/// Where Istio's VM package writes the sidecar's log.
pub const DEFAULT_LOG_FILE: &str = "/var/log/istio/istio.log";
/// The systemd unit Istio's VM package installs, for hosts that log to the journal.
pub const DEFAULT_LOG_UNIT: &str = "istio";
pub const DEFAULT_LOG_LINES: usize = 500;

/// The `[ssh]` table as written; every field optional so that tables can be layered.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshLayer {
    pub enabled: Option<bool>,
    pub host: Option<String>,
    pub user: Option<String>,
    pub admin: Option<String>,
    pub config: Option<PathBuf>,
    pub connect_timeout: Option<String>,
    pub persist: Option<String>,
    pub max_connections: Option<usize>,
    pub options: Option<Vec<String>>,
    pub log_file: Option<String>,
    pub log_unit: Option<String>,
    pub log_lines: Option<usize>,
    pub log_command: Option<String>,
}

impl SshLayer {
    pub fn over(self, base: SshLayer) -> SshLayer {
        SshLayer {
            enabled: self.enabled.or(base.enabled),
            host: self.host.or(base.host),
            user: self.user.or(base.user),
            admin: self.admin.or(base.admin),
            config: self.config.or(base.config),
            connect_timeout: self.connect_timeout.or(base.connect_timeout),
            persist: self.persist.or(base.persist),
            max_connections: self.max_connections.or(base.max_connections),
            options: self.options.or(base.options),
            log_file: self.log_file.or(base.log_file),
            log_unit: self.log_unit.or(base.log_unit),
            log_lines: self.log_lines.or(base.log_lines),
            log_command: self.log_command.or(base.log_command),
        }
    }
}

/// The ssh settings in force.
#[derive(Debug, Clone, PartialEq)]
pub struct SshConfig {
    /// Reach WorkloadEntries' sidecars (`--ssh`, or `enabled = true`).
    pub enabled: bool,
    /// Template of the host: `{address}`, `{name}`, `{namespace}`; empty: only entries with
    /// the annotation.
    pub host: String,
    pub user: Option<String>,
    pub admin: String,
    /// `ssh -F FILE` (default: the user's own ssh config).
    pub config: Option<PathBuf>,
    pub connect_timeout: Duration,
    pub persist: Duration,
    pub max_connections: usize,
    pub options: Vec<String>,
    pub log_file: String,
    pub log_unit: String,
    pub log_lines: usize,
    /// Replaces the log command entirely (run by the VM's shell).
    pub log_command: Option<String>,
}

impl Default for SshConfig {
    fn default() -> SshConfig {
        SshConfig {
            enabled: false,
            host: DEFAULT_HOST.into(),
            user: None,
            admin: DEFAULT_ADMIN.into(),
            config: None,
            connect_timeout: Duration::from_secs(5),
            persist: Duration::from_secs(60),
            max_connections: 8,
            options: Vec::new(),
            log_file: DEFAULT_LOG_FILE.into(),
            log_unit: DEFAULT_LOG_UNIT.into(),
            log_lines: DEFAULT_LOG_LINES,
            log_command: None,
        }
    }
}

/// A duration as written in the file ("5s", "2m"); an error names the key.
pub(crate) fn duration(
    key: &'static str,
    v: Option<String>,
    d: Duration,
) -> Result<Duration, (&'static str, String)> {
    match v {
        None => Ok(d),
        Some(s) => humantime::parse_duration(&s).map_err(|e| {
            (
                key,
                format!("{key} = {s:?}: {e} (write e.g. \"5s\" or \"2m\")"),
            )
        }),
    }
}

/// `~/x` → the home directory's `x`, as ssh itself reads `-F ~/x`.
fn expand_home(p: PathBuf) -> PathBuf {
    match p.strip_prefix("~") {
        Ok(rest) => dirs::home_dir().map_or_else(|| p.clone(), |h| h.join(rest)),
        Err(_) => p,
    }
}

impl SshConfig {
    /// The layered table → settings; an error names the key and what is wrong.
    pub fn resolve(l: SshLayer) -> Result<SshConfig, (&'static str, String)> {
        let d = SshConfig::default();
        let host = l.host.unwrap_or(d.host);
        let unknown = host
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(k, _)| k))
            .find(|k| !["address", "name", "namespace"].contains(k));
        if let Some(k) = unknown {
            return Err((
                "host",
                format!(
                    "host = {host:?}: unknown {{{k}}}; use {{address}}, {{name}}, {{namespace}}"
                ),
            ));
        }
        let max_connections = l.max_connections.unwrap_or(d.max_connections);
        if max_connections == 0 {
            return Err((
                "max_connections",
                "max_connections must be at least 1".into(),
            ));
        }
        Ok(SshConfig {
            enabled: l.enabled.unwrap_or(d.enabled),
            host,
            user: l.user.filter(|u| !u.is_empty()),
            admin: l.admin.unwrap_or(d.admin),
            config: l.config.map(expand_home),
            connect_timeout: duration("connect_timeout", l.connect_timeout, d.connect_timeout)?,
            persist: duration("persist", l.persist, d.persist)?,
            max_connections,
            options: l.options.unwrap_or_default(),
            log_file: l.log_file.unwrap_or(d.log_file),
            log_unit: l.log_unit.unwrap_or(d.log_unit),
            log_lines: l.log_lines.unwrap_or(d.log_lines),
            log_command: l.log_command,
        })
    }

    /// The host for an entry: the template filled in (`None` when it needs an address the
    /// entry does not have).
    pub fn host_for(&self, name: &str, namespace: &str, address: Option<&str>) -> Option<String> {
        // An empty template: only entries with the annotation are reached.
        if self.host.is_empty() {
            return None;
        }
        if self.host.contains("{address}") && address.is_none_or(str::is_empty) {
            return None;
        }
        Some(
            self.host
                .replace("{address}", address.unwrap_or(""))
                .replace("{name}", name)
                .replace("{namespace}", namespace),
        )
    }

    /// The command that prints (and with `follow`, keeps printing) the sidecar's log: the
    /// file where Istio's VM package writes it, else the journal of its unit.
    pub fn log_command(&self, follow: bool) -> String {
        if let Some(c) = &self.log_command {
            return c.clone();
        }
        let file = shell_quote(&self.log_file);
        let unit = shell_quote(&self.log_unit);
        let n = self.log_lines;
        let (tail, journal) = if follow { (" -F", " -f") } else { ("", "") };
        format!(
            "if [ -e {file} ]; then exec tail -n {n}{tail} {file}; \
             else exec journalctl --no-pager -u {unit} -n {n}{journal}; fi"
        )
    }
}

/// `[USER@]HOST[:PORT]` for the entry `key`: its annotation, else the settings' template.
pub fn destination_for(
    cfg: &SshConfig,
    key: &crate::model::object::ObjectKey,
    annotations: &crate::model::meta::Labels,
    address: Option<&str>,
) -> Option<String> {
    let host = match annotations.get(SSH_ANNOTATION).map(|s| s.trim()) {
        Some(h) if !h.is_empty() => h.trim_start_matches("ssh://").to_string(),
        _ => cfg.host_for(&key.name, &key.namespace, address)?,
    };
    Some(match (&cfg.user, host.contains('@')) {
        (Some(u), false) => format!("{u}@{host}"),
        _ => host,
    })
}

/// One word for a POSIX shell.
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_in_the_entry() {
        let c = SshConfig {
            host: "{name}.{namespace}.vms.example".into(),
            ..Default::default()
        };
        assert_eq!(
            c.host_for("vm-3", "payments", None).as_deref(),
            Some("vm-3.payments.vms.example")
        );
        let d = SshConfig::default();
        assert_eq!(
            d.host_for("vm-3", "p", Some("10.0.0.7")).as_deref(),
            Some("10.0.0.7")
        );
        assert_eq!(d.host_for("vm-3", "p", None), None);
        let only_annotated = SshConfig {
            host: String::new(),
            ..Default::default()
        };
        assert_eq!(only_annotated.host_for("vm-3", "p", Some("10.0.0.7")), None);
    }

    #[test]
    fn bad_templates_and_durations_name_their_key() {
        let e = SshConfig::resolve(SshLayer {
            host: Some("{ip}".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0, "host");
        let e = SshConfig::resolve(SshLayer {
            persist: Some("forever".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.0, "persist");
    }

    #[test]
    fn the_log_falls_back_to_the_journal() {
        let c = SshConfig::default();
        assert_eq!(
            c.log_command(true),
            "if [ -e /var/log/istio/istio.log ]; then exec tail -n 500 -F /var/log/istio/istio.log; \
             else exec journalctl --no-pager -u istio -n 500 -f; fi"
        );
        let c = SshConfig {
            log_file: "/var/log/it's.log".into(),
            ..Default::default()
        };
        assert!(c.log_command(false).contains("'/var/log/it'\\''s.log'"));
    }
}
