//! Rules on ServiceEntries and the endpoints derived from them.

use super::finding::{Code, Finding, Severity};
use crate::model::endpoint::{EndpointSource, derive};
use crate::model::object::{Kind, Object};
use crate::model::share::Viewpoint;
use crate::model::store::Store;
use std::collections::BTreeMap;

pub fn check(store: &Store, out: &mut Vec<Finding>) {
    for entry in store.entries(Kind::ServiceEntry) {
        let Object::ServiceEntry(se) = &entry.object else {
            continue;
        };
        let key = entry.object.key();
        let selected = store.selected_wes(&key).count();
        if let Some(sel) = &se.spec.workload_selector
            && selected == 0
        {
            let labels: Vec<String> = sel.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            out.push(Finding::new(
                store,
                Code::SelectorMatchesNothing,
                Severity::Warning,
                &key,
                "spec.workloadSelector.labels",
                format!(
                    "workloadSelector {{{}}} matches no WorkloadEntry in namespace {}: check the \
                     labels (pods are not visible from manifests)",
                    labels.join(", "),
                    key.namespace
                ),
            ));
        }
        let static_res = se.spec.resolution_or_default() == "STATIC";
        if static_res && se.spec.endpoints.is_empty() && selected == 0 {
            out.push(Finding::new(
                store,
                Code::StaticWithoutEndpoints,
                Severity::Error,
                &key,
                "spec.resolution",
                "resolution STATIC with no endpoints and no selected WorkloadEntry: calls to \
                 this service fail; add endpoints or a workloadSelector",
            ));
        }
        let Some(derived) = derive(store, &key, &Viewpoint::default()) else {
            continue;
        };
        for port in &derived.ports {
            let all_zero = !port.endpoints.is_empty()
                && port.endpoints.iter().all(|e| e.declared_weight == Some(0));
            if all_zero {
                out.push(Finding::new(
                    store,
                    Code::AllWeightsZero,
                    Severity::Warning,
                    &key,
                    format!("spec.ports[{}]", port.port_name),
                    format!(
                        "every endpoint of port {} has weight 0; istiod sends 0 as 1, so they \
                         still share traffic equally: give the ones to keep a weight above 0",
                        port.port_name
                    ),
                ));
            }
            let mut seen: BTreeMap<(&str, &str), &EndpointSource> = BTreeMap::new();
            for ep in &port.endpoints {
                if ep.address.is_empty() {
                    continue;
                }
                let k = (ep.address.as_str(), ep.network.as_str());
                if let Some(first) = seen.insert(k, &ep.source) {
                    out.push(Finding::new(
                        store,
                        Code::DuplicateAddress,
                        Severity::Error,
                        &key,
                        format!("spec.ports[{}]", port.port_name),
                        format!(
                            "address {} (network {:?}) appears twice behind port {}: {} and {}; \
                             Envoy merges them, so weights and health are wrong",
                            ep.address,
                            ep.network,
                            port.port_name,
                            describe(first),
                            describe(&ep.source)
                        ),
                    ));
                }
            }
        }
    }
}

fn describe(src: &EndpointSource) -> String {
    match src {
        EndpointSource::WorkloadEntry {
            namespace, name, ..
        } => format!("we {namespace}/{name}"),
        EndpointSource::Pod {
            namespace, name, ..
        } => format!("pod {namespace}/{name}"),
        EndpointSource::ServiceEntry { name, index, .. } => {
            format!("se {name} endpoints[{index}]")
        }
    }
}
