//! The edit loop: open the form on the selected or marked endpoints, validate as the user
//! types, preview the traffic shares, confirm, hand the edits to the source, and undo.

use crate::action::{Action, Layer};
use crate::io::source::{Applied, ApplyError, Change, FieldEdit, WriteMode};
use crate::model::drain::DRAINED_ANNOTATION;
use crate::model::endpoint::{self, EndpointSource, derive, policy_for, source_key};
use crate::model::locality::Locality;
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::validate::{check_locality, parse_weight};
use crate::msg::Cmd;
use crate::state::dirty::Dirty;
use crate::state::{
    EditFocus, EditSession, EditStage, EditTarget, Level, PreviewRow, RowId, Screen, State,
};
use ratatui::crossterm::event::KeyEvent;
use ratatui_textarea::TextArea;
use std::collections::BTreeSet;

pub(super) fn targets_of(state: &State) -> Result<Vec<EndpointSource>, String> {
    let list = state.list().ok_or("nothing selected")?;
    let rows: Vec<&RowId> = if list.marked.is_empty() {
        list.selected_row().into_iter().collect()
    } else {
        list.marked.iter().collect()
    };
    let mut out = Vec::new();
    for row in rows {
        match (state.screen(), row) {
            (Screen::List(Kind::WorkloadEntry), RowId::Object(k)) => out.push(EndpointSource::WorkloadEntry { namespace: k.namespace.clone(), name: k.name.clone(), cluster: k.cluster.clone() }),
            (Screen::Endpoints(_), RowId::Endpoint(p, e)) => {
                if let Some(ep) = state.endpoint_at(*p, *e) {
                    if let EndpointSource::Pod { name, .. } = &ep.source {
                        return Err(format!("pod {name} is not edited here: its weight comes from its Deployment; select a WorkloadEntry"));
                    }
                    out.push(ep.source.clone());
                }
            }
            _ => return Err("edit works on WorkloadEntries (2) and on a service's Endpoints (enter on a service)".into()),
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|s| seen.insert(s.clone()));
    if out.is_empty() {
        return Err("nothing selected to edit".into());
    }
    Ok(out)
}

fn target(state: &State, source: EndpointSource) -> Option<EditTarget> {
    let key = source_key(&source);
    let entry = state.registry.store.get(&key)?;
    let spec = match (&entry.object, &source) {
        (Object::WorkloadEntry(we), _) => we.spec.clone(),
        (Object::ServiceEntry(se), EndpointSource::ServiceEntry { index, .. }) => {
            se.spec.endpoints.get(*index)?.clone()
        }
        _ => return None,
    };
    Some(EditTarget {
        source,
        key,
        weight: spec.weight,
        locality: spec.locality,
        revision: entry
            .origin
            .as_ref()
            .map(|o| o.revision.clone())
            .or_else(|| entry.object.meta().resource_version.clone()),
        origin: entry.origin.clone(),
    })
}

fn input(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_string()]);
    t.move_cursor(ratatui_textarea::CursorMove::End);
    t
}

pub fn open(state: &mut State) -> Vec<Cmd> {
    if state.setup.readonly {
        state.ui.status = Some((
            Level::Error,
            format!("read-only: {}, edits are off", state.readonly_why()),
        ));
        return Vec::new();
    }
    let sources = match targets_of(state) {
        Ok(s) => s,
        Err(msg) => {
            state.ui.status = Some((Level::Error, msg));
            return Vec::new();
        }
    };
    let targets: Vec<EditTarget> = sources
        .into_iter()
        .filter_map(|s| target(state, s))
        .collect();
    let forbidden = targets
        .iter()
        .find_map(|t| state.write_denied(&t.key).map(|w| (t.key.kind, w.clone())));
    if let Some((kind, why)) = forbidden {
        state.ui.status = Some((
            Level::Error,
            format!("editing {} is off: the cluster said {why}", kind.plural()),
        ));
        return Vec::new();
    }
    if targets.is_empty() {
        state.ui.status = Some((
            Level::Error,
            "the selected entry is gone; it may have been deleted".into(),
        ));
        return Vec::new();
    }
    let weight = targets
        .iter()
        .map(|t| t.weight.map_or(String::new(), |w| w.to_string()))
        .collect::<Vec<_>>()
        .join("/");
    let first_loc = targets[0].locality.clone().unwrap_or_default();
    let locality = if targets
        .iter()
        .all(|t| t.locality.clone().unwrap_or_default() == first_loc)
    {
        first_loc
    } else {
        String::new()
    };
    state.edits.form = Some(EditSession {
        targets,
        focus: EditFocus::Weight,
        weight: input(&weight),
        locality: input(&locality),
        initial_weight: weight,
        initial_locality: locality,
        field_errors: Default::default(),
        source_error: None,
        preview: Vec::new(),
        stage: EditStage::Editing,
        owned_by: None,
        force: false,
    });
    state.registry.dirty |= Dirty::PREVIEW;
    Vec::new()
}

