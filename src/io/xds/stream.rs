//! One ADS stream, state-of-the-world or Delta: CDS as a wildcard, EDS for the subscribed
//! names. Every response is decoded and ACKed, or NACKed with the reason; the subscription
//! follows the names the console wants. Returns when the stream ends, with why.

use super::decode::{self, CLUSTER, ENDPOINT, Endpoints};
use super::target::Target;
use crate::io::error_chain;
use crate::model::planes::control::{Connection, SentCluster};
use crate::msg::xds::XdsEvent;
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use envoy_types::pb::google::rpc::Status as RpcStatus;
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    StateOfTheWorld,
    Delta,
}

/// What this stream holds, sent whole to the console after every change.
#[derive(Default)]
struct Held {
    clusters: BTreeMap<String, SentCluster>,
    endpoints: BTreeMap<String, Endpoints>,
}

pub struct Stream<'a> {
    pub target: &'a Target,
    pub node: Node,
    pub names: &'a mut watch::Receiver<BTreeSet<String>>,
    pub events: &'a mpsc::Sender<XdsEvent>,
}

fn nack(error: String) -> Option<RpcStatus> {
    Some(RpcStatus {
        code: tonic::Code::InvalidArgument as i32,
        message: error,
        details: Vec::new(),
    })
}

impl Stream<'_> {
    async fn emit(&self, e: XdsEvent) -> Result<(), String> {
        self.events
            .send(e)
            .await
            .map_err(|_| "console closed".to_string())
    }

    async fn connected(&self) -> Result<(), String> {
        self.emit(XdsEvent::Connection {
            server: self.target.label.clone(),
            state: Connection::Connected,
        })
        .await
    }

    /// Reports the server's `control_plane.identifier` when it first comes or changes.
    async fn identify(
        &self,
        held: &mut String,
        cp: Option<&envoy_types::pb::envoy::config::core::v3::ControlPlane>,
    ) -> Result<(), String> {
        match cp {
            Some(cp) if !cp.identifier.is_empty() && cp.identifier != *held => {
                held.clone_from(&cp.identifier);
                self.emit(XdsEvent::ControlPlane {
                    server: self.target.label.clone(),
                    identifier: cp.identifier.clone(),
                })
                .await
            }
            _ => Ok(()),
        }
    }

    /// Decodes one response's resources into `held` and reports the whole new set; on any
    /// error nothing is applied, the error is reported and returned (for the NACK).
    async fn apply(
        &self,
        held: &mut Held,
        type_url: &str,
        version: &str,
        resources: &[envoy_types::pb::google::protobuf::Any],
        removed: &[String],
        replace: bool,
    ) -> Result<Option<String>, String> {
        let server = self.target.label.clone();
        let version = version.to_string();
        let result = match type_url {
            CLUSTER => merge(
                &mut held.clusters,
                resources.iter().map(decode::cluster).collect(),
                removed,
                replace,
            )
            .map(|()| XdsEvent::Clusters {
                server: server.clone(),
                clusters: held.clusters.clone(),
            }),
            ENDPOINT => merge(
                &mut held.endpoints,
                resources.iter().map(decode::assignment).collect(),
                removed,
                replace,
            )
            .map(|()| XdsEvent::Endpoints {
                server: server.clone(),
                version,
                assignments: held.endpoints.clone(),
            }),
            other => Err(format!("not subscribed to {other}")),
        };
        match result {
            Ok(event) => {
                self.emit(event).await?;
                Ok(None)
            }
            Err(error) => {
                self.emit(XdsEvent::Rejected {
                    server,
                    type_url: type_url.to_string(),
                    error: error.clone(),
                })
                .await?;
                Ok(Some(error))
            }
        }
    }

    pub async fn run(self, channel: Channel, protocol: Protocol) -> End {
        let result = match protocol {
            Protocol::StateOfTheWorld => self.follow(channel, Sotw::default()).await,
            Protocol::Delta => self.follow(channel, Delta).await,
        };
        match result {
            Ok(()) => End::Failed("the server closed the stream".into()),
            Err(e) => e,
        }
    }

    /// One stream of either flavour: CDS and the wanted EDS names asked for, every response
    /// applied and answered, the subscription following the names the console wants.
    async fn follow<F: Flavour>(self, channel: Channel, mut flavour: F) -> Result<(), End> {
        let (tx, req) = outbound::<F::Request>(self.target)?;
        let send = |r: F::Request| push(&tx, r);
        send(F::clusters(self.node.clone())).await?;
        let mut names: BTreeSet<String> = self.names.borrow_and_update().clone();
        if !names.is_empty() {
            send(F::endpoints(&names)).await?;
        }
        let mut inbound = F::open(client(channel), req)
            .await
            .map_err(End::from_status)?
            .into_inner();
        self.connected().await?;
        let mut held = Held::default();
        let mut identifier = String::new();
        let mut names_rx = self.names.clone();
        loop {
            tokio::select! {
                msg = inbound.message() => {
                    let resp = match msg {
                        Ok(Some(r)) => r,
                        Ok(None) => return Ok(()),
                        Err(s) => return Err(End::from_status(s)),
                    };
                    self.identify(&mut identifier, F::control_plane(&resp)).await?;
                    let reply = flavour.answer(&self, &mut held, resp, &names).await?;
                    send(reply).await?;
                }
                changed = names_rx.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    let next = names_rx.borrow_and_update().clone();
                    if next == names {
                        continue;
                    }
                    let request = flavour.resubscribe(&mut held, &names, &next);
                    names = next;
                    send(request).await?;
                }
            }
        }
    }
}

