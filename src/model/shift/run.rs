//! The shift as a state machine, driven by whoever runs it (the headless command, the
//! console): it says which weights to write, is told when they are in place, and is fed rounds
//! of readings; the clock is the caller's, so tests hold steps without waiting.

use super::gate::{Gate, Reading, Verdict};
use super::plan::{Plan, PlanState};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Step i's weights are being written and followed through the planes.
    Applying(usize),
    /// Step i is in place and held while the gates read the data plane.
    Holding(usize),
    /// The weights from before the shift are being written.
    RollingBack,
    Finished,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every step held: the last step's weights stay.
    Done,
    GateFailed(String),
    /// The user stopped it (abort, esc, ctrl-c).
    Aborted(String),
    /// A write was refused or the plan was lost: rolled back where it could be.
    Failed(String),
    /// Someone took the plan over to roll it back (`--rollback`, `:shift rollback`): what was
    /// asked, so a success.
    RolledBackOnRequest(String),
    /// The rollback's own write was refused: the plan stays for a later rollback.
    RollbackFailed(String),
}

impl Outcome {
    /// For scripts: 0 done, 3 rolled back by a gate, 4 aborted, 1 failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Done => 0,
            Outcome::GateFailed(_) => 3,
            Outcome::Aborted(_) => 4,
            Outcome::Failed(_) | Outcome::RollbackFailed(_) => 1,
            Outcome::RolledBackOnRequest(_) => 0,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Outcome::Done => "done".into(),
            Outcome::GateFailed(why) => format!("gate failed: {why}"),
            Outcome::Aborted(why) => format!("aborted: {why}"),
            Outcome::Failed(why) | Outcome::RollbackFailed(why) => format!("failed: {why}"),
            Outcome::RolledBackOnRequest(why) => why.clone(),
        }
    }

    /// The weights could not all be put back: the plan must stay where it is kept.
    pub fn leaves_plan(&self) -> bool {
        matches!(self, Outcome::RollbackFailed(_))
    }
}

#[derive(Debug, Clone)]
pub struct Shift {
    pub plan: Plan,
    pub phase: Phase,
    /// Decided once: why it is rolling back, or that it is done.
    pub outcome: Option<Outcome>,
    gate: Option<Gate>,
    /// Hold time of the current step before the last pause.
    held: Duration,
    /// When the hold clock last started; None while paused or not holding.
    running_since: Option<Instant>,
}

