//! What went wrong, in the words people search for, from what `ssh` printed on stderr: ssh's
//! own messages are precise but long, and the last line is rarely the one that explains.

use super::destination::Destination;

/// One line for the Proxies screen and headless output.
pub fn describe(
    dest: &Destination,
    remote: Option<&str>,
    stderr: &str,
    status: Option<i32>,
) -> String {
    let host = &dest.host;
    let has = |s: &str| stderr.contains(s);
    if has("Permission denied") {
        let methods = stderr
            .split("Permission denied")
            .nth(1)
            .and_then(|r| r.trim_start().strip_prefix('('))
            .and_then(|r| r.split(')').next())
            .unwrap_or("publickey");
        return format!("permission denied ({methods}) for {dest}");
    }
    if has("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        return format!("host key for {host} changed: refusing (check known_hosts)");
    }
    if has("host key is known for")
        || has("Host key verification failed")
        || has("No matching host key")
    {
        return format!(
            "host key for {host} not known (meshdeck never accepts a new key: add it to known_hosts)"
        );
    }
    if has("timed out") || has("Connection timed out") {
        return format!("timed out connecting to {dest}");
    }
    if has("Connection refused") && !has("open failed") {
        return format!("ssh to {dest}: connection refused");
    }
    if has("Could not resolve hostname") {
        return format!("ssh to {dest}: host name not known");
    }
    if has("Session open refused") || has("open failed") || has("stdio forwarding failed") {
        let what = remote.unwrap_or("the address");
        return format!("{what} on {host} refused the connection (is the sidecar running?)");
    }
    if has("closed by remote host") || has("Connection reset") || has("Broken pipe") {
        return format!("ssh to {dest}: connection lost");
    }
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"));
    match (last, status) {
        (Some(l), _) => format!("ssh to {dest}: {l}"),
        (None, Some(c)) => format!("ssh to {dest}: exited with {c}"),
        (None, None) => format!("ssh to {dest}: killed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Destination {
        Destination::parse("ops@vm-3").unwrap()
    }

    #[test]
    fn the_messages_people_search_for() {
        let cases = [
            (
                "ops@vm-3: Permission denied (publickey).\r\n",
                "permission denied (publickey) for ops@vm-3",
            ),
            (
                "No ED25519 host key is known for [vm-3]:22 and you have requested strict checking.\r\nHost key verification failed.\r\n",
                "host key for vm-3 not known (meshdeck never accepts a new key: add it to known_hosts)",
            ),
            (
                "ssh: connect to host vm-3 port 22: Connection timed out\r\n",
                "timed out connecting to ops@vm-3",
            ),
            (
                "ssh: connect to host vm-3 port 22: Connection refused\r\n",
                "ssh to ops@vm-3: connection refused",
            ),
            (
                "Stdio forwarding request failed: Session open refused by peer\r\n",
                "127.0.0.1:15000 on vm-3 refused the connection (is the sidecar running?)",
            ),
            (
                "channel 0: open failed: connect failed: Connection refused\r\nstdio forwarding failed\r\n",
                "127.0.0.1:15000 on vm-3 refused the connection (is the sidecar running?)",
            ),
        ];
        for (stderr, want) in cases {
            assert_eq!(
                describe(&d(), Some("127.0.0.1:15000"), stderr, Some(255)),
                want
            );
        }
    }

    #[test]
    fn anything_else_is_its_last_line() {
        assert_eq!(
            describe(
                &d(),
                None,
                "Warning: Permanently added 'x'\nsomething odd\n",
                Some(255)
            ),
            "ssh to ops@vm-3: something odd"
        );
        assert_eq!(
            describe(&d(), None, "", Some(1)),
            "ssh to ops@vm-3: exited with 1"
        );
    }
}
