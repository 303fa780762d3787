//! `meshdeck shift NS/SERVICE --to NS/ENTRY[,…]`: a staged traffic shift for scripts. Each
//! step's weights are written (and with `--wait` followed through the planes), then held while
//! the gates read every Envoy given with `--envoy-admin`; a failing gate, a silent data plane or
//! ctrl-c rolls back to the weights it started from. The plan is kept where another console sees
//! it (`io/shift_plan.rs`) and beats every 15 s while this one runs.
//! Exit 0: done, 1: refused or failed, 2: usage, 3: rolled back by a gate, 4: aborted.

use super::args::{ConsoleArgs, ShiftArgs};
use super::follow::Follower;
use super::shift_io::{DataPlane, Registry};
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};
use crate::io::shift_plan::{PlanLock, Refused};
use crate::model::object::{Kind, ObjectKey};
use crate::model::planes::verify::{Wanted, targets};
use crate::model::shift::edits::hosts;
use crate::model::shift::plan::{HEARTBEAT, Request};
use crate::model::shift::{
    Gates, Outcome, Phase, Plan, Shift, parse_endpoint, parse_millis, parse_ratio, parse_steps,
};
use crate::model::store::Store;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// How often the gates read the data plane while a step is held.
const EVERY: Duration = Duration::from_secs(1);
/// How often a held step's state is said on the output.
const SAY_EVERY: Duration = Duration::from_secs(10);

fn usage(message: String) -> i32 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

fn service_key(text: &str) -> Result<ObjectKey, String> {
    match text.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(ObjectKey::new(Kind::ServiceEntry, ns, name))
        }
        _ => Err(format!(
            "{text:?}: write NAMESPACE/NAME of the ServiceEntry whose traffic moves"
        )),
    }
}

fn owner(user: &str) -> String {
    crate::state::setup::Who {
        user: user.to_string(),
        host: crate::io::kube::audit::host(),
    }
    .owner()
}

/// The new plan, or the one left (resumed or rolled back by this console now).
async fn take_plan(
    a: &ShiftArgs,
    lock: &PlanLock,
    store: &Store,
    service: &ObjectKey,
    me: (&str, &str),
) -> Result<Plan, (i32, String)> {
    let (user, owner) = me;
    let failed = |e: String| (EXIT_FINDINGS, e);
    let now = SystemTime::now();
    let held = lock.read().await.map_err(failed)?;
    if a.resume || a.rollback {
        let (plan, was) = lock
            .take(service, owner, user, a.rollback)
            .await
            .map_err(failed)?;
        eprintln!("taking over {was}");
        return Ok(plan);
    }
    if let Some(held) = held {
        let hint = if held.is_stale(now) {
            "its console stopped: `--resume` takes it over, `--rollback` puts the weights back"
        } else {
            "wait for it, or stop it with `--rollback`"
        };
        return Err(failed(format!(
            "{} is already being shifted: {}; {hint}",
            service,
            held.describe(now)
        )));
    }
    let to =
        a.to.iter()
            .map(|t| parse_endpoint(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| (EXIT_USAGE, e))?;
    let gates = Gates {
        max_errors: parse_ratio(&a.max_5xx).map_err(|e| (EXIT_USAGE, format!("--max-5xx: {e}")))?,
        max_p99_ms: a
            .max_p99
            .as_deref()
            .map(parse_millis)
            .transpose()
            .map_err(|e| (EXIT_USAGE, format!("--max-p99: {e}")))?,
    };
    let steps = parse_steps(&a.steps).map_err(|e| (EXIT_USAGE, format!("--steps: {e}")))?;
    let plan = Plan::new(
        store,
        Request {
            service,
            to: &to,
            steps,
            hold: a.hold,
            gates,
            by: user,
            owner,
            now,
        },
    )
    .map_err(failed)?;
    if a.dry_run {
        return Ok(plan);
    }
    match lock.create(&plan).await {
        Ok(()) => Ok(plan),
        Err(Refused::Held(h)) => Err(failed(format!(
            "{service} is already being shifted: {}",
            h.describe(now)
        ))),
        Err(Refused::Failed(e)) => Err(failed(format!(
            "the plan could not be kept in {}: {e}; nothing was written",
            lock.describe()
        ))),
    }
}

/// Every step's weights, member by member: what `--dry-run` prints.
fn print_steps(plan: &Plan, out: &mut dyn Write) {
    let _ = writeln!(out, "{}", plan.summary());
    for line in plan.step_table() {
        let _ = writeln!(out, "{line}");
    }
}

fn step_name(plan: &Plan, phase: &Phase) -> String {
    match phase {
        Phase::Applying(i) | Phase::Holding(i) => plan.step_name(*i),
        Phase::RollingBack => "rollback".into(),
        Phase::Finished => "end".into(),
    }
}

pub async fn run(console: &ConsoleArgs, a: ShiftArgs, out: &mut dyn Write) -> i32 {
    run_deciding(console, a, out).await.0
}

/// When a gate (or the user) turned a step back: how long after the step was in place, and
/// how many requests the shifted endpoints had served by then. For `bench --shift`.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub after: Duration,
    pub requests: u64,
    pub at: Instant,
}

