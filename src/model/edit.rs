//! An edit of one endpoint, as the UI asks for it and a source carries it out: one field, or
//! taking a WorkloadEntry out of rotation and back (`model/drain.rs`).

use crate::model::drain::DrainRecord;
use crate::model::endpoint::{EndpointSource, source_key};
use crate::model::object::ObjectKey;
use crate::model::store::Origin;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Change {
    /// `from` is what the user saw (None: absent); a source refuses if it is no longer so.
    Weight {
        from: Option<u32>,
        to: u32,
    },
    /// The weight goes away (istiod then sends 1): how an unset weight is put back.
    UnsetWeight {
        from: u32,
    },
    Locality {
        from: Option<String>,
        to: String,
    },
    /// Health checks on and Healthy=False, with what was there kept in the record.
    Drain {
        record: DrainRecord,
    },
    /// Puts back what `record` says a drain changed, and nothing else.
    Restore {
        record: DrainRecord,
    },
}

impl Change {
    pub fn is_rotation(&self) -> bool {
        matches!(self, Change::Drain { .. } | Change::Restore { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldEdit {
    pub target: EndpointSource,
    pub change: Change,
    /// Revision of the object (file hash, resourceVersion) the user saw.
    pub revision: Option<String>,
    /// Where a file source finds the object; None for API sources.
    #[serde(skip)]
    pub origin: Option<Origin>,
    /// How an API source writes it: server-side apply, forced apply, or an update guarded by
    /// the resourceVersion (undo, and fields that cannot be owned).
    #[serde(skip)]
    pub mode: WriteMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteMode {
    #[default]
    Apply,
    /// Take the field over from the manager that owns it: only after the user said so.
    ForceApply,
    /// Fail with a conflict if the object changed since `revision`.
    Precondition,
}

impl FieldEdit {
    pub fn object(&self) -> ObjectKey {
        source_key(&self.target)
    }

    /// Path of the field inside the object.
    pub fn path(&self) -> String {
        let field = match self.change {
            Change::Weight { .. } | Change::UnsetWeight { .. } => "weight",
            Change::Locality { .. } => "locality",
            Change::Drain { .. } | Change::Restore { .. } => {
                return "metadata.annotations, status.conditions".into();
            }
        };
        match &self.target {
            EndpointSource::WorkloadEntry { .. } | EndpointSource::Pod { .. } => {
                format!("spec.{field}")
            }
            EndpointSource::ServiceEntry { index, .. } => {
                format!("spec.endpoints[{index}].{field}")
            }
        }
    }

    /// The edit that takes this one back, valid once this one is applied at `revision`.
    pub fn inverse(&self, revision: Option<String>) -> FieldEdit {
        let change = match &self.change {
            Change::Weight { from: None, to } => Change::UnsetWeight { from: *to },
            Change::Weight {
                from: Some(from),
                to,
            } => Change::Weight {
                from: Some(*to),
                to: *from,
            },
            Change::UnsetWeight { from } => Change::Weight {
                from: None,
                to: *from,
            },
            Change::Locality { from, to } => Change::Locality {
                from: Some(to.clone()),
                to: from.clone().unwrap_or_default(),
            },
            Change::Drain { record } => Change::Restore {
                record: record.clone(),
            },
            Change::Restore { record } => Change::Drain {
                record: record.clone(),
            },
        };
        FieldEdit {
            target: self.target.clone(),
            change,
            revision,
            origin: self.origin.clone(),
            mode: WriteMode::Precondition,
        }
    }

    /// The field, its old and its new value in words: for the status line, Events and the
    /// audit log.
    pub fn values(&self) -> (&'static str, String, String) {
        match &self.change {
            Change::Weight { from, to } => (
                "weight",
                from.map_or("unset".into(), |w| w.to_string()),
                to.to_string(),
            ),
            Change::UnsetWeight { from } => ("weight", from.to_string(), "unset".into()),
            Change::Locality { from, to } => (
                "locality",
                from.clone().unwrap_or_else(|| "unset".into()),
                if to.is_empty() {
                    "unset".into()
                } else {
                    to.clone()
                },
            ),
            Change::Drain { .. } => ("rotation", "in".into(), "drained".into()),
            Change::Restore { .. } => ("rotation", "drained".into(), "in".into()),
        }
    }

    pub fn describe(&self) -> String {
        let (what, from, to) = self.values();
        format!("{} {what} {from} → {to}", self.object())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub edit: FieldEdit,
    /// Revision after the write, for undo.
    pub revision: Option<String>,
    /// What the API server warned about the write (e.g. an unknown field it dropped).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("read-only: meshdeck was started with --readonly; nothing was written")]
    ReadOnly,
    #[error("conflict on {object}: {message}")]
    Conflict { object: String, message: String },
    #[error("rejected: {}", .0.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Server-side apply: another field manager owns the field.
    #[error(
        "{field} of {object} is owned by field manager {manager:?}; a forced apply would take it over"
    )]
    Owned {
        object: String,
        field: String,
        manager: String,
    },
    #[error("{0}")]
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}
