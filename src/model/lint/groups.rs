//! Rules on WorkloadGroups.

use super::finding::{Code, Finding, Severity};
use crate::model::health::health_checks_enabled;
use crate::model::object::{Kind, Object};
use crate::model::store::Store;

pub fn check(store: &Store, out: &mut Vec<Finding>) {
    for entry in store.entries(Kind::WorkloadGroup) {
        let Object::WorkloadGroup(wg) = &entry.object else {
            continue;
        };
        let key = entry.object.key();
        let t = &wg.spec.template;
        if t.address.is_some() {
            out.push(Finding::new(
                store,
                Code::GroupTemplateAddressOrLabels,
                Severity::Error,
                &key,
                "spec.template.address",
                "a WorkloadGroup template must not set address: each VM registers its own; \
                 remove it",
            ));
        }
        if !t.labels.is_empty() {
            out.push(Finding::new(
                store,
                Code::GroupTemplateAddressOrLabels,
                Severity::Error,
                &key,
                "spec.template.labels",
                "a WorkloadGroup template must not set labels: move them to spec.metadata.labels",
            ));
        }
        if wg.spec.probe.is_none() {
            let checked = store.group_entries(&key).any(|we| {
                matches!(store.get(we).map(|e| &e.object),
                    Some(Object::WorkloadEntry(w)) if health_checks_enabled(w))
            });
            if checked {
                out.push(Finding::new(
                    store,
                    Code::GroupWithoutProbe,
                    Severity::Warning,
                    &key,
                    "spec.probe",
                    "entries of this group have health checks enabled but the group has no \
                     probe: they never become Healthy and istiod sends none of them; add a probe",
                ));
            }
        }
    }
}
