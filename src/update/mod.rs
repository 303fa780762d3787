//! `update`: the only code that changes State. Each submodule handles one concern.

mod actions;
mod command;
mod confirm;
mod copy;
mod edit;
mod keys;
mod kube;
mod logs;
pub mod planes;
mod registry;
mod replay;
pub use replay::replay_moment;
mod rotation;
pub mod rows;
mod shift;
mod shift_form;
mod timeline;
mod timeline_rows;
pub mod vms;

use crate::msg::{Cmd, Msg};
use crate::state::State;
use crate::state::dirty::Dirty;

pub fn update(state: &mut State, msg: Msg) -> Vec<Cmd> {
    // Background events come in bursts: what they invalidate is derived on the next tick.
    let deferred = matches!(
        msg,
        Msg::Kube(..) | Msg::Xds(_) | Msg::Data(_) | Msg::Traffic(_) | Msg::Log(_) | Msg::Tick
    );
    let mut cmds = match msg {
        Msg::Key(k) => keys::on_key(state, k),
        Msg::Paste(text) if state.edits.shift_form.is_some() => shift_form::on_paste(state, &text),
        Msg::Paste(text) => edit::on_paste(state, &text),
        Msg::Resize { width, height } => {
            state.ui.viewport = (width, height);
            Vec::new()
        }
        Msg::FilesLoaded(files) => {
            registry::files_loaded(state, files);
            Vec::new()
        }
        Msg::FileRemoved(path) => {
            registry::file_removed(state, &path);
            Vec::new()
        }
        Msg::Applied { id, result } => edit::on_applied(state, id, result),
        Msg::ShiftPlan(op, answer) => shift::on_plan(state, op, answer),
        Msg::Kube(cluster, ev) => {
            kube::on_event(state, cluster, ev);
            Vec::new()
        }
        Msg::Tick => {
            let (shifted, mut cmds) = shift::tick(state);
            if tick(state) || shifted {
                cmds.push(Cmd::Redraw);
            }
            cmds
        }
        Msg::Xds(ev) => {
            planes::on_xds(state, ev);
            Vec::new()
        }
        Msg::Data(ev) => {
            planes::on_data(state, ev);
            Vec::new()
        }
        Msg::Traffic(t) => {
            state.traffic = Some(t);
            if matches!(state.screen(), crate::state::Screen::Endpoints(_)) {
                state.registry.dirty |= Dirty::ROWS;
            }
            Vec::new()
        }
        Msg::Log(ev) => {
            logs::on_event(state, ev);
            Vec::new()
        }
        Msg::Replay(loaded) => {
            replay::loaded(state, *loaded);
            Vec::new()
        }
        Msg::ReplayAt(at) => {
            replay::go(state, at);
            Vec::new()
        }
        Msg::Recording => {
            state.timeline.outbox.get_or_insert_with(Vec::new);
            Vec::new()
        }
        Msg::Event(level, text) => {
            state.ui.status = Some((level, text));
            Vec::new()
        }
    };
    if !deferred && !settle(state) {
        // A key that moved the selection changes which VM sidecars are on screen.
        vms::follow(state);
    }
    if state.ui.quit {
        return vec![Cmd::Quit];
    }
    cmds.extend(logs::close_if_left(state));
    if let Some(out) = state.timeline.outbox.as_mut().filter(|o| !o.is_empty()) {
        cmds.push(Cmd::Record(std::mem::take(out)));
    }
    cmds
}

/// Derives what the updates marked dirty, once; returns whether anything was.
fn settle(state: &mut State) -> bool {
    let dirty = std::mem::take(&mut state.registry.dirty);
    if dirty.contains(Dirty::ROWS) {
        rows::rebuild(state);
    }
    if !dirty.is_empty() {
        // The preview's shares follow the rows' registry too.
        edit::refresh_preview(state);
    }
    if !dirty.is_empty() {
        vms::follow(state);
    }
    !dirty.is_empty()
}

/// Lint runs at most this often while events stream in.
const LINT_EVERY: std::time::Duration = std::time::Duration::from_millis(1000);

/// Deferred work after a burst of events: rows of the current screen, the edit preview, and
/// (at most once a second) lint. Returns whether anything changed on screen.
fn tick(state: &mut State) -> bool {
    let mut changed = settle(state);
    // A tick that rebuilt rows paints first; lint follows on the next one.
    let lint_due = !changed
        && state
            .registry
            .last_lint
            .is_none_or(|t| t.elapsed() >= LINT_EVERY);
    if lint_due && state.findings_outdated() {
        state.refresh_findings();
        state.registry.last_lint = Some(std::time::Instant::now());
        if matches!(state.screen(), crate::state::Screen::Problems) {
            rows::rebuild(state);
        }
        changed = true;
    }
    changed
}

/// Sets up the first screen once the registry is loaded.
pub fn init(state: &mut State) {
    state.refresh_findings();
    rows::rebuild(state);
}
