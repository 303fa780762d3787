//! Where to ssh to: `[ssh://][USER@]HOST[:PORT]`, as `ssh` itself takes it, and the address on
//! that host the stream goes to (`ssh -W`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl Destination {
    /// `[ssh://][USER@]HOST[:PORT]`; an IPv6 host is written in brackets when a port follows.
    pub fn parse(s: &str) -> Result<Destination, String> {
        let rest = s.strip_prefix("ssh://").unwrap_or(s).trim_end_matches('/');
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) if !u.is_empty() => (Some(u.to_string()), h),
            Some(_) => return Err(format!("{s:?}: empty user before @")),
            None => (None, rest),
        };
        let (host, port) = split_port(hostport).map_err(|e| format!("{s:?}: {e}"))?;
        if host.is_empty() || host.starts_with('-') || host.contains(char::is_whitespace) {
            return Err(format!("{s:?}: expected [USER@]HOST[:PORT]"));
        }
        Ok(Destination {
            user,
            host: host.to_string(),
            port,
        })
    }

    /// The arguments naming this destination to `ssh` (`-l`, `-p`, then the host after `--`
    /// so that no host name is ever read as an option).
    pub fn args(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(u) = &self.user {
            out.extend(["-l".to_string(), u.clone()]);
        }
        if let Some(p) = self.port {
            out.extend(["-p".to_string(), p.to_string()]);
        }
        out
    }
}

/// `HOST[:PORT]` or `[V6]:PORT`.
fn split_port(s: &str) -> Result<(&str, Option<u16>), String> {
    if let Some(inner) = s.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or("unclosed [")?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((
                host,
                Some(p.parse().map_err(|_| format!("bad port {p:?}"))?),
            )),
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!("unexpected {after:?} after ]")),
        };
    }
    match s.rsplit_once(':') {
        // A bare IPv6 address has several colons and no port.
        Some((h, _)) if h.contains(':') => Ok((s, None)),
        Some((h, p)) => Ok((h, Some(p.parse().map_err(|_| format!("bad port {p:?}"))?))),
        None => Ok((s, None)),
    }
}

impl fmt::Display for Destination {
    /// `user@host`, and `:port` when not the default: how people name it in messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        match (self.port, self.host.contains(':')) {
            (Some(p), true) => write!(f, "[{}]:{p}", self.host),
            (Some(p), false) => write!(f, "{}:{p}", self.host),
            (None, _) => write!(f, "{}", self.host),
        }
    }
}

/// An Envoy admin reached through ssh: `ssh://[USER@]HOST[:PORT]/ADMIN_HOST:ADMIN_PORT`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    pub via: Destination,
    /// The admin address on that host (Istio's VM sidecar: 127.0.0.1:15000).
    pub to: String,
}

pub const SCHEME: &str = "ssh://";
pub const DEFAULT_ADMIN: &str = "127.0.0.1:15000";

impl Route {
    pub fn parse(s: &str) -> Result<Route, String> {
        let rest = s
            .strip_prefix(SCHEME)
            .ok_or_else(|| format!("{s:?}: expected ssh://[USER@]HOST[:PORT]/ADMIN"))?;
        let (dest, to) = match rest.split_once('/') {
            Some((d, t)) if !t.is_empty() => (d, t.to_string()),
            Some((d, _)) => (d, DEFAULT_ADMIN.to_string()),
            None => (rest, DEFAULT_ADMIN.to_string()),
        };
        let (h, p) = split_port(&to).map_err(|e| format!("{s:?}: admin {e}"))?;
        if h.is_empty() || p.is_none() {
            return Err(format!("{s:?}: the admin after / must be HOST:PORT"));
        }
        Ok(Route {
            via: Destination::parse(dest)?,
            to,
        })
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.via, self.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_as_ssh_takes_them() {
        let d = Destination::parse("ssh://ops@vm-3:2222").unwrap();
        assert_eq!(
            (d.user.as_deref(), d.host.as_str(), d.port),
            (Some("ops"), "vm-3", Some(2222))
        );
        assert_eq!(d.to_string(), "ops@vm-3:2222");
        assert_eq!(d.args(), ["-l", "ops", "-p", "2222"]);
        let d = Destination::parse("10.0.0.7").unwrap();
        assert_eq!((d.user, d.port), (None, None));
        assert_eq!(Destination::parse("fd00::7").unwrap().host, "fd00::7");
        let d = Destination::parse("[fd00::7]:22").unwrap();
        assert_eq!((d.host.as_str(), d.port), ("fd00::7", Some(22)));
        assert_eq!(d.to_string(), "[fd00::7]:22");
    }

    #[test]
    fn option_looking_hosts_and_junk_are_refused() {
        for bad in ["-oProxyCommand=x", "", "@h", "h:port", "a b", "[::1"] {
            assert!(Destination::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn routes_default_to_istios_admin_port() {
        let r = Route::parse("ssh://ops@vm-3").unwrap();
        assert_eq!(r.to, DEFAULT_ADMIN);
        let r = Route::parse("ssh://127.0.0.21:40022/127.0.0.1:41000").unwrap();
        assert_eq!(r.to, "127.0.0.1:41000");
        assert_eq!(r.to_string(), "ssh://127.0.0.21:40022/127.0.0.1:41000");
        assert!(Route::parse("ssh://vm/localhost").is_err());
        assert!(Route::parse("http://vm").is_err());
    }
}
