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
    Drain,
    Restore,
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
    Timeline,
    AsOf,
    ViewFromProxy,
    Copy,
    CopyCommand,
    Logs,
    Follow,
    DemoFailProbe,
    DemoErrors,
    DemoRecover,
    ShiftPause,
    ShiftAbort,
    ReplayBack,
    ReplayForward,
    ReplayBackMinute,
    ReplayForwardMinute,
    FormNextField,
    FormPrevField,
    FormSubmit,
    FormCancel,
    ConfirmYes,
    ConfirmNo,
    LineSubmit,
    LineCancel,
    LineBackspace,
    LineClear,
    LineDeleteWord,
    LineComplete,
    HelpClose,
    HelpDown,
    HelpUp,
    QuitAnywhere,
}

/// Where a key is looked up: the layer of what has focus. A key not bound in the form or the
/// line layer is typed into the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Looked up first, whatever has focus.
    Global,
    /// Lists and screens.
    Normal,
    /// The edit form's fields.
    Form,
    /// "apply these changes?"
    Confirm,
    /// The `:` command line and the `/` filter line.
    Line,
    Help,
}

impl Layer {
    pub const ALL: [Layer; 6] = [
        Layer::Global,
        Layer::Normal,
        Layer::Form,
        Layer::Confirm,
        Layer::Line,
        Layer::Help,
    ];

    /// The table name in a keymap file (`[form]`); the normal layer is the top level.
    pub fn table(self) -> Option<&'static str> {
        match self {
            Layer::Normal => None,
            Layer::Global => Some("global"),
            Layer::Form => Some("form"),
            Layer::Confirm => Some("confirm"),
            Layer::Line => Some("line"),
            Layer::Help => Some("help_screen"),
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Layer::Global => "Anywhere",
            Layer::Normal => "Keys",
            Layer::Form => "Edit form",
            Layer::Confirm => "Confirm",
            Layer::Line => "Command and filter line",
            Layer::Help => "This help",
        }
    }
}

impl Action {
    pub const ALL: [Action; 59] = [
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
        Action::Drain,
        Action::Restore,
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
        Action::Timeline,
        Action::AsOf,
        Action::ViewFromProxy,
        Action::Copy,
        Action::CopyCommand,
        Action::Logs,
        Action::Follow,
        Action::DemoFailProbe,
        Action::DemoErrors,
        Action::DemoRecover,
        Action::ShiftPause,
        Action::ShiftAbort,
        Action::ReplayBack,
        Action::ReplayForward,
        Action::ReplayBackMinute,
        Action::ReplayForwardMinute,
        Action::FormNextField,
        Action::FormPrevField,
        Action::FormSubmit,
        Action::FormCancel,
        Action::ConfirmYes,
        Action::ConfirmNo,
        Action::LineSubmit,
        Action::LineCancel,
        Action::LineBackspace,
        Action::LineClear,
        Action::LineDeleteWord,
        Action::LineComplete,
        Action::HelpClose,
        Action::HelpDown,
        Action::HelpUp,
        Action::QuitAnywhere,
    ];

    pub fn layer(self) -> Layer {
        match self {
            Action::FormNextField
            | Action::FormPrevField
            | Action::FormSubmit
            | Action::FormCancel => Layer::Form,
            Action::ConfirmYes | Action::ConfirmNo => Layer::Confirm,
            Action::LineSubmit
            | Action::LineCancel
            | Action::LineBackspace
            | Action::LineClear
            | Action::LineDeleteWord
            | Action::LineComplete => Layer::Line,
            Action::HelpClose | Action::HelpDown | Action::HelpUp => Layer::Help,
            Action::QuitAnywhere => Layer::Global,
            _ => Layer::Normal,
        }
    }

    /// The name within its layer's table (`next_field` in `[form]`).
    pub fn key_name(self) -> &'static str {
        let name = self.name();
        name.split_once('.').map_or(name, |(_, n)| n)
    }

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
            Action::CommandMode => ("command", "type a command; tab completes, ? lists them all"),
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
            Action::Drain => (
                "drain",
                "take the selected (or marked) WorkloadEntries out of rotation: health checks on and Healthy=False, followed until no Envoy holds them",
            ),
            Action::Restore => (
                "restore",
                "put drained WorkloadEntries back: exactly what the drain changed, and nothing else",
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
            Action::Timeline => (
                "timeline",
                "go to the timeline: what changed, who changed it and when; from a service's Endpoints or an object's YAML, that one's",
            ),
            Action::AsOf => (
                "as_of",
                "on the Timeline: the selected change's service as the console knew it just before it (endpoints, weights, health, shares), beside now",
            ),
            Action::ViewFromProxy => (
                "view_from_proxy",
                "on Proxies: see endpoints, shares and drift as the selected proxy does (its namespace and locality)",
            ),
            Action::Copy => (
                "copy",
                "copy the selection to the clipboard (OSC 52, through SSH and tmux): its name, or the YAML on the YAML screen",
            ),
            Action::CopyCommand => (
                "copy_kubectl",
                "copy a kubectl command that shows the selected object",
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
            Action::ShiftPause => (
                "shift_pause",
                "pause the running shift (:shift) and resume it: the hold clock stops, the gates keep reading",
            ),
            Action::ShiftAbort => (
                "shift_abort",
                "abort the running shift: the weights from before it go back",
            ),
            Action::ReplayBack => (
                "replay_back",
                "in a replay (meshdeck replay FILE): the registry as it was one recorded moment earlier",
            ),
            Action::ReplayForward => (
                "replay_forward",
                "in a replay: the registry one recorded moment later",
            ),
            Action::ReplayBackMinute => ("replay_back_minute", "in a replay: a minute earlier"),
            Action::ReplayForwardMinute => ("replay_forward_minute", "in a replay: a minute later"),
            Action::Logs => (
                "logs",
                "the selected WorkloadEntry's sidecar log, read over ssh (--ssh)",
            ),
            Action::Follow => (
                "follow",
                "on a log: pause or follow new lines (paused, new lines are kept)",
            ),
            Action::FormNextField => ("form.next_field", "move to the next field"),
            Action::FormPrevField => ("form.prev_field", "move to the previous field"),
            Action::FormSubmit => ("form.submit", "check the values and show what would change"),
            Action::FormCancel => ("form.cancel", "leave the form; nothing is written"),
            Action::ConfirmYes => ("confirm.yes", "apply the changes shown"),
            Action::ConfirmNo => ("confirm.no", "back to the form"),
            Action::LineSubmit => ("line.submit", "run the command, or keep the filter"),
            Action::LineCancel => ("line.cancel", "leave the line (a filter is cleared)"),
            Action::LineBackspace => ("line.backspace", "delete the character before"),
            Action::LineClear => ("line.clear", "delete everything typed"),
            Action::LineDeleteWord => ("line.delete_word", "delete the word before"),
            Action::LineComplete => (
                "line.complete",
                "complete a command name or its argument (namespaces)",
            ),
            Action::HelpClose => ("help_screen.close", "close this help"),
            Action::HelpDown => ("help_screen.down", "scroll down"),
            Action::HelpUp => ("help_screen.up", "scroll up"),
            Action::QuitAnywhere => (
                "global.quit",
                "quit from anywhere, form and lines included: nobody is trapped",
            ),
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