/// What differs between state-of-the-world and Delta for the console's stream.
trait Flavour {
    type Request: Send + 'static;
    type Response: Send + 'static;
    /// The first request: CDS as a wildcard, with the node.
    fn clusters(node: Node) -> Self::Request;
    /// The first EDS subscription.
    fn endpoints(names: &BTreeSet<String>) -> Self::Request;
    async fn open(
        client: AggregatedDiscoveryServiceClient<Channel>,
        req: tonic::Request<ReceiverStream<Self::Request>>,
    ) -> Result<tonic::Response<tonic::Streaming<Self::Response>>, tonic::Status>;
    fn control_plane(
        resp: &Self::Response,
    ) -> Option<&envoy_types::pb::envoy::config::core::v3::ControlPlane>;
    /// Applies a response and returns its ACK or NACK.
    async fn answer(
        &mut self,
        stream: &Stream<'_>,
        held: &mut Held,
        resp: Self::Response,
        names: &BTreeSet<String>,
    ) -> Result<Self::Request, String>;
    /// The request that moves the EDS subscription from `old` to `new`.
    fn resubscribe(
        &mut self,
        held: &mut Held,
        old: &BTreeSet<String>,
        new: &BTreeSet<String>,
    ) -> Self::Request;
}

/// Per type: the last accepted version and the last nonce seen.
#[derive(Default)]
struct Sotw {
    accepted: BTreeMap<String, (String, String)>,
}

impl Flavour for Sotw {
    type Request = DiscoveryRequest;
    type Response = DiscoveryResponse;

    fn clusters(node: Node) -> DiscoveryRequest {
        DiscoveryRequest {
            node: Some(node),
            type_url: CLUSTER.into(),
            ..Default::default()
        }
    }

    fn endpoints(names: &BTreeSet<String>) -> DiscoveryRequest {
        DiscoveryRequest {
            type_url: ENDPOINT.into(),
            resource_names: names.iter().cloned().collect(),
            ..Default::default()
        }
    }

    async fn open(
        mut client: AggregatedDiscoveryServiceClient<Channel>,
        req: tonic::Request<ReceiverStream<DiscoveryRequest>>,
    ) -> Result<tonic::Response<tonic::Streaming<DiscoveryResponse>>, tonic::Status> {
        client.stream_aggregated_resources(req).await
    }

    fn control_plane(
        resp: &DiscoveryResponse,
    ) -> Option<&envoy_types::pb::envoy::config::core::v3::ControlPlane> {
        resp.control_plane.as_ref()
    }

    async fn answer(
        &mut self,
        stream: &Stream<'_>,
        held: &mut Held,
        resp: DiscoveryResponse,
        names: &BTreeSet<String>,
    ) -> Result<DiscoveryRequest, String> {
        let t = resp.type_url.clone();
        let error = stream
            .apply(held, &t, &resp.version_info, &resp.resources, &[], true)
            .await?;
        // A NACK names the last version accepted, as the protocol asks.
        let version = match &error {
            None => resp.version_info.clone(),
            Some(_) => self
                .accepted
                .get(&t)
                .map(|a| a.0.clone())
                .unwrap_or_default(),
        };
        self.accepted
            .insert(t.clone(), (version.clone(), resp.nonce.clone()));
        let resource_names = if t == ENDPOINT {
            names.iter().cloned().collect()
        } else {
            Vec::new()
        };
        Ok(DiscoveryRequest {
            version_info: version,
            response_nonce: resp.nonce,
            type_url: t,
            resource_names,
            error_detail: error.and_then(nack),
            ..Default::default()
        })
    }

    fn resubscribe(
        &mut self,
        _: &mut Held,
        _: &BTreeSet<String>,
        new: &BTreeSet<String>,
    ) -> DiscoveryRequest {
        let (version, nonce) = self.accepted.get(ENDPOINT).cloned().unwrap_or_default();
        DiscoveryRequest {
            version_info: version,
            response_nonce: nonce,
            ..Self::endpoints(new)
        }
    }
}

struct Delta;

