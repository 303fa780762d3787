//! `update`: the only code that changes State. Each submodule handles one concern.

mod actions;
mod command;
mod edit;
mod keys;
mod registry;
pub mod rows;

use crate::msg::{Cmd, Msg};
use crate::state::State;

pub fn update(state: &mut State, msg: Msg) -> Vec<Cmd> {
    let cmds = match msg {
        Msg::Key(k) => keys::on_key(state, k),
        Msg::Paste(text) => edit::on_paste(state, &text),
        Msg::Resize => Vec::new(),
        Msg::FilesLoaded(files) => {
            registry::files_loaded(state, files);
            Vec::new()
        }
        Msg::FileRemoved(path) => {
            registry::file_removed(state, &path);
            Vec::new()
        }
        Msg::Applied { id, result } => edit::on_applied(state, id, result),
        Msg::Traffic(t) => {
            state.traffic = Some(t);
            Vec::new()
        }
        Msg::Event(level, text) => {
            state.status = Some((level, text));
            Vec::new()
        }
    };
    if state.quit {
        return vec![Cmd::Quit];
    }
    cmds
}

/// Sets up the first screen once the registry is loaded.
pub fn init(state: &mut State) {
    state.refresh_findings();
    rows::rebuild(state);
}
