//! Asking the API server up front whether this user may patch each kind
//! (SelfSubjectAccessReview), so editing is off with a reason before anyone types a value.

use super::discovery::{GROUP, plural};
use crate::model::object::Kind;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Client;
use kube::api::{Api, PostParams};

/// Kinds this user may not patch, with the server's reason. An unanswered review is not a
/// denial: the patch itself will say.
pub async fn denied_patches(
    client: &Client,
    kinds: &[Kind],
    namespace: Option<&str>,
) -> Vec<(Kind, String)> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let mut out = Vec::new();
    for kind in kinds {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    group: Some(GROUP.into()),
                    resource: Some(plural(*kind).into()),
                    verb: Some("patch".into()),
                    namespace: namespace.map(String::from),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        match api.create(&PostParams::default(), &review).await {
            Ok(r) => {
                if let Some(status) = r.status
                    && !status.allowed
                {
                    let why = status
                        .reason
                        .filter(|r| !r.is_empty())
                        .unwrap_or_else(|| "RBAC does not allow patch".into());
                    out.push((*kind, why));
                }
            }
            Err(e) => tracing::debug!("access review for {kind}: {e}"),
        }
    }
    out
}

/// Who the API server says we are (SelfSubjectReview), for the audit trail; falls back to the
/// local user name when the server cannot say.
pub async fn whoami(client: &Client) -> String {
    use k8s_openapi::api::authentication::v1::SelfSubjectReview;
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    match api
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
    {
        Ok(r) => r
            .status
            .and_then(|s| s.user_info)
            .and_then(|u| u.username)
            .unwrap_or_else(super::audit::who),
        Err(e) => {
            tracing::debug!("SelfSubjectReview: {e}");
            super::audit::who()
        }
    }
}
