//! The ADS gRPC service: one task per stream, fed by the registry and answering on a channel.

use super::auth::Authenticator;
use super::{delta, sotw, status::StatusBoard};
use crate::io::xds::identity::ServiceAccount;
use crate::model::store::Store;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_server::{
    AggregatedDiscoveryService, AggregatedDiscoveryServiceServer,
};
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// What every stream task shares: the current registry and the status board.
pub struct Shared {
    pub registry: watch::Receiver<Arc<Store>>,
    pub status: Arc<StatusBoard>,
    pub options: Options,
}

/// How this control plane behaves where it stands in for an istiod.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Tokens are checked (istiod's 15012) when set; nothing is checked otherwise (15010).
    pub auth: Option<Authenticator>,
    /// Behave as, and name itself as, this istiod release (where releases differ: which
    /// ServiceEntry a host declared in several namespaces resolves to).
    pub istiod_version: Option<String>,
}

impl Shared {
    /// What every response says the server is: istiod's shape when standing in for one.
    pub fn control_plane(&self) -> Option<envoy_types::pb::envoy::config::core::v3::ControlPlane> {
        let identifier = match &self.options.istiod_version {
            Some(v) => {
                serde_json::json!({"Component": "istiod", "ID": "meshdeck", "Info": {"version": v}})
            }
            None => serde_json::json!({"Component": "meshdeck", "ID": "meshdeck"}),
        };
        Some(envoy_types::pb::envoy::config::core::v3::ControlPlane {
            identifier: identifier.to_string(),
        })
    }

    pub fn host_rule(&self) -> crate::model::visibility::HostRule {
        crate::model::visibility::HostRule::for_version(self.options.istiod_version.as_deref())
    }
}

#[derive(Clone)]
pub struct Ads {
    shared: Arc<Shared>,
}

impl Ads {
    pub fn new(registry: watch::Receiver<Arc<Store>>, status: Arc<StatusBoard>) -> Ads {
        Ads::with_options(registry, status, Options::default())
    }

    pub fn with_options(
        registry: watch::Receiver<Arc<Store>>,
        status: Arc<StatusBoard>,
        options: Options,
    ) -> Ads {
        Ads {
            shared: Arc::new(Shared {
                registry,
                status,
                options,
            }),
        }
    }

    fn caller(
        &self,
        metadata: &tonic::metadata::MetadataMap,
    ) -> Result<Option<ServiceAccount>, Status> {
        super::auth::authenticate(self.shared.options.auth.as_ref(), metadata)
    }

    fn conn(&self) -> u64 {
        self.shared.status.new_conn()
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl AggregatedDiscoveryService for Ads {
    type StreamAggregatedResourcesStream = BoxStream<DiscoveryResponse>;
    type DeltaAggregatedResourcesStream = BoxStream<DeltaDiscoveryResponse>;

    async fn stream_aggregated_resources(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<Self::StreamAggregatedResourcesStream>, Status> {
        let caller = self.caller(request.metadata())?;
        let (tx, rx) = mpsc::channel(16);
        let stream = sotw::Stream::new(self.conn(), self.shared.clone(), tx, caller);
        tokio::spawn(stream.run(request.into_inner()));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn delta_aggregated_resources(
        &self,
        request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<Self::DeltaAggregatedResourcesStream>, Status> {
        let caller = self.caller(request.metadata())?;
        let (tx, rx) = mpsc::channel(16);
        let stream = delta::Stream::new(self.conn(), self.shared.clone(), tx, caller);
        tokio::spawn(stream.run(request.into_inner()));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Serves ADS on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ads: Ads,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
        .add_service(AggregatedDiscoveryServiceServer::new(ads).max_decoding_message_size(64 << 20))
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

pub async fn bind(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await
}
