//! Entering and leaving the alternate screen, and making sure we always leave it: on return,
//! on panic, and on SIGHUP/SIGTERM.

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use std::io::{Stdout, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the console has taken the terminal: only then is there anything to give back, so
/// headless commands (whose stdout may be a file) never write a terminal escape.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Frames go out inside the terminal's synchronized update (see `sync_backend`).
pub type Term = Terminal<crate::sync_backend::Synchronized<CrosstermBackend<Stdout>, Stdout>>;

pub fn enter() -> std::io::Result<Term> {
    install_panic_hook();
    ENTERED.store(true, Ordering::SeqCst);
    enable_raw_mode()?;
    // Clear with a plain escape: ratatui's clear() asks the terminal for the cursor position,
    // which some terminals and multiplexers never answer.
    execute!(
        stdout(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        Clear(ClearType::All)
    )?;
    let backend = crate::sync_backend::Synchronized::new(CrosstermBackend::new(stdout()), stdout());
    let mut t = Terminal::new(backend)?;
    t.hide_cursor()?;
    Ok(t)
}

/// Idempotent: safe to call from the panic hook and again on the normal path; does nothing when
/// the terminal was never entered.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!("panic: {info}");
        previous(info);
    }));
}

/// Sets the terminal's clipboard with OSC 52: the terminal (or tmux with `set-clipboard on`)
/// takes it, however many SSH hops away it is.
pub fn copy_to_clipboard(text: &str) -> std::io::Result<()> {
    use base64::Engine;
    use std::io::Write;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let mut out = stdout();
    write!(out, "\x1b]52;c;{encoded}\x07")?;
    out.flush()
}