/// `run`, also saying when the rollback was decided.
pub async fn run_deciding(
    console: &ConsoleArgs,
    a: ShiftArgs,
    out: &mut dyn Write,
) -> (i32, Option<Decision>) {
    match prepare(console, a, out).await {
        Ok(mut driver) => {
            let code = driver.run(out).await;
            (code, driver.decision)
        }
        // Refused, a usage error, or a dry run that printed the steps.
        Err(code) => (code, None),
    }
}

/// Everything before the first step: arguments, the registry, the plan kept or refused.
async fn prepare<'a>(
    console: &'a ConsoleArgs,
    a: ShiftArgs,
    out: &mut dyn Write,
) -> Result<Driver<'a>, i32> {
    let service = match service_key(&a.service) {
        Ok(k) => k,
        Err(e) => return Err(usage(e)),
    };
    let reads_planes = !a.dry_run && !a.rollback;
    if reads_planes && console.planes.envoy_admin.is_empty() {
        return Err(usage(
            "a shift's gates read each Envoy's per-host counters: give --envoy-admin [NAME=]HOST:PORT for the Envoys that send to the service (or --dry-run to see the steps)".into(),
        ));
    }
    if a.wait && console.planes.is_empty() {
        return Err(usage(
            "--wait follows each step through the planes: give --xds, --istiod or --envoy-admin"
                .into(),
        ));
    }
    let cluster = crate::io::kube::client::Target {
        kubeconfig: console.kubeconfig.clone(),
        context: console.context(),
    };
    let on_files = !console.manifests.is_empty();
    if !on_files && !crate::io::kube::client::configured(&cluster) {
        return Err(usage("meshdeck shift needs --manifests PATH, or a cluster (--kubeconfig, $KUBECONFIG, ~/.kube/config)".into()));
    }
    let (registry, lock) = if on_files {
        (
            Registry::Files {
                roots: console.manifests.clone(),
                readonly: console.readonly,
            },
            PlanLock::for_files(&console.manifests, &service),
        )
    } else {
        match super::set::cluster_source(
            &cluster,
            Some(&service.namespace),
            console.readonly,
            false,
        )
        .await
        {
            Ok((source, _)) => match PlanLock::for_cluster(&source, &service) {
                Ok(lock) => (
                    Registry::Cluster {
                        source: Box::new(source),
                        namespace: service.namespace.to_string(),
                    },
                    lock,
                ),
                Err(e) => return Err(usage(e)),
            },
            Err(e) => return Err(usage(format!("{e:#}"))),
        }
    };
    if console.readonly && !a.dry_run {
        eprintln!("error: read-only: meshdeck was started with --readonly; nothing was written");
        return Err(EXIT_FINDINGS);
    }
    let store = match registry.store().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(EXIT_FINDINGS);
        }
    };
    let user = crate::io::kube::audit::who();
    let me = owner(&user);
    let plan = match take_plan(&a, &lock, &store, &service, (&user, &me)).await {
        Ok(p) => p,
        Err((code, message)) => {
            eprintln!("error: {message}");
            return Err(code);
        }
    };
    if a.dry_run {
        print_steps(&plan, out);
        let _ = writeln!(out, "dry run: nothing was written");
        return Err(EXIT_OK);
    }
    // Port-forwards for pod/… admins live as long as this does.
    let through = if reads_planes {
        match super::planes::through_cluster(&console.planes).await {
            Ok(t) => Some(t),
            Err(e) => {
                let _ = lock.remove(&me).await;
                eprintln!("error: the Envoys could not be reached: {e}; nothing was written");
                return Err(EXIT_FINDINGS);
            }
        }
    } else {
        None
    };
    let admins = through
        .as_ref()
        .map(|t| t.admins.clone())
        .unwrap_or_default();
    let data = DataPlane::new(
        admins,
        hosts(&store, &plan),
        plan.gates.max_p99_ms.is_some(),
    );
    if reads_planes && data.targets().is_empty() {
        eprintln!(
            "warning: no Envoy cluster of {service} has the endpoints shifted to: the gates will see no traffic"
        );
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let ctrl_c = tokio_util::task::AbortOnDropHandle::new(tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
        }
    }));
    Ok(Driver {
        shift: Shift::new(plan),
        registry,
        lock,
        data,
        console,
        wait: a.wait.then_some(a.timeout),
        me,
        interrupted,
        decision: None,
        _ctrl_c: ctrl_c,
    })
}

