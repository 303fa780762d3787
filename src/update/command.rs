//! The `:` command line and the `/` filter line.

use super::actions;
use crate::action::Action;
use crate::command::{Arg, Command};
use crate::model::object::Kind;
use crate::model::share::ViewChange;
use crate::msg::Cmd;
use crate::state::dirty::Dirty;
use crate::state::{Level, Mode, Screen, State};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn seen_from(state: &State) -> String {
    let now = state.viewpoint.describe();
    if now.is_empty() {
        "no particular proxy".into()
    } else {
        now
    }
}

/// `:view`: which proxy the endpoints, shares and drift are seen from.
fn view(state: &mut State, args: &str) {
    if args.trim().is_empty() {
        state.ui.status = Some((
            Level::Info,
            format!(
                "seen from {}; :view NS, :view REGION/ZONE, :view NS REGION/ZONE, :view - for the default",
                seen_from(state)
            ),
        ));
        return;
    }
    let known = |ns: &str| {
        state.registry.store.namespaces().contains(ns)
            || state.planes.syncs.iter().any(|p| p.namespace() == Some(ns))
    };
    match ViewChange::parse(args, &known) {
        Ok(ViewChange::Reset) => {
            state.viewpoint.locality = None;
            state.viewpoint.labels.clear();
            state.viewpoint.namespace = state.planes.node_namespace.clone();
        }
        Ok(ViewChange::Set {
            namespace,
            locality,
        }) => {
            if let Some(ns) = namespace {
                state.viewpoint.namespace = Some(ns);
            }
            if locality.is_some() {
                state.viewpoint.locality = locality;
            }
        }
        Err(e) => {
            state.ui.status = Some((Level::Error, e));
            return;
        }
    }
    state.ui.status = Some((
        Level::Info,
        format!("endpoints, shares and drift seen from {}", seen_from(state)),
    ));
}

/// A bound key of the command or filter line.
pub fn on_action(state: &mut State, action: Action) -> Vec<Cmd> {
    match action {
        Action::LineCancel => {
            if state.ui.mode == Mode::Filter {
                set_filter(state, String::new());
            }
            state.ui.mode = Mode::Normal;
            state.ui.input.clear();
        }
        Action::LineSubmit => {
            let input = std::mem::take(&mut state.ui.input);
            let mode = std::mem::replace(&mut state.ui.mode, Mode::Normal);
            if mode == Mode::Command {
                return run(state, input.trim());
            }
            set_filter(state, input);
        }
        Action::LineBackspace => {
            state.ui.input.pop();
            typed(state);
        }
        Action::LineClear => {
            state.ui.input.clear();
            typed(state);
        }
        Action::LineDeleteWord => {
            let kept = state.ui.input.trim_end().len();
            let word_start = state.ui.input[..kept]
                .rfind(char::is_whitespace)
                .map_or(0, |i| i + 1);
            state.ui.input.truncate(word_start);
            typed(state);
        }
        Action::LineComplete if state.ui.mode == Mode::Command => complete(state),
        _ => {}
    }
    Vec::new()
}

/// A key no binding of the line takes: a character is typed.
pub fn on_input(state: &mut State, ev: KeyEvent) -> Vec<Cmd> {
    if let KeyCode::Char(c) = ev.code
        && !ev.modifiers.contains(KeyModifiers::CONTROL)
        && !ev.modifiers.contains(KeyModifiers::ALT)
    {
        state.ui.input.push(c);
        typed(state);
    }
    Vec::new()
}

/// The filter follows every change of its line.
fn typed(state: &mut State) {
    if state.ui.mode == Mode::Filter {
        set_filter(state, state.ui.input.clone());
    }
}

