//! The `:` command line and the `/` filter line.

use super::{actions, rows};
use crate::model::object::Kind;
use crate::model::share::ViewChange;
use crate::msg::Cmd;
use crate::state::{Level, Mode, Screen, State};
use ratatui::crossterm::event::{KeyCode, KeyEvent};

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
        state.status = Some((
            Level::Info,
            format!(
                "seen from {}; :view NS, :view REGION/ZONE, :view NS REGION/ZONE, :view - for the default",
                seen_from(state)
            ),
        ));
        return;
    }
    let known = |ns: &str| {
        state.store.namespaces().contains(ns)
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
            state.status = Some((Level::Error, e));
            return;
        }
    }
    state.status = Some((
        Level::Info,
        format!("endpoints, shares and drift seen from {}", seen_from(state)),
    ));
}

pub fn on_key(state: &mut State, ev: KeyEvent) -> Vec<Cmd> {
    match ev.code {
        KeyCode::Esc => {
            if state.mode == Mode::Filter {
                set_filter(state, String::new());
            }
            state.mode = Mode::Normal;
            state.input.clear();
        }
        KeyCode::Enter => {
            let input = std::mem::take(&mut state.input);
            let mode = std::mem::replace(&mut state.mode, Mode::Normal);
            if mode == Mode::Command {
                return run(state, input.trim());
            } else {
                set_filter(state, input);
            }
        }
        KeyCode::Backspace => {
            state.input.pop();
            if state.mode == Mode::Filter {
                set_filter(state, state.input.clone());
            }
        }
        KeyCode::Char(c) => {
            state.input.push(c);
            if state.mode == Mode::Filter {
                set_filter(state, state.input.clone());
            }
        }
        _ => {}
    }
    Vec::new()
}

fn set_filter(state: &mut State, text: String) {
    let screen = state.screen().clone();
    state.lists.entry(screen).or_default().filter = text;
    rows::rebuild(state);
}

/// Runs one command: a resource alias, `ns NAME`, `view LOCALITY`, `q`.
pub fn run(state: &mut State, line: &str) -> Vec<Cmd> {
    let mut words = line.split_whitespace();
    let Some(cmd) = words.next() else {
        return Vec::new();
    };
    let arg = words.next();
    match cmd {
        "q" | "quit" | "q!" => state.quit = true,
        "problems" | "problem" | "lint" => actions::switch(state, Screen::Problems),
        "proxies" | "proxy" | "px" => actions::switch(state, Screen::Proxies),
        "charts" | "chart" | "stats" => actions::switch(state, Screen::Charts),
        "help" | "h" => state.show_help = true,
        "ns" | "namespace" => {
            // A namespace the cluster does not have changes nothing.
            let cluster_knows = state.kube.as_ref().and_then(|k| k.namespaces.as_ref());
            if let (Some(names), Some(n)) = (cluster_knows, arg)
                && !matches!(n, "all" | "-A" | "*")
                && !names.contains(n)
            {
                state.status = Some((
                    Level::Error,
                    format!("namespace {n} does not exist in this cluster"),
                ));
                return Vec::new();
            }
            state.namespace = match arg {
                None | Some("all") | Some("-A") | Some("*") => None,
                Some(n) => Some(n.to_string()),
            };
            // A cluster session watching one namespace (-n) moves its watchers; otherwise
            // every namespace is already here and this is a filter.
            if state.kube.as_ref().is_some_and(|k| k.scoped) {
                state.status = Some((
                    Level::Info,
                    format!(
                        "watching namespace {}…",
                        state.namespace.as_deref().unwrap_or("all")
                    ),
                ));
                rows::rebuild(state);
                return vec![Cmd::SwitchNamespace(state.namespace.clone())];
            }
            let known = arg.is_none_or(|n| {
                matches!(n, "all" | "-A" | "*") || state.store.namespaces().contains(n)
            });
            state.status = Some(if known {
                (
                    Level::Info,
                    format!("namespace: {}", state.namespace.as_deref().unwrap_or("all")),
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
            rows::rebuild(state);
        }
        "ctx" | "context" => {
            if state.kube.is_none() {
                state.status = Some((
                    Level::Error,
                    ":ctx switches cluster contexts; this console is on files".into(),
                ));
                return Vec::new();
            }
            let Some(name) = arg else {
                let current = state
                    .kube
                    .as_ref()
                    .map(|k| k.context.clone())
                    .unwrap_or_default();
                state.status = Some((
                    Level::Info,
                    format!("context {current}; :ctx NAME switches"),
                ));
                return Vec::new();
            };
            state.status = Some((Level::Info, format!("switching to context {name}…")));
            return vec![Cmd::SwitchContext(name.to_string())];
        }
        "view" | "from" => {
            view(state, arg.unwrap_or(""));
            rows::rebuild(state);
        }
        other => match Kind::from_alias(other) {
            Some(kind) => actions::switch(state, Screen::List(kind)),
            None if matches!(other, "ep" | "endpoints") => {
                if let Some(key) =
                    actions::selected_object(state).filter(|k| k.kind == Kind::ServiceEntry)
                {
                    actions::push(state, Screen::Endpoints(key));
                } else {
                    state.status =
                        Some((Level::Error, "select a ServiceEntry first, then :ep".into()));
                }
            }
            None => {
                state.status = Some((
                    Level::Error,
                    format!(
                        "unknown command :{other} — try :se :we :wg :dr :problems :ns NAME :view NS|LOC :q"
                    ),
                ));
            }
        },
    }
    Vec::new()
}
