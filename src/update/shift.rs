//! `:shift` on a service's Endpoints: the staged shift of `model/shift` driven by the console.
//! The plan is kept first (where other consoles see it); each step's weights go to the source
//! like any edit (so they are followed through the planes), the gates read what the poller
//! brings from each Envoy once a second, and the plan is refreshed every 15 s. `P` pauses and
//! resumes, `A` (and quitting) aborts: the weights from before go back.

use super::edit;
use crate::model::endpoint::{EndpointSource, source_key};
use crate::model::object::{Object, ObjectKey};
use crate::model::shift::edits::{hosts, step_edits};
use crate::model::shift::plan::{HEARTBEAT, Request};
use crate::model::shift::{
    Gates, Outcome, Phase, Plan, Reading, Shift, parse_millis, parse_ratio, parse_steps,
};
use crate::msg::Cmd;
use crate::msg::shift::{PlanAnswer, PlanOp};
use crate::state::edits::{Confirm, Confirmed, ShiftRun};
use crate::state::{Level, Screen, State};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

const READ_EVERY: Duration = Duration::from_secs(1);
pub const DEFAULT_STEPS: &str = "1,5,25,50,100";
const DEFAULT_HOLD: &str = "60s";
const DEFAULT_MAX_5XX: &str = "1%";
/// A write the store has not shown yet is waited for this long before the next step goes on.
const SEEN_WITHIN: Duration = Duration::from_secs(10);

fn refuse(state: &mut State, why: String) -> Vec<Cmd> {
    state.ui.status = Some((Level::Error, why));
    Vec::new()
}

pub fn running(state: &State) -> bool {
    state.edits.shift.is_some()
}

/// What a shift is asked for, as typed (the `:shift` line's words or the form's fields).
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub steps: &'a str,
    pub hold: &'a str,
    pub max_5xx: &'a str,
    /// Empty: no p99 gate.
    pub max_p99: &'a str,
}

impl Default for Asked<'_> {
    fn default() -> Self {
        Asked {
            steps: DEFAULT_STEPS,
            hold: DEFAULT_HOLD,
            max_5xx: DEFAULT_MAX_5XX,
            max_p99: "",
        }
    }
}

/// `:shift [STEPS] [HOLD] [MAX-5XX] [MAX-P99]`: the selected (or marked) endpoints of the
/// service on screen get its traffic in steps, once the steps' weights are confirmed; with no
/// arguments, the form.
pub fn start(state: &mut State, args: &[&str]) -> Vec<Cmd> {
    if let Some(verb @ ("rollback" | "resume")) = args.first().copied() {
        return take(state, verb == "rollback");
    }
    if args.is_empty() {
        return super::shift_form::open(state);
    }
    let d = Asked::default();
    let asked = Asked {
        steps: args.first().copied().unwrap_or(d.steps),
        hold: args.get(1).copied().unwrap_or(d.hold),
        max_5xx: args.get(2).copied().unwrap_or(d.max_5xx),
        max_p99: args.get(3).copied().unwrap_or(d.max_p99),
    };
    match plan_for(state, asked) {
        Ok(plan) => confirm(state, plan),
        Err(why) => refuse(state, why),
    }
}

/// The plan a shift asked for here would follow, or why there can be none.
pub fn plan_for(state: &State, asked: Asked<'_>) -> Result<Plan, String> {
    let (service, to) = where_to(state)?;
    let steps = parse_steps(asked.steps)
        .map_err(|e| format!("{e}; :shift STEPS HOLD MAX-5XX, e.g. :shift 1,10,50,100 30s 1%"))?;
    let hold = humantime::parse_duration(asked.hold.trim())
        .map_err(|e| format!("hold {:?}: {e} (30s, 2m)", asked.hold))?;
    let max_errors = parse_ratio(asked.max_5xx)?;
    let max_p99_ms = match asked.max_p99.trim() {
        "" => None,
        p => Some(parse_millis(p)?),
    };
    let me = state.setup.who.owner();
    Plan::new(
        &state.registry.store,
        Request {
            service: &service,
            to: &to,
            steps,
            hold,
            gates: Gates {
                max_errors,
                max_p99_ms,
            },
            by: &state.setup.who.user,
            owner: &me,
            now: SystemTime::now(),
        },
    )
}