/// New weights per target from the input: one number for all, or `a/b/c` one per target.
pub fn parse_weights(text: &str, n: usize) -> Result<Vec<u32>, String> {
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() == 1 {
        return parse_weight(parts[0]).map(|w| vec![w; n]);
    }
    if parts.len() != n {
        return Err(format!(
            "{} weights for {n} entries: give one number for all, or {n} separated by /",
            parts.len()
        ));
    }
    parts.iter().map(|p| parse_weight(p)).collect()
}

/// The edits the form describes now, or None where a field does not validate.
fn planned(session: &EditSession) -> Option<Vec<FieldEdit>> {
    let n = session.targets.len();
    let weight_text = session.weight_text();
    let new_weights = if weight_text == session.initial_weight {
        None
    } else {
        Some(parse_weights(&weight_text, n).ok()?)
    };
    let loc_text = session.locality_text();
    let new_loc = if loc_text == session.initial_locality {
        None
    } else {
        check_locality(&loc_text).ok()?;
        Some(loc_text)
    };
    let mut edits = Vec::new();
    for (i, t) in session.targets.iter().enumerate() {
        let mk = |change| FieldEdit {
            target: t.source.clone(),
            change,
            revision: t.revision.clone(),
            origin: t.origin.clone(),
            mode: if session.force {
                WriteMode::ForceApply
            } else {
                WriteMode::Apply
            },
        };
        if let Some(w) = new_weights.as_ref().map(|w| w[i])
            && t.weight != Some(w)
        {
            edits.push(mk(Change::Weight {
                from: t.weight,
                to: w,
            }));
        }
        if let Some(l) = &new_loc
            && t.locality.as_deref().unwrap_or("") != l
        {
            edits.push(mk(Change::Locality {
                from: t.locality.clone(),
                to: l.clone(),
            }));
        }
    }
    Some(edits)
}

fn validate(session: &mut EditSession) {
    let n = session.targets.len();
    let w = session.weight_text();
    session.field_errors.weight = if w == session.initial_weight {
        None
    } else {
        parse_weights(&w, n).err()
    };
    let l = session.locality_text();
    session.field_errors.locality = if l == session.initial_locality {
        None
    } else {
        check_locality(&l).err()
    };
}

