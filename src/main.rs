//! meshdeck: CLI, logging to a file, and the console's start and clean exit.

use anyhow::Context;
use meshdeck::cli::args::{Cli, Command, ConsoleArgs, SetWhat};
use meshdeck::cli::{self, set::Field};
use meshdeck::config::{self, keymap::Keymap, theme::Theme};
use meshdeck::io::manifests::load::load_all;
use meshdeck::io::source::files::FileSource;
use meshdeck::msg::Msg;
use meshdeck::state::{Config, State};
use meshdeck::{app, demo, terminal, update};
use std::path::PathBuf;
use tokio::sync::mpsc;

// Tens of thousands of small objects arrive, are indexed and are dropped at once during a sync;
// glibc's allocator spent a third of that time in its locks (measured with `bench --kube`).
// Counting what it holds, for the benches' figures (meshdeck::heap).
#[global_allocator]
static ALLOCATOR: meshdeck::heap::Counting = meshdeck::heap::Counting(mimalloc::MiMalloc);

/// Installed as `kubectl-meshdeck` (a link or a copy on PATH), kubectl runs it as
/// `kubectl meshdeck …`; its help says so.
fn parse_cli() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let plugin = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .is_some_and(|n| n == "kubectl-meshdeck");
    let mut command = Cli::command();
    if plugin {
        command = command.bin_name("kubectl meshdeck");
    }
    Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit())
}

