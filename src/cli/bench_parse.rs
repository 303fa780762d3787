//! `meshdeck bench --parse`: Envoy admin payloads at the sizes a busy proxy produces:
//! `/stats?format=json` with 50k stats and `/clusters?format=json` with 1k hosts.

use crate::io::envoy::{admin, stats};
use serde_json::json;
use std::io::Write;
use std::time::Instant;

fn stats_body(n: usize) -> Vec<u8> {
    let mut items: Vec<serde_json::Value> = (0..n)
        .map(|i| json!({"name": format!("cluster.outbound|80||svc-{}.internal.upstream_rq_{}", i / 20, i % 20), "value": i * 7}))
        .collect();
    items.push(json!({"histograms": {"supported_quantiles": [0.5, 0.99], "computed_quantiles": (0..200).map(|i| json!({
        "name": format!("cluster.outbound|80||svc-{i}.internal.upstream_rq_time"),
        "values": [{"interval": 1.5, "cumulative": 2.5}, {"interval": 9.0, "cumulative": 12.0}]})).collect::<Vec<_>>()}}));
    serde_json::to_vec(&json!({"stats": items})).unwrap_or_default()
}

fn clusters_body(hosts: usize) -> Vec<u8> {
    let host = |i: usize| {
        json!({
        "address": {"socket_address": {"address": format!("10.{}.{}.{}", i >> 16 & 255, i >> 8 & 255, i & 255), "port_value": 8080}},
        "stats": [{"name": "cx_active", "type": "GAUGE", "value": "3"}, {"name": "rq_total", "value": "1200"}, {"name": "rq_error", "value": "4"}],
        "health_status": {"eds_health_status": "HEALTHY", "failed_outlier_check": i.is_multiple_of(50)},
        "weight": 1 + i % 100, "priority": i % 2,
        "locality": {"region": "r1", "zone": format!("z{}", i % 3)}})
    };
    let clusters: Vec<serde_json::Value> = (0..10)
        .map(|c| json!({"name": format!("outbound|80||svc-{c}.internal"), "host_statuses": (0..hosts / 10).map(|h| host(c * 1000 + h)).collect::<Vec<_>>()}))
        .collect();
    serde_json::to_vec(&json!({"cluster_statuses": clusters})).unwrap_or_default()
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[times.len() / 2]
}

pub fn run(out: &mut dyn Write) -> i32 {
    let body = stats_body(50_000);
    let mut parsed = 0;
    let ms = median_ms(|| parsed = stats::parse(&body).map(|s| s.len()).unwrap_or(0));
    let _ = writeln!(
        out,
        "/stats?format=json, 50k stats ({} KiB): {ms:.2} ms median of 15 ({parsed} values)",
        body.len() / 1024
    );
    let body = clusters_body(1_000);
    let mut hosts = 0;
    let ms = median_ms(|| {
        hosts = serde_json::from_slice::<admin::Clusters>(&body)
            .map(|c| {
                c.cluster_statuses
                    .iter()
                    .map(|s| s.host_statuses.len())
                    .sum()
            })
            .unwrap_or(0)
    });
    let _ = writeln!(
        out,
        "/clusters?format=json, 1k hosts ({} KiB): {ms:.2} ms median of 15 ({hosts} hosts)",
        body.len() / 1024
    );
    0
}
