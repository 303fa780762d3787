//! Rules on WorkloadEntries and inline ServiceEntry endpoints.

use super::finding::{Code, Finding, Severity};
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::store::Store;
use crate::model::validate::{check_address, check_locality};
use crate::model::workload_entry::WorkloadEntrySpec;
use std::collections::BTreeSet;

pub fn check(store: &Store, out: &mut Vec<Finding>) {
    for entry in store.entries(Kind::WorkloadEntry) {
        let Object::WorkloadEntry(we) = &entry.object else {
            continue;
        };
        let key = entry.object.key();
        spec_rules(store, &key, &we.spec, "spec", out);
        let selectors: Vec<&ObjectKey> = store.selecting_ses(&key).collect();
        if selectors.is_empty() {
            out.push(Finding::new(
                store,
                Code::EntryNotSelected,
                Severity::Warning,
                &key,
                "spec.labels",
                "no ServiceEntry in this namespace selects this entry, so it receives no traffic: \
                 add its labels to a ServiceEntry's workloadSelector, or delete it",
            ));
            continue;
        }
        let mut port_names = BTreeSet::new();
        for se in &selectors {
            if let Some(Object::ServiceEntry(s)) = store.get(se).map(|e| &e.object) {
                port_names.extend(s.spec.ports.iter().map(|p| p.name.as_str()));
            }
        }
        for name in we.spec.ports.keys() {
            if !port_names.contains(name.as_str()) {
                let known: Vec<&str> = port_names.iter().copied().collect();
                out.push(Finding::new(
                    store,
                    Code::UnknownPortName,
                    Severity::Warning,
                    &key,
                    format!("spec.ports.{name}"),
                    format!(
                        "port name {name:?} is not a port of the selecting ServiceEntries \
                         (they have: {}); the mapping is ignored and the service port is used",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    for entry in store.entries(Kind::ServiceEntry) {
        let Object::ServiceEntry(se) = &entry.object else {
            continue;
        };
        let key = entry.object.key();
        for (i, ep) in se.spec.endpoints.iter().enumerate() {
            spec_rules(store, &key, ep, &format!("spec.endpoints[{i}]"), out);
        }
    }
}

fn spec_rules(
    store: &Store,
    key: &ObjectKey,
    spec: &WorkloadEntrySpec,
    at: &str,
    out: &mut Vec<Finding>,
) {
    if let Some(addr) = spec.address.as_deref()
        && let Err(msg) = check_address(addr)
    {
        out.push(Finding::new(
            store,
            Code::BadAddress,
            Severity::Error,
            key,
            format!("{at}.address"),
            format!("{msg}; the API server accepts it, istiod will not route to it"),
        ));
    }
    if let Some(loc) = spec.locality.as_deref()
        && let Err(msg) = check_locality(loc)
    {
        out.push(Finding::new(
            store,
            Code::BadLocality,
            Severity::Warning,
            key,
            format!("{at}.locality"),
            format!("{msg}; write it as region/zone/subzone"),
        ));
    }
}
