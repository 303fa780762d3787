//! Every applied edit leaves two traces: a Kubernetes Event on the object (so `kubectl describe`
//! shows who changed what) and a JSON line in a local audit log.

use crate::io::source::FieldEdit;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::Client;
use kube::api::{Api, PostParams};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const REASON: &str = "MeshdeckEdit";

pub fn default_log() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|d| d.join("meshdeck").join("audit.jsonl"))
}

pub fn who() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// This machine's host name (the kernel's: shells set $HOSTNAME but rarely export it).
pub fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

pub fn append(
    log: &Path,
    user: &str,
    context: &str,
    e: &FieldEdit,
    resource_version: Option<&str>,
    warnings: &[String],
) -> std::io::Result<()> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let (field, from, to) = e.values();
    let key = e.object();
    let line = serde_json::json!({
        "time": k8s_openapi::jiff::Timestamp::now().to_string(),
        "user": user,
        "local_user": who(),
        "context": context,
        "kind": key.kind.as_str(),
        "namespace": key.namespace,
        "name": key.name,
        "path": e.path(),
        "field": field,
        "from": from,
        "to": to,
        "mode": format!("{:?}", e.mode),
        "warnings": warnings,
        "resourceVersion": resource_version,
    });
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    writeln!(f, "{line}")
}

/// Records an Event on the edited object, as `kubectl describe` shows them.
pub async fn event(
    client: &Client,
    user: &str,
    api_version: &str,
    context: &str,
    e: &FieldEdit,
    uid: Option<String>,
) -> Result<(), kube::Error> {
    let key = e.object();
    let (field, from, to) = e.values();
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let ev = Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.", key.name)),
            namespace: Some(key.namespace.clone()),
            ..Default::default()
        },
        involved_object: ObjectReference {
            api_version: Some(api_version.into()),
            kind: Some(key.kind.as_str().into()),
            name: Some(key.name.clone()),
            namespace: Some(key.namespace.clone()),
            uid,
            field_path: Some(e.path()),
            ..Default::default()
        },
        reason: Some(REASON.into()),
        message: Some(format!(
            "{field} {from} → {to} by {user} with meshdeck (context {context})"
        )),
        type_: Some("Normal".into()),
        source: Some(EventSource {
            component: Some("meshdeck".into()),
            ..Default::default()
        }),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now.clone()),
        event_time: Some(MicroTime(now.0)),
        reporting_component: Some("meshdeck".into()),
        reporting_instance: Some(who()),
        action: Some("Edit".into()),
        count: Some(1),
        ..Default::default()
    };
    Api::<Event>::namespaced(client.clone(), &key.namespace)
        .create(&PostParams::default(), &ev)
        .await
        .map(|_| ())
}
