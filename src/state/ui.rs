//! What the person sees and is typing: screens and their lists, the mode and line, the help,
//! the status line, the terminal's size. Changed by `update/keys.rs`, `actions.rs`,
//! `command.rs` and `rows.rs`.

use super::list::{ListView, Screen};
use crate::config::key::Key;
use crate::msg::Level;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Command,
    Filter,
}

pub struct Ui {
    pub screens: Vec<Screen>,
    pub lists: HashMap<Screen, ListView>,
    pub mode: Mode,
    /// What is typed on the command or filter line.
    pub input: String,
    /// Keys of a sequence typed so far (`g` of `g g`).
    pub pending_keys: Vec<Key>,
    pub show_help: bool,
    /// Lines scrolled down in the help.
    pub help_scroll: u16,
    /// The terminal's width and height, as the last resize said.
    pub viewport: (u16, u16),
    /// The first screen's hint, until a key is pressed.
    pub notice: Option<String>,
    pub status: Option<(Level, String)>,
    /// The namespace shown (`-n`, `:ns`; None: all).
    pub namespace: Option<String>,
    pub quit: bool,
}

impl Ui {
    pub fn new(namespace: Option<String>, notice: Option<String>) -> Ui {
        Ui {
            screens: vec![Screen::List(crate::model::object::Kind::ServiceEntry)],
            lists: HashMap::new(),
            mode: Mode::Normal,
            input: String::new(),
            pending_keys: Vec::new(),
            show_help: false,
            help_scroll: 0,
            viewport: (80, 24),
            notice,
            status: None,
            namespace,
            quit: false,
        }
    }
}
