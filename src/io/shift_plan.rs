//! Where a staged shift's plan is kept so another console or a restart sees it, and so two
//! consoles cannot run two shifts on one service: the ServiceEntry's `meshdeck.io/shift`
//! annotation on a cluster (written with its resourceVersion, so of two consoles racing one
//! wins), or a state file beside the manifests (`.meshdeck/shift-NS-NAME.json`, created
//! exclusively). Every write checks that the plan kept is still this console's.

use crate::io::kube::apply::{KubeSource, classify};
use crate::model::object::{Kind, ObjectKey};
use crate::model::shift::plan::TAKEN_TO_ROLL_BACK;
use crate::model::shift::{Plan, PlanState, SHIFT_ANNOTATION};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Tries of a read-then-write that lost a race with another write to the ServiceEntry (the
/// console's own weight edits of inline endpoints change it too).
const TRIES: usize = 5;

pub enum PlanLock {
    File(PathBuf),
    Cluster(Box<OnObject>),
}

pub struct OnObject {
    api: Api<DynamicObject>,
    name: String,
    object: String,
}

/// Why a new plan was not written.
#[derive(Debug)]
pub enum Refused {
    /// Another plan is there.
    Held(Box<Plan>),
    Failed(String),
}

/// An exclusive advisory lock on `PLAN.lock`, held while the returned file is open.
fn lock_beside(path: &std::path::Path) -> Result<std::fs::File, String> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock = std::path::PathBuf::from(name);
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| format!("{}: {e}", lock.display()))?;
    f.lock().map_err(|e| format!("{}: {e}", lock.display()))?;
    Ok(f)
}

impl PlanLock {
    /// The state file for `service` under the first manifest root (its folder, for a file).
    pub fn for_files(roots: &[PathBuf], service: &ObjectKey) -> PlanLock {
        let root = roots.first().map_or(Path::new("."), PathBuf::as_path);
        let dir = if root.is_file() {
            root.parent().unwrap_or(Path::new("."))
        } else {
            root
        };
        PlanLock::File(
            dir.join(".meshdeck")
                .join(format!("shift-{}-{}.json", service.namespace, service.name)),
        )
    }

    pub fn for_cluster(source: &KubeSource, service: &ObjectKey) -> Result<PlanLock, String> {
        Ok(PlanLock::Cluster(Box::new(OnObject {
            api: source
                .api(Kind::ServiceEntry, &service.namespace)
                .map_err(|e| e.to_string())?,
            name: service.name.to_string(),
            object: service.to_string(),
        })))
    }

    /// Where it is kept, in words.
    pub fn describe(&self) -> String {
        match self {
            PlanLock::File(p) => p.display().to_string(),
            PlanLock::Cluster(o) => {
                format!("annotation {SHIFT_ANNOTATION} on {}", o.object)
            }
        }
    }

    pub async fn read(&self) -> Result<Option<Plan>, String> {
        match self {
            PlanLock::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => Plan::from_json(&text)
                    .map(Some)
                    .map_err(|e| format!("{}: {e}", path.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("{}: {e}", path.display())),
            },
            PlanLock::Cluster(_) => Ok(self.get().await?.1),
        }
    }

