//! WorkloadEntry: one non-Kubernetes workload (a VM, a bare-metal host). Also the shape of a
//! ServiceEntry inline endpoint and of a WorkloadGroup template.

use super::meta::{Extra, Labels};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadEntrySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Port name (as in the ServiceEntry) to the port this workload listens on.
    #[serde(default, skip_serializing_if = "super::meta::is_empty")]
    pub ports: super::small_map::SmallMap<String, u32>,
    #[serde(default, skip_serializing_if = "super::meta::is_empty")]
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}
