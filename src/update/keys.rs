//! Key routing: every key is looked up in the keymap layer of what has focus (global first,
//! then the edit form or its confirmation, the help, the command/filter line, the lists). In
//! the form and the lines a key no binding takes is typed.

use super::{actions, command, edit};
use crate::action::{Action, Layer};
use crate::config::key::Key;
use crate::config::keymap::Lookup;
use crate::msg::Cmd;
use crate::state::{Mode, State};
use ratatui::crossterm::event::{KeyEvent, KeyEventKind};

/// The layer that has focus (None: keys are ignored, e.g. while an edit is being submitted).
pub fn focus(state: &State) -> Option<Layer> {
    if state.edits.confirm.is_some() {
        Some(Layer::Confirm)
    } else if state.edits.form.is_some() {
        edit::layer(state)
    } else if state.edits.shift_form.is_some() {
        Some(Layer::Form)
    } else if state.ui.show_help {
        Some(Layer::Help)
    } else if state.ui.mode != Mode::Normal {
        Some(Layer::Line)
    } else {
        Some(Layer::Normal)
    }
}

pub fn on_key(state: &mut State, ev: KeyEvent) -> Vec<Cmd> {
    if ev.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // The first-screen hint has been seen once a key is pressed.
    state.ui.notice = None;
    let key = Key::from_event(&ev);
    if let Some(k) = key
        && state.setup.keymap.action_in(Layer::Global, k) == Some(Action::QuitAnywhere)
    {
        return super::actions::quit(state);
    }
    let Some(layer) = focus(state) else {
        return Vec::new();
    };
    let bound = key.and_then(|k| state.setup.keymap.action_in(layer, k));
    match layer {
        Layer::Confirm if state.edits.confirm.is_some() => match bound {
            Some(a) => super::confirm::on_action(state, a),
            None => Vec::new(),
        },
        Layer::Form if state.edits.shift_form.is_some() => match bound {
            Some(a) => super::shift_form::on_action(state, a),
            None => super::shift_form::on_input(state, ev),
        },
        Layer::Form | Layer::Confirm => match bound {
            Some(a) => edit::on_action(state, a),
            None if layer == Layer::Form => edit::on_input(state, ev),
            None => Vec::new(),
        },
        Layer::Help => {
            if let Some(a) = bound {
                help(state, a);
            }
            Vec::new()
        }
        Layer::Line => match bound {
            Some(a) => command::on_action(state, a),
            None => command::on_input(state, ev),
        },
        Layer::Normal | Layer::Global => match key {
            Some(k) => normal(state, k),
            None => Vec::new(),
        },
    }
}

fn help(state: &mut State, action: Action) {
    match action {
        Action::HelpClose => {
            state.ui.show_help = false;
            state.ui.help_scroll = 0;
        }
        Action::HelpDown => state.ui.help_scroll = state.ui.help_scroll.saturating_add(1),
        Action::HelpUp => state.ui.help_scroll = state.ui.help_scroll.saturating_sub(1),
        _ => {}
    }
}

/// Lists and screens: sequences (`g g`) wait for their next key.
fn normal(state: &mut State, key: Key) -> Vec<Cmd> {
    state.ui.pending_keys.push(key);
    match state.setup.keymap.lookup(&state.ui.pending_keys) {
        Lookup::Action(a) => {
            state.ui.pending_keys.clear();
            actions::run(state, a)
        }
        Lookup::Prefix => Vec::new(),
        Lookup::None => {
            state.ui.pending_keys.clear();
            // The key may start a new sequence of its own.
            if let Lookup::Action(a) = state.setup.keymap.lookup(&[key]) {
                return actions::run(state, a);
            }
            Vec::new()
        }
    }
}
