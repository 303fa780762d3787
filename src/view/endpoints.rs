//! The endpoints of one service: the derived table with share bars.

use super::table::{self, TableSpec, share_bar};
use crate::config::theme::Theme;
use crate::model::endpoint::{Endpoint, EndpointSource};
use crate::model::planes::{HostKey, cluster_name};
use crate::state::{RowId, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (Some(list), Some(d)) = (state.list(), state.registry.endpoints.as_ref()) else {
        frame.render_widget(
            Paragraph::new(" this ServiceEntry is gone (deleted or renamed) — esc goes back "),
            area,
        );
        return;
    };
    let planes = &state.planes;
    let footer_height = if planes.is_active() { 3 } else { 0 };
    let visibility = visibility_line(state, d);
    let [info, seen, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(visibility.is_some())),
        Constraint::Min(1),
        Constraint::Length(footer_height),
    ])
    .areas(area);
    if let Some((text, warn)) = visibility {
        let style = if warn { "severity.warning" } else { "muted" };
        frame.render_widget(Paragraph::new(Line::styled(text, theme.style(style))), seen);
    }
    let dr = d
        .destination_rule
        .as_ref()
        .map_or("no DestinationRule".to_string(), |k| {
            format!("DR {}/{}", k.namespace, k.name)
        });
    let described = state.viewpoint.describe();
    let view = if described.is_empty() {
        "no viewpoint (:view NS or REGION/ZONE)".to_string()
    } else {
        format!("seen from {described}")
    };
    let spans = vec![
        Span::styled(format!(" {} ", d.hosts.join(",")), theme.style("header")),
        Span::styled(format!("│ {dr} │ {view}"), theme.style("muted")),
    ];
    frame.render_widget(Paragraph::new(Line::from(spans)), info);
    let height = body.height.saturating_sub(2) as usize;
    let (start, end) = table::window(list.selected, list.rows.len(), height);
    let bar = if body.width < 100 { 5 } else { 10 };
    let mut rows = Vec::new();
    let mut marked = Vec::new();
    for row in &list.rows[start..end] {
        let RowId::Endpoint(p, e) = row else { continue };
        let Some(port) = d.ports.get(*p) else {
            continue;
        };
        let Some(ep) = port.endpoints.get(*e) else {
            continue;
        };
        let mut source = match &ep.source {
            EndpointSource::WorkloadEntry { name, .. } => format!("we/{name}"),
            EndpointSource::Pod { name, .. } => format!("pod/{name}"),
            EndpointSource::ServiceEntry { index, .. } => format!("inline[{index}]"),
        };
        // A host merged across clusters: each endpoint says which one it comes from.
        if !ep.source.cluster().is_only() {
            source = format!("{source}@{}", ep.source.cluster());
        }
        let weight = match ep.declared_weight {
            Some(w) if w == ep.weight => w.to_string(),
            Some(w) => format!("{w}→{}", ep.weight),
            None => format!("-→{}", ep.weight),
        };
        let style = (!ep.health.is_healthy()).then_some("health.unhealthy");
        let observed = state.registry.observed.as_ref().map(|ports| {
            let (mine, pct) = ports
                .get(*p)
                .and_then(|m| m.get(&ep.address))
                .copied()
                .unwrap_or((0.0, 0.0));
            Line::from(format!("{mine:>5.1}/s {pct:>3.0}%"))
        });
        let cluster = d.hosts.first().map(|h| cluster_name(port.port_number, h));
        let plane_cells = cluster.as_deref().filter(|_| planes.is_active()).map(|c| {
            let hidden = d
                .hosts
                .first()
                .and_then(|h| d.hidden_host(h, state.viewpoint.namespace.as_deref()));
            plane_cells(state, theme, c, ep, hidden.as_ref())
        });
        rows.push((
            vec![
                Line::from(format!("{}/{}", port.port_number, port.port_name)),
                Line::from(source),
                Line::from(format!("{}:{}", ep.address, ep.port)),
                Line::from(weight),
                Line::from(ep.locality.to_string()),
                Line::from(ep.priority.map_or("-".into(), |p| p.to_string())),
                Line::from(ep.health.label()),
                Line::from(vec![
                    Span::styled(share_bar(ep.share, bar), theme.style("share.bar")),
                    Span::raw(format!(" {:>5.1}%", ep.share * 100.0)),
                ]),
            ]
            .into_iter()
            .chain(observed)
            .chain(plane_cells.into_iter().flatten())
            .collect(),
            style,
        ));
        marked.push(list.marked.contains(row));
    }
    let mut header = [
        "PORT", "SOURCE", "ADDRESS", "WEIGHT", "LOCALITY", "PRI", "HEALTH", "SHARE",
    ]
    .map(String::from)
    .to_vec();
    if state.registry.observed.is_some() {
        header.push("OBSERVED".into());
    }
    if planes.is_active() {
        header.extend(["SENT", "ENVOY", "RQ/S", "DRIFT"].map(String::from));
    }
    table::render(
        frame,
        body,
        theme,
        TableSpec {
            header,
            rows,
            selected: Some(list.selected.saturating_sub(start)),
            marked,
            key_column: 1,
            optional: if planes.is_active() {
                vec![5, 0, 4, 7, 2]
            } else {
                vec![5, 0, 4]
            },
        },
    );
    if planes.is_active() {
        footer_lines(state, theme, frame, footer);
    }
}

