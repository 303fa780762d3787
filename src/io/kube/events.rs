//! Events on Istio objects, read once when a session starts: what meshdeck consoles (and
//! anything else) reported on them before this console ran. The API server keeps Events for
//! an hour by default, which is about as far back as the timeline looks.

use super::tagged::KubeTx;
use crate::model::object::{Kind, ObjectKey};
use crate::model::timeline::history::{RecordedEvent, parse_time};
use crate::msg::kube::KubeEvent;
use k8s_openapi::api::core::v1::Event;
use kube::Client;
use kube::api::{Api, ListParams};

/// Events are many in a busy cluster: read them a page at a time, keep only Istio's, and stop
/// after this many pages rather than hold a cluster's whole event log.
const PAGE: u32 = 500;
const MAX_PAGES: usize = 40;

pub async fn run(client: Client, namespace: Option<String>, tx: KubeTx) {
    let ev = match recent(&client, namespace.as_deref()).await {
        Ok(mut events) => {
            for e in &mut events {
                e.object.cluster = tx.cluster.clone();
            }
            KubeEvent::Events(events)
        }
        Err(e) => {
            KubeEvent::EventsUnreadable(format!("Events not read: {}", super::error::describe(&e)))
        }
    };
    let _ = tx.send(ev).await;
}

pub async fn recent(
    client: &Client,
    namespace: Option<&str>,
) -> Result<Vec<RecordedEvent>, kube::Error> {
    let api: Api<Event> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut out = Vec::new();
    let mut params = ListParams::default().limit(PAGE);
    for _ in 0..MAX_PAGES {
        let page = api.list(&params).await?;
        out.extend(page.items.iter().filter_map(recorded));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    out.sort_by_key(|e| e.at);
    Ok(out)
}

/// An Event on a networking.istio.io object, as the timeline reads it.
pub fn recorded(e: &Event) -> Option<RecordedEvent> {
    let obj = &e.involved_object;
    if !obj
        .api_version
        .as_deref()
        .is_some_and(|v| v.starts_with("networking.istio.io/"))
    {
        return None;
    }
    let kind = Kind::from_kind_name(obj.kind.as_deref()?)?;
    let at = e
        .event_time
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0.to_string()))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0.to_string()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
        })
        .and_then(|t| parse_time(&t))?;
    Some(RecordedEvent {
        at,
        object: ObjectKey::new(
            kind,
            obj.namespace.clone().unwrap_or_default(),
            obj.name.clone()?,
        ),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        component: e
            .reporting_component
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| e.source.as_ref().and_then(|s| s.component.clone())),
    })
}
