//! `meshdeck replay FILE`: the console, offline, on a flight recording. No source, no planes:
//! the recording's registry and changes are all there is, and nothing is written.

use crate::config::ConfigError;
use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::msg::Msg;
use crate::state::{Config, State};
use std::path::Path;

/// The user's keys and colours, read as for any console.
pub struct Look {
    pub keymap: Keymap,
    pub theme: Theme,
    pub errors: Vec<ConfigError>,
}

/// Reads the recording, then opens the console at `at` (what `:at` takes).
pub async fn run(
    args: &super::args::ConsoleArgs,
    file: &Path,
    at: &str,
    look: Look,
) -> anyhow::Result<i32> {
    let loaded = match crate::io::replay::read(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "meshdeck: cannot read the recording {}: {e}",
                file.display()
            );
            return Ok(super::EXIT_USAGE);
        }
    };
    let r = &loaded.replay;
    let start = match crate::update::replay_moment(at, r) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("meshdeck: --at {at}: {e}");
            return Ok(super::EXIT_USAGE);
        }
    };
    let config = Config {
        config_errors: look.errors,
        namespace: args.scope.namespace.clone(),
        ..Config::new(format!("replay {}", file.display()), true, look.keymap)
    };
    let mut state = State::new(config);
    crate::update::update(&mut state, Msg::Replay(Box::new(loaded)));
    crate::update::update(&mut state, Msg::ReplayAt(start));
    crate::update::init(&mut state);
    // Edits are refused before they would reach a source; a send would fail at once.
    let (source, _) = tokio::sync::mpsc::channel(1);
    let (_tx, rx) = tokio::sync::mpsc::channel::<Msg>(16);
    let mut term = crate::terminal::enter()?;
    let routes = crate::app::Routes {
        source,
        demo: None,
        planes: None,
        logs: None,
        recorder: None,
    };
    let result = crate::app::run(&mut term, state, look.theme, rx, routes).await;
    crate::terminal::restore();
    result.map(|_| 0)
}
