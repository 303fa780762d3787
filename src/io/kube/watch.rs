//! One watcher per kind. The initial (paginated) list is buffered (and indexed) and sent whole,
//! so the screen swaps at once and never shows half a list; later events are sent one by one.

use super::discovery::{GROUP, plural};
use super::tagged::KubeTx;
use super::watched::Watched;
use crate::model::object::Kind;
use crate::model::store::Store;
use crate::msg::kube::{ConnState, KubeEvent};
use futures::StreamExt;
use kube::Client;
use kube::api::{Api, ApiResource, GroupVersionKind};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use std::time::SystemTime;
use tokio::sync::mpsc;

pub const PAGE_SIZE: u32 = 500;

pub fn api_resource(kind: Kind, version: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk(GROUP, version, kind.as_str());
    ApiResource::from_gvk_with_plural(&gvk, plural(kind))
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
        None => (false, super::error::describe(e)),
    }
}

/// Watches one kind until the receiver is gone.
pub async fn run(
    client: Client,
    kind: Kind,
    version: String,
    namespace: Option<String>,
    tx: KubeTx,
) {
    let ar = api_resource(kind, &version);
    let api: Api<Watched> = match &namespace {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    };
    let config = watcher::Config::default().page_size(PAGE_SIZE);
    let mut stream = watcher::watcher(api.clone(), config)
        .default_backoff()
        .boxed();
    // Conversion runs in its own task so that it overlaps with fetching the next page; one
    // ordered pipe keeps events after the initial list behind it.
    let (raw_tx, raw_rx) = mpsc::unbounded_channel();
    let converter = tokio::spawn(convert(kind, ar, raw_rx, tx));
    // A watch that resumes says nothing until an object changes (bookmarks are not passed
    // on): while it is failing, a one-object LIST every few seconds tells when the server
    // answers again, so a quiet kind is not shown as disconnected for ever.
    let mut failing = false;
    loop {
        let raw = tokio::select! {
            ev = stream.next() => match ev {
                Some(ev) => {
                    failing = ev.is_err();
                    Raw::Stream(ev)
                }
                None => break,
            },
            () = answers_again(&api), if failing => {
                failing = false;
                Raw::Answers
            }
        };
        if raw_tx.send(raw).is_err() {
            break;
        }
    }
    drop(raw_tx);
    let _ = converter.await;
}

/// How often a failing watch's server is asked whether it answers again.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Returns once a one-object LIST succeeds, asking every `PROBE_EVERY`.
pub async fn answers_again<K>(api: &Api<K>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let params = kube::api::ListParams::default().limit(1);
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        if api.list(&params).await.is_ok() {
            return;
        }
    }
}

// Nearly every message is the large one; boxing it would allocate per event for nothing.
#[allow(clippy::large_enum_variant)]
enum Raw {
    Stream(Result<Event<Watched>, watcher::Error>),
    /// The server answered a LIST while the watch was failing.
    Answers,
}

async fn convert(kind: Kind, ar: ApiResource, mut raw: mpsc::UnboundedReceiver<Raw>, tx: KubeTx) {
    let send = |ev: KubeEvent| tx.send(ev);
    let watching = || KubeEvent::Connection {
        kind,
        state: ConnState::Watching,
    };
    let stamped = |e: Option<crate::model::store::Entry>| {
        e.map(|mut e| {
            e.object.set_cluster(&tx.cluster);
            e
        })
    };
    // The initial list is indexed here as its pages arrive, so the screen's thread only joins
    // it when it is complete.
    let mut shard = Store::new();
    let mut failing_since: Option<SystemTime> = None;
    while let Some(ev) = raw.recv().await {
        let ev = match ev {
            Raw::Stream(ev) => ev,
            Raw::Answers => {
                if failing_since.take().is_some() && send(watching()).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let out = match ev {
            Ok(Event::Init) => {
                shard = Store::new();
                Some(KubeEvent::Connection {
                    kind,
                    state: ConnState::Syncing,
                })
            }
            Ok(Event::InitApply(obj)) => {
                if let Some(e) = stamped(obj.into_entry(kind, &ar)) {
                    shard.upsert(e);
                }
                None
            }
            Ok(Event::InitDone) => {
                failing_since = None;
                let shard = Box::new(std::mem::take(&mut shard));
                if send(KubeEvent::Synced { kind, shard }).await.is_err() {
                    return;
                }
                Some(KubeEvent::Connection {
                    kind,
                    state: ConnState::Watching,
                })
            }
            Ok(Event::Apply(obj)) => {
                if failing_since.take().is_some() && send(watching()).await.is_err() {
                    return;
                }
                stamped(obj.into_entry(kind, &ar)).map(|e| KubeEvent::Upsert(Box::new(e)))
            }
            Ok(Event::Delete(obj)) => obj
                .key(kind)
                .map(|k| KubeEvent::Delete(k.in_cluster(&tx.cluster))),
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
