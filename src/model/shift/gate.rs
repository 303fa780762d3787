//! The gates of one held step: from each Envoy's per-host counters (`/clusters`), the errors
//! of the endpoints shifted to against the threshold plus what the other endpoints show over
//! the same time, judged by a sequential test so a failing canary is stopped as soon as a few
//! of its requests have failed; Envoy ejecting one of them or failing its health checks; the
//! cluster's p99 against its limit; and a data plane that stops answering. Envoy keeps no
//! per-host latency, so the p99 is the cluster's (every endpoint's requests).

use crate::model::planes::HostKey;
use crate::model::planes::data::ProxyData;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// No Envoy answering for this long fails the step: a gate cannot pass on silence.
pub const SILENT: Duration = Duration::from_secs(10);
/// Requests to the shifted endpoints a hold needs before it can pass.
pub const MIN_EVIDENCE: u64 = 10;
/// Readings in a row above the p99 limit that fail the step (one slow second is noise).
pub const P99_READINGS: u32 = 3;
/// Error rates of the sequential test: α of failing a step that is fine, β the reverse.
const ALPHA: f64 = 0.01;
const BETA: f64 = 0.05;
/// Envoy's flags that say it no longer trusts a host.
const FAILING: [&str; 2] = ["failed_outlier_check", "failed_active_health_check"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gates {
    /// The share of the shifted endpoints' requests that may fail (5xx, resets), above what
    /// the other endpoints show.
    pub max_errors: f64,
    /// The cluster's p99 in milliseconds, when limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p99_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub rq: u64,
    pub errors: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.rq += o.rq;
        self.errors += o.errors;
    }

    fn since(self, base: Counts) -> Option<Counts> {
        Some(Counts {
            rq: self.rq.checked_sub(base.rq)?,
            errors: self.errors.checked_sub(base.errors)?,
        })
    }

    pub fn ratio(self) -> f64 {
        if self.rq == 0 {
            0.0
        } else {
            self.errors as f64 / self.rq as f64
        }
    }

    fn words(self) -> String {
        format!("{:.1}% of {} rq", self.ratio() * 100.0, self.rq)
    }
}

/// What one Envoy says now, summed over the service's clusters: counters since it started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxySample {
    pub targets: Counts,
    pub others: Counts,
    /// The shifted endpoints Envoy has stopped trusting: `HOST flag`.
    pub failing: Vec<String>,
    pub p99_ms: Option<f64>,
}

/// One round of every Envoy that answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub proxies: BTreeMap<String, ProxySample>,
}

