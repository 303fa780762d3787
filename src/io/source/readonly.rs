//! A source that writes nothing and says why (cluster editing is not wired yet).

use super::{Applied, ApplyError, FieldEdit, Source};

pub struct ReadOnlySource {
    pub label: String,
    pub reason: String,
}

impl Source for ReadOnlySource {
    fn describe(&self) -> String {
        self.label.clone()
    }

    async fn apply(&mut self, _edits: Vec<FieldEdit>) -> Result<Vec<Applied>, ApplyError> {
        Err(ApplyError::Failed(self.reason.clone()))
    }
}
