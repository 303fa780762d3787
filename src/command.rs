//! Every `:` command: its name, aliases, arguments and what it does. The command line parses
//! and completes from this table, and the help screen and README list it; the handlers are in
//! `update/command.rs` (one match arm each, so a command without one does not compile).

use crate::model::object::Kind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    List(Kind),
    Endpoints,
    Problems,
    Proxies,
    Charts,
    Timeline,
    Namespace,
    Context,
    View,
    Shift,
    At,
    Help,
    Quit,
}

/// What an argument is, for completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    None,
    Namespace,
    Free,
}

impl Command {
    pub fn all() -> Vec<Command> {
        let mut all: Vec<Command> = Kind::ALL.into_iter().map(Command::List).collect();
        all.extend([
            Command::Endpoints,
            Command::Problems,
            Command::Proxies,
            Command::Charts,
            Command::Timeline,
            Command::Namespace,
            Command::Context,
            Command::View,
            Command::Shift,
            Command::At,
            Command::Help,
            Command::Quit,
        ]);
        all
    }

    pub fn name(self) -> &'static str {
        match self {
            Command::List(k) => k.short(),
            Command::Endpoints => "ep",
            Command::Problems => "problems",
            Command::Proxies => "proxies",
            Command::Charts => "charts",
            Command::Timeline => "timeline",
            Command::Namespace => "ns",
            Command::Context => "ctx",
            Command::View => "view",
            Command::Shift => "shift",
            Command::At => "at",
            Command::Help => "help",
            Command::Quit => "q",
        }
    }

    pub fn aliases(self) -> Vec<String> {
        let fixed: &[&str] = match self {
            Command::List(k) => {
                let mut names = vec![k.as_str().to_lowercase(), k.plural().to_lowercase()];
                names.retain(|n| n != k.short());
                return names;
            }
            Command::Endpoints => &["endpoints"],
            Command::Problems => &["problem", "lint"],
            Command::Proxies => &["proxy", "px"],
            Command::Charts => &["chart", "stats"],
            Command::Timeline => &["changes", "tl"],
            Command::Namespace => &["namespace"],
            Command::Context => &["context"],
            Command::View => &["from"],
            Command::Shift => &["canary"],
            Command::At => &["replay"],
            Command::Help => &["h"],
            Command::Quit => &["quit", "q!"],
        };
        fixed.iter().map(|s| s.to_string()).collect()
    }

    /// The arguments as the help shows them.
    pub fn usage(self) -> &'static str {
        match self {
            Command::Namespace => "NAME|all",
            Command::Context => "NAME[,NAME…]",
            Command::View => "[NS] [REGION/ZONE] | -",
            Command::Timeline => "[KIND]",
            Command::Shift => "[STEPS] [HOLD] [MAX-5XX] [MAX-P99] | rollback | resume",
            Command::At => "[TIME | -5m | +30s | start | end]",
            _ => "",
        }
    }

    pub fn arg(self) -> Arg {
        match self {
            Command::Namespace | Command::View => Arg::Namespace,
            Command::Context | Command::Timeline | Command::Shift | Command::At => Arg::Free,
            _ => Arg::None,
        }
    }

    pub fn description(self) -> String {
        match self {
            Command::List(k) => format!("go to the {} list", k.plural()),
            Command::Endpoints => "the endpoints of the selected ServiceEntry".into(),
            Command::Problems => "the lint findings".into(),
            Command::Proxies => "the proxies: sync status and what each Envoy holds".into(),
            Command::Charts => "requests, 5xx, latency per cluster and host".into(),
            Command::Timeline => {
                "what changed and who changed it: registry, health, connections, control plane, edits; a kind (health, edit, …) filters".into()
            }
            Command::Namespace => {
                "only namespace NAME (:ns all for every namespace); on a cluster watched with -n, moves the watchers".into()
            }
            Command::Context => {
                "on a cluster: switch kubeconfig context without a restart; several (a,b) are watched at once".into()
            }
            Command::View => {
                "see endpoints, shares and drift as a proxy in NS at that locality; - resets".into()
            }
            Command::Shift => {
                "on a service's Endpoints: move its traffic to the marked endpoints in steps (default 1,5,25,50,100, held 60s each; every step's weights shown first for a yes; with no arguments a form), rolled back if their 5xx pass the limit (1%) above the others' or the p99 passes MAX-P99 (250ms); P pauses, A aborts; rollback and resume take over the shift kept for the service (another console's, or a stopped one's)".into()
            }
            Command::At => {
                "in a replay (meshdeck replay FILE): the registry as it was at TIME (HH:MM[:SS] or RFC 3339, UTC), a span back or on, the start or the end; with no argument on the Timeline, at the selected change; [ ] step one recorded moment, { } a minute".into()
            }
            Command::Help => "every key and command".into(),
            Command::Quit => "quit".into(),
        }
    }

    /// The command a typed word names (a kind in any kubectl spelling too).
    pub fn parse(word: &str) -> Option<Command> {
        let lower = word.to_ascii_lowercase();
        Command::all()
            .into_iter()
            .find(|c| c.name() == lower || c.aliases().contains(&lower))
            .or_else(|| Kind::from_alias(word).map(Command::List))
    }

    /// Every word that names a command, for completion.
    pub fn words() -> Vec<String> {
        let mut out: Vec<String> = Command::all()
            .into_iter()
            .flat_map(|c| std::iter::once(c.name().to_string()).chain(c.aliases()))
            .filter(|w| !w.ends_with('!'))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_alias_parses_back_to_its_command() {
        for c in Command::all() {
            assert_eq!(Command::parse(c.name()), Some(c), "{}", c.name());
            for a in c.aliases() {
                assert_eq!(Command::parse(&a), Some(c), "{a}");
            }
        }
        assert_eq!(
            Command::parse("SE"),
            Some(Command::List(Kind::ServiceEntry))
        );
        assert_eq!(Command::parse("nosuch"), None);
    }

    #[test]
    fn no_word_names_two_commands() {
        let mut seen = std::collections::BTreeMap::new();
        for c in Command::all() {
            for w in std::iter::once(c.name().to_string()).chain(c.aliases()) {
                if let Some(other) = seen.insert(w.clone(), c) {
                    panic!("{w} names {other:?} and {c:?}");
                }
            }
        }
    }
}

#[cfg(test)]
mod readme {
    use super::Command;

    #[test]
    fn the_readme_lists_every_command() {
        let readme = include_str!("../README.md");
        for c in Command::all() {
            let name = format!("`:{}", c.name());
            assert!(readme.contains(&name), "README does not list {name}`");
        }
    }
}
