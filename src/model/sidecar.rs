//! Sidecar: kept whole; meshdeck shows it and lists it but does not interpret its egress rules yet.

use super::meta::Extra;
use super::service_entry::WorkloadSelector;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SidecarSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_selector: Option<WorkloadSelector>,
    #[serde(flatten)]
    pub extra: Extra,
}
