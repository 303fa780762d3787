//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "meshdeck",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("MESHDECK_REVISION"), ")"),
    about = "A terminal console for Istio meshes beyond Kubernetes: ServiceEntry, WorkloadEntry, WorkloadGroup"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ConsoleArgs {
    /// Manifest files or directories (recursive); repeatable. Without it, a built-in example.
    #[arg(long = "manifests", short = 'm', global = true)]
    pub manifests: Vec<PathBuf>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one; the console takes it more than
    /// once to watch several clusters (`--context a --context b`).
    #[arg(long = "context", value_name = "NAME", global = true)]
    pub contexts: Vec<String>,
    /// Never write anything.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Theme: dark, light, high-contrast, mono, prod-red, or a file path.
    #[arg(long, global = true)]
    pub theme: Option<String>,
    /// Keymap: default, vim, or a file path.
    #[arg(long, global = true)]
    pub keymap: Option<String>,
    /// Log file (default: meshdeck.log in the XDG state dir).
    #[arg(long, global = true)]
    pub log_file: Option<PathBuf>,
    /// Flight recorder: append every change the Timeline records to FILE as JSON lines
    /// (FILE and FILE.1, 64 MiB each at most).
    #[arg(long, global = true, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Reach WorkloadEntries' sidecars (Envoy admin, log) with the system ssh client: the
    /// entry's address, or annotation meshdeck.io/ssh; see [ssh] in the config file.
    #[arg(long, global = true)]
    pub ssh: bool,
    /// The settings file's values for this console (config.toml), filled in at start.
    #[arg(skip)]
    pub settings: crate::config::file::Settings,
    /// What was wrong with the settings file, if anything (the console starts on defaults).
    #[arg(skip)]
    pub settings_error: Option<crate::config::ConfigError>,
    #[command(flatten)]
    pub scope: Scope,
    #[command(flatten)]
    pub planes: super::planes::PlaneArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Scope {
    /// Only this namespace.
    #[arg(short = 'n', long = "namespace", global = true)]
    pub namespace: Option<String>,
    /// All namespaces (the default for manifests).
    #[arg(
        short = 'A',
        long = "all-namespaces",
        global = true,
        conflicts_with = "namespace"
    )]
    pub all_namespaces: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Output {
    #[default]
    Table,
    Json,
    Yaml,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lint manifests. Exit 0: no errors, 1: errors found, 2: usage or I/O failure.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Print objects or derived endpoints: we, se, wg, dr, sidecar, endpoints.
    Get {
        resource: String,
        name: Option<String>,
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// A WorkloadEntry's sidecar log (NS/NAME), read over ssh: the file Istio's VM package
    /// writes (/var/log/istio/istio.log), else `journalctl -u istio`; see [ssh] in config.toml.
    /// Exit 0: read, 1: the host or the command failed (the reason on stderr), 2: usage.
    Logs {
        entry: String,
        /// Keep printing new lines until interrupted.
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Sync status of every proxy of an xDS server (istio.io/debug/syncz), like
    /// `istioctl proxy-status`. Needs --xds.
    Proxies {
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// What changed lately and who changed it: from the cluster's managedFields (a manager
    /// and a time per set of fields; the value before is never recorded there) and its Events
    /// on Istio objects (meshdeck's own name the user and both values). Manifest files keep
    /// no history; the console's Timeline (8) records what it sees. Exit 0, 1: the cluster
    /// could not be read, 2: usage.
    Changes {
        /// How far back: 90s, 15m, 1h, 2d.
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        since: std::time::Duration,
        /// Only this kind of change: registry, health, connection, control-plane, edit.
        #[arg(long)]
        kind: Option<String>,
        /// Only this object (NS/NAME, any kind) or, for a ServiceEntry, it and its entries.
        object: Option<String>,
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Change one field of a WorkloadEntry (NS/NAME) or inline endpoint (NS/SE/INDEX).
    Set {
        #[command(subcommand)]
        what: SetWhat,
    },
    /// Take a WorkloadEntry (NS/NAME) out of rotation as Istio honours it: annotation
    /// proxy.istio.io/health-checks-enabled and condition Healthy=False, with what was there
    /// recorded on it for `restore`. Exit 0: drained (with --wait: no known Envoy holds it),
    /// 1: refused, warned about (see --force), failed or timed out, 2: usage.
    Drain(RotationArgs),
    /// Put a drained WorkloadEntry back: exactly what the drain changed, and nothing else.
    /// Exit codes as for drain.
    Restore(RotationArgs),
    /// Move a service's traffic to some of its endpoints in steps, each held while gates read
    /// every Envoy given with --envoy-admin (5xx of the endpoints shifted to against the limit
    /// and the other endpoints, ejections, p99, silence); a failing gate or ctrl-c puts the
    /// weights back as they were. The plan is kept on the ServiceEntry (annotation
    /// meshdeck.io/shift) or beside the manifests (.meshdeck/), so one shift runs per service
    /// and a stopped one can be resumed or rolled back. Exit 0: done, 1: refused or failed,
    /// 2: usage, 3: rolled back by a gate, 4: aborted (ctrl-c, or the plan was taken over).
    Shift(ShiftArgs),
    /// The embedded xDS control plane for a manifest directory, headless. Changes to the files
    /// are pushed to connected proxies.
    Serve {
        /// Address to serve ADS on (SotW and Delta). Loopback by default.
        #[arg(long, default_value = "127.0.0.1:15010")]
        xds_listen: std::net::SocketAddr,
    },
    /// Open a flight recording (made with --record FILE) offline: every screen shows the
    /// registry as it was at the moment shown, the Timeline what had happened by then; `[` `]`
    /// step one recorded moment, `{` `}` a minute, `:at TIME` jumps. Read-only. Exit 0, 2: the
    /// file cannot be read.
    Replay {
        file: PathBuf,
        /// Where to start: HH:MM[:SS] (UTC), RFC 3339, -5m from the end, start or end.
        #[arg(long, default_value = "end", allow_hyphen_values = true)]
        at: String,
    },
    /// A live mesh on loopback: VMs, the embedded control plane, two real Envoys and steady
    /// load, with the console on top. Needs Envoy (see README).
    Demo {
        /// Run the mesh without the console until Ctrl-C (prints where everything is).
        #[arg(long)]
        headless: bool,
    },
    /// Measure load, index, update, filter and render on generated registries.
    Bench {
        /// Sizes in WorkloadEntries; ServiceEntries are a hundredth (at least 1k at 100k).
        #[arg(long, value_delimiter = ',', default_values_t = [10_000usize, 100_000])]
        sizes: Vec<usize>,
        /// Instead: time N weight edits from the manifest file to a real Envoy's /clusters.
        #[arg(long)]
        push: Option<usize>,
        /// Instead: initial sync and event rate from the fake Kubernetes API server.
        #[arg(long)]
        kube: bool,
        /// Instead: N rounds of drain, restore and weight edits on the live demo, each timed
        /// to its verdict (needs Envoy).
        #[arg(long, value_name = "N")]
        drain: Option<usize>,
        /// With --drain: requests a second through each demo Envoy (half go to the service
        /// the edits are judged on).
        #[arg(long, value_name = "RQ/S", default_value_t = crate::demo::run::RATE_PER_PROXY)]
        rate: u64,
        /// Instead: N gated shifts on the live demo to a canary answering 503, each timed from
        /// the step in place to the gate's decision (needs Envoy).
        #[arg(long, value_name = "N")]
        shift: Option<usize>,
        /// Instead: N synthetic proxies scraped by a real Prometheus: the console's queries
        /// and the Charts frame from them (needs prometheus, see scripts/setup-debian.sh).
        #[arg(long, value_name = "N")]
        fleet: Option<usize>,
        /// Instead: parsing Envoy admin payloads (50k stats, 1k hosts).
        #[arg(long)]
        parse: bool,
        /// Instead: bytes per second the console writes at 120x40 on the live demo, measured
        /// over this many seconds (needs Envoy).
        #[arg(long, value_name = "SECONDS")]
        terminal: Option<u64>,
    },
    /// Print a shell completion script: `meshdeck completions bash > /etc/bash_completion.d/meshdeck`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `meshdeck man > meshdeck.1`.
    Man,
}

#[derive(Args, Debug)]
pub struct RotationArgs {
    pub entry: String,
    /// Follow the change until every known Envoy agrees (needs --xds, --istiod or
    /// --envoy-admin).
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// Drain although it was warned against (probe-owned health, the last healthy endpoint).
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct ShiftArgs {
    /// The ServiceEntry: NAMESPACE/NAME.
    pub service: String,
    /// The endpoints traffic moves to: WorkloadEntries (NS/NAME) or inline endpoints
    /// (NS/SE/INDEX), comma-separated or repeated.
    #[arg(long, value_delimiter = ',', required_unless_present_any = ["resume", "rollback"])]
    pub to: Vec<String>,
    /// Their share of the service at each step, in percent, rising.
    #[arg(long, default_value = "1,5,25,50,100")]
    pub steps: String,
    /// How long each step is held while the gates read the data plane.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub hold: std::time::Duration,
    /// The share of their requests that may fail (5xx, resets) above what the other
    /// endpoints show: 1% or 0.01.
    #[arg(long = "max-5xx", default_value = "1%")]
    pub max_5xx: String,
    /// The service's p99 limit in each Envoy (250ms, 1s): three readings in a row above it fail
    /// the step.
    #[arg(long = "max-p99")]
    pub max_p99: Option<String>,
    /// Follow each step through the planes (EDS, each Envoy) before holding it.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits for each step.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// Print the weights of every step and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take over a shift whose console stopped, at the step it had reached.
    #[arg(long, conflicts_with_all = ["rollback", "dry_run"])]
    pub resume: bool,
    /// Put the weights back as they were before the shift kept for this service (stopping its
    /// console if it still runs) and remove the plan.
    #[arg(long, conflicts_with = "dry_run")]
    pub rollback: bool,
}

#[derive(Subcommand, Debug)]
pub enum SetWhat {
    Weight(SetArgs),
    Locality(SetArgs),
}

#[derive(Args, Debug)]
pub struct SetArgs {
    pub target: String,
    #[arg(allow_hyphen_values = true)]
    pub value: String,
    #[arg(long)]
    pub dry_run: bool,
    /// On a cluster: take the field over from the field manager that owns it.
    #[arg(long)]
    pub force: bool,
}

impl ConsoleArgs {
    /// The one context a headless command (or a single-cluster console) uses.
    pub fn context(&self) -> Option<String> {
        self.contexts.first().cloned()
    }
}