/// `tab` on the command line: the command name, or a namespace for `:ns` and `:view`; the
/// longest common part when several fit, and the candidates on the status line.
fn complete(state: &mut State) {
    let input = state.ui.input.clone();
    let (head, word, candidates): (String, String, Vec<String>) =
        match input.split_once(char::is_whitespace) {
            None => (String::new(), input.clone(), Command::words()),
            Some((cmd, rest)) => {
                let Some(command) = Command::parse(cmd) else {
                    return;
                };
                if command.arg() != Arg::Namespace || rest.contains(char::is_whitespace) {
                    return;
                }
                let mut names: Vec<String> = state
                    .registry
                    .store
                    .namespaces()
                    .into_iter()
                    .map(String::from)
                    .collect();
                if let Some(known) = state.known_namespaces() {
                    names.extend(known.into_iter().map(String::from));
                }
                if command == Command::Namespace {
                    names.push("all".into());
                }
                names.sort();
                names.dedup();
                (format!("{cmd} "), rest.to_string(), names)
            }
        };
    let fits: Vec<&String> = candidates.iter().filter(|c| c.starts_with(&word)).collect();
    match fits.as_slice() {
        [] => {
            state.ui.status = Some((Level::Error, format!("nothing completes {word:?}")));
        }
        [one] => state.ui.input = format!("{head}{one} "),
        several => {
            let mut common = several[0].clone();
            for c in &several[1..] {
                while !c.starts_with(common.as_str()) {
                    common.pop();
                }
            }
            state.ui.input = format!("{head}{common}");
            let shown: Vec<&str> = several.iter().take(12).map(|s| s.as_str()).collect();
            let more = several.len().saturating_sub(shown.len());
            state.ui.status = Some((
                Level::Info,
                format!(
                    "{}{}",
                    shown.join(" "),
                    if more > 0 {
                        format!(" (+{more})")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
    }
}

fn set_filter(state: &mut State, text: String) {
    let screen = state.screen().clone();
    state.ui.lists.entry(screen).or_default().filter = text;
    state.registry.dirty |= Dirty::ROWS;
}

/// Runs one command line: the first word names a command of the table (`crate::command`).
pub fn run(state: &mut State, line: &str) -> Vec<Cmd> {
    let mut words = line.split_whitespace();
    let Some(word) = words.next() else {
        return Vec::new();
    };
    let arg = words.next();
    let Some(command) = Command::parse(word) else {
        let names: Vec<String> = Command::all()
            .into_iter()
            .map(|c| format!(":{}", c.name()))
            .collect();
        state.ui.status = Some((
            Level::Error,
            format!(
                "unknown command :{word} — tab completes; {}",
                names.join(" ")
            ),
        ));
        return Vec::new();
    };
    match command {
        Command::Quit => return actions::quit(state),
        Command::Shift => {
            let args: Vec<&str> = arg.into_iter().chain(words).collect();
            return super::shift::start(state, &args);
        }
        Command::At => super::replay::at(state, arg),
        Command::Problems => actions::switch(state, Screen::Problems),
        Command::Proxies => actions::switch(state, Screen::Proxies),
        Command::Charts => actions::switch(state, Screen::Charts),
        Command::Timeline => match arg.filter(|a| !matches!(*a, "all" | "-")) {
            None => actions::open_timeline(state, None),
            Some(word) => match crate::model::timeline::ChangeKind::parse(word) {
                Some(kind) => actions::open_timeline(state, Some(kind)),
                None => {
                    let kinds: Vec<_> = crate::model::timeline::ChangeKind::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect();
                    state.ui.status = Some((
                        Level::Error,
                        format!("no kind of change {word:?}: {} or all", kinds.join(", ")),
                    ));
                }
            },
        },
        Command::Help => state.ui.show_help = true,
        Command::List(kind) => actions::switch(state, Screen::List(kind)),
        Command::Endpoints => {
            if let Some(key) =
                actions::selected_object(state).filter(|k| k.kind == Kind::ServiceEntry)
            {
                actions::push(state, Screen::Endpoints(key));
            } else {
                state.ui.status =
                    Some((Level::Error, "select a ServiceEntry first, then :ep".into()));
            }
        }
        Command::Namespace => {
            // A namespace the cluster does not have changes nothing.
            let cluster_knows = state.known_namespaces();
            if let (Some(names), Some(n)) = (cluster_knows, arg)
                && !matches!(n, "all" | "-A" | "*")
                && !names.contains(n)
            {
                state.ui.status = Some((
                    Level::Error,
                    format!("namespace {n} does not exist in this cluster"),
                ));
                return Vec::new();
            }
            state.ui.namespace = match arg {
                None | Some("all") | Some("-A") | Some("*") => None,
                Some(n) => Some(n.to_string()),
            };
            // A cluster session watching one namespace (-n) moves its watchers; otherwise
            // every namespace is already here and this is a filter.
            if state.kube.values().any(|k| k.scoped) {
                state.ui.status = Some((
                    Level::Info,
                    format!(
                        "watching namespace {}…",
                        state.ui.namespace.as_deref().unwrap_or("all")
                    ),
                ));
                state.registry.dirty |= Dirty::ROWS;
                return vec![Cmd::SwitchNamespace(state.ui.namespace.clone())];
            }
            let known = arg.is_none_or(|n| {
                matches!(n, "all" | "-A" | "*") || state.registry.store.namespaces().contains(n)
            });
            state.ui.status = Some(if known {
                (
                    Level::Info,
                    format!(
                        "namespace: {}",
                        state.ui.namespace.as_deref().unwrap_or("all")
                    ),
                )
            } else {
                (
                    Level::Error,
                    format!(
                        "namespace {} has no objects (showing it anyway)",
                        arg.unwrap_or_default()
                    ),
                )
            });
            state.registry.dirty |= Dirty::ROWS;
        }
        Command::Context => {
            if !state.on_cluster() {
                state.ui.status = Some((
                    Level::Error,
                    ":ctx switches cluster contexts; this console is on files".into(),
                ));
                return Vec::new();
            }
            let Some(name) = arg else {
                let current = state
                    .kube
                    .values()
                    .map(|k| k.context.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                state.ui.status = Some((
                    Level::Info,
                    format!("context {current}; :ctx NAME switches"),
                ));
                return Vec::new();
            };
            state.ui.status = Some((Level::Info, format!("switching to context {name}…")));
            return vec![Cmd::SwitchContext(name.to_string())];
        }
        Command::View => {
            view(
                state,
                line.split_once(char::is_whitespace)
                    .map_or("", |(_, rest)| rest),
            );
            state.registry.dirty |= Dirty::ROWS;
        }
    }
    Vec::new()
}
