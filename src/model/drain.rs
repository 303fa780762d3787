//! Draining a WorkloadEntry the way istiod honours it: health checks enabled
//! (`proxy.istio.io/health-checks-enabled: "true"`) and a `Healthy=False` condition, which makes
//! istiod leave the entry out of EDS. What drain found before is written on the object itself
//! (`meshdeck.io/drained`), so a restore from any console or script puts back exactly that and
//! nothing else.

use super::endpoint::{EndpointSource, derive};
use super::health::{self, HEALTH_CHECKS_ANNOTATION};
use super::meta::Condition;
use super::object::{Kind, Object, ObjectKey, WorkloadEntry};
use super::share::Viewpoint;
use super::store::{Store, owning_group};
use serde::{Deserialize, Serialize};

/// Where drain keeps what it changed.
pub const DRAINED_ANNOTATION: &str = "meshdeck.io/drained";
/// The reason on the Healthy=False condition drain writes: a restore only takes back its own.
pub const DRAIN_REASON: &str = "MeshdeckDrain";
pub const HEALTHY: &str = "Healthy";

/// What a drain changed on one entry, and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainRecord {
    pub by: String,
    pub at: String,
    /// The health-checks annotation's value before (None: absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation_before: Option<String>,
    /// The Healthy condition before (None: there was none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_before: Option<Condition>,
}

impl DrainRecord {
    /// What a drain by `by` at `at` would record of `we` as it is now.
    pub fn found_on(we: &WorkloadEntry, by: &str, at: &str) -> DrainRecord {
        DrainRecord {
            by: by.into(),
            at: at.into(),
            annotation_before: we
                .metadata
                .annotations
                .get(HEALTH_CHECKS_ANNOTATION)
                .cloned(),
            condition_before: we
                .status
                .as_ref()
                .and_then(|s| s.condition(HEALTHY))
                .cloned(),
        }
    }

    /// The record on `we`, if meshdeck drained it. An unreadable one is reported, not ignored.
    pub fn of(we: &WorkloadEntry) -> Option<Result<DrainRecord, String>> {
        let text = we.metadata.annotations.get(DRAINED_ANNOTATION)?;
        Some(serde_json::from_str(text).map_err(|e| {
            format!("its {DRAINED_ANNOTATION} annotation does not read as a drain record ({e})")
        }))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The condition drain writes.
    pub fn condition(&self) -> Condition {
        Condition {
            type_: HEALTHY.into(),
            status: "False".into(),
            reason: Some(DRAIN_REASON.into()),
            message: Some(format!("drained by {} with meshdeck", self.by)),
            last_transition_time: Some(self.at.clone()),
            extra: Default::default(),
        }
    }

    /// `conditions` with drain's Healthy=False in place of the Healthy condition there.
    pub fn drained_conditions(&self, conditions: &[Condition]) -> Vec<Condition> {
        let mut out = conditions.to_vec();
        match out.iter().position(|c| c.type_ == HEALTHY) {
            Some(i) => out[i] = self.condition(),
            None => out.push(self.condition()),
        }
        out
    }

    /// `conditions` as before the drain: the Healthy condition put back in its place (or
    /// removed), only if the one there now is still drain's. Otherwise someone else set it
    /// since, and it stays.
    pub fn restored_conditions(&self, conditions: &[Condition]) -> Option<Vec<Condition>> {
        let mut out = conditions.to_vec();
        match out.iter().position(|c| c.type_ == HEALTHY) {
            Some(i) if out[i].reason.as_deref() != Some(DRAIN_REASON) => return None,
            Some(i) => match &self.condition_before {
                Some(c) => out[i] = c.clone(),
                None => {
                    out.remove(i);
                }
            },
            None => out.extend(self.condition_before.clone()),
        }
        Some(out)
    }

    /// Whether restore should write the health-checks annotation: only when drain changed it.
    pub fn annotation_changed(&self) -> bool {
        self.annotation_before.as_deref() != Some("true")
    }
}

/// Why an entry cannot be drained at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0} is not a WorkloadEntry in the registry")]
    Missing(ObjectKey),
    #[error(
        "{0} is already drained (by {1} at {2}); restore it first (`meshdeck restore {0}`, or r on it)"
    )]
    AlreadyDrained(String, String, String),
    #[error("{0}: {1}")]
    Unreadable(String, String),
    #[error("{0} is not drained by meshdeck: there is no {DRAINED_ANNOTATION} annotation to undo")]
    NotDrained(String),
    #[error(
        "{what} cannot be drained: {why}; meshdeck drains WorkloadEntries (health checks and a Healthy=False condition)"
    )]
    NotAnEntry { what: String, why: String },
}

