//! The control and data planes arriving: xDS views, syncz, Envoy polls — and the edit-verify
//! loop, started when an edit is applied and moved along by each of them.

use crate::io::envoy::poll::{DataEvent, PollTarget};
use crate::io::source::{Applied, Change};
use crate::io::xds::XdsEvent;
use crate::model::locality::Locality;
use crate::model::object::{Kind, Object};
use crate::model::planes::control::ControlView;
use crate::model::planes::data::unix_ms;
use crate::model::planes::stats::{ProxyStats, StatsSource};
use crate::model::planes::verify::{self, Verify, Wanted};
use crate::model::planes::{cluster_name, parse_cluster_name};
use crate::state::dirty::Dirty;
use crate::state::{Level, RowId, Screen, State};
use std::collections::BTreeSet;
use std::time::{Instant, SystemTime};

pub fn on_xds(state: &mut State, ev: XdsEvent) {
    let now = SystemTime::now();
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
    let server = ev.server().to_string();
    match &ev {
        XdsEvent::Connection { state: conn, .. } => {
            super::timeline::connection(state, &server, conn);
        }
        XdsEvent::Endpoints {
            version,
            assignments,
            ..
        } => {
            let names = assignments.keys().cloned().collect();
            super::timeline::pushed(state, &server, version, names);
        }
        XdsEvent::Rejected {
            type_url, error, ..
        } => super::timeline::rejected(state, &server, type_url, error),
        XdsEvent::Syncz { proxies, .. } => super::timeline::syncz(state, &server, proxies),
        _ => {}
    }
    let planes = &mut state.planes;
    let fresh = matches!(ev, XdsEvent::Clusters { .. } | XdsEvent::Endpoints { .. });
    let named = matches!(ev, XdsEvent::ControlPlane { .. });
    if fresh {
        planes.rejected.remove(&server);
    }
    match ev.fold_into(view(planes, &server), now) {
        None if named => {
            // The rule that picks a host's ServiceEntry is the one of the istiod in use.
            let version = planes.control.values().find_map(|c| c.version());
            let rule = crate::model::visibility::HostRule::for_version(version.as_deref());
            if state.viewpoint.rule != rule {
                state.viewpoint.rule = rule;
                state.registry.dirty |= Dirty::ROWS;
            }
        }
        None => {}
        Some(XdsEvent::Rejected {
            server,
            type_url,
            error,
        }) => {
            let why = format!("meshdeck could not use the {type_url} it sent: {error}");
            state.ui.status = Some((Level::Error, format!("xDS {server}: {why}")));
            planes.rejected.insert(server, why);
        }
        Some(XdsEvent::Syncz { server, proxies }) => {
            planes.syncz_unavailable.remove(&server);
            planes.syncs.retain(|p| p.control_plane != server);
            planes.syncs.extend(proxies);
        }
        Some(XdsEvent::SynczUnavailable { server, error }) => {
            planes.syncz_unavailable.insert(server, error);
        }
        Some(_) => {}
    }
    observe_verify(state, now, Instant::now());
    if matches!(state.screen(), Screen::Proxies) {
        state.registry.dirty |= Dirty::ROWS;
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
            super::timeline::envoy_health(state, &proxy, &clusters);
            if let Some(p) = state.planes.proxies.get_mut(&proxy) {
                p.record(clusters, at, wall);
            }
        }
        DataEvent::Failed { proxy, error } => {
            if let Some(p) = state.planes.proxies.get_mut(&proxy) {
                p.failed(error);
            }
        }
        DataEvent::Stats {
            proxy,
            source,
            at_ms,
            readings,
        } => {
            let s = state
                .planes
                .stats
                .entry(proxy)
                .or_insert_with(|| ProxyStats::new(source));
            // A proxy that starts pushing (or stops) keeps its series; the source shown moves.
            s.source = source;
            // The Charts rows are the set of clusters: only a new one changes them.
            if s.record(at_ms, &readings) && matches!(state.screen(), Screen::Charts) {
                state.registry.dirty |= Dirty::ROWS;
            }
            return;
        }
        DataEvent::StatsFailed { proxy, error } => {
            let source = match state.planes.proxies.get(&proxy) {
                Some(p) if p.prometheus.is_some() => StatsSource::Prometheus,
                _ => StatsSource::AdminJson,
            };
            state
                .planes
                .stats
                .entry(proxy)
                .or_insert_with(|| ProxyStats::new(source))
                .error = Some(error);
            return;
        }
    }
    observe_verify(state, SystemTime::now(), Instant::now());
    if matches!(state.screen(), Screen::Proxies) {
        state.registry.dirty |= Dirty::ROWS;
    }
}

