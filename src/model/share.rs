//! Traffic share math: which fraction of requests from one viewpoint each endpoint of a service
//! port receives, as Envoy would split them given what istiod sends.
//!
//! Unhealthy endpoints get nothing (istiod does not send them). Without locality settings the
//! split is by endpoint weight. `distribute` sets locality weights for a matching viewpoint.
//! `failover`/`failoverPriority` (only with outlier detection, as in Istio) turn into priorities:
//! all traffic goes to the lowest priority that has endpoints.

use super::destination_rule::LocalityLbSetting;
use super::locality::Locality;
use super::meta::Labels;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct ShareInput {
    pub weight: u32,
    pub locality: Locality,
    pub healthy: bool,
    pub labels: Labels,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Share {
    /// `None`: not sent to this viewpoint at all (unhealthy, or outside `distribute`).
    pub priority: Option<u32>,
    pub share: f64,
    /// The weight istiod gives this endpoint's locality when `distribute` sets it; otherwise
    /// the locality's weight is the sum of its endpoints' weights.
    pub locality_weight: Option<u32>,
}

/// Where requests come from: the calling proxy's locality and labels, and its namespace,
/// which decides which ServiceEntries it gets (`visibility`); without a namespace every
/// declaration is shown as if visible.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Viewpoint {
    pub locality: Option<Locality>,
    pub labels: Labels,
    pub namespace: Option<String>,
    /// How the control plane picks among namespaces declaring one host.
    pub rule: super::visibility::HostRule,
    pub mesh: super::visibility::Mesh,
}

/// What `:view ARGS` asks for: `NS`, `LOCALITY`, `NS LOCALITY`, or `-` for the default.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewChange {
    Reset,
    Set {
        namespace: Option<String>,
        locality: Option<Locality>,
    },
}

impl ViewChange {
    /// One word is a namespace when the registry (or a proxy) has it, a locality otherwise
    /// (`eu-west1`, `us-east1/b`: localities contain `/` or name regions).
    pub fn parse(args: &str, namespaces: &dyn Fn(&str) -> bool) -> Result<ViewChange, String> {
        let words: Vec<&str> = args.split_whitespace().collect();
        match words.as_slice() {
            ["-"] => Ok(ViewChange::Reset),
            [one] if !one.contains('/') && namespaces(one) => Ok(ViewChange::Set {
                namespace: Some(one.to_string()),
                locality: None,
            }),
            [one] => Ok(ViewChange::Set {
                namespace: None,
                locality: Some(Locality::parse(one)),
            }),
            [ns, loc] => Ok(ViewChange::Set {
                namespace: Some(ns.to_string()),
                locality: Some(Locality::parse(loc)),
            }),
            _ => Err("use :view NAMESPACE, :view REGION/ZONE, :view NAMESPACE REGION/ZONE, or :view - for the default".into()),
        }
    }
}

impl Viewpoint {
    /// `a proxy in NS at LOCALITY`, or "" when the viewpoint is no particular proxy.
    pub fn describe(&self) -> String {
        match (&self.namespace, &self.locality) {
            (None, None) => String::new(),
            (Some(ns), None) => format!("a proxy in {ns}"),
            (None, Some(l)) => format!("a proxy at {l}"),
            (Some(ns), Some(l)) => format!("a proxy in {ns} at {l}"),
        }
    }

    /// The proxy this viewpoint stands for, when it has a namespace.
    pub fn proxy(&self) -> Option<super::visibility::Proxy<'_>> {
        Some(super::visibility::Proxy {
            namespace: self.namespace.as_deref()?,
            labels: &self.labels,
            rule: self.rule,
            mesh: &self.mesh,
        })
    }
}

/// What of a DestinationRule shapes the split.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy<'a> {
    /// The rule's `localityLbSetting`; without one the mesh default applies (enabled, no
    /// rules), as istiod's default mesh config has it.
    pub locality_lb: Option<&'a LocalityLbSetting>,
    /// `localityLbSetting.enabled: false`.
    pub locality_lb_disabled: bool,
    pub outlier_detection: bool,
}

