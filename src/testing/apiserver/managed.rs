//! What the real API server writes beside every object: `metadata.managedFields` (per
//! manager: operation, time, and the fields it set as a FieldsV1 tree) and, for objects
//! created by `kubectl apply`, the `last-applied-configuration` annotation. Recorded objects in
//! ../shared/fixtures/kube carry both; served without them, the fake's objects were half the
//! size of the real ones, and so were the memory figures measured against it.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `.spec.weight` paths → `{"f:spec": {".": {}, "f:weight": {}}}`.
pub fn fields_v1(paths: &[String]) -> Value {
    let mut root = Map::new();
    for p in paths {
        let mut node = &mut root;
        let segs: Vec<&str> = p.trim_start_matches('.').split('.').collect();
        for (i, seg) in segs.iter().enumerate() {
            let entry = node
                .entry(format!("f:{seg}"))
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(m) = entry else { break };
            if i + 1 < segs.len() {
                m.entry(".").or_insert_with(|| json!({}));
            }
            node = m;
        }
    }
    Value::Object(root)
}

/// The manager `kubectl apply` writes as; it also owns the last-applied annotation.
pub const KUBECTL: &str = "kubectl-client-side-apply";

/// Per manager, as `owners` (field → manager) and `writes` (manager → operation, time) say;
/// `last_applied`: the object carries kubectl's annotation.
pub fn render(
    owners: &BTreeMap<String, String>,
    writes: &BTreeMap<String, (String, String)>,
    last_applied: bool,
) -> Value {
    let mut by_manager: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (field, manager) in owners {
        by_manager.entry(manager).or_default().push(field.clone());
    }
    let entries: Vec<Value> = by_manager
        .into_iter()
        .map(|(manager, fields)| {
            let (operation, time) = writes
                .get(manager)
                .cloned()
                .unwrap_or_else(|| ("Update".into(), "2026-11-21T04:51:51Z".into()));
            let mut tree = fields_v1(&fields);
            if last_applied && manager == KUBECTL {
                // An annotation key has dots of its own: added whole, not split as a path.
                tree["f:metadata"]["f:annotations"] =
                    json!({".": {}, format!("f:{LAST_APPLIED}"): {}});
            }
            json!({
                "apiVersion": super::cluster::GROUP_VERSION,
                "fieldsType": "FieldsV1",
                "fieldsV1": tree,
                "manager": manager,
                "operation": operation,
                "time": time,
            })
        })
        .collect();
    Value::Array(entries)
}

/// The annotation `kubectl apply` leaves: the applied object, compact, with a newline.
pub fn last_applied(obj: &Value) -> String {
    let mut applied = json!({
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "metadata": {"annotations": {}, "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]},
        "spec": obj["spec"],
    });
    if let Some(labels) = obj["metadata"].get("labels") {
        applied["metadata"]["labels"] = labels.clone();
    }
    format!("{applied}\n")
}

pub fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_out_as_the_recorded_tree() {
        let owners: BTreeMap<String, String> = [".spec.address", ".spec.weight"]
            .iter()
            .map(|f| (f.to_string(), KUBECTL.to_string()))
            .collect();
        let recorded: Value = serde_json::from_str(
            r#"{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}},
                "f:spec":{".":{},"f:address":{},"f:weight":{}}}"#,
        )
        .unwrap();
        let got = render(&owners, &BTreeMap::new(), true);
        assert_eq!(got[0]["fieldsV1"], recorded);
        assert_eq!(got[0]["manager"], KUBECTL);
    }
}
