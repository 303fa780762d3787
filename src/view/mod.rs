//! Rendering: `render(&State, &Theme, &mut Frame)`. Views borrow and never mutate; each
//! screen is a file of its own.

mod as_of;
mod charts;
mod chrome;
mod confirm;
mod edit_form;
mod endpoints;
mod help;
mod lists;
mod logs;
mod problems;
mod proxies;
mod shift_form;
mod sparkline;
mod table;
mod timeline;
mod yaml;

use crate::config::theme::Theme;
use crate::state::{Screen, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let [top, body, hints, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    chrome::title_bar(state, theme, frame, top);
    match state.screen() {
        Screen::List(kind) => lists::render(state, theme, frame, body, *kind),
        Screen::Endpoints(_) => endpoints::render(state, theme, frame, body),
        Screen::Problems => problems::render(state, theme, frame, body),
        Screen::Proxies => proxies::render(state, theme, frame, body),
        Screen::Charts => charts::render(state, theme, frame, body),
        Screen::Yaml(key) => yaml::render(state, theme, frame, body, key),
        Screen::Logs(_) => logs::render(state, theme, frame, body),
        Screen::Timeline(_) => timeline::render(state, theme, frame, body),
        Screen::AsOf(..) => as_of::render(state, theme, frame, body),
    }
    chrome::key_hints(state, theme, frame, hints);
    chrome::status_bar(state, theme, frame, bottom);
    if state.edits.confirm.is_some() {
        confirm::render(state, theme, frame);
    } else if state.edits.form.is_some() {
        edit_form::render(state, theme, frame);
    } else if state.edits.shift_form.is_some() {
        shift_form::render(state, theme, frame);
    } else if state.ui.show_help {
        help::render(state, theme, frame);
    }
}