/// As istiod's `ApplyLocalityLBSetting`: `distribute` when the rule has one (applied only
/// when a `from` matches the viewpoint), else failover priorities when outlier detection is
/// on (by `failoverPriority` labels, or by locality with the `failover` region pairs).
pub fn compute(eps: &[ShareInput], policy: Policy<'_>, view: &Viewpoint) -> Vec<Share> {
    let mut out = vec![Share::default(); eps.len()];
    let healthy: Vec<usize> = (0..eps.len()).filter(|&i| eps[i].healthy).collect();
    if healthy.is_empty() {
        return out;
    }
    let mesh_default = LocalityLbSetting::default();
    let lb = policy.locality_lb.unwrap_or(&mesh_default);
    if let (false, Some(loc)) = (policy.locality_lb_disabled, view.locality.as_ref()) {
        if !lb.distribute.is_empty() {
            if let Some(to) = lb
                .distribute
                .iter()
                .find(|d| loc.matches_pattern(&d.from))
                .map(|d| &d.to)
            {
                distribute(eps, &healthy, to, &mut out);
                return out;
            }
        } else if policy.outlier_detection {
            failover(eps, &healthy, lb, loc, &view.labels, &mut out);
            return out;
        }
    }
    by_weight(eps, &healthy, &mut out, 1.0);
    for &i in &healthy {
        out[i].priority = Some(0);
    }
    out
}

fn by_weight(eps: &[ShareInput], members: &[usize], out: &mut [Share], total_share: f64) {
    let sum: f64 = members.iter().map(|&i| eps[i].weight.max(1) as f64).sum();
    for &i in members {
        out[i].share = total_share * eps[i].weight.max(1) as f64 / sum;
    }
}

/// istiod's `applyLocalityWeight`: each `to` pattern claims the localities it matches (that
/// no earlier pattern claimed) and splits its weight among them by their own weight, rounded
/// up; localities no pattern claims are not sent.
fn distribute(
    eps: &[ShareInput],
    healthy: &[usize],
    to: &BTreeMap<String, u32>,
    out: &mut [Share],
) {
    let mut by_locality: BTreeMap<&Locality, Vec<usize>> = BTreeMap::new();
    for &i in healthy {
        by_locality.entry(&eps[i].locality).or_default().push(i);
    }
    let own_weight =
        |members: &[usize]| -> u64 { members.iter().map(|&i| eps[i].weight.max(1) as u64).sum() };
    let mut claimed: BTreeMap<&Locality, u32> = BTreeMap::new();
    for (pattern, weight) in to {
        let matching: Vec<&Locality> = by_locality
            .keys()
            .copied()
            .filter(|l| !claimed.contains_key(l) && l.matches_pattern(pattern))
            .collect();
        let total: u64 = matching.iter().map(|l| own_weight(&by_locality[l])).sum();
        for l in matching {
            let w = (own_weight(&by_locality[l]) * *weight as u64).div_ceil(total.max(1));
            claimed.insert(l, w.min(u32::MAX as u64) as u32);
        }
    }
    let total: f64 = claimed.values().map(|w| *w as f64).sum();
    for (loc, w) in claimed {
        let members = &by_locality[loc];
        by_weight(
            eps,
            members,
            out,
            if total > 0.0 { w as f64 / total } else { 0.0 },
        );
        for &i in members {
            out[i].priority = Some(0);
            out[i].locality_weight = Some(w);
        }
    }
}

fn failover(
    eps: &[ShareInput],
    healthy: &[usize],
    lb: &LocalityLbSetting,
    from: &Locality,
    from_labels: &Labels,
    out: &mut [Share],
) {
    let raw: Vec<u32> = healthy
        .iter()
        .map(|&i| {
            if lb.failover_priority.is_empty() {
                locality_priority(&eps[i].locality, from, lb)
            } else {
                label_priority(&eps[i], from, from_labels, &lb.failover_priority)
            }
        })
        .collect();
    // Envoy needs consecutive priorities; istiod compacts them.
    let mut levels: Vec<u32> = raw.clone();
    levels.sort_unstable();
    levels.dedup();
    for (n, &i) in healthy.iter().enumerate() {
        out[i].priority = levels.iter().position(|l| *l == raw[n]).map(|p| p as u32);
    }
    let top: Vec<usize> = healthy
        .iter()
        .copied()
        .filter(|&i| out[i].priority == Some(0))
        .collect();
    by_weight(eps, &top, out, 1.0);
}