impl Flavour for Delta {
    type Request = DeltaDiscoveryRequest;
    type Response = DeltaDiscoveryResponse;

    fn clusters(node: Node) -> DeltaDiscoveryRequest {
        DeltaDiscoveryRequest {
            node: Some(node),
            type_url: CLUSTER.into(),
            resource_names_subscribe: vec!["*".into()],
            ..Default::default()
        }
    }

    fn endpoints(names: &BTreeSet<String>) -> DeltaDiscoveryRequest {
        DeltaDiscoveryRequest {
            type_url: ENDPOINT.into(),
            resource_names_subscribe: names.iter().cloned().collect(),
            ..Default::default()
        }
    }

    async fn open(
        mut client: AggregatedDiscoveryServiceClient<Channel>,
        req: tonic::Request<ReceiverStream<DeltaDiscoveryRequest>>,
    ) -> Result<tonic::Response<tonic::Streaming<DeltaDiscoveryResponse>>, tonic::Status> {
        client.delta_aggregated_resources(req).await
    }

    fn control_plane(
        resp: &DeltaDiscoveryResponse,
    ) -> Option<&envoy_types::pb::envoy::config::core::v3::ControlPlane> {
        resp.control_plane.as_ref()
    }

    async fn answer(
        &mut self,
        stream: &Stream<'_>,
        held: &mut Held,
        resp: DeltaDiscoveryResponse,
        _: &BTreeSet<String>,
    ) -> Result<DeltaDiscoveryRequest, String> {
        let t = resp.type_url.clone();
        let any: Vec<_> = resp
            .resources
            .iter()
            .filter_map(|r| r.resource.clone())
            .collect();
        let version = &resp.system_version_info;
        let error = stream
            .apply(held, &t, version, &any, &resp.removed_resources, false)
            .await?;
        Ok(DeltaDiscoveryRequest {
            type_url: t,
            response_nonce: resp.nonce,
            error_detail: error.and_then(nack),
            ..Default::default()
        })
    }

    fn resubscribe(
        &mut self,
        held: &mut Held,
        old: &BTreeSet<String>,
        new: &BTreeSet<String>,
    ) -> DeltaDiscoveryRequest {
        let unsubscribe: Vec<String> = old.difference(new).cloned().collect();
        for n in &unsubscribe {
            held.endpoints.remove(n);
        }
        DeltaDiscoveryRequest {
            type_url: ENDPOINT.into(),
            resource_names_subscribe: new.difference(old).cloned().collect(),
            resource_names_unsubscribe: unsubscribe,
            ..Default::default()
        }
    }
}

/// Why a stream ended: a failure worth retrying, or the server refusing who the console is
/// (istiod's PermissionDenied or Unauthenticated), which no retry with the same credential fixes.
#[derive(Debug)]
pub enum End {
    Failed(String),
    Refused(tonic::Status),
}

impl From<String> for End {
    fn from(e: String) -> End {
        End::Failed(e)
    }
}

impl End {
    pub fn from_status(s: tonic::Status) -> End {
        match s.code() {
            tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => End::Refused(s),
            _ => End::Failed(status_text(&s)),
        }
    }
}

/// The request side of an ADS stream: where requests go, and the call that carries them
/// (with the bearer token when there is one).
pub(super) fn outbound<R>(
    target: &Target,
) -> Result<(mpsc::Sender<R>, tonic::Request<ReceiverStream<R>>), String> {
    let (tx, rx) = mpsc::channel::<R>(16);
    let req = target
        .authorize(tonic::Request::new(ReceiverStream::new(rx)))
        .map_err(|e| e.to_string())?;
    Ok((tx, req))
}

pub(super) fn client(channel: Channel) -> AggregatedDiscoveryServiceClient<Channel> {
    AggregatedDiscoveryServiceClient::new(channel).max_decoding_message_size(256 << 20)
}

async fn push<R>(tx: &mpsc::Sender<R>, r: R) -> Result<(), String> {
    tx.send(r)
        .await
        .map_err(|_| "request stream closed".to_string())
}

/// A response's decoded resources into what is held: the whole set (SotW) or an update with
/// removals (Delta). Nothing changes when decoding failed.
fn merge<T>(
    held: &mut BTreeMap<String, T>,
    decoded: Result<Vec<(String, T)>, String>,
    removed: &[String],
    replace: bool,
) -> Result<(), String> {
    let decoded = decoded?;
    if replace {
        held.clear();
    }
    for n in removed {
        held.remove(n);
    }
    held.extend(decoded);
    Ok(())
}

pub fn status_text(s: &tonic::Status) -> String {
    let mut out = format!("{:?}: {}", s.code(), s.message());
    if let Some(src) = std::error::Error::source(s) {
        out.push_str(": ");
        out.push_str(&error_chain(src));
    }
    out
}
