//! The receiving end of Envoy's `envoy.stat_sinks.metrics_service` sink: Envoy streams every
//! used stat each flush interval; only the few cluster stats the charts need are kept.

use super::poll::DataEvent;
use crate::model::planes::control::short_node_id;
use crate::model::planes::data::unix_ms;
use crate::model::planes::stats::{
    ClusterReading, Field, Latency, Readings, StatsSource, split_full_name,
};
use envoy_types::pb::envoy::service::metrics::v3::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use envoy_types::pb::envoy::service::metrics::v3::{StreamMetricsMessage, StreamMetricsResponse};
use envoy_types::pb::io::prometheus::client::{Metric, MetricFamily, MetricType};
use std::time::SystemTime;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status, Streaming};

pub struct Receiver {
    events: mpsc::Sender<DataEvent>,
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn stream_metrics(
        &self,
        request: Request<Streaming<StreamMetricsMessage>>,
    ) -> Result<Response<StreamMetricsResponse>, Status> {
        let mut stream = request.into_inner();
        // Envoy names itself in the first message of a stream only.
        let mut proxy: Option<String> = None;
        while let Some(msg) = stream.message().await? {
            if let Some(node) = msg.identifier.and_then(|i| i.node) {
                proxy = Some(short_node_id(&node.id).to_string());
            }
            let Some(proxy) = &proxy else {
                continue;
            };
            let (at_ms, readings) = readings(&msg.envoy_metrics, unix_ms(SystemTime::now()));
            if readings.is_empty() {
                continue;
            }
            let ev = DataEvent::Stats {
                proxy: proxy.clone(),
                source: StatsSource::Pushed,
                at_ms,
                readings,
            };
            if self.events.send(ev).await.is_err() {
                break;
            }
        }
        Ok(Response::new(StreamMetricsResponse {}))
    }
}

/// Serves the metrics service on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    events: mpsc::Sender<DataEvent>,
) -> Result<(), tonic::transport::Error> {
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    tonic::transport::Server::builder()
        .add_service(
            MetricsServiceServer::new(Receiver { events }).max_decoding_message_size(64 << 20),
        )
        .serve_with_incoming(incoming)
        .await
}

/// The cluster readings in one message, and when Envoy took them (its timestamp, else `now`).
/// Full stat names (the sink's default) and tag-extracted names with an `envoy_cluster_name`
/// label (`emit_tags_as_labels`) are both understood.
pub fn readings(families: &[MetricFamily], now_ms: u64) -> (u64, Readings) {
    let mut out = Readings::new();
    let mut at_ms = None;
    for f in families {
        let name = f.name.as_deref().unwrap_or("");
        for m in &f.metric {
            let Some((cluster, field)) = locate(name, m) else {
                continue;
            };
            if let Some(t) = m.timestamp_ms.filter(|t| *t > 0) {
                at_ms = Some(at_ms.map_or(t as u64, |a: u64| a.max(t as u64)));
            }
            let r: &mut ClusterReading = out.entry(cluster.to_string()).or_default();
            if field == Field::RqTime {
                r.latency = latency(f.r#type(), m).or(r.latency.take());
            } else if let Some(v) = scalar(m) {
                r.values.insert(field, v);
            }
        }
    }
    (at_ms.unwrap_or(now_ms), out)
}

fn locate<'a>(name: &'a str, m: &'a Metric) -> Option<(&'a str, Field)> {
    if let Some(found) = split_full_name(name) {
        return Some(found);
    }
    let suffix = name.strip_prefix("cluster.")?;
    let field = Field::ALL.into_iter().find(|f| f.suffix() == suffix)?;
    let cluster = m
        .label
        .iter()
        .find(|l| l.name.as_deref() == Some("envoy_cluster_name"))?
        .value
        .as_deref()?;
    Some((cluster, field))
}

fn scalar(m: &Metric) -> Option<u64> {
    let v = m
        .counter
        .as_ref()
        .and_then(|c| c.value)
        .or_else(|| m.gauge.as_ref().and_then(|g| g.value))
        .or_else(|| m.untyped.as_ref().and_then(|u| u.value))?;
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

fn latency(kind: MetricType, m: &Metric) -> Option<Latency> {
    match kind {
        MetricType::Summary => {
            let s = m.summary.as_ref()?;
            Some(Latency::from_quantiles(
                s.quantile
                    .iter()
                    .filter_map(|q| Some((q.quantile?, q.value))),
            ))
        }
        MetricType::Histogram => {
            let h = m.histogram.as_ref()?;
            let mut buckets: Vec<(f64, u64)> = h
                .bucket
                .iter()
                .filter_map(|b| Some((b.upper_bound?, b.cumulative_count?)))
                .collect();
            if buckets.last().is_none_or(|(le, _)| le.is_finite()) {
                buckets.push((f64::INFINITY, h.sample_count.unwrap_or(0)));
            }
            Some(Latency::Buckets(buckets))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::io::prometheus::client::{Counter, Gauge, LabelPair, Quantile, Summary};

    fn family(name: &str, kind: MetricType, m: Metric) -> MetricFamily {
        MetricFamily {
            name: Some(name.into()),
            r#type: Some(kind as i32),
            metric: vec![m],
            ..Default::default()
        }
    }

    #[test]
    fn keeps_the_cluster_stats_and_their_timestamp() {
        let c = "outbound|80||api.demo.svc";
        let fams = vec![
            family(
                &format!("cluster.{c}.upstream_rq_total"),
                MetricType::Counter,
                Metric {
                    counter: Some(Counter {
                        value: Some(42.0),
                        ..Default::default()
                    }),
                    timestamp_ms: Some(5_000),
                    ..Default::default()
                },
            ),
            family(
                &format!("cluster.{c}.upstream_cx_active"),
                MetricType::Gauge,
                Metric {
                    gauge: Some(Gauge { value: Some(3.0) }),
                    timestamp_ms: Some(5_000),
                    ..Default::default()
                },
            ),
            family(
                &format!("cluster.{c}.upstream_rq_time"),
                MetricType::Summary,
                Metric {
                    summary: Some(Summary {
                        quantile: vec![
                            Quantile {
                                quantile: Some(0.5),
                                value: Some(1.5),
                            },
                            Quantile {
                                quantile: Some(0.99),
                                value: Some(f64::NAN),
                            },
                        ],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ),
            family(
                "server.uptime",
                MetricType::Gauge,
                Metric {
                    gauge: Some(Gauge { value: Some(9.0) }),
                    ..Default::default()
                },
            ),
        ];
        let (at, r) = readings(&fams, 99);
        assert_eq!(at, 5_000);
        assert_eq!(r.len(), 1);
        let r = &r[c];
        assert_eq!(r.values[&Field::RqTotal], 42);
        assert_eq!(r.values[&Field::CxActive], 3);
        assert_eq!(
            r.latency,
            Some(Latency::Quantiles {
                p50: Some(1.5),
                p99: None
            })
        );
    }

    #[test]
    fn tag_extracted_names_take_the_cluster_from_the_label() {
        let fams = vec![family(
            "cluster.upstream_rq_5xx",
            MetricType::Counter,
            Metric {
                label: vec![LabelPair {
                    name: Some("envoy_cluster_name".into()),
                    value: Some("outbound|80||a.b".into()),
                }],
                counter: Some(Counter {
                    value: Some(7.0),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )];
        let (at, r) = readings(&fams, 99);
        assert_eq!(at, 99);
        assert_eq!(r["outbound|80||a.b"].values[&Field::Rq5xx], 7);
    }
}
