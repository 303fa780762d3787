//! `d` drain and `r` restore: plan on the selected (or marked) WorkloadEntries, say what will
//! happen and what to worry about, and on yes hand the edits to the source like any other edit
//! (so they are followed through the planes and `u` undoes them).

use super::edit;
use crate::io::source::{Change, FieldEdit, WriteMode};
use crate::model::drain::{self, Refused};
use crate::model::object::ObjectKey;
use crate::msg::Cmd;
use crate::state::edits::{Confirm, Confirmed};
use crate::state::{Level, State};

fn refuse(state: &mut State, why: String) -> Vec<Cmd> {
    state.ui.status = Some((Level::Error, why));
    Vec::new()
}

fn revision_of(state: &State, key: &ObjectKey) -> Option<String> {
    let entry = state.registry.store.get(key)?;
    entry
        .origin
        .as_ref()
        .map(|o| o.revision.clone())
        .or_else(|| entry.object.meta().resource_version.clone())
}

fn edit_of(state: &State, key: &ObjectKey, change: Change) -> FieldEdit {
    FieldEdit {
        target: crate::model::endpoint::EndpointSource::WorkloadEntry {
            namespace: key.namespace.to_string(),
            name: key.name.to_string(),
            cluster: key.cluster.clone(),
        },
        change,
        revision: revision_of(state, key),
        origin: state.registry.store.get(key).and_then(|e| e.origin.clone()),
        mode: WriteMode::Precondition,
    }
}

/// The entries the key is for, or why there are none.
fn entries(state: &State) -> Result<Vec<ObjectKey>, String> {
    let sources = edit::targets_of(state)?;
    sources
        .iter()
        .map(|s| drain::entry_of(s).map_err(|r| r.to_string()))
        .collect()
}

fn writable(state: &State, keys: &[ObjectKey]) -> Result<(), String> {
    if state.setup.readonly {
        return Err(format!(
            "read-only: {}; nothing is drained",
            state.readonly_why()
        ));
    }
    if let Some(why) = keys.iter().find_map(|k| state.write_denied(k)) {
        return Err(format!(
            "draining is off: the cluster said {why} for workloadentries"
        ));
    }
    Ok(())
}

pub fn drain(state: &mut State) -> Vec<Cmd> {
    let keys = match entries(state).and_then(|keys| writable(state, &keys).map(|()| keys)) {
        Ok(k) => k,
        Err(why) => return refuse(state, why),
    };
    let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let mut confirm = Confirm {
        title: String::new(),
        verb: "drain",
        lines: Vec::new(),
        warnings: Vec::new(),
        then: Confirmed::Edits(Vec::new()),
    };
    let mut edits = Vec::new();
    for key in &keys {
        let plan = match drain::plan(&state.registry.store, key, &state.setup.who.user, &at) {
            Ok(p) => p,
            Err(r) => return refuse(state, r.to_string()),
        };
        confirm.lines.push(format!(
            "{key}: out of EDS (health checks on, Healthy=False by {} with meshdeck)",
            plan.record.by
        ));
        confirm
            .warnings
            .extend(plan.warnings.iter().map(|w| format!("{key}: {w}")));
        edits.push(edit_of(
            state,
            key,
            Change::Drain {
                record: plan.record,
            },
        ));
    }
    state.edits.confirm = Some(finish(confirm, edits));
    Vec::new()
}

pub fn restore(state: &mut State) -> Vec<Cmd> {
    let keys = match entries(state).and_then(|keys| writable(state, &keys).map(|()| keys)) {
        Ok(k) => k,
        Err(why) => return refuse(state, why),
    };
    let mut confirm = Confirm {
        title: String::new(),
        verb: "restore",
        lines: Vec::new(),
        warnings: Vec::new(),
        then: Confirmed::Edits(Vec::new()),
    };
    let mut edits = Vec::new();
    for key in &keys {
        let record = match drain::restore_plan(&state.registry.store, key) {
            Ok(r) => r,
            Err(r @ Refused::NotDrained(_)) if keys.len() > 1 => {
                confirm.warnings.push(format!("{r}: left as it is"));
                continue;
            }
            Err(r) => return refuse(state, r.to_string()),
        };
        let back = match &record.condition_before {
            Some(c) => format!("Healthy={} as before", c.status),
            None => "no Healthy condition, as before".into(),
        };
        let annotation = if record.annotation_changed() {
            "health checks off again"
        } else {
            "health checks stay on"
        };
        confirm.lines.push(format!(
            "{key}: back in EDS ({annotation}, {back}; drained by {} at {})",
            record.by, record.at
        ));
        edits.push(edit_of(state, key, Change::Restore { record }));
    }
    if edits.is_empty() {
        return refuse(state, "none of the selected entries is drained".into());
    }
    state.edits.confirm = Some(finish(confirm, edits));
    Vec::new()
}

/// The title names the one entry, or how many.
fn finish(mut confirm: Confirm, edits: Vec<FieldEdit>) -> Confirm {
    confirm.title = match edits.as_slice() {
        [one] => format!("{} {}?", confirm.verb, one.object()),
        many => format!("{} {} entries?", confirm.verb, many.len()),
    };
    confirm.then = Confirmed::Edits(edits);
    confirm
}
