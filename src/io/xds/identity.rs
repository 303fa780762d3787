//! Who the console is to istiod. On 15012 istiod authorizes a stream only when the node's
//! namespace equals the namespace of the service account in the presented token (and
//! SERVICE_ACCOUNT metadata, when sent, its name; the console sends none), so the node's
//! namespace is always the credential's, read from the token's claims.

use base64::Engine;
use serde::Deserialize;

/// A Kubernetes service account: what a projected token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name.as_str() {
            "" => write!(f, "{}/(account unknown)", self.namespace),
            name => write!(f, "{}/{name}", self.namespace),
        }
    }
}

impl ServiceAccount {
    /// The SPIFFE id istiod derives from it (trust domain cluster.local).
    pub fn spiffe(&self) -> String {
        format!(
            "spiffe://cluster.local/ns/{}/sa/{}",
            self.namespace, self.name
        )
    }
}

/// How the console presents itself to one xDS server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A token for this account: the node's namespace must be its namespace.
    Token(ServiceAccount),
    /// Nothing is presented (plaintext): the node's namespace is the user's choice.
    Plain { namespace: String },
}

impl Identity {
    pub fn node_namespace(&self) -> &str {
        match self {
            Identity::Token(sa) => &sa.namespace,
            Identity::Plain { namespace } => namespace,
        }
    }
}

/// The namespace a plaintext console node claims unless `--xds-namespace` says otherwise.
pub const DEFAULT_NAMESPACE: &str = "istio-system";

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default, rename = "kubernetes.io")]
    kubernetes: Option<KubeClaims>,
    /// Legacy (secret-based) service-account tokens.
    #[serde(default, rename = "kubernetes.io/serviceaccount/namespace")]
    legacy_namespace: Option<String>,
    #[serde(default, rename = "kubernetes.io/serviceaccount/service-account.name")]
    legacy_name: Option<String>,
}

#[derive(Deserialize)]
struct KubeClaims {
    namespace: Option<String>,
    serviceaccount: Option<NamedClaim>,
}

#[derive(Deserialize)]
struct NamedClaim {
    name: Option<String>,
}

/// The service account a Kubernetes token was issued for, read from its claims (the
/// signature is istiod's to check, not ours).
pub fn service_account(token: &str) -> Result<ServiceAccount, String> {
    let payload = token
        .trim()
        .split('.')
        .nth(1)
        .filter(|p| !p.is_empty())
        .ok_or("it is not a JWT (header.payload.signature)")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("its payload is not base64url: {e}"))?;
    let claims: Claims =
        serde_json::from_slice(&bytes).map_err(|e| format!("its claims are not JSON: {e}"))?;
    if let Some(k) = claims.kubernetes
        && let (Some(namespace), Some(name)) = (k.namespace, k.serviceaccount.and_then(|s| s.name))
    {
        return Ok(ServiceAccount { namespace, name });
    }
    if let (Some(namespace), Some(name)) = (claims.legacy_namespace, claims.legacy_name) {
        return Ok(ServiceAccount { namespace, name });
    }
    let sub = claims.sub.unwrap_or_default();
    match sub
        .strip_prefix("system:serviceaccount:")
        .map(|r| r.split(':').collect::<Vec<_>>())
    {
        Some(parts) if parts.len() == 2 && parts.iter().all(|p| !p.is_empty()) => {
            Ok(ServiceAccount {
                namespace: parts[0].to_string(),
                name: parts[1].to_string(),
            })
        }
        _ => Err(format!(
            "its claims name no service account (sub {sub:?}, no kubernetes.io claim)"
        )),
    }
}

/// A token shaped like the API server's projected tokens (claims only; the signature part is
/// a placeholder), for tests and the fake API server.
pub fn unsigned_token(sa: &ServiceAccount, audiences: &[String], serial: usize) -> String {
    let enc = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let header = serde_json::json!({"alg": "RS256", "kid": "meshdeck-fake"});
    let claims = serde_json::json!({
        "aud": audiences,
        "iss": "https://kubernetes.default.svc.cluster.local",
        "jti": format!("fake-{serial}"),
        "kubernetes.io": {
            "namespace": sa.namespace,
            "serviceaccount": {"name": sa.name, "uid": format!("00000000-0000-0000-0000-{serial:012}")},
        },
        "sub": format!("system:serviceaccount:{}:{}", sa.namespace, sa.name),
    });
    format!("{}.{}.fake-signature", enc(&header), enc(&claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(ns: &str, name: &str) -> ServiceAccount {
        ServiceAccount {
            namespace: ns.into(),
            name: name.into(),
        }
    }

    #[test]
    fn a_projected_token_names_its_account() {
        let t = unsigned_token(&sa("istio-system", "default"), &["istio-ca".into()], 1);
        assert_eq!(service_account(&t).unwrap(), sa("istio-system", "default"));
    }

    #[test]
    fn sub_and_legacy_claims_are_read_too() {
        let enc = |v: serde_json::Value| {
            format!(
                "h.{}.s",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
            )
        };
        let t = enc(serde_json::json!({"sub": "system:serviceaccount:cx-auth:probe"}));
        assert_eq!(service_account(&t).unwrap(), sa("cx-auth", "probe"));
        let t = enc(serde_json::json!({
            "kubernetes.io/serviceaccount/namespace": "ops",
            "kubernetes.io/serviceaccount/service-account.name": "console",
        }));
        assert_eq!(service_account(&t).unwrap(), sa("ops", "console"));
        let t = enc(serde_json::json!({"sub": "admin"}));
        assert!(
            service_account(&t)
                .unwrap_err()
                .contains("no service account")
        );
    }

    #[test]
    fn an_opaque_token_is_said_to_be_one() {
        assert!(service_account("abc").unwrap_err().contains("not a JWT"));
        assert!(service_account("a.!!.c").unwrap_err().contains("base64url"));
    }

    #[test]
    fn the_spiffe_id_is_istiods() {
        assert_eq!(
            sa("cx-auth", "probe").spiffe(),
            "spiffe://cluster.local/ns/cx-auth/sa/probe"
        );
    }
}
