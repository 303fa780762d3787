//! Writing edits through the Kubernetes API: server-side apply with field manager `meshdeck`,
//! never forced unless the user confirmed it, after a server dry run so that 422 causes come
//! back for the form; updates that cannot be field-owned (undo, inline endpoints) carry the
//! resourceVersion they were based on, so a stale one is a conflict, never an overwrite.

use super::watch::api_resource;
use crate::io::source::{Applied, ApplyError, Change, FieldEdit, FieldError, Source, WriteMode};
use crate::model::endpoint::EndpointSource;
use crate::model::object::Kind;
use kube::Client;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const FIELD_MANAGER: &str = "meshdeck";

pub struct KubeSource {
    pub client: Client,
    pub versions: BTreeMap<Kind, String>,
    pub readonly: bool,
    pub label: String,
    pub context: String,
    /// Who the API server says we are, for Events and the audit log.
    pub user: String,
    /// Where each applied edit is logged (JSON lines); None: nowhere.
    pub audit_log: Option<std::path::PathBuf>,
    /// Only the server-side dry run (`meshdeck set --dry-run`).
    pub dry_run: bool,
}

fn value(change: &Change) -> (&'static str, Value) {
    match change {
        Change::Weight { to, .. } => ("weight", json!(to)),
        Change::UnsetWeight { .. } => ("weight", Value::Null),
        Change::Locality { to, .. } if to.is_empty() => ("locality", Value::Null),
        Change::Locality { to, .. } => ("locality", json!(to)),
        // Written by `rotation.rs`, never as one spec field.
        Change::Drain { .. } | Change::Restore { .. } => ("", Value::Null),
    }
}

/// A 409, 422 or 403 from the server, in the terms the edit form shows.
pub(crate) fn classify(e: kube::Error, object: &str) -> ApplyError {
    let kube::Error::Api(s) = e else {
        return ApplyError::Failed(format!("{object}: {e}"));
    };
    let causes = s
        .details
        .as_ref()
        .map(|d| d.causes.clone())
        .unwrap_or_default();
    match s.code {
        409 if causes.iter().any(|c| c.reason == "FieldManagerConflict") => {
            let c = causes
                .iter()
                .find(|c| c.reason == "FieldManagerConflict")
                .expect("checked");
            let manager = c
                .message
                .split('"')
                .nth(1)
                .unwrap_or("another manager")
                .to_string();
            ApplyError::Owned {
                object: object.into(),
                field: c.field.trim_start_matches('.').into(),
                manager,
            }
        }
        409 => ApplyError::Conflict {
            object: object.into(),
            message: s.message,
        },
        422 => ApplyError::Invalid(
            causes
                .into_iter()
                .filter(|c| c.field != "<nil>")
                .map(|c| FieldError {
                    field: c.field,
                    message: c.message,
                })
                .collect(),
        ),
        403 => ApplyError::Forbidden(s.message),
        _ => ApplyError::Failed(format!("{object}: {}", s.message)),
    }
}

pub(super) type Written = (Option<String>, Option<String>);

impl KubeSource {
    /// A JSON merge patch carrying the resourceVersion it is based on: dry run, then for real
    /// (unless this source only dry-runs).
    async fn guarded_merge(
        &self,
        api: &Api<DynamicObject>,
        name: &str,
        patch: &Value,
        object: &str,
    ) -> Result<Written, ApplyError> {
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        let tried = api
            .patch(name, &params.clone().dry_run(), &Patch::Merge(patch))
            .await
            .map_err(|err| classify(err, object))?;
        if self.dry_run {
            return Ok((tried.metadata.resource_version, None));
        }
        let stored = api
            .patch(name, &params, &Patch::Merge(patch))
            .await
            .map_err(|err| classify(err, object))?;
        Ok((stored.metadata.resource_version, stored.metadata.uid))
    }

    pub(crate) fn api(&self, kind: Kind, ns: &str) -> Result<Api<DynamicObject>, ApplyError> {
        let version = self
            .versions
            .get(&kind)
            .ok_or_else(|| ApplyError::Failed(format!("{kind} is not served by this cluster")))?;
        Ok(Api::namespaced_with(
            self.client.clone(),
            ns,
            &api_resource(kind, version),
        ))
    }

