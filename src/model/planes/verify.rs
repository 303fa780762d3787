//! The edit-verify loop: after a weight or locality edit, follow it through every plane —
//! applied to the registry → in the control plane's EDS → ACKed by each proxy → in each Envoy's
//! `/clusters` → traffic share within tolerance of the new target — with a time for each stage.
//! A drain is followed the same way to its endpoint's absence: gone from EDS, gone from every
//! Envoy (which then sends it nothing); a restore to its return and its share of the traffic.

use super::control::ControlView;
use super::data::ProxyData;
use super::{HostKey, Planes, cluster_name};
use crate::model::endpoint::{EndpointSource, derive, source_key};
use crate::model::locality::Locality;
use crate::model::object::{Kind, ObjectKey};
use crate::model::share::Viewpoint;
use crate::model::store::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

/// Observed share within this much of Envoy's own target counts as "moved" when the change is
/// too small for the sequential test to tell the old share from the new one.
pub const TOLERANCE: f64 = 0.07;
/// Requests through one proxy to the cluster, after the change reached it, before the
/// fixed-sample rule (the reference `bench --drain` compares with) judges.
pub const MIN_REQUESTS: u64 = 100;
/// A proxy whose traffic gave no verdict this long after the change reached it is left out:
/// "not enough traffic to judge" rather than waiting for ever at low rates.
pub const JUDGE_WITHIN: Duration = Duration::from_secs(15);
/// The loop gives up (and says at which stage) after this long.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(180);
/// The planes are read this often while an edit is followed (the console's poller and
/// `--wait`): a verdict waits for the next reading, so the cadence adds to every verdict.
pub const READ_EVERY: Duration = Duration::from_millis(250);

/// One endpoint the edit changes, in one cluster, with what it should become.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub cluster: String,
    pub host: HostKey,
    pub weight: Option<u32>,
    pub locality: Option<Locality>,
    /// False for a drained endpoint: it must be absent.
    pub present: bool,
}

/// What an edit asks of one endpoint source.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub source: EndpointSource,
    pub weight: Option<u32>,
    pub locality: Option<Locality>,
    /// Drained (false) or back in rotation (true); None: unchanged.
    pub present: Option<bool>,
}

/// Every cluster and host the wanted changes touch, found through the ServiceEntries that
/// select (or contain) each source.
pub fn targets(store: &Store, wanted: &[Wanted]) -> Vec<Target> {
    let mut out = Vec::new();
    for w in wanted {
        let key = source_key(&w.source);
        let services: Vec<ObjectKey> = match key.kind {
            Kind::WorkloadEntry => store.selecting_ses(&key).cloned().collect(),
            _ => vec![key.clone()],
        };
        for se in services {
            let Some(d) = derive(store, &se, &Viewpoint::default()) else {
                continue;
            };
            for port in &d.ports {
                for ep in port.endpoints.iter().filter(|e| e.source == w.source) {
                    for host in &d.hosts {
                        out.push(Target {
                            cluster: cluster_name(port.port_number, host),
                            host: HostKey::new(ep.address.clone(), ep.port),
                            // istiod sends 0 as 1.
                            weight: w.weight.map(|x| x.max(1)),
                            locality: w.locality.clone(),
                            present: w.present.unwrap_or(true),
                        });
                    }
                }
            }
        }
    }
    out.dedup();
    out
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    pub observed: f64,
    pub expected: f64,
    pub requests: u64,
}

/// Per proxy: how far the change got there.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProxyProgress {
    /// The EDS version the proxy had ACKed when the edit started.
    #[serde(skip)]
    baseline_version: Option<String>,
    pub acked: Option<SystemTime>,
    pub in_envoy: Option<SystemTime>,
    #[serde(skip)]
    in_envoy_at: Option<Instant>,
    pub moved: Option<SystemTime>,
    /// Last judgement of the traffic: shares observed so far.
    pub traffic: Option<Moved>,
    /// Its traffic gave no verdict within `JUDGE_WITHIN` (too few requests): left out.
    pub quiet: bool,
    /// Its traffic says the share stayed where it was: the loop stops there.
    pub stuck: bool,
    /// Each target's share through this proxy before the change (Envoy's own weights then).
    #[serde(skip)]
    before: BTreeMap<(String, HostKey), f64>,
    /// Its admin API is read: it can show the change in Envoy and the traffic. A proxy known
    /// only from syncz is followed up to its ACK.
    pub has_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verify {
    pub what: String,
    pub targets: Vec<Target>,
    pub started: SystemTime,
    #[serde(skip)]
    started_at: Instant,
    pub applied: Option<SystemTime>,
    pub in_control_plane: Option<SystemTime>,
    pub proxies: BTreeMap<String, ProxyProgress>,
    pub done: Option<SystemTime>,
    pub gave_up: Option<String>,
    /// Judge traffic by the fixed-sample rule (a reference for `bench --drain`).
    #[serde(skip)]
    fixed_sample: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Applied,
    ControlPlane,
    Acked,
    InEnvoy,
    TrafficMoved,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Applied => "applied",
            Stage::ControlPlane => "in EDS",
            Stage::Acked => "ACKed",
            Stage::InEnvoy => "in Envoy",
            Stage::TrafficMoved => "traffic moved",
        }
    }
}

