//! PATCH: JSON merge patches (with an optional resourceVersion precondition) and server-side
//! apply (field ownership per manager, conflicts, force, dryRun), validated as the CRD schema
//! validates weight and locality.

use super::cluster::{Cluster, Key, kind_of};
use super::status;
use serde_json::{Value, json};

/// RFC 7386.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// The leaf fields a patch sets, as `.spec.weight` paths (what managedFields tracks).
pub fn leaves(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, &format!("{prefix}.{k}"), out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.trim_start_matches('.')
        .split('.')
        .try_fold(v, |cur, k| cur.get(k))
}

/// The schema's checks for the fields meshdeck edits (and a WorkloadEntry's address).
pub fn validate(obj: &Value) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    let spec = &obj["spec"];
    if let Some(w) = spec.get("weight") {
        let bad = match w {
            Value::Number(n) if n.is_u64() => n.as_u64().is_some_and(|x| x > u32::MAX as u64).then(|| format!("Invalid value: {n}: spec.weight in body should be less than or equal to 4294967295")),
            Value::Number(n) if n.is_i64() => Some(format!("Invalid value: {n}: spec.weight in body should be greater than or equal to 0")),
            Value::Number(_) => Some("Invalid value: \"number\": spec.weight in body must be of type integer: \"number\"".to_string()),
            Value::String(_) => Some("Invalid value: \"string\": spec.weight in body must be of type integer: \"string\"".into()),
            _ => None,
        };
        if let Some(m) = bad {
            causes.push(("spec.weight".into(), m));
        }
    }
    if let Some(l) = spec.get("locality").and_then(|l| l.as_str())
        && l.len() > 2048
    {
        causes.push((
            "spec.locality".into(),
            "Too long: may not be more than 2048 bytes".into(),
        ));
    }
    causes
}

pub struct PatchRequest<'a> {
    pub key: Key,
    pub content_type: &'a str,
    pub body: Value,
    pub manager: String,
    pub force: bool,
    pub dry_run: bool,
    /// To the status subresource: only `status` changes.
    pub status: bool,
}

/// Applies the patch to `c` (unless dry run). Ok(stored object, warnings) or Err(Status).
pub fn patch(c: &mut Cluster, req: PatchRequest<'_>) -> Result<(Value, Vec<String>), Value> {
    let (plural, _, name) = req.key.clone();
    let kind = kind_of(&plural).unwrap_or("Unknown");
    let Some(current) = c.objects.get(&req.key).cloned() else {
        return Err(status::not_found(&plural, &name));
    };
    let mut next = current.clone();
    let mut set = Vec::new();
    let apply = req.content_type.starts_with("application/apply-patch");
    if apply {
        let mut spec_fields = Vec::new();
        leaves(&req.body["spec"], ".spec", &mut spec_fields);
        let owners = c.owners.get(&req.key).cloned().unwrap_or_default();
        let conflicts: Vec<(String, String)> = spec_fields
            .iter()
            .filter_map(|f| {
                let owner = owners.get(f)?;
                let differs = get(&current, f) != get(&req.body, f);
                (owner != &req.manager && differs).then(|| (owner.clone(), f.clone()))
            })
            .collect();
        if !conflicts.is_empty() && !req.force {
            return Err(status::apply_conflict(&conflicts));
        }
        merge(&mut next["spec"], &req.body["spec"]);
        set = spec_fields;
    } else {
        if let Some(rv) = req.body["metadata"]["resourceVersion"].as_str()
            && Some(rv) != current["metadata"]["resourceVersion"].as_str()
        {
            return Err(status::stale(&plural, &name));
        }
        let mut body = req.body.clone();
        if let Some(m) = body.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            m.remove("resourceVersion");
        }
        merge(&mut next, &body);
        leaves(&body["spec"], ".spec", &mut set);
        leaves(
            &body["metadata"]["annotations"],
            ".metadata.annotations",
            &mut set,
        );
        if req.status {
            leaves(&body["status"], ".status", &mut set);
        }
    }
    // The status subresource takes status and nothing else; the object takes all but status.
    let (keep_from_current, keep_from_next) = if req.status {
        (current.clone(), next.get("status").cloned())
    } else {
        (next.clone(), current.get("status").cloned())
    };
    next = keep_from_current;
    match keep_from_next {
        Some(s) => next["status"] = s,
        None => {
            if let Some(m) = next.as_object_mut() {
                m.remove("status");
            }
        }
    }
    if req.status {
        set.retain(|f| f.starts_with(".status"));
    } else {
        set.retain(|f| !f.starts_with(".status"));
    }
    let warnings = super::schema::prune(kind, &mut next);
    let causes = validate(&next);
    if !causes.is_empty() {
        return Err(status::invalid(kind, &name, &causes));
    }
    if req.dry_run {
        return Ok((next, warnings));
    }
    c.upsert(next).map_err(status::bad_request)?;
    let operation = if apply { "Apply" } else { "Update" };
    c.record_write(&req.key, &req.manager, operation, set);
    let stored = c.objects.get(&req.key).cloned().unwrap_or_default();
    Ok((stored, warnings))
}
