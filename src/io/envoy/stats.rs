//! Envoy's `/stats?format=json`: counters and gauges by name, histograms' quantiles, parsed
//! without copying names that are not kept. Admin calls run on Envoy's main thread, so callers
//! ask with tight filters; this parser just has to keep up when they do not.

use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    /// Counters and gauges (Envoy does not say which in JSON).
    pub values: HashMap<String, u64>,
    /// Histogram name → its quantiles.
    pub quantiles: HashMap<String, Vec<Quantile>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    pub q: f64,
    /// Over the last flush interval, and since start; None when there were no samples.
    pub interval: Option<f64>,
    pub cumulative: Option<f64>,
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow, default)]
    stats: Vec<Item<'a>>,
}

#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    name: Option<&'a str>,
    #[serde(default)]
    value: Option<Scalar>,
    #[serde(borrow, default)]
    histograms: Option<Histograms<'a>>,
}

/// A stat's value: a number, or something else (a text readout) that is skipped. Written by
/// hand because serde's untagged enums buffer every value first.
enum Scalar {
    Int(u64),
    Float(f64),
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a stat value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(if v >= 0 {
                    Scalar::Int(v as u64)
                } else {
                    Scalar::Other
                })
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Float(v))
            }
            fn visit_str<E>(self, _: &str) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct Histograms<'a> {
    #[serde(default)]
    supported_quantiles: Vec<f64>,
    #[serde(borrow, default)]
    computed_quantiles: Vec<Computed<'a>>,
}

#[derive(Deserialize)]
struct Computed<'a> {
    #[serde(borrow)]
    name: &'a str,
    #[serde(default)]
    values: Vec<QuantileValue>,
}

#[derive(Deserialize)]
struct QuantileValue {
    #[serde(default)]
    interval: Option<f64>,
    #[serde(default)]
    cumulative: Option<f64>,
}

pub fn parse(body: &[u8]) -> Result<Stats, serde_json::Error> {
    let raw: Raw<'_> = serde_json::from_slice(body)?;
    let mut out = Stats {
        values: HashMap::with_capacity(raw.stats.len()),
        ..Default::default()
    };
    for item in raw.stats {
        if let (Some(name), Some(v)) = (item.name, item.value) {
            let n = match v {
                Scalar::Int(n) => n,
                Scalar::Float(f) if f >= 0.0 => f as u64,
                Scalar::Float(_) | Scalar::Other => continue,
            };
            out.values.insert(name.to_string(), n);
        }
        if let Some(h) = item.histograms {
            for c in h.computed_quantiles {
                let q = h
                    .supported_quantiles
                    .iter()
                    .copied()
                    .zip(c.values)
                    .map(|(q, v)| Quantile {
                        q,
                        interval: v.interval,
                        cumulative: v.cumulative,
                    })
                    .collect();
                out.quantiles.insert(c.name.to_string(), q);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_text_and_histograms() {
        let body = br#"{"stats":[
            {"name":"cluster.outbound|80||a.upstream_rq_total","value":12},
            {"name":"server.version","value":"1.40.0"},
            {"name":"cluster.x.max_host_weight","value":80},
            {"histograms":{"supported_quantiles":[0.5,0.99],"computed_quantiles":[
                {"name":"cluster.outbound|80||a.upstream_rq_time","values":[{"interval":1.5,"cumulative":2},{"interval":null,"cumulative":9.9}]}]}}
        ]}"#;
        let s = parse(body).unwrap();
        assert_eq!(s.values["cluster.outbound|80||a.upstream_rq_total"], 12);
        assert_eq!(s.values["cluster.x.max_host_weight"], 80);
        assert!(
            !s.values.contains_key("server.version"),
            "text readouts are not numbers"
        );
        let q = &s.quantiles["cluster.outbound|80||a.upstream_rq_time"];
        let want = vec![
            Quantile {
                q: 0.5,
                interval: Some(1.5),
                cumulative: Some(2.0),
            },
            Quantile {
                q: 0.99,
                interval: None,
                cumulative: Some(9.9),
            },
        ];
        assert_eq!(q, &want);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"not json").is_err());
        assert!(parse(b"{\"stats\":[{\"name\":1}]}").is_err());
    }
}
