//! One-shot paginated LISTs into a store, for the headless commands.

use super::discovery;
use super::watch::{PAGE_SIZE, api_resource};
use super::watched::Watched;
use crate::model::store::Store;
use kube::Client;
use kube::api::{Api, ListParams};

/// Every served Istio kind (in `namespace`, or all), 500 per page.
pub async fn store(client: &Client, namespace: Option<&str>) -> anyhow::Result<Store> {
    let mut store = Store::new();
    for (kind, version) in discovery::versions(client).await? {
        let Some(version) = version else { continue };
        let ar = api_resource(kind, &version);
        let api: Api<Watched> = match namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
            None => Api::all_with(client.clone(), &ar),
        };
        let mut token: Option<String> = None;
        loop {
            let mut lp = ListParams::default().limit(PAGE_SIZE);
            if let Some(t) = &token {
                lp = lp.continue_token(t);
            }
            let page = match api.list(&lp).await {
                Ok(p) => p,
                Err(kube::Error::Api(s)) if s.code == 403 => {
                    eprintln!("warning: {kind}: {}", s.message);
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            for obj in page.items {
                if let Some(e) = obj.into_entry(kind, &ar) {
                    store.upsert(e);
                }
            }
            token = page.metadata.continue_.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
    }
    Ok(store)
}
