//! One cluster per service port and host.

use super::PortContext;
use super::duration::{self, seconds};
use crate::model::endpoint::EndpointSource;
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::store::{Store, owning_group};
use crate::model::workload_group::Probe;
use envoy_types::pb::envoy::config::cluster::v3::{Cluster, OutlierDetection, cluster};
use envoy_types::pb::envoy::config::core::v3::{
    AggregatedConfigSource, ApiVersion, ConfigSource, HealthCheck, config_source, health_check,
};
use envoy_types::pb::google::protobuf::UInt32Value;

pub fn ads() -> ConfigSource {
    ConfigSource {
        resource_api_version: ApiVersion::V3 as i32,
        config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
            AggregatedConfigSource {},
        )),
        ..Default::default()
    }
}

pub fn is_eds(c: &Cluster) -> bool {
    c.cluster_discovery_type
        == Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Eds as i32,
        ))
}

pub fn build(store: &Store, ctx: &PortContext<'_>, name: &str) -> Option<Cluster> {
    let se = ctx.se;
    let mut c = Cluster {
        name: name.to_string(),
        connect_timeout: Some(seconds(1)),
        lb_policy: cluster::LbPolicy::LeastRequest as i32,
        ..Default::default()
    };
    match se.spec.resolution_or_default() {
        "DNS" | "DNS_ROUND_ROBIN" => {
            let kind = if se.spec.resolution_or_default() == "DNS" {
                cluster::DiscoveryType::StrictDns
            } else {
                cluster::DiscoveryType::LogicalDns
            };
            c.cluster_discovery_type = Some(cluster::ClusterDiscoveryType::Type(kind as i32));
            // DNS services carry their endpoints inline: the SE's endpoints, or the host itself.
            c.load_assignment = Some(super::endpoints::load_assignment(store, ctx, name));
        }
        _ => {
            c.cluster_discovery_type = Some(cluster::ClusterDiscoveryType::Type(
                cluster::DiscoveryType::Eds as i32,
            ));
            c.eds_cluster_config = Some(cluster::EdsClusterConfig {
                eds_config: Some(ads()),
                service_name: String::new(),
            });
        }
    }
    if let Some(dr) = ctx.dr {
        apply_destination_rule(&mut c, &dr.spec);
    }
    if let Some(hc) = group_probe(store, ctx).as_ref().and_then(health_check) {
        c.health_checks.push(hc);
    }
    Some(c)
}

fn apply_destination_rule(
    c: &mut Cluster,
    dr: &crate::model::destination_rule::DestinationRuleSpec,
) {
    let Some(tp) = &dr.traffic_policy else { return };
    if let Some(lb) = &tp.load_balancer {
        c.lb_policy = match (&lb.consistent_hash, lb.simple.as_deref()) {
            // As istiod: a ring unless maglev is asked for; the key comes from the route.
            (Some(h), _) if h.maglev.is_some() => cluster::LbPolicy::Maglev,
            (Some(_), _) => cluster::LbPolicy::RingHash,
            (None, Some("ROUND_ROBIN")) => cluster::LbPolicy::RoundRobin,
            (None, Some("RANDOM")) => cluster::LbPolicy::Random,
            (None, _) => cluster::LbPolicy::LeastRequest,
        } as i32;
        if lb
            .locality_lb_setting
            .as_ref()
            .is_some_and(|l| !l.distribute.is_empty())
        {
            c.common_lb_config = Some(cluster::CommonLbConfig {
                locality_config_specifier: Some(
                    cluster::common_lb_config::LocalityConfigSpecifier::LocalityWeightedLbConfig(
                        cluster::common_lb_config::LocalityWeightedLbConfig {},
                    ),
                ),
                ..Default::default()
            });
        }
    }
    if let Some(od) = &tp.outlier_detection {
        let u = |v: u32| Some(UInt32Value { value: v });
        c.outlier_detection = Some(OutlierDetection {
            consecutive_5xx: od.consecutive_5xx_errors.and_then(u),
            enforcing_consecutive_5xx: od
                .consecutive_5xx_errors
                .map(|_| UInt32Value { value: 100 }),
            consecutive_gateway_failure: od.consecutive_gateway_errors.and_then(u),
            enforcing_consecutive_gateway_failure: od
                .consecutive_gateway_errors
                .map(|_| UInt32Value { value: 100 }),
            interval: od.interval.as_deref().and_then(duration::parse),
            base_ejection_time: od.base_ejection_time.as_deref().and_then(duration::parse),
            max_ejection_percent: od.max_ejection_percent.map(|p| UInt32Value {
                value: p.clamp(0, 100) as u32,
            }),
            // Istio turns success-rate ejection off unless asked for.
            enforcing_success_rate: Some(UInt32Value { value: 0 }),
            ..Default::default()
        });
    }
}

/// The probe of the WorkloadGroup the port's entries were generated from, if any.
pub fn group_probe(store: &Store, ctx: &PortContext<'_>) -> Option<Probe> {
    ctx.cluster.declared.iter().find_map(|ep| {
        let EndpointSource::WorkloadEntry {
            namespace, name, ..
        } = &ep.source
        else {
            return None;
        };
        let Some(Object::WorkloadEntry(we)) = store
            .get(&ObjectKey::new(Kind::WorkloadEntry, namespace, name))
            .map(|e| &e.object)
        else {
            return None;
        };
        let group = owning_group(we)?;
        match store
            .get(&ObjectKey::new(Kind::WorkloadGroup, namespace, group))
            .map(|e| &e.object)
        {
            Some(Object::WorkloadGroup(wg)) => wg.spec.probe.clone(),
            _ => None,
        }
    })
}

pub fn probe_port(probe: &Probe) -> Option<u32> {
    probe
        .http_get
        .as_ref()
        .map(|h| h.port)
        .or(probe.tcp_socket.as_ref().map(|t| t.port))
}

fn health_check(probe: &Probe) -> Option<HealthCheck> {
    let checker = if let Some(h) = &probe.http_get {
        health_check::HealthChecker::HttpHealthCheck(health_check::HttpHealthCheck {
            path: h.path.clone().unwrap_or_else(|| "/".into()),
            host: h.host.clone().unwrap_or_default(),
            ..Default::default()
        })
    } else if probe.tcp_socket.is_some() {
        health_check::HealthChecker::TcpHealthCheck(health_check::TcpHealthCheck::default())
    } else {
        // exec and grpc probes run on the VM (istio-agent); Envoy cannot run them.
        return None;
    };
    let n = |v: Option<i32>, d: u32| {
        Some(UInt32Value {
            value: v.map_or(d, |x| x.max(1) as u32),
        })
    };
    Some(HealthCheck {
        timeout: Some(seconds(probe.timeout_seconds.unwrap_or(1).max(1) as i64)),
        interval: Some(seconds(probe.period_seconds.unwrap_or(10).max(1) as i64)),
        // The probe's period applies from the start, not Envoy's 60 s "no traffic" default.
        no_traffic_interval: Some(seconds(probe.period_seconds.unwrap_or(10).max(1) as i64)),
        unhealthy_threshold: n(probe.failure_threshold, 3),
        healthy_threshold: n(probe.success_threshold, 1),
        health_checker: Some(checker),
        ..Default::default()
    })
}
