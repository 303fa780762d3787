//! The control and data planes arriving: xDS views, syncz, Envoy polls — and the edit-verify
//! loop, started when an edit is applied and moved along by each of them.

use crate::io::envoy::poll::{DataEvent, PollTarget};
use crate::io::source::{Applied, Change};
use crate::io::xds::XdsEvent;
use crate::model::locality::Locality;
use crate::model::planes::cluster_name;
use crate::model::planes::control::ControlView;
use crate::model::planes::verify::{self, Verify, Wanted};
use crate::state::{Level, Screen, State};
use std::collections::BTreeSet;
use std::time::{Instant, SystemTime};

pub fn on_xds(state: &mut State, ev: XdsEvent) {
    let now = SystemTime::now();
    let planes = &mut state.planes;
    fn view<'a>(
        planes: &'a mut crate::state::planes::PlanesView,
        server: &str,
    ) -> &'a mut ControlView {
        planes
            .control
            .entry(server.to_string())
            .or_insert_with(|| ControlView {
                server: server.to_string(),
                ..Default::default()
            })
    }
    match ev {
        XdsEvent::Connection { server, state: c } => view(planes, &server).connection = c,
        XdsEvent::Clusters {
            server, clusters, ..
        } => {
            planes.rejected.remove(&server);
            view(planes, &server).set_clusters(clusters);
        }
        XdsEvent::Endpoints {
            server,
            version,
            assignments,
        } => {
            planes.rejected.remove(&server);
            view(planes, &server).set_endpoints(version, assignments, now);
        }
        XdsEvent::Rejected {
            server,
            type_url,
            error,
        } => {
            let why = format!("meshdeck could not use the {type_url} it sent: {error}");
            state.status = Some((Level::Error, format!("xDS {server}: {why}")));
            planes.rejected.insert(server, why);
        }
        XdsEvent::Syncz { server, proxies } => {
            planes.syncz_unavailable.remove(&server);
            planes.syncs.retain(|p| p.control_plane != server);
            planes.syncs.extend(proxies);
        }
        XdsEvent::SynczUnavailable { server, error } => {
            planes.syncz_unavailable.insert(server, error);
        }
    }
    observe_verify(state, now, Instant::now());
    if matches!(state.screen(), Screen::Proxies) {
        state.stale_rows = true;
    }
}

/// Hands the edit being followed what every plane shows now.
fn observe_verify(state: &mut State, now: SystemTime, at: Instant) {
    let Some(mut v) = state.planes.verify.take() else {
        return;
    };
    if let Some(t) = v.targets.first() {
        v.observe(&state.planes.planes(&t.cluster), now, at);
    }
    state.planes.verify = Some(v);
}

pub fn on_data(state: &mut State, ev: DataEvent) {
    match ev {
        DataEvent::Clusters {
            proxy,
            clusters,
            at,
            wall,
        } => {
            if let Some(p) = state.planes.proxies.get_mut(&proxy) {
                p.record(clusters, at, wall);
            }
        }
        DataEvent::Failed { proxy, error } => {
            if let Some(p) = state.planes.proxies.get_mut(&proxy) {
                p.failed(error);
            }
        }
    }
    observe_verify(state, SystemTime::now(), Instant::now());
    if matches!(state.screen(), Screen::Proxies) {
        state.stale_rows = true;
    }
}

/// The clusters whose EDS the console needs now: the open service's, and the edit being followed.
pub fn wanted_clusters(state: &State) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let (Screen::Endpoints(_), Some(d)) = (state.screen(), state.endpoints.as_ref()) {
        for port in &d.ports {
            for host in &d.hosts {
                out.insert(cluster_name(port.port_number, host));
            }
        }
    }
    if let Some(v) = state.planes.verify.as_ref().filter(|v| !v.is_finished()) {
        out.extend(v.targets.iter().map(|t| t.cluster.clone()));
    }
    out
}

/// The Envoys to poll now: all known ones while a screen shows them or an edit is followed,
/// none otherwise.
pub fn wanted_proxies(state: &State) -> Vec<PollTarget> {
    let following = state
        .planes
        .verify
        .as_ref()
        .is_some_and(|v| !v.is_finished());
    if following || matches!(state.screen(), Screen::Endpoints(_) | Screen::Proxies) {
        state.planes.poll_targets()
    } else {
        Vec::new()
    }
}

/// Starts following an applied edit through the planes (when there are planes to follow).
pub fn start_verify(state: &mut State, applied: &[Applied], what: &str) {
    if !state.planes.is_active() {
        return;
    }
    let mut wanted: Vec<Wanted> = Vec::new();
    for a in applied {
        let i = match wanted.iter().position(|w| w.source == a.edit.target) {
            Some(i) => i,
            None => {
                wanted.push(Wanted {
                    source: a.edit.target.clone(),
                    weight: None,
                    locality: None,
                });
                wanted.len() - 1
            }
        };
        match &a.edit.change {
            Change::Weight { to, .. } => wanted[i].weight = Some(*to),
            Change::Locality { to, .. } => wanted[i].locality = Some(Locality::parse(to)),
        }
    }
    let targets = verify::targets(&state.store, &wanted);
    if targets.is_empty() {
        return;
    }
    let now = SystemTime::now();
    let mut v = Verify::new(
        what.to_string(),
        targets.clone(),
        &state.planes.planes(&targets[0].cluster),
        now,
        Instant::now(),
    );
    v.applied = Some(now);
    state.planes.verify = Some(v);
    observe_verify(state, now, Instant::now());
}

/// Every proxy the console knows of: from syncz and from the configured admin APIs.
pub fn proxy_names(state: &State) -> Vec<String> {
    let mut names: BTreeSet<String> = state
        .planes
        .syncs
        .iter()
        .map(|p| p.short_id().to_string())
        .collect();
    names.extend(state.planes.proxies.keys().cloned());
    names.into_iter().collect()
}
