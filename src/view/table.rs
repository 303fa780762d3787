//! A scrolling table of text cells: only the visible window is built, columns are sized to
//! their content and squeezed to the width, never below the key column's own width.

use crate::config::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Row, Table};
use unicode_width::UnicodeWidthStr;

pub struct TableSpec<'a> {
    pub header: Vec<String>,
    /// Rows of the visible window only, with a style key each (e.g. "health.unhealthy").
    pub rows: Vec<(Vec<Line<'a>>, Option<&'static str>)>,
    /// Index of the selected row within `rows`.
    pub selected: Option<usize>,
    pub marked: Vec<bool>,
    /// The column that must stay whole (NAME).
    pub key_column: usize,
    /// Columns that may be left out when the terminal is narrow, first to go first.
    pub optional: Vec<usize>,
}

/// First row of the window that keeps `selected` visible in `height` rows.
pub fn window(selected: usize, len: usize, height: usize) -> (usize, usize) {
    let height = height.max(1);
    let start = selected
        .saturating_sub(height - 1)
        .min(len.saturating_sub(height));
    (start, (start + height).min(len))
}

pub fn fit(widths: &mut [usize], key: usize, avail: usize) {
    let gaps = widths.len().saturating_sub(1);
    loop {
        let total: usize = widths.iter().sum::<usize>() + gaps;
        if total <= avail {
            return;
        }
        let widest = widths
            .iter()
            .enumerate()
            .filter(|(i, w)| *i != key && **w > 4)
            .max_by_key(|(_, w)| **w)
            .map(|(i, _)| i);
        match widest {
            Some(i) => widths[i] -= 1,
            None => return,
        }
    }
}

impl<'a> TableSpec<'a> {
    /// A table without marks: its column names, the visible rows, the selected one within
    /// them, the column that stays whole, and the columns a narrow terminal drops first.
    pub fn unmarked(
        header: &[&str],
        rows: Vec<(Vec<Line<'a>>, Option<&'static str>)>,
        selected: usize,
        key_column: usize,
        optional: &[usize],
    ) -> Self {
        TableSpec {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows,
            selected: Some(selected),
            marked: vec![],
            key_column,
            optional: optional.to_vec(),
        }
    }
}

pub fn render(frame: &mut Frame, area: Rect, theme: &Theme, spec: TableSpec<'_>) {
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.style("border"));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let mut widths: Vec<usize> = spec.header.iter().map(|h| h.width()).collect();
    for (cells, _) in &spec.rows {
        for (i, c) in cells.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.width()).min(48);
            }
        }
    }
    let avail = inner.width.saturating_sub(2) as usize;
    let keep = columns_to_keep(&widths, &spec.optional, avail);
    let key_column = keep.iter().position(|c| *c == spec.key_column).unwrap_or(0);
    let mut widths: Vec<usize> = keep.iter().map(|c| widths[*c]).collect();
    let header_cells: Vec<String> = keep.iter().map(|c| spec.header[*c].clone()).collect();
    // Two columns for the marker at the left edge.
    fit(&mut widths, key_column, avail);
    let mut constraints = vec![Constraint::Length(1)];
    constraints.extend(widths.iter().map(|w| Constraint::Length(*w as u16)));
    let header = Row::new(
        std::iter::once(String::new())
            .chain(header_cells)
            .collect::<Vec<_>>(),
    )
    .style(theme.style("header"));
    let rows: Vec<Row> = spec
        .rows
        .into_iter()
        .enumerate()
        .map(|(i, (cells, style))| {
            let marked = spec.marked.get(i).copied().unwrap_or(false);
            let mut st = style.map_or(Style::default(), |s| theme.style(s));
            if marked {
                st = st.patch(theme.style("row.marked"));
            }
            if spec.selected == Some(i) {
                st = st.patch(theme.style("row.selected"));
            }
            let marker = if marked {
                "*"
            } else if spec.selected == Some(i) {
                ">"
            } else {
                " "
            };
            let mut cells: Vec<Option<Line>> = cells.into_iter().map(Some).collect();
            let kept = keep
                .iter()
                .filter_map(|c| cells.get_mut(*c).and_then(Option::take));
            Row::new(std::iter::once(Line::from(marker)).chain(kept)).style(st)
        })
        .collect();
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(1);
    frame.render_widget(table, inner);
}

/// Drops optional columns, in order, until the rest fit at their natural widths (or none is
/// left to drop). Squeezing what remains is `fit`'s job.
fn columns_to_keep(widths: &[usize], optional: &[usize], avail: usize) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..widths.len()).collect();
    let total = |keep: &[usize]| {
        keep.iter().map(|c| widths[*c]).sum::<usize>() + keep.len().saturating_sub(1)
    };
    for col in optional {
        if total(&keep) <= avail {
            break;
        }
        keep.retain(|c| c != col);
    }
    keep
}

pub fn share_bar(share: f64, width: usize) -> String {
    let filled = (share * width as f64).round() as usize;
    format!(
        "{}{}",
        "█".repeat(filled.min(width)),
        "·".repeat(width.saturating_sub(filled))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_the_selection_visible() {
        assert_eq!(window(0, 100, 10), (0, 10));
        assert_eq!(window(9, 100, 10), (0, 10));
        assert_eq!(window(10, 100, 10), (1, 11));
        assert_eq!(window(99, 100, 10), (90, 100));
        assert_eq!(window(0, 3, 10), (0, 3));
    }

    #[test]
    fn optional_columns_go_first_and_in_order() {
        assert_eq!(
            columns_to_keep(&[5, 10, 5, 5], &[3, 0], 100),
            vec![0, 1, 2, 3]
        );
        assert_eq!(columns_to_keep(&[5, 10, 5, 5], &[3, 0], 20), vec![1, 2]);
        assert_eq!(columns_to_keep(&[5, 10, 5, 5], &[3, 0], 22), vec![0, 1, 2]);
    }

    #[test]
    fn fit_squeezes_other_columns_first() {
        let mut w = vec![10, 20, 30];
        fit(&mut w, 1, 40);
        assert_eq!(w[1], 20);
        assert!(w.iter().sum::<usize>() + 2 <= 40);
    }
}
