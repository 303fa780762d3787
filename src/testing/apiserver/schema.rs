//! The real Istio CRDs' v1 schemas (descriptions left out: `recorded/schemas-v1.json`, which a
//! test checks against the CRDs it was cut from) and what the API server does with them on a
//! write: a field the schema does not declare is pruned and named in a 299 warning, since
//! `fieldValidation` defaults to Warn.

use serde_json::Value;
use std::sync::LazyLock;

pub const SCHEMAS_JSON: &str = include_str!("recorded/schemas-v1.json");

static SCHEMAS: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SCHEMAS_JSON).unwrap_or(Value::Null));

/// Removes from `obj` what its kind's schema does not declare, and says what went in the
/// server's words (`unknown field "spec.wieght"`).
pub fn prune(kind: &str, obj: &mut Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(props) = SCHEMAS.get(kind).and_then(|s| s.get("properties")) else {
        return out;
    };
    for part in ["spec", "status"] {
        if let (Some(schema), Some(v)) = (props.get(part), obj.get_mut(part)) {
            walk(schema, v, part, &mut out);
        }
    }
    out
}

fn walk(schema: &Value, v: &mut Value, path: &str, out: &mut Vec<String>) {
    if schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    match v {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                map.retain(|k, _| {
                    let known = props.contains_key(k);
                    if !known {
                        out.push(format!("unknown field \"{path}.{k}\""));
                    }
                    known
                });
                for (k, child) in map.iter_mut() {
                    walk(&props[k], child, &format!("{path}.{k}"), out);
                }
            } else if let Some(values) =
                schema.get("additionalProperties").filter(|a| a.is_object())
            {
                for (k, child) in map.iter_mut() {
                    walk(values, child, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = schema.get("items") {
                for (i, child) in items.iter_mut().enumerate() {
                    walk(item, child, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_pruned_and_named_at_any_depth() {
        let mut se = json!({"spec": {"hosts": ["a"], "endpoints": [{"address": "10.0.0.1", "wieght": 3, "labels": {"x": "y"}}], "extra": 1}});
        let warnings = prune("ServiceEntry", &mut se);
        assert_eq!(
            warnings,
            [
                "unknown field \"spec.extra\"",
                "unknown field \"spec.endpoints[0].wieght\""
            ]
        );
        assert_eq!(
            se,
            json!({"spec": {"hosts": ["a"], "endpoints": [{"address": "10.0.0.1", "labels": {"x": "y"}}]}})
        );
    }

    #[test]
    fn declared_fields_and_free_form_status_stay() {
        let mut we = json!({"spec": {"address": "10.0.0.1", "weight": 2, "locality": "r/z"}, "status": {"anything": {"x": 1}}});
        let before = we.clone();
        assert!(prune("WorkloadEntry", &mut we).is_empty());
        assert_eq!(we, before);
    }
}
