//! A Prometheus server as a source of Envoy stats (`--prometheus URL`): one instant query
//! for the clusters wanted covers every proxy Prometheus scrapes, and the answer becomes the
//! same per-proxy, per-cluster readings an Envoy's own `/stats` gives. A proxy is named by
//! the series' `pod` label (Istio's scrape config sets it), else `proxy`, else `instance`.

pub mod poll;

use crate::io::envoy::prometheus::{SUFFIXES, Sample, readings_of};
use crate::model::planes::stats::Readings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long one query may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// The labels that name a proxy, the first present wins.
pub const PROXY_LABELS: [&str; 3] = ["pod", "proxy", "instance"];

/// Above this many proxies, each cluster is asked for summed over all of them (a fleet's
/// per-proxy series would cost the console more than the screen shows).
pub const FLEET: usize = 64;

/// What a fleet's sums are kept under, in place of one proxy.
pub const EVERY_PROXY: &str = "every proxy";

/// How many proxies report cluster stats.
const COUNT_QUERY: &str = r#"count(group by (pod, proxy, instance) ({__name__=~"envoy_cluster_(.+_)?upstream_rq_total"}))"#;

/// The stats of `query_for`, each cluster's summed over every proxy.
pub fn summed_query(clusters: &[String]) -> String {
    format!(
        "sum by (__name__, envoy_cluster_name, envoy_response_code_class, le) ({})",
        query_for(clusters)
    )
}

#[derive(Debug, Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: Vec<Series>,
}

#[derive(Debug, Deserialize)]
struct Series {
    metric: BTreeMap<String, String>,
    /// `[unix seconds, "value"]`.
    value: (f64, String),
}

/// Escapes what a regular expression reads specially, then what a PromQL string does.
fn promql_regex_literal(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push_str(r"\\");
        }
        if c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The selector for `clusters`' stats: every name the readings use, and a cluster label that
/// is the cluster's name or (Envoy's default tag extraction stops at the first dot) its start.
pub fn query_for(clusters: &[String]) -> String {
    let names: Vec<&str> = SUFFIXES.iter().map(|(s, _)| *s).collect();
    let mut tags: Vec<String> = clusters
        .iter()
        .map(|c| promql_regex_literal(c.split('.').next().unwrap_or(c)))
        .collect();
    tags.sort();
    tags.dedup();
    format!(
        r#"{{__name__=~"envoy_cluster_(.+_)?({})",envoy_cluster_name=~"({})(\\..*)?"}}"#,
        names.join("|"),
        tags.join("|")
    )
}

/// A query parameter, percent-encoded.
fn encoded(v: &str) -> String {
    crate::io::envoy::admin::query_value(v)
}

async fn query(base: &str, promql: &str) -> Result<(u16, bytes::Bytes), String> {
    let url = format!(
        "{}/api/v1/query?query={}",
        base.trim_end_matches('/'),
        encoded(promql)
    );
    crate::io::http::get(&url, ANSWER_WITHIN)
        .await
        .map_err(|e| format!("prometheus {base}: {e}"))
}

/// An error the API explains is JSON with any status; anything else is the status.
fn failed(base: &str, status: u16, e: String) -> String {
    match status {
        200 | 400 | 422 => format!("prometheus {base}: {e}"),
        s => format!("prometheus {base}: answered HTTP {s} ({e})"),
    }
}

/// The readings of `clusters` per proxy from the server at `base`.
pub async fn readings(
    base: &str,
    clusters: &[String],
) -> Result<BTreeMap<String, Readings>, String> {
    if clusters.is_empty() {
        return Ok(BTreeMap::new());
    }
    let (status, body) = query(base, &query_for(clusters)).await?;
    parse(&body, clusters).map_err(|e| failed(base, status, e))
}

/// The readings of `clusters` summed over every proxy, under `EVERY_PROXY`.
pub async fn summed(base: &str, clusters: &[String]) -> Result<BTreeMap<String, Readings>, String> {
    if clusters.is_empty() {
        return Ok(BTreeMap::new());
    }
    let (status, body) = query(base, &summed_query(clusters)).await?;
    parse_as(&body, clusters, |_| Some(EVERY_PROXY)).map_err(|e| failed(base, status, e))
}

/// How many proxies the server at `base` has cluster stats of.
pub async fn proxies(base: &str) -> Result<usize, String> {
    let (status, body) = query(base, COUNT_QUERY).await?;
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|e| failed(base, status, format!("not a query answer: {e}")))?;
    if answer.status != "success" {
        return Err(failed(base, status, answer.error.unwrap_or_default()));
    }
    let n = answer
        .data
        .and_then(|d| d.result.into_iter().next())
        .and_then(|s| s.value.1.parse::<f64>().ok())
        .unwrap_or(0.0);
    Ok(n as usize)
}