fn main() {
    let mut cli = parse_cli();
    cli::settings::apply(&mut cli.console);
    // Consoles show it on their status line; headless commands say it once, on stderr.
    if let (Some(_), Some(e)) = (&cli.command, &cli.console.settings_error) {
        eprintln!("meshdeck: {e} (the settings file is ignored)");
    }
    meshdeck::io::ssh::configure(cli::settings::ssh_pool_settings(&cli.console.settings.ssh));
    cli.console.planes.kube = Some(meshdeck::io::kube::client::Target {
        kubeconfig: cli.console.kubeconfig.clone(),
        context: cli.console.context(),
    });
    let code = run(cli);
    // Masters this meshdeck opened go now rather than when their ControlPersist runs out.
    meshdeck::io::ssh::pool().close_all();
    let code = match code {
        Ok(code) => code,
        // `meshdeck man | head`: the reader has what it wanted.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            0
        }
        Err(e) => {
            terminal::restore();
            eprintln!("meshdeck: {e:#}");
            cli::EXIT_USAGE
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut out = std::io::stdout();
    let roots = cli.console.manifests.clone();
    match cli.command {
        Some(Command::Check { paths, output }) => match cli.console.planes.mesh() {
            Ok(mesh) => Ok(cli::check::run(&paths, &mesh, output, &mut out)),
            Err(e) => {
                eprintln!("error: {e}");
                Ok(cli::EXIT_USAGE)
            }
        },
        Some(Command::Get {
            resource,
            name,
            output,
        }) => runtime.block_on(async {
            let store = match cli::registry(&cli.console, "get").await {
                Ok(s) => s,
                Err(message) => {
                    eprintln!("{message}");
                    return Ok(cli::EXIT_USAGE);
                }
            };
            let planes = &cli.console.planes;
            let gathered = if planes.is_empty() {
                None
            } else {
                let wanted = cli::get::wanted_clusters(
                    &store,
                    &resource,
                    name.as_deref(),
                    &cli.console.scope,
                );
                match cli::planes::gather(planes, wanted, true).await {
                    Ok(g) => Some(g),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return Ok(cli::EXIT_USAGE);
                    }
                }
            };
            let mesh = match planes.mesh() {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(cli::EXIT_USAGE);
                }
            };
            let view = cli::planes::viewpoint(planes, gathered.as_ref(), mesh);
            Ok(cli::get::print(
                &store,
                &cli::get::Query {
                    resource: &resource,
                    name: name.as_deref(),
                    scope: &cli.console.scope,
                },
                output,
                gathered.as_ref(),
                &view,
                &mut out,
            ))
        }),
        Some(Command::Logs { entry, follow }) => runtime.block_on(async {
            let store = match cli::registry(&cli.console, "logs").await {
                Ok(s) => s,
                Err(message) => {
                    eprintln!("{message}");
                    return Ok(cli::EXIT_USAGE);
                }
            };
            cli::logs::run(&store, &entry, follow, &cli.console.settings.ssh, &mut out).await
        }),
        Some(Command::Proxies { output }) => {
            runtime.block_on(cli::proxies::run(&cli.console.planes, output, &mut out))
        }
        Some(Command::Set { what }) => {
            let (field, a) = match what {
                SetWhat::Weight(a) => (Field::Weight, a),
                SetWhat::Locality(a) => (Field::Locality, a),
            };
            let (target, value, dry_run, force) = (a.target, a.value, a.dry_run, a.force);
            let cluster = meshdeck::io::kube::client::Target {
                kubeconfig: cli.console.kubeconfig.clone(),
                context: cli.console.context(),
            };
            if roots.is_empty() && meshdeck::io::kube::client::configured(&cluster) {
                let set = cli::set::ClusterSet {
                    target,
                    field,
                    value,
                    dry_run,
                    force,
                    readonly: cli.console.readonly,
                };
                return Ok(runtime.block_on(cli::set::run_cluster(&cluster, set, &mut out)));
            }
            Ok(runtime.block_on(cli::set::run(
                &roots,
                cli.console.readonly,
                &target,
                field,
                &value,
                dry_run,
                &mut out,
            )))
        }
        Some(Command::Changes {
            since,
            kind,
            object,
            output,
        }) => {
            let q = cli::changes::Query {
                since,
                kind,
                object,
                output,
            };
            Ok(runtime.block_on(cli::changes::run(&cli.console, q, &mut out)))
        }
        Some(Command::Drain(a)) => {
            let r = cli::drain::Rotation::from_args(a, true);
            Ok(runtime.block_on(cli::drain::run(&cli.console, r, &mut out)))
        }
        Some(Command::Shift(a)) => Ok(runtime.block_on(cli::shift::run(&cli.console, a, &mut out))),
        Some(Command::Restore(a)) => {
            let r = cli::drain::Rotation::from_args(a, false);
            Ok(runtime.block_on(cli::drain::run(&cli.console, r, &mut out)))
        }
        Some(Command::Bench { fleet: Some(n), .. }) => {
            runtime.block_on(cli::bench_fleet::run(n, &mut out))
        }
        Some(Command::Bench { shift: Some(n), .. }) => {
            runtime.block_on(cli::bench_shift::run(n.clamp(1, 50), &mut out))
        }
        Some(Command::Bench {
            drain: Some(n),
            rate,
            ..
        }) => runtime.block_on(cli::bench_drain::run(
            n.clamp(1, 100),
            rate.clamp(1, 1000),
            &mut out,
        )),
        Some(Command::Bench { push: Some(n), .. }) => {
            runtime.block_on(cli::bench_push::run(n.max(1), &mut out))
        }
        Some(Command::Bench {
            terminal: Some(secs),
            ..
        }) => cli::bench_terminal::run(secs.clamp(1, 600), &mut out),
        Some(Command::Bench { parse: true, .. }) => Ok(cli::bench_parse::run(&mut out)),
        Some(Command::Bench {
            sizes, kube: true, ..
        }) => bench_kube(&runtime, &sizes, &mut out),
        Some(Command::Bench { sizes, .. }) => Ok(cli::bench::run(&sizes, &mut out)),
        Some(Command::Serve { xds_listen }) => runtime.block_on(serve(roots, xds_listen)),
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "meshdeck", &mut out);
            Ok(0)
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            Ok(0)
        }
        Some(Command::Replay { file, at }) => {
            init_logging(cli.console.log_file.clone())?;
            let (keymap, theme, errors) = load_config(&cli.console);
            let look = cli::replay::Look {
                keymap,
                theme,
                errors,
            };
            runtime.block_on(cli::replay::run(&cli.console, &file, &at, look))
        }
        Some(Command::Demo { headless }) => runtime.block_on(run_demo(cli.console, headless)),
        None => runtime.block_on(console(cli.console)),
    }
}

#[cfg(feature = "fake-apiserver")]
fn bench_kube(
    runtime: &tokio::runtime::Runtime,
    sizes: &[usize],
    out: &mut dyn std::io::Write,
) -> anyhow::Result<i32> {
    runtime.block_on(cli::bench_kube::run(sizes, out))
}

