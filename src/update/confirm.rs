//! The confirmation popup's keys: yes starts what it holds (a drain's or a restore's edits, a
//! shift), no writes nothing.

use super::edit;
use crate::action::Action;
use crate::msg::Cmd;
use crate::state::edits::Confirmed;
use crate::state::{Level, State};

/// yes does what the confirmation says (sends the edits, starts the shift); no writes nothing.
pub fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    let Some(confirm) = state.edits.confirm.take() else {
        return Vec::new();
    };
    match action {
        Action::ConfirmYes => match confirm.then {
            Confirmed::Edits(edits) => edit::send(state, edits, false),
            Confirmed::Shift(run) => super::shift::confirmed(state, *run),
        },
        Action::ConfirmNo => {
            state.ui.status = Some((
                Level::Info,
                format!("{} cancelled; nothing was written", confirm.verb),
            ));
            Vec::new()
        }
        _ => {
            state.edits.confirm = Some(confirm);
            Vec::new()
        }
    }
}