impl Shift {
    /// A new plan starts at its first step; a plan left by another console starts again at the
    /// step it had written (its weights are written again, then held in full).
    pub fn new(plan: Plan) -> Shift {
        let first = plan.step.unwrap_or(0);
        let rolling_back = plan.state == PlanState::RollingBack;
        let why = plan.why.clone();
        let mut s = Shift {
            plan,
            phase: Phase::Applying(first),
            outcome: None,
            gate: None,
            held: Duration::ZERO,
            running_since: None,
        };
        if rolling_back {
            s.roll_back(match why {
                Some(w) if w.starts_with(super::plan::TAKEN_TO_ROLL_BACK) => {
                    Outcome::RolledBackOnRequest(w)
                }
                Some(w) => Outcome::Failed(w),
                None => Outcome::Failed("its console stopped while rolling back".into()),
            });
        }
        s
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    pub fn is_paused(&self) -> bool {
        self.plan.state == PlanState::Paused
    }

    /// The weights to write now, one per member of the plan (None: unset, as before).
    pub fn wanted(&self) -> Option<Vec<Option<u32>>> {
        match self.phase {
            Phase::Applying(i) => Some(self.plan.weights_at(i).into_iter().map(Some).collect()),
            Phase::RollingBack => Some(self.plan.start_weights()),
            Phase::Holding(_) | Phase::Finished => None,
        }
    }

    /// The wanted weights are written (and followed, where the planes are read): a step starts
    /// its hold from `reading`, a rollback is over.
    pub fn applied(&mut self, reading: &Reading, at: Instant) {
        match self.phase {
            Phase::Applying(i) => {
                self.plan.step = Some(i);
                self.phase = Phase::Holding(i);
                self.gate = Some(Gate::new(self.plan.gates.clone(), reading, at));
                self.held = Duration::ZERO;
                self.running_since = (!self.is_paused()).then_some(at);
            }
            Phase::RollingBack => self.phase = Phase::Finished,
            Phase::Holding(_) | Phase::Finished => {}
        }
    }

    /// A write was refused: a step's rolls back; a rollback's ends the shift (the plan says
    /// where it stopped, for `--rollback` later).
    pub fn apply_failed(&mut self, why: String) {
        match self.phase {
            Phase::Applying(i) => self.roll_back(Outcome::Failed(format!(
                "{} could not be written: {why}",
                self.plan.step_name(i)
            ))),
            Phase::RollingBack => {
                self.outcome = Some(Outcome::RollbackFailed(format!(
                    "{}; the rollback could not be written: {why}",
                    self.outcome
                        .as_ref()
                        .map_or("rollback".into(), Outcome::describe)
                )));
                self.phase = Phase::Finished;
            }
            _ => {}
        }
    }

    fn roll_back(&mut self, why: Outcome) {
        self.plan.state = PlanState::RollingBack;
        self.plan.why = Some(why.describe());
        self.outcome = Some(why);
        self.phase = Phase::RollingBack;
        // The gate stays: what it counted says why.
        self.running_since = None;
    }

    /// How long the current step has been held (paused time not counted).
    pub fn held(&self, at: Instant) -> Duration {
        self.held
            + self
                .running_since
                .map_or(Duration::ZERO, |s| at.duration_since(s))
    }

    /// A round of readings (None: no Envoy answered). Gates read even while paused: a
    /// failing endpoint is rolled back whatever the clock.
    pub fn observe(&mut self, reading: Option<&Reading>, at: Instant) {
        let Phase::Holding(i) = self.phase else {
            return;
        };
        let Some(gate) = self.gate.as_mut() else {
            return;
        };
        let verdict = gate.observe(reading, at);
        if let Verdict::Fail(why) = verdict {
            return self.roll_back(Outcome::GateFailed(format!(
                "{}: {why}",
                self.plan.step_name(i)
            )));
        }
        if self.is_paused() {
            return;
        }
        let held = self.held(at);
        let Some(gate) = self.gate.as_ref() else {
            return;
        };
        match gate.at_end(held, self.plan.hold()) {
            Verdict::Pass if i + 1 < self.plan.steps.len() => {
                self.phase = Phase::Applying(i + 1);
                self.running_since = None;
            }
            Verdict::Pass => {
                self.outcome = Some(Outcome::Done);
                self.phase = Phase::Finished;
                self.running_since = None;
            }
            Verdict::Fail(why) => self.roll_back(Outcome::GateFailed(format!(
                "{}: {why}",
                self.plan.step_name(i)
            ))),
            Verdict::Undecided => {}
        }
    }

    pub fn pause(&mut self, at: Instant) {
        if self.is_finished() || self.phase == Phase::RollingBack || self.is_paused() {
            return;
        }
        self.held = self.held(at);
        self.running_since = None;
        self.plan.state = PlanState::Paused;
    }

    pub fn resume(&mut self, at: Instant) {
        if !self.is_paused() {
            return;
        }
        self.plan.state = PlanState::Running;
        if matches!(self.phase, Phase::Holding(_)) {
            self.running_since = Some(at);
        }
    }

    /// The user stops it: back to the weights it started from.
    pub fn abort(&mut self, why: &str) {
        if !self.is_finished() && self.phase != Phase::RollingBack {
            self.roll_back(Outcome::Aborted(why.into()));
        }
    }

    /// What the current (or last) step's gate counted of the shifted endpoints.
    pub fn gate_counts(&self) -> Option<super::Counts> {
        self.gate.as_ref().map(Gate::targets)
    }

    /// One line: where it is and what the gates read.
    pub fn status(&self, at: Instant) -> String {
        let step = |i: usize| self.plan.step_name(i);
        let paused = if self.is_paused() { " · paused" } else { "" };
        match &self.phase {
            Phase::Applying(i) => format!("{}: writing the weights{paused}", step(*i)),
            Phase::Holding(i) => format!(
                "{}: held {}s of {}s{paused} · {}",
                step(*i),
                self.held(at).as_secs(),
                self.plan.hold_secs,
                self.gate.as_ref().map_or(String::new(), Gate::describe)
            ),
            Phase::RollingBack => format!(
                "rolling back to the weights before the shift: {}",
                self.outcome
                    .as_ref()
                    .map_or(String::new(), Outcome::describe)
            ),
            Phase::Finished => self
                .outcome
                .as_ref()
                .map_or("finished".into(), Outcome::describe),
        }
    }
}
