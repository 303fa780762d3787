//! The manifest-file source: edits rewrite one scalar in place and replace the file atomically,
//! refusing when the file changed on disk since meshdeck read it.

use super::Source;
use crate::io::manifests::atomic_write;
use crate::io::manifests::parse::{parse_text, revision_of};
use crate::io::manifests::scalar_edit::{EditError, NewValue, remove_at, set_at, set_scalar};
use crate::model::edit::{Applied, ApplyError, Change, FieldEdit, FieldError};
use crate::model::object::{Object, WorkloadEntry};
use crate::model::validate::check_locality;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub struct FileSource {
    pub roots: Vec<PathBuf>,
    pub readonly: bool,
    /// Plan the writes but do not make them (`meshdeck set --dry-run`).
    pub dry_run: bool,
}

/// What a write would do to one file: for `--dry-run` and for tests.
#[derive(Debug, Clone)]
pub struct PlannedWrite {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

impl FileSource {
    pub fn new(roots: Vec<PathBuf>, readonly: bool) -> Self {
        FileSource {
            roots,
            readonly,
            dry_run: false,
        }
    }

    /// Checks and computes every write without touching the disk.
    pub fn plan(&self, edits: &[FieldEdit]) -> Result<Vec<PlannedWrite>, ApplyError> {
        validate(edits)?;
        let mut by_file: BTreeMap<PathBuf, Vec<&FieldEdit>> = BTreeMap::new();
        for e in edits {
            let origin = e.origin.as_ref().ok_or_else(|| {
                ApplyError::Failed(format!(
                    "{} did not come from a file, so it cannot be written to one",
                    e.object()
                ))
            })?;
            by_file.entry(origin.path.clone()).or_default().push(e);
        }
        let mut plans = Vec::new();
        for (path, edits) in by_file {
            let before = std::fs::read_to_string(&path).map_err(|err| {
                ApplyError::Failed(format!("cannot read {}: {err}", path.display()))
            })?;
            let now = revision_of(&before);
            let mut after = before.clone();
            for e in edits {
                if e.revision.as_deref().is_some_and(|r| r != now) {
                    return Err(ApplyError::Conflict {
                        object: e.object().to_string(),
                        message: format!(
                            "{} changed on disk since meshdeck read it; it is reloaded now: \
                             check the new values and edit again",
                            path.display()
                        ),
                    });
                }
                after = apply_one(&after, e)?;
            }
            plans.push(PlannedWrite {
                path,
                before,
                after,
            });
        }
        Ok(plans)
    }
}

fn validate(edits: &[FieldEdit]) -> Result<(), ApplyError> {
    let errors: Vec<FieldError> = edits
        .iter()
        .filter_map(|e| match &e.change {
            Change::Locality { to, .. } => check_locality(to).err().map(|m| FieldError {
                field: e.path(),
                message: m,
            }),
            Change::Weight { .. }
            | Change::UnsetWeight { .. }
            | Change::Drain { .. }
            | Change::Restore { .. } => None,
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::Invalid(errors))
    }
}

fn apply_one(text: &str, e: &FieldEdit) -> Result<String, ApplyError> {
    let origin = e.origin.as_ref().expect("checked by plan");
    let conflict = |message: String| ApplyError::Conflict {
        object: e.object().to_string(),
        message,
    };
    let in_file = |err: EditError| conflict(format!("{}: {err}", origin.path.display()));
    let out = match &e.change {
        Change::Weight { from, to } => {
            let from = from.map(|w| w.to_string());
            set_scalar(
                text,
                origin.doc,
                &e.path(),
                from.as_deref(),
                &NewValue::Int(*to),
            )
            .map_err(in_file)?
        }
        Change::UnsetWeight { from } => {
            let path = crate::io::manifests::yaml_tree::parse_path(&e.path());
            // Written over with itself first: refused, as any edit, if the file moved on.
            let checked = set_at(
                text,
                origin.doc,
                &path,
                Some(&from.to_string()),
                &NewValue::Int(*from),
            )
            .map_err(in_file)?;
            remove_at(&checked, origin.doc, &path).map_err(in_file)?
        }
        Change::Locality { from, to } => set_scalar(
            text,
            origin.doc,
            &e.path(),
            from.as_deref(),
            &NewValue::Str(to.clone()),
        )
        .map_err(in_file)?,
        Change::Drain { record } => {
            let we = entry_in(text, e)?;
            super::rotation::drain_text(text, origin.doc, &we, record)
                .map_err(|why| conflict(format!("{}: {why}", origin.path.display())))?
        }
        Change::Restore { .. } => {
            let we = entry_in(text, e)?;
            super::rotation::restore_text(text, origin.doc, &we)
                .map_err(|why| conflict(format!("{}: {why}", origin.path.display())))?
        }
    };
    // The rewritten file must still hold this object, now with the new value.
    let parsed = parse_text(&origin.path, &out);
    let ok = parsed.entries.iter().any(|en| {
        en.object.key() == e.object() && en.origin.as_ref().is_some_and(|o| o.doc == origin.doc)
    });
    if !ok {
        return Err(conflict(format!(
            "{} document {} no longer holds {}; reload and edit again",
            origin.path.display(),
            origin.doc,
            e.object()
        )));
    }
    Ok(out)
}

/// The WorkloadEntry `e` is for, as the file holds it now.
fn entry_in(text: &str, e: &FieldEdit) -> Result<WorkloadEntry, ApplyError> {
    let origin = e.origin.as_ref().expect("checked by plan");
    parse_text(&origin.path, text)
        .entries
        .into_iter()
        .filter(|en| en.origin.as_ref().is_some_and(|o| o.doc == origin.doc))
        .find(|en| en.object.key() == e.object())
        .and_then(|en| match en.object {
            Object::WorkloadEntry(we) => Some(we),
            _ => None,
        })
        .ok_or_else(|| ApplyError::Conflict {
            object: e.object().to_string(),
            message: format!(
                "{} document {} no longer holds it; reload and edit again",
                origin.path.display(),
                origin.doc
            ),
        })
}

impl Source for FileSource {
    fn plan_lock(
        &self,
        service: &crate::model::object::ObjectKey,
    ) -> Result<crate::io::shift_plan::PlanLock, String> {
        Ok(crate::io::shift_plan::PlanLock::for_files(
            &self.roots,
            service,
        ))
    }

    fn describe(&self) -> String {
        let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        format!("files: {}", roots.join(", "))
    }

    async fn apply(&mut self, edits: Vec<FieldEdit>) -> Result<Vec<Applied>, ApplyError> {
        if self.readonly {
            return Err(ApplyError::ReadOnly);
        }
        let plans = self.plan(&edits)?;
        let mut revisions = BTreeMap::new();
        for p in &plans {
            if !self.dry_run {
                atomic_write::write(&p.path, &p.after).map_err(|err| {
                    ApplyError::Failed(format!("cannot write {}: {err}", p.path.display()))
                })?;
            }
            revisions.insert(p.path.clone(), revision_of(&p.after));
        }
        Ok(edits
            .into_iter()
            .map(|edit| {
                let revision = edit
                    .origin
                    .as_ref()
                    .and_then(|o| revisions.get(&o.path).cloned());
                Applied {
                    edit,
                    revision,
                    warnings: Vec::new(),
                }
            })
            .collect())
    }
}
