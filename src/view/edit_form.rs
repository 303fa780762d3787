//! The edit form: weight and locality inputs with their errors, and the traffic share of every
//! endpoint of the affected services before and after.

use super::table::share_bar;
use crate::config::theme::Theme;
use crate::state::{EditFocus, EditStage, State};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let Some(s) = state.edits.form.as_ref() else {
        return;
    };
    let area = frame.area();
    let w = area.width.saturating_sub(4).min(100);
    // Inputs and their errors (6), preview header and rows, footer, borders.
    let want = 6 + 1 + s.preview.len() as u16 + 1 + 2;
    let h = want.clamp(12, area.height.saturating_sub(2).max(1));
    let popup = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + 1,
        w,
        h.min(area.height),
    );
    frame.render_widget(Clear, popup);
    let title = if s.is_bulk() {
        format!(" edit {} entries ", s.targets.len())
    } else {
        format!(" edit {} ", s.targets[0].key)
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style("border"))
        .title(Span::styled(title, theme.style("title")));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [msg, wl, werr, ll, lerr, preview, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    if let Some(e) = &s.source_error {
        frame.render_widget(
            Paragraph::new(Line::styled(e.clone(), theme.style("input.error"))),
            msg,
        );
    } else if s.is_bulk() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "one weight for all, or one per entry: 90/10",
                theme.style("muted"),
            )),
            msg,
        );
    }
    field(
        frame,
        theme,
        wl,
        "weight  ",
        &s.weight,
        s.focus == EditFocus::Weight,
    );
    error(frame, theme, werr, &s.field_errors.weight);
    field(
        frame,
        theme,
        ll,
        "locality",
        &s.locality,
        s.focus == EditFocus::Locality,
    );
    error(frame, theme, lerr, &s.field_errors.locality);
    // Bars shrink first on narrow terminals; names take what is left.
    let bar = if inner.width >= 90 { 10 } else { 5 };
    let names = (inner.width as usize).saturating_sub(2 * bar + 20);
    let svc_w = (names * 11 / 20).max(8);
    let ep_w = names.saturating_sub(svc_w + 2).max(6);
    let mut lines = vec![Line::styled(
        format!(
            " {:<svc_w$} {:<ep_w$} {:>w$}   {:>w$}",
            "SERVICE",
            "ENDPOINT",
            "NOW",
            "AFTER",
            w = bar + 7
        ),
        theme.style("header"),
    )];
    for r in s
        .preview
        .iter()
        .take(preview.height.saturating_sub(1) as usize)
    {
        let mark = if r.is_target { "*" } else { " " };
        let changed = (r.after - r.before).abs() > 1e-9;
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{mark}{:<svc_w$} {:<ep_w$} ",
                truncate(&r.service, svc_w),
                truncate(&r.endpoint, ep_w)
            )),
            Span::styled(share_bar(r.before, bar), theme.style("share.bar")),
            Span::raw(format!(" {:>5.1}% → ", r.before * 100.0)),
            Span::styled(
                share_bar(r.after, bar),
                theme.style(if changed { "share.after" } else { "share.bar" }),
            ),
            Span::styled(
                format!(" {:>5.1}%", r.after * 100.0),
                theme.style(if changed { "share.after" } else { "default" }),
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), preview);
    let foot = match s.stage {
        EditStage::Editing => "tab switch field · enter review · esc cancel (nothing is written)",
        EditStage::Confirm => "apply these changes?  enter/y apply · esc back to editing",
        EditStage::Submitting => "applying… (pending until the source confirms)",
    };
    let style = if s.stage == EditStage::Confirm {
        "status.info"
    } else if s.stage == EditStage::Submitting {
        "pending"
    } else {
        "muted"
    };
    frame.render_widget(
        Paragraph::new(Line::styled(foot, theme.style(style))),
        footer,
    );
}

/// One labelled input: the label lit while it has focus.
pub(super) fn field(
    frame: &mut Frame,
    theme: &Theme,
    area: Rect,
    label: &str,
    input: &ratatui_textarea::TextArea<'static>,
    focused: bool,
) {
    let [l, r] = Layout::horizontal([Constraint::Length(10), Constraint::Min(1)]).areas(area);
    frame.render_widget(
        Paragraph::new(Line::styled(
            label,
            theme.style(if focused { "key" } else { "muted" }),
        )),
        l,
    );
    let mut ta = input.clone();
    ta.set_style(theme.style("input"));
    ta.set_cursor_line_style(theme.style("input"));
    if !focused {
        ta.set_cursor_style(theme.style("input"));
    }
    frame.render_widget(&ta, r);
}

fn error(frame: &mut Frame, theme: &Theme, area: Rect, err: &Option<String>) {
    if let Some(e) = err {
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!("          {e}"),
                theme.style("input.error"),
            )),
            area,
        );
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
