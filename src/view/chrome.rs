//! The frame around every screen: title bar, key hints, status or input line.

use crate::action::Action;
use crate::config::theme::Theme;
use crate::model::lint::Severity;
use crate::model::object::Kind;
use crate::state::{Level, Mode, Screen, State};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn title_bar(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let count = state.list().map(|l| {
        if l.rows.len() == l.total {
            format!("[{}]", l.total)
        } else {
            format!("[{}/{}]", l.rows.len(), l.total)
        }
    });
    let mut spans = vec![
        Span::styled(" meshdeck ", theme.style("title")),
        Span::styled(state.screen().title(), theme.style("header")),
        Span::raw(" "),
        Span::styled(count.unwrap_or_default(), theme.style("muted")),
    ];
    if let (Screen::Timeline(_), Some(kind)) = (state.screen(), state.timeline.kind) {
        spans.push(Span::styled(
            format!(" kind:{}", kind.as_str()),
            theme.style("pending"),
        ));
    }
    if let Some(l) = state.list().filter(|l| !l.filter.is_empty()) {
        spans.push(Span::styled(
            format!(" filter:{}", l.filter),
            theme.style("pending"),
        ));
    }
    if let Some(l) = state.list().filter(|l| !l.marked.is_empty()) {
        spans.push(Span::styled(
            format!(" {} marked", l.marked.len()),
            theme.style("row.marked"),
        ));
    }
    spans.push(Span::styled(
        format!("  ns:{}", state.ui.namespace.as_deref().unwrap_or("all")),
        theme.style("muted"),
    ));
    let from = match (&state.viewpoint.namespace, &state.viewpoint.locality) {
        (Some(ns), Some(l)) => Some(format!("{ns} {l}")),
        (Some(ns), None) => Some(ns.clone()),
        (None, Some(l)) => Some(l.to_string()),
        (None, None) => None,
    };
    if let Some(v) = from {
        spans.push(Span::styled(format!("  from:{v}"), theme.style("muted")));
    }
    if let Screen::List(kind) = state.screen()
        && state.kube.values().any(|k| k.is_stale(*kind))
    {
        spans.push(Span::styled(" STALE ", theme.style("status.error")));
    }
    if let Some(r) = &state.timeline.replay {
        // The moment shown is what a replay is about: in the title, where it is never cut.
        let at = humantime::format_rfc3339_seconds(r.at()).to_string();
        let (i, n) = r.position();
        spans.push(Span::styled(
            format!(
                " REPLAY {} UTC ({i}/{n}) ",
                at.replace('T', " ").trim_end_matches('Z')
            ),
            theme.style("status.readonly"),
        ));
    } else if state.setup.readonly {
        spans.push(Span::styled(" READ-ONLY ", theme.style("status.readonly")));
    } else if let Screen::List(kind) = state.screen()
        && let denied = state
            .kube
            .iter()
            .filter(|(_, k)| k.no_write.contains_key(kind))
            .map(|(c, _)| c.name())
            .collect::<Vec<_>>()
        && !denied.is_empty()
    {
        let text = if state.several_clusters() {
            format!(" EDIT FORBIDDEN in {} ", denied.join(","))
        } else {
            " EDIT FORBIDDEN ".to_string()
        };
        spans.push(Span::styled(text, theme.style("status.readonly")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn hint(state: &State, action: Action, label: &str) -> Option<String> {
    state
        .setup
        .keymap
        .keys_for(action)
        .first()
        .map(|k| format!("{k} {label}"))
}

pub fn key_hints(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut hints: Vec<Option<String>> = Vec::new();
    let replay = state.timeline.replay.is_some();
    if replay {
        hints.push(hint(state, Action::ReplayBack, "earlier"));
        hints.push(hint(state, Action::ReplayForward, "later"));
    }
    match state.screen() {
        Screen::List(Kind::ServiceEntry) => hints.push(hint(state, Action::Open, "endpoints")),
        Screen::List(Kind::WorkloadEntry) | Screen::Endpoints(_) if !replay => {
            hints.push(hint(state, Action::Edit, "edit"));
            hints.push(hint(state, Action::Drain, "drain"));
            hints.push(hint(state, Action::Restore, "restore"));
            hints.push(hint(state, Action::Mark, "mark"));
            hints.push(hint(state, Action::Undo, "undo"));
            if state.planes.vms.is_some() {
                hints.push(hint(state, Action::Logs, "log"));
            }
        }
        Screen::Problems => hints.push(hint(state, Action::Open, "go to object")),
        Screen::Timeline(_) => {
            hints.push(hint(state, Action::Open, "go to object"));
            hints.push(hint(state, Action::AsOf, "as it was"));
        }
        Screen::Logs(_) => {
            let paused = state.logs.as_ref().is_some_and(|p| !p.follow);
            hints.push(hint(
                state,
                Action::Follow,
                if paused { "follow" } else { "pause" },
            ));
        }
        _ => {}
    }
    if !matches!(state.screen(), Screen::Logs(_)) {
        hints.push(hint(state, Action::Yaml, "yaml"));
    }
    hints.extend([
        hint(state, Action::FilterMode, "filter"),
        hint(state, Action::CommandMode, "cmd"),
        hint(state, Action::Back, "back"),
    ]);
    // Help and quit always show; what does not fit before them goes, last first (help lists it).
    let last = [
        hint(state, Action::Help, "help"),
        hint(state, Action::Quit, "quit"),
    ];
    let width = |h: &String| h.chars().count() + 2;
    let room = (area.width as usize).saturating_sub(last.iter().flatten().map(width).sum());
    let mut hints: Vec<String> = hints.into_iter().flatten().collect();
    while hints.iter().map(width).sum::<usize>() > room && hints.pop().is_some() {}
    let mut spans = Vec::new();
    for h in hints.into_iter().chain(last.into_iter().flatten()) {
        let (k, label) = h.split_once(' ').unwrap_or((&h, ""));
        spans.push(Span::styled(format!(" {k}"), theme.style("key")));
        spans.push(Span::styled(format!(" {label} "), theme.style("muted")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn status_bar(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    if state.ui.mode != Mode::Normal {
        let prompt = if state.ui.mode == Mode::Command {
            ":"
        } else {
            "/"
        };
        let line = Line::from(vec![
            Span::styled(prompt, theme.style("key")),
            Span::styled(state.ui.input.clone(), theme.style("input")),
            Span::styled("█", theme.style("key")),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let errors = state
        .registry
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = state.registry.findings.len() - errors;
    let load_errors = state.load_errors().count();
    let counts = format!(
        " se {} we {} wg {} dr {} │ problems {}E {}W{} │ {}",
        state.registry.store.count(Kind::ServiceEntry),
        state.registry.store.count(Kind::WorkloadEntry),
        state.registry.store.count(Kind::WorkloadGroup),
        state.registry.store.count(Kind::DestinationRule),
        errors,
        warnings,
        if load_errors > 0 {
            format!(" │ {load_errors} file error(s)")
        } else {
            String::new()
        },
        state.setup.source_label,
    );
    // The cluster connection: appended when fine, in front and red when not; so is a lost
    // xDS server or an Envoy that does not answer.
    let connection = crate::state::KubeView::summary_of(state.kube.values());
    let trouble = match &connection {
        Some((true, text)) => Some(text.clone()),
        _ => state.planes.trouble(),
    };
    if let Some(text) = &trouble
        && !matches!(state.ui.status, Some((Level::Error, _)))
    {
        let line = Line::from(vec![
            Span::styled(format!(" {text} "), theme.style("status.error")),
            Span::styled(counts, theme.style("status")),
        ]);
        frame.render_widget(Paragraph::new(line).style(theme.style("status")), area);
        return;
    }
    // On a cluster the connection says where we are; the source label would repeat it.
    let counts = match &connection {
        Some((false, text)) => format!(
            " {text} │{}",
            counts
                .rsplit_once(" │ ")
                .map_or(counts.as_str(), |(c, _)| c)
        ),
        _ => counts,
    };
    let (style, text) = match (
        &state.ui.status,
        state.setup.config_errors.first(),
        state.load_errors().next(),
        &state.ui.notice,
    ) {
        (Some((Level::Error, m)), _, _, _) => ("status.error", m.clone()),
        (_, Some(c), _, _) => ("status.error", format!("config: {c} (defaults used)")),
        (Some((Level::Info, m)), _, _, _) => ("status.info", m.clone()),
        (None, None, Some(e), _) => ("status.error", e.to_string()),
        (None, None, None, Some(n)) => ("status", n.clone()),
        (None, None, None, None) => ("status", counts.clone()),
    };
    let line = if text == counts {
        Line::from(Span::styled(counts, theme.style(style)))
    } else {
        Line::from(vec![
            Span::styled(format!(" {text} "), theme.style(style)),
            Span::styled(counts, theme.style("status")),
        ])
    };
    frame.render_widget(Paragraph::new(line).style(theme.style("status")), area);
}
