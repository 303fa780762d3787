//! The task that keeps the console subscribed: connect, stream, and on any failure report
//! the connection as retrying, wait (250 ms doubling to 10 s, reset after a stream that
//! lived a while) and start over with the current subscription. A server that refuses the
//! console's identity is reported as refused, with what the refusal means, and asked again
//! only when the token changes (or once a minute).

use super::identity::Identity;
use super::stream::{End, Protocol, Stream};
use super::syncz;
use super::target::Target;
use crate::model::locality::Locality;
use crate::model::planes::control::Connection;
use crate::msg::xds::XdsEvent;
use envoy_types::pb::envoy::config::core::v3::Node;
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, watch};

pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Config {
    pub target: Target,
    pub protocol: Protocol,
    /// The locality the console node claims (the viewpoint's), if any.
    pub locality: Option<Locality>,
    /// Also poll istio.io/debug/syncz for every proxy's sync status.
    pub syncz: bool,
}

impl Config {
    /// The node this session sends: always in the namespace of the identity it presents,
    /// which is what istiod checks on 15012.
    pub fn node(&self) -> Node {
        super::node::console_node(
            self.target.identity.node_namespace(),
            self.locality.as_ref(),
        )
    }
}

/// Runs until the console drops `events`.
pub async fn run(
    cfg: Config,
    mut names: watch::Receiver<BTreeSet<String>>,
    events: mpsc::Sender<XdsEvent>,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut since: Option<SystemTime> = None;
    let mut refused_since: Option<SystemTime> = None;
    let node = cfg.node();
    loop {
        let started = Instant::now();
        let end = match cfg.target.connect().await {
            Ok(channel) => {
                let stream = Stream {
                    target: &cfg.target,
                    node: node.clone(),
                    names: &mut names,
                    events: &events,
                };
                let sync = async {
                    if !cfg.syncz {
                        return std::future::pending().await;
                    }
                    let error =
                        syncz::poll(&cfg.target, channel.clone(), node.clone(), &events).await;
                    let _ = events
                        .send(XdsEvent::SynczUnavailable {
                            server: cfg.target.label.clone(),
                            error,
                        })
                        .await;
                    std::future::pending::<()>().await
                };
                tokio::select! {
                    e = stream.run(channel.clone(), cfg.protocol) => e,
                    _ = sync => unreachable!("the syncz future never completes"),
                }
            }
            Err(e) => End::Failed(e.to_string()),
        };
        if events.is_closed() {
            return;
        }
        let error = match end {
            End::Failed(error) => {
                refused_since = None;
                error
            }
            End::Refused(status) => {
                let reason = refusal(&cfg.target, &status);
                tracing::warn!(server = %cfg.target.label, "{reason}");
                let state = Connection::Refused {
                    since: *refused_since.get_or_insert_with(SystemTime::now),
                    reason,
                };
                let server = cfg.target.label.clone();
                if events
                    .send(XdsEvent::Connection { server, state })
                    .await
                    .is_err()
                {
                    return;
                }
                credential_changed(&cfg.target).await;
                backoff = FIRST_BACKOFF;
                since = None;
                continue;
            }
        };
        if started.elapsed() > MAX_BACKOFF {
            backoff = FIRST_BACKOFF;
            since = None;
        }
        let since = *since.get_or_insert_with(SystemTime::now);
        tracing::info!(server = %cfg.target.label, "xDS stream ended: {error}; retrying in {backoff:?}");
        if events
            .send(XdsEvent::Connection {
                server: cfg.target.label.clone(),
                state: Connection::Retrying { since, error },
            })
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// What a refusal means, in the words of the rule istiod applies: on 15012 the node's
/// namespace must be the token's service-account namespace. The account is taken from
/// istiod's own message when it names one (it read the token; the console may not have).
pub fn refusal(target: &Target, status: &tonic::Status) -> String {
    let said = format!("{:?}: {}", status.code(), status.message());
    let claimed = target.identity.node_namespace();
    match (&target.identity, status.code()) {
        (_, tonic::Code::PermissionDenied) => {
            let account = spiffe_account(status.message())
                .or(match &target.identity {
                    Identity::Token(sa) => Some(sa.to_string()),
                    Identity::Plain { .. } => None,
                })
                .map_or_else(
                    || "the token".to_string(),
                    |a| format!("the token is for {a},"),
                );
            format!(
                "istiod refused this identity: {account} the console node claims namespace {claimed} ({said})"
            )
        }
        (Identity::Token(sa), _) => format!(
            "istiod did not accept the token for {sa} (expired, wrong audience, or not from this cluster; istiod wants audience istio-ca) ({said})"
        ),
        (Identity::Plain { .. }, _) => format!(
            "istiod wants a token here (--xds-token-file, or --istiod to ask the cluster for one) ({said})"
        ),
    }
}

/// `NS/SA` from the first `spiffe://TRUST/ns/NS/sa/SA` in istiod's message.
fn spiffe_account(message: &str) -> Option<String> {
    let rest = &message[message.find("spiffe://")?..];
    let rest = &rest[rest.find("/ns/")? + 4..];
    let (ns, rest) = rest.split_once("/sa/")?;
    let sa: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    (!ns.is_empty() && !sa.is_empty()).then(|| format!("{ns}/{sa}"))
}

/// Returns when the credential the target presents changes (a renewed token), or after a
/// minute: the same credential would only be refused again.
async fn credential_changed(target: &Target) {
    const CHECK: Duration = Duration::from_secs(1);
    const AT_MOST: u32 = 60;
    let held = target.token.as_ref().map(|t| t.get());
    for _ in 0..AT_MOST {
        tokio::time::sleep(CHECK).await;
        if target.token.as_ref().map(|t| t.get()) != held {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::xds::identity::ServiceAccount;

    /// The recorded refusal (../shared/fixtures/istiod/auth, case B) becomes what it means.
    #[test]
    fn a_refusal_names_the_token_and_the_claimed_namespace() {
        let mut t = Target::plaintext("127.0.0.1:15012");
        t.identity = Identity::Token(ServiceAccount {
            namespace: "cx-auth-other".into(),
            name: String::new(),
        });
        let s = tonic::Status::permission_denied(
            "authorization failed: no identities ([spiffe://cluster.local/ns/cx-auth/sa/probe]) matched cx-auth-other/",
        );
        let text = refusal(&t, &s);
        assert!(
            text.starts_with("istiod refused this identity: the token is for cx-auth/probe, the console node claims namespace cx-auth-other"),
            "{text}"
        );
        let s = tonic::Status::unauthenticated("authentication failure");
        assert!(refusal(&t, &s).contains("did not accept the token"));
        assert!(refusal(&Target::plaintext("x:1"), &s).contains("wants a token"));
    }
}
