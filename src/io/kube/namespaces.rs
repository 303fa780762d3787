//! Namespace names, so that `:ns` can say when a namespace does not exist at all.

use super::tagged::KubeTx;
use crate::msg::kube::KubeEvent;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};

pub async fn run(client: Client, tx: KubeTx) {
    let api: Api<Namespace> = Api::all(client);
    let mut stream = watcher::watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut buffer = Vec::new();
    while let Some(ev) = stream.next().await {
        let out = match ev {
            Ok(Event::Init) => {
                buffer.clear();
                None
            }
            Ok(Event::InitApply(n)) => {
                buffer.extend(n.metadata.name);
                None
            }
            Ok(Event::InitDone) => Some(KubeEvent::Namespaces(std::mem::take(&mut buffer))),
            Ok(Event::Apply(n)) => n.metadata.name.map(KubeEvent::NamespaceAdded),
            Ok(Event::Delete(n)) => n.metadata.name.map(KubeEvent::NamespaceDeleted),
            // Listing namespaces is often forbidden to namespace-scoped users: then `:ns` just
            // cannot tell, which is fine.
            Err(e) => {
                tracing::debug!("namespaces: {e}");
                None
            }
        };
        if let Some(ev) = out
            && tx.send(ev).await.is_err()
        {
            return;
        }
    }
}
