//! The log pane: `L` on a WorkloadEntry reads its sidecar's log over ssh; leaving the screen
//! stops the reader.

use super::actions::{push, selected_object};
use crate::model::object::{Kind, Object, ObjectKey};
use crate::msg::Cmd;
use crate::msg::logs::{LogEvent, LogRequest};
use crate::state::dirty::Dirty;
use crate::state::logs::LogPane;
use crate::state::{Level, Screen, State};

/// The entry `L` is about: the selected row's WorkloadEntry, or the one whose YAML is open.
fn entry_in_focus(state: &State) -> Option<ObjectKey> {
    if let Screen::Yaml(k) = state.screen() {
        return Some(k.clone());
    }
    selected_object(state)
}

pub fn open(state: &mut State) -> Vec<Cmd> {
    let Some(key) = entry_in_focus(state).filter(|k| k.kind == Kind::WorkloadEntry) else {
        state.ui.status = Some((
            Level::Error,
            "L reads a WorkloadEntry's sidecar log: select one first".into(),
        ));
        return Vec::new();
    };
    let Some(cfg) = state.planes.vms.as_ref().map(|v| v.ssh.clone()) else {
        state.ui.status = Some((
            Level::Error,
            "logs are read over ssh: start meshdeck with --ssh (or [ssh] enabled = true in config.toml)"
                .into(),
        ));
        return Vec::new();
    };
    let Some(Object::WorkloadEntry(we)) = state.registry.store.get(&key).map(|e| &e.object) else {
        return Vec::new();
    };
    let Some(destination) = crate::config::ssh::destination_for(
        &cfg,
        &key,
        &we.metadata.annotations,
        we.spec.address.as_deref(),
    ) else {
        state.ui.status = Some((
            Level::Error,
            format!(
                "{}/{}: no host to ssh to (no address; set annotation {})",
                key.namespace,
                key.name,
                crate::config::ssh::SSH_ANNOTATION
            ),
        ));
        return Vec::new();
    };
    let request = LogRequest {
        key: key.clone(),
        destination: destination.clone(),
        command: cfg.log_command(true),
    };
    state.logs = Some(LogPane::new(key.clone(), destination));
    push(state, Screen::Logs(key));
    vec![Cmd::Logs(Some(request))]
}

pub fn toggle_follow(state: &mut State) {
    let on_logs = matches!(state.screen(), Screen::Logs(_));
    let Some(pane) = state.logs.as_mut().filter(|_| on_logs) else {
        return;
    };
    pane.follow = !pane.follow;
    pane.unseen = 0;
    state.registry.dirty |= Dirty::ROWS;
}

pub fn on_event(state: &mut State, ev: LogEvent) {
    let Some(pane) = state.logs.as_mut() else {
        return;
    };
    match ev {
        LogEvent::Lines { key, lines } if key == pane.key => {
            let follow = pane.follow;
            pane.push(lines);
            // Paused, the rows stay as they are: nothing moves under the reader's eyes.
            if follow {
                state.registry.dirty |= Dirty::ROWS;
            }
        }
        LogEvent::Ended { key, error } if key == pane.key => {
            pane.ended = Some(error);
            state.registry.dirty |= Dirty::ROWS;
        }
        // A reader of a log already closed.
        LogEvent::Lines { .. } | LogEvent::Ended { .. } => {}
    }
}

/// Leaving the log's screen stops its reader.
pub fn close_if_left(state: &mut State) -> Option<Cmd> {
    let open = state.logs.as_ref()?;
    if matches!(state.screen(), Screen::Logs(k) if *k == open.key) {
        return None;
    }
    state.logs = None;
    Some(Cmd::Logs(None))
}
