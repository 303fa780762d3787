//! Everything that reaches `update`: input, and what background tasks report.

pub mod data;
pub mod files;
pub mod kube;
pub mod logs;
pub mod shift;
pub mod xds;

use crate::model::edit::{Applied, ApplyError, FieldEdit};
use files::ParsedFile;
use ratatui::crossterm::event::KeyEvent;
use std::path::PathBuf;

/// How a status line message reads: news, or something to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    /// The terminal's size: the first one at start, then every change.
    Resize {
        width: u16,
        height: u16,
    },
    /// Files (re)read from disk: their whole new content.
    FilesLoaded(Vec<ParsedFile>),
    FileRemoved(PathBuf),
    /// Requests per second each endpoint (by address) served, per proxy, from the demo's load.
    Traffic(crate::state::Traffic),
    /// Something a background task wants the user to see (a proxy died, a VM changed).
    Event(Level, String),
    /// The Kubernetes source: a synced kind, an object event, or a connection change.
    Kube(crate::model::cluster::Cluster, kube::KubeEvent),
    /// What an xDS server sends the console, and its sync status of every proxy.
    Xds(xds::XdsEvent),
    /// What an Envoy's admin API answered (or that it did not).
    Data(data::DataEvent),
    /// A VM sidecar's log being read.
    Log(logs::LogEvent),
    /// `--record`: the flight recorder is open; every change from now on goes to it.
    Recording,
    /// `meshdeck replay FILE`: the recording, read, in place of a source.
    Replay(Box<crate::model::timeline::replay::Loaded>),
    /// A replay is to show the registry at this moment.
    ReplayAt(std::time::SystemTime),
    /// Periodic: deferred work (rows after a burst of events, lint) is done here.
    Tick,
    /// The place a shift's plan is kept answered an operation on it.
    ShiftPlan(shift::PlanOp, shift::PlanAnswer),
    /// A source answered request `id`.
    Applied {
        id: u64,
        result: Result<Vec<Applied>, ApplyError>,
    },
}

/// What `update` asks the loop to do: I/O happens there, never in `update`.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// The loop paints a frame: something on screen changed on a tick.
    Redraw,
    /// The loop hands this text to the terminal's clipboard (OSC 52).
    Copy(String),
    Apply {
        id: u64,
        edits: Vec<FieldEdit>,
    },
    /// Demo only: make the VM at this address behave so.
    Demo {
        address: String,
        behaviour: crate::demo::vm::Behaviour,
    },
    /// Cluster only: reconnect on another kubeconfig context.
    SwitchContext(String),
    /// Cluster only: watch another namespace (None: all).
    SwitchNamespace(Option<String>),
    /// `--record`: these changes go to the flight recorder.
    Record(Vec<crate::model::timeline::recording::Line>),
    /// A staged shift's plan: kept, refreshed or removed where other consoles see it.
    ShiftPlan(shift::PlanOp),
    /// Start reading a sidecar's log (replacing the one read before), or stop (None).
    Logs(Option<logs::LogRequest>),
    Quit,
}
