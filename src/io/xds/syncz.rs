//! istiod's `istio.io/debug/syncz` as a client: one ClientConfig per connected proxy with the
//! status of each xDS type, polled on its own stream about once a second.

use super::stream::{client, outbound, status_text};
use super::target::Target;
use crate::model::planes::control::{ProxySync, TypeSync};
use crate::msg::xds::XdsEvent;
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest;
use envoy_types::pb::envoy::service::status::v3::{ClientConfig, ConfigStatus};
use envoy_types::pb::google::protobuf::Any;
use prost::Message;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tonic::transport::Channel;

pub const SYNCZ: &str = "istio.io/debug/syncz";
pub const CLIENT_CONFIG: &str = "type.googleapis.com/envoy.service.status.v3.ClientConfig";
pub const POLL: Duration = Duration::from_secs(1);

fn short_type(type_url: &str) -> String {
    let name = type_url.rsplit('.').next().unwrap_or(type_url);
    match name {
        "Cluster" => "CDS",
        "ClusterLoadAssignment" => "EDS",
        "Listener" => "LDS",
        "RouteConfiguration" => "RDS",
        "Secret" => "SDS",
        other => other,
    }
    .to_string()
}

/// One proxy's ClientConfig; None for another console (they are not proxies).
pub fn decode(any: &Any, control_plane: &str) -> Result<Option<ProxySync>, String> {
    if any.type_url != CLIENT_CONFIG {
        return Err(format!(
            "syncz: expected {CLIENT_CONFIG}, got {}",
            any.type_url
        ));
    }
    let cc =
        ClientConfig::decode(any.value.as_slice()).map_err(|e| format!("ClientConfig: {e}"))?;
    let node = cc.node.unwrap_or_default();
    if super::node::is_console(&node) {
        return Ok(None);
    }
    let locality = node
        .locality
        .as_ref()
        .map(|l| {
            [l.region.as_str(), l.zone.as_str(), l.sub_zone.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default();
    let mut types = BTreeMap::new();
    for g in cc.generic_xds_configs {
        let status = ConfigStatus::try_from(g.config_status)
            .map(|s| s.as_str_name().to_string())
            .unwrap_or_else(|_| "UNKNOWN".into());
        types.insert(
            short_type(&g.type_url),
            TypeSync {
                status,
                version: g.version_info,
                error: g.error_state.map(|e| e.details),
            },
        );
    }
    Ok(Some(ProxySync {
        id: node.id,
        cluster: node.cluster,
        locality,
        control_plane: control_plane.to_string(),
        types,
    }))
}

/// Polls syncz until the stream fails; returns why.
pub async fn poll(
    target: &Target,
    channel: Channel,
    node: Node,
    events: &mpsc::Sender<XdsEvent>,
) -> String {
    let (tx, req) = match outbound::<DiscoveryRequest>(target) {
        Ok(o) => o,
        Err(e) => return e,
    };
    let mut client = client(channel);
    let ask = |nonce: String| DiscoveryRequest {
        node: Some(node.clone()),
        type_url: SYNCZ.into(),
        response_nonce: nonce,
        ..Default::default()
    };
    if tx.send(ask(String::new())).await.is_err() {
        return "request stream closed".into();
    }
    let mut inbound = match client.stream_aggregated_resources(req).await {
        Ok(r) => r.into_inner(),
        Err(s) => return status_text(&s),
    };
    let mut next = tokio::time::interval(POLL);
    next.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut nonce = String::new();
    loop {
        tokio::select! {
            msg = inbound.message() => {
                let resp = match msg {
                    Ok(Some(r)) => r,
                    Ok(None) => return "the server closed the syncz stream".into(),
                    Err(s) => return status_text(&s),
                };
                nonce = resp.nonce.clone();
                let mut proxies = Vec::new();
                for any in &resp.resources {
                    match decode(any, &target.label) {
                        Ok(Some(p)) => proxies.push(p),
                        Ok(None) => {}
                        Err(e) => return e,
                    }
                }
                proxies.sort_by(|a, b| a.id.cmp(&b.id));
                if events.send(XdsEvent::Syncz { server: target.label.clone(), proxies }).await.is_err() {
                    return "console closed".into();
                }
            }
            _ = next.tick() => {
                if tx.send(ask(nonce.clone())).await.is_err() {
                    return "request stream closed".into();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::admin::v3::UpdateFailureState;
    use envoy_types::pb::envoy::service::status::v3::client_config::GenericXdsConfig;

    #[test]
    fn decodes_a_client_config_and_skips_consoles() {
        let cc = ClientConfig {
            node: Some(Node {
                id: "sidecar~10.0.0.1~a.ns~ns.svc.cluster.local".into(),
                ..Default::default()
            }),
            generic_xds_configs: vec![GenericXdsConfig {
                type_url: "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
                    .into(),
                version_info: "v7".into(),
                config_status: ConfigStatus::Error as i32,
                error_state: Some(UpdateFailureState {
                    details: "bad".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let any = Any {
            type_url: CLIENT_CONFIG.into(),
            value: cc.encode_to_vec(),
        };
        let p = decode(&any, "istiod-0").unwrap().unwrap();
        assert_eq!(p.short_id(), "a.ns");
        assert_eq!(p.types["EDS"].status, "ERROR");
        assert_eq!(p.types["EDS"].error.as_deref(), Some("bad"));
        let console = ClientConfig {
            node: Some(super::super::node::console_node("ns", None)),
            ..Default::default()
        };
        let any = Any {
            type_url: CLIENT_CONFIG.into(),
            value: console.encode_to_vec(),
        };
        assert_eq!(decode(&any, "x").unwrap(), None);
    }
}