/// Shares of every endpoint of the affected services, before and after the planned edits.
pub fn refresh_preview(state: &mut State) {
    let Some(session) = state.edits.form.as_ref() else {
        return;
    };
    let edits = planned(session).unwrap_or_default();
    let mut services: BTreeSet<ObjectKey> = BTreeSet::new();
    for t in &session.targets {
        match &t.source {
            EndpointSource::WorkloadEntry { .. } => {
                services.extend(state.registry.store.selecting_ses(&t.key).cloned())
            }
            EndpointSource::ServiceEntry { .. } => {
                services.insert(t.key.clone());
            }
            EndpointSource::Pod { .. } => {}
        }
    }
    let targets: BTreeSet<&EndpointSource> = session.targets.iter().map(|t| &t.source).collect();
    let mut rows = Vec::new();
    for se in &services {
        let Some(before) = derive(&state.registry.store, se, &state.viewpoint) else {
            continue;
        };
        let policy = policy_for(&state.registry.store, se);
        for port in &before.ports {
            let mut after = port.endpoints.clone();
            for ep in after.iter_mut() {
                for e in edits.iter().filter(|e| e.target == ep.source) {
                    match &e.change {
                        Change::Weight { to, .. } => {
                            ep.declared_weight = Some(*to);
                            ep.weight = (*to).max(1);
                        }
                        Change::UnsetWeight { .. } => {
                            ep.declared_weight = None;
                            ep.weight = 1;
                        }
                        Change::Locality { to, .. } => ep.locality = Locality::parse(to),
                        // Not edited through the form.
                        Change::Drain { .. } | Change::Restore { .. } => {}
                    }
                }
            }
            endpoint::apply_shares(&mut after, policy, &state.viewpoint);
            for (b, a) in port.endpoints.iter().zip(&after) {
                rows.push(PreviewRow {
                    service: format!(
                        "{}:{}",
                        before.hosts.first().cloned().unwrap_or_default(),
                        port.port_number
                    ),
                    endpoint: match &b.source {
                        EndpointSource::WorkloadEntry { name, .. } => name.clone(),
                        EndpointSource::Pod { name, .. } => format!("pod/{name}"),
                        EndpointSource::ServiceEntry { index, .. } => {
                            format!("{}[{index}]", b.address)
                        }
                    },
                    is_target: targets.contains(&b.source),
                    before: b.share,
                    after: a.share,
                });
            }
        }
    }
    if let Some(s) = state.edits.form.as_mut() {
        s.preview = rows;
    }
}

/// The layer the form's keys are looked up in now (None while a submission is out).
pub fn layer(state: &State) -> Option<Layer> {
    match state.edits.form.as_ref()?.stage {
        EditStage::Submitting => None,
        EditStage::Confirm => Some(Layer::Confirm),
        EditStage::Editing => Some(Layer::Form),
    }
}

