//! The little of a Pod that matters here: a ServiceEntry's workloadSelector selects pods in
//! its namespace as well as WorkloadEntries, and they are endpoints of the service.

use super::meta::Labels;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pod {
    pub cluster: super::cluster::Cluster,
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub ip: Option<String>,
    /// The Ready condition: istiod sends only ready pods.
    pub ready: bool,
}
