//! meshdeck: CLI, logging to a file, and the console's start and clean exit.

use anyhow::Context;
use clap::Parser;
use meshdeck::cli::args::{Cli, Command, ConsoleArgs, SetWhat};
use meshdeck::cli::{self, set::Field};
use meshdeck::config::{self, keymap::Keymap, theme::Theme};
use meshdeck::io::manifests::load::load_all;
use meshdeck::io::source::files::FileSource;
use meshdeck::msg::Msg;
use meshdeck::state::State;
use meshdeck::{app, demo, terminal, update};
use std::path::PathBuf;
use tokio::sync::mpsc;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
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
        Some(Command::Check { paths, output }) => Ok(cli::check::run(&paths, output, &mut out)),
        Some(Command::Get {
            resource,
            name,
            output,
        }) => {
            if roots.is_empty() {
                eprintln!("meshdeck get needs --manifests PATH (cluster sources come later)");
                return Ok(cli::EXIT_USAGE);
            }
            Ok(cli::get::run(
                &roots,
                &resource,
                name.as_deref(),
                &cli.console.scope,
                output,
                &mut out,
            ))
        }
        Some(Command::Set { what }) => {
            let (field, target, value, dry_run) = match what {
                SetWhat::Weight {
                    target,
                    value,
                    dry_run,
                } => (Field::Weight, target, value, dry_run),
                SetWhat::Locality {
                    target,
                    value,
                    dry_run,
                } => (Field::Locality, target, value, dry_run),
            };
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
        Some(Command::Bench { sizes }) => Ok(cli::bench::run(&sizes, &mut out)),
        None => runtime.block_on(console(cli.console)),
    }
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

async fn console(args: ConsoleArgs) -> anyhow::Result<i32> {
    let log = init_logging(args.log_file.clone())?;
    let (roots, example) = if args.manifests.is_empty() {
        (
            vec![demo::example::materialize().context("writing the example registry")?],
            true,
        )
    } else {
        (args.manifests.clone(), false)
    };
    tracing::info!(?roots, log = %log.display(), "starting");
    let source = FileSource::new(roots.clone(), args.readonly);
    let label = if example {
        "example registry".to_string()
    } else {
        meshdeck::io::source::Source::describe(&source)
    };
    let cfg = config::config_dir();
    let (keymap, mut config_errors) = Keymap::load(
        args.keymap.as_deref(),
        cfg.as_ref().map(|d| d.join("keymap.toml")).as_deref(),
    );
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (theme, theme_errors) = Theme::load(
        args.theme.as_deref(),
        cfg.as_ref().map(|d| d.join("theme.toml")).as_deref(),
        no_color,
    );
    config_errors.extend(theme_errors);

    let mut state = State::new(label, args.readonly, keymap);
    state.config_errors = config_errors;
    state.namespace = args.scope.namespace.clone();
    if example {
        state.notice = Some(format!(
            "built-in example registry (no --manifests given); edits go to {}",
            roots[0].display()
        ));
    }
    let (files, errors) = load_all(&roots);
    if let Some(e) = errors.first() {
        anyhow::bail!("{e}");
    }
    let (tx, rx) = mpsc::channel::<Msg>(1024);
    update::update(&mut state, Msg::FilesLoaded(files));
    update::init(&mut state);
    let _watcher = match meshdeck::io::manifests::watch::spawn(roots.clone(), tx.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!("file watching is off: {e}");
            None
        }
    };
    let source_tx = app::spawn_source(source, tx.clone());
    let mut term = terminal::enter()?;
    let result = app::run(&mut term, state, theme, rx, source_tx).await;
    terminal::restore();
    if example {
        let _ = std::fs::remove_dir_all(&roots[0]);
    }
    result.map(|_| 0)
}
