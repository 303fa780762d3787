//! One watcher per kind. The initial (paginated) list is buffered and sent whole, so the screen
//! swaps at once and never shows half a list; later events are sent one by one.

use super::discovery::{GROUP, plural};
use super::event::{ConnState, KubeEvent};
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::store::Entry;
use crate::msg::Msg;
use futures::StreamExt;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use std::time::SystemTime;
use tokio::sync::mpsc;

pub const PAGE_SIZE: u32 = 500;

pub fn api_resource(kind: Kind, version: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk(GROUP, version, kind.as_str());
    ApiResource::from_gvk_with_plural(&gvk, plural(kind))
}

/// Takes the object apart instead of re-serializing it: only the metadata is converted.
pub fn to_entry(obj: DynamicObject, ar: &ApiResource) -> Option<Entry> {
    let DynamicObject {
        types,
        metadata,
        data,
    } = obj;
    let name = metadata.name.clone();
    let mut map = match data {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let (api_version, kind) = types.map_or((ar.api_version.clone(), ar.kind.clone()), |t| {
        (t.api_version, t.kind)
    });
    map.insert("apiVersion".into(), serde_json::Value::String(api_version));
    map.insert("kind".into(), serde_json::Value::String(kind));
    map.insert("metadata".into(), serde_json::to_value(metadata).ok()?);
    match Object::from_value(serde_json::Value::Object(map), "default") {
        Ok(object) => Some(Entry {
            object,
            origin: None,
        }),
        Err(e) => {
            tracing::warn!("skipping {} {name:?}: {e}", ar.kind);
            None
        }
    }
}

fn describe(e: &watcher::Error) -> (bool, String) {
    let api = |err: &kube::Error| match err {
        kube::Error::Api(s) => Some((s.code, s.message.clone())),
        _ => None,
    };
    let inner = match e {
        watcher::Error::InitialListFailed(err)
        | watcher::Error::WatchStartFailed(err)
        | watcher::Error::WatchFailed(err) => api(err),
        watcher::Error::WatchError(s) => Some((s.code, s.message.clone())),
        watcher::Error::NoResourceVersion => None,
    };
    match inner {
        Some((403, msg)) => (true, msg),
        Some((_, msg)) => (false, msg),
        None => (false, e.to_string()),
    }
}

/// Watches one kind until the receiver is gone.
pub async fn run(
    client: Client,
    kind: Kind,
    version: String,
    namespace: Option<String>,
    tx: mpsc::Sender<Msg>,
) {
    let ar = api_resource(kind, &version);
    let api: Api<DynamicObject> = match &namespace {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    };
    let config = watcher::Config::default().page_size(PAGE_SIZE);
    let mut stream = watcher::watcher(api, config).default_backoff().boxed();
    // Conversion runs in its own task so that it overlaps with fetching the next page; one
    // ordered pipe keeps events after the initial list behind it.
    let (raw_tx, raw_rx) = mpsc::unbounded_channel();
    let converter = tokio::spawn(convert(kind, ar, raw_rx, tx));
    while let Some(ev) = stream.next().await {
        if raw_tx.send(ev).is_err() {
            break;
        }
    }
    drop(raw_tx);
    let _ = converter.await;
}

type Raw = Result<Event<DynamicObject>, watcher::Error>;

async fn convert(
    kind: Kind,
    ar: ApiResource,
    mut raw: mpsc::UnboundedReceiver<Raw>,
    tx: mpsc::Sender<Msg>,
) {
    let send = |ev: KubeEvent| tx.send(Msg::Kube(ev));
    let mut buffer: Vec<Entry> = Vec::new();
    let mut failing_since: Option<SystemTime> = None;
    while let Some(ev) = raw.recv().await {
        let out = match ev {
            Ok(Event::Init) => {
                buffer.clear();
                Some(KubeEvent::Connection {
                    kind,
                    state: ConnState::Syncing,
                })
            }
            Ok(Event::InitApply(obj)) => {
                buffer.extend(to_entry(obj, &ar));
                None
            }
            Ok(Event::InitDone) => {
                failing_since = None;
                let entries = std::mem::take(&mut buffer);
                if send(KubeEvent::Synced { kind, entries }).await.is_err() {
                    return;
                }
                Some(KubeEvent::Connection {
                    kind,
                    state: ConnState::Watching,
                })
            }
            Ok(Event::Apply(obj)) => {
                if failing_since.take().is_some()
                    && send(KubeEvent::Connection {
                        kind,
                        state: ConnState::Watching,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
                to_entry(obj, &ar).map(|e| KubeEvent::Upsert(Box::new(e)))
            }
            Ok(Event::Delete(obj)) => {
                let ns = obj.metadata.namespace.clone().unwrap_or_default();
                obj.metadata
                    .name
                    .clone()
                    .map(|n| KubeEvent::Delete(ObjectKey::new(kind, ns, n)))
            }
            Err(e) => {
                let (forbidden, msg) = describe(&e);
                tracing::warn!("watch {kind}: {e}");
                let since = *failing_since.get_or_insert_with(SystemTime::now);
                Some(KubeEvent::Connection {
                    kind,
                    state: if forbidden {
                        ConnState::Forbidden(msg)
                    } else {
                        ConnState::Retrying { since, error: msg }
                    },
                })
            }
        };
        if let Some(ev) = out
            && send(ev).await.is_err()
        {
            return;
        }
    }
}