impl Verify {
    pub fn new(
        what: String,
        targets: Vec<Target>,
        seen: &Planes,
        now: SystemTime,
        at: Instant,
    ) -> Verify {
        let mut proxies: BTreeMap<String, ProxyProgress> = BTreeMap::new();
        for s in seen.syncs {
            proxies
                .entry(s.short_id().to_string())
                .or_default()
                .baseline_version = s.types.get("EDS").map(|t| t.version.clone());
        }
        for p in &seen.proxies {
            let progress = proxies.entry(p.name.clone()).or_default();
            progress.has_admin = true;
            for t in targets.iter().filter(|t| t.present) {
                // A host the cluster does not hold yet (a restore) had no share at all.
                let share = p.clusters.get(&t.cluster).map(|_| {
                    p.expected_shares(&t.cluster)
                        .get(&t.host)
                        .copied()
                        .unwrap_or(0.0)
                });
                if let Some(share) = share {
                    progress
                        .before
                        .insert((t.cluster.clone(), t.host.clone()), share);
                }
            }
        }
        Verify {
            what,
            targets,
            started: now,
            started_at: at,
            applied: None,
            in_control_plane: None,
            proxies,
            done: None,
            gave_up: None,
            fixed_sample: false,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.done.is_some() || self.gave_up.is_some()
    }

    /// The same loop without the shares before the change: traffic judged by the fixed-sample
    /// rule alone (`MIN_REQUESTS` and `TOLERANCE`), as it was before the sequential test. The
    /// reference `bench --drain` measures the sequential test against.
    pub fn fixed_sample(&self) -> Verify {
        let mut v = self.clone();
        v.fixed_sample = true;
        v
    }

    /// From applied to the verdict, once there is one.
    pub fn took(&self) -> Option<Duration> {
        let end = self
            .done
            .or(self.gave_up.as_ref().map(|_| SystemTime::now()))?;
        end.duration_since(self.applied?).ok()
    }

    /// Proxies that still count: not the ones that stopped sending requests to the cluster.
    fn live(&self) -> impl Iterator<Item = &ProxyProgress> {
        self.proxies.values().filter(|p| !p.quiet)
    }

    /// The first stage not reached yet; None once every proxy got as far as it can be seen.
    pub fn waiting_for(&self) -> Option<Stage> {
        if self.applied.is_none() {
            return Some(Stage::Applied);
        }
        if self.in_control_plane.is_none() {
            return Some(Stage::ControlPlane);
        }
        let admin = || self.live().filter(|p| p.has_admin);
        if self.live().any(|p| p.acked.is_none()) {
            Some(Stage::Acked)
        } else if admin().any(|p| p.in_envoy.is_none()) {
            Some(Stage::InEnvoy)
        } else if admin().any(|p| p.moved.is_none()) {
            Some(Stage::TrafficMoved)
        } else {
            None
        }
    }

    pub fn observe(&mut self, seen: &Planes, now: SystemTime, at: Instant) {
        if self.is_finished() || self.applied.is_none() {
            return;
        }
        if self.in_control_plane.is_none() {
            match seen.control {
                Some(c) if self.targets.iter().all(|t| sent_matches(c, t)) => {
                    self.in_control_plane = Some(now)
                }
                // Without an xDS view the stage cannot be seen; Envoy holding it proves it.
                None if seen.proxies.iter().any(|d| held_by(&self.targets, d).1) => {
                    self.in_control_plane = Some(now)
                }
                _ => {}
            }
        }
        for s in seen.syncs {
            let Some(p) = self.proxies.get_mut(s.short_id()) else {
                continue;
            };
            let eds = s.types.get("EDS");
            if p.acked.is_none()
                && self.in_control_plane.is_some()
                && eds.is_some_and(|t| {
                    t.status == "SYNCED" && Some(&t.version) != p.baseline_version.as_ref()
                })
            {
                p.acked = Some(now);
            }
        }
        for d in &seen.proxies {
            let (held, holds_change) = held_by(&self.targets, d);
            let Some(p) = self.proxies.get_mut(&d.name) else {
                continue;
            };
            if p.in_envoy.is_none() && holds_change {
                p.in_envoy = d.fetched_at.or(Some(now));
                p.in_envoy_at = Some(at);
                // A proxy that is not in syncz (no debug access) ACKed if it holds the change.
                if p.acked.is_none() {
                    p.acked = p.in_envoy;
                }
            }
            if let (Some(since), None) = (p.in_envoy_at, p.moved) {
                judge(p, d, &held, since, (now, at), self.fixed_sample);
            }
        }
        if let Some((name, p)) = self.proxies.iter().find(|(_, p)| p.stuck) {
            let m = p.traffic.as_ref();
            self.gave_up = Some(format!(
                "traffic did not move through {name}: {:.0}% of {} rq, where Envoy's weights give {:.0}%",
                m.map_or(0.0, |m| m.observed * 100.0),
                m.map_or(0, |m| m.requests),
                m.map_or(0.0, |m| m.expected * 100.0),
            ));
        } else if self.waiting_for().is_none() {
            self.done = Some(now);
        } else if at.duration_since(self.started_at) > GIVE_UP_AFTER {
            let stage = self.waiting_for().map_or("?", Stage::label);
            self.gave_up = Some(format!(
                "gave up after {}s waiting for {stage}",
                GIVE_UP_AFTER.as_secs()
            ));
        }
    }

    /// One line, most important first: where the loop is, then each stage's time after the
    /// start (the slowest proxy's), then each proxy's observed/target share.
    pub fn summary(&self) -> String {
        let since = |t: SystemTime| {
            let d = t.duration_since(self.started).unwrap_or_default();
            format!("+{:.2}s", d.as_secs_f64())
        };
        let status = if let Some(t) = self.done {
            // Done means every proxy got as far as it can be seen; say how far that was.
            let drained = self.targets.iter().all(|t| !t.present);
            if drained && self.proxies.values().any(|p| p.in_envoy.is_some()) {
                format!("✓ out of rotation: no Envoy holds it {}", since(t))
            } else if self.proxies.values().any(|p| p.moved.is_some()) {
                format!("✓ traffic moved {}", since(t))
            } else if self.proxies.values().any(|p| p.acked.is_some()) {
                format!(
                    "✓ ACKed {} (traffic not seen: no Envoy admin given, or no requests)",
                    since(t)
                )
            } else {
                format!("✓ in EDS {} (no proxy to follow)", since(t))
            }
        } else if let Some(why) = &self.gave_up {
            format!("✗ {why}")
        } else {
            format!(
                "… waiting: {}",
                self.waiting_for().map_or("?", Stage::label)
            )
        };
        let mut stages = Vec::new();
        if let Some(t) = self.applied {
            stages.push(format!("applied {}", since(t)));
        }
        if let Some(t) = self.in_control_plane {
            stages.push(format!("EDS {}", since(t)));
        }
        let slowest = |f: fn(&ProxyProgress) -> Option<SystemTime>| {
            let live: Vec<&ProxyProgress> = self.proxies.values().filter(|p| !p.quiet).collect();
            let times: Vec<SystemTime> = live.iter().filter_map(|p| f(p)).collect();
            (!times.is_empty() && times.len() == live.len())
                .then(|| times.into_iter().max())
                .flatten()
        };
        if let Some(t) = slowest(|p| p.acked) {
            stages.push(format!("ACK {}", since(t)));
        }
        if let Some(t) = slowest(|p| p.in_envoy) {
            stages.push(format!("Envoy {}", since(t)));
        }
        let shares: Vec<String> = self
            .proxies
            .iter()
            .filter_map(|(n, p)| {
                p.traffic.as_ref().map(|m| {
                    format!(
                        "{n} {:.0}%/{:.0}% of {} rq",
                        m.observed * 100.0,
                        m.expected * 100.0,
                        m.requests
                    )
                })
            })
            .collect();
        let unjudged: Vec<&str> = self
            .proxies
            .iter()
            .filter(|(_, p)| p.quiet && p.has_admin)
            .map(|(n, _)| n.as_str())
            .collect();
        if !unjudged.is_empty() {
            stages.push(format!(
                "not enough traffic to judge at {}",
                unjudged.join(", ")
            ));
        }
        let mut out = format!("{}: {status} │ {}", self.what, stages.join(" · "));
        if !shares.is_empty() {
            out.push_str(&format!(" │ {}", shares.join(", ")));
        }
        out
    }
}

/// The targets in clusters this Envoy has, and whether it holds every one as wanted.
fn held_by<'t>(targets: &'t [Target], d: &ProxyData) -> (Vec<&'t Target>, bool) {
    let held: Vec<&Target> = targets
        .iter()
        .filter(|t| d.clusters.contains_key(&t.cluster))
        .collect();
    let all = !held.is_empty() && held.iter().all(|t| envoy_matches(d, t));
    (held, all)
}

