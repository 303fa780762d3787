//! One connection to a cluster as a task: it owns the client, the watchers and the apply
//! source, answers edits, and switches context (`:ctx NAME`) without a restart by tearing the
//! watchers down and starting over on the new context.

use super::apply::KubeSource;
use super::client::{self, Target};
use super::tagged::KubeTx;
use super::{audit, discovery, watch};
use crate::io::source::Source;
use crate::model::cluster::Cluster;
use crate::msg::kube::KubeEvent;
use crate::msg::{Cmd, Level, Msg};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(Clone)]
pub struct Session {
    pub target: Target,
    pub namespace: Option<String>,
    pub readonly: bool,
    /// What its objects and events are tagged with: `Cluster::ONLY` when it is the only one.
    pub cluster: Cluster,
}

struct Live {
    source: KubeSource,
    watchers: Vec<JoinHandle<()>>,
}

impl Drop for Live {
    fn drop(&mut self) {
        for w in &self.watchers {
            w.abort();
        }
    }
}

/// The API server could not be used at all: the session shows it and tries again.
#[derive(Debug, thiserror::Error)]
#[error("{server} (context {context}): {cause}")]
struct Down {
    context: String,
    server: String,
    cause: String,
}

async fn start(s: &Session, tx: &KubeTx) -> anyhow::Result<Live> {
    let c = client::connect(&s.target).await?;
    let versions = discovery::versions(&c.client).await.map_err(|e| Down {
        context: c.context.clone(),
        server: c.server.clone(),
        cause: super::error::describe(e.as_ref()),
    })?;
    let _ = tx
        .send(KubeEvent::Discovered {
            context: c.context.clone(),
            versions: versions.clone(),
        })
        .await;
    if !s.readonly {
        let served: Vec<_> = versions
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect();
        let denied =
            super::access::denied_patches(&c.client, &served, s.namespace.as_deref()).await;
        if !denied.is_empty() {
            let _ = tx.send(KubeEvent::WriteDenied(denied)).await;
        }
    }
    let mut watchers = Vec::new();
    for (kind, version) in &versions {
        if let Some(v) = version {
            watchers.push(tokio::spawn(watch::run(
                c.client.clone(),
                *kind,
                v.clone(),
                s.namespace.clone(),
                tx.clone(),
            )));
        }
    }
    watchers.push(tokio::spawn(super::events::run(
        c.client.clone(),
        s.namespace.clone(),
        tx.clone(),
    )));
    watchers.push(tokio::spawn(super::namespaces::run(
        c.client.clone(),
        tx.clone(),
    )));
    watchers.push(tokio::spawn(super::pods::run(
        c.client.clone(),
        s.namespace.clone(),
        tx.clone(),
    )));
    let user = super::access::whoami(&c.client).await;
    let source = KubeSource {
        user,
        client: c.client.clone(),
        versions: versions
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
        readonly: s.readonly,
        label: format!("cluster {}", c.context),
        context: c.context,
        audit_log: audit::default_log(),
        dry_run: false,
    };
    Ok(Live { source, watchers })
}

/// Moves the watchers to `next` (another namespace or context): the old ones stop first so
/// nothing of theirs lands after the reset, the screen is reset, the new ones start. When they
/// cannot, the session stays as it was and its watchers, restarted, resync what was reset.
async fn switch(
    live: &mut Live,
    s: &mut Session,
    next: Session,
    tx: &KubeTx,
) -> anyhow::Result<()> {
    for w in live.watchers.drain(..) {
        w.abort();
    }
    let _ = tx.send(KubeEvent::Resetting).await;
    match start(&next, tx).await {
        Ok(started) => {
            *live = started;
            *s = next;
            Ok(())
        }
        Err(e) => {
            if let Ok(restarted) = start(s, tx).await {
                *live = restarted;
            }
            Err(e)
        }
    }
}

