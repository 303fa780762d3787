//! The edit loop's state: the form, what was sent and not answered, what the cluster accepted
//! and the watch has not shown yet, and the undo stack. Changed by `update/edit.rs`.

use super::edit::EditSession;
use crate::model::edit::{Applied, FieldEdit};
use std::collections::BTreeMap;

/// Something that writes waiting for the user's yes (a drain, a restore, a shift), with
/// what will happen and what they should know first.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// The popup's title: "drain we shop/vm-1?".
    pub title: String,
    /// "drain", "restore", "shift": what yes does.
    pub verb: &'static str,
    /// What will happen, line by line.
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
    pub then: Confirmed,
}

/// What yes starts.
#[derive(Debug, Clone)]
pub enum Confirmed {
    Edits(Vec<FieldEdit>),
    /// The shift, ready to keep its plan and run.
    Shift(Box<ShiftRun>),
}

/// An edit sent to the source and not answered yet.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// An undo (its answer pops nothing from the undo stack).
    pub undo: bool,
    /// What it does, for the status line.
    pub summary: String,
}

/// Weights a shift wrote (None: taken away), each endpoint's.
pub type Written = Vec<(crate::model::endpoint::EndpointSource, Option<u32>)>;

/// A staged shift this console runs (`update/shift.rs` drives it).
#[derive(Debug, Clone)]
pub struct ShiftRun {
    pub shift: crate::model::shift::Shift,
    /// This console, as the plan names its owner.
    pub owner: String,
    /// The plan is kept (create answered): steps may be written.
    pub kept: bool,
    /// The current weights' write, sent and not answered.
    pub request: Option<u64>,
    /// The plan's last write, and the gates' last reading.
    pub last_beat: std::time::Instant,
    pub last_read: std::time::Instant,
    /// The newest poll of any Envoy the gates have read: a newer one is a new reading.
    pub seen: Option<std::time::SystemTime>,
    /// What the Endpoints screen shows of it, made on each reading.
    pub line: String,
    /// Quits asked for while it rolls back: the third leaves without waiting.
    pub quits: u8,
    /// The last weights written and when: the next step waits until the store shows them.
    pub written: Option<(std::time::Instant, Written)>,
}

/// The shift form's fields, in order.
pub const SHIFT_FIELDS: [&str; 4] = ["steps %", "hold", "max 5xx", "max p99"];

/// `:shift` with no arguments: a field per setting, and what they give, kept up to date.
pub struct ShiftForm {
    /// One per `SHIFT_FIELDS`.
    pub inputs: Vec<ratatui_textarea::TextArea<'static>>,
    pub focus: usize,
    /// The plan's lines (summary, every step's weights), or why the fields give none.
    pub preview: Result<Vec<String>, String>,
    pub warnings: Vec<String>,
}

impl ShiftForm {
    pub fn text(&self, i: usize) -> String {
        self.inputs
            .get(i)
            .map(|t| t.lines().join(""))
            .unwrap_or_default()
    }
}

pub struct Edits {
    /// The open edit form.
    pub form: Option<EditSession>,
    /// A drain, restore or shift asking to be confirmed.
    pub confirm: Option<Confirm>,
    /// `:shift`'s form: the steps, hold and gates, with the weights they give.
    pub shift_form: Option<ShiftForm>,
    pub undo: Vec<Vec<Applied>>,
    /// Request id → the edit it carries.
    pub in_flight: BTreeMap<u64, InFlight>,
    pub next_request: u64,
    /// Edits the API server accepted that the watch has not delivered yet: shown as pending.
    pub pending: Vec<FieldEdit>,
    pub shift: Option<ShiftRun>,
}

impl Default for Edits {
    fn default() -> Self {
        Edits {
            form: None,
            confirm: None,
            shift_form: None,
            undo: Vec::new(),
            in_flight: BTreeMap::new(),
            next_request: 1,
            pending: Vec::new(),
            shift: None,
        }
    }
}
