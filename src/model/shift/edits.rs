//! What a step asks of the registry and of the data plane: each member's weight edit against
//! the registry as it is now, and the (cluster, host) pairs its gates count.

use super::Plan;
use crate::model::edit::{Change, FieldEdit, WriteMode};
use crate::model::endpoint::{EndpointSource, derive, source_key};
use crate::model::object::{Object, ObjectKey};
use crate::model::planes::verify::{Wanted, targets};
use crate::model::planes::{HostKey, cluster_name};
use crate::model::share::Viewpoint;
use crate::model::store::Store;
use std::collections::BTreeSet;

/// The weight a source declares now, or why it cannot be edited.
fn declared(store: &Store, source: &EndpointSource) -> Result<Option<u32>, String> {
    let key = source_key(source);
    match (store.get(&key).map(|e| &e.object), source) {
        (Some(Object::WorkloadEntry(we)), _) => Ok(we.spec.weight),
        (Some(Object::ServiceEntry(se)), EndpointSource::ServiceEntry { index, .. }) => se
            .spec
            .endpoints
            .get(*index)
            .map(|e| e.weight)
            .ok_or_else(|| format!("{key} has no inline endpoint [{index}] any more")),
        _ => Err(format!("{key} is gone from the registry")),
    }
}

/// Each member's weight edit where it differs from `weights` (one per member; None: unset, as
/// before the shift), guarded by the version read.
/// `once_per_object`: a cluster reads an object again for its second edit (the first one
/// changed its version), so only the first carries the revision.
pub fn step_edits(
    store: &Store,
    plan: &Plan,
    weights: &[Option<u32>],
    once_per_object: bool,
) -> Result<Vec<FieldEdit>, String> {
    let mut out = Vec::new();
    let mut objects: BTreeSet<ObjectKey> = BTreeSet::new();
    for (source, w) in plan.sources().into_iter().zip(weights) {
        let from = declared(store, &source)?;
        let change = match (from, *w) {
            (from, Some(to)) if from != Some(to) => Change::Weight { from, to },
            (Some(from), None) => Change::UnsetWeight { from },
            _ => continue,
        };
        let key = source_key(&source);
        let entry = store.get(&key);
        let origin = entry.and_then(|e| e.origin.clone());
        let mut revision = origin
            .as_ref()
            .map(|o| o.revision.clone())
            .or_else(|| entry.and_then(|e| e.object.meta().resource_version.clone()));
        if once_per_object && !objects.insert(key) {
            revision = None;
        }
        out.push(FieldEdit {
            target: source,
            change,
            revision,
            origin,
            mode: WriteMode::Precondition,
        });
    }
    Ok(out)
}

/// Every (cluster, host) of the service's endpoints: those shifted to, and the others.
pub type Hosts = (Vec<(String, HostKey)>, Vec<(String, HostKey)>);

pub fn hosts(store: &Store, plan: &Plan) -> Hosts {
    let service = plan.service_key();
    let mut clusters = BTreeSet::new();
    if let Some(d) = derive(store, &service, &Viewpoint::default()) {
        for p in &d.ports {
            for h in &d.hosts {
                clusters.insert(cluster_name(p.port_number, h));
            }
        }
    }
    let (mut to, mut others) = (Vec::new(), Vec::new());
    for (m, source) in plan.members.iter().zip(plan.sources()) {
        let wanted = Wanted {
            source,
            weight: None,
            locality: None,
            present: None,
        };
        for t in targets(store, &[wanted]) {
            if clusters.contains(&t.cluster) {
                let side = if m.to { &mut to } else { &mut others };
                side.push((t.cluster, t.host));
            }
        }
    }
    (to, others)
}
