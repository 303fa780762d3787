//! Envoy's `/stats?format=json`: counters and gauges by name, histograms' quantiles, parsed
//! without copying names that are not kept. Admin calls run on Envoy's main thread, so callers
//! ask with tight filters; this parser just has to keep up when they do not.

use crate::model::planes::stats::{ClusterReading, Field, Latency, Readings, split_full_name};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    /// Every counter's and gauge's name, one after the other: one allocation for 50k names.
    names: String,
    /// Counters and gauges (Envoy does not say which in JSON), in Envoy's order: (end of the
    /// name in `names`, value); a name starts where the one before it ends.
    values: Vec<(u32, u64)>,
    /// Histogram name → its quantiles.
    pub quantiles: HashMap<String, Vec<Quantile>>,
}

impl Stats {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Counters and gauges by name, in Envoy's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        let mut start = 0usize;
        self.values.iter().map(move |(end, v)| {
            let name = &self.names[start..*end as usize];
            start = *end as usize;
            (name, *v)
        })
    }

    /// One counter or gauge. A scan: answers are filtered to a few stats before they are asked.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl Stats {
    /// The cluster stats charts read (see `model::planes::stats`), by cluster.
    pub fn readings(&self) -> Readings {
        let mut out = Readings::new();
        for (name, v) in self.iter() {
            if let Some((cluster, field)) = split_full_name(name) {
                let r: &mut ClusterReading = out.entry(cluster.to_string()).or_default();
                r.values.insert(field, v);
            }
        }
        for (name, qs) in &self.quantiles {
            if let Some((cluster, Field::RqTime)) = split_full_name(name) {
                out.entry(cluster.to_string()).or_default().latency = Some(
                    Latency::from_quantiles(qs.iter().map(|q| (q.q, q.interval))),
                );
            }
        }
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantile {
    pub q: f64,
    /// Over the last flush interval, and since start; None when there were no samples.
    pub interval: Option<f64>,
    pub cumulative: Option<f64>,
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

/// Streams the `stats` array straight into the maps: no intermediate list of 50k items.
struct Into<'s>(&'s mut Stats);

impl<'de> serde::de::Visitor<'de> for Into<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Envoy's /stats JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<&str>()? {
            if key == "stats" {
                map.next_value_seed(Items(&mut *self.0))?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Items<'s>(&'s mut Stats);

impl<'de> serde::de::DeserializeSeed<'de> for Items<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Items<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of stats")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let out = self.0;
        while let Some(item) = seq.next_element::<Item<'de>>()? {
            add(out, item);
        }
        Ok(())
    }
}

fn add(out: &mut Stats, item: Item<'_>) {
    if let (Some(name), Some(v)) = (item.name, item.value) {
        let n = match v {
            Scalar::Int(n) => n,
            Scalar::Float(f) if f >= 0.0 => f as u64,
            Scalar::Float(_) | Scalar::Other => return,
        };
        out.names.push_str(name);
        out.values.push((out.names.len() as u32, n));
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

pub fn parse(body: &[u8]) -> Result<Stats, serde_json::Error> {
    if body.len() > u32::MAX as usize {
        return Err(serde::de::Error::custom("a /stats answer over 4 GiB"));
    }
    // Sized from the answer: about 80 bytes per stat, half of them the name.
    let mut out = Stats {
        names: String::with_capacity(body.len() / 2),
        values: Vec::with_capacity(body.len() / 64),
        ..Default::default()
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    serde::Deserializer::deserialize_map(&mut de, Into(&mut out))?;
    de.end()?;
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
        assert_eq!(s.get("cluster.outbound|80||a.upstream_rq_total"), Some(12));
        assert_eq!(s.get("cluster.x.max_host_weight"), Some(80));
        assert_eq!(
            s.get("server.version"),
            None,
            "text readouts are not numbers"
        );
        assert_eq!(s.len(), 2);
        assert_eq!(
            s.iter().next(),
            Some(("cluster.outbound|80||a.upstream_rq_total", 12))
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
