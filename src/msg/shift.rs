//! What the console asks of the place a shift's plan is kept (`io/shift_plan.rs`, carried out
//! by the task that owns the source), and what comes back.

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
    /// Take over the plan kept for `service`, to roll it back or (a quiet one) to resume it.
    Take {
        service: ObjectKey,
        owner: String,
        by: String,
        rollback: bool,
    },
}

impl PlanOp {
    pub fn service(&self) -> ObjectKey {
        match self {
            PlanOp::Create(p) | PlanOp::Save { plan: p, .. } => p.service_key(),
            PlanOp::Remove { service, .. } | PlanOp::Take { service, .. } => service.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PlanAnswer {
    Done,
    /// Create: another console's plan is there.
    Held(Box<Plan>),
    /// Take: the plan as now kept, and whose it was, in words.
    Taken(Box<Plan>, String),
    Failed(String),
}
