//! Which WorkloadEntries' sidecars the console reads through ssh: those it needs data for —
//! the open service's entries, the entries on screen in the WorkloadEntries list or YAML, and
//! those an edit being followed touches. Each becomes a proxy like any other (ENVOY/RQ/S/DRIFT,
//! Proxies, Charts), named as istiod names a VM's proxy (`NAME.NAMESPACE`), so its syncz row
//! and its admin answers meet in one row.

use crate::config::ssh::{ADMIN_ANNOTATION, SshConfig, destination_for};
use crate::model::endpoint::EndpointSource;
use crate::model::object::{Kind, Object, ObjectKey};
use crate::model::planes::data::ProxyData;
use crate::state::{RowId, Screen, State};

/// Entries of the WorkloadEntries list either side of the selection that are followed.
pub const AROUND: usize = 12;

/// The proxy name of a VM's sidecar.
pub fn proxy_name(key: &ObjectKey) -> String {
    format!("{}.{}", key.name, key.namespace)
}

/// `ssh://[USER@]HOST[:PORT]/ADMIN` for one entry: its annotations, else the settings.
pub fn route_for(
    cfg: &SshConfig,
    key: &ObjectKey,
    annotations: &crate::model::meta::Labels,
    address: Option<&str>,
) -> Option<String> {
    let host = destination_for(cfg, key, annotations, address)?;
    let admin = annotations
        .get(ADMIN_ANNOTATION)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .unwrap_or(&cfg.admin);
    Some(format!("ssh://{host}/{admin}"))
}

/// The entries the screen and the followed edit need, in the order they are wanted.
fn needed(state: &State) -> Vec<ObjectKey> {
    let mut out: Vec<ObjectKey> = Vec::new();
    let mut add = |k: ObjectKey| {
        if !out.contains(&k) {
            out.push(k);
        }
    };
    match state.screen() {
        Screen::Endpoints(_) => {
            if let Some(d) = state.registry.endpoints.as_ref() {
                for ep in d.ports.iter().flat_map(|p| &p.endpoints) {
                    if let EndpointSource::WorkloadEntry {
                        namespace, name, ..
                    } = &ep.source
                    {
                        add(ObjectKey::new(Kind::WorkloadEntry, namespace, name));
                    }
                }
            }
        }
        Screen::List(Kind::WorkloadEntry) => {
            if let Some(list) = state.list() {
                let from = list.selected.saturating_sub(AROUND);
                let to = (list.selected + AROUND + 1).min(list.rows.len());
                // The selection first, so that it is never the one let go.
                let rows = list.rows.get(from..to).unwrap_or_default();
                let selected = list.selected_row().into_iter();
                for r in selected.chain(rows) {
                    if let RowId::Object(k) = r {
                        add(k.clone());
                    }
                }
            }
        }
        Screen::Yaml(k) if k.kind == Kind::WorkloadEntry => add(k.clone()),
        _ => {}
    }
    if let Some(v) = state.planes.verify.as_ref().filter(|v| !v.is_finished()) {
        for t in &v.targets {
            for e in state.registry.store.entries(Kind::WorkloadEntry) {
                if let Object::WorkloadEntry(we) = &e.object
                    && we.spec.address.as_deref() == Some(t.host.address.as_str())
                {
                    add(e.object.key());
                }
            }
        }
    }
    out
}

/// Adds the sidecars needed now to the known proxies and lets the least recently needed go
/// beyond the limit. Does nothing without `--ssh`.
pub fn follow(state: &mut State) {
    let Some(reach) = state.planes.vms.as_ref() else {
        return;
    };
    // Most keys move nothing the answer depends on; then the endpoints and entries are not
    // walked again.
    let inputs = (
        state.screen().clone(),
        state.list().map(|l| (l.selected, l.rows.len())),
        state.registry.store.generation(),
        state
            .planes
            .verify
            .as_ref()
            .filter(|v| !v.is_finished())
            .map(|v| v.started),
    );
    if reach.followed_for.as_ref() == Some(&inputs) {
        return;
    }
    let cfg = reach.ssh.clone();
    let max = reach.max;
    let mut wanted: Vec<(String, String)> = Vec::new();
    for key in needed(state).into_iter().take(max) {
        let Some(entry) = state.registry.store.get(&key) else {
            continue;
        };
        let Object::WorkloadEntry(we) = &entry.object else {
            continue;
        };
        if let Some(route) = route_for(
            &cfg,
            &key,
            &we.metadata.annotations,
            we.spec.address.as_deref(),
        ) {
            wanted.push((proxy_name(&key), route));
        }
    }
    let Some(reach) = state.planes.vms.as_mut() else {
        return;
    };
    reach.followed_for = Some(inputs);
    reach.round += 1;
    let round = reach.round;
    for (name, _) in &wanted {
        reach.needed.insert(name.clone(), round);
    }
    while reach.needed.len() > max {
        let Some(oldest) = reach
            .needed
            .iter()
            .min_by_key(|(_, r)| **r)
            .map(|(n, _)| n.clone())
        else {
            break;
        };
        reach.needed.remove(&oldest);
        state.planes.proxies.remove(&oldest);
    }
    for (name, route) in wanted {
        let stale = state
            .planes
            .proxies
            .get(&name)
            .is_some_and(|p| p.admin != route);
        if stale || !state.planes.proxies.contains_key(&name) {
            state
                .planes
                .proxies
                .insert(name.clone(), ProxyData::new(&name, &route));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ssh::SSH_ANNOTATION;

    fn key() -> ObjectKey {
        ObjectKey::new(Kind::WorkloadEntry, "payments", "vm-3")
    }

    #[test]
    fn annotations_win_over_the_template() {
        let cfg = SshConfig {
            user: Some("ops".into()),
            ..Default::default()
        };
        let none = crate::model::meta::Labels::new();
        assert_eq!(
            route_for(&cfg, &key(), &none, Some("10.0.0.7")).as_deref(),
            Some("ssh://ops@10.0.0.7/127.0.0.1:15000")
        );
        let ann: crate::model::meta::Labels = [
            (SSH_ANNOTATION.to_string(), "root@jump-7:2222".to_string()),
            (ADMIN_ANNOTATION.to_string(), "127.0.0.1:15001".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            route_for(&cfg, &key(), &ann, Some("10.0.0.7")).as_deref(),
            Some("ssh://root@jump-7:2222/127.0.0.1:15001")
        );
        assert_eq!(
            route_for(&cfg, &key(), &none, None),
            None,
            "no address, no template"
        );
    }
}
