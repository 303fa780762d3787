//! The edit loop's state: the form, what was sent and not answered, what the cluster accepted
//! and the watch has not shown yet, and the undo stack. Changed by `update/edit.rs`.

use super::edit::EditSession;
use crate::model::edit::{Applied, FieldEdit};
use std::collections::BTreeMap;

/// A drain or a restore waiting for the user's yes, with what they should know first.
#[derive(Debug, Clone)]
pub struct RotationConfirm {
    pub edits: Vec<FieldEdit>,
    /// "drain" or "restore".
    pub verb: &'static str,
    /// Per entry: what will happen there.
    pub lines: Vec<String>,
    pub warnings: Vec<String>,
}

/// An edit sent to the source and not answered yet.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// An undo (its answer pops nothing from the undo stack).
    pub undo: bool,
    /// What it does, for the status line.
    pub summary: String,
}

pub struct Edits {
    /// The open edit form.
    pub form: Option<EditSession>,
    /// A drain or restore asking to be confirmed.
    pub rotation: Option<RotationConfirm>,
    pub undo: Vec<Vec<Applied>>,
    /// Request id → the edit it carries.
    pub in_flight: BTreeMap<u64, InFlight>,
    pub next_request: u64,
    /// Edits the API server accepted that the watch has not delivered yet: shown as pending.
    pub pending: Vec<FieldEdit>,
}

impl Default for Edits {
    fn default() -> Self {
        Edits {
            form: None,
            rotation: None,
            undo: Vec::new(),
            in_flight: BTreeMap::new(),
            next_request: 1,
            pending: Vec::new(),
        }
    }
}
