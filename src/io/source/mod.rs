//! Registry sources: where objects come from and where edits go. Files now; the Kubernetes
//! API implements the same trait. Applying is asynchronous and may come back with a conflict or
//! field errors, which the edit form shows next to the field.

pub mod files;
pub mod rotation;
pub mod task;

pub use crate::model::edit::{Applied, ApplyError, Change, FieldEdit, FieldError, WriteMode};

use std::future::Future;

pub trait Source: Send + 'static {
    /// One line for the status bar: `files: ./mesh (12 files)`.
    fn describe(&self) -> String;
    /// Applies all edits or none of them where the source can promise that.
    fn apply(
        &mut self,
        edits: Vec<FieldEdit>,
    ) -> impl Future<Output = Result<Vec<Applied>, ApplyError>> + Send;
    /// Where this source keeps a staged shift's plan for `service`.
    fn plan_lock(
        &self,
        service: &crate::model::object::ObjectKey,
    ) -> Result<crate::io::shift_plan::PlanLock, String>;
}
