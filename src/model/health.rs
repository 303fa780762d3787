//! Health of a workload as istiod judges it: with health checks enabled, only a `Healthy=True`
//! condition counts; istiod drops the others from EDS entirely.

use super::meta::Status;
use super::object::WorkloadEntry;
use serde::Serialize;

pub const HEALTH_CHECKS_ANNOTATION: &str = "proxy.istio.io/health-checks-enabled";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// No health checks: istiod sends it as healthy.
    Healthy,
    /// Health checks enabled and the probe reports Healthy=True.
    Probed,
    /// Health checks enabled and no Healthy=True condition: istiod does not send it.
    Unhealthy,
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        !matches!(self, Health::Unhealthy)
    }
    pub fn label(&self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Probed => "healthy(probe)",
            Health::Unhealthy => "UNHEALTHY",
        }
    }
}

pub fn health_checks_enabled(we: &WorkloadEntry) -> bool {
    we.metadata
        .annotations
        .get(HEALTH_CHECKS_ANNOTATION)
        .is_some_and(|v| v == "true")
}

pub fn of_workload_entry(we: &WorkloadEntry) -> Health {
    if !health_checks_enabled(we) {
        return Health::Healthy;
    }
    let healthy = we
        .status
        .as_ref()
        .and_then(|s: &Status| s.condition("Healthy"))
        .is_some_and(|c| c.status == "True");
    if healthy {
        Health::Probed
    } else {
        Health::Unhealthy
    }
}

/// Why an entry is unhealthy, in words, for the detail view.
pub fn reason(we: &WorkloadEntry) -> Option<String> {
    if of_workload_entry(we).is_healthy() {
        return None;
    }
    match we.status.as_ref().and_then(|s| s.condition("Healthy")) {
        Some(c) => Some(format!(
            "Healthy={} {}",
            c.status,
            c.message.as_deref().unwrap_or_default()
        )),
        None => Some("health checks enabled but no Healthy condition reported yet".into()),
    }
}
