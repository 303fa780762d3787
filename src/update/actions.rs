//! What each named action does outside the edit form.

use super::edit;
use crate::action::Action;
use crate::demo::vm::Behaviour;
use crate::model::endpoint::source_key;
use crate::model::object::Kind;
use crate::msg::Cmd;
use crate::state::dirty::Dirty;
use crate::state::{Level, Mode, RowId, Screen, State};

/// Quitting while a shift runs aborts it first: the weights go back, then a second quit leaves.
pub fn quit(state: &mut State) -> Vec<Cmd> {
    if !super::shift::running(state) {
        state.ui.quit = true;
        return Vec::new();
    }
    if let Some(run) = state
        .edits
        .shift
        .as_mut()
        .filter(|r| r.shift.outcome.is_some())
    {
        // Already rolling back: a source that never answers must not keep the console open.
        run.quits += 1;
        if run.quits >= 2 {
            state.ui.quit = true;
            return Vec::new();
        }
        let service = run.shift.plan.service.clone();
        state.ui.status = Some((
            Level::Error,
            format!(
                "still rolling back: q once more quits now and leaves the plan for `meshdeck shift {service} --rollback`"
            ),
        ));
        return Vec::new();
    }
    let cmds = super::shift::abort(state, "aborted on quit");
    if super::shift::running(state) {
        state.ui.status = Some((
            Level::Info,
            "rolling the shift back before quitting; quit again once it is back".into(),
        ));
    }
    cmds
}

pub fn run(state: &mut State, action: Action) -> Vec<Cmd> {
    match action {
        Action::Quit => return quit(state),
        Action::Help => state.ui.show_help = true,
        Action::Back => back(state),
        Action::CommandMode => {
            state.ui.mode = Mode::Command;
            state.ui.input.clear();
        }
        Action::FilterMode => {
            state.ui.mode = Mode::Filter;
            state.ui.input = state.list().map(|l| l.filter.clone()).unwrap_or_default();
        }
        Action::Up => move_by(state, -1),
        Action::Down => move_by(state, 1),
        Action::PageUp => move_by(state, -(state.page_size() as isize)),
        Action::PageDown => move_by(state, state.page_size() as isize),
        Action::Top => move_by(state, isize::MIN / 2),
        Action::Bottom => move_by(state, isize::MAX / 2),
        Action::Open => open(state),
        Action::Edit => return edit::open(state),
        Action::Drain => return super::rotation::drain(state),
        Action::Restore => return super::rotation::restore(state),
        Action::Mark => mark(state),
        Action::Undo => return edit::undo(state),
        Action::Yaml => {
            if let Some(key) = selected_object(state) {
                push(state, Screen::Yaml(key));
            }
        }
        Action::SortNext | Action::SortReverse => sort(state, action == Action::SortReverse),
        Action::Services => switch(state, Screen::List(Kind::ServiceEntry)),
        Action::WorkloadEntries => switch(state, Screen::List(Kind::WorkloadEntry)),
        Action::WorkloadGroups => switch(state, Screen::List(Kind::WorkloadGroup)),
        Action::DestinationRules => switch(state, Screen::List(Kind::DestinationRule)),
        Action::Problems => switch(state, Screen::Problems),
        Action::Proxies => switch(state, Screen::Proxies),
        Action::Charts => switch(state, Screen::Charts),
        Action::Timeline => open_timeline(state, None),
        Action::AsOf => super::timeline_rows::open_as_of(state),
        Action::ViewFromProxy => view_from_proxy(state),
        Action::Copy => return super::copy::copy(state, false),
        Action::CopyCommand => return super::copy::copy(state, true),
        Action::Logs => return super::logs::open(state),
        Action::Follow => super::logs::toggle_follow(state),
        Action::DemoFailProbe => return demo(state, Behaviour::ProbeFailing),
        Action::DemoErrors => return demo(state, Behaviour::Errors),
        Action::DemoRecover => return demo(state, Behaviour::Healthy),
        Action::ShiftPause => super::shift::toggle_pause(state),
        Action::ShiftAbort => return super::shift::abort(state, "aborted by the user"),
        Action::ReplayBack => super::replay::step(state, -1),
        Action::ReplayForward => super::replay::step(state, 1),
        Action::ReplayBackMinute => super::replay::minute(state, true),
        Action::ReplayForwardMinute => super::replay::minute(state, false),
        // Bound in the other layers: `keys.rs` hands them to the form, the line or the help.
        Action::FormNextField
        | Action::FormPrevField
        | Action::FormSubmit
        | Action::FormCancel
        | Action::ConfirmYes
        | Action::ConfirmNo
        | Action::LineSubmit
        | Action::LineCancel
        | Action::LineBackspace
        | Action::LineClear
        | Action::LineDeleteWord
        | Action::LineComplete
        | Action::HelpClose
        | Action::HelpDown
        | Action::HelpUp
        | Action::QuitAnywhere => {}
    }
    Vec::new()
}