/// The service on screen and the endpoints to shift to, if a shift may start here now.
pub fn where_to(state: &State) -> Result<(ObjectKey, Vec<EndpointSource>), String> {
    let service = may_shift(
        state,
        "shift works on a service's Endpoints: enter on a ServiceEntry, mark the endpoints to move traffic to, then :shift",
        true,
    )?;
    // On a cluster the plan is an annotation the watch brings: said before anything else.
    let held = state
        .registry
        .store
        .get(&service)
        .and_then(|e| {
            e.object
                .meta()
                .annotations
                .get(crate::model::shift::SHIFT_ANNOTATION)
        })
        .map(|text| Plan::from_json(text));
    if let Some(held) = held {
        return Err(match held {
            Ok(p) => format!(
                "{service} is already being shifted: {}; `meshdeck shift {} --rollback` stops it",
                p.describe(SystemTime::now()),
                p.service
            ),
            Err(e) => format!("{service} carries a shift plan that does not read ({e})"),
        });
    }
    Ok((service, edit::targets_of(state)?))
}

/// What a plan will do, line by line: the summary, every step's weights, what stops it.
pub fn described(plan: &Plan) -> Vec<String> {
    let mut lines = vec![plan.summary(), String::new()];
    lines.extend(plan.step_table());
    lines.push(String::new());
    lines.push("a failing gate, A, or quitting puts the weights of now back; P pauses".to_string());
    lines
}

/// What the user should know about a plan before it starts.
pub fn warnings(plan: &Plan) -> Vec<String> {
    plan.gates
        .max_p99_ms
        .is_some()
        .then(|| {
            "the p99 gate reads each Envoy's stats for the service's clusters: an Envoy whose stats are not read cannot fail it".to_string()
        })
        .into_iter()
        .collect()
}

/// A shift not started yet: its plan not kept, no step written.
pub fn run_of(plan: Plan) -> ShiftRun {
    let now = Instant::now();
    ShiftRun {
        owner: plan.owner.clone(),
        shift: Shift::new(plan),
        kept: false,
        request: None,
        last_beat: now,
        last_read: now,
        seen: None,
        line: "keeping the plan…".into(),
        written: None,
        quits: 0,
    }
}

/// Every step's weights, for a yes.
fn confirm(state: &mut State, plan: Plan) -> Vec<Cmd> {
    state.edits.confirm = Some(Confirm {
        title: format!("shift {}?", plan.service_key()),
        verb: "shift",
        lines: described(&plan),
        warnings: warnings(&plan),
        then: Confirmed::Shift(Box::new(run_of(plan))),
    });
    Vec::new()
}

/// The user said yes: the plan is kept first, where other consoles see it; the first step
/// follows once it is.
pub fn confirmed(state: &mut State, mut run: ShiftRun) -> Vec<Cmd> {
    let service = run.shift.plan.service.clone();
    state.ui.status = Some((
        Level::Info,
        format!("shift of {service} starting: keeping its plan where other consoles see it"),
    ));
    let now = Instant::now();
    (run.last_beat, run.last_read) = (now, now);
    let plan = run.shift.plan.clone();
    state.edits.shift = Some(run);
    vec![Cmd::ShiftPlan(PlanOp::Create(plan))]
}

/// The service on screen, if a shift may start here now: on its Endpoints, writable, none
/// running, and (when its gates will read them) Envoys to read.
fn may_shift(state: &State, elsewhere: &str, reads_envoys: bool) -> Result<ObjectKey, String> {
    let Screen::Endpoints(service) = state.screen() else {
        return Err(elsewhere.into());
    };
    if state.setup.readonly {
        return Err(format!(
            "read-only: {}; nothing is shifted",
            state.readonly_why()
        ));
    }
    if let Some(run) = &state.edits.shift {
        return Err(format!(
            "a shift of {} is running: A aborts it",
            run.shift.plan.service
        ));
    }
    if reads_envoys && state.planes.proxies.is_empty() {
        return Err("a shift's gates read each Envoy's per-host counters: start the console with --envoy-admin NAME=HOST:PORT (the demo has its Envoys)".into());
    }
    Ok(service.clone())
}

/// `:shift rollback` / `:shift resume`: the plan kept for the service on screen (another
/// console's, or one whose console stopped) is taken over and rolled back or carried on.
fn take(state: &mut State, rollback: bool) -> Vec<Cmd> {
    let service = match may_shift(
        state,
        "on a service's Endpoints: :shift rollback puts back the weights of the shift kept for it, :shift resume carries on one whose console stopped",
        !rollback,
    ) {
        Ok(s) => s,
        Err(why) => return refuse(state, why),
    };
    state.ui.status = Some((
        Level::Info,
        format!("taking over the shift kept for {service}…"),
    ));
    vec![Cmd::ShiftPlan(PlanOp::Take {
        service,
        owner: state.setup.who.owner(),
        by: state.setup.who.user.clone(),
        rollback,
    })]
}

