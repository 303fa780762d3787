//! Key routing, in this order: edit form → help popup → command/filter line → keymap.

use super::{actions, command, edit};
use crate::config::key::Key;
use crate::config::keymap::Lookup;
use crate::msg::Cmd;
use crate::state::{Mode, State};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub fn on_key(state: &mut State, ev: KeyEvent) -> Vec<Cmd> {
    if ev.kind == KeyEventKind::Release {
        return Vec::new();
    }
    // The first-screen hint has been seen once a key is pressed.
    state.notice = None;
    // ctrl-c always quits, whatever has focus: nobody should be trapped in a form.
    if ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL) {
        state.quit = true;
        return Vec::new();
    }
    if state.edit.is_some() {
        return edit::on_key(state, ev);
    }
    if state.show_help {
        if matches!(
            ev.code,
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter
        ) {
            state.show_help = false;
        }
        return Vec::new();
    }
    if state.mode != Mode::Normal {
        return command::on_key(state, ev);
    }
    let Some(key) = Key::from_event(&ev) else {
        return Vec::new();
    };
    state.pending_keys.push(key);
    match state.keymap.lookup(&state.pending_keys) {
        Lookup::Action(a) => {
            state.pending_keys.clear();
            actions::run(state, a)
        }
        Lookup::Prefix => Vec::new(),
        Lookup::None => {
            state.pending_keys.clear();
            // The key may start a new sequence of its own.
            if let Lookup::Action(a) = state.keymap.lookup(&[key]) {
                return actions::run(state, a);
            }
            Vec::new()
        }
    }
}