fn locality_priority(ep: &Locality, from: &Locality, lb: &LocalityLbSetting) -> u32 {
    if ep.region == from.region {
        if ep.zone == from.zone {
            if ep.subzone == from.subzone { 0 } else { 1 }
        } else {
            2
        }
    } else if lb
        .failover
        .iter()
        .any(|f| f.from == from.region && f.to == ep.region)
    {
        3
    } else {
        4
    }
}

/// Priority from `failoverPriority`: the number of listed labels, counted from the first, that
/// stop matching the caller. Topology labels come from the locality when not set as labels.
fn label_priority(ep: &ShareInput, from: &Locality, from_labels: &Labels, keys: &[String]) -> u32 {
    let value = |labels: &Labels, loc: &Locality, key: &str| -> Option<String> {
        // `key=value` entries pin the value instead of comparing with the caller.
        let key = key.split('=').next().unwrap_or(key);
        labels.get(key).cloned().or_else(|| match key {
            "topology.kubernetes.io/region" => Some(loc.region.clone()),
            "topology.kubernetes.io/zone" => Some(loc.zone.clone()),
            "topology.istio.io/subzone" => Some(loc.subzone.clone()),
            _ => None,
        })
    };
    let mut matched = 0;
    for key in keys {
        let mine = value(&ep.labels, &ep.locality, key);
        let wanted = match key.split_once('=') {
            Some((_, v)) => Some(v.to_string()),
            None => value(from_labels, from, key),
        };
        if mine.is_some() && mine == wanted {
            matched += 1;
        } else {
            break;
        }
    }
    (keys.len() - matched) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::destination_rule::{Distribute, Failover};

    fn ep(weight: u32, loc: &str) -> ShareInput {
        ShareInput {
            weight,
            locality: Locality::parse(loc),
            healthy: true,
            labels: Labels::new(),
        }
    }

    fn shares(v: &[Share]) -> Vec<f64> {
        v.iter()
            .map(|s| (s.share * 1000.0).round() / 1000.0)
            .collect()
    }

    #[test]
    fn view_arguments_name_a_namespace_a_locality_or_both() {
        let known = |n: &str| n == "ns1";
        let set = |ns: Option<&str>, loc: Option<&str>| ViewChange::Set {
            namespace: ns.map(String::from),
            locality: loc.map(Locality::parse),
        };
        assert_eq!(ViewChange::parse("ns1", &known), Ok(set(Some("ns1"), None)));
        assert_eq!(
            ViewChange::parse("eu-west1", &known),
            Ok(set(None, Some("eu-west1")))
        );
        assert_eq!(
            ViewChange::parse("us-east1/b", &known),
            Ok(set(None, Some("us-east1/b")))
        );
        assert_eq!(
            ViewChange::parse("ns1 us-east1/us-east1-b", &known),
            Ok(set(Some("ns1"), Some("us-east1/us-east1-b")))
        );
        assert_eq!(ViewChange::parse("-", &known), Ok(ViewChange::Reset));
        assert!(ViewChange::parse("a b c", &known).is_err());
    }

    #[test]
    fn weights_split_traffic() {
        let out = compute(
            &[ep(20, "a"), ep(80, "b")],
            Policy::default(),
            &Viewpoint::default(),
        );
        assert_eq!(shares(&out), vec![0.2, 0.8]);
    }

    #[test]
    fn weight_zero_counts_as_one() {
        let out = compute(
            &[ep(0, "a"), ep(0, "b")],
            Policy::default(),
            &Viewpoint::default(),
        );
        assert_eq!(shares(&out), vec![0.5, 0.5]);
    }

    #[test]
    fn unhealthy_get_nothing() {
        let mut b = ep(80, "b");
        b.healthy = false;
        let out = compute(&[ep(20, "a"), b], Policy::default(), &Viewpoint::default());
        assert_eq!(shares(&out), vec![1.0, 0.0]);
        assert_eq!(out[1].priority, None);
    }

    fn failover_lb() -> LocalityLbSetting {
        LocalityLbSetting {
            failover: vec![Failover {
                from: "us-east".into(),
                to: "us-west".into(),
            }],
            ..Default::default()
        }
    }

    #[test]
    fn failover_keeps_traffic_local_with_outlier_detection() {
        let lb = failover_lb();
        let eps = [ep(20, "us-east/z1"), ep(80, "us-west/z1"), ep(5, "eu/z1")];
        let view = Viewpoint {
            locality: Some(Locality::parse("us-east/z1")),
            ..Default::default()
        };
        let pol = Policy {
            locality_lb: Some(&lb),
            outlier_detection: true,
            ..Default::default()
        };
        let out = compute(&eps, pol, &view);
        assert_eq!(shares(&out), vec![1.0, 0.0, 0.0]);
        let prio: Vec<_> = out.iter().map(|s| s.priority).collect();
        assert_eq!(prio, vec![Some(0), Some(1), Some(2)]);
        // Local endpoint gone: the failover region takes it all.
        let mut eps2 = eps.clone();
        eps2[0].healthy = false;
        let out = compute(&eps2, pol, &view);
        assert_eq!(shares(&out), vec![0.0, 1.0, 0.0]);
    }

    #[test]
    fn failover_without_outlier_detection_is_ignored() {
        let lb = failover_lb();
        let eps = [ep(20, "us-east/z1"), ep(80, "us-west/z1")];
        let view = Viewpoint {
            locality: Some(Locality::parse("us-east/z1")),
            ..Default::default()
        };
        let pol = Policy {
            locality_lb: Some(&lb),
            outlier_detection: false,
            ..Default::default()
        };
        assert_eq!(shares(&compute(&eps, pol, &view)), vec![0.2, 0.8]);
    }

    #[test]
    fn distribute_sets_locality_weights() {
        let lb = LocalityLbSetting {
            distribute: vec![Distribute {
                from: "us-east/*".into(),
                to: [("us-east/*".to_string(), 90), ("us-west/*".to_string(), 10)].into(),
            }],
            ..Default::default()
        };
        let eps = [
            ep(1, "us-east/z1"),
            ep(3, "us-east/z1"),
            ep(1, "us-west/z1"),
        ];
        let view = Viewpoint {
            locality: Some(Locality::parse("us-east/z1")),
            ..Default::default()
        };
        let out = compute(
            &eps,
            Policy {
                locality_lb: Some(&lb),
                outlier_detection: false,
                ..Default::default()
            },
            &view,
        );
        assert_eq!(shares(&out), vec![0.225, 0.675, 0.1]);
    }

    #[test]
    fn failover_priority_by_labels() {
        let lb = LocalityLbSetting {
            failover_priority: vec!["topology.kubernetes.io/region".into(), "version".into()],
            ..Default::default()
        };
        let mut a = ep(1, "r1/z1");
        a.labels.insert("version".into(), "v1".into());
        let mut b = ep(1, "r1/z1");
        b.labels.insert("version".into(), "v2".into());
        let c = ep(1, "r2/z1");
        let view = Viewpoint {
            locality: Some(Locality::parse("r1/z9")),
            labels: [("version".to_string(), "v1".to_string())]
                .into_iter()
                .collect(),
            ..Default::default()
        };
        let out = compute(
            &[a, b, c],
            Policy {
                locality_lb: Some(&lb),
                outlier_detection: true,
                ..Default::default()
            },
            &view,
        );
        let prio: Vec<_> = out.iter().map(|s| s.priority).collect();
        assert_eq!(prio, vec![Some(0), Some(1), Some(2)]);
        assert_eq!(shares(&out), vec![1.0, 0.0, 0.0]);
    }
}
