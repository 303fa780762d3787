//! Drain and restore against the API server. Istio's CRDs have a status subresource, so a drain
//! is two writes: the Healthy condition through `/status`, and the annotations on the object.
//! Both are dry-run first, so a missing permission on either refuses the drain before anything
//! is written; each real write carries the resourceVersion it is based on. If the second write
//! fails, the first is put back.

use super::apply::{FIELD_MANAGER, KubeSource, Written, classify};
use crate::io::source::{ApplyError, Change, FieldEdit};
use crate::model::drain::{DRAINED_ANNOTATION, DrainRecord};
use crate::model::endpoint::EndpointSource;
use crate::model::health::HEALTH_CHECKS_ANNOTATION;
use crate::model::meta::Condition;
use crate::model::object::Kind;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Object,
    Status,
}

struct Entry<'a> {
    api: Api<DynamicObject>,
    name: &'a str,
    object: String,
    dry_run: bool,
}

impl Entry<'_> {
    async fn patch(&self, part: Part, body: &Value, dry_run: bool) -> Result<Written, ApplyError> {
        let mut params = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..Default::default()
        };
        if dry_run {
            params = params.dry_run();
        }
        let patch = Patch::Merge(body);
        let done = match part {
            Part::Object => self.api.patch(self.name, &params, &patch).await,
            Part::Status => self.api.patch_status(self.name, &params, &patch).await,
        };
        let stored = done.map_err(|e| match (part, classify(e, &self.object)) {
            (Part::Status, ApplyError::Forbidden(m)) => ApplyError::Forbidden(format!(
                "{m}: drain and restore write the status subresource, so the role needs \
                 patch on workloadentries/status in networking.istio.io"
            )),
            (_, other) => other,
        })?;
        Ok((stored.metadata.resource_version, stored.metadata.uid))
    }

    /// Both writes tried, then made: `first` at `rv`, `second` at the version `first` left.
    async fn write_two(
        &self,
        first: (Part, Value),
        second: Option<(Part, Value)>,
        undo_first: Value,
        rv: Option<String>,
    ) -> Result<Written, ApplyError> {
        let at = |mut body: Value, rv: &Option<String>| {
            body["metadata"]["resourceVersion"] = json!(rv);
            body
        };
        self.patch(first.0, &at(first.1.clone(), &rv), true).await?;
        if let Some((part, body)) = &second {
            self.patch(*part, &at(body.clone(), &rv), true).await?;
        }
        if self.dry_run {
            return Ok((rv, None));
        }
        let written = self.patch(first.0, &at(first.1, &rv), false).await?;
        let Some((part, body)) = second else {
            return Ok(written);
        };
        match self.patch(part, &at(body, &written.0), false).await {
            Ok(w) => Ok(w),
            Err(e) => {
                if let Err(undo) = self
                    .patch(first.0, &at(undo_first, &written.0), false)
                    .await
                {
                    tracing::warn!(
                        "{}: could not take back the first write: {undo}",
                        self.object
                    );
                }
                Err(e)
            }
        }
    }
}

fn conditions(obj: &DynamicObject) -> Vec<Condition> {
    serde_json::from_value(obj.data["status"]["conditions"].clone()).unwrap_or_default()
}

/// The status with these conditions; none left and nothing else in status: no status at all,
/// as before a drain that found none.
fn status(obj: &DynamicObject, conditions: Vec<Condition>) -> Value {
    let others = obj.data["status"]
        .as_object()
        .is_some_and(|s| s.keys().any(|k| k != "conditions"));
    match (conditions.is_empty(), others) {
        (true, false) => json!({"status": null}),
        (true, true) => json!({"status": {"conditions": null}}),
        (false, _) => json!({"status": {"conditions": conditions}}),
    }
}

/// Writes a `Change::Drain` or `Change::Restore`.
pub async fn write(source: &KubeSource, e: &FieldEdit) -> Result<Written, ApplyError> {
    let object = e.object().to_string();
    let EndpointSource::WorkloadEntry {
        namespace, name, ..
    } = &e.target
    else {
        let why = crate::model::drain::entry_of(&e.target)
            .err()
            .map_or_else(String::new, |r| r.to_string());
        return Err(ApplyError::Failed(why));
    };
    let entry = Entry {
        api: source.api(Kind::WorkloadEntry, namespace)?,
        name,
        object: object.clone(),
        dry_run: source.dry_run,
    };
    let current = entry
        .api
        .get(name)
        .await
        .map_err(|err| classify(err, &object))?;
    let rv = current.metadata.resource_version.clone();
    if e.revision.is_some() && rv != e.revision {
        return Err(ApplyError::Conflict {
            object,
            message: "it changed since it was read; check it and try again".into(),
        });
    }
    let annotations = current.metadata.annotations.clone().unwrap_or_default();
    let now = conditions(&current);
    let on_object = annotations
        .get(DRAINED_ANNOTATION)
        .map(|t| serde_json::from_str::<DrainRecord>(t));
    match &e.change {
        Change::Drain { record } => {
            if let Some(r) = on_object {
                let by = r.map(|r| r.by).unwrap_or_else(|_| "someone".into());
                return Err(ApplyError::Conflict {
                    object,
                    message: format!("it is already drained (by {by})"),
                });
            }
            let meta = json!({"metadata": {"annotations": {
                HEALTH_CHECKS_ANNOTATION: "true",
                DRAINED_ANNOTATION: record.to_json(),
            }}});
            entry
                .write_two(
                    (
                        Part::Status,
                        status(&current, record.drained_conditions(&now)),
                    ),
                    Some((Part::Object, meta)),
                    status(&current, now),
                    rv,
                )
                .await
        }
        Change::Restore { .. } => {
            // The record on the object is the truth: it may come from another console.
            let record = match on_object {
                Some(Ok(r)) => r,
                Some(Err(err)) => {
                    return Err(ApplyError::Failed(format!(
                        "{object}: its {DRAINED_ANNOTATION} annotation does not read ({err})"
                    )));
                }
                None => {
                    return Err(ApplyError::Conflict {
                        object,
                        message: "it is not drained (restored already?)".into(),
                    });
                }
            };
            let mut put_back = serde_json::Map::new();
            put_back.insert(DRAINED_ANNOTATION.into(), Value::Null);
            let hc_now = annotations
                .get(HEALTH_CHECKS_ANNOTATION)
                .map(String::as_str);
            if record.annotation_changed() && hc_now == Some("true") {
                put_back.insert(
                    HEALTH_CHECKS_ANNOTATION.into(),
                    record
                        .annotation_before
                        .clone()
                        .map_or(Value::Null, Value::String),
                );
            }
            let mut undo = serde_json::Map::new();
            for k in put_back.keys() {
                undo.insert(
                    k.clone(),
                    annotations
                        .get(k)
                        .cloned()
                        .map_or(Value::Null, Value::String),
                );
            }
            let meta = json!({"metadata": {"annotations": put_back}});
            let undo = json!({"metadata": {"annotations": undo}});
            // Someone else's Healthy condition (a probe since) is left as it is.
            let second = record
                .restored_conditions(&now)
                .map(|c| (Part::Status, status(&current, c)));
            entry
                .write_two((Part::Object, meta), second, undo, rv)
                .await
        }
        _ => unreachable!("only rotation changes come here"),
    }
}