fn sent_matches(c: &ControlView, t: &Target) -> bool {
    if !t.present {
        // The cluster's endpoints were received and this one is not among them.
        return c.clusters.get(&t.cluster).is_some_and(|sc| {
            sc.endpoints
                .as_ref()
                .is_some_and(|e| !e.contains_key(&t.host))
        });
    }
    c.endpoint(&t.cluster, &t.host).is_some_and(|s| {
        t.weight.is_none_or(|w| s.weight == w)
            && t.locality.as_ref().is_none_or(|l| &s.locality == l)
    })
}

fn envoy_matches(d: &ProxyData, t: &Target) -> bool {
    if !t.present {
        return d.host(&t.cluster, &t.host).is_none();
    }
    d.host(&t.cluster, &t.host).is_some_and(|h| {
        t.weight.is_none_or(|w| h.weight == w)
            && t.locality.as_ref().is_none_or(|l| &h.locality == l)
    })
}

/// What the requests through one proxy say about one target's share so far.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Moved,
    Stayed,
    Undecided,
}

/// A share that moves less than this is the same share: the edit does not touch that split.
const UNTOUCHED: f64 = 0.005;

/// Error rates of the sequential test: α of calling a share moved that stayed, β the reverse.
const ALPHA: f64 = 0.01;
const BETA: f64 = 0.01;