/// Starts the session until it is up. A server that cannot be reached (or refuses discovery)
/// is a state the console shows, retried with backoff, not a reason to exit; edits sent
/// meanwhile are answered at once, and a context or namespace switch takes effect on the next
/// try.
async fn start_until_up(
    s: &mut Session,
    tx: &KubeTx,
    cmds: &mut mpsc::Receiver<Cmd>,
) -> Option<Live> {
    use backon::BackoffBuilder;
    let since = std::time::SystemTime::now();
    let mut delays = backon::ExponentialBuilder::default()
        .with_min_delay(std::time::Duration::from_millis(250))
        .with_max_delay(std::time::Duration::from_secs(15))
        .with_jitter()
        .without_max_times()
        .build();
    loop {
        let error = match start(s, tx).await {
            Ok(live) => return Some(live),
            Err(e) => e,
        };
        let event = match error.downcast::<Down>() {
            Ok(down) => KubeEvent::Unreachable {
                context: down.context,
                server: down.server,
                since,
                error: down.cause,
            },
            Err(other) => KubeEvent::Unreachable {
                context: s.target.context.clone().unwrap_or_default(),
                server: String::new(),
                since,
                error: format!("{other:#}"),
            },
        };
        tracing::info!(?event, "cluster not up yet");
        if tx.send(event).await.is_err() {
            return None;
        }
        let wait = tokio::time::sleep(delays.next().unwrap_or_default());
        tokio::pin!(wait);
        loop {
            tokio::select! {
                () = &mut wait => break,
                cmd = cmds.recv() => match cmd? {
                    Cmd::Apply { id, .. } => {
                        let result = Err(crate::io::source::ApplyError::Failed(
                            "the cluster cannot be reached; nothing was written".into(),
                        ));
                        let _ = tx.msg(Msg::Applied { id, result }).await;
                    }
                    Cmd::ShiftPlan(op) => {
                        let answer = crate::msg::shift::PlanAnswer::Failed(
                            "the cluster cannot be reached; the plan was not written".into(),
                        );
                        let _ = tx.msg(Msg::ShiftPlan(op, answer)).await;
                    }
                    Cmd::SwitchContext(name) => {
                        s.target.context = Some(name);
                        break;
                    }
                    Cmd::SwitchNamespace(ns) => s.namespace = ns,
                    Cmd::Demo { .. }
                    | Cmd::Quit
                    | Cmd::Redraw
                    | Cmd::Copy(_)
                    | Cmd::Logs(_)
                    | Cmd::Record(_) => {}
                },
            }
        }
    }
}

/// Reads the kubeconfig now (a bad one is reported before the console opens) and returns the
/// channel the console sends edits and context switches on; the connection itself is the
/// task's (see `start_until_up`).
pub async fn spawn(mut s: Session, tx: mpsc::Sender<Msg>) -> anyhow::Result<mpsc::Sender<Cmd>> {
    client::connect(&s.target).await?;
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Cmd>(16);
    let tx = KubeTx::new(s.cluster.clone(), tx);
    tokio::spawn(async move {
        let Some(mut live) = start_until_up(&mut s, &tx, &mut cmd_rx).await else {
            return;
        };
        while let Some(cmd) = cmd_rx.recv().await {
            match cmd {
                Cmd::Apply { id, edits } => {
                    let result = live.source.apply(edits).await;
                    if tx.msg(Msg::Applied { id, result }).await.is_err() {
                        return;
                    }
                }
                Cmd::ShiftPlan(op) => {
                    let answer = match live.source.plan_lock(&op.service()) {
                        Ok(lock) => lock.carry_out(op.clone()).await,
                        Err(e) => crate::msg::shift::PlanAnswer::Failed(e),
                    };
                    if tx.msg(Msg::ShiftPlan(op, answer)).await.is_err() {
                        return;
                    }
                }
                Cmd::SwitchNamespace(ns) => {
                    let next = Session {
                        namespace: ns.clone(),
                        ..s.clone()
                    };
                    let msg = match switch(&mut live, &mut s, next, &tx).await {
                        Ok(()) => Msg::Kube(
                            s.cluster.clone(),
                            KubeEvent::NamespaceSwitched(ns.unwrap_or_else(|| "all".into())),
                        ),
                        Err(e) => {
                            Msg::Event(Level::Error, format!("cannot watch that namespace: {e:#}"))
                        }
                    };
                    let _ = tx.msg(msg).await;
                }
                Cmd::SwitchContext(name) => {
                    let mut next = s.clone();
                    next.target.context = Some(name.clone());
                    let msg = match switch(&mut live, &mut s, next, &tx).await {
                        Ok(()) => Msg::Kube(s.cluster.clone(), KubeEvent::ContextSwitched(name)),
                        Err(e) => Msg::Event(
                            Level::Error,
                            format!(
                                "cannot switch to context {name}: {e:#}; staying where we were"
                            ),
                        ),
                    };
                    let _ = tx.msg(msg).await;
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