impl Reading {
    /// From what each Envoy held at its last poll (a stale one is left out): the counters of
    /// `targets` and of `others`, (cluster, host) pairs; `p99` per proxy when stats were read.
    pub fn from_proxies<'a>(
        proxies: impl IntoIterator<Item = &'a ProxyData>,
        targets: &[(String, HostKey)],
        others: &[(String, HostKey)],
        p99: &BTreeMap<String, f64>,
    ) -> Reading {
        let mut out = Reading::default();
        for d in proxies
            .into_iter()
            .filter(|d| !d.is_stale() && d.fetched_at.is_some())
        {
            let mut s = ProxySample {
                p99_ms: p99.get(&d.name).copied(),
                ..Default::default()
            };
            for (side, hosts) in [(true, targets), (false, others)] {
                for (cluster, host) in hosts {
                    let Some(h) = d.host(cluster, host) else {
                        continue;
                    };
                    let c = Counts {
                        rq: h.rq_total,
                        errors: h.rq_error,
                    };
                    if side {
                        s.targets.add(c);
                        for f in h.flags.iter().filter(|f| FAILING.contains(&f.as_str())) {
                            s.failing.push(format!("{host} {f}"));
                        }
                    } else {
                        s.others.add(c);
                    }
                }
            }
            out.proxies.insert(d.name.clone(), s);
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Pass,
    Fail(String),
    /// Not enough evidence yet: hold on.
    Undecided,
}

/// The gates of one step, from the moment its weights were in place.
#[derive(Debug, Clone)]
pub struct Gate {
    gates: Gates,
    baseline: BTreeMap<String, ProxySample>,
    /// Per Envoy, its counts since the step began, as it last answered (one left out of a
    /// round keeps what it said).
    since: BTreeMap<String, (Counts, Counts)>,
    targets: Counts,
    others: Counts,
    p99_before: Option<f64>,
    p99_now: Option<f64>,
    p99_over: u32,
    heard: Instant,
}

fn worst_p99(r: &Reading) -> Option<f64> {
    r.proxies
        .values()
        .filter_map(|p| p.p99_ms)
        .max_by(f64::total_cmp)
}

impl Gate {
    pub fn new(gates: Gates, reading: &Reading, at: Instant) -> Gate {
        Gate {
            gates,
            baseline: reading.proxies.clone(),
            since: BTreeMap::new(),
            targets: Counts::default(),
            others: Counts::default(),
            p99_before: worst_p99(reading),
            p99_now: None,
            p99_over: 0,
            heard: at,
        }
    }

    /// What the errors of the other endpoints allow the shifted ones on top of the limit.
    fn allowed(&self) -> f64 {
        let base = if self.others.rq >= MIN_EVIDENCE {
            self.others.ratio()
        } else {
            0.0
        };
        (self.gates.max_errors + base).min(1.0)
    }

    /// Takes a round of readings (None: nobody answered) and fails the step as soon as the
    /// evidence says so; never passes it (the hold decides that, `at_end`).
    pub fn observe(&mut self, reading: Option<&Reading>, at: Instant) -> Verdict {
        let Some(r) = reading.filter(|r| !r.proxies.is_empty()) else {
            if at.duration_since(self.heard) >= SILENT {
                return Verdict::Fail(format!(
                    "the data plane went silent: no Envoy answered for {}s",
                    at.duration_since(self.heard).as_secs()
                ));
            }
            return Verdict::Undecided;
        };
        self.heard = at;
        let mut distrusted = None;
        for (name, now) in &r.proxies {
            let base = self
                .baseline
                .entry(name.clone())
                .or_insert_with(|| now.clone());
            // Counters went back: that Envoy restarted. Count from here.
            let (t, o) = match (
                now.targets.since(base.targets),
                now.others.since(base.others),
            ) {
                (Some(t), Some(o)) => (t, o),
                _ => {
                    *base = now.clone();
                    (Counts::default(), Counts::default())
                }
            };
            self.since.insert(name.clone(), (t, o));
            if let Some(f) = now.failing.first() {
                distrusted.get_or_insert(format!("Envoy {name} stopped trusting {f}"));
            }
        }
        let (mut targets, mut others) = (Counts::default(), Counts::default());
        for (t, o) in self.since.values() {
            targets.add(*t);
            others.add(*o);
        }
        (self.targets, self.others) = (targets, others);
        if let Some(why) = distrusted {
            return Verdict::Fail(format!("{why} (after {})", self.targets.words()));
        }
        if let Verdict::Fail(why) = self.errors_test() {
            return Verdict::Fail(why);
        }
        self.p99_now = worst_p99(r);
        if let (Some(limit), Some(p99)) = (self.gates.max_p99_ms, self.p99_now) {
            self.p99_over = if p99 > limit { self.p99_over + 1 } else { 0 };
            if self.p99_over >= P99_READINGS {
                let before = self.p99_before.map_or(String::new(), |b| {
                    format!(" (it was {b:.0}ms when the step began)")
                });
                return Verdict::Fail(format!(
                    "p99 {p99:.0}ms above the {limit:.0}ms limit for {P99_READINGS} readings in a row{before}"
                ));
            }
        }
        Verdict::Undecided
    }

    /// Wald's test of the shifted endpoints' error rate: fine at half the allowed rate, failing
    /// at twice it (or one point above it, for a limit near 0).
    fn errors_test(&self) -> Verdict {
        let allowed = self.allowed();
        let good = (allowed / 2.0).clamp(1e-4, 0.98);
        let bad = (allowed * 2.0).max(allowed + 0.01).clamp(good + 1e-4, 0.99);
        let (k, n) = (self.targets.errors as f64, self.targets.rq as f64);
        let llr = k * (bad / good).ln() + (n - k) * ((1.0 - bad) / (1.0 - good)).ln();
        if llr >= ((1.0 - BETA) / ALPHA).ln() {
            Verdict::Fail(format!(
                "errors on the shifted endpoints: {} (allowed {:.1}%: {:.1}% over the others' {})",
                self.targets.words(),
                allowed * 100.0,
                self.gates.max_errors * 100.0,
                self.others.words()
            ))
        } else {
            Verdict::Undecided
        }
    }

    /// At the end of a hold of `held` (of `hold` asked): pass, fail, or hold on for more
    /// requests, up to twice the hold.
    pub fn at_end(&self, held: Duration, hold: Duration) -> Verdict {
        if held < hold {
            return Verdict::Undecided;
        }
        if self.targets.rq < MIN_EVIDENCE {
            if held >= hold * 2 {
                return Verdict::Fail(format!(
                    "not enough traffic to judge: {} requests reached the shifted endpoints in {}s (a step needs {MIN_EVIDENCE})",
                    self.targets.rq,
                    held.as_secs()
                ));
            }
            return Verdict::Undecided;
        }
        if self.targets.ratio() > self.allowed() {
            return Verdict::Fail(format!(
                "errors on the shifted endpoints: {} over the hold (allowed {:.1}%; the others {})",
                self.targets.words(),
                self.allowed() * 100.0,
                self.others.words()
            ));
        }
        Verdict::Pass
    }

    /// The figures so far, for the status line and the audit.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "shifted {} · others {}",
            self.targets.words(),
            self.others.words()
        );
        if let Some(p) = self.p99_now {
            s.push_str(&format!(" · p99 {p:.0}ms"));
        }
        s
    }

    pub fn targets(&self) -> Counts {
        self.targets
    }
}