    /// Writes a new plan unless one is there.
    pub async fn create(&self, plan: &Plan) -> Result<(), Refused> {
        match self {
            PlanLock::File(path) => {
                let fail = |e: std::io::Error| Refused::Failed(format!("{}: {e}", path.display()));
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(fail)?;
                }
                match std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)
                {
                    Ok(mut f) => {
                        std::io::Write::write_all(&mut f, plan.to_json().as_bytes()).map_err(fail)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        match self.read().await {
                            Ok(Some(held)) => Err(Refused::Held(Box::new(held))),
                            Ok(None) => Err(Refused::Failed(format!(
                                "{}: it was there and is gone; try again",
                                path.display()
                            ))),
                            Err(e) => Err(Refused::Failed(e)),
                        }
                    }
                    Err(e) => Err(fail(e)),
                }
            }
            PlanLock::Cluster(_) => {
                for _ in 0..TRIES {
                    let (rv, held) = self.get().await.map_err(Refused::Failed)?;
                    if let Some(held) = held {
                        return Err(Refused::Held(Box::new(held)));
                    }
                    match self.patch(rv, json!(plan.to_json())).await {
                        Ok(true) => return Ok(()),
                        Ok(false) => continue,
                        Err(e) => return Err(Refused::Failed(e)),
                    }
                }
                Err(Refused::Failed(self.busy()))
            }
        }
    }

    /// Writes `plan` over the one kept, which must be `owner`'s (None: take over whatever is
    /// there, as `--resume` and `--rollback` do once they have said whose it was).
    pub async fn save(&self, plan: &Plan, owner: Option<&str>) -> Result<(), String> {
        self.replace(Some(plan), owner).await
    }

    /// Removes the plan, which must be `owner`'s.
    pub async fn remove(&self, owner: &str) -> Result<(), String> {
        self.replace(None, Some(owner)).await
    }

    /// Takes over the plan kept for `service`: to roll it back (any plan; its console sees it
    /// taken and stops) or to resume it (only one whose console has gone quiet). Returns the
    /// plan as now kept and, in words, whose it was.
    pub async fn take(
        &self,
        service: &ObjectKey,
        owner: &str,
        by: &str,
        rollback: bool,
    ) -> Result<(Plan, String), String> {
        let now = std::time::SystemTime::now();
        let Some(mut plan) = self.read().await? else {
            return Err(format!(
                "there is no shift of {service} to {}: nothing is kept in {}",
                if rollback { "roll back" } else { "resume" },
                self.describe()
            ));
        };
        if !rollback && !plan.is_stale(now) {
            return Err(format!(
                "{}: it is still running; resuming takes over a shift whose console stopped (quiet for over {}s); a rollback stops it from here",
                plan.describe(now),
                crate::model::shift::plan::STALE_AFTER.as_secs()
            ));
        }
        let was = plan.describe(now);
        plan.owner = owner.into();
        plan.by = by.into();
        if rollback {
            plan.state = PlanState::RollingBack;
            plan.why = Some(format!("{TAKEN_TO_ROLL_BACK} {by}"));
        } else if plan.state == PlanState::Paused {
            plan.state = PlanState::Running;
        }
        plan.touch(now);
        self.save(&plan, None).await?;
        Ok((plan, was))
    }

    /// One operation of the console's, answered.
    pub async fn carry_out(&self, op: crate::msg::shift::PlanOp) -> crate::msg::shift::PlanAnswer {
        use crate::msg::shift::{PlanAnswer, PlanOp};
        let done = |r: Result<(), String>| r.map_or_else(PlanAnswer::Failed, |()| PlanAnswer::Done);
        match op {
            PlanOp::Create(plan) => match self.create(&plan).await {
                Ok(()) => PlanAnswer::Done,
                Err(Refused::Held(h)) => PlanAnswer::Held(h),
                Err(Refused::Failed(e)) => PlanAnswer::Failed(e),
            },
            PlanOp::Save { plan, owner } => done(self.save(&plan, Some(&owner)).await),
            PlanOp::Remove { owner, .. } => done(self.remove(&owner).await),
            PlanOp::Take {
                service,
                owner,
                by,
                rollback,
            } => match self.take(&service, &owner, &by, rollback).await {
                Ok((plan, was)) => PlanAnswer::Taken(Box::new(plan), was),
                Err(e) => PlanAnswer::Failed(e),
            },
        }
    }

    async fn replace(&self, plan: Option<&Plan>, owner: Option<&str>) -> Result<(), String> {
        // Two consoles on one host: the check that the plan is still ours and the write that
        // follows are one step, under an advisory lock beside the plan (released on drop).
        let _locked = match self {
            PlanLock::File(path) => Some(lock_beside(path)?),
            PlanLock::Cluster(_) => None,
        };
        for _ in 0..TRIES {
            let (rv, held) = match self {
                PlanLock::File(_) => (None, self.read().await?),
                PlanLock::Cluster(_) => self.get().await?,
            };
            if let Some(owner) = owner {
                match &held {
                    Some(h) if h.owner == owner => {}
                    Some(h) => {
                        return Err(format!(
                            "the plan in {} is now {}'s ({}): this console stopped",
                            self.describe(),
                            h.by,
                            h.owner
                        ));
                    }
                    None => {
                        return Err(format!(
                            "the plan in {} was removed by someone else: this console stopped",
                            self.describe()
                        ));
                    }
                }
            }
            match self {
                PlanLock::File(path) => {
                    let done = match plan {
                        Some(p) => crate::io::manifests::atomic_write::write(path, &p.to_json()),
                        None => std::fs::remove_file(path),
                    };
                    return done.map_err(|e| format!("{}: {e}", path.display()));
                }
                PlanLock::Cluster(_) => {
                    let value = plan.map_or(Value::Null, |p| json!(p.to_json()));
                    if self.patch(rv, value).await? {
                        return Ok(());
                    }
                }
            }
        }
        Err(self.busy())
    }

    fn busy(&self) -> String {
        format!(
            "{} kept changing under this console ({TRIES} tries); try again",
            self.describe()
        )
    }

    /// The ServiceEntry's resourceVersion and the plan on it.
    async fn get(&self) -> Result<(Option<String>, Option<Plan>), String> {
        let PlanLock::Cluster(o) = self else {
            unreachable!("only a cluster plan is read from an object")
        };
        let (api, name, object) = (&o.api, &o.name, &o.object);
        let se = api
            .get(name)
            .await
            .map_err(|e| classify(e, object).to_string())?;
        let plan = se
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(SHIFT_ANNOTATION))
            .map(|text| Plan::from_json(text).map_err(|e| format!("{object}: {e}")))
            .transpose()?;
        Ok((se.metadata.resource_version, plan))
    }

    /// A merge patch of the annotation at `rv`: Ok(false) when the object changed since.
    async fn patch(&self, rv: Option<String>, value: Value) -> Result<bool, String> {
        let PlanLock::Cluster(o) = self else {
            unreachable!("only a cluster plan is patched")
        };
        let (api, name, object) = (&o.api, &o.name, &o.object);
        let body = json!({"metadata": {
            "resourceVersion": rv,
            "annotations": {SHIFT_ANNOTATION: value},
        }});
        let params = PatchParams {
            field_manager: Some(crate::io::kube::apply::FIELD_MANAGER.into()),
            ..Default::default()
        };
        match api.patch(name, &params, &Patch::Merge(&body)).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
            Err(e) => Err(classify(e, object).to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_and_the_write_of_a_plan_file_hold_one_lock() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("shift-shop-pay.json");
        let held = lock_beside(&plan).unwrap();
        let other = std::fs::File::open(dir.path().join("shift-shop-pay.json.lock")).unwrap();
        assert!(
            matches!(other.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
            "a second console waits while the first checks and writes"
        );
        drop(held);
        assert!(other.try_lock().is_ok());
    }
}
