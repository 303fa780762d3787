//! The plan of a shift as it is persisted: on the ServiceEntry as annotation
//! `meshdeck.io/shift` (a cluster), or in a state file beside the manifests. Whoever holds it
//! runs the shift; another console sees it, and can resume it once its owner has gone quiet,
//! or roll it back.

use super::gate::Gates;
use crate::model::cluster::Cluster;
use crate::model::endpoint::{EndpointSource, derive};
use crate::model::object::{Kind, ObjectKey};
use crate::model::share::Viewpoint;
use crate::model::store::Store;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime};

pub const SHIFT_ANNOTATION: &str = "meshdeck.io/shift";
/// The owner writes the plan at every step and at least this often while it holds one.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// A plan not written for this long has lost its console (a step's follow counts too).
pub const STALE_AFTER: Duration = Duration::from_secs(120);
/// How a plan taken over to be rolled back says why (`Outcome::RolledBackOnRequest`).
pub const TAKEN_TO_ROLL_BACK: &str = "taken over to be rolled back by";

/// One endpoint of the service: its weight when the shift started (what a rollback writes
/// back) and whether traffic is shifted to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// `NS/NAME` of a WorkloadEntry, `NS/SERVICEENTRY/INDEX` of an inline endpoint.
    pub endpoint: String,
    pub weight: Option<u32>,
    pub to: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanState {
    Running,
    Paused,
    RollingBack,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// `NS/NAME` of the ServiceEntry.
    pub service: String,
    pub members: Vec<Member>,
    /// Shares of the traffic for the shifted endpoints, rising, in percent.
    pub steps: Vec<f64>,
    pub hold_secs: u64,
    pub gates: Gates,
    /// The user who started it.
    pub by: String,
    /// The console running it (`user@host:pid`): the only one that may write it.
    pub owner: String,
    /// RFC 3339.
    pub started: String,
    /// The last step whose weights were written; None before the first.
    pub step: Option<usize>,
    pub state: PlanState,
    /// When the owner last wrote it (RFC 3339).
    pub updated: String,
    /// Why it is rolling back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// `NS/NAME` or `NS/SE/INDEX`, as `meshdeck set` takes them; `…@CLUSTER` when several
/// clusters are watched (no Kubernetes name holds an `@`).
pub fn parse_endpoint(text: &str) -> Result<EndpointSource, String> {
    let (path, cluster) = split_cluster(text);
    let mut source = parse_path(path)?;
    match &mut source {
        EndpointSource::WorkloadEntry { cluster: c, .. }
        | EndpointSource::Pod { cluster: c, .. }
        | EndpointSource::ServiceEntry { cluster: c, .. } => *c = cluster,
    }
    Ok(source)
}

fn split_cluster(text: &str) -> (&str, Cluster) {
    match text.rsplit_once('@') {
        Some((path, cluster)) => (path, Cluster::named(cluster)),
        None => (text, Cluster::ONLY),
    }
}

fn with_cluster(path: String, cluster: &Cluster) -> String {
    if cluster.is_only() {
        path
    } else {
        format!("{path}@{cluster}")
    }
}

fn parse_path(text: &str) -> Result<EndpointSource, String> {
    match text.split('/').collect::<Vec<_>>().as_slice() {
        [ns, name] if !ns.is_empty() && !name.is_empty() => Ok(EndpointSource::WorkloadEntry {
            namespace: ns.to_string(),
            name: name.to_string(),
            cluster: Default::default(),
        }),
        [ns, se, index] if !ns.is_empty() && !se.is_empty() => Ok(EndpointSource::ServiceEntry {
            namespace: ns.to_string(),
            name: se.to_string(),
            index: index
                .parse()
                .map_err(|_| format!("{text:?}: {index:?} is not an endpoint index"))?,
            cluster: Default::default(),
        }),
        _ => Err(format!(
            "{text:?}: write NAMESPACE/NAME for a WorkloadEntry or NAMESPACE/SERVICEENTRY/INDEX for an inline endpoint"
        )),
    }
}

pub fn endpoint_name(source: &EndpointSource) -> String {
    let path = match source {
        EndpointSource::WorkloadEntry {
            namespace, name, ..
        }
        | EndpointSource::Pod {
            namespace, name, ..
        } => {
            format!("{namespace}/{name}")
        }
        EndpointSource::ServiceEntry {
            namespace,
            name,
            index,
            ..
        } => format!("{namespace}/{name}/{index}"),
    };
    with_cluster(path, source.cluster())
}

/// What a new plan needs besides the registry.
pub struct Request<'a> {
    pub service: &'a ObjectKey,
    pub to: &'a [EndpointSource],
    pub steps: Vec<f64>,
    pub hold: Duration,
    pub gates: Gates,
    pub by: &'a str,
    pub owner: &'a str,
    pub now: SystemTime,
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Plan {
    /// The service's endpoints with their declared weights; refused with a reason when the
    /// shift cannot be expressed in weights.
    pub fn new(store: &Store, r: Request<'_>) -> Result<Plan, String> {
        let service = r.service;
        if service.kind != Kind::ServiceEntry {
            return Err(format!("{service}: a shift is of a ServiceEntry"));
        }
        let derived = derive(store, service, &Viewpoint::default())
            .ok_or_else(|| format!("no ServiceEntry {}/{}", service.namespace, service.name))?;
        let mut members: Vec<Member> = Vec::new();
        let mut sources: Vec<&EndpointSource> = Vec::new();
        // A host merged across clusters: the shift moves the weights of the service's own
        // cluster (one cluster is written at a time); the others' entries keep theirs.
        for ep in derived.ports.iter().flat_map(|p| &p.endpoints) {
            if sources.contains(&&ep.source) || ep.source.cluster() != &service.cluster {
                continue;
            }
            if let EndpointSource::Pod { name, .. } = &ep.source {
                return Err(format!(
                    "{service} has pod {name} among its endpoints: a pod's weight cannot be written, so the shares cannot be set"
                ));
            }
            sources.push(&ep.source);
            members.push(Member {
                endpoint: endpoint_name(&ep.source),
                weight: ep.declared_weight,
                to: r.to.contains(&ep.source),
            });
        }
        for t in r.to {
            if !sources.contains(&t) {
                return Err(format!(
                    "{} is not an endpoint of {service} (its endpoints: {})",
                    endpoint_name(t),
                    members
                        .iter()
                        .map(|m| m.endpoint.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        if r.to.is_empty() {
            return Err("no endpoint to shift to: give --to NS/ENTRY".into());
        }
        if members.iter().all(|m| m.to) {
            return Err(format!(
                "every endpoint of {service} is among --to: there is nothing to shift from"
            ));
        }
        let to: Vec<bool> = members.iter().map(|m| m.to).collect();
        let now_share = super::share_now(&members, &to);
        if let Some(first) = r.steps.first()
            && *first <= now_share + 1e-9
        {
            return Err(format!(
                "{} already get {now_share:.1}% of {service}: the first step ({first}%) must be above that",
                members
                    .iter()
                    .filter(|m| m.to)
                    .map(|m| m.endpoint.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Plan {
            service: with_cluster(
                format!("{}/{}", service.namespace, service.name),
                &service.cluster,
            ),
            members,
            steps: r.steps,
            hold_secs: r.hold.as_secs().max(1),
            gates: r.gates,
            by: r.by.into(),
            owner: r.owner.into(),
            started: rfc3339(r.now),
            step: None,
            state: PlanState::Running,
            updated: rfc3339(r.now),
            why: None,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a plan serializes")
    }

    pub fn from_json(text: &str) -> Result<Plan, String> {
        serde_json::from_str(text).map_err(|e| format!("the shift plan does not read: {e}"))
    }

    pub fn service_key(&self) -> ObjectKey {
        let (path, cluster) = split_cluster(&self.service);
        let (ns, name) = path.split_once('/').unwrap_or(("", path));
        ObjectKey::new(Kind::ServiceEntry, ns, name).in_cluster(&cluster)
    }

    pub fn hold(&self) -> Duration {
        Duration::from_secs(self.hold_secs)
    }

    pub fn to_mask(&self) -> Vec<bool> {
        self.members.iter().map(|m| m.to).collect()
    }

    pub fn sources(&self) -> Vec<EndpointSource> {
        self.members
            .iter()
            .filter_map(|m| parse_endpoint(&m.endpoint).ok())
            .collect()
    }

    /// Every member's weight at step `i`.
    pub fn weights_at(&self, i: usize) -> Vec<u32> {
        super::weights(&self.members, self.steps[i], &self.to_mask())
    }

    /// Step `i` as every message names it: "step 2 of 5 (25%)".
    pub fn step_name(&self, i: usize) -> String {
        format!(
            "step {} of {} ({}%)",
            i + 1,
            self.steps.len(),
            self.steps.get(i).copied().unwrap_or(0.0)
        )
    }

    /// What it will do, in words: the steps, the hold, the gates.
    pub fn summary(&self) -> String {
        format!(
            "shift of {} in {} steps, each held {}s; gates: 5xx at most {}% above the other endpoints{}",
            self.service,
            self.steps.len(),
            self.hold_secs,
            self.gates.max_errors * 100.0,
            self.gates
                .max_p99_ms
                .map_or(String::new(), |p| format!(", p99 at most {p}ms"))
        )
    }

    /// Every member's weight now and at each step, as aligned lines: a header of endpoint
    /// names, `now`, then one line per step (the CLI's --dry-run and the console's confirm).
    pub fn step_table(&self) -> Vec<String> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        rows.push(
            std::iter::once("STEP".to_string())
                .chain(self.members.iter().map(|m| {
                    let mark = if m.to { " ←" } else { "" };
                    format!("{}{mark}", m.endpoint)
                }))
                .collect(),
        );
        rows.push(
            std::iter::once("now".to_string())
                .chain(
                    self.members
                        .iter()
                        .map(|m| m.weight.map_or("unset".into(), |w| w.to_string())),
                )
                .collect(),
        );
        for (i, pct) in self.steps.iter().enumerate() {
            rows.push(
                std::iter::once(format!("{pct}%"))
                    .chain(self.weights_at(i).iter().map(u32::to_string))
                    .collect(),
            );
        }
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        rows.iter()
            .map(|r| {
                r.iter()
                    .zip(&widths)
                    .map(|(cell, w)| format!("{cell:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    /// Every member's weight before the shift (unset stays unset).
    pub fn start_weights(&self) -> Vec<Option<u32>> {
        self.members.iter().map(|m| m.weight).collect()
    }

    pub fn touch(&mut self, now: SystemTime) {
        self.updated = rfc3339(now);
    }

    /// How long since its owner wrote it; None when the time does not read.
    pub fn heard_ago(&self, now: SystemTime) -> Option<Duration> {
        let at = humantime::parse_rfc3339_weak(&self.updated).ok()?;
        Some(now.duration_since(at).unwrap_or_default())
    }

    pub fn is_stale(&self, now: SystemTime) -> bool {
        self.heard_ago(now).is_none_or(|d| d > STALE_AFTER)
    }

    /// One line for another console: who, how far, and how long ago it was heard from.
    pub fn describe(&self, now: SystemTime) -> String {
        let to: Vec<&str> = self
            .members
            .iter()
            .filter(|m| m.to)
            .map(|m| m.endpoint.as_str())
            .collect();
        let at = match self.step {
            Some(i) => format!("at {}", self.step_name(i)),
            None => format!("before its first step of {}", self.steps.len()),
        };
        let heard = self.heard_ago(now).map_or("never heard from".into(), |d| {
            format!("last heard {}s ago", d.as_secs())
        });
        let state = match self.state {
            PlanState::Running => "",
            PlanState::Paused => ", paused",
            PlanState::RollingBack => ", rolling back",
        };
        format!(
            "a shift of {} to {} by {} ({}) started {}, {at}{state}, {heard}",
            self.service,
            to.join(", "),
            self.by,
            self.owner,
            self.started
        )
    }
}
