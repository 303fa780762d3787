//! What a cluster's tasks send `update`: every event tagged with the cluster it is about, so
//! that with several contexts watched one cluster's list, loss or refusal touches only its own
//! objects and its own line of the status bar.

use crate::model::cluster::Cluster;
use crate::msg::Msg;
use crate::msg::kube::KubeEvent;
use tokio::sync::mpsc;

#[derive(Clone)]
pub struct KubeTx {
    pub cluster: Cluster,
    pub tx: mpsc::Sender<Msg>,
}

/// The console is gone: the task stops.
#[derive(Debug)]
pub struct Closed;

impl KubeTx {
    pub fn new(cluster: Cluster, tx: mpsc::Sender<Msg>) -> Self {
        KubeTx { cluster, tx }
    }

    pub async fn send(&self, ev: KubeEvent) -> Result<(), Closed> {
        self.tx
            .send(Msg::Kube(self.cluster.clone(), ev))
            .await
            .map_err(|_| Closed)
    }

    /// A message that is not about the cluster's registry (an answered edit, a notice).
    pub async fn msg(&self, m: Msg) -> Result<(), Closed> {
        self.tx.send(m).await.map_err(|_| Closed)
    }
}
