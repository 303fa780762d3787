//! Rules on DestinationRules that target registry services.

use super::finding::{Code, Finding, Severity};
use crate::model::endpoint::locality_of;
use crate::model::object::{Kind, Object};
use crate::model::store::{Store, we_labels};
use std::collections::BTreeSet;

pub fn check(store: &Store, out: &mut Vec<Finding>) {
    let mut regions: BTreeSet<String> = BTreeSet::new();
    // zone → its region, to tell "you named a zone" apart from "no such region".
    let mut zones: std::collections::BTreeMap<String, String> = Default::default();
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    for e in store.entries(Kind::WorkloadEntry) {
        if let Object::WorkloadEntry(we) = &e.object {
            let l = locality_of(&we.spec, &we_labels(we));
            zones.insert(l.zone.clone(), l.region.clone());
            regions.insert(l.region);
        }
    }
    for e in store.entries(Kind::ServiceEntry) {
        if let Object::ServiceEntry(se) = &e.object {
            hosts.extend(se.spec.hosts.iter().map(String::as_str));
            for ep in &se.spec.endpoints {
                let l = locality_of(ep, &ep.labels);
                zones.insert(l.zone.clone(), l.region.clone());
                regions.insert(l.region);
            }
        }
    }
    regions.remove("");
    for entry in store.entries(Kind::DestinationRule) {
        let Object::DestinationRule(dr) = &entry.object else {
            continue;
        };
        let key = entry.object.key();
        let host = dr.spec.host.as_str();
        let covered = hosts.contains(host)
            || host
                .strip_prefix('*')
                .is_some_and(|suffix| hosts.iter().any(|h| h.ends_with(suffix)));
        let k8s_service = host.ends_with(".svc.cluster.local") || !host.contains('.');
        if !covered && !k8s_service {
            out.push(Finding::new(
                store,
                Code::RuleForUnknownHost,
                Severity::Warning,
                &key,
                "spec.host",
                format!(
                    "no ServiceEntry declares host {host:?}, so this rule applies to nothing \
                     here: fix the host or add the ServiceEntry"
                ),
            ));
        }
        let Some(lb) = dr.spec.locality_lb() else {
            continue;
        };
        for (i, f) in lb.failover.iter().enumerate() {
            for (side, value) in [("from", &f.from), ("to", &f.to)] {
                let field = format!(
                    "spec.trafficPolicy.loadBalancer.localityLbSetting.failover[{i}].{side}"
                );
                let msg = if value.contains('/') {
                    Some((
                        Severity::Error,
                        format!(
                            "failover {side} {value:?} is not a region: failover works between \
                         regions only; use {:?}",
                            value.split('/').next().unwrap_or_default()
                        ),
                    ))
                } else if let Some(region) = zones
                    .get(value.as_str())
                    .filter(|_| !regions.contains(value.as_str()))
                {
                    Some((
                        Severity::Error,
                        format!(
                            "failover {side} {value:?} is a zone (of region {region:?}), not a                              region: failover works between regions; use {region:?}"
                        ),
                    ))
                } else if !regions.contains(value.as_str()) {
                    let known: Vec<&str> = regions.iter().map(String::as_str).collect();
                    Some((
                        Severity::Warning,
                        format!(
                            "failover {side} names region {value:?}, which no endpoint is in \
                         (regions here: {}); the rule never applies",
                            if known.is_empty() {
                                "none".into()
                            } else {
                                known.join(", ")
                            }
                        ),
                    ))
                } else {
                    None
                };
                if let Some((severity, msg)) = msg {
                    out.push(Finding::new(
                        store,
                        Code::BadFailoverRegion,
                        severity,
                        &key,
                        field,
                        msg,
                    ));
                }
            }
        }
    }
}
