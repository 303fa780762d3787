//! Status bodies in the exact shape kube-apiserver 1.36 sends them (see
//! ../shared/fixtures/kube/*.json).

use serde_json::{Value, json};

fn status(code: u16, reason: &str, message: String, details: Option<Value>) -> Value {
    let mut v = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason});
    if let Some(d) = details {
        v["details"] = d;
    }
    v["code"] = json!(code);
    v
}

/// 404 for an object; core kinds (pods, configmaps, …) carry no group.
pub fn not_found(plural: &str, name: &str) -> Value {
    if matches!(
        plural,
        "pods" | "namespaces" | "configmaps" | "serviceaccounts"
    ) {
        return status(
            404,
            "NotFound",
            format!("{plural} \"{name}\" not found"),
            Some(json!({"name": name, "kind": plural})),
        );
    }
    status(
        404,
        "NotFound",
        format!("{plural}.networking.istio.io \"{name}\" not found"),
        Some(json!({"name": name, "group": "networking.istio.io", "kind": plural})),
    )
}

/// 403: `resource` is the plural, or `plural/subresource` (what RBAC names).
pub fn forbidden(
    user: &str,
    verb: &str,
    resource: &str,
    name: Option<&str>,
    ns: Option<&str>,
) -> Value {
    let scope = match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let plural = resource.split('/').next().unwrap_or(resource);
    let object = match name {
        Some(n) => format!("{plural}.networking.istio.io \"{n}\""),
        None => format!("{plural}.networking.istio.io"),
    };
    let mut details = json!({"group": "networking.istio.io", "kind": plural});
    if let Some(n) = name {
        details["name"] = json!(n);
    }
    status(
        403,
        "Forbidden",
        format!(
            "{object} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"networking.istio.io\" {scope}"
        ),
        Some(details),
    )
}

pub fn watch_too_old(requested: u64, oldest: u64) -> Value {
    status(
        410,
        "Expired",
        format!("too old resource version: {requested} ({oldest})"),
        None,
    )
}

pub fn continue_expired(token: &str) -> Value {
    let mut v = status(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
        None,
    );
    v["metadata"] = json!({"continue": token});
    v
}

pub fn bad_request(message: String) -> Value {
    status(400, "BadRequest", message, None)
}

pub fn stale(plural: &str, name: &str) -> Value {
    status(
        409,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {plural}.networking.istio.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
        Some(json!({"name": name, "group": "networking.istio.io", "kind": plural})),
    )
}

/// Server-side apply conflicts: one cause per field another manager owns.
pub fn apply_conflict(conflicts: &[(String, String)]) -> Value {
    let list: Vec<String> = conflicts
        .iter()
        .map(|(m, f)| format!("conflict with \"{m}\" using networking.istio.io/v1: {f}"))
        .collect();
    let message = if conflicts.len() == 1 {
        format!("Apply failed with 1 conflict: {}", list[0])
    } else {
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            list.join("\n")
        )
    };
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\" using networking.istio.io/v1"), "field": f}))
        .collect();
    status(409, "Conflict", message, Some(json!({"causes": causes})))
}

/// 422 with one cause per invalid field, as the CRD schema validation reports them.
pub fn invalid(kind: &str, name: &str, causes: &[(String, String)]) -> Value {
    let summary: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
    let message = if causes.len() == 1 {
        format!(
            "{kind}.networking.istio.io \"{name}\" is invalid: {}",
            summary[0]
        )
    } else {
        format!(
            "{kind}.networking.istio.io \"{name}\" is invalid: [{}]",
            summary.join(", ")
        )
    };
    let causes: Vec<Value> = causes
        .iter()
        .map(|(f, m)| json!({"reason": "FieldValueInvalid", "message": m, "field": f}))
        .collect();
    status(
        422,
        "Invalid",
        message,
        Some(json!({"name": name, "group": "networking.istio.io", "kind": kind, "causes": causes})),
    )
}
