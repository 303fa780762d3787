//! istiod's rules for who may open an xDS stream on its secure port (pilot/pkg/xds/auth.go),
//! for a control plane that serves TLS with tokens: authenticate the bearer token
//! (Unauthenticated without one), then authorize the node on its first request: its config
//! namespace must be the token's service-account namespace, and SERVICE_ACCOUNT metadata,
//! when sent, its name (PermissionDenied otherwise, in istiod's words). Without an
//! authenticator nothing is checked, as on istiod's plaintext 15010.

use crate::io::xds::identity::ServiceAccount;
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::google::protobuf::value::Kind;
use std::sync::Arc;
use tonic::Status;
use tonic::metadata::MetadataMap;

type Check = dyn Fn(&str) -> Result<ServiceAccount, String> + Send + Sync;

/// Turns a bearer token into the service account it was issued for (istiod asks the API
/// server's TokenReview); an error means the token is not accepted.
#[derive(Clone)]
pub struct Authenticator(Arc<Check>);

impl Authenticator {
    pub fn new(
        check: impl Fn(&str) -> Result<ServiceAccount, String> + Send + Sync + 'static,
    ) -> Self {
        Authenticator(Arc::new(check))
    }

    pub fn check(&self, token: &str) -> Result<ServiceAccount, String> {
        (self.0)(token)
    }
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator")
    }
}

/// The caller's account, from the call's `authorization: Bearer` header.
pub fn authenticate(
    auth: Option<&Authenticator>,
    metadata: &MetadataMap,
) -> Result<Option<ServiceAccount>, Status> {
    let Some(auth) = auth else {
        return Ok(None);
    };
    let token = metadata
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            tracing::warn!("xDS call without a bearer token");
            Status::unauthenticated("authentication failure")
        })?;
    match auth.check(token) {
        Ok(sa) => Ok(Some(sa)),
        Err(e) => {
            tracing::warn!("xDS token not accepted: {e}");
            Err(Status::unauthenticated("authentication failure"))
        }
    }
}

fn metadata_string(node: &Node, key: &str) -> Option<String> {
    match &node.metadata.as_ref()?.fields.get(key)?.kind {
        Some(Kind::StringValue(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The namespace istiod reads a node's config from: metadata NAMESPACE, else the first label
/// of the id's DNS domain (`sidecar~IP~NAME.NS~NS.svc.cluster.local`).
pub fn config_namespace(node: &Node) -> String {
    metadata_string(node, "NAMESPACE").unwrap_or_else(|| {
        node.id
            .split('~')
            .nth(3)
            .and_then(|domain| domain.split_once('.'))
            .map(|(ns, _)| ns.to_string())
            .unwrap_or_default()
    })
}

/// Whether `caller` may be this node.
pub fn authorize(caller: Option<&ServiceAccount>, node: &Node) -> Result<(), Status> {
    let Some(sa) = caller else {
        return Ok(());
    };
    let namespace = config_namespace(node);
    let account = metadata_string(node, "SERVICE_ACCOUNT").unwrap_or_default();
    let namespace_ok = namespace.is_empty() || namespace == sa.namespace;
    let account_ok = account.is_empty() || account == sa.name;
    if namespace_ok && account_ok {
        return Ok(());
    }
    let message = format!(
        "authorization failed: no identities ([{}]) matched {namespace}/{account}",
        sa.spiffe()
    );
    tracing::warn!("Unauthorized XDS: {}: {message}", node.id);
    Err(Status::permission_denied(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::xds::node::console_node;
    use envoy_types::pb::google::protobuf::{Struct, Value};

    fn sa() -> ServiceAccount {
        ServiceAccount {
            namespace: "cx-auth".into(),
            name: "probe".into(),
        }
    }

    fn node(id: &str, md: &[(&str, &str)]) -> Node {
        let fields = md
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    Value {
                        kind: Some(Kind::StringValue(v.to_string())),
                    },
                )
            })
            .collect();
        Node {
            id: id.into(),
            metadata: Some(Struct { fields }),
            ..Default::default()
        }
    }

    /// The recorded cases of ../shared/fixtures/istiod/auth (B and D), word for word.
    #[test]
    fn a_node_outside_the_tokens_namespace_is_refused_as_istiod_does() {
        let b = node(
            "sidecar~127.0.0.81~auth-b.cx-auth-other~cx-auth-other.svc.cluster.local",
            &[("NAMESPACE", "cx-auth-other")],
        );
        let e = authorize(Some(&sa()), &b).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        assert_eq!(
            e.message(),
            "authorization failed: no identities ([spiffe://cluster.local/ns/cx-auth/sa/probe]) matched cx-auth-other/"
        );
        let d = node(
            "sidecar~127.0.0.83~auth-d.cx-auth~cx-auth.svc.cluster.local",
            &[("NAMESPACE", "cx-auth"), ("SERVICE_ACCOUNT", "other")],
        );
        assert_eq!(
            authorize(Some(&sa()), &d).unwrap_err().message(),
            "authorization failed: no identities ([spiffe://cluster.local/ns/cx-auth/sa/probe]) matched cx-auth/other"
        );
    }

    #[test]
    fn the_namespace_comes_from_metadata_then_the_id() {
        let a = node("sidecar~1.2.3.4~a.cx-auth~cx-auth.svc.cluster.local", &[]);
        assert_eq!(config_namespace(&a), "cx-auth");
        assert!(authorize(Some(&sa()), &a).is_ok());
        assert!(authorize(None, &node("x", &[("NAMESPACE", "elsewhere")])).is_ok());
        assert!(authorize(Some(&sa()), &console_node("cx-auth", None)).is_ok());
        assert!(authorize(Some(&sa()), &console_node("istio-system", None)).is_err());
    }

    #[test]
    fn no_token_is_unauthenticated() {
        let auth = Authenticator::new(|_| Ok(sa()));
        let e = authenticate(Some(&auth), &MetadataMap::new()).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert_eq!(e.message(), "authentication failure");
        assert_eq!(authenticate(None, &MetadataMap::new()).unwrap(), None);
    }
}
