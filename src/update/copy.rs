//! `c` and `C`: what the selection is, as text for the clipboard. The loop sends it to the
//! terminal as OSC 52, which reaches the user's clipboard through SSH and tmux.

use super::actions::selected_object;
use crate::model::object::Kind;
use crate::msg::{Cmd, Level};
use crate::present::cells::yaml_of;
use crate::state::{RowId, Screen, State};

/// The selected row's name (`NS/NAME`, an endpoint's address, a proxy), or the whole YAML on
/// the YAML screen.
fn what(state: &State) -> Option<(String, String)> {
    if let Screen::Yaml(key) = state.screen() {
        let entry = state.registry.store.get(key)?;
        return Some((yaml_of(&entry.object), format!("the YAML of {}", key.name)));
    }
    let text = match state.list()?.selected_row()? {
        RowId::Endpoint(p, e) => state.endpoint_at(*p, *e)?.address.clone(),
        RowId::Proxy(name) | RowId::Cluster(name) => name.clone(),
        _ => {
            let key = selected_object(state)?;
            format!("{}/{}", key.namespace, key.name)
        }
    };
    Some((text.clone(), text))
}

/// A ready kubectl command that shows the selected object.
fn kubectl(state: &State) -> Option<String> {
    let key = selected_object(state)?;
    let resource = match key.kind {
        Kind::Pod => "pod".to_string(),
        k => format!("{}.networking.istio.io", k.plural().to_lowercase()),
    };
    let context = state
        .kube
        .get(&key.cluster)
        .filter(|k| !k.context.is_empty())
        .map(|k| format!(" --context {}", k.context))
        .unwrap_or_default();
    Some(format!(
        "kubectl{context} -n {} get {resource} {} -o yaml",
        key.namespace, key.name
    ))
}

pub fn copy(state: &mut State, as_command: bool) -> Vec<Cmd> {
    let found = if as_command {
        kubectl(state).map(|c| (c.clone(), c))
    } else {
        what(state)
    };
    let Some((text, said)) = found else {
        state.ui.status = Some((Level::Error, "nothing selected to copy".into()));
        return Vec::new();
    };
    state.ui.status = Some((Level::Info, format!("copied {said}")));
    vec![Cmd::Copy(text)]
}
