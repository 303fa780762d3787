//! Which of the Istio kinds the server serves, and in which version: v1 first, then v1beta1,
//! then v1alpha3. A kind that is not installed is reported as such, not as an error.

use crate::model::object::Kind;
use kube::Client;
use kube::discovery::{ApiGroup, Discovery};

pub const GROUP: &str = "networking.istio.io";
pub const PREFERENCE: [&str; 3] = ["v1", "v1beta1", "v1alpha3"];

pub fn plural(kind: Kind) -> &'static str {
    match kind {
        Kind::ServiceEntry => "serviceentries",
        Kind::WorkloadEntry => "workloadentries",
        Kind::WorkloadGroup => "workloadgroups",
        Kind::DestinationRule => "destinationrules",
        Kind::Sidecar => "sidecars",
        Kind::Pod => "pods",
    }
}

/// The version to use for each kind, None when the kind is not served at all.
pub async fn versions(client: &Client) -> anyhow::Result<Vec<(Kind, Option<String>)>> {
    let discovery = Discovery::new(client.clone())
        .filter(&[GROUP])
        .run()
        .await?;
    let group: Option<&ApiGroup> = discovery.groups().find(|g| g.name() == GROUP);
    Ok(Kind::ALL
        .iter()
        .map(|k| {
            let version = group.and_then(|g| {
                PREFERENCE.iter().find_map(|v| {
                    g.versioned_resources(v)
                        .iter()
                        .any(|(ar, _)| ar.kind == k.as_str())
                        .then(|| v.to_string())
                })
            });
            (*k, version)
        })
        .collect())
}
