//! Rebuilding the rows of the current screen: scope, filter, sort. Runs on a keystroke in the
//! filter, a store change or a screen switch; views only slice what is here.

use crate::model::endpoint::derive;
use crate::model::object::Kind;
use crate::present::cells::{cells_with, endpoint_counts, yaml_of};
use crate::present::filter::Filter;
use crate::present::order::natural_cmp;
use crate::state::{ListView, RowId, Screen, State};
use std::collections::BTreeMap;

/// Typing one more character of a filter can only remove rows: filter the rows already shown
/// instead of the whole registry.
fn can_narrow(view: &ListView, new_filter: &str, generation: u64, ns: &Option<String>) -> bool {
    match &view.filtered_at {
        Some((old, gen_then, ns_then)) => {
            Filter::narrows(old, new_filter) && *gen_then == generation && ns_then == ns
        }
        None => false,
    }
}

pub fn rebuild(state: &mut State) {
    let screen = state.screen().clone();
    let mut view = state.ui.lists.remove(&screen).unwrap_or_default();
    let mut filter = Filter::new(&view.filter);
    let ns = state.ui.namespace.clone();
    let in_ns = |n: &str| ns.as_deref().is_none_or(|want| want == n);
    match &screen {
        Screen::List(kind) => {
            let generation = state.registry.store.generation();
            let index = state.registry.search.entry(*kind).or_default();
            index.refresh(&state.registry.store, *kind);
            let narrow = can_narrow(&view, &view.filter, generation, &ns);
            let candidates: Vec<u32> = if narrow {
                std::mem::take(&mut view.matched)
            } else {
                let all: Vec<u32> = (0..index.keys.len() as u32)
                    .filter(|i| in_ns(&index.keys[*i as usize].namespace))
                    .collect();
                view.total = all.len();
                all
            };
            let mut scored: Vec<(u32, u32)> = if matches!(filter, Filter::All) {
                candidates.into_iter().map(|i| (0, i)).collect()
            } else {
                // Made when each object was stored (off this thread for a synced list), so a
                // keystroke only matches, even right after the store changed.
                candidates
                    .into_iter()
                    .filter_map(|i| Some((filter.score(&index.texts[i as usize])?, i)))
                    .collect()
            };
            // Best matches first; the table order breaks ties.
            if filter.ranks() && view.sort_column == 0 {
                scored.sort_by_key(|s| std::cmp::Reverse(s.0));
            }
            view.matched = scored.iter().map(|(_, i)| *i).collect();
            // Table order, so that narrowing breaks score ties the same way a full pass does.
            view.matched.sort_unstable();
            let mut rows: Vec<RowId> = scored
                .iter()
                .map(|(_, i)| RowId::Object(index.keys[*i as usize].clone()))
                .collect();
            view.filtered_at = Some((view.filter.clone(), generation, ns.clone()));
            if *kind == Kind::ServiceEntry {
                refresh_counts(state);
            }
            if view.sort_column > 1 {
                refresh_sort_keys(state, *kind, view.sort_column);
                let keys = &state.registry.derived.sort_keys;
                let key_of = |r: &RowId| match r {
                    RowId::Object(k) => keys.get(k).map_or("", String::as_str),
                    _ => "",
                };
                rows.sort_by(|a, b| natural_cmp(key_of(a), key_of(b)));
            } else if view.sort_column == 1 {
                rows.sort_by(|a, b| match (a, b) {
                    (RowId::Object(x), RowId::Object(y)) => x.name.cmp(&y.name),
                    _ => std::cmp::Ordering::Equal,
                });
            }
            if view.sort_reverse {
                rows.reverse();
            }
            view.rows = rows;
        }
        Screen::Problems => {
            view.total = state.registry.findings.len();
            view.rows = state
                .registry
                .findings
                .iter()
                .enumerate()
                .filter(|(_, f)| in_ns(&f.namespace) || f.namespace.is_empty())
                .filter(|(_, f)| {
                    filter.matches(&format!(
                        "{} {} {}/{} {} {}",
                        f.code.as_str(),
                        f.severity.as_str(),
                        f.namespace,
                        f.name,
                        f.field,
                        f.message
                    ))
                })
                .map(|(i, _)| RowId::Finding(i))
                .collect();
        }
        Screen::Charts | Screen::Proxies => {
            let (names, row): (_, fn(String) -> RowId) = if screen == Screen::Charts {
                (super::planes::chart_clusters(state), RowId::Cluster)
            } else {
                (super::planes::proxy_names(state), RowId::Proxy)
            };
            view.total = names.len();
            let mut names: Vec<String> = names.into_iter().filter(|n| filter.matches(n)).collect();
            if screen == Screen::Proxies && view.sort_column > 0 {
                let keys = super::planes::proxy_sort_keys(state, &names, view.sort_column);
                let mut keyed: Vec<(String, String)> = keys.into_iter().zip(names).collect();
                // Stable: equal keys keep the names' order.
                keyed.sort_by(|a, b| natural_cmp(&a.0, &b.0));
                names = keyed.into_iter().map(|(_, n)| n).collect();
            }
            if screen == Screen::Proxies && view.sort_reverse {
                names.reverse();
            }
            view.rows = names.into_iter().map(row).collect();
        }
        Screen::Endpoints(se) => {
            state.registry.endpoints = derive(&state.registry.store, se, &state.viewpoint);
            state.registry.observed = observed(state);
            let mut rows = Vec::new();
            let mut total = 0;
            if let Some(d) = &state.registry.endpoints {
                for (pi, p) in d.ports.iter().enumerate() {
                    for (ei, ep) in p.endpoints.iter().enumerate() {
                        total += 1;
                        let hay = format!(
                            "{} {} {} {:?}",
                            ep.address,
                            ep.locality,
                            ep.health.label(),
                            ep.source
                        );
                        if filter.matches(&hay) {
                            rows.push(RowId::Endpoint(pi, ei));
                        }
                    }
                }
            }
            view.total = total;
            view.rows = rows;
        }
        Screen::Yaml(key) => {
            let lines = state
                .registry
                .store
                .get(key)
                .map(|e| yaml_of(&e.object).lines().count())
                .unwrap_or(0);
            view.total = lines;
            view.rows = (0..lines).map(RowId::Line).collect();
        }
        Screen::AsOf(service, at) => super::timeline_rows::as_of(state, &mut view, service, *at),
        Screen::Timeline(scope) => {
            super::timeline_rows::rebuild(state, &mut view, scope.as_ref(), &mut filter)
        }
        Screen::Logs(_) => {
            if let Some(pane) = &state.logs {
                view.total = pane.lines.len();
                // In log order, not best match first: a log is read in time.
                view.rows = pane
                    .numbers()
                    .filter(|n| pane.line(*n).is_some_and(|l| filter.matches(l)))
                    .map(RowId::Line)
                    .collect();
                if pane.follow {
                    view.selected = view.rows.len().saturating_sub(1);
                }
            }
        }
    }
    view.marked.retain(|m| {
        view.rows.contains(m)
            || matches!(m, RowId::Object(k) if state.registry.store.get(k).is_some())
    });
    view.clamp();
    state.ui.lists.insert(screen, view);
}