/// The viewpoint becomes the selected proxy as istiod sees it: its namespace (from its id)
/// and its locality (from syncz).
fn view_from_proxy(state: &mut State) {
    let Some(RowId::Proxy(name)) = state.list().and_then(|l| l.selected_row()).cloned() else {
        state.ui.status = Some((
            Level::Error,
            "select a proxy on the Proxies screen (6) first".into(),
        ));
        return;
    };
    let sync = state.planes.syncs.iter().find(|s| s.short_id() == name);
    let namespace = sync.and_then(|s| s.namespace()).map(str::to_string);
    let locality = sync
        .map(|s| s.locality.as_str())
        .filter(|l| !l.is_empty())
        .map(crate::model::locality::Locality::parse);
    if namespace.is_none() && locality.is_none() {
        state.ui.status = Some((
            Level::Error,
            format!("{name}: the control plane names no namespace or locality for it"),
        ));
        return;
    }
    if namespace.is_some() {
        state.viewpoint.namespace = namespace;
    }
    state.viewpoint.locality = locality;
    state.ui.status = Some((
        Level::Info,
        format!(
            "endpoints, shares and drift seen as {name} sees them: {}",
            state.viewpoint.describe()
        ),
    ));
    state.registry.dirty |= Dirty::ROWS;
}

/// The address of the selected endpoint or WorkloadEntry.
fn selected_address(state: &State) -> Option<String> {
    match state.list()?.selected_row()? {
        RowId::Endpoint(p, e) => state.endpoint_at(*p, *e).map(|ep| ep.address.clone()),
        RowId::Object(k) => match &state.registry.store.get(k)?.object {
            crate::model::object::Object::WorkloadEntry(we) => we.spec.address.clone(),
            _ => None,
        },
        _ => None,
    }
}

fn demo(state: &mut State, behaviour: Behaviour) -> Vec<Cmd> {
    if !state.setup.demo {
        state.ui.status = Some((
            Level::Error,
            "F/X/R drive the demo's VMs: run meshdeck demo".into(),
        ));
        return Vec::new();
    }
    let Some(address) = selected_address(state) else {
        state.ui.status = Some((
            Level::Error,
            "select a WorkloadEntry or an endpoint first".into(),
        ));
        return Vec::new();
    };
    let what = match behaviour {
        Behaviour::ProbeFailing => "fails its probe",
        Behaviour::Errors => "answers 503",
        Behaviour::RequestErrors => "answers 503 to requests (its health check passes)",
        Behaviour::Healthy => "recovers",
    };
    state.ui.status = Some((Level::Info, format!("demo: {address} {what}")));
    vec![Cmd::Demo { address, behaviour }]
}

fn move_by(state: &mut State, delta: isize) {
    let screen = state.screen().clone();
    if let Some(l) = state.ui.lists.get_mut(&screen) {
        l.move_by(delta);
    }
}

/// Esc: clear the filter first, then leave the screen, then the marks.
fn back(state: &mut State) {
    let screen = state.screen().clone();
    if let Some(l) = state.ui.lists.get_mut(&screen) {
        if !l.filter.is_empty() {
            l.filter.clear();
            state.registry.dirty |= Dirty::ROWS;
            return;
        }
        if !l.marked.is_empty() {
            l.marked.clear();
            return;
        }
    }
    if state.ui.screens.len() > 1 {
        state.ui.screens.pop();
        state.registry.dirty |= Dirty::ROWS;
    }
}

pub fn switch(state: &mut State, screen: Screen) {
    state.ui.screens.clear();
    state.ui.screens.push(screen);
    state.registry.dirty |= Dirty::ROWS;
}

/// The timeline: from a service's Endpoints or an object's YAML, that one's (one key away);
/// from a scoped timeline, everything; elsewhere everything. `kind` narrows it to one kind of
/// change (`:timeline health`), None shows every kind.
pub fn open_timeline(state: &mut State, kind: Option<crate::model::timeline::ChangeKind>) {
    state.timeline.kind = kind;
    match state.screen().clone() {
        Screen::Endpoints(key) | Screen::Yaml(key) => push(state, Screen::Timeline(Some(key))),
        Screen::Timeline(Some(_)) => push(state, Screen::Timeline(None)),
        _ => switch(state, Screen::Timeline(None)),
    }
}

