//! Sidecar: the egress hosts of a namespace's (or a workload's) Sidecar decide which
//! services its proxies get; the rest is kept whole.

use super::meta::Extra;
use super::service_entry::WorkloadSelector;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressListener>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressListener {
    /// `namespace/host` entries: `*`, `.` (the Sidecar's namespace) or `~` (none) for the
    /// namespace; a name, `*` or `*.suffix` for the host.
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