/// Wald's sequential probability ratio test on `k` of `n` requests going to the target: the
/// share is the new one (`after`) or still the old one (`before`). It stops as soon as the
/// evidence is enough either way, so a clear change is judged from a few dozen requests. A
/// change too small to tell apart (a share that stays, e.g. all traffic kept local) is judged
/// by the same test against shares `2 × TOLERANCE` either side of the new one.
/// Without a reading from before the change, the fixed sample decides: `MIN_REQUESTS` within
/// `TOLERANCE`.
fn sequential(k: u64, n: u64, before: Option<f64>, after: f64) -> Verdict {
    let Some(before) = before else {
        return fixed_sample(k, n, after);
    };
    match Some(before).filter(|b| (b - after).abs() >= 2.0 * TOLERANCE) {
        Some(before) => sprt(k, n, before, after),
        None => {
            let sides: Vec<Verdict> = [after - 2.0 * TOLERANCE, after + 2.0 * TOLERANCE]
                .into_iter()
                .filter(|p0| (0.01..=0.99).contains(p0))
                .map(|p0| sprt(k, n, p0, after))
                .collect();
            if sides.contains(&Verdict::Stayed) {
                Verdict::Stayed
            } else if sides.iter().all(|v| *v == Verdict::Moved) {
                Verdict::Moved
            } else {
                Verdict::Undecided
            }
        }
    }
}

/// The rule before the sequential test: `MIN_REQUESTS` with the share within `TOLERANCE`.
fn fixed_sample(k: u64, n: u64, after: f64) -> Verdict {
    let off = (k as f64 / n.max(1) as f64 - after).abs();
    if n >= MIN_REQUESTS && off <= TOLERANCE {
        Verdict::Moved
    } else {
        Verdict::Undecided
    }
}

