//! One HTTP listener per proxy and its routes: a virtual host per service host and HTTP port, so
//! that `curl -H 'Host: HOST' http://LISTEN/` reaches the service through the proxy.

use super::cluster::ads;
use crate::controlplane::any::pack;
use crate::model::destination_rule::ConsistentHash;
use crate::model::service_entry::ServicePort;
use envoy_types::pb::envoy::config::listener::v3::{Filter, FilterChain, Listener, filter};
use envoy_types::pb::envoy::config::route::v3::{
    Route, RouteAction, RouteConfiguration, RouteMatch, VirtualHost, route, route_action,
    route_match,
};
use envoy_types::pb::envoy::extensions::filters::http::router::v3::Router;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    HttpConnectionManager, HttpFilter, Rds, http_connection_manager, http_filter,
};
use std::collections::BTreeSet;

pub const LISTENER_NAME: &str = "meshdeck_http";
pub const ROUTE_NAME: &str = "meshdeck_http";

pub fn is_http(port: &ServicePort) -> bool {
    let proto = port.protocol.as_deref().unwrap_or("").to_ascii_uppercase();
    matches!(proto.as_str(), "HTTP" | "HTTP2" | "GRPC")
        || port.name.starts_with("http")
        || port.name.starts_with("grpc")
}

pub fn http_listener(listen: &str) -> Listener {
    let (host, port) = listen.rsplit_once(':').unwrap_or(("127.0.0.1", "15001"));
    let port: u32 = port.parse().unwrap_or(15001);
    let hcm = HttpConnectionManager {
        stat_prefix: "outbound_http".into(),
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            config_source: Some(ads()),
            route_config_name: ROUTE_NAME.into(),
        })),
        http_filters: vec![HttpFilter {
            name: "envoy.filters.http.router".into(),
            config_type: Some(http_filter::ConfigType::TypedConfig(pack(
                &Router::default(),
            ))),
            ..Default::default()
        }],
        ..Default::default()
    };
    Listener {
        name: LISTENER_NAME.into(),
        address: Some(super::endpoints::socket(
            host.trim_matches(['[', ']']),
            port,
        )),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".into(),
                config_type: Some(filter::ConfigType::TypedConfig(pack(&hcm))),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Collects virtual hosts; Envoy rejects a domain that appears in two of them, so the bare
/// host goes to its first HTTP port only.
#[derive(Default)]
pub struct RouteBuilder {
    hosts: Vec<VirtualHost>,
    domains: BTreeSet<String>,
}

impl RouteBuilder {
    /// `hash`: the DestinationRule's consistent-hash key, which Envoy reads from the route.
    pub fn add(
        &mut self,
        host: &str,
        port: &ServicePort,
        cluster: &str,
        hash: Option<&ConsistentHash>,
    ) {
        if !is_http(port) {
            return;
        }
        let with_port = format!("{host}:{}", port.number);
        let domains: Vec<String> = [host.to_string(), with_port.clone()]
            .into_iter()
            .filter(|d| self.domains.insert(d.clone()))
            .collect();
        if domains.is_empty() {
            return;
        }
        self.hosts.push(VirtualHost {
            name: with_port,
            domains,
            routes: vec![Route {
                r#match: Some(RouteMatch {
                    path_specifier: Some(route_match::PathSpecifier::Prefix("/".into())),
                    ..Default::default()
                }),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(
                        cluster.into(),
                    )),
                    hash_policy: hash.and_then(hash_policy).into_iter().collect(),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        });
    }

    pub fn build(self) -> RouteConfiguration {
        RouteConfiguration {
            name: ROUTE_NAME.into(),
            virtual_hosts: self.hosts,
            ..Default::default()
        }
    }
}

fn hash_policy(h: &ConsistentHash) -> Option<route_action::HashPolicy> {
    use route_action::hash_policy::{ConnectionProperties, Header, PolicySpecifier};
    let specifier = if let Some(name) = &h.http_header_name {
        PolicySpecifier::Header(Header {
            header_name: name.clone(),
            ..Default::default()
        })
    } else if h.use_source_ip == Some(true) {
        PolicySpecifier::ConnectionProperties(ConnectionProperties { source_ip: true })
    } else {
        return None;
    };
    Some(route_action::HashPolicy {
        policy_specifier: Some(specifier),
        ..Default::default()
    })
}
