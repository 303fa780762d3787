//! Envoy's stats as Prometheus text (`/stats/prometheus` on the admin port, Istio's 15090, or
//! the merged 15020). Prometheus names are tag-extracted and lossy (`.` and `|` become `_`,
//! and part of a cluster name may move into `envoy_cluster_name`), so a line is matched to one
//! of the clusters asked for by comparing both in that same lossy form.

use crate::model::planes::stats::{ClusterReading, Field, Latency, Readings};
use std::collections::BTreeMap;

/// Every character Prometheus cannot carry in a name becomes `_`.
fn flatten(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Names after `envoy_cluster_` and what they are; `upstream_rq_xx` is the 2xx/5xx counters
/// with Envoy's default response-code-class tag.
pub const SUFFIXES: [(&str, Option<Field>); 7] = [
    ("upstream_rq_total", Some(Field::RqTotal)),
    ("upstream_rq_2xx", Some(Field::Rq2xx)),
    ("upstream_rq_5xx", Some(Field::Rq5xx)),
    ("upstream_rq_xx", None),
    ("upstream_cx_active", Some(Field::CxActive)),
    (
        "outlier_detection_ejections_active",
        Some(Field::EjectionsActive),
    ),
    ("upstream_rq_time_bucket", Some(Field::RqTime)),
];

/// One sample: a metric name, its labels and its value (a line of the text format, or one
/// series of a Prometheus server's answer).
pub struct Sample<'a> {
    pub name: &'a str,
    pub labels: Vec<(&'a str, String)>,
    pub value: f64,
}

fn parse_line(line: &str) -> Option<Sample<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let i = line.find(['{', ' '])?;
    let (name, rest) = line.split_at(i);
    let (labels, rest) = match rest.strip_prefix('{') {
        Some(body) => parse_labels(body)?,
        None => (Vec::new(), rest),
    };
    let value = match rest.split_whitespace().next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// `k="v",k2="v2"}` → the pairs (escapes undone) and what follows the closing brace. Values
/// may hold commas, braces and escaped quotes, so they are read character by character.
fn parse_labels(body: &str) -> Option<(Vec<(&str, String)>, &str)> {
    let mut labels = Vec::new();
    let mut rest = body;
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (_, '\\') => value.push(match chars.next()?.1 {
                    'n' => '\n',
                    other => other,
                }),
                (i, '"') => break i + 1,
                (_, c) => value.push(c),
            }
        };
        labels.push((key, value));
        rest = &after[end..];
    }
}

/// The readings of `clusters` in a Prometheus text answer.
pub fn readings<'a>(text: &str, clusters: impl IntoIterator<Item = &'a str>) -> Readings {
    readings_of(text.lines().filter_map(parse_line), clusters)
}

/// The readings of `clusters` among `samples` (all of one proxy).
pub fn readings_of<'a, 's>(
    samples: impl IntoIterator<Item = Sample<'s>>,
    clusters: impl IntoIterator<Item = &'a str>,
) -> Readings {
    let wanted: BTreeMap<String, &str> = clusters.into_iter().map(|c| (flatten(c), c)).collect();
    let mut out = Readings::new();
    let mut buckets: BTreeMap<&str, Vec<(f64, u64)>> = BTreeMap::new();
    for l in samples {
        let Some(rest) = l.name.strip_prefix("envoy_cluster_") else {
            continue;
        };
        let Some((middle, field)) = SUFFIXES.iter().find_map(|(suffix, field)| {
            let middle = if rest == *suffix {
                ""
            } else {
                rest.strip_suffix(suffix)?.strip_suffix('_')?
            };
            Some((middle, *field))
        }) else {
            continue;
        };
        let label = |k: &str| {
            l.labels
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.as_str())
        };
        let field = match field {
            Some(f) => f,
            None => match label("envoy_response_code_class") {
                Some("2") => Field::Rq2xx,
                Some("5") => Field::Rq5xx,
                _ => continue,
            },
        };
        let key = match (label("envoy_cluster_name").map(flatten), middle) {
            (Some(l), "") => l,
            (Some(l), m) => format!("{l}_{m}"),
            (None, m) => m.to_string(),
        };
        let Some(cluster) = wanted.get(&key) else {
            continue;
        };
        if field == Field::RqTime {
            let le = match label("le") {
                Some("+Inf") => f64::INFINITY,
                Some(v) => match v.parse() {
                    Ok(v) => v,
                    Err(_) => continue,
                },
                None => continue,
            };
            buckets
                .entry(cluster)
                .or_default()
                .push((le, l.value as u64));
        } else if l.value.is_finite() && l.value >= 0.0 {
            let r: &mut ClusterReading = out.entry(cluster.to_string()).or_default();
            r.values.insert(field, l.value as u64);
        }
    }
    for (cluster, mut b) in buckets {
        b.sort_by(|x, y| x.0.total_cmp(&y.0));
        out.entry(cluster.to_string()).or_default().latency = Some(Latency::Buckets(b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# TYPE envoy_cluster_demo_svc_upstream_rq_total counter
envoy_cluster_demo_svc_upstream_rq_total{envoy_cluster_name="outbound|80||api"} 120
envoy_cluster_demo_svc_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="outbound|80||api"} 100
envoy_cluster_demo_svc_upstream_rq_xx{envoy_response_code_class="5",envoy_cluster_name="outbound|80||api"} 20
envoy_cluster_upstream_cx_active{envoy_cluster_name="outbound|80||web.demo.svc"} 4
envoy_cluster_outbound_80__api_demo_svc_outlier_detection_ejections_active 1
envoy_cluster_demo_svc_upstream_rq_time_bucket{envoy_cluster_name="outbound|80||api",le="0.5"} 10
envoy_cluster_demo_svc_upstream_rq_time_bucket{envoy_cluster_name="outbound|80||api",le="+Inf"} 120
envoy_cluster_demo_svc_upstream_rq_time_bucket{envoy_cluster_name="outbound|80||api",le="25"} 119
envoy_cluster_demo_svc_upstream_rq_time_sum{envoy_cluster_name="outbound|80||api"} 300
envoy_cluster_other_upstream_rq_total{envoy_cluster_name="outbound|80||x"} 5
"#;

    #[test]
    fn lossy_names_are_matched_to_the_clusters_asked_for() {
        let r = readings(
            TEXT,
            ["outbound|80||api.demo.svc", "outbound|80||web.demo.svc"],
        );
        let api = &r["outbound|80||api.demo.svc"];
        assert_eq!(api.values[&Field::RqTotal], 120);
        assert_eq!(api.values[&Field::Rq2xx], 100);
        assert_eq!(api.values[&Field::Rq5xx], 20);
        assert_eq!(api.values[&Field::EjectionsActive], 1);
        assert_eq!(
            api.latency,
            Some(Latency::Buckets(vec![
                (0.5, 10),
                (25.0, 119),
                (f64::INFINITY, 120)
            ]))
        );
        assert_eq!(r["outbound|80||web.demo.svc"].values[&Field::CxActive], 4);
        assert_eq!(r.len(), 2, "a cluster not asked for is left out");
    }

    #[test]
    fn label_values_may_hold_escapes_commas_and_braces() {
        let l = parse_line(r#"m{a="x,\"y\"}",b="z"} 3 1700000000"#).unwrap();
        assert_eq!(l.name, "m");
        assert_eq!(
            l.labels,
            vec![("a", "x,\"y\"}".to_string()), ("b", "z".to_string())]
        );
        assert_eq!(l.value, 3.0);
        assert!(parse_line("# HELP m text").is_none());
        assert!(parse_line(r#"m{a="unterminated} 3"#).is_none());
    }
}