/// Share `p1` (moved) against `p0` (stayed) on `k` of `n`.
fn sprt(k: u64, n: u64, p0: f64, p1: f64) -> Verdict {
    // A share of 0 or 1 would make one request decisive: keep both inside (0, 1).
    let clamp = |p: f64| p.clamp(0.01, 0.99);
    let (p0, p1) = (clamp(p0), clamp(p1));
    let llr = k as f64 * (p1 / p0).ln() + (n - k) as f64 * ((1.0 - p1) / (1.0 - p0)).ln();
    if llr >= ((1.0 - BETA) / ALPHA).ln() {
        Verdict::Moved
    } else if llr <= (BETA / (1.0 - ALPHA)).ln() {
        Verdict::Stayed
    } else {
        Verdict::Undecided
    }
}

/// Judges each target host's share of the requests since the change reached this Envoy
/// against the share Envoy's own weights and priorities give it now.
fn judge(
    p: &mut ProxyProgress,
    d: &ProxyData,
    held: &[&Target],
    since: Instant,
    (now, at): (SystemTime, Instant),
    fixed: bool,
) {
    let mut worst: Option<Moved> = None;
    let mut verdicts = Vec::new();
    for t in held {
        // Envoy no longer holds it, so it sends it nothing.
        if !t.present {
            continue;
        }
        let Some((deltas, _)) = d.deltas_since(&t.cluster, since) else {
            verdicts.push(Verdict::Undecided);
            continue;
        };
        let total: u64 = deltas.values().sum();
        let k = deltas.get(&t.host).copied().unwrap_or(0);
        let expected = d
            .expected_shares(&t.cluster)
            .get(&t.host)
            .copied()
            .unwrap_or(0.0);
        let before = p.before.get(&(t.cluster.clone(), t.host.clone())).copied();
        verdicts.push(if fixed {
            fixed_sample(k, total, expected)
        } else {
            let verdict = sequential(k, total, before, expected);
            // A proxy whose split the edit does not touch (all its traffic kept local, say)
            // has nothing to move: only evidence against it counts, it waits for none.
            let untouched = before.is_some_and(|b| (b - expected).abs() < UNTOUCHED);
            match verdict {
                Verdict::Undecided if untouched => Verdict::Moved,
                v => v,
            }
        });
        let m = Moved {
            observed: if total > 0 {
                k as f64 / total as f64
            } else {
                0.0
            },
            expected,
            requests: total,
        };
        let off = (m.observed - m.expected).abs();
        if worst
            .as_ref()
            .is_none_or(|w| off >= (w.observed - w.expected).abs())
        {
            worst = Some(m);
        }
    }
    p.traffic = worst;
    if verdicts.contains(&Verdict::Stayed) {
        p.stuck = true;
    } else if verdicts.iter().all(|v| *v == Verdict::Moved) && !held.is_empty() {
        p.moved = Some(now);
    } else if at.duration_since(since) > JUDGE_WITHIN {
        p.quiet = true;
    }
}

#[cfg(test)]
mod tests {
    use super::super::control::{ProxySync, SentCluster, SentEndpoint, TypeSync};
    use super::super::data::{EnvoyClusters, HostState};
    use super::*;

    const C: &str = "outbound|80||a.internal";

