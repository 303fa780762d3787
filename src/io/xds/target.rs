//! Where the xDS server is and how to reach it: plaintext, or TLS with a CA and an optional
//! bearer token (istiod's 15012 wants a service-account token with audience istio-ca).

use super::identity::{DEFAULT_NAMESPACE, Identity};
use crate::io::error_chain;
use std::time::Duration;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

#[derive(Debug, Clone, PartialEq)]
pub struct Tls {
    pub ca_pem: Vec<u8>,
    /// The name the server's certificate is checked against (istiod: `istiod.istio-system.svc`).
    pub server_name: String,
}

/// A bearer token the sessions share and a renewal can replace while they run.
#[derive(Debug, Clone, Default)]
pub struct BearerToken(std::sync::Arc<std::sync::RwLock<String>>);

impl BearerToken {
    pub fn new(value: impl Into<String>) -> Self {
        BearerToken(std::sync::Arc::new(std::sync::RwLock::new(value.into())))
    }
    pub fn get(&self) -> String {
        self.0.read().map(|t| t.clone()).unwrap_or_default()
    }
    pub fn set(&self, value: String) {
        if let Ok(mut t) = self.0.write() {
            *t = value;
        }
    }
}

impl PartialEq for BearerToken {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `HOST:PORT`.
    pub addr: String,
    pub tls: Option<Tls>,
    pub token: Option<BearerToken>,
    /// What the user calls it (an istiod pod name, or the address).
    pub label: String,
    /// Who the console says it is there; the node's namespace follows it.
    pub identity: Identity,
}

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("xDS address {0:?}: {1}")]
    Address(String, String),
    /// The server is named where this is shown (with its connection state), so only the cause.
    #[error("{1}")]
    Connect(String, String),
}

impl Target {
    pub fn plaintext(addr: &str) -> Target {
        Target {
            addr: addr.into(),
            tls: None,
            token: None,
            label: addr.into(),
            identity: Identity::Plain {
                namespace: DEFAULT_NAMESPACE.into(),
            },
        }
    }

    pub async fn connect(&self) -> Result<Channel, TargetError> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut ep = Endpoint::from_shared(format!("{scheme}://{}", self.addr))
            .map_err(|e| TargetError::Address(self.addr.clone(), e.to_string()))?
            .connect_timeout(Duration::from_secs(3))
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10));
        if let Some(tls) = &self.tls {
            let cfg = ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&tls.ca_pem))
                .domain_name(tls.server_name.clone());
            ep = ep
                .tls_config(cfg)
                .map_err(|e| TargetError::Connect(self.addr.clone(), e.to_string()))?;
        }
        ep.connect()
            .await
            .map_err(|e| TargetError::Connect(self.addr.clone(), error_chain(&e)))
    }

    /// Adds the bearer token, when there is one, to a request.
    pub fn authorize<T>(
        &self,
        mut req: tonic::Request<T>,
    ) -> Result<tonic::Request<T>, TargetError> {
        if let Some(token) = &self.token {
            let value = format!("Bearer {}", token.get()).parse().map_err(|_| {
                TargetError::Connect(
                    self.addr.clone(),
                    "the token is not a valid header value".into(),
                )
            })?;
            req.metadata_mut().insert("authorization", value);
        }
        Ok(req)
    }
}