/// An answer of the query API, grouped by proxy.
pub fn parse(body: &[u8], clusters: &[String]) -> Result<BTreeMap<String, Readings>, String> {
    parse_as(body, clusters, |metric| {
        PROXY_LABELS
            .iter()
            .find_map(|l| metric.get(*l).map(String::as_str))
    })
}

/// The same, each series' proxy named by `proxy_of` (None: left out).
fn parse_as(
    body: &[u8],
    clusters: &[String],
    proxy_of: impl Fn(&BTreeMap<String, String>) -> Option<&str>,
) -> Result<BTreeMap<String, Readings>, String> {
    let answer: Answer =
        serde_json::from_slice(body).map_err(|e| format!("not a query answer: {e}"))?;
    if answer.status != "success" {
        return Err(format!(
            "{}: {}",
            answer.error_type.unwrap_or_else(|| "error".into()),
            answer.error.unwrap_or_default()
        ));
    }
    let data = answer.data.ok_or("an answer without data")?;
    if data.result_type != "vector" {
        return Err(format!(
            "a {} where a vector was asked for",
            data.result_type
        ));
    }
    let mut by_proxy: BTreeMap<&str, Vec<Sample<'_>>> = BTreeMap::new();
    for s in &data.result {
        let Some(proxy) = proxy_of(&s.metric) else {
            continue;
        };
        let Some(name) = s.metric.get("__name__") else {
            continue;
        };
        let Ok(value) = s.value.1.parse::<f64>() else {
            continue;
        };
        let labels = s
            .metric
            .iter()
            .filter(|(k, _)| k.as_str() != "__name__")
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        by_proxy.entry(proxy).or_default().push(Sample {
            name,
            labels,
            value,
        });
    }
    Ok(by_proxy
        .into_iter()
        .map(|(proxy, samples)| {
            let r = readings_of(samples, clusters.iter().map(String::as_str));
            (proxy.to_string(), r)
        })
        .filter(|(_, r)| !r.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::planes::stats::{Field, Latency};

    #[test]
    fn the_query_names_every_stat_and_each_clusters_tag() {
        let q = query_for(&[
            "outbound|80||test.demo.internal".into(),
            "outbound|80||test.other".into(),
        ]);
        assert!(q.contains("upstream_rq_total|"), "{q}");
        assert!(q.contains("upstream_rq_time_bucket"), "{q}");
        // One tag for both: what Envoy's default extraction keeps, escaped twice.
        assert!(
            q.contains(r#"envoy_cluster_name=~"(outbound\\|80\\|\\|test)(\\..*)?""#),
            "{q}"
        );
    }

    #[test]
    fn an_answer_becomes_readings_per_proxy() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"__name__":"envoy_cluster_demo_internal_upstream_rq_total","envoy_cluster_name":"outbound|80||test","pod":"proxy-east","instance":"127.0.0.1:1"},"value":[1.5,"120"]},
          {"metric":{"__name__":"envoy_cluster_demo_internal_upstream_rq_xx","envoy_cluster_name":"outbound|80||test","envoy_response_code_class":"5","pod":"proxy-east"},"value":[1.5,"3"]},
          {"metric":{"__name__":"envoy_cluster_demo_internal_upstream_rq_time_bucket","envoy_cluster_name":"outbound|80||test","le":"+Inf","pod":"proxy-east"},"value":[1.5,"120"]},
          {"metric":{"__name__":"envoy_cluster_demo_internal_upstream_rq_total","envoy_cluster_name":"outbound|80||test","instance":"127.0.0.1:2"},"value":[1.5,"7"]},
          {"metric":{"__name__":"envoy_cluster_demo_internal_upstream_rq_total","envoy_cluster_name":"outbound|80||test","pod":"proxy-eu"},"value":[1.5,"NaN"]}
        ]}}"#;
        let c = vec!["outbound|80||test.demo.internal".to_string()];
        let r = parse(body, &c).unwrap();
        let east = &r["proxy-east"]["outbound|80||test.demo.internal"];
        assert_eq!(east.values[&Field::RqTotal], 120);
        assert_eq!(east.values[&Field::Rq5xx], 3);
        assert_eq!(
            east.latency,
            Some(Latency::Buckets(vec![(f64::INFINITY, 120)]))
        );
        assert_eq!(
            r["127.0.0.1:2"]["outbound|80||test.demo.internal"].values[&Field::RqTotal],
            7
        );
        assert!(!r.contains_key("proxy-eu"), "a NaN is no reading");
    }

    #[test]
    fn a_refused_query_says_why() {
        let body =
            br#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}"#;
        let e = parse(body, &["c".into()]).unwrap_err();
        assert!(
            e.contains("bad_data") && e.contains("invalid parameter"),
            "{e}"
        );
        assert!(
            parse(b"<html>", &["c".into()])
                .unwrap_err()
                .contains("not a query answer")
        );
    }
}