    fn seen<'a>(
        control: &'a ControlView,
        syncs: &'a [ProxySync],
        proxies: Vec<&'a ProxyData>,
    ) -> Planes<'a> {
        Planes {
            control: Some(control),
            syncs,
            proxies,
        }
    }

    fn target() -> Target {
        Target {
            cluster: C.into(),
            host: HostKey::new("a", 80),
            weight: Some(3),
            locality: None,
            present: true,
        }
    }

    fn control(w: u32) -> ControlView {
        let mut v = ControlView::default();
        v.clusters.insert(
            C.into(),
            SentCluster {
                discovery: "EDS".into(),
                endpoints: Some(BTreeMap::from([
                    (
                        HostKey::new("a", 80),
                        SentEndpoint {
                            weight: w,
                            locality: Locality::default(),
                            priority: 0,
                            health: "HEALTHY".into(),
                        },
                    ),
                    (
                        HostKey::new("b", 80),
                        SentEndpoint {
                            weight: 1,
                            locality: Locality::default(),
                            priority: 0,
                            health: "HEALTHY".into(),
                        },
                    ),
                ])),
            },
        );
        v
    }

    fn sync(version: &str, status: &str) -> ProxySync {
        ProxySync {
            id: "east".into(),
            cluster: String::new(),
            locality: String::new(),
            control_plane: String::new(),
            types: BTreeMap::from([(
                "EDS".to_string(),
                TypeSync {
                    status: status.into(),
                    version: version.into(),
                    error: None,
                },
            )]),
        }
    }

    fn envoy(w: u32, a: u64, b: u64) -> EnvoyClusters {
        BTreeMap::from([(
            C.to_string(),
            BTreeMap::from([
                (
                    HostKey::new("a", 80),
                    HostState {
                        weight: w,
                        rq_total: a,
                        ..Default::default()
                    },
                ),
                (
                    HostKey::new("b", 80),
                    HostState {
                        weight: 1,
                        rq_total: b,
                        ..Default::default()
                    },
                ),
            ]),
        )])
    }

    #[test]
    fn follows_a_weight_change_through_every_stage() {
        let t0 = Instant::now();
        let wall = SystemTime::UNIX_EPOCH;
        let sec = |n: u64| (wall + Duration::from_secs(n), t0 + Duration::from_secs(n));
        let mut data = ProxyData::new("east", "x");
        data.record(envoy(1, 0, 0), t0, wall);
        let old = control(1);
        let syncs = [sync("v1", "SYNCED")];
        let mut v = Verify::new(
            "weight a 1→3".into(),
            vec![target()],
            &seen(&old, &syncs, vec![&data]),
            wall,
            t0,
        );
        assert_eq!(v.waiting_for(), Some(Stage::Applied));
        v.applied = Some(wall);
        v.observe(&seen(&old, &syncs, vec![&data]), sec(1).0, sec(1).1);
        assert_eq!(v.waiting_for(), Some(Stage::ControlPlane));

        let new = control(3);
        let stale = [sync("v2", "STALE")];
        v.observe(&seen(&new, &stale, vec![&data]), sec(2).0, sec(2).1);
        assert_eq!(v.in_control_plane, Some(sec(2).0));
        assert_eq!(v.waiting_for(), Some(Stage::Acked));

        let synced = [sync("v2", "SYNCED")];
        v.observe(&seen(&new, &synced, vec![&data]), sec(3).0, sec(3).1);
        assert_eq!(v.waiting_for(), Some(Stage::InEnvoy));

        data.record(envoy(3, 10, 10), sec(4).1, sec(4).0);
        v.observe(&seen(&new, &synced, vec![&data]), sec(4).0, sec(4).1);
        assert_eq!(v.waiting_for(), Some(Stage::TrafficMoved));

        // Too few requests yet to tell 75% from the 50% before, even at the right split.
        data.record(envoy(3, 16, 12), sec(5).1, sec(5).0);
        v.observe(&seen(&new, &synced, vec![&data]), sec(5).0, sec(5).1);
        assert!(v.done.is_none());
        assert!(
            v.summary().contains("east 75%/75% of 8 rq"),
            "{}",
            v.summary()
        );

        data.record(envoy(3, 160, 50), sec(8).1, sec(8).0);
        v.observe(&seen(&new, &synced, vec![&data]), sec(8).0, sec(8).1);
        assert_eq!(v.done, Some(sec(8).0), "{}", v.summary());
        let s = v.summary();
        assert!(
            s.contains(
                "✓ traffic moved +8.00s │ applied +0.00s · EDS +2.00s · ACK +3.00s · Envoy +4.00s"
            ),
            "{s}"
        );
    }

    #[test]
    fn proxies_known_only_from_syncz_are_followed_to_their_ack() {
        let t0 = Instant::now();
        let wall = SystemTime::UNIX_EPOCH;
        let c = control(3);
        // istiod lists a proxy nobody gave an admin address for: it only has to ACK.
        let before = [sync("v1", "SYNCED")];
        let after = [sync("v2", "SYNCED")];
        let mut v = Verify::new(
            "w".into(),
            vec![target()],
            &seen(&c, &before, vec![]),
            wall,
            t0,
        );
        v.applied = Some(wall);
        v.observe(&seen(&c, &before, vec![]), wall, t0);
        assert_eq!(v.waiting_for(), Some(Stage::Acked));
        v.observe(&seen(&c, &after, vec![]), wall, t0);
        assert!(v.done.is_some(), "{}", v.summary());
        assert!(
            v.summary().contains("✓ ACKed +0.00s (traffic not seen"),
            "{}",
            v.summary()
        );

        // With one Envoy read as well, the syncz-only proxy does not hold the loop at "in Envoy".
        let mut data = ProxyData::new("west", "x");
        data.record(envoy(3, 0, 0), t0, wall);
        let mut v = Verify::new(
            "w".into(),
            vec![target()],
            &seen(&c, &before, vec![&data]),
            wall,
            t0,
        );
        v.applied = Some(wall);
        v.observe(&seen(&c, &after, vec![&data]), wall, t0);
        assert_eq!(v.waiting_for(), Some(Stage::TrafficMoved));
        data.record(envoy(3, 150, 50), t0 + Duration::from_secs(5), wall);
        v.observe(
            &seen(&c, &after, vec![&data]),
            wall,
            t0 + Duration::from_secs(5),
        );
        assert!(v.summary().contains("✓ traffic moved"), "{}", v.summary());
    }

    #[test]
    fn a_split_off_target_does_not_count_and_the_loop_gives_up() {
        let t0 = Instant::now();
        let wall = SystemTime::UNIX_EPOCH;
        let mut data = ProxyData::new("east", "x");
        data.record(envoy(3, 0, 0), t0, wall);
        let c = control(3);
        let mut v = Verify::new(
            "w".into(),
            vec![target()],
            &seen(&c, &[], vec![&data]),
            wall,
            t0,
        );
        v.applied = Some(wall);
        v.observe(&seen(&c, &[], vec![&data]), wall, t0);
        assert!(v.proxies["east"].in_envoy.is_some());
        // 50/50 although Envoy holds 3:1.
        data.record(envoy(3, 500, 500), t0 + Duration::from_secs(20), wall);
        v.observe(
            &seen(&c, &[], vec![&data]),
            wall,
            t0 + Duration::from_secs(20),
        );
        // A thousand requests at 50% leave no doubt: it stops there, long before giving up.
        assert!(v.done.is_none());
        assert!(
            v.gave_up.as_deref().unwrap().contains(
                "traffic did not move through east: 50% of 1000 rq, where Envoy's weights give 75%"
            ),
            "{:?}",
            v.gave_up
        );
    }

    #[test]
    fn the_sequential_test_stops_when_the_evidence_is_enough_either_way() {
        // 50% before, 75% after: a few dozen requests tell them apart.
        assert_eq!(sequential(6, 8, Some(0.5), 0.75), Verdict::Undecided);
        assert_eq!(sequential(24, 30, Some(0.5), 0.75), Verdict::Moved);
        assert_eq!(sequential(15, 30, Some(0.5), 0.75), Verdict::Undecided);
        assert_eq!(sequential(30, 60, Some(0.5), 0.75), Verdict::Stayed);
        // Back from a drain (0% before): a handful of requests prove it takes traffic again.
        assert_eq!(sequential(3, 6, Some(0.0), 0.5), Verdict::Moved);
        assert_eq!(sequential(0, 8, Some(0.0), 0.5), Verdict::Stayed);
        // 50% → 55% is too small to tell apart: judged against 2 × TOLERANCE either side.
        assert_eq!(sequential(30, 55, Some(0.5), 0.55), Verdict::Undecided);
        assert_eq!(sequential(112, 200, Some(0.5), 0.55), Verdict::Moved);
        // Everything kept local, before and after: a few dozen requests confirm it.
        assert_eq!(sequential(40, 40, Some(1.0), 1.0), Verdict::Moved);
        assert_eq!(sequential(30, 40, Some(1.0), 1.0), Verdict::Stayed);
        assert_eq!(sequential(300, 600, Some(0.5), 0.65), Verdict::Stayed);
    }

    /// 30 requests a second through one proxy, split as Envoy's weights say, read once a
    /// second: the seconds from "in Envoy" to the verdict, or None within `limit`.
    fn seconds_to_verdict(rate: u64, share: f64, limit: u64) -> (Option<u64>, Verify) {
        seconds_to_verdict_by(rate, share, limit, false)
    }

    fn seconds_to_verdict_by(
        rate: u64,
        share: f64,
        limit: u64,
        fixed: bool,
    ) -> (Option<u64>, Verify) {
        let t0 = Instant::now();
        let wall = SystemTime::UNIX_EPOCH;
        let mut data = ProxyData::new("east", "x");
        data.record(envoy(1, 0, 0), t0, wall);
        let c = control(3);
        let mut v = Verify::new(
            "w".into(),
            vec![target()],
            &seen(&c, &[], vec![&data]),
            wall,
            t0,
        );
        if fixed {
            v = v.fixed_sample();
        }
        v.applied = Some(wall);
        let (mut a, mut b) = (0u64, 0u64);
        let mut sent = 0u64;
        for s in 0..=limit {
            let at = t0 + Duration::from_secs(s);
            if s > 0 {
                sent += rate;
                // Deterministic split: host a gets its share of everything sent so far.
                let want_a = (sent as f64 * share).round() as u64;
                b += sent - want_a - b;
                a = want_a;
            }
            data.record(envoy(3, a, b), at, wall + Duration::from_secs(s));
            v.observe(
                &seen(&c, &[], vec![&data]),
                wall + Duration::from_secs(s),
                at,
            );
            if v.is_finished() {
                return (Some(s), v);
            }
        }
        (None, v)
    }

    #[test]
    fn at_30_requests_a_second_a_clear_change_is_judged_within_two_seconds() {
        let (after, v) = seconds_to_verdict(30, 0.75, 30);
        assert!(after.is_some_and(|s| s <= 2), "{after:?}: {}", v.summary());
        assert!(v.summary().contains("✓ traffic moved"), "{}", v.summary());
        // The share stayed at the old 50%: said as soon as it is clear, not after 180 s.
        let (after, v) = seconds_to_verdict(30, 0.5, 30);
        assert!(after.is_some_and(|s| s <= 3), "{after:?}: {}", v.summary());
        assert!(
            v.gave_up.as_deref().unwrap().contains("did not move"),
            "{:?}",
            v.gave_up
        );
    }

    #[test]
    fn a_split_the_edit_does_not_touch_waits_for_no_traffic_but_is_still_watched() {
        // Host a takes everything (b is its failover at priority 1), before and after the
        // edit: this proxy has nothing to show moving.
        let local = |w: u32, a: u64, b: u64| {
            let mut c = envoy(w, a, b);
            if let Some(h) = c.get_mut(C).and_then(|h| h.get_mut(&HostKey::new("b", 80))) {
                h.priority = 1;
            }
            c
        };
        let run = |b_requests: u64| {
            let t0 = Instant::now();
            let wall = SystemTime::UNIX_EPOCH;
            let mut data = ProxyData::new("east", "x");
            data.record(local(1, 0, 0), t0, wall);
            let c = control(3);
            let mut v = Verify::new(
                "w".into(),
                vec![target()],
                &seen(&c, &[], vec![&data]),
                wall,
                t0,
            );
            v.applied = Some(wall);
            for s in 1..=4u64 {
                let at = t0 + Duration::from_secs(s);
                data.record(
                    local(3, 0, b_requests * s),
                    at,
                    wall + Duration::from_secs(s),
                );
                v.observe(
                    &seen(&c, &[], vec![&data]),
                    wall + Duration::from_secs(s),
                    at,
                );
                if v.is_finished() {
                    return (s, v);
                }
            }
            (99, v)
        };
        // No request at all, and still a verdict once Envoy holds the weight.
        let (after, v) = run(0);
        assert_eq!(after, 2, "{}", v.summary());
        assert!(v.summary().contains("✓ traffic moved"), "{}", v.summary());
        // Its traffic leaving for the failover is evidence against, and is said.
        let (_, v) = run(40);
        assert!(v.gave_up.is_some(), "{}", v.summary());
    }

    #[test]
    fn the_fixed_sample_reference_needs_its_hundred_requests() {
        let (after, v) = seconds_to_verdict_by(30, 0.75, 30, true);
        assert_eq!(after, Some(4), "{}", v.summary());
        assert!(v.took().is_some());
    }

    #[test]
    fn too_little_traffic_is_said_instead_of_waited_for() {
        // No request at all: nothing decisive within JUDGE_WITHIN.
        let (after, v) = seconds_to_verdict(0, 0.75, 30);
        let after = after.expect("a verdict");
        assert!(after as u128 > JUDGE_WITHIN.as_secs() as u128, "{after}");
        assert!(after <= JUDGE_WITHIN.as_secs() + 1, "{after}");
        let s = v.summary();
        assert!(s.contains("not enough traffic to judge at east"), "{s}");
        assert!(!s.contains("traffic moved"), "{s}");
    }
}
