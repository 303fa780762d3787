//! Several clusters at once (`--context a --context b`, `:ctx a,b`): one session per context,
//! each tagging what it sends with its cluster, and a router that hands every command to the
//! cluster it is about — an edit to the cluster holding the object, a shift's plan to the one
//! holding the service, a namespace switch to all. One cluster down leaves the others working:
//! each session retries on its own.

use super::client::Target;
use super::session::{self, Session};
use crate::model::cluster::Cluster;
use crate::msg::kube::KubeEvent;
use crate::msg::{Cmd, Level, Msg};
use std::collections::BTreeMap;
use tokio::sync::mpsc;

/// What every session shares: the kubeconfig, the namespace, read-only.
#[derive(Clone)]
pub struct Template {
    pub kubeconfig: Option<std::path::PathBuf>,
    pub namespace: Option<String>,
    pub readonly: bool,
}

impl Template {
    /// The session for `contexts[i]`: tagged with its name when there are several, untagged
    /// (as a console on one cluster always was) when it is alone.
    fn session(&self, context: Option<String>, several: bool) -> Session {
        let cluster = match (&context, several) {
            (Some(name), true) => Cluster::named(name),
            _ => Cluster::ONLY,
        };
        Session {
            target: Target {
                kubeconfig: self.kubeconfig.clone(),
                context,
            },
            namespace: self.namespace.clone(),
            readonly: self.readonly,
            cluster,
        }
    }
}

/// `a,b` or `a b`: the contexts `:ctx` names, in order, each once.
pub fn parse_contexts(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in text
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

type Sessions = BTreeMap<Cluster, mpsc::Sender<Cmd>>;

async fn start_all(
    template: &Template,
    contexts: &[Option<String>],
    tx: &mpsc::Sender<Msg>,
) -> anyhow::Result<Sessions> {
    let several = contexts.len() > 1;
    let mut out = Sessions::new();
    for context in contexts {
        let s = template.session(context.clone(), several);
        let cluster = s.cluster.clone();
        let name = context.clone().unwrap_or_else(|| "(current)".into());
        let sender = session::spawn(s, tx.clone())
            .await
            .map_err(|e| anyhow::anyhow!("context {name}: {e:#}"))?;
        out.insert(cluster, sender);
    }
    Ok(out)
}

/// Reads every context's kubeconfig entry now (a bad one is a usage error before the console
/// opens) and returns the channel the console sends its commands on.
pub async fn spawn(
    template: Template,
    contexts: Vec<Option<String>>,
    tx: mpsc::Sender<Msg>,
) -> anyhow::Result<mpsc::Sender<Cmd>> {
    let mut sessions = start_all(&template, &contexts, &tx).await?;
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Cmd>(16);
    tokio::spawn(async move {
        while let Some(cmd) = cmd_rx.recv().await {
            match cmd {
                Cmd::Apply { id, edits } => {
                    let mut clusters: Vec<Cluster> =
                        edits.iter().map(|e| e.object().cluster).collect();
                    clusters.dedup();
                    let refused = match clusters.as_slice() {
                        [one] => match sessions.get(one) {
                            Some(s) => s.send(Cmd::Apply { id, edits }).await.err().map(|_| {
                                format!("the session of cluster {one} stopped; nothing was written")
                            }),
                            None => Some(format!(
                                "cluster {one} is no longer watched; nothing was written"
                            )),
                        },
                        [] => Some("nothing to write".to_string()),
                        many => Some(format!(
                            "these edits are in {} clusters ({}); meshdeck writes one cluster at a \
                             time: edit each cluster's entries on their own; nothing was written",
                            many.len(),
                            many.iter()
                                .map(Cluster::name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    };
                    if let Some(why) = refused {
                        let result = Err(crate::io::source::ApplyError::Failed(why));
                        let _ = tx.send(Msg::Applied { id, result }).await;
                    }
                }
                Cmd::ShiftPlan(op) => {
                    let cluster = op.service().cluster;
                    let sent = match sessions.get(&cluster) {
                        Some(s) => s.send(Cmd::ShiftPlan(op.clone())).await.is_ok(),
                        None => false,
                    };
                    if !sent {
                        let answer = crate::msg::shift::PlanAnswer::Failed(format!(
                            "cluster {cluster} is not watched; the plan was not written"
                        ));
                        let _ = tx.send(Msg::ShiftPlan(op, answer)).await;
                    }
                }
                Cmd::SwitchNamespace(ns) => {
                    for s in sessions.values() {
                        let _ = s.send(Cmd::SwitchNamespace(ns.clone())).await;
                    }
                }
                Cmd::SwitchContext(text) => {
                    let names = parse_contexts(&text);
                    if names.len() == 1
                        && sessions.len() == 1
                        && sessions.contains_key(&Cluster::ONLY)
                    {
                        // One cluster to another: the session switches in place (and stays
                        // where it was when the new one cannot be used).
                        if let Some(s) = sessions.values().next() {
                            let _ = s.send(Cmd::SwitchContext(names[0].clone())).await;
                        }
                        continue;
                    }
                    let contexts: Vec<Option<String>> = names.iter().cloned().map(Some).collect();
                    let next = match start_all(&template, &contexts, &tx).await {
                        Ok(next) => next,
                        Err(e) => {
                            let msg = format!("cannot watch {text}: {e:#}; staying where we were");
                            let _ = tx.send(Msg::Event(Level::Error, msg)).await;
                            continue;
                        }
                    };
                    // The old sessions stop when their channel goes; what they showed goes
                    // with them.
                    for (cluster, _) in std::mem::replace(&mut sessions, next) {
                        let _ = tx.send(Msg::Kube(cluster, KubeEvent::Left)).await;
                    }
                    let msg = format!("watching {}", names.join(", "));
                    let _ = tx.send(Msg::Event(Level::Info, msg)).await;
                }
                Cmd::Demo { .. }
                | Cmd::Quit
                | Cmd::Redraw
                | Cmd::Copy(_)
                | Cmd::Logs(_)
                | Cmd::Record(_) => {}
            }
        }
    });
    Ok(cmd_tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_read_in_order_each_once() {
        assert_eq!(parse_contexts("a,b"), ["a", "b"]);
        assert_eq!(parse_contexts(" b , a,b "), ["b", "a"]);
        assert_eq!(parse_contexts("one"), ["one"]);
        assert!(parse_contexts(" , ").is_empty());
    }
}
