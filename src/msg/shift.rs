//! What the console asks of the place a shift's plan is kept (`io/shift_plan.rs`), through the
//! task that owns the source, and what comes back.

use crate::model::object::ObjectKey;
use crate::model::shift::Plan;

#[derive(Debug, Clone, PartialEq)]
pub enum PlanOp {
    /// Keep a new plan, unless one is there.
    Create(Plan),
    /// Write it over the one kept, which must be `owner`'s.
    Save {
        plan: Plan,
        owner: String,
    },
    Remove {
        service: ObjectKey,
        owner: String,
    },
}

impl PlanOp {
    pub fn service(&self) -> ObjectKey {
        match self {
            PlanOp::Create(p) | PlanOp::Save { plan: p, .. } => p.service_key(),
            PlanOp::Remove { service, .. } => service.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlanAnswer {
    Done,
    /// Create: another console's plan is there.
    Held(Box<Plan>),
    Failed(String),
}

/// Carries one operation out on `lock`.
pub async fn carry_out(lock: &crate::io::shift_plan::PlanLock, op: PlanOp) -> PlanAnswer {
    use crate::io::shift_plan::Refused;
    let done = |r: Result<(), String>| r.map_or_else(PlanAnswer::Failed, |()| PlanAnswer::Done);
    match op {
        PlanOp::Create(plan) => match lock.create(&plan).await {
            Ok(()) => PlanAnswer::Done,
            Err(Refused::Held(h)) => PlanAnswer::Held(h),
            Err(Refused::Failed(e)) => PlanAnswer::Failed(e),
        },
        PlanOp::Save { plan, owner } => done(lock.save(&plan, Some(&owner)).await),
        PlanOp::Remove { owner, .. } => done(lock.remove(&owner).await),
    }
}
