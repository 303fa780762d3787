//! Every named user action. Keymaps refer to these names; the help screen and README are
//! generated from this one list.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    Back,
    CommandMode,
    FilterMode,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Edit,
    Mark,
    Undo,
    Yaml,
    SortNext,
    SortReverse,
    Services,
    WorkloadEntries,
    WorkloadGroups,
    DestinationRules,
    Problems,
    Proxies,
    Charts,
    ViewFromProxy,
    DemoFailProbe,
    DemoErrors,
    DemoRecover,
}

impl Action {
    pub const ALL: [Action; 29] = [
        Action::Quit,
        Action::Help,
        Action::Back,
        Action::CommandMode,
        Action::FilterMode,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
        Action::Open,
        Action::Edit,
        Action::Mark,
        Action::Undo,
        Action::Yaml,
        Action::SortNext,
        Action::SortReverse,
        Action::Services,
        Action::WorkloadEntries,
        Action::WorkloadGroups,
        Action::DestinationRules,
        Action::Problems,
        Action::Proxies,
        Action::Charts,
        Action::ViewFromProxy,
        Action::DemoFailProbe,
        Action::DemoErrors,
        Action::DemoRecover,
    ];

    pub fn name(self) -> &'static str {
        self.info().0
    }

    pub fn description(self) -> &'static str {
        self.info().1
    }

    fn info(self) -> (&'static str, &'static str) {
        match self {
            Action::Quit => ("quit", "leave meshdeck (the terminal is restored)"),
            Action::Help => ("help", "show every key and command"),
            Action::Back => (
                "back",
                "close the popup, clear the filter, or go back a screen",
            ),
            Action::CommandMode => (
                "command",
                "type a command: :se :we :wg :dr :problems :ns NAME :view NS|LOC :q",
            ),
            Action::FilterMode => (
                "filter",
                "filter rows: text anywhere (a capital makes it exact), //regex, /~fuzzy",
            ),
            Action::Up => ("up", "move up one row"),
            Action::Down => ("down", "move down one row"),
            Action::PageUp => ("page_up", "move up one page"),
            Action::PageDown => ("page_down", "move down one page"),
            Action::Top => ("top", "go to the first row"),
            Action::Bottom => ("bottom", "go to the last row"),
            Action::Open => (
                "open",
                "drill down: a service's endpoints, a problem's object",
            ),
            Action::Edit => (
                "edit",
                "edit weight and locality of the selected (or marked) entries",
            ),
            Action::Mark => ("mark", "mark or unmark a row for a bulk edit"),
            Action::Undo => ("undo", "take back the last applied edit"),
            Action::Yaml => ("yaml", "show the selected object as YAML"),
            Action::SortNext => ("sort", "sort by the next column"),
            Action::SortReverse => ("sort_reverse", "reverse the sort order"),
            Action::Services => ("services", "go to ServiceEntries"),
            Action::WorkloadEntries => ("workload_entries", "go to WorkloadEntries"),
            Action::WorkloadGroups => ("workload_groups", "go to WorkloadGroups"),
            Action::DestinationRules => ("destination_rules", "go to DestinationRules"),
            Action::Problems => ("problems", "go to the lint findings"),
            Action::Proxies => (
                "proxies",
                "go to the proxies: sync status (syncz) and what each Envoy holds",
            ),
            Action::Charts => (
                "charts",
                "go to the charts: requests, 5xx, latency, connections, ejections per cluster and host",
            ),
            Action::ViewFromProxy => (
                "view_from_proxy",
                "on Proxies: see endpoints, shares and drift as the selected proxy does (its namespace and locality)",
            ),
            Action::DemoFailProbe => (
                "demo_fail_probe",
                "demo: the selected VM fails its health probe",
            ),
            Action::DemoErrors => (
                "demo_errors",
                "demo: the selected VM answers 503 to everything",
            ),
            Action::DemoRecover => ("demo_recover", "demo: the selected VM recovers"),
        }
    }

    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
    }
}
