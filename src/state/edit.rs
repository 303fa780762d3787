//! An edit in progress: the targets, the two inputs, their validation and the share preview.

use crate::model::endpoint::EndpointSource;
use crate::model::object::ObjectKey;
use crate::model::store::Origin;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, PartialEq)]
pub struct EditTarget {
    pub source: EndpointSource,
    pub key: ObjectKey,
    pub weight: Option<u32>,
    pub locality: Option<String>,
    pub origin: Option<Origin>,
    pub revision: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditFocus {
    Weight,
    Locality,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EditStage {
    Editing,
    Confirm,
    Submitting,
}

/// One endpoint of an affected service, before and after the edit.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewRow {
    pub service: String,
    pub endpoint: String,
    pub is_target: bool,
    pub before: f64,
    pub after: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    pub weight: Option<String>,
    pub locality: Option<String>,
}

pub struct EditSession {
    pub targets: Vec<EditTarget>,
    pub focus: EditFocus,
    pub weight: TextArea<'static>,
    pub locality: TextArea<'static>,
    pub initial_weight: String,
    pub initial_locality: String,
    /// What is wrong with each field's value, shown under it.
    pub field_errors: FieldErrors,
    /// A conflict or rejection from the source: shown above the fields, the inputs are kept.
    pub source_error: Option<String>,
    pub preview: Vec<PreviewRow>,
    pub stage: EditStage,
    /// Another field manager owns a field: confirming again takes it over (forced apply).
    pub owned_by: Option<String>,
    pub force: bool,
}

impl EditSession {
    pub fn weight_text(&self) -> String {
        self.weight.lines().join("")
    }
    pub fn locality_text(&self) -> String {
        self.locality.lines().join("")
    }
    pub fn is_bulk(&self) -> bool {
        self.targets.len() > 1
    }
    pub fn has_errors(&self) -> bool {
        self.field_errors.weight.is_some() || self.field_errors.locality.is_some()
    }
}