pub fn toggle_pause(state: &mut State) {
    let Some(run) = state.edits.shift.as_mut() else {
        state.ui.status = Some((
            Level::Error,
            "no shift is running (:shift starts one)".into(),
        ));
        return;
    };
    let now = Instant::now();
    if run.shift.is_paused() {
        run.shift.resume(now);
    } else {
        run.shift.pause(now);
    }
    run.line = line(&run.shift, now);
}

pub fn abort(state: &mut State, why: &str) -> Vec<Cmd> {
    let Some(run) = state.edits.shift.as_mut() else {
        state.ui.status = Some((
            Level::Error,
            "no shift is running (:shift starts one)".into(),
        ));
        return Vec::new();
    };
    if !run.kept {
        // Nothing written yet: the plan's answer finds no shift and removes it.
        let op = PlanOp::Remove {
            service: run.shift.plan.service_key(),
            owner: run.owner.clone(),
        };
        state.edits.shift = None;
        state.ui.status = Some((Level::Info, format!("shift {why}: nothing was written")));
        return vec![Cmd::ShiftPlan(op)];
    }
    run.shift.abort(why);
    run.line = line(&run.shift, Instant::now());
    state.ui.status = Some((
        Level::Info,
        format!("shift {why}: putting the weights back as they were"),
    ));
    drive(state)
}

fn line(shift: &Shift, now: Instant) -> String {
    format!("shift (P pause, A abort) {}", shift.status(now))
}

/// What every Envoy the console reads says now about the service's endpoints.
fn reading(state: &State, plan: &Plan) -> Option<Reading> {
    let (to, others) = hosts(&state.registry.store, plan);
    let p99 = match plan.gates.max_p99_ms {
        Some(_) => latest_p99(state, &to),
        None => BTreeMap::new(),
    };
    let r = Reading::from_proxies(state.planes.proxies.values(), &to, &others, &p99);
    (!r.proxies.is_empty()).then_some(r)
}

/// A p99 older than this (seconds) is not what the step does now.
const P99_FRESH_SECS: u64 = 5;

/// Per Envoy, the worst fresh p99 of the service's clusters (Envoy keeps no per-host
/// latency: the cluster's covers every endpoint's requests).
fn latest_p99<H>(state: &State, pairs: &[(String, H)]) -> BTreeMap<String, f64> {
    use crate::model::planes::stats::Metric;
    let now_s = crate::model::planes::data::unix_ms(SystemTime::now()) / 1000;
    let clusters: std::collections::BTreeSet<&str> =
        pairs.iter().map(|(c, _)| c.as_str()).collect();
    let mut out = BTreeMap::new();
    for (proxy, stats) in &state.planes.stats {
        let worst = clusters
            .iter()
            .filter_map(|c| stats.clusters.get(*c))
            .filter_map(|series| series.get(Metric::P99).last())
            .filter(|(second, _)| now_s.saturating_sub(*second) <= P99_FRESH_SECS)
            .map(|(_, v)| v)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.max(v)))
            });
        if let Some(v) = worst {
            out.insert(proxy.clone(), v);
        }
    }
    out
}

/// The clusters whose stats a running shift's p99 gate reads (none without a p99 limit).
pub fn gated_clusters(state: &State) -> Vec<String> {
    let Some(run) = state.edits.shift.as_ref() else {
        return Vec::new();
    };
    if run.shift.plan.gates.max_p99_ms.is_none() {
        return Vec::new();
    }
    let (to, _) = hosts(&state.registry.store, &run.shift.plan);
    let mut clusters: Vec<String> = to.into_iter().map(|(c, _)| c).collect();
    clusters.sort();
    clusters.dedup();
    clusters
}

fn weight_now(state: &State, source: &EndpointSource) -> Option<u32> {
    match (
        state
            .registry
            .store
            .get(&source_key(source))
            .map(|e| &e.object),
        source,
    ) {
        (Some(Object::WorkloadEntry(we)), _) => we.spec.weight,
        (Some(Object::ServiceEntry(se)), EndpointSource::ServiceEntry { index, .. }) => {
            se.spec.endpoints.get(*index).and_then(|e| e.weight)
        }
        _ => None,
    }
}