    async fn one(&self, e: &FieldEdit) -> Result<Written, ApplyError> {
        if e.change.is_rotation() {
            return super::rotation::write(self, e).await;
        }
        let object = e.object().to_string();
        let (field, v) = value(&e.change);
        match (&e.target, e.mode) {
            (EndpointSource::Pod { .. }, _) => Err(ApplyError::Failed(format!(
                "{object} is a pod: change its Deployment, meshdeck edits WorkloadEntries and ServiceEntry endpoints"
            ))),
            (
                EndpointSource::WorkloadEntry {
                    namespace, name, ..
                },
                WriteMode::Apply | WriteMode::ForceApply,
            ) => {
                let api = self.api(Kind::WorkloadEntry, namespace)?;
                let version = self
                    .versions
                    .get(&Kind::WorkloadEntry)
                    .cloned()
                    .unwrap_or_default();
                let body = json!({
                    "apiVersion": format!("networking.istio.io/{version}"),
                    "kind": "WorkloadEntry",
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {field: v},
                });
                let mut params = PatchParams::apply(FIELD_MANAGER);
                if e.mode == WriteMode::ForceApply {
                    params = params.force();
                }
                let tried = api
                    .patch(name, &params.clone().dry_run(), &Patch::Apply(&body))
                    .await
                    .map_err(|err| classify(err, &object))?;
                if self.dry_run {
                    return Ok((tried.metadata.resource_version, None));
                }
                let stored = api
                    .patch(name, &params, &Patch::Apply(&body))
                    .await
                    .map_err(|err| classify(err, &object))?;
                Ok((stored.metadata.resource_version, stored.metadata.uid))
            }
            (
                EndpointSource::WorkloadEntry {
                    namespace, name, ..
                },
                WriteMode::Precondition,
            ) => {
                let api = self.api(Kind::WorkloadEntry, namespace)?;
                let patch =
                    json!({"metadata": {"resourceVersion": e.revision}, "spec": {field: v}});
                self.guarded_merge(&api, name, &patch, &object).await
            }
            // Inline endpoints live in a list without merge keys: rewrite the list, guarded by
            // the resourceVersion the user saw.
            (
                EndpointSource::ServiceEntry {
                    namespace,
                    name,
                    index,
                    ..
                },
                _,
            ) => {
                let api = self.api(Kind::ServiceEntry, namespace)?;
                let current = api.get(name).await.map_err(|err| classify(err, &object))?;
                if e.revision.is_some() && current.metadata.resource_version != e.revision {
                    return Err(ApplyError::Conflict {
                        object,
                        message:
                            "it changed since it was read; check the new values and edit again"
                                .into(),
                    });
                }
                let mut endpoints = current.data["spec"]["endpoints"].clone();
                let Some(ep) = endpoints.get_mut(*index) else {
                    return Err(ApplyError::Conflict {
                        object,
                        message: format!("endpoint [{index}] is gone"),
                    });
                };
                // A null inside a list a merge patch replaces would be stored: the key goes.
                match (v.is_null(), ep.as_object_mut()) {
                    (true, Some(o)) => {
                        o.remove(field);
                    }
                    _ => ep[field] = v,
                }
                let patch = json!({"metadata": {"resourceVersion": current.metadata.resource_version}, "spec": {"endpoints": endpoints}});
                self.guarded_merge(&api, name, &patch, &object).await
            }
        }
    }
}

impl Source for KubeSource {
    fn plan_lock(
        &self,
        service: &crate::model::object::ObjectKey,
    ) -> Result<crate::io::shift_plan::PlanLock, String> {
        crate::io::shift_plan::PlanLock::for_cluster(self, service)
    }

    fn describe(&self) -> String {
        self.label.clone()
    }

    /// Edits go one by one after each one's dry run; the first refusal stops the rest and says
    /// which object it was (the ones before it are applied and listed in the log).
    async fn apply(&mut self, edits: Vec<FieldEdit>) -> Result<Vec<Applied>, ApplyError> {
        if self.readonly {
            return Err(ApplyError::ReadOnly);
        }
        let mut done = Vec::new();
        for e in edits {
            let (written, warnings) = super::warnings::collect(self.one(&e)).await;
            let (revision, uid) = written?;
            if self.dry_run {
                done.push(Applied {
                    edit: e,
                    revision,
                    warnings,
                });
                continue;
            }
            tracing::info!("applied {}", e.describe());
            if let Some(log) = &self.audit_log
                && let Err(err) = super::audit::append(
                    log,
                    &self.user,
                    &self.context,
                    &e,
                    revision.as_deref(),
                    &warnings,
                )
            {
                tracing::warn!("audit log {}: {err}", log.display());
            }
            let kind = e.object().kind;
            let api_version = format!(
                "networking.istio.io/{}",
                self.versions.get(&kind).cloned().unwrap_or_default()
            );
            if let Err(err) = super::audit::event(
                &self.client,
                &self.user,
                &api_version,
                &self.context,
                &e,
                uid,
            )
            .await
            {
                tracing::warn!("could not record an Event for {}: {err}", e.object());
            }
            done.push(Applied {
                edit: e,
                revision,
                warnings,
            });
        }
        Ok(done)
    }
}