/// The clusters whose EDS the console needs now: the open service's, and the edit being followed.
pub fn wanted_clusters(state: &State) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let (Screen::Endpoints(_), Some(d)) = (state.screen(), state.registry.endpoints.as_ref()) {
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

/// The Envoys to poll now: all known ones while a screen shows them, an edit is followed or a
/// shift's gates read them, none otherwise; their stats only for the clusters the Charts
/// screen shows.
pub fn wanted_proxies(state: &State) -> Vec<PollTarget> {
    let following = state
        .planes
        .verify
        .as_ref()
        .is_some_and(|v| !v.is_finished())
        || state.edits.shift.is_some();
    let now_ms = unix_ms(SystemTime::now());
    // A shift's p99 gate reads its service's cluster stats on every screen.
    let gated = super::shift::gated_clusters(state);
    // A followed edit is read quickly: each reading can bring its verdict.
    let quick = following;
    match state.screen() {
        Screen::Charts => {
            let mut charted = charted_clusters(state);
            for c in gated {
                if !charted.contains(&c) {
                    charted.push(c);
                }
            }
            state.planes.poll_targets(&charted, now_ms, quick)
        }
        Screen::Endpoints(_) | Screen::Proxies => state.planes.poll_targets(&gated, now_ms, quick),
        _ if following => state.planes.poll_targets(&gated, now_ms, quick),
        _ => Vec::new(),
    }
}

/// With a Prometheus server: the clusters it is asked about now, for every proxy at once
/// (the Charts screen's, and a running shift's p99 gate's); none without one.
pub fn wanted_stats(state: &State) -> Vec<String> {
    if state.planes.prometheus.is_none() {
        return Vec::new();
    }
    let mut out = match state.screen() {
        Screen::Charts => charted_clusters(state),
        _ => Vec::new(),
    };
    for c in super::shift::gated_clusters(state) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// Rows of the Charts screen either side of the selection whose stats are asked for: about
/// a screenful, so a long list costs Envoy no more than a short one.
pub const CHARTED_AROUND: usize = 12;

/// The clusters whose stats are polled now: the Charts screen's rows near the selection.
pub fn charted_clusters(state: &State) -> Vec<String> {
    let Some(list) = state.list() else {
        return Vec::new();
    };
    let from = list.selected.saturating_sub(CHARTED_AROUND);
    let to = (list.selected + CHARTED_AROUND + 1).min(list.rows.len());
    list.rows
        .get(from..to)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| match r {
            RowId::Cluster(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

/// Every cluster the Charts screen can show: each ServiceEntry host and port in scope, and
/// every outbound cluster some Envoy reported stats for.
pub fn chart_clusters(state: &State) -> Vec<String> {
    let ns = state.ui.namespace.as_deref();
    let mut names = BTreeSet::new();
    for e in state.registry.store.entries(Kind::ServiceEntry) {
        if ns.is_some_and(|n| n != e.object.key().namespace) {
            continue;
        }
        if let Object::ServiceEntry(se) = &e.object {
            for host in &se.spec.hosts {
                for port in &se.spec.ports {
                    names.insert(cluster_name(port.number, host));
                }
            }
        }
    }
    for s in state.planes.stats.values() {
        names.extend(
            s.clusters
                .keys()
                .filter(|c| parse_cluster_name(c).is_some())
                .cloned(),
        );
    }
    names.into_iter().collect()
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
                    present: None,
                });
                wanted.len() - 1
            }
        };
        match &a.edit.change {
            Change::Weight { to, .. } => wanted[i].weight = Some(*to),
            // istiod sends an unset weight as 1.
            Change::UnsetWeight { .. } => wanted[i].weight = Some(1),
            Change::Locality { to, .. } => wanted[i].locality = Some(Locality::parse(to)),
            Change::Drain { .. } => wanted[i].present = Some(false),
            Change::Restore { .. } => wanted[i].present = Some(true),
        }
    }
    let targets = verify::targets(&state.registry.store, &wanted);
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
/// What `names` sort by in `column` of the Proxies screen: a sync status worst first (a NACK,
/// then stale), the other columns as shown.
pub fn proxy_sort_keys(state: &State, names: &[String], column: usize) -> Vec<String> {
    let syncs: std::collections::HashMap<&str, &crate::model::planes::control::ProxySync> = state
        .planes
        .syncs
        .iter()
        .map(|s| (s.short_id(), s))
        .collect();
    let rank = |s: &str| match s {
        "ERROR" => 0,
        "STALE" => 1,
        "NOT_SENT" => 2,
        "UNKNOWN" => 3,
        "SYNCED" => 4,
        _ => 5,
    };
    names
        .iter()
        .map(|n| {
            let sync = syncs.get(n.as_str());
            let data = state.planes.proxies.get(n);
            match crate::present::cells::PROXY_COLUMNS.get(column).copied() {
                Some(t @ ("CDS" | "LDS" | "EDS" | "RDS")) => {
                    rank(sync.map_or("-", |s| s.status_of(t))).to_string()
                }
                Some("CONTROL PLANE") => sync.map(|s| s.control_plane.clone()).unwrap_or_default(),
                Some("LOCALITY") => sync.map(|s| s.locality.clone()).unwrap_or_default(),
                Some("ADMIN") => data.map(|d| d.admin.clone()).unwrap_or_default(),
                // Unreadable first, then by when it was last read.
                Some("POLLED") => data.map_or("2".into(), |d| match (&d.error, d.fetched_at) {
                    (Some(_), _) => "0".into(),
                    (None, Some(t)) => format!("1 {}", humantime::format_rfc3339_millis(t)),
                    (None, None) => "2".into(),
                }),
                Some("HOLDS") => data
                    .map(|d| {
                        d.clusters
                            .values()
                            .map(|h| h.len())
                            .sum::<usize>()
                            .to_string()
                    })
                    .unwrap_or_default(),
                _ => n.clone(),
            }
        })
        .collect()
}

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