struct Driver<'a> {
    shift: Shift,
    registry: Registry,
    lock: PlanLock,
    data: DataPlane,
    console: &'a ConsoleArgs,
    /// `--wait`: how long each step may take to reach every plane.
    wait: Option<Duration>,
    me: String,
    interrupted: Arc<AtomicBool>,
    decision: Option<Decision>,
    /// Turns ctrl-c into `interrupted` while the shift runs.
    _ctrl_c: tokio_util::task::AbortOnDropHandle<()>,
}

impl Driver<'_> {
    async fn run(&mut self, out: &mut dyn Write) -> i32 {
        let mut last_beat = Instant::now();
        let mut last_said = Instant::now();
        let mut said_phase = None;
        let mut step_started = Instant::now();
        while !self.shift.is_finished() {
            if self.interrupted.swap(false, Ordering::SeqCst) {
                self.shift.abort("interrupted (ctrl-c)");
                let _ = writeln!(out, "interrupted: rolling back");
            }
            if let Some(weights) = self.shift.wanted() {
                let phase = self.shift.phase.clone();
                match self.write_step(&weights, out).await {
                    Ok(()) => {
                        let reading = self.data.read().await.unwrap_or_default();
                        self.shift.applied(&reading, Instant::now());
                        step_started = Instant::now();
                    }
                    Err(e) => {
                        let _ = writeln!(out, "{}: {e}", step_name(&self.shift.plan, &phase));
                        self.shift.apply_failed(e);
                    }
                }
                if let Err(lost) = self.beat().await {
                    return self.lost(lost, out);
                }
                last_beat = Instant::now();
                continue;
            }
            tokio::time::sleep(EVERY).await;
            let reading = self.data.read().await;
            let now = Instant::now();
            let before = self.shift.phase.clone();
            self.shift.observe(reading.as_ref(), now);
            let turned_back =
                self.shift.phase == Phase::RollingBack && before != Phase::RollingBack;
            if turned_back {
                // Said below, with how long the gate took.
            } else if self.shift.phase != before || said_phase.as_ref() != Some(&before) {
                said_phase = Some(before.clone());
                last_said = now;
                let _ = writeln!(out, "{}", self.shift.status(now));
            } else if last_said.elapsed() >= SAY_EVERY {
                last_said = now;
                let _ = writeln!(out, "{}", self.shift.status(now));
            }
            if let Some(o) = &self.shift.outcome
                && turned_back
            {
                self.decision = Some(Decision {
                    after: step_started.elapsed(),
                    requests: self.shift.gate_counts().map_or(0, |c| c.rq),
                    at: Instant::now(),
                });
                let _ = writeln!(
                    out,
                    "{}: rolling back (decided {:.1}s after {} was in place)",
                    o.describe(),
                    step_started.elapsed().as_secs_f64(),
                    step_name(&self.shift.plan, &before)
                );
            }
            if last_beat.elapsed() >= HEARTBEAT {
                if let Err(lost) = self.beat().await {
                    return self.lost(lost, out);
                }
                last_beat = Instant::now();
            }
        }
        self.finish(out).await
    }

    /// Writes one step's weights and, with `--wait`, follows them until every plane has them.
    async fn write_step(
        &mut self,
        weights: &[Option<u32>],
        out: &mut dyn Write,
    ) -> Result<(), String> {
        let store = self.registry.store().await?;
        let plan = &self.shift.plan;
        let name = step_name(plan, &self.shift.phase);
        let follower = match self.wait {
            Some(_) => {
                let wanted: Vec<Wanted> = plan
                    .sources()
                    .into_iter()
                    .zip(weights)
                    .map(|(source, w)| Wanted {
                        source,
                        weight: Some(w.unwrap_or(1)),
                        locality: None,
                        present: None,
                    })
                    .collect();
                let t = targets(&store, &wanted);
                Some(Follower::start(&self.console.planes, &name, t).await?)
            }
            None => None,
        };
        let written = self.registry.write(&store, plan, weights).await?;
        let said: Vec<String> = written
            .iter()
            .map(|e| {
                let (_, from, to) = e.values();
                format!("{}/{} {from} → {to}", e.object().namespace, e.object().name)
            })
            .collect();
        let _ = writeln!(
            out,
            "{name}: {}",
            if said.is_empty() {
                "the weights are already in place".into()
            } else {
                said.join(", ")
            }
        );
        if let (Some(f), Some(timeout)) = (follower, self.wait) {
            let followed = f.wait(timeout, out).await?;
            let _ = writeln!(out, "{}", followed.summary);
        }
        Ok(())
    }

    /// The plan as it stands, written over this console's.
    async fn beat(&mut self) -> Result<(), String> {
        self.shift.plan.touch(SystemTime::now());
        self.lock.save(&self.shift.plan, Some(&self.me)).await
    }

    /// Another console took the plan (or it was removed): stop without writing anything.
    fn lost(&self, why: String, out: &mut dyn Write) -> i32 {
        let _ = writeln!(
            out,
            "{why}; the weights are as {} left them",
            step_name(&self.shift.plan, &self.shift.phase)
        );
        eprintln!("error: {why}");
        4
    }

    async fn finish(&mut self, out: &mut dyn Write) -> i32 {
        let outcome = self.shift.outcome.clone().unwrap_or(Outcome::Done);
        let rollback_written = !outcome.leaves_plan();
        if rollback_written {
            if let Err(e) = self.lock.remove(&self.me).await {
                eprintln!("warning: {e}");
            }
        } else {
            self.shift.plan.why = Some(outcome.describe());
            let _ = self.lock.save(&self.shift.plan, Some(&self.me)).await;
        }
        let _ = match &outcome {
            Outcome::Done => writeln!(
                out,
                "done: {} now gets {}% from {}",
                self.shift.plan.service,
                self.shift.plan.steps.last().copied().unwrap_or(100.0),
                self.to_names()
            ),
            o if rollback_written => writeln!(
                out,
                "{}; the weights are back as they were before the shift",
                o.describe()
            ),
            o => writeln!(
                out,
                "{}; the plan stays in {} for `meshdeck shift {} --rollback`",
                o.describe(),
                self.lock.describe(),
                self.shift.plan.service
            ),
        };
        outcome.exit_code()
    }

    fn to_names(&self) -> String {
        self.shift
            .plan
            .members
            .iter()
            .filter(|m| m.to)
            .map(|m| m.endpoint.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
