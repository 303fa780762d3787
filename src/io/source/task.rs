//! The task that owns a file source, as `io/kube/session.rs` owns the cluster's: it takes
//! `Cmd`s, answers with messages, and is the only one that touches the source.

use super::Source;
use crate::msg::{Cmd, Msg};
use tokio::sync::mpsc;

/// Runs a source in its own task: it owns the client and answers with `Msg::Applied`, then
/// re-reads what it wrote so the screen does not wait for the file watcher.
pub fn spawn<S: Source>(mut source: S, tx: mpsc::Sender<Msg>) -> mpsc::Sender<Cmd> {
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Cmd>(16);
    tokio::spawn(async move {
        while let Some(cmd) = cmd_rx.recv().await {
            if let Cmd::ShiftPlan(op) = cmd {
                let answer = match source.plan_lock(&op.service()) {
                    Ok(lock) => lock.carry_out(op.clone()).await,
                    Err(e) => crate::msg::shift::PlanAnswer::Failed(e),
                };
                if tx.send(Msg::ShiftPlan(op, answer)).await.is_err() {
                    return;
                }
                continue;
            }
            if let Cmd::Apply { id, edits } = cmd {
                let result = source.apply(edits).await;
                let written: std::collections::BTreeSet<_> = result
                    .iter()
                    .flatten()
                    .filter_map(|a| a.edit.origin.as_ref().map(|o| o.path.clone()))
                    .collect();
                if tx.send(Msg::Applied { id, result }).await.is_err() {
                    return;
                }
                let reloaded: Vec<_> = written
                    .iter()
                    .map(|p| crate::io::manifests::load::load_file(p))
                    .collect();
                if !reloaded.is_empty() && tx.send(Msg::FilesLoaded(reloaded)).await.is_err() {
                    return;
                }
            }
        }
    });
    cmd_tx
}
