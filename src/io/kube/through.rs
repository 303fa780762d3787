//! The planes reached through the cluster: istiod replicas found and port-forwarded as xDS
//! servers (15012 with its root cert and an istio-ca token kept fresh, or 15010), and
//! `pod/NS/NAME` admins forwarded to loopback. Everything after this sees plain targets.

use super::{forward, istiod};
use crate::io::envoy::poll::PollTarget;
use crate::io::xds::identity::{self, Identity, ServiceAccount};
use crate::io::xds::target::BearerToken;
use crate::io::xds::{Target, Tls};

/// What to resolve.
pub struct Through {
    /// `--envoy-admin` targets; `pod/NS/NAME` ones are forwarded.
    pub admins: Vec<PollTarget>,
    /// `--istiod`: find and forward every replica.
    pub istiod: Option<Istiod>,
    pub kube: super::client::Target,
}

pub struct Istiod {
    pub namespace: String,
    /// NAME (in istiod's namespace) or NS/NAME: whose istio-ca token is presented.
    pub service_account: String,
    /// 15010 instead, as this identity (no token, no syncz).
    pub plaintext: Option<Identity>,
}

/// `--envoy-admin pod/NS/NAME`: reached through a port-forward to the pod's admin port.
pub const POD_PREFIX: &str = "pod/";
/// Envoy's admin port in an Istio sidecar.
pub const SIDECAR_ADMIN_PORT: u16 = 15000;

/// What the cluster adds to the planes: istiod replicas as xDS servers, pod admins made
/// reachable; `forwards` must live as long as they are used.
#[derive(Default)]
pub struct ClusterPlanes {
    pub xds: Vec<Target>,
    pub admins: Vec<PollTarget>,
    pub forwards: Vec<crate::io::kube::forward::Forward>,
    /// Renews the istio-ca token while the console runs.
    pub renewal: Option<tokio_util::task::AbortOnDropHandle<()>>,
}

/// Resolves `--istiod` and `pod/NS/NAME` admins through the cluster (nothing to do without
/// them). Every failure names what it was after.
pub async fn resolve(wanted: Through) -> Result<ClusterPlanes, String> {
    let Through {
        mut admins,
        istiod: wanted_istiod,
        kube,
    } = wanted;
    let needs_pods = admins.iter().any(|t| t.admin.starts_with(POD_PREFIX));
    let mut out = ClusterPlanes::default();
    if wanted_istiod.is_none() && !needs_pods {
        out.admins = admins;
        return Ok(out);
    }
    let client = super::client::connect(&kube)
        .await
        .map_err(|e| format!("--istiod and pod/ admins need the cluster: {e:#}"))?
        .client;
    for t in admins.iter_mut() {
        if let Some(pod) = t.admin.strip_prefix(POD_PREFIX) {
            let (ns, name) = pod.split_once('/').unwrap_or(("default", pod));
            let f = forward::start(client.clone(), ns, name, SIDECAR_ADMIN_PORT).await?;
            t.admin = format!("http://{}", f.local);
            out.forwards.push(f);
        }
    }
    out.admins = admins;
    let Some(wanted) = wanted_istiod else {
        return Ok(out);
    };
    let ns = wanted.namespace.as_str();
    let pods = istiod::pods(&client, ns).await?;
    let (port, tls, token, identity) = if let Some(plain) = wanted.plaintext {
        (15010, None, None, plain)
    } else {
        let (sa_ns, sa) = wanted
            .service_account
            .split_once('/')
            .unwrap_or((ns, &wanted.service_account));
        let ca = istiod::root_cert(&client, ns).await?;
        let issued = istiod::token(&client, sa_ns, sa, TOKEN_SECONDS).await?;
        // The claims are what istiod reads; the account asked for stands in for a token
        // that carries none.
        let account = identity::service_account(&issued.value).unwrap_or(ServiceAccount {
            namespace: sa_ns.to_string(),
            name: sa.to_string(),
        });
        let token = BearerToken::new(issued.value);
        out.renewal = Some(tokio_util::task::AbortOnDropHandle::new(
            istiod::keep_fresh(
                client.clone(),
                sa_ns.to_string(),
                sa.to_string(),
                TOKEN_SECONDS,
                token.clone(),
                issued.lifetime,
            ),
        ));
        (
            15012,
            Some(Tls {
                ca_pem: ca,
                server_name: istiod::server_name(ns),
            }),
            Some(token),
            Identity::Token(account),
        )
    };
    for pod in pods {
        let f = forward::start(client.clone(), ns, &pod, port).await?;
        out.xds.push(Target {
            addr: f.local.to_string(),
            tls: tls.clone(),
            token: token.clone(),
            label: pod.clone(),
            identity: identity.clone(),
        });
        out.forwards.push(f);
    }
    Ok(out)
}

/// How long the istio-ca token asked for is valid (the API server may shorten it).
pub const TOKEN_SECONDS: i64 = 12 * 3600;
