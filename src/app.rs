//! The event loop and nothing else: input and background messages go to `update`, `Cmd`s go to
//! their tasks, and the screen is redrawn when something changed, at most ~30 times a second.

use crate::config::theme::Theme;
use crate::msg::{Cmd, Msg};
use crate::state::State;
use crate::terminal::Term;
use crate::update::update;
use crate::view::render;
use futures::StreamExt;
use ratatui::crossterm::event::{Event, EventStream};
use std::time::Duration;
use tokio::sync::mpsc;

const FRAME: Duration = Duration::from_millis(33);

/// Where each kind of `Cmd` goes.
pub struct Routes {
    pub source: mpsc::Sender<Cmd>,
    /// The demo's VM controller, when running `meshdeck demo`.
    pub demo: Option<mpsc::Sender<Cmd>>,
    /// The xDS sessions and the admin poller, when there are planes to watch.
    pub planes: Option<crate::io::planes::PlaneLinks>,
    /// The sidecar log reader (`--ssh`).
    pub logs: Option<mpsc::Sender<Option<crate::msg::logs::LogRequest>>>,
    /// The flight recorder (`--record`).
    pub recorder: Option<mpsc::Sender<Vec<crate::model::timeline::recording::Line>>>,
}

/// Tells the plane tasks what the screen needs now: EDS for its clusters, polls of its Envoys.
fn steer_planes(routes: &Routes, state: &State) {
    if let Some(links) = &routes.planes {
        links.want(
            crate::update::planes::wanted_clusters(state),
            crate::update::planes::wanted_proxies(state),
            crate::update::planes::wanted_stats(state),
        );
    }
}

pub async fn run(
    term: &mut Term,
    mut state: State,
    theme: Theme,
    mut rx: mpsc::Receiver<Msg>,
    routes: Routes,
) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut dirty = true;
    let mut ticker = tokio::time::interval(FRAME);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    steer_planes(&routes, &state);
    let size = term.size()?;
    update(
        &mut state,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );
    loop {
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Some(Msg::Key(k)),
                Some(Ok(Event::Paste(p))) => Some(Msg::Paste(p)),
                Some(Ok(Event::Resize(width, height))) => Some(Msg::Resize { width, height }),
                Some(Ok(_)) => None,
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            m = rx.recv() => m,
            _ = ticker.tick() => Some(Msg::Tick),
            _ = hangup.recv() => return Ok(()),
            _ = terminate.recv() => return Ok(()),
        };
        let Some(msg) = msg else { continue };
        let tick = matches!(msg, Msg::Tick);
        // Batch: everything already queued is applied before the next frame.
        let mut queue = vec![msg];
        while let Ok(m) = rx.try_recv() {
            queue.push(m);
        }
        let news = queue.iter().any(|m| !matches!(m, Msg::Tick));
        for m in queue {
            for cmd in update(&mut state, m) {
                match cmd {
                    Cmd::Quit => return Ok(()),
                    Cmd::Redraw => dirty = true,
                    apply @ (Cmd::Apply { .. } | Cmd::ShiftPlan(_)) => {
                        if routes.source.send(apply).await.is_err() {
                            tracing::error!("the source task stopped");
                        }
                    }
                    switch @ (Cmd::SwitchContext(_) | Cmd::SwitchNamespace(_)) => {
                        if routes.source.send(switch).await.is_err() {
                            tracing::error!("the cluster session stopped");
                        }
                    }
                    Cmd::Logs(request) => {
                        if let Some(l) = &routes.logs {
                            let _ = l.send(request).await;
                        }
                    }
                    Cmd::Record(changes) => {
                        if let Some(r) = &routes.recorder {
                            let _ = r.send(changes).await;
                        }
                    }
                    Cmd::Copy(text) => {
                        if let Err(e) = crate::terminal::copy_to_clipboard(&text) {
                            tracing::warn!("copy to the clipboard: {e}");
                        }
                    }
                    demo @ Cmd::Demo { .. } => {
                        if let Some(d) = &routes.demo {
                            let _ = d.send(demo).await;
                        }
                    }
                }
            }
        }
        if news {
            steer_planes(&routes, &state);
            dirty = true;
        }
        // Frames are painted on the frame timer only, at most ~30 a second.
        if tick && dirty {
            term.draw(|f| render(&state, &theme, f))?;
            dirty = false;
        }
    }
}