/// What the demo's load shows of each endpoint on screen, from the proxies in the viewpoint
/// locality: its rate and its share of its port. With the planes in view, Envoy's own counters
/// take its place.
fn observed(state: &State) -> Option<Vec<BTreeMap<String, (f64, f64)>>> {
    let traffic = state
        .traffic
        .as_ref()
        .filter(|_| !state.planes.is_active())?;
    let view_loc = state.viewpoint.locality.as_ref().map(|l| l.to_string());
    let rates = traffic.rates(view_loc.as_deref());
    let derived = state.registry.endpoints.as_ref()?;
    Some(
        derived
            .ports
            .iter()
            .map(|port| {
                let total: f64 = port
                    .endpoints
                    .iter()
                    .filter_map(|e| rates.get(&e.address))
                    .sum();
                port.endpoints
                    .iter()
                    .map(|e| {
                        let mine = rates.get(&e.address).copied().unwrap_or(0.0);
                        let pct = if total > 0.0 {
                            mine / total * 100.0
                        } else {
                            0.0
                        };
                        (e.address.clone(), (mine, pct))
                    })
                    .collect()
            })
            .collect(),
    )
}

/// The ENDPOINTS counts of every ServiceEntry, once per store generation.
fn refresh_counts(state: &mut State) {
    let generation = state.registry.store.generation();
    if state.registry.derived.counts_at == Some(generation) {
        return;
    }
    let keys: Vec<_> = state
        .registry
        .store
        .keys(Kind::ServiceEntry)
        .cloned()
        .collect();
    state.registry.derived.derivations += keys.len() as u64;
    state.registry.derived.endpoint_counts = keys
        .into_iter()
        .map(|k| {
            let counts = endpoint_counts(&state.registry.store, &k);
            (k, counts)
        })
        .collect();
    state.registry.derived.counts_at = Some(generation);
}

/// The cells of `column` for every object of `kind`, once per store generation and column.
fn refresh_sort_keys(state: &mut State, kind: Kind, column: usize) {
    let at = (kind, column, state.registry.store.generation());
    if state.registry.derived.sorted_by == Some(at) {
        return;
    }
    let derived = &state.registry.derived;
    let sort_keys = state
        .registry
        .store
        .keys(kind)
        .filter_map(|k| {
            let e = state.registry.store.get(k)?;
            let cell = cells_with(&state.registry.store, &e.object, derived.counts(k))
                .into_iter()
                .nth(column)?;
            Some((k.clone(), cell))
        })
        .collect();
    state.registry.derived.sort_keys = sort_keys;
    state.registry.derived.sorted_by = Some(at);
}

pub fn kind_of(screen: &Screen) -> Option<Kind> {
    match screen {
        Screen::List(k) => Some(*k),
        _ => None,
    }
}