/// SENT, ENVOY, RQ/S and DRIFT for one endpoint.
fn plane_cells<'a>(
    state: &State,
    theme: &Theme,
    cluster: &str,
    ep: &Endpoint,
    hidden: Option<&crate::model::planes::drift::HiddenHost>,
) -> Vec<Line<'a>> {
    let planes = &state.planes;
    let key = HostKey::new(ep.address.clone(), ep.port);
    let control = planes.control_for(cluster);
    let sent = match (control, control.and_then(|c| c.endpoint(cluster, &key))) {
        (None, _) => Line::from("-"),
        (Some(_), Some(s)) => Line::from(format!("w{} p{}", s.weight, s.priority)),
        (Some(c), None) if c.knows(cluster) => {
            Line::styled("not sent", theme.style("severity.warning"))
        }
        (Some(_), None) => Line::styled("waiting", theme.style("muted")),
    };
    let held: Vec<String> = planes
        .proxies
        .values()
        .filter(|p| p.fetched_at.is_some())
        .map(|p| {
            let mark = if p.is_stale() { "?" } else { "" };
            match p.host(cluster, &key) {
                None => format!("-{mark}"),
                Some(h) => {
                    let flags = h
                        .flags
                        .iter()
                        .map(|f| match f.as_str() {
                            "failed_outlier_check" => "EJ",
                            "failed_active_health_check" => "HC",
                            _ => "!",
                        })
                        .collect::<Vec<_>>()
                        .join("");
                    format!(
                        "w{}{}{mark}",
                        h.weight,
                        if flags.is_empty() {
                            String::new()
                        } else {
                            format!(" {flags}")
                        }
                    )
                }
            }
        })
        .collect();
    let envoy = if held.is_empty() {
        "-".to_string()
    } else {
        held.join(" ")
    };
    let rate = planes
        .rate(cluster, &key)
        .map_or("-".to_string(), |r| format!("{r:.1}"));
    let drift = planes.drift(cluster, ep, hidden);
    let drift_cell = match drift.as_slice() {
        [] => Line::styled("ok", theme.style("muted")),
        [one] => Line::styled(format!("⚠ {}", one.code), theme.style("severity.warning")),
        [first, rest @ ..] => Line::styled(
            format!("⚠ {} +{}", first.code, rest.len()),
            theme.style("severity.warning"),
        ),
    };
    vec![sent, Line::from(envoy), Line::from(rate), drift_cell]
}

/// Which declaration of a host the viewpoint's proxy gets, and why (true: it is not this
/// one). None when the viewpoint has no namespace or the host has one declaration.
fn visibility_line(
    state: &State,
    d: &crate::model::endpoint::ServiceEndpoints,
) -> Option<(String, bool)> {
    let ns = state.viewpoint.namespace.as_deref()?;
    if let Some((host, h)) = d.hidden.iter().next() {
        return Some((format!(" ⚠ {}: {}", h.code(), h.reason(host, ns)), true));
    }
    let (host, others) = d.beats.iter().next()?;
    let names: Vec<String> = others
        .iter()
        .map(|k| format!("{}/{}", k.namespace, k.name))
        .collect();
    Some((
        format!(
            " proxies in {ns} get this declaration of {host}, not {}'s: {}",
            names.join(", "),
            state.viewpoint.rule.describe()
        ),
        false,
    ))
}

/// The selected endpoint's drift reasons, and the edit being followed through the planes.
fn footer_lines(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let [drift_area, verify_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(2)]).areas(area);
    let selected = state
        .list()
        .and_then(|l| l.selected_row())
        .and_then(|r| match r {
            RowId::Endpoint(p, e) => Some((*p, *e)),
            _ => None,
        });
    if let (Some((p, e)), Some(d)) = (selected, state.registry.endpoints.as_ref())
        && let (Some(port), Some(ep)) = (d.ports.get(p), state.endpoint_at(p, e))
        && let Some(host) = d.hosts.first()
    {
        let hidden = d.hidden_host(host, state.viewpoint.namespace.as_deref());
        let drift = state
            .planes
            .drift(&cluster_name(port.port_number, host), ep, hidden.as_ref());
        let text = if drift.is_empty() {
            // The quiet moment explains the ENVOY cells: whose they are and what marks mean.
            let names: Vec<&str> = state.planes.proxies.keys().map(String::as_str).collect();
            let legend = if names.is_empty() {
                String::new()
            } else {
                format!(
                    " · ENVOY: {} (EJ ejected, HC failing health check, ? not answering, - not held)",
                    names.join(" ")
                )
            };
            Line::styled(
                format!(" the three planes agree on this endpoint{legend}"),
                theme.style("muted"),
            )
        } else {
            Line::styled(
                format!(
                    " ⚠ {}",
                    drift
                        .iter()
                        .map(|d| d.reason.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                theme.style("severity.warning"),
            )
        };
        frame.render_widget(Paragraph::new(text), drift_area);
    }
    let verify_area = match &state.edits.shift {
        Some(run) => {
            let [shift_area, rest] =
                Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(verify_area);
            let style = if run.shift.outcome.is_some() {
                "severity.error"
            } else {
                "key"
            };
            frame.render_widget(
                Paragraph::new(Line::styled(format!(" {}", run.line), theme.style(style))),
                shift_area,
            );
            rest
        }
        None => verify_area,
    };
    if let Some(v) = &state.planes.verify {
        let style = if v.done.is_some() {
            "health.healthy"
        } else if v.gave_up.is_some() {
            "severity.error"
        } else {
            "key"
        };
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(" {}", v.summary()),
                theme.style(style),
            ))
            .wrap(ratatui::widgets::Wrap { trim: false }),
            verify_area,
        );
    }
}