/// Writes the weights the shift wants, once the last ones are in the store; finishes it.
fn drive(state: &mut State) -> Vec<Cmd> {
    let Some(run) = state.edits.shift.as_ref() else {
        return Vec::new();
    };
    if !run.kept || run.request.is_some() {
        return Vec::new();
    }
    if run.shift.is_finished() {
        return finish(state);
    }
    let Some(weights) = run.shift.wanted() else {
        return Vec::new();
    };
    if let Some((at, written)) = &run.written
        && at.elapsed() < SEEN_WITHIN
        && written.iter().any(|(s, w)| weight_now(state, s) != *w)
    {
        return Vec::new();
    }
    let cluster = state.on_cluster();
    match step_edits(&state.registry.store, &run.shift.plan, &weights, cluster) {
        Err(e) => {
            let run = state.edits.shift.as_mut().expect("checked");
            run.shift.apply_failed(e);
            drive(state)
        }
        Ok(edits) if edits.is_empty() => {
            let r = reading(state, &run.shift.plan).unwrap_or_default();
            let run = state.edits.shift.as_mut().expect("checked");
            let now = Instant::now();
            run.shift.applied(&r, now);
            run.line = line(&run.shift, now);
            drive(state)
        }
        Ok(edits) => {
            let written: Vec<(EndpointSource, Option<u32>)> = edits
                .iter()
                .filter_map(|e| match e.change {
                    crate::model::edit::Change::Weight { to, .. } => {
                        Some((e.target.clone(), Some(to)))
                    }
                    crate::model::edit::Change::UnsetWeight { .. } => {
                        Some((e.target.clone(), None))
                    }
                    _ => None,
                })
                .collect();
            let id = state.edits.next_request;
            let cmds = edit::send(state, edits, false);
            let run = state.edits.shift.as_mut().expect("checked");
            run.request = Some(id);
            run.written = Some((Instant::now(), written));
            cmds
        }
    }
}

/// Whether request `id` is the shift's write (its answer goes to `on_applied`, not to undo).
pub fn owns_request(state: &State, id: u64) -> bool {
    state
        .edits
        .shift
        .as_ref()
        .is_some_and(|r| r.request == Some(id))
}

pub fn on_applied(state: &mut State, id: u64, result: Result<(), String>) -> Vec<Cmd> {
    if !owns_request(state, id) {
        return Vec::new();
    }
    let plan = state
        .edits
        .shift
        .as_ref()
        .expect("checked")
        .shift
        .plan
        .clone();
    let r = reading(state, &plan).unwrap_or_default();
    let run = state.edits.shift.as_mut().expect("checked");
    run.request = None;
    let now = Instant::now();
    match result {
        Ok(()) => run.shift.applied(&r, now),
        Err(e) => {
            run.written = None;
            run.shift.apply_failed(e);
        }
    }
    run.line = line(&run.shift, now);
    let mut cmds = beat(state);
    cmds.extend(drive(state));
    cmds
}

fn beat(state: &mut State) -> Vec<Cmd> {
    let Some(run) = state.edits.shift.as_mut().filter(|r| r.kept) else {
        return Vec::new();
    };
    run.last_beat = Instant::now();
    run.shift.plan.touch(SystemTime::now());
    vec![Cmd::ShiftPlan(PlanOp::Save {
        plan: run.shift.plan.clone(),
        owner: run.owner.clone(),
    })]
}

/// The gates read each new poll of the Envoys (and, without one for a second, that nobody
/// answered); every 15 s the plan is refreshed. True when the shift's line changed.
pub fn tick(state: &mut State) -> (bool, Vec<Cmd>) {
    let Some(run) = state.edits.shift.as_ref().filter(|r| r.kept) else {
        return (false, Vec::new());
    };
    let now = Instant::now();
    let mut changed = false;
    let mut turned_back = None;
    let newest = state
        .planes
        .proxies
        .values()
        .filter(|p| !p.is_stale())
        .filter_map(|p| p.fetched_at)
        .max();
    let fresh = newest.is_some() && newest != run.seen;
    if matches!(run.shift.phase, Phase::Holding(_))
        && (fresh || now.duration_since(run.last_read) >= READ_EVERY)
    {
        let plan = run.shift.plan.clone();
        let r = if fresh { reading(state, &plan) } else { None };
        let run = state.edits.shift.as_mut().expect("checked");
        run.seen = newest;
        let before = run.shift.phase.clone();
        run.shift.observe(r.as_ref(), now);
        run.last_read = now;
        run.line = line(&run.shift, now);
        if run.shift.phase == Phase::RollingBack && before != Phase::RollingBack {
            turned_back = run.shift.outcome.as_ref().map(Outcome::describe);
        }
        changed = true;
    }
    let mut cmds = Vec::new();
    if state
        .edits
        .shift
        .as_ref()
        .is_some_and(|r| now.duration_since(r.last_beat) >= HEARTBEAT)
    {
        cmds.extend(beat(state));
    }
    let driven = drive(state);
    changed |= !driven.is_empty();
    cmds.extend(driven);
    // After the rollback's write, whose "applying" it replaces: why comes first.
    if let Some(why) = turned_back {
        state.ui.status = Some((Level::Error, format!("shift {why}: rolling back")));
    }
    (changed, cmds)
}