/// What the user should know before draining; none of these stop it, the user decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A VM agent's probes report this entry's health: istiod sets it back at the next probe.
    ProbeOwned { group: String },
    /// Draining leaves a service port without a healthy endpoint.
    LastHealthy { service: ObjectKey, port: u32 },
    /// Already out of EDS for another reason.
    AlreadyUnhealthy { why: String },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::ProbeOwned { group } => write!(
                f,
                "its health is reported by the VM agent's probes (WorkloadGroup {group}): istiod \
                 will set Healthy back at the next probe; stop the probe, or set its weight instead"
            ),
            Warning::LastHealthy { service, port } => write!(
                f,
                "it is the last healthy endpoint of {service} port {port}: that port will have none"
            ),
            Warning::AlreadyUnhealthy { why } => {
                write!(f, "it is already out of EDS ({why})")
            }
        }
    }
}

/// A drain as planned from what the registry holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub entry: ObjectKey,
    pub record: DrainRecord,
    pub warnings: Vec<Warning>,
}

/// The entry behind an endpoint or a key, or why it is not one drain can take.
pub fn entry_of(source: &EndpointSource) -> Result<ObjectKey, Refused> {
    match source {
        EndpointSource::WorkloadEntry { .. } => Ok(super::endpoint::source_key(source)),
        EndpointSource::ServiceEntry {
            namespace,
            name,
            index, ..
        } => Err(Refused::NotAnEntry {
            what: format!("{namespace}/{name} endpoint [{index}]"),
            why: "an inline endpoint has no health Istio reads, and no status".into(),
        }),
        EndpointSource::Pod { namespace, name, .. } => Err(Refused::NotAnEntry {
            what: format!("pod {namespace}/{name}"),
            why: "a pod leaves rotation through its readiness (cordon and evict it, or scale its Deployment)".into(),
        }),
    }
}

fn workload_entry<'s>(store: &'s Store, key: &ObjectKey) -> Result<&'s WorkloadEntry, Refused> {
    match store.get(key).map(|e| &e.object) {
        Some(Object::WorkloadEntry(we)) => Ok(we),
        _ => Err(Refused::Missing(key.clone())),
    }
}

/// Plans draining `key` by `by` at `at` (RFC 3339).
pub fn plan(store: &Store, key: &ObjectKey, by: &str, at: &str) -> Result<Plan, Refused> {
    let we = workload_entry(store, key)?;
    match DrainRecord::of(we) {
        Some(Ok(r)) => return Err(Refused::AlreadyDrained(key.to_string(), r.by, r.at)),
        Some(Err(e)) => return Err(Refused::Unreadable(key.to_string(), e)),
        None => {}
    }
    let record = DrainRecord::found_on(we, by, at);
    Ok(Plan {
        entry: key.clone(),
        record,
        warnings: warnings(store, key, we),
    })
}

/// The record to undo on `key`.
pub fn restore_plan(store: &Store, key: &ObjectKey) -> Result<DrainRecord, Refused> {
    let we = workload_entry(store, key)?;
    match DrainRecord::of(we) {
        Some(Ok(r)) => Ok(r),
        Some(Err(e)) => Err(Refused::Unreadable(key.to_string(), e)),
        None => Err(Refused::NotDrained(key.to_string())),
    }
}

