//! Finding istiod through the cluster the way istioctl does: its pods (label `app=istiod`),
//! the mesh root certificate (configmap `istio-ca-root-cert`), and a service-account token
//! for audience `istio-ca` from the TokenRequest API — what 15012 wants before it answers
//! debug types such as syncz.

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, ServiceAccount};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};

pub const LABEL: (&str, &str) = ("app", "istiod");
pub const CA_CONFIGMAP: &str = "istio-ca-root-cert";
pub const CA_KEY: &str = "root-cert.pem";
pub const AUDIENCE: &str = "istio-ca";
/// istiod's certificate names its service: `istiod.<namespace>.svc`.
pub fn server_name(namespace: &str) -> String {
    format!("istiod.{namespace}.svc")
}

/// The running istiod pods of `namespace`, by name.
pub async fn pods(client: &Client, namespace: &str) -> Result<Vec<String>, String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let selector = format!("{}={}", LABEL.0, LABEL.1);
    let list = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| {
            format!(
                "listing pods {selector} in {namespace}: {}",
                super::error::describe(&e)
            )
        })?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        // A server that ignores the selector must not make any pod an istiod.
        .filter(|p| {
            p.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL.0))
                .is_some_and(|v| v == LABEL.1)
        })
        .filter(|p| {
            p.status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .is_some_and(|ph| ph == "Running")
        })
        .filter_map(|p| p.metadata.name)
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(format!(
            "no running istiod pod (label {selector}) in namespace {namespace}; --istiod-namespace names another"
        ));
    }
    Ok(names)
}

/// The mesh's root certificate (PEM), which istiod's serving certificate chains to.
pub async fn root_cert(client: &Client, namespace: &str) -> Result<Vec<u8>, String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let cm = api
        .get(CA_CONFIGMAP)
        .await
        .map_err(|e| format!("configmap {namespace}/{CA_CONFIGMAP}: {e}"))?;
    cm.data
        .and_then(|mut d| d.remove(CA_KEY))
        .map(String::into_bytes)
        .ok_or_else(|| format!("configmap {namespace}/{CA_CONFIGMAP} has no {CA_KEY}"))
}

/// A token the API server issued, and how long it said it is valid.
pub struct Issued {
    pub value: String,
    pub lifetime: std::time::Duration,
}

/// A token for `namespace/service_account` with audience `istio-ca`, valid for `seconds` (the
/// API server may shorten it: the answer says until when).
pub async fn token(
    client: &Client,
    namespace: &str,
    service_account: &str,
    seconds: i64,
) -> Result<Issued, String> {
    let api: Api<ServiceAccount> = Api::namespaced(client.clone(), namespace);
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: Some(vec![AUDIENCE.to_string()]),
            expiration_seconds: Some(seconds),
            ..Default::default()
        }),
        ..Default::default()
    };
    let answer: TokenRequest = api
        .create_subresource("token", service_account, &PostParams::default(), &request)
        .await
        .map_err(|e| {
            format!("a token for serviceaccount {namespace}/{service_account} (audience {AUDIENCE}): {e}")
        })?;
    let status = answer.status.unwrap_or_default();
    let Some(value) = status.token.filter(|t| !t.is_empty()) else {
        return Err(format!(
            "the TokenRequest for {namespace}/{service_account} came back without a token"
        ));
    };
    let asked = std::time::Duration::from_secs(seconds.max(0) as u64);
    let lifetime = status.expiration_timestamp.map_or(asked, |t| {
        let left = t.0.duration_since(k8s_openapi::jiff::Timestamp::now());
        std::time::Duration::try_from(left).unwrap_or_default()
    });
    Ok(Issued { value, lifetime })
}

/// Asks for a new token when four fifths of the current one's life are gone, and hands it to
/// the xDS sessions (istiod checks it on every new stream, and closes streams now and then).
/// A refused renewal is retried every `RETRY`; the old token serves until it expires.
pub fn keep_fresh(
    client: Client,
    namespace: String,
    service_account: String,
    seconds: i64,
    token: crate::io::xds::target::BearerToken,
    lifetime: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    const RETRY: std::time::Duration = std::time::Duration::from_secs(60);
    let renew_after =
        |life: std::time::Duration| (life * 4 / 5).max(std::time::Duration::from_secs(1));
    tokio::spawn(async move {
        let mut wait = renew_after(lifetime);
        loop {
            tokio::time::sleep(wait).await;
            match self::token(&client, &namespace, &service_account, seconds).await {
                Ok(issued) => {
                    tracing::info!("renewed the istio-ca token for {namespace}/{service_account}");
                    token.set(issued.value);
                    wait = renew_after(issued.lifetime);
                }
                Err(e) => {
                    tracing::warn!("renewing the istio-ca token: {e}; retrying in a minute");
                    wait = RETRY;
                }
            }
        }
    })
}
