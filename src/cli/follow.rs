//! Following an edit through the planes headless (`--wait`): the console's verify loop, fed
//! by asking every server and Envoy again, every `READ_EVERY` (as the console's poller does
//! while it follows an edit), until it is done, gives up, or the time is out.

use super::planes::{PlaneArgs, gather};
use crate::model::planes::data::ProxyData;
use crate::model::planes::verify::{Target, Verify};
use crate::model::planes::{Planes, control::ControlView, control::ProxySync};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

const EVERY: Duration = crate::model::planes::verify::READ_EVERY;

pub struct Follower<'a> {
    planes: &'a PlaneArgs,
    clusters: BTreeSet<String>,
    control: Option<ControlView>,
    syncs: Vec<ProxySync>,
    /// Kept across rounds: traffic is judged from counter deltas.
    proxies: BTreeMap<String, ProxyData>,
    verify: Verify,
    /// `bench --drain`: the fixed-sample rule, judged on the same readings.
    reference: Option<Verify>,
}

/// How a followed change ended.
pub struct Followed {
    pub summary: String,
    /// From applied to the verdict.
    pub took: Option<Duration>,
    /// The same for the reference rule, when one was asked for and reached a verdict.
    pub reference: Option<Duration>,
}

impl<'a> Follower<'a> {
    /// Reads the planes once before the edit: the versions each proxy had ACKed and the Envoys
    /// that will be asked.
    pub async fn start(
        planes: &'a PlaneArgs,
        what: &str,
        targets: Vec<Target>,
    ) -> Result<Follower<'a>, String> {
        let clusters: BTreeSet<String> = targets.iter().map(|t| t.cluster.clone()).collect();
        let mut f = Follower {
            planes,
            clusters,
            control: None,
            syncs: Vec::new(),
            proxies: BTreeMap::new(),
            verify: Verify::new(
                what.into(),
                targets.clone(),
                &Planes {
                    control: None,
                    syncs: &[],
                    proxies: Vec::new(),
                },
                SystemTime::now(),
                Instant::now(),
            ),
            reference: None,
        };
        f.read().await?;
        f.verify = Verify::new(
            what.into(),
            targets,
            &f.seen(),
            SystemTime::now(),
            Instant::now(),
        );
        Ok(f)
    }

    /// Also judges the traffic by the fixed-sample rule, for comparison.
    pub fn with_reference(mut self) -> Self {
        self.reference = Some(self.verify.fixed_sample());
        self
    }

    fn seen(&self) -> Planes<'_> {
        Planes {
            control: self.control.as_ref(),
            syncs: &self.syncs,
            proxies: self.proxies.values().collect(),
        }
    }

    async fn read(&mut self) -> Result<(), String> {
        let g = gather(self.planes, self.clusters.clone(), true).await?;
        self.control = g.control.into_iter().next();
        self.syncs = g.syncs;
        for p in g.proxies {
            self.proxies
                .entry(p.name.clone())
                .or_insert_with(|| ProxyData::new(&p.name, &p.admin))
                .record(p.clusters, Instant::now(), SystemTime::now());
        }
        Ok(())
    }

    /// After the edit is applied: Ok when every plane agrees, Err(why) otherwise. Each new
    /// stage is said on `out` as it is reached.
    pub async fn wait(
        mut self,
        timeout: Duration,
        out: &mut dyn Write,
    ) -> Result<Followed, String> {
        let started = Instant::now();
        self.verify.applied = Some(SystemTime::now());
        if let Some(r) = self.reference.as_mut() {
            r.applied = self.verify.applied;
        }
        let mut said = None;
        loop {
            // A plane that does not answer now may answer next round; said at the end.
            let last_error = self.read().await.err();
            let seen = Planes {
                control: self.control.as_ref(),
                syncs: &self.syncs,
                proxies: self.proxies.values().collect(),
            };
            self.verify
                .observe(&seen, SystemTime::now(), Instant::now());
            if let Some(r) = self.reference.as_mut() {
                r.observe(&seen, SystemTime::now(), Instant::now());
            }
            let stage = self.verify.waiting_for();
            if stage != said && !self.verify.is_finished() {
                let _ = writeln!(out, "{}", self.verify.summary());
                said = stage;
            }
            let reference_pending = self.reference.as_ref().is_some_and(|r| !r.is_finished());
            if self.verify.done.is_some() && !(reference_pending && started.elapsed() < timeout) {
                return Ok(Followed {
                    summary: self.verify.summary(),
                    took: self.verify.took(),
                    reference: self
                        .reference
                        .as_ref()
                        .filter(|r| r.done.is_some())
                        .and_then(Verify::took),
                });
            }
            let over = self.verify.done.is_none() && started.elapsed() >= timeout;
            if self.verify.gave_up.is_some() || over {
                let mut why = format!(
                    "timed out after {}s: {}",
                    timeout.as_secs(),
                    self.verify.summary()
                );
                if let Some(e) = last_error {
                    why.push_str(&format!(" (last error: {e})"));
                }
                return Err(why);
            }
            tokio::time::sleep(EVERY).await;
        }
    }
}