pub fn push(state: &mut State, screen: Screen) {
    if state.screen() != &screen {
        state.ui.screens.push(screen);
    }
    state.registry.dirty |= Dirty::ROWS;
}

pub fn selected_object(state: &State) -> Option<crate::model::object::ObjectKey> {
    match state.list()?.selected_row()? {
        RowId::Object(k) => Some(k.clone()),
        RowId::Finding(i) => state.registry.findings.get(*i).and_then(|f| f.object()),
        RowId::Endpoint(p, e) => state.endpoint_at(*p, *e).map(|ep| source_key(&ep.source)),
        RowId::Change(i) => state.timeline.changes.get(*i)?.object.clone(),
        RowId::Line(i) if matches!(state.screen(), Screen::AsOf(..)) => {
            let a = state.timeline.as_of.as_ref()?;
            let row = a.rows.get(*i)?;
            let at = |side: &Option<crate::model::endpoint::ServiceEndpoints>,
                      at: Option<(usize, usize)>| {
                let (p, e) = at?;
                Some(source_key(
                    &side.as_ref()?.ports.get(p)?.endpoints.get(e)?.source,
                ))
            };
            at(&a.now, row.now).or_else(|| at(&a.then, row.then))
        }
        RowId::Line(_) | RowId::Proxy(_) | RowId::Cluster(_) => None,
    }
}

fn open(state: &mut State) {
    let Some(key) = selected_object(state) else {
        return;
    };
    let next = match (state.screen(), key.kind) {
        (_, Kind::Pod) | (Screen::List(Kind::Pod), _) => {
            let what = format!(
                "pod {}/{} is shown as an endpoint only: kubectl describe pod -n {} {}",
                key.namespace, key.name, key.namespace, key.name
            );
            state.ui.status = Some((Level::Info, what));
            return;
        }
        (Screen::List(Kind::ServiceEntry), _) => Screen::Endpoints(key),
        (Screen::List(Kind::WorkloadEntry), _) => {
            let se = state.registry.store.selecting_ses(&key).next().cloned();
            se.map_or(Screen::Yaml(key), Screen::Endpoints)
        }
        (Screen::List(Kind::DestinationRule), _)
        | (Screen::List(Kind::WorkloadGroup), _)
        | (Screen::List(Kind::Sidecar), _) => Screen::Yaml(key),
        (Screen::Problems | Screen::Timeline(_), _) if state.registry.store.get(&key).is_none() => {
            state.ui.status = Some((Level::Info, format!("{key} is no longer in the registry")));
            return;
        }
        (Screen::Problems | Screen::Timeline(_), Kind::ServiceEntry) => Screen::Endpoints(key),
        (Screen::Timeline(_), _) => Screen::Yaml(key),
        (Screen::Problems, _) | (Screen::Endpoints(_), _) => Screen::Yaml(key),
        (Screen::AsOf(..), _) => Screen::Yaml(key),
        (Screen::Yaml(_), _)
        | (Screen::Proxies, _)
        | (Screen::Charts, _)
        | (Screen::Logs(_), _) => return,
    };
    push(state, next);
}

fn mark(state: &mut State) {
    let screen = state.screen().clone();
    let editable = matches!(
        screen,
        Screen::List(Kind::WorkloadEntry) | Screen::Endpoints(_)
    );
    if !editable {
        state.ui.status = Some((
            Level::Error,
            "marking is for bulk edits: use it on WorkloadEntries or Endpoints".into(),
        ));
        return;
    }
    if let Some(l) = state.ui.lists.get_mut(&screen)
        && let Some(row) = l.selected_row().cloned()
    {
        if !l.marked.remove(&row) {
            l.marked.insert(row);
        }
        l.move_by(1);
    }
}

fn sort(state: &mut State, reverse: bool) {
    let screen = state.screen().clone();
    let columns = match &screen {
        Screen::List(kind) => {
            crate::present::cells::header(*kind).len() + usize::from(state.several_clusters())
        }
        Screen::Proxies => crate::present::cells::PROXY_COLUMNS.len(),
        _ => {
            state.ui.status = Some((
                Level::Error,
                "sorting works on the object lists and the Proxies screen".into(),
            ));
            return;
        }
    };
    if let Some(l) = state.ui.lists.get_mut(&screen) {
        if reverse {
            l.sort_reverse = !l.sort_reverse;
        } else {
            l.sort_column = (l.sort_column + 1) % columns;
        }
    }
    state.registry.dirty |= Dirty::ROWS;
}
