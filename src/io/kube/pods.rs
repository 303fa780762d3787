//! Pods, for the ServiceEntries whose workloadSelector selects them: watched like the Istio
//! kinds (buffered initial list, then events), kept as the few fields an endpoint needs.

use super::tagged::KubeTx;
use crate::model::cluster::Cluster;
use crate::model::object::Kind;
use crate::model::pod::Pod;
use crate::msg::kube::{ConnState, KubeEvent};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod as KubePod;
use kube::Client;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use std::time::SystemTime;

pub fn to_pod(p: KubePod, cluster: &Cluster) -> Pod {
    let status = p.status.unwrap_or_default();
    let ready = status
        .conditions
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    Pod {
        cluster: cluster.clone(),
        namespace: p.metadata.namespace.unwrap_or_default(),
        name: p.metadata.name.unwrap_or_default(),
        labels: p.metadata.labels.unwrap_or_default().into_iter().collect(),
        ip: status.pod_ip.filter(|ip| !ip.is_empty()),
        ready,
    }
}

pub async fn run(client: Client, namespace: Option<String>, tx: KubeTx) {
    let api: Api<KubePod> = match &namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let mut stream = watcher::watcher(
        api.clone(),
        watcher::Config::default().page_size(super::watch::PAGE_SIZE),
    )
    .default_backoff()
    .boxed();
    let mut buffer = Vec::new();
    let mut failing_since: Option<SystemTime> = None;
    loop {
        // As for the Istio kinds: a resumed watch is quiet, a LIST tells it is back.
        let ev = tokio::select! {
            ev = stream.next() => match ev {
                Some(ev) => ev,
                None => break,
            },
            () = super::watch::answers_again(&api), if failing_since.is_some() => {
                failing_since = None;
                let back = KubeEvent::Connection {
                    kind: Kind::Pod,
                    state: ConnState::Watching,
                };
                if tx.send(back).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let out = match ev {
            Ok(Event::Init) => {
                buffer.clear();
                None
            }
            Ok(Event::InitApply(p)) => {
                buffer.push(to_pod(p, &tx.cluster));
                None
            }
            Ok(Event::InitDone) => {
                failing_since = None;
                let pods = std::mem::take(&mut buffer);
                if tx.send(KubeEvent::PodsSynced(pods)).await.is_err() {
                    return;
                }
                Some(KubeEvent::Connection {
                    kind: Kind::Pod,
                    state: ConnState::Watching,
                })
            }
            Ok(Event::Apply(p)) => Some(KubeEvent::PodUpsert(to_pod(p, &tx.cluster))),
            Ok(Event::Delete(p)) => Some(KubeEvent::PodDelete {
                namespace: p.metadata.namespace.unwrap_or_default(),
                name: p.metadata.name.unwrap_or_default(),
            }),
            Err(e) => {
                let since = *failing_since.get_or_insert_with(SystemTime::now);
                let state = match &e {
                    watcher::Error::InitialListFailed(kube::Error::Api(s))
                    | watcher::Error::WatchStartFailed(kube::Error::Api(s))
                        if s.code == 403 =>
                    {
                        ConnState::Forbidden(s.message.clone())
                    }
                    _ => ConnState::Retrying {
                        since,
                        error: e.to_string(),
                    },
                };
                Some(KubeEvent::Connection {
                    kind: Kind::Pod,
                    state,
                })
            }
        };
        if let Some(ev) = out
            && tx.send(ev).await.is_err()
        {
            return;
        }
    }
}