fn warnings(store: &Store, key: &ObjectKey, we: &WorkloadEntry) -> Vec<Warning> {
    let mut out = Vec::new();
    let probed_by_group = owning_group(we).filter(|g| {
        let wg = ObjectKey::new(Kind::WorkloadGroup, &key.namespace, g);
        matches!(store.get(&wg).map(|e| &e.object), Some(Object::WorkloadGroup(wg)) if wg.spec.probe.is_some())
    });
    if let Some(group) = probed_by_group {
        out.push(Warning::ProbeOwned { group });
    }
    if let Some(why) = health::reason(we) {
        out.push(Warning::AlreadyUnhealthy { why });
        return out;
    }
    let source = EndpointSource::WorkloadEntry {
        namespace: key.namespace.to_string(),
        name: key.name.to_string(),
        cluster: key.cluster.clone(),
    };
    for se in store.selecting_ses(key) {
        let Some(d) = derive(store, se, &Viewpoint::default()) else {
            continue;
        };
        for port in &d.ports {
            let mine = port.endpoints.iter().any(|e| e.source == source);
            let others = port
                .endpoints
                .iter()
                .any(|e| e.source != source && e.health.is_healthy());
            if mine && !others {
                out.push(Warning::LastHealthy {
                    service: se.clone(),
                    port: port.port_number,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::manifests::load::into_store;
    use crate::io::manifests::parse::parse_text;

    fn store(text: &str) -> Store {
        let p = parse_text(std::path::Path::new("t.yaml"), text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        into_store(vec![p])
    }

    const MESH: &str = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: pay, namespace: shop}\nspec:\n  hosts: [pay.shop.internal]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: HTTP}]\n  workloadSelector: {labels: {app: pay}}\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: vm1, namespace: shop}\nspec: {address: 10.0.0.1, labels: {app: pay}}\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: vm2\n  namespace: shop\n  annotations: {proxy.istio.io/health-checks-enabled: \"true\", istio.io/autoRegistrationGroup: pay-vms}\nspec: {address: 10.0.0.2, labels: {app: pay}}\nstatus:\n  conditions: [{type: Healthy, status: \"True\", lastProbeTime: \"2026-12-02T06:46:00Z\"}, {type: Other, status: \"True\"}]\n---\napiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: pay-vms, namespace: shop}\nspec:\n  template: {labels: {app: pay}}\n  probe: {httpGet: {port: 8080, path: /ready}}";

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new(Kind::WorkloadEntry, "shop", name)
    }

    #[test]
    fn a_plain_entry_records_that_nothing_was_there() {
        let s = store(MESH);
        let p = plan(&s, &key("vm1"), "alice", "2026-12-02T10:00:00Z").unwrap();
        assert_eq!(p.record.annotation_before, None);
        assert_eq!(p.record.condition_before, None);
        assert!(p.record.annotation_changed());
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let c = p.record.condition();
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref()),
            ("False", Some(DRAIN_REASON))
        );
        assert!(c.message.unwrap().contains("alice"));
    }

    #[test]
    fn a_probed_entry_warns_and_keeps_its_condition_to_put_back() {
        let s = store(MESH);
        let p = plan(&s, &key("vm2"), "alice", "t").unwrap();
        assert_eq!(
            p.warnings,
            vec![Warning::ProbeOwned {
                group: "pay-vms".into()
            }]
        );
        assert_eq!(p.record.annotation_before.as_deref(), Some("true"));
        assert!(!p.record.annotation_changed());
        let before = p.record.condition_before.clone().unwrap();
        assert_eq!(before.status, "True");
        assert!(before.extra.contains_key("lastProbeTime"));

        let conditions = &s
            .get(&key("vm2"))
            .map(|e| match &e.object {
                Object::WorkloadEntry(we) => we.status.clone().unwrap().conditions,
                _ => unreachable!(),
            })
            .unwrap();
        let drained = p.record.drained_conditions(conditions);
        assert_eq!(drained.len(), 2);
        assert_eq!(drained[0].reason.as_deref(), Some(DRAIN_REASON));
        assert_eq!(drained[1].type_, "Other");
        let restored = p.record.restored_conditions(&drained).unwrap();
        assert_eq!(&restored, conditions, "in their places");
    }

    #[test]
    fn restore_leaves_a_condition_someone_else_set_since() {
        let record = DrainRecord {
            by: "a".into(),
            at: "t".into(),
            annotation_before: None,
            condition_before: None,
        };
        let probe = Condition {
            type_: HEALTHY.into(),
            status: "True".into(),
            ..Default::default()
        };
        assert_eq!(
            record.restored_conditions(std::slice::from_ref(&probe)),
            None
        );
        let ours = record.drained_conditions(&[]);
        assert_eq!(record.restored_conditions(&ours), Some(vec![]));
    }

    #[test]
    fn the_last_healthy_endpoint_of_a_port_is_said() {
        // vm2's probe said Healthy; make it unhealthy and vm1 is the last one left.
        let text = MESH.replace(
            "status: \"True\", lastProbeTime",
            "status: \"False\", lastProbeTime",
        );
        let s = store(&text);
        let p = plan(&s, &key("vm1"), "a", "t").unwrap();
        assert_eq!(
            p.warnings,
            vec![Warning::LastHealthy {
                service: ObjectKey::new(Kind::ServiceEntry, "shop", "pay"),
                port: 80
            }]
        );
        assert!(
            p.warnings[0]
                .to_string()
                .contains("last healthy endpoint of")
        );
        let p = plan(&s, &key("vm2"), "a", "t").unwrap();
        assert!(
            p.warnings
                .iter()
                .any(|w| matches!(w, Warning::AlreadyUnhealthy { .. })),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn drained_twice_and_restored_without_a_drain_are_refused() {
        let record = DrainRecord {
            by: "bob".into(),
            at: "2026-12-02T09:00:00Z".into(),
            annotation_before: None,
            condition_before: None,
        };
        let text = MESH.replace(
            "metadata: {name: vm1, namespace: shop}",
            &format!(
                "metadata: {{name: vm1, namespace: shop, annotations: {{{DRAINED_ANNOTATION}: '{}'}}}}",
                record.to_json()
            ),
        );
        let s = store(&text);
        let err = plan(&s, &key("vm1"), "a", "t").unwrap_err();
        assert!(err.to_string().contains("already drained (by bob"), "{err}");
        assert_eq!(restore_plan(&s, &key("vm1")).unwrap(), record);
        assert!(matches!(
            restore_plan(&s, &key("vm2")),
            Err(Refused::NotDrained(_))
        ));
        let inline = EndpointSource::ServiceEntry {
            cluster: Default::default(),
            namespace: "shop".into(),
            name: "pay".into(),
            index: 0,
        };
        assert!(
            entry_of(&inline)
                .unwrap_err()
                .to_string()
                .contains("inline endpoint")
        );
    }
}
