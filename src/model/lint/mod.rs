//! The linter: rules with stable codes, each finding saying what is wrong and what to do.
//! Pure over the store; file and line are attached from the object's origin.

mod destination_rules;
mod finding;
mod groups;
mod services;
mod visibility;
mod workloads;

pub use finding::{Code, Finding, Severity};

use super::store::Store;

/// Lint with the default mesh config (everything exported, meshNetworks unknown).
pub fn run(store: &Store) -> Vec<Finding> {
    run_with(store, &super::visibility::Mesh::default())
}

pub fn run_with(store: &Store, mesh: &super::visibility::Mesh) -> Vec<Finding> {
    let mut out = Vec::new();
    visibility::check(store, mesh, &mut out);
    workloads::check(store, &mut out);
    services::check(store, &mut out);
    groups::check(store, &mut out);
    destination_rules::check(store, &mut out);
    out.sort_by(|a, b| {
        (b.severity, &a.namespace, &a.name, a.code).cmp(&(
            a.severity,
            &b.namespace,
            &b.name,
            b.code,
        ))
    });
    out
}

pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

#[cfg(test)]
mod tests;
