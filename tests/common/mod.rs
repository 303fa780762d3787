//! Helpers shared by the integration tests: a console state on a manifest directory, typing
//! keys into `update`, and rendering to a text screen.
#![allow(dead_code)]

pub mod corpus;
pub mod kube;
pub mod mesh;
pub mod pty;
pub mod wait;

use meshdeck::config::keymap::Keymap;
use meshdeck::config::theme::Theme;
use meshdeck::io::manifests::load::load_all;
use meshdeck::msg::{Cmd, Msg};
use meshdeck::state::State;
use meshdeck::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::{Path, PathBuf};

pub fn state_on(roots: &[PathBuf], readonly: bool) -> State {
    let config = meshdeck::state::Config::new("files: test", readonly, Keymap::load(None, None).0);
    state_configured(roots, config)
}

/// As the console starts on `roots` with `config`.
pub fn state_configured(roots: &[PathBuf], config: meshdeck::state::Config) -> State {
    let mut state = State::new(config);
    let (files, errors) = load_all(roots);
    assert!(errors.is_empty(), "{errors:?}");
    update::update(&mut state, Msg::FilesLoaded(files));
    update::init(&mut state);
    state
}

pub fn example_state() -> State {
    state_on(&[PathBuf::from("examples/registry")], false)
}

/// The example registry with `config` (a keymap, planes to watch…).
pub fn example_with(config: impl FnOnce(&mut meshdeck::state::Config)) -> State {
    let mut c = meshdeck::state::Config::new("files: test", false, Keymap::load(None, None).0);
    config(&mut c);
    state_configured(&[PathBuf::from("examples/registry")], c)
}

/// Planes at start: these proxies polled, no viewpoint beyond the default.
pub fn planes_of(
    view: meshdeck::state::planes::PlanesView,
) -> Option<meshdeck::state::PlanesStart> {
    Some(meshdeck::state::PlanesStart {
        view,
        view_namespace: None,
        view_locality: None,
    })
}

pub fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// Types `text`; `\n` is enter, `\x1b` is esc, `\t` is tab, `\x08` is backspace.
pub fn typed(state: &mut State, text: &str) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    for c in text.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            '\t' => KeyCode::Tab,
            '\x08' => KeyCode::Backspace,
            c => KeyCode::Char(c),
        };
        cmds.extend(update::update(state, key(code)));
    }
    cmds
}

pub fn screen(state: &State, w: u16, h: u16) -> String {
    let theme = Theme::builtin("dark").expect("dark theme");
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| meshdeck::view::render(state, &theme, f))
        .expect("draw");
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A copy of the example registry in a fresh directory, for tests that write.
pub fn example_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir("examples/registry").expect("examples") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, dir.path().join(p.file_name().expect("name"))).expect("copy");
    }
    let root = dir.path().to_path_buf();
    (dir, root)
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("read")
}