/// The release binary carries no fake API server; the benchmark needs one.
#[cfg(not(feature = "fake-apiserver"))]
fn bench_kube(
    _: &tokio::runtime::Runtime,
    _: &[usize],
    _: &mut dyn std::io::Write,
) -> anyhow::Result<i32> {
    eprintln!(
        "bench --kube runs against the in-process fake API server, which this binary was built without; build with: cargo build --release --features fake-apiserver"
    );
    Ok(cli::EXIT_USAGE)
}

fn init_logging(path: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let path = match path {
        Some(p) => p,
        None => dirs::state_dir()
            .or_else(dirs::data_local_dir)
            .unwrap_or_else(std::env::temp_dir)
            .join("meshdeck")
            .join("meshdeck.log"),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating log directory {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("opening log file {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("MESHDECK_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .init();
    Ok(path)
}

async fn serve(roots: Vec<PathBuf>, addr: std::net::SocketAddr) -> anyhow::Result<i32> {
    use meshdeck::controlplane::{registry, server, status::StatusBoard};
    if roots.is_empty() {
        eprintln!("meshdeck serve needs --manifests PATH");
        return Ok(cli::EXIT_USAGE);
    }
    if !addr.ip().is_loopback() {
        eprintln!("note: serving xDS on {addr}, which is not a loopback address");
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("MESHDECK_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let (rx, _watcher) = registry::watch_files(roots.clone())?;
    let objects = rx.borrow().len();
    let status = std::sync::Arc::new(StatusBoard::default());
    let listener = server::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let shown: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
    println!(
        "serving xDS (SotW and Delta ADS) on {} for {objects} objects from {}; ctrl-c stops",
        listener.local_addr()?,
        shown.join(", ")
    );
    let ads = server::Ads::new(rx, status);
    server::serve(listener, ads, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(0)
}

async fn run_demo(args: ConsoleArgs, headless: bool) -> anyhow::Result<i32> {
    let envoy = match meshdeck::io::envoy::find::envoy_binary() {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("{msg}");
            return Ok(cli::EXIT_USAGE);
        }
    };
    let log = init_logging(args.log_file.clone())?;
    tracing::info!(log = %log.display(), "starting demo");
    let mut mesh = demo::run::Demo::start(&envoy, args.ssh, |s| eprintln!("demo: {s}")).await?;
    if headless {
        eprintln!(
            "demo: running; ctrl-c stops (load: {} req/s per proxy)",
            demo::run::RATE_PER_PROXY
        );
        let _ = tokio::signal::ctrl_c().await;
        return Ok(0);
    }
    let mut args = args;
    args.manifests = vec![mesh.dir.clone()];
    if let Some(s) = &mesh.sidecar {
        // The demo's own sshd, keys and known_hosts; only the annotated VM is reached.
        let ssh = &mut args.settings.ssh;
        ssh.config = Some(s.sshd.client_config.clone());
        ssh.host = String::new();
        ssh.log_file = s.proxy.envoy.log.display().to_string();
        meshdeck::io::ssh::configure(cli::settings::ssh_pool_settings(ssh));
    }
    // `--prometheus` with no URL: a real Prometheus scrapes the demo's Envoys, and the
    // console's stats come from it.
    let _prometheus = if args.planes.prometheus.as_deref() == Some("") {
        let targets: Vec<demo::prometheus::Scrape> = mesh
            .admin_targets()
            .await
            .iter()
            .map(|t| demo::prometheus::Scrape {
                proxy: t.name.clone(),
                address: t.admin.trim_start_matches("http://").to_string(),
            })
            .collect();
        let p = demo::prometheus::Prometheus::start(&targets, std::time::Duration::from_secs(1))
            .await
            .context("starting prometheus for the demo")?;
        eprintln!(
            "demo: prometheus {} scrapes {} Envoys",
            p.url,
            targets.len()
        );
        args.planes.prometheus = Some(p.url.clone());
        Some(p)
    } else {
        None
    };
    let label = format!("demo mesh, xDS {}", mesh.xds);
    let notice = "demo: F fails a VM's probe, X makes it answer 503, R recovers; edit a weight and watch OBSERVED".to_string();
    launch(args, label, Some(notice), Some(&mut mesh)).await
}

async fn console(args: ConsoleArgs) -> anyhow::Result<i32> {
    init_logging(args.log_file.clone())?;
    let target = meshdeck::io::kube::client::Target {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context(),
    };
    if args.manifests.is_empty() && meshdeck::io::kube::client::configured(&target) {
        return cluster_console(args, target).await;
    }
    let mut args = args;
    let example = args.manifests.is_empty();
    if example {
        args.manifests =
            vec![demo::example::materialize().context("writing the example registry")?];
    }
    let roots = args.manifests.clone();
    let label = if example {
        "example registry".to_string()
    } else {
        meshdeck::io::source::Source::describe(&FileSource::new(roots.clone(), args.readonly))
    };
    let notice = example.then(|| {
        format!(
            "built-in example registry (no --manifests given); edits go to {}",
            roots[0].display()
        )
    });
    let result = launch(args, label, notice, None).await;
    if example {
        let _ = std::fs::remove_dir_all(&roots[0]);
    }
    result
}

/// The console on a cluster: discovery, one watcher per served kind, read-only for now.
async fn cluster_console(
    args: ConsoleArgs,
    target: meshdeck::io::kube::client::Target,
) -> anyhow::Result<i32> {
    use meshdeck::io::kube::clusters;
    use meshdeck::model::cluster::Cluster;
    let namespace = if args.scope.all_namespaces {
        None
    } else {
        args.scope.namespace.clone()
    };
    let (keymap, theme, config_errors) = load_config(&args);
    // Every --context, each once, in order; none: the kubeconfig's current one.
    let contexts: Vec<Option<String>> = match clusters::parse_contexts(&args.contexts.join(",")) {
        names if names.is_empty() => vec![target.context.clone()],
        names => names.into_iter().map(Some).collect(),
    };
    let several = contexts.len() > 1;
    let label = if several {
        format!(
            "clusters {}",
            contexts
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(
            "cluster {}",
            target
                .context
                .clone()
                .unwrap_or_else(|| "(current context)".into())
        )
    };
    let watched = contexts
        .iter()
        .map(|c| {
            let name = c.clone().unwrap_or_default();
            let tag = if several {
                Cluster::named(&name)
            } else {
                Cluster::ONLY
            };
            (tag, name, namespace.is_some())
        })
        .collect();
    let config = Config {
        mesh: args.planes.mesh().map_err(|e| anyhow::anyhow!("{e}"))?,
        config_errors,
        namespace: namespace.clone(),
        notice: Some(format!(
            "edits go out as server-side apply (field manager meshdeck); :ctx NAME[,NAME…] switches context{}",
            if args.readonly {
                "; --readonly: nothing is written"
            } else {
                ""
            }
        )),
        clusters: watched,
        who: meshdeck::state::setup::Who {
            user: meshdeck::io::kube::audit::who(),
            host: meshdeck::io::kube::audit::host(),
        },
        ..Config::new(label, args.readonly, keymap)
    };
    let (tx, mut rx) = mpsc::channel::<Msg>(4096);
    let template = clusters::Template {
        kubeconfig: target.kubeconfig.clone(),
        namespace,
        readonly: args.readonly,
    };
    let source_tx = match clusters::spawn(template, contexts, tx.clone()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("meshdeck: cannot use the cluster configuration: {e:#}");
            return Ok(cli::EXIT_USAGE);
        }
    };
    // istiod and pod admins are found through the cluster; a cluster that is down now leaves
    // them out and says so, rather than keeping the console from opening.
    let wanted = match args.planes.through() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("meshdeck: {e}");
            return Ok(cli::EXIT_USAGE);
        }
    };
    let (through, warning) = match meshdeck::io::kube::through::resolve(wanted).await {
        Ok(c) => (c, None),
        Err(e) => (
            Default::default(),
            Some(format!(
                "the control plane is not watched: {e}; restart meshdeck once the cluster answers"
            )),
        ),
    };
    let (planes, start) = match start_planes(
        &args.planes,
        &through,
        None,
        vm_reach(&args),
        args.settings.admin_interval,
        &tx,
    ) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("meshdeck: {e}");
            return Ok(cli::EXIT_USAGE);
        }
    };
    let mut state = State::new(
        Config {
            planes: start,
            ..config
        }
        .with_warning(warning),
    );
    let recorder = open_recorder(&args)?;
    if recorder.is_some() {
        update::update(&mut state, Msg::Recording);
    }
    // Discovery may already be queued: apply it before the first frame.
    while let Ok(msg) = rx.try_recv() {
        let cmds = update::update(&mut state, msg);
        record_now(&recorder, cmds).await;
    }
    update::init(&mut state);
    let mut term = terminal::enter()?;
    let result = app::run(
        &mut term,
        state,
        theme,
        rx,
        app::Routes {
            source: source_tx,
            demo: None,
            planes,
            logs: args.ssh.then(|| meshdeck::io::logs::spawn(tx.clone())),
            recorder,
        },
    )
    .await;
    terminal::restore();
    result.map(|_| 0)
}

/// What updates before the loop asked the recorder to write (the objects of the first load);
/// nothing else they ask for is due before the first frame.
async fn record_now(
    recorder: &Option<tokio::sync::mpsc::Sender<Vec<meshdeck::model::timeline::recording::Line>>>,
    cmds: Vec<meshdeck::msg::Cmd>,
) {
    let Some(r) = recorder else { return };
    for c in cmds {
        if let meshdeck::msg::Cmd::Record(lines) = c {
            let _ = r.send(lines).await;
        }
    }
}

/// `--record FILE`: the flight recorder's task, or why the file cannot be written (before the
/// terminal is taken, so the message is read).
fn open_recorder(
    args: &ConsoleArgs,
) -> anyhow::Result<
    Option<tokio::sync::mpsc::Sender<Vec<meshdeck::model::timeline::recording::Line>>>,
> {
    let Some(path) = &args.record else {
        return Ok(None);
    };
    let r = meshdeck::io::recorder::Recorder::open(path, meshdeck::io::recorder::MAX_BYTES)
        .with_context(|| format!("--record {}: cannot write there", path.display()))?;
    Ok(Some(meshdeck::io::recorder::spawn(r)))
}

/// The xDS sessions and admin poller the console watches: from --xds/--envoy-admin, plus
/// the demo's. None when there is nothing to watch.
/// `cluster` holds every admin and the servers --xds does not name: what `through_cluster`
/// found (istiod replicas, port-forwarded admins) and the demo's.
fn start_planes(
    args: &cli::planes::PlaneArgs,
    cluster: &meshdeck::io::kube::through::ClusterPlanes,
    extra_metrics: Option<std::net::TcpListener>,
    vms: Option<meshdeck::state::planes::VmReach>,
    poll_every: std::time::Duration,
    tx: &mpsc::Sender<Msg>,
) -> Result<
    (
        Option<meshdeck::io::planes::PlaneLinks>,
        Option<meshdeck::state::PlanesStart>,
    ),
    String,
> {
    let mut servers = args.xds_targets()?;
    servers.extend(cluster.xds.iter().cloned());
    let admins = cluster.admins.clone();
    let metrics = match (&args.metrics_listen, extra_metrics) {
        (Some(addr), _) => {
            let l = std::net::TcpListener::bind(addr)
                .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
            Some(l)
        }
        (None, demo) => demo,
    };
    let prometheus = match args.prometheus.as_deref() {
        Some("") => {
            return Err(
                "--prometheus needs a URL (http://HOST:PORT); only `meshdeck demo --prometheus` starts its own".into(),
            );
        }
        Some(url) if !url.starts_with("http://") => {
            return Err(format!("--prometheus {url}: write http://HOST:PORT"));
        }
        other => other.map(|u| u.trim_end_matches('/').to_string()),
    };
    if servers.is_empty()
        && admins.is_empty()
        && metrics.is_none()
        && vms.is_none()
        && prometheus.is_none()
    {
        return Ok((None, None));
    }
    let mut view = meshdeck::state::planes::PlanesView::with_proxies(&admins);
    view.vms = vms;
    view.prometheus = prometheus.clone();
    // What the servers send is for the console node's namespace: see the registry from there
    // unless --view-namespace says otherwise.
    view.node_namespace = servers
        .first()
        .map(|t| t.identity.node_namespace().to_string());
    let view_namespace = args
        .view_namespace
        .clone()
        .or_else(|| view.node_namespace.clone());
    let view_locality = args
        .view_locality
        .as_deref()
        .map(meshdeck::model::locality::Locality::parse);
    let configs = servers
        .into_iter()
        .map(|target| {
            view.control.insert(
                target.label.clone(),
                meshdeck::model::planes::control::ControlView {
                    server: target.label.clone(),
                    ..Default::default()
                },
            );
            meshdeck::io::xds::session::Config {
                target,
                protocol: args.protocol(),
                locality: view_locality.clone(),
                syncz: true,
            }
        })
        .collect();
    let links = meshdeck::io::planes::spawn(configs, metrics, poll_every, prometheus, tx.clone());
    let start = meshdeck::state::PlanesStart {
        view,
        view_namespace,
        view_locality,
    };
    Ok((Some(links), Some(start)))
}

/// `--ssh`: the VM sidecars to follow through ssh, as the settings say.
fn vm_reach(args: &ConsoleArgs) -> Option<meshdeck::state::planes::VmReach> {
    args.ssh.then(|| {
        meshdeck::state::planes::VmReach::new(
            args.settings.ssh.clone(),
            args.settings.max_vm_proxies,
        )
    })
}

fn load_config(args: &ConsoleArgs) -> (Keymap, Theme, Vec<config::ConfigError>) {
    let cfg = config::config_dir();
    let (keymap, mut errors) = Keymap::load(
        args.keymap.as_deref(),
        cfg.as_ref().map(|d| d.join("keymap.toml")).as_deref(),
    );
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (theme, theme_errors) = Theme::load(
        args.theme.as_deref(),
        cfg.as_ref().map(|d| d.join("theme.toml")).as_deref(),
        no_color,
    );
    errors.extend(theme_errors);
    errors.extend(args.settings_error.clone());
    (keymap, theme, errors)
}

/// The console on manifest roots, with the demo's extras when there is a demo.
async fn launch(
    args: ConsoleArgs,
    label: String,
    notice: Option<String>,
    mut mesh: Option<&mut demo::run::Demo>,
) -> anyhow::Result<i32> {
    let roots = args.manifests.clone();
    tracing::info!(?roots, "starting the console");
    let source = FileSource::new(roots.clone(), args.readonly);
    let (keymap, theme, config_errors) = load_config(&args);
    let config = Config {
        mesh: args.planes.mesh().map_err(|e| anyhow::anyhow!("{e}"))?,
        config_errors,
        namespace: args.scope.namespace.clone(),
        notice,
        demo: mesh.is_some(),
        who: meshdeck::state::setup::Who {
            user: meshdeck::io::kube::audit::who(),
            host: meshdeck::io::kube::audit::host(),
        },
        ..Config::new(label, args.readonly, keymap)
    };
    let (files, errors) = load_all(&roots);
    if let Some(e) = errors.first() {
        anyhow::bail!("{e}");
    }
    let (tx, rx) = mpsc::channel::<Msg>(1024);
    let _watcher = match meshdeck::io::manifests::watch::spawn(roots.clone(), tx.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("file watching is off: {e}");
            None
        }
    };
    let source_tx = meshdeck::io::source::task::spawn(source, tx.clone());
    let mut through = cli::planes::through_cluster(&args.planes)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // The demo's own control plane and Envoys are planes too.
    let mut demo_metrics = None;
    if let Some(m) = mesh.as_deref_mut() {
        through
            .xds
            .push(meshdeck::io::xds::Target::plaintext(&m.xds.to_string()));
        through.admins.extend(m.admin_targets().await);
        // Stats from Prometheus or pushed by the Envoys, not both into one series.
        demo_metrics = m
            .metrics_listener
            .take()
            .filter(|_| args.planes.prometheus.is_none());
    }
    let (planes, start) = match start_planes(
        &args.planes,
        &through,
        demo_metrics,
        vm_reach(&args),
        args.settings.admin_interval,
        &tx,
    ) {
        Ok(p) => p,
        Err(e) => anyhow::bail!("{e}"),
    };
    let mut state = State::new(Config {
        planes: start,
        ..config
    });
    let recorder = open_recorder(&args)?;
    if recorder.is_some() {
        update::update(&mut state, Msg::Recording);
    }
    let cmds = update::update(&mut state, Msg::FilesLoaded(files));
    // The first load is where a recording starts: its objects go to the recorder now.
    record_now(&recorder, cmds).await;
    update::init(&mut state);
    let demo_tx = mesh.map(|m| m.attach(tx.clone()));
    let mut term = terminal::enter()?;
    let routes = app::Routes {
        recorder,
        source: source_tx,
        demo: demo_tx,
        planes,
        logs: args.ssh.then(|| meshdeck::io::logs::spawn(tx.clone())),
    };
    let result = app::run(&mut term, state, theme, rx, routes).await;
    terminal::restore();
    result.map(|_| 0)
}
