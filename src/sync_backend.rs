//! A backend that brackets every frame that changes something in the terminal's synchronized
//! update (`ESC[?2026h` … `ESC[?2026l`), so a slow SSH link never shows half a frame. A frame
//! with nothing to change writes nothing at all, markers included.

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::crossterm::{Command, QueueableCommand};
use ratatui::layout::{Position, Size};
use std::io::Write;

pub struct Synchronized<B, W> {
    inner: B,
    out: W,
    open: bool,
}

impl<B, W: Write> Synchronized<B, W> {
    /// `out` is the same terminal `inner` writes to (a handle of its own, e.g. another
    /// `Stdout`; what both write goes through one process-wide buffer in order).
    pub fn new(inner: B, out: W) -> Self {
        Synchronized {
            inner,
            out,
            open: false,
        }
    }

    fn begin(&mut self) -> std::io::Result<()> {
        if !self.open {
            self.queue(BeginSynchronizedUpdate)?;
            self.open = true;
        }
        Ok(())
    }

    fn queue(&mut self, c: impl Command) -> std::io::Result<()> {
        self.out.queue(c)?;
        Ok(())
    }
}

impl<B: Backend<Error = std::io::Error>, W: Write> Backend for Synchronized<B, W> {
    type Error = std::io::Error;

    fn draw<'a, I>(&mut self, content: I) -> std::io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        self.begin()?;
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> std::io::Result<()> {
        self.begin()?;
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> std::io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> std::io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> std::io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> std::io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> std::io::Result<()> {
        self.begin()?;
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> std::io::Result<()> {
        self.begin()?;
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> std::io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> std::io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // The frame's bytes go out first, then the end marker, in one flush.
        self.inner.flush()?;
        if self.open {
            self.open = false;
            self.queue(EndSynchronizedUpdate)?;
            self.out.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::CrosstermBackend;
    use ratatui::widgets::Paragraph;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_changed_frame_is_bracketed_and_an_unchanged_one_writes_nothing() {
        let bytes = Shared::default();
        let backend = Synchronized::new(CrosstermBackend::new(bytes.clone()), bytes.clone());
        let mut term = Terminal::with_options(
            backend,
            ratatui::TerminalOptions {
                viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 20, 2)),
            },
        )
        .unwrap();
        let text = |t: &'static str| {
            move |f: &mut ratatui::Frame| f.render_widget(Paragraph::new(t), f.area())
        };
        term.draw(text("hello")).unwrap();
        let first = String::from_utf8(std::mem::take(&mut *bytes.0.lock().unwrap())).unwrap();
        assert!(first.starts_with("\x1b[?2026h"), "{first:?}");
        assert!(first.ends_with("\x1b[?2026l"), "{first:?}");
        assert!(first.contains("hello"));
        term.draw(text("hello")).unwrap();
        let second = String::from_utf8(bytes.0.lock().unwrap().clone()).unwrap();
        // Only what ratatui writes on every draw (the cursor is hidden again).
        assert_eq!(
            second, "\x1b[?25l",
            "nothing changed, no frame and no markers"
        );
    }
}