/// A bound key of the form or of its confirmation.
pub fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    let Some(session) = state.edits.form.as_mut() else {
        return Vec::new();
    };
    match (&session.stage, action) {
        (EditStage::Confirm, Action::ConfirmNo) => {
            session.stage = EditStage::Editing;
            session.force = false;
            session.owned_by = None;
        }
        (EditStage::Confirm, Action::ConfirmYes) => return submit(state),
        (EditStage::Editing, Action::FormCancel) => {
            state.edits.form = None;
            state.ui.status = Some((Level::Info, "edit cancelled; nothing was written".into()));
        }
        (EditStage::Editing, Action::FormNextField | Action::FormPrevField) => {
            // Two fields: next and previous are the other one.
            session.focus = match session.focus {
                EditFocus::Weight => EditFocus::Locality,
                EditFocus::Locality => EditFocus::Weight,
            };
        }
        (EditStage::Editing, Action::FormSubmit) => {
            validate(session);
            if session.has_errors() {
                return Vec::new();
            }
            match planned(session) {
                Some(e) if !e.is_empty() => session.stage = EditStage::Confirm,
                _ => {
                    session.source_error = Some(
                        "nothing changed: type a new weight or locality, or esc to leave".into(),
                    )
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

/// A key no binding of the form takes: it edits the focused field.
pub fn on_input(state: &mut State, ev: KeyEvent) -> Vec<Cmd> {
    let Some(session) = state.edits.form.as_mut() else {
        return Vec::new();
    };
    if session.stage != EditStage::Editing {
        return Vec::new();
    }
    let area = match session.focus {
        EditFocus::Weight => &mut session.weight,
        EditFocus::Locality => &mut session.locality,
    };
    area.input(ev);
    session.source_error = None;
    validate(session);
    state.registry.dirty |= Dirty::PREVIEW;
    Vec::new()
}

pub fn on_paste(state: &mut State, text: &str) -> Vec<Cmd> {
    if let Some(session) = state.edits.form.as_mut()
        && session.stage == EditStage::Editing
    {
        let area = match session.focus {
            EditFocus::Weight => &mut session.weight,
            EditFocus::Locality => &mut session.locality,
        };
        area.insert_str(text.lines().next().unwrap_or_default());
        validate(session);
        state.registry.dirty |= Dirty::PREVIEW;
    }
    Vec::new()
}

fn submit(state: &mut State) -> Vec<Cmd> {
    let Some(session) = state.edits.form.as_mut() else {
        return Vec::new();
    };
    let Some(edits) = planned(session).filter(|e| !e.is_empty()) else {
        session.stage = EditStage::Editing;
        return Vec::new();
    };
    session.stage = EditStage::Submitting;
    send(state, edits, false)
}

/// Hands edits to the source, remembering what they do until it answers.
pub(super) fn send(state: &mut State, edits: Vec<FieldEdit>, is_undo: bool) -> Vec<Cmd> {
    let id = state.edits.next_request;
    state.edits.next_request += 1;
    let what = edits
        .iter()
        .map(FieldEdit::describe)
        .collect::<Vec<_>>()
        .join("; ");
    let verb = if is_undo { "undoing" } else { "applying" };
    state.ui.status = Some((Level::Info, format!("{verb}: {what}")));
    state.edits.in_flight.insert(
        id,
        crate::state::edits::InFlight {
            undo: is_undo,
            summary: what,
        },
    );
    vec![Cmd::Apply { id, edits }]
}

pub fn undo(state: &mut State) -> Vec<Cmd> {
    if state.setup.readonly {
        state.ui.status = Some((Level::Error, "read-only: nothing to undo".into()));
        return Vec::new();
    }
    let Some(last) = state.edits.undo.pop() else {
        state.ui.status = Some((Level::Error, "nothing to undo".into()));
        return Vec::new();
    };
    let edits: Vec<FieldEdit> = last
        .iter()
        .rev()
        .map(|a| a.edit.inverse(a.revision.clone()))
        .collect();
    send(state, edits, true)
}

pub fn on_applied(
    state: &mut State,
    id: u64,
    result: Result<Vec<Applied>, ApplyError>,
) -> Vec<Cmd> {
    let for_shift = super::shift::owns_request(state, id);
    let outcome = result.as_ref().map(|_| ()).map_err(ToString::to_string);
    let mut cmds = answered(state, id, result, for_shift);
    if for_shift {
        cmds.extend(super::shift::on_applied(state, id, outcome));
    }
    cmds
}

/// A step of a shift is followed like any edit but is not undone with `u`: the shift puts its
/// weights back itself.
fn answered(
    state: &mut State,
    id: u64,
    result: Result<Vec<Applied>, ApplyError>,
    for_shift: bool,
) -> Vec<Cmd> {
    let Some(crate::state::edits::InFlight {
        undo: is_undo,
        summary: what,
    }) = state.edits.in_flight.remove(&id)
    else {
        return Vec::new();
    };
    match result {
        Ok(applied) => {
            // From an API server, the value counts once the watch brings it back.
            let api: Vec<FieldEdit> = applied
                .iter()
                .filter(|a| a.edit.origin.is_none())
                .map(|a| a.edit.clone())
                .collect();
            let waiting = !api.is_empty();
            let warnings: Vec<String> = applied
                .iter()
                .flat_map(|a| {
                    a.warnings
                        .iter()
                        .map(|w| crate::io::kube::warnings::explain(w))
                })
                .collect();
            state.edits.pending.extend(api);
            super::timeline::edited(state, &applied);
            super::planes::start_verify(state, &applied, &what);
            if !is_undo && !for_shift {
                state.edits.undo.push(applied);
                state.edits.form = None;
            }
            let more = match (is_undo, state.edits.undo.len()) {
                (false, _) if for_shift => "a step of the shift: A aborts it".to_string(),
                (false, _) => "u undoes".to_string(),
                (true, 0) => "nothing more to undo".to_string(),
                (true, n) => format!("{n} more to undo"),
            };
            let verb = match (is_undo, waiting) {
                (true, false) => "undone",
                (false, false) => "applied",
                (true, true) => "undo accepted, pending until the watch shows it",
                (false, true) => "accepted by the API server, pending until the watch shows it",
            };
            // A warning usually means part of the write was dropped: it stays in view (red)
            // until the next message, instead of scrolling away as "applied".
            state.ui.status = Some(if warnings.is_empty() {
                (Level::Info, format!("{verb}: {what} ({more})"))
            } else {
                (
                    Level::Error,
                    format!(
                        "{verb}: {what} ({more}); the API server warned: {}",
                        warnings.join("; ")
                    ),
                )
            });
            // The watch may have been quicker than the answer.
            if waiting {
                confirm_pending(state);
            }
        }
        Err(err) => {
            state.ui.status = Some((
                Level::Error,
                format!(
                    "{}: {err}",
                    if is_undo {
                        "undo failed"
                    } else {
                        "not applied"
                    }
                ),
            ));
            if let ApplyError::Forbidden(msg) = &err {
                let refused: Vec<_> = state
                    .edits
                    .form
                    .iter()
                    .flat_map(|s| {
                        s.targets
                            .iter()
                            .map(|t| (t.key.cluster.clone(), t.key.kind))
                    })
                    .collect();
                for (cluster, kind) in refused {
                    if let Some(kube) = state.kube.get_mut(&cluster) {
                        kube.no_write.insert(kind, msg.clone());
                    }
                }
            }
            if let Some(session) = state.edits.form.as_mut().filter(|_| !is_undo) {
                session.stage = EditStage::Editing;
                match &err {
                    ApplyError::Invalid(fields) => {
                        for f in fields {
                            if f.field.ends_with("weight") {
                                session.field_errors.weight = Some(f.message.clone());
                            } else if f.field.ends_with("locality") {
                                session.field_errors.locality = Some(f.message.clone());
                            } else {
                                session.source_error = Some(format!("{}: {}", f.field, f.message));
                            }
                        }
                    }
                    ApplyError::Owned { field, manager, .. } => {
                        session.source_error = Some(format!(
                            "{field} is owned by field manager {manager:?}: enter again to take it over (forced apply), esc to leave it"
                        ));
                        session.owned_by = Some(manager.clone());
                        session.force = true;
                        session.stage = EditStage::Confirm;
                    }
                    other => session.source_error = Some(other.to_string()),
                }
            }
        }
    }
    Vec::new()
}

/// Whether the store now holds what a pending edit wrote.
pub fn is_visible(state: &State, e: &FieldEdit) -> bool {
    let Some(entry) = state.registry.store.get(&e.object()) else {
        return true;
    };
    if let Object::WorkloadEntry(we) = &entry.object {
        let drained = we.metadata.annotations.contains_key(DRAINED_ANNOTATION);
        match e.change {
            Change::Drain { .. } => return drained,
            Change::Restore { .. } => return !drained,
            _ => {}
        }
    }
    let spec = match (&entry.object, &e.target) {
        (Object::WorkloadEntry(we), _) => Some(we.spec.clone()),
        (Object::ServiceEntry(se), EndpointSource::ServiceEntry { index, .. }) => {
            se.spec.endpoints.get(*index).cloned()
        }
        _ => None,
    };
    let Some(spec) = spec else { return true };
    match &e.change {
        Change::Weight { to, .. } => spec.weight == Some(*to),
        Change::UnsetWeight { .. } => spec.weight.is_none(),
        Change::Locality { to, .. } => spec.locality.as_deref().unwrap_or("") == to,
        Change::Drain { .. } | Change::Restore { .. } => true,
    }
}

/// Pending edits the watch has now delivered are done: say so.
pub fn confirm_pending(state: &mut State) {
    if state.edits.pending.is_empty() {
        return;
    }
    let (seen, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut state.edits.pending)
        .into_iter()
        .partition(|e| is_visible(state, e));
    state.edits.pending = waiting;
    // An error or a server warning on screen outranks the news that an edit arrived.
    if !seen.is_empty() && !matches!(state.ui.status, Some((crate::state::Level::Error, _))) {
        let what: Vec<String> = seen.iter().map(|e| e.describe()).collect();
        state.ui.status = Some((
            crate::state::Level::Info,
            format!("in the cluster: {}", what.join("; ")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::parse_weights;

    #[test]
    fn one_weight_or_one_per_target() {
        assert_eq!(parse_weights("5", 3), Ok(vec![5, 5, 5]));
        assert_eq!(parse_weights("90/10", 2), Ok(vec![90, 10]));
        assert!(
            parse_weights("90/10", 3)
                .unwrap_err()
                .contains("2 weights for 3")
        );
        assert!(parse_weights("90/x", 2).is_err());
    }
}