fn finish(state: &mut State) -> Vec<Cmd> {
    let Some(run) = state.edits.shift.take() else {
        return Vec::new();
    };
    let outcome = run.shift.outcome.clone().unwrap_or(Outcome::Done);
    let service = run.shift.plan.service.clone();
    let kept = outcome.leaves_plan();
    let (level, text) = match &outcome {
        Outcome::Done => (Level::Info, format!("shift of {service}: done")),
        Outcome::RolledBackOnRequest(_) => (
            Level::Info,
            format!("shift of {service} rolled back: the weights are as they were before it"),
        ),
        o if !kept => (
            Level::Error,
            format!(
                "shift of {service}: {}; the weights are back as they were before it",
                o.describe()
            ),
        ),
        o => (
            Level::Error,
            format!(
                "shift of {service}: {}; its plan stays for `meshdeck shift {service} --rollback`",
                o.describe()
            ),
        ),
    };
    state.ui.status = Some((level, text));
    if kept {
        let mut plan = run.shift.plan.clone();
        plan.why = Some(outcome.describe());
        vec![Cmd::ShiftPlan(PlanOp::Save {
            plan,
            owner: run.owner,
        })]
    } else {
        vec![Cmd::ShiftPlan(PlanOp::Remove {
            service: run.shift.plan.service_key(),
            owner: run.owner,
        })]
    }
}

pub fn on_plan(state: &mut State, op: PlanOp, answer: PlanAnswer) -> Vec<Cmd> {
    let ours = |s: &State, service: &ObjectKey| {
        s.edits
            .shift
            .as_ref()
            .is_some_and(|r| &r.shift.plan.service_key() == service)
    };
    let service = op.service();
    match (op, answer) {
        (PlanOp::Create(_), PlanAnswer::Done) if ours(state, &service) => {
            let run = state.edits.shift.as_mut().expect("checked");
            run.kept = true;
            run.line = line(&run.shift, Instant::now());
            state.ui.status = Some((
                Level::Info,
                format!("shift of {service}: plan kept; writing the first step"),
            ));
            drive(state)
        }
        // Aborted before its plan was kept: take the plan back.
        (PlanOp::Create(plan), PlanAnswer::Done) => vec![Cmd::ShiftPlan(PlanOp::Remove {
            service,
            owner: plan.owner,
        })],
        (PlanOp::Create(_), PlanAnswer::Held(h)) => {
            state.edits.shift = None;
            refuse(
                state,
                format!(
                    "{service} is already being shifted: {}; nothing was written",
                    h.describe(SystemTime::now())
                ),
            )
        }
        (PlanOp::Create(_), PlanAnswer::Failed(e)) => {
            if ours(state, &service) {
                state.edits.shift = None;
            }
            refuse(
                state,
                format!("the shift's plan could not be kept: {e}; nothing was written"),
            )
        }
        (PlanOp::Save { .. }, PlanAnswer::Failed(e)) if ours(state, &service) => {
            let run = state.edits.shift.take().expect("checked");
            refuse(
                state,
                format!(
                    "{e}; the weights stay as {} left them",
                    match run.shift.phase {
                        Phase::Applying(i) | Phase::Holding(i) => run.shift.plan.step_name(i),
                        _ => "the rollback".into(),
                    }
                ),
            )
        }
        (PlanOp::Take { owner, .. }, PlanAnswer::Taken(plan, was)) if !running(state) => {
            let now = Instant::now();
            let shift = Shift::new(*plan);
            state.ui.status = Some((Level::Info, format!("took over {was}")));
            state.edits.shift = Some(ShiftRun {
                line: line(&shift, now),
                shift,
                owner,
                kept: true,
                request: None,
                last_beat: now,
                last_read: now,
                seen: None,
                written: None,
                quits: 0,
            });
            drive(state)
        }
        (PlanOp::Take { .. }, PlanAnswer::Failed(e)) => refuse(state, e),
        (PlanOp::Remove { .. }, PlanAnswer::Failed(e)) => refuse(
            state,
            format!("the shift of {service} is over, but its plan could not be removed: {e}"),
        ),
        _ => Vec::new(),
    }
}
